"""Every SQL statement of the documents service: documents and their 文号 counters; scoping in one place."""
