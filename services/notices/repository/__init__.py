"""Every SQL statement of the notices service, one module per entity, on the session's asyncpg connection."""
