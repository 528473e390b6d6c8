"""The session's own asyncpg connection (same transaction) for rewards' SQL, bulk COPY and JSON columns."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.db import raw_connection


def js(x: Any) -> Any:
    """A json/jsonb column read on a plain asyncpg connection (text) as Python data."""
    return orjson.loads(x) if isinstance(x, str | bytes) else x


def dumps(x: Any) -> str:
    """Python data as JSON text for a jsonb parameter or a COPY record."""
    return orjson.dumps(x).decode()


raw = raw_connection  # the session's asyncpg connection, same transaction (kaohe.db)


async def read_only(s: AsyncSession) -> asyncpg.Connection:
    """The connection of a transaction that can write nothing (SET TRANSACTION READ ONLY, first thing)."""
    await s.execute(text("SET TRANSACTION READ ONLY"))
    return await raw(s)
