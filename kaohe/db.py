"""Async database access: one engine per component bound to its own schema, and a unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def make_engine(url: str, *, schema: str | None, pool_size: int = 10) -> AsyncEngine:
    """An engine whose connections see `schema` first on the search path (and `public` for extensions)."""
    server_settings = {"application_name": f"kaohe-{schema or 'tool'}"}
    if schema:
        server_settings["search_path"] = f"{schema},public"
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
        # jsonb read back with orjson: the standard library's parser cost a quarter of a batch job that reads
        # bodies and timelines (supervision's sweep); the values are the same Python types
        json_deserializer=orjson.loads,
    )


class Database:
    """A component's engine plus the unit-of-work factory. Services never commit; `uow()` does."""

    def __init__(self, url: str, *, schema: str, pool_size: int = 10) -> None:
        self.url = url
        self.schema = schema
        self.engine = make_engine(url, schema=schema, pool_size=pool_size)

    @asynccontextmanager
    async def uow(self) -> AsyncIterator[AsyncSession]:
        """Open a session; commit when the block ends normally, roll back when it raises."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A pooled connection outside any transaction, for a hot read of a few statements: each statement
    sees the latest commits, and no BEGIN/COMMIT round trips surround them. Its asyncpg connection is
    `raw_connection(conn)`."""
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")


def asyncpg_dsn(url: str) -> str:
    """The plain libpq DSN for asyncpg.connect (LISTEN, COPY) from a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def raw_connection(s: AsyncSession | AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a session (inside its transaction, begun here if need be) or under a
    plain connection (`autocommit`).

    For bulk paths (COPY, unnest, set-based SQL) that run in the same unit of work as the ORM statements,
    and for hot reads whose statement and row handling in SQLAlchemy cost as much as the query.
    """
    if isinstance(s, AsyncConnection):
        return (await s.get_raw_connection()).driver_connection  # type: ignore[no-any-return]
    tx = s.sync_session.get_transaction()
    held = s.info.get("raw_connection")
    if held is not None and held[0] is tx:
        return held[1]  # type: ignore[no-any-return]
    await s.execute(text("SELECT 1"))  # the driver begins the transaction lazily
    conn = await s.connection()
    driver = (await conn.get_raw_connection()).driver_connection
    s.info["raw_connection"] = (s.sync_session.get_transaction(), driver)
    return driver  # type: ignore[return-value]
