"""The GraphQL API, one module per domain; `schema.build_schema` assembles and hardens it."""
