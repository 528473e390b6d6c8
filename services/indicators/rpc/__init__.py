"""Thin RPC handlers of the indicators service, one module per entity."""
