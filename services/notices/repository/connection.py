"""The session's own asyncpg connection (same transaction): fan-out and claims are set-based SQL."""

from __future__ import annotations

from kaohe.db import raw_connection

raw = raw_connection  # the session's asyncpg connection, same transaction (kaohe.db)
