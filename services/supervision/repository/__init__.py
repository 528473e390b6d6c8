"""Every SQL statement of the supervision service, one module per entity; scoping by the caller in `scope`."""
