"""Every SQL statement of the indicators service, one module per entity."""
