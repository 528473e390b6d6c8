"""Every SQL statement of the rewards service, one module per entity, on the session's asyncpg connection."""
