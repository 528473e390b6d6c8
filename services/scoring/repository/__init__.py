"""Every SQL statement of scoring, one module per entity: books, values (inputs), results; connection."""
