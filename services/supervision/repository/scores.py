"""Supervision scores (督查得分) per unit and period, and the queue of (unit, period) to recompute."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

Row = Mapping[str, Any]


async def queue(s: AsyncSession, pairs: Iterable[tuple[str, str]]) -> None:
    rows = sorted(set(pairs))
    if rows:
        await s.execute(
            text(
                "INSERT INTO score_dirty (unit_id, period) SELECT * FROM unnest(CAST(:u AS text[]),"
                " CAST(:p AS text[])) ON CONFLICT DO NOTHING"
            ),
            {"u": [u for u, _ in rows], "p": [p for _, p in rows]},
        )


async def claim(s: AsyncSession, n: int) -> list[Row]:
    """Claim up to n queued (unit, period) pairs for this transaction (other replicas skip them), dequeue
    them, and read with each its unit's current path (`unit_path_now`) and its stored score, locked (null
    columns when there is none), in one statement. Rows by unit and period."""
    res = await s.execute(
        text(
            "WITH t AS (DELETE FROM score_dirty WHERE (unit_id, period) IN (SELECT unit_id, period"
            " FROM score_dirty ORDER BY unit_id, period LIMIT :n FOR UPDATE SKIP LOCKED)"
            " RETURNING unit_id, period)"
            " SELECT t.unit_id, t.period, u.path AS unit_path_now, x.unit_path, x.score, x.revision,"
            " x.details FROM (SELECT * FROM t ORDER BY unit_id, period) t"
            " LEFT JOIN unit u ON u.id = t.unit_id"
            " LEFT JOIN LATERAL (SELECT * FROM score x WHERE x.unit_id = t.unit_id AND x.period = t.period"
            " FOR UPDATE) x ON true ORDER BY t.unit_id, t.period"
        ),
        {"n": n},
    )
    return list(res.mappings())


async def items_of(
    s: AsyncSession, pairs: Sequence[tuple[str, str]], bounds: Mapping[str, tuple[datetime, datetime]]
) -> list[Row]:
    """The items each (unit, period) pair answers for — assigned before the period's end and not finished
    before its start (`bounds`: period → start, end) — in one query for every period: each row is the
    item's, with the pair it is listed for (`for_unit`, `for_period`), by pair and item."""
    if not pairs:
        return []
    res = await s.execute(
        text(
            "SELECT q.u AS for_unit, q.p AS for_period, i.* FROM unnest(CAST(:us AS text[]),"
            " CAST(:ps AS text[]), CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[]))"
            " AS q(u, p, st, en) JOIN item_unit iu ON iu.unit_id = q.u JOIN item i ON i.id = iu.item_id"
            " WHERE i.assigned_at IS NOT NULL AND i.assigned_at < q.en"
            " AND (i.finished_at IS NULL OR i.finished_at >= q.st) ORDER BY q.u, q.p, i.id"
        ),
        {
            "us": [u for u, _ in pairs],
            "ps": [p for _, p in pairs],
            "starts": [bounds[p][0] for _, p in pairs],
            "ends": [bounds[p][1] for _, p in pairs],
        },
    )
    return list(res.mappings())


async def put_many(s: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store many scores in one statement (keys: unit_id, period, path, score, items, revision,
    details)."""
    if not rows:
        return
    await s.execute(
        text(
            "INSERT INTO score (unit_id, period, unit_path, score, items, revision, details)"
            " SELECT u, p, path, score, items, rev, CAST(d AS jsonb) FROM unnest(CAST(:u AS text[]),"
            " CAST(:p AS text[]), CAST(:path AS text[]), CAST(:score AS numeric[]), CAST(:items AS int[]),"
            " CAST(:rev AS int[]), CAST(:d AS text[])) AS q(u, p, path, score, items, rev, d)"
            " ON CONFLICT (unit_id, period) DO UPDATE SET unit_path = EXCLUDED.unit_path,"
            " score = EXCLUDED.score, items = EXCLUDED.items, revision = EXCLUDED.revision,"
            " details = EXCLUDED.details, updated_at = now()"
        ),
        {
            "u": [r["unit_id"] for r in rows],
            "p": [r["period"] for r in rows],
            "path": [r["path"] for r in rows],
            "score": [r["score"] for r in rows],
            "items": [r["items"] for r in rows],
            "rev": [r["revision"] for r in rows],
            "d": [orjson.dumps(r["details"]).decode() for r in rows],
        },
    )


async def of_units(s: AsyncSession, ids: Sequence[str], period: str) -> list[Row]:
    res = await s.execute(
        text("SELECT * FROM score WHERE unit_id = ANY(:ids) AND period = :p ORDER BY unit_id"),
        {"ids": list(ids), "p": period},
    )
    return list(res.mappings())
