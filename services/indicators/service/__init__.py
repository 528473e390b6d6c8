"""Use cases of the indicators service: plain functions of a session and a caller that never commit."""
