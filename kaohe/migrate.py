"""Alembic per service: each owns a schema, a migrations folder and its own version table."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from kaohe import registry

ROOT = Path(__file__).resolve().parent.parent
# Registry order; no service reads another's tables.
MIGRATED: tuple[str, ...] = registry.COMPONENTS


def script_location(component: str) -> Path:
    """The component's migrations folder, named in kaohe.registry."""
    return registry.get(component).migrations_path


def alembic_config(component: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location(component)))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["schema"] = component
    return cfg


MIGRATION_LOCK = 0x6B616F6865  # "kaohe": one migrator at a time (a Job and init containers may race)


def upgrade(url: str, components: tuple[str, ...] = MIGRATED, revision: str = "head") -> None:
    """Apply migrations under a PostgreSQL advisory lock (synchronous: call via asyncio.to_thread)."""
    import asyncpg

    from kaohe.db import asyncpg_dsn

    async def lock() -> asyncpg.Connection:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        return conn

    loop = asyncio.new_event_loop()
    try:
        conn = loop.run_until_complete(lock())
        try:
            for c in components:
                command.upgrade(alembic_config(c, url), revision)
        finally:
            loop.run_until_complete(conn.close())  # closing the session releases the lock
    finally:
        loop.close()


def run_env(target_metadata: MetaData | None = None) -> None:
    """Body of every service's migrations/env.py."""
    cfg = context.config
    schema = cfg.attributes["schema"]
    url = cfg.get_main_option("sqlalchemy.url")

    def do_run(conn: Connection) -> None:
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        conn.execute(sa.text(f'SET search_path TO "{schema}", public'))
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            version_table_schema=schema,
            include_schemas=False,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.begin() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())


def create_kernel_tables(op, schema: str) -> None:  # type: ignore[no-untyped-def]
    """Outbox, inbox and dead-letter tables, in every service's first migration."""
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        schema=schema,
    )
    op.create_index(
        "outbox_pending", "outbox", ["seq"], schema=schema, postgresql_where=sa.text("published_at IS NULL")
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=schema,
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("consumer", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("deliveries", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("replayed_at", sa.DateTime(timezone=True)),
        schema=schema,
    )
    op.create_index("dead_letter_event", "dead_letter", ["consumer", "event_id"], unique=True, schema=schema)
