"""Thin RPC handlers of the rewards service, one module per entity (docs/rpc/rewards.md)."""
