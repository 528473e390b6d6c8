"""Published snapshots (已发布结果) as rewards stores them: rows, digest, and which one supersedes which."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from services.rewards.repository.connection import dumps, js

INSERT = """
INSERT INTO snapshot (snapshot_id, scheme_id, period, digest, rows, units)
VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT (snapshot_id) DO NOTHING
"""


async def insert(
    conn: asyncpg.Connection,
    *,
    snapshot_id: str,
    scheme_id: str,
    period: str,
    digest: str,
    rows: list[dict[str, Any]],
) -> bool:
    """Store a snapshot; False when it (or one of the same scheme, period and digest) is stored already."""
    same = await conn.fetchval(
        "SELECT 1 FROM snapshot WHERE scheme_id = $1 AND period = $2 AND digest = $3",
        scheme_id,
        period,
        digest,
    )
    if same:
        return False
    status = await conn.execute(INSERT, snapshot_id, scheme_id, period, digest, dumps(rows), len(rows))
    return bool(status.endswith(" 1"))


async def supersede_others(
    conn: asyncpg.Connection, snapshot_id: str, scheme_id: str, period: str
) -> list[str]:
    """Mark the earlier current snapshots of the same scheme and period as superseded by this one."""
    rows = await conn.fetch(
        "UPDATE snapshot SET superseded_by = $1 WHERE scheme_id = $2 AND period = $3 AND snapshot_id <> $1"
        " AND superseded_by IS NULL RETURNING snapshot_id",
        snapshot_id,
        scheme_id,
        period,
    )
    return [r["snapshot_id"] for r in rows]


async def get(conn: asyncpg.Connection, snapshot_id: str, *, with_rows: bool = True) -> asyncpg.Record | None:
    cols = "n.*" if with_rows else "n.snapshot_id, n.scheme_id, n.period, n.digest, n.units, n.superseded_by"
    return await conn.fetchrow(  # type: ignore[no-any-return]
        f"SELECT {cols}, s.assessing_unit, s.year FROM snapshot n LEFT JOIN scheme s USING (scheme_id)"
        " WHERE n.snapshot_id = $1",
        snapshot_id,
    )


def rows_of(record: asyncpg.Record) -> list[dict[str, Any]]:
    return js(record["rows"])  # type: ignore[no-any-return]


async def past(
    conn: asyncpg.Connection, assessing_unit: str, periods: Sequence[str]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """(period, rows) of the current snapshots of an assessing unit's earlier periods (any scheme)."""
    if not periods:
        return []
    rows = await conn.fetch(
        "SELECT n.period, n.rows FROM snapshot n JOIN scheme s USING (scheme_id)"
        " WHERE s.assessing_unit = $1 AND n.period = ANY($2::varchar[]) AND n.superseded_by IS NULL",
        assessing_unit,
        list(periods),
    )
    return [(r["period"], js(r["rows"])) for r in rows]


async def waiting_for_scheme(conn: asyncpg.Connection, scheme_id: str) -> list[str]:
    """Current snapshots of a scheme that no proposal set was made for (scheme.published came late)."""
    rows = await conn.fetch(
        "SELECT n.snapshot_id FROM snapshot n WHERE n.scheme_id = $1 AND n.superseded_by IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM proposal_set p WHERE p.snapshot_id = n.snapshot_id)",
        scheme_id,
    )
    return [r["snapshot_id"] for r in rows]


async def page(
    conn: asyncpg.Connection, *, scheme_id: str | None, period: str | None, after: str | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT n.snapshot_id, n.scheme_id, n.period, n.digest, n.units, n.received_at, n.superseded_by,"
        " s.assessing_unit,"
        " (SELECT max(p.set_id) FROM proposal_set p WHERE p.snapshot_id = n.snapshot_id"
        "  AND p.status <> 'superseded') AS proposal_set_id"
        " FROM snapshot n LEFT JOIN scheme s USING (scheme_id)"
        " WHERE ($1::varchar IS NULL OR n.scheme_id = $1) AND ($2::varchar IS NULL OR n.period = $2)"
        " AND ($3::varchar IS NULL OR n.snapshot_id > $3) ORDER BY n.snapshot_id LIMIT $4",
        scheme_id,
        period,
        after,
        limit,
    )
