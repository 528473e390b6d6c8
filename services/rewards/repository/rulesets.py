"""Rule sets (结果运用规则) in SQL: versions per assessing unit and year, one active, frozen once active."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.rewards.repository.connection import dumps

COLUMNS = (
    "assessing_unit, year, version, status, rules, digest, revision, used, created_by, created_at,"
    " activated_at"
)


async def create(
    conn: asyncpg.Connection,
    *,
    assessing_unit: str,
    year: int,
    rules: list[dict[str, Any]],
    digest: str,
    by: str,
) -> asyncpg.Record:
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('rewards.ruleset:' || $1 || ':' || $2))",
        assessing_unit,
        str(year),
    )
    version = await conn.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM ruleset WHERE assessing_unit = $1 AND year = $2",
        assessing_unit,
        year,
    )
    return await conn.fetchrow(  # type: ignore[no-any-return]
        "INSERT INTO ruleset (assessing_unit, year, version, status, rules, digest, created_by)"
        f" VALUES ($1, $2, $3, 'draft', $4::jsonb, $5, $6) RETURNING {COLUMNS}",
        assessing_unit,
        year,
        version,
        dumps(rules),
        digest,
        by,
    )


async def get(
    conn: asyncpg.Connection, assessing_unit: str, year: int, version: int | None, *, lock: bool = False
) -> asyncpg.Record | None:
    if version is None:
        where = "status = 'active'"
        args: tuple[Any, ...] = (assessing_unit, year)
    else:
        where = "version = $3"
        args = (assessing_unit, year, version)
    tail = " FOR UPDATE" if lock else ""
    return await conn.fetchrow(  # type: ignore[no-any-return]
        f"SELECT {COLUMNS} FROM ruleset WHERE assessing_unit = $1 AND year = $2 AND {where}{tail}", *args
    )


async def update(
    conn: asyncpg.Connection, key: tuple[str, int, int], rules: list[dict[str, Any]], digest: str
) -> asyncpg.Record:
    return await conn.fetchrow(  # type: ignore[no-any-return]
        f"UPDATE ruleset SET rules = $4::jsonb, digest = $5, revision = revision + 1"
        f" WHERE assessing_unit = $1 AND year = $2 AND version = $3 RETURNING {COLUMNS}",
        *key,
        dumps(rules),
        digest,
    )


async def activate(conn: asyncpg.Connection, key: tuple[str, int, int]) -> asyncpg.Record:
    await conn.execute(
        "UPDATE ruleset SET status = 'retired' WHERE assessing_unit = $1 AND year = $2 AND status = 'active'",
        key[0],
        key[1],
    )
    return await conn.fetchrow(  # type: ignore[no-any-return]
        "UPDATE ruleset SET status = 'active', activated_at = now(), revision = revision + 1"
        f" WHERE assessing_unit = $1 AND year = $2 AND version = $3 RETURNING {COLUMNS}",
        *key,
    )


async def mark_used(conn: asyncpg.Connection, key: tuple[str, int, int]) -> None:
    await conn.execute(
        "UPDATE ruleset SET used = true WHERE assessing_unit = $1 AND year = $2 AND version = $3"
        " AND NOT used",
        *key,
    )


async def page(
    conn: asyncpg.Connection,
    *,
    assessing_unit: str | None,
    year: int | None,
    after: tuple[str, int, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        f"SELECT {COLUMNS} FROM ruleset WHERE ($1::varchar IS NULL OR assessing_unit = $1)"
        " AND ($2::int IS NULL OR year = $2)"
        " AND ($3::varchar IS NULL OR (assessing_unit, year, version) > ($3, $4::int, $5::int))"
        " ORDER BY assessing_unit, year, version LIMIT $6",
        assessing_unit,
        year,
        after[0] if after else None,
        after[1] if after else None,
        after[2] if after else None,
        limit,
    )
