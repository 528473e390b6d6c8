"""Supervision scores (督查得分) per unit and period, and the queue of (unit, period) to recompute."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
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


async def take(s: AsyncSession, n: int) -> list[tuple[str, str]]:
    """Claim up to n queued pairs for this transaction (other replicas skip them) and dequeue them."""
    res = await s.execute(
        text(
            "DELETE FROM score_dirty WHERE (unit_id, period) IN (SELECT unit_id, period FROM score_dirty"
            " ORDER BY unit_id, period LIMIT :n FOR UPDATE SKIP LOCKED) RETURNING unit_id, period"
        ),
        {"n": n},
    )
    return [(r[0], r[1]) for r in res]


async def get(s: AsyncSession, unit_id: str, period: str) -> Row | None:
    res = await s.execute(
        text("SELECT * FROM score WHERE unit_id = :u AND period = :p FOR UPDATE"), {"u": unit_id, "p": period}
    )
    return res.mappings().first()


async def get_many(s: AsyncSession, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Row]:
    """The stored scores of many (unit, period) pairs in one query, locked for this transaction."""
    if not pairs:
        return {}
    res = await s.execute(
        text(
            "SELECT s.* FROM score s JOIN unnest(CAST(:us AS text[]), CAST(:ps AS text[])) AS q(u, p)"
            " ON s.unit_id = q.u AND s.period = q.p ORDER BY s.unit_id, s.period FOR UPDATE OF s"
        ),
        {"us": [u for u, _ in pairs], "ps": [p for _, p in pairs]},
    )
    return {(r["unit_id"], r["period"]): r for r in res.mappings()}


async def put_many(s: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store many scores in one statement (keys as `put`'s arguments: unit_id, period, path, score,
    items, revision, details)."""
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


async def put(
    s: AsyncSession,
    unit_id: str,
    period: str,
    *,
    path: str,
    score: Decimal,
    items: int,
    revision: int,
    details: list[dict[str, Any]],
) -> None:
    await s.execute(
        text(
            "INSERT INTO score (unit_id, period, unit_path, score, items, revision, details)"
            " VALUES (:u, :p, :path, :score, :items, :rev, CAST(:d AS jsonb))"
            " ON CONFLICT (unit_id, period) DO UPDATE SET unit_path = EXCLUDED.unit_path,"
            " score = EXCLUDED.score, items = EXCLUDED.items, revision = EXCLUDED.revision,"
            " details = EXCLUDED.details, updated_at = now()"
        ),
        {"u": unit_id, "p": period, "path": path, "score": score, "items": items, "rev": revision}
        | {"d": orjson.dumps(details).decode()},
    )


async def of_units(s: AsyncSession, ids: Sequence[str], period: str) -> list[Row]:
    res = await s.execute(
        text("SELECT * FROM score WHERE unit_id = ANY(:ids) AND period = :p ORDER BY unit_id"),
        {"ids": list(ids), "p": period},
    )
    return list(res.mappings())
