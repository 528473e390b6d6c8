"""The session's own asyncpg connection (same transaction): fan-out and claims are set-based SQL."""

from __future__ import annotations

import asyncpg
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


async def raw(s: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under `s`, inside the session's transaction (begun here if not yet)."""
    held = s.info.get("notices_raw")
    tx = s.sync_session.get_transaction()
    if held is not None and held[0] is tx:
        return held[1]  # type: ignore[no-any-return]
    await s.execute(text("SELECT 1"))
    conn = await s.connection()
    driver = (await conn.get_raw_connection()).driver_connection
    s.info["notices_raw"] = (s.sync_session.get_transaction(), driver)
    return driver  # type: ignore[return-value]
