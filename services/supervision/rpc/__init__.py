"""Thin RPC handlers of the supervision service: check the role → unit of work → service → Public."""
