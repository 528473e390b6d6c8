"""The session's own asyncpg connection (same transaction) for rewards' SQL, bulk COPY and JSON columns."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


def js(x: Any) -> Any:
    """A json/jsonb column read on a plain asyncpg connection (text) as Python data."""
    return orjson.loads(x) if isinstance(x, str | bytes) else x


def dumps(x: Any) -> str:
    """Python data as JSON text for a jsonb parameter or a COPY record."""
    return orjson.dumps(x).decode()


async def raw(s: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection, inside the session's transaction (begun here if need be)."""
    tx = s.sync_session.get_transaction()
    held = s.info.get("raw_connection")
    if held is not None and held[0] is tx:
        return held[1]  # type: ignore[no-any-return]
    await s.execute(text("SELECT 1"))  # the driver begins the transaction lazily
    conn = await s.connection()
    driver = (await conn.get_raw_connection()).driver_connection
    s.info["raw_connection"] = (s.sync_session.get_transaction(), driver)
    return driver  # type: ignore[return-value]


async def read_only(s: AsyncSession) -> asyncpg.Connection:
    """The connection of a transaction that can write nothing (SET TRANSACTION READ ONLY, first thing)."""
    await s.execute(text("SET TRANSACTION READ ONLY"))
    return await raw(s)
