"""Results publication (结果发布): objection window (申诉), objections and answers, the immutable snapshot."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from kaohe.contracts import paths
from kaohe.contracts.pages import decode_cursor, decode_offset, encode_cursor
from kaohe.contracts.scoring import ObjectionAnswered, ObjectionFiled, PublishedUnit, ResultsPublished
from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from services.scoring.domain.calendar import kind_of
from services.scoring.errors import ScoringErrorCode
from services.scoring.repository import connection, results
from services.scoring.repository.scope import book_of, require_book_scope, status_of, unit_row
from services.scoring.schemas import (
    OBJECTORS,
    OFFICE,
    BookPeriod,
    ObjectionAnswer,
    ObjectionCreate,
    ObjectionsQuery,
    Publish,
    SchemeRef,
    SnapshotQuery,
    WindowOpen,
)
from services.scoring.service import snapshot
from services.scoring.service.standings import Models, Standings
from services.scoring.workers import lock_book


def objection_public(r: Any, scheme_id: str) -> dict[str, Any]:
    return {
        "objection_id": r["id"],
        "scheme_id": scheme_id,
        "period": r["period"],
        "unit_id": r["unit_id"],
        "unit_path": r["unit_path"],
        "codes": connection.js(r["codes"]),
        "reason": r["reason"],
        "status": r["status"],
        "answer": r["answer"],
        "decision": r["decision"],
        "created_by": r["created_by"],
        "created_at": r["created_at"].isoformat(),
        "answered_by": r["answered_by"],
        "answered_at": r["answered_at"].isoformat() if r["answered_at"] else None,
    }


async def state(c: Any, book: int, scheme_id: str, period: str) -> dict[str, Any]:
    row = await c.fetchrow("SELECT * FROM results_state WHERE book = $1 AND period = $2", book, period)
    counts = await c.fetchrow(
        "SELECT count(*) FILTER (WHERE status = 'open') AS open, count(*) FILTER (WHERE status ="
        " 'answered') AS done"
        " FROM objection WHERE book = $1 AND period = $2",
        book,
        period,
    )
    return {
        "scheme_id": scheme_id,
        "period": period,
        "status": await status_of(c, book, period),
        "window_until": row["window_until"].isoformat() if row and row["window_until"] else None,
        "open_objections": counts["open"],
        "answered_objections": counts["done"],
        "snapshot_id": row["snapshot_id"] if row else None,
        "digest": row["digest"] if row else None,
        "published_at": row["published_at"].isoformat() if row and row["published_at"] else None,
        "published_by": row["published_by"] if row else None,
    }


KIND_ORDER = {"month": 0, "quarter": 1, "other": 2, "year": 3}


def period_list(periods: list[str], states: dict[str, Any]) -> list[dict[str, Any]]:
    """Periods with results (or a results state), by year, then months, quarters, other spans, the year."""
    out = []
    for period in sorted(set(periods) | set(states), key=lambda x: (x[:4], KIND_ORDER[kind_of(x)], x)):
        st = states.get(period)
        published = bool(st and st["snapshot_id"])
        window = bool(st and st["window_until"])
        out.append(
            {
                "period": period,
                "kind": kind_of(period) if kind_of(period) != "other" else "half_year",
                "status": "published" if published else "objection_window" if window else "preliminary",
                "window_until": st["window_until"].isoformat() if window else None,
                "snapshot_id": st["snapshot_id"] if published else None,
                "published_at": st["published_at"].isoformat() if published and st["published_at"] else None,
            }
        )
    return out


async def results_state(c: asyncpg.Connection, *, caller: Caller, p: BookPeriod) -> dict[str, Any]:
    """A book period's publication state: preliminary, objection window, published."""
    return await state(c, await book_of(c, p.scheme_id), p.scheme_id, p.period)


async def result_periods(c: asyncpg.Connection, *, caller: Caller, p: SchemeRef) -> list[dict[str, Any]]:
    """The periods of a book with results, each with its publication status."""
    book = await book_of(c, p.scheme_id)
    # the distinct periods with results, one index probe each (loose index scan)
    found = await c.fetch(
        "WITH RECURSIVE p AS ((SELECT period FROM result WHERE book = $1 ORDER BY period LIMIT 1)"
        " UNION ALL SELECT (SELECT r.period FROM result r WHERE r.book = $1 AND r.period > p.period"
        " ORDER BY r.period LIMIT 1) FROM p WHERE p.period IS NOT NULL)"
        " SELECT period FROM p WHERE period IS NOT NULL",
        book,
    )
    states = {r["period"]: r for r in await c.fetch("SELECT * FROM results_state WHERE book = $1", book)}
    return period_list([r["period"] for r in found], states)


async def objection_window_open(c: asyncpg.Connection, *, caller: Caller, p: WindowOpen) -> dict[str, Any]:
    """Open the objection window (申诉期) of a period until a given time (考核办)."""
    caller.require(*OFFICE)
    if p.until.tzinfo is None or p.until <= datetime.now(UTC):
        raise ValidationFailed("until: must be a future time with a time zone", field="until")
    book = await book_of(c, p.scheme_id)
    await require_book_scope(c, caller, book)
    if await status_of(c, book, p.period) == "published":
        raise Conflict(
            "these results are already published",
            code=ScoringErrorCode.ALREADY_PUBLISHED,
            field="period",
        )
    await c.execute(
        "INSERT INTO results_state (book, period, window_until) VALUES ($1, $2, $3)"
        " ON CONFLICT (book, period) DO UPDATE SET window_until = EXCLUDED.window_until",
        book,
        p.period,
        p.until,
    )
    return await state(c, book, p.scheme_id, p.period)


def _objection_event(r: Any, scheme_id: str, name: str | None, caller: Caller, model: Any) -> Any:
    """objection.filed / .answered of a stored row: ids, unit and codes only (no reason, answer or person)."""
    extra = {"decision": r["decision"]} if model is ObjectionAnswered else {}
    return model(
        scheme_id=scheme_id,
        period=r["period"],
        objection_id=r["id"],
        unit_id=r["unit_id"],
        unit_path=r["unit_path"],
        unit_name=name or None,
        codes=connection.js(r["codes"]),
        **extra,
    ).event(subject=f"{scheme_id}:{r['period']}", trace_id=caller.trace_id)


async def objection_create(
    c: asyncpg.Connection, *, caller: Caller, p: ObjectionCreate, prefix: str
) -> dict[str, Any]:
    """An objection (申诉) to a unit's result while the window is open, by someone who covers the unit;
    `objection.filed` goes out through the outbox in the same transaction (the office hears of it)."""
    caller.require(*OBJECTORS)
    book = await book_of(c, p.scheme_id)
    unit = await unit_row(c, caller, book, p.unit_id)
    until = await c.fetchval(
        "SELECT window_until FROM results_state WHERE book = $1 AND period = $2 AND snapshot_id IS NULL",
        book,
        p.period,
    )
    if until is None or until <= datetime.now(UTC):
        raise Conflict(
            "no objection window is open for these results",
            code=ScoringErrorCode.OBJECTION_WINDOW_CLOSED,
            field="period",
        )
    oid = uuid.uuid4().hex
    row = await c.fetchrow(
        "INSERT INTO objection (id, book, period, unit_no, unit_id, unit_path, codes, reason,"
        " created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        oid,
        book,
        p.period,
        unit["unit_no"],
        p.unit_id,
        unit["path"],
        orjson.dumps(p.codes).decode(),
        p.reason,
        caller.user_id,
    )
    filed = _objection_event(row, p.scheme_id, unit["name"], caller, ObjectionFiled)
    await results.emit_many(c, prefix, [filed])
    return objection_public(row, p.scheme_id)


async def objection_answer(
    c: asyncpg.Connection, *, caller: Caller, p: ObjectionAnswer, prefix: str
) -> dict[str, Any]:
    """Answer an open objection (考核办 of the book covering the unit); announces `objection.answered`."""
    caller.require(*OFFICE)
    row = await c.fetchrow("SELECT * FROM objection WHERE id = $1 FOR UPDATE", p.objection_id)
    if row is None or not caller.covers(row["unit_path"]):
        raise NotFound(f"no objection {p.objection_id!r}", field="objection_id")
    await require_book_scope(c, caller, row["book"])
    if row["status"] != "open":
        raise Conflict(
            "this objection is already answered",
            code=ScoringErrorCode.ALREADY_ANSWERED,
            field="objection_id",
        )
    row = await c.fetchrow(
        "UPDATE objection SET status = 'answered', answer = $2, decision = $3, answered_by = $4,"
        " answered_at = now() WHERE id = $1 RETURNING *",
        p.objection_id,
        p.answer,
        p.decision,
        caller.user_id,
    )
    scheme_id = await c.fetchval("SELECT scheme_id FROM book WHERE id = $1", row["book"])
    name = await c.fetchval(
        "SELECT name FROM book_unit WHERE book = $1 AND unit_id = $2", row["book"], row["unit_id"]
    )
    await results.emit_many(c, prefix, [_objection_event(row, scheme_id, name, caller, ObjectionAnswered)])
    return objection_public(row, scheme_id)


async def objections(c: asyncpg.Connection, *, caller: Caller, p: ObjectionsQuery) -> dict[str, Any]:
    """One page of a period's objections the caller may see."""
    after = decode_cursor(p.after, 2) or ["", ""]
    book = await book_of(c, p.scheme_id)
    rows = await c.fetch(
        "SELECT * FROM objection WHERE book = $1 AND period = $2 AND ($3::text IS NULL OR status ="
        " $3)"
        " AND " + paths.sql("unit_path", "$4", "$8") + " AND (created_at::text, id) > ($5, $6)"
        " ORDER BY created_at::text, id LIMIT $7",
        book,
        p.period,
        p.status,
        caller.org_path,
        after[0],
        after[1],
        p.first + 1,
        paths.upper(caller.org_path),
    )
    items = [objection_public(r, p.scheme_id) for r in rows[: p.first]]
    last = rows[p.first - 1] if len(rows) > p.first else None
    return {"items": items, "next": encode_cursor(str(last["created_at"]), last["id"]) if last else None}


async def results_publish(
    c: asyncpg.Connection, *, caller: Caller, p: Publish, models: Models, places: Standings, prefix: str
) -> dict[str, Any]:
    """Freeze the period's results into an immutable snapshot and announce results.published."""
    caller.require(*OFFICE)
    book = await book_of(c, p.scheme_id)
    await require_book_scope(c, caller, book)
    await c.execute(
        "INSERT INTO results_state (book, period) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        book,
        p.period,
    )
    await lock_book(c, book)  # the scorer's batches of this book are committed or wait for us
    st = await c.fetchrow(
        "SELECT * FROM results_state WHERE book = $1 AND period = $2 FOR UPDATE", book, p.period
    )
    if st["snapshot_id"]:
        raise Conflict(
            "these results are already published",
            code=ScoringErrorCode.ALREADY_PUBLISHED,
            field="period",
        )
    open_rows = await c.fetch(
        "SELECT id, unit_id FROM objection WHERE book = $1 AND period = $2 AND status = 'open'"
        " ORDER BY created_at",
        book,
        p.period,
    )
    if open_rows:
        raise Conflict(
            f"{len(open_rows)} objection(s) must be answered before publishing",
            code=ScoringErrorCode.OBJECTIONS_OPEN,
            field="period",
            details=[{"objection_id": r["id"], "unit_id": r["unit_id"]} for r in open_rows],
        )
    if st["window_until"] is not None and st["window_until"] > datetime.now(UTC) and not p.force_close_window:
        raise Conflict(
            "the objection window is still open; wait for it or force_close_window",
            code=ScoringErrorCode.OBJECTION_WINDOW_OPEN,
            field="force_close_window",
        )
    await snapshot.require_settled(c, book, p.period)
    rows = await c.fetch(
        "SELECT r.unit_no, u.unit_id, u.path, r.category, r.total, r.veto_grade"
        " FROM result r JOIN book_unit u ON u.book = r.book AND u.unit_no = r.unit_no"
        " WHERE r.book = $1 AND r.period = $2",
        book,
        p.period,
    )
    if not rows:
        raise NotFound(f"no results to publish for {p.period}", field="period")
    placed = await places.of_rows(c, models, [(book, p.period, r["unit_no"]) for r in rows])
    units = []
    for r in rows:
        pl = placed.get((book, p.period, r["unit_no"]))
        units.append(
            {
                "unit_id": r["unit_id"],
                "unit_path": r["path"],
                "category": r["category"],
                "total": round(r["total"], 6),
                "rank": pl.rank if pl else None,
                "of": pl.of if pl else None,
                "grade": pl.grade if pl else None,
                "last_place": pl.last_place if pl else False,
                "vetoed": r["veto_grade"] is not None,
            }
        )
    units.sort(key=lambda u: (u["category"], u["rank"] or 0, u["unit_id"]))
    body = orjson.dumps(
        {"scheme_id": p.scheme_id, "period": p.period, "units": units}, option=orjson.OPT_SORT_KEYS
    )
    digest = hashlib.sha256(body).hexdigest()
    snap = uuid.uuid4().hex
    now = datetime.now(UTC)
    await c.execute(
        "INSERT INTO snapshot (id, book, period, digest, rows, published_at, published_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        snap,
        book,
        p.period,
        digest,
        orjson.dumps(units).decode(),
        now,
        caller.user_id,
    )
    model = await models.get(c, book)
    if model is not None:
        await snapshot.freeze(c, model, p.period, snap, units)
    await c.execute(
        "UPDATE results_state SET snapshot_id = $3, digest = $4, published_at = $5, published_by ="
        " $6,"
        " window_until = CASE WHEN window_until > $5 THEN $5 ELSE window_until END"
        " WHERE book = $1 AND period = $2",
        book,
        p.period,
        snap,
        digest,
        now,
        caller.user_id,
    )
    published = ResultsPublished(
        scheme_id=p.scheme_id,
        period=p.period,
        snapshot_id=snap,
        digest=digest,
        units=[PublishedUnit.model_validate(u) for u in units],
    )
    event = published.event(subject=f"{p.scheme_id}:{p.period}", trace_id=caller.trace_id)
    await results.emit_many(c, prefix, [event])
    return await state(c, book, p.scheme_id, p.period)


async def results_snapshot(c: asyncpg.Connection, *, caller: Caller, p: SnapshotQuery) -> dict[str, Any]:
    """One page of a published snapshot's rows in the caller's subtree."""
    offset = decode_offset(p.after)
    book = await book_of(c, p.scheme_id)
    row = await c.fetchrow("SELECT * FROM snapshot WHERE book = $1 AND period = $2", book, p.period)
    if row is None:
        raise NotFound(f"results for {p.period} are not published", field="period")
    visible = [u for u in connection.js(row["rows"]) if caller.covers(u["unit_path"])]
    page = visible[offset : offset + p.first]
    more = offset + p.first < len(visible)
    return {
        "snapshot_id": row["id"],
        "digest": row["digest"],
        "published_at": row["published_at"].isoformat(),
        "items": page,
        "next": encode_cursor(offset + p.first) if more else None,
    }
