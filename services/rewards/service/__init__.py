"""Use cases of the rewards service: plain functions of a connection and a caller that never commit."""
