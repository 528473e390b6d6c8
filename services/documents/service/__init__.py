"""Use cases of the documents service: gather the numbers over RPC, render, number, store, list."""
