"""What a published period serves (已发布结果): its frozen rows and the explanation of each, not live figures.

At publication every unit's explanation is computed from the inputs the published totals were scored
on and stored with its row (`snapshot_unit`, immutable like the snapshot). Reads of a published period
serve these by default and say so (`source: published`); live figures only when asked (`source: live`).
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import asyncpg

from kaohe import logs
from kaohe.errors import Conflict, NotFound
from services.scoring.domain.book import BookModel
from services.scoring.domain.calendar import kind_of, months_of
from services.scoring.domain.trace import canonical_bytes, check_trace
from services.scoring.errors import ScoringErrorCode
from services.scoring.repository import connection
from services.scoring.service.explain import explain

log = logs.get("scoring.snapshot")
Source = Literal["published", "live"]


def feeding(period: str) -> list[str] | str:
    """The periods whose inputs a period's figures depend on (a year: every period of it, as a prefix)."""
    k = kind_of(period)
    if k == "year":
        return period
    if k == "quarter":
        return [*months_of(period), period]
    return [period]


async def require_settled(c: asyncpg.Connection, book: int, period: str) -> None:
    """Refuse to publish figures the scorer has not caught up with (queued, held or being recomputed)."""
    feed = feeding(period)
    cond = "starts_with(period, $2)" if isinstance(feed, str) else "period = ANY($2)"
    pending = await c.fetchval(
        f"SELECT EXISTS (SELECT 1 FROM dirty WHERE book = $1 AND {cond})"
        f" OR EXISTS (SELECT 1 FROM dirty_held WHERE book = $1 AND {cond})"
        " OR EXISTS (SELECT 1 FROM job WHERE book = $1 AND status IN ('queued', 'running'))",
        book,
        feed,
    )
    if pending:
        raise Conflict(
            "scores of this period are still being computed (or held by a scorer fault); retry shortly",
            code=ScoringErrorCode.SCORING_PENDING,
            field="period",
        )


async def freeze(
    c: asyncpg.Connection, model: BookModel, period: str, snapshot_id: str, units: list[dict[str, Any]]
) -> None:
    """Store each published unit's row with the explanation of its published total."""
    by_id = {u.unit_id: u for u in model.units.values()}
    out = []
    for row in units:
        unit = by_id.get(row["unit_id"])
        trace = await explain(c, model, unit, period) if unit is not None else None
        raw = canonical_bytes(trace) if trace is not None else None
        if trace is not None and abs(round(trace.value, 6) - row["total"]) > 1e-6:
            log.warning("results.trace_differs", unit_id=row["unit_id"], period=period)
        out.append(
            (
                model.book,
                period,
                row["unit_id"],
                snapshot_id,
                row["unit_path"],
                row["category"],
                row["total"],
                row["rank"],
                row["of"],
                row["grade"],
                row["last_place"],
                row["vetoed"],
                None if raw is None else raw.decode(),
                None if raw is None else hashlib.sha256(raw).hexdigest(),
                None if trace is None else check_trace(trace),
            )
        )
    await c.executemany(
        "INSERT INTO snapshot_unit (book, period, unit_id, snapshot_id, unit_path, category, total, rank,"
        ' "of", grade, last_place, vetoed, trace, trace_digest, adds_up)'
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15)",
        out,
    )


async def explanation(c: asyncpg.Connection, book: int, period: str, unit_id: str) -> dict[str, Any]:
    """The published explanation of a unit (its trace as frozen at publication)."""
    r = await c.fetchrow(
        "SELECT snapshot_id, total, trace, trace_digest, adds_up FROM snapshot_unit"
        " WHERE book = $1 AND period = $2 AND unit_id = $3",
        book,
        period,
        unit_id,
    )
    if r is None or r["trace"] is None:
        raise NotFound(f"unit {unit_id!r} has no published results in {period}", field="period")
    return {
        "status": "published",
        "source": "published",
        "snapshot_id": r["snapshot_id"],
        "total": r["total"],
        "digest": r["trace_digest"],
        "adds_up": bool(r["adds_up"]),
        "trace": connection.js(r["trace"]),
    }


async def scores(c: asyncpg.Connection, ids: list[str], period: str | None) -> list[asyncpg.Record]:
    """Published rows of these units (in one period, or every published period), period order."""
    return await c.fetch(  # type: ignore[no-any-return]
        "SELECT su.*, b.scheme_id, s.published_at FROM snapshot_unit su JOIN book b ON b.id = su.book"
        " JOIN snapshot s ON s.id = su.snapshot_id WHERE su.unit_id = ANY($1)"
        " AND ($2::text IS NULL OR su.period = $2) ORDER BY su.period, su.book",
        ids,
        period,
    )


def score_public(r: asyncpg.Record) -> dict[str, Any]:
    """A published row in the shape of scores_by_units."""
    return {
        "unit_id": r["unit_id"],
        "period": r["period"],
        "total": r["total"],
        "leaves": None,
        "version": 1,
        "updated_at": r["published_at"].isoformat(),
        "scheme_id": r["scheme_id"],
        "category": r["category"],
        "rank": r["rank"],
        "of": r["of"],
        "grade": r["grade"],
        "status": "published",
        "source": "published",
        "digest": r["trace_digest"],
    }


def published_view(live: dict[str, Any], published: list[asyncpg.Record], caller: Any) -> dict[str, Any]:
    """scores_by_units with source=published: published figures only; a unit whose period is not
    published yet keeps its status (preliminary, objection_window) without figures."""
    out: dict[str, Any] = dict.fromkeys(live)
    keep = ("unit_id", "period", "scheme_id", "category", "status")
    for i, d in live.items():
        if d is not None and d["status"] is not None:
            out[i] = {**dict.fromkeys(d), **{k: d[k] for k in keep}, "source": "published"}
    for r in published:
        if caller.covers(r["unit_path"]):
            out[r["unit_id"]] = score_public(r)
    return out
