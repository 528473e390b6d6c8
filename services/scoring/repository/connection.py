"""The session's own asyncpg connection (same transaction) for scoring's bulk paths, and JSON columns."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson

from kaohe.db import Database, autocommit, raw_connection


def js(x: Any) -> Any:
    """A json/jsonb column: decoded by SQLAlchemy's codec on its connections, text on plain asyncpg ones."""
    return orjson.loads(x) if isinstance(x, str | bytes) else x


raw = raw_connection  # the session's asyncpg connection, same transaction (kaohe.db)


@contextlib.asynccontextmanager
async def reader(db: Database) -> AsyncIterator[asyncpg.Connection]:
    """A pooled asyncpg connection for a hot read of a few statements, outside any transaction (each
    statement sees the latest commits): no session, BEGIN, COMMIT or `SELECT 1` around it."""
    async with autocommit(db.engine) as conn:
        yield await raw_connection(conn)


# ---------------------------------------------------------------- books, schemes, rosters
