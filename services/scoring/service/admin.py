"""Office use cases (考核办): scoring configuration, exemptions (专项考核第一), aspect scores, recompute."""

from __future__ import annotations

from typing import Any

import asyncpg

from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from services.scoring.domain.calendar import kind_of
from services.scoring.domain.config import ScoringConfig
from services.scoring.errors import ScoringErrorCode
from services.scoring.repository import connection
from services.scoring.repository.scope import book_of, covers_book, require_book_scope, unit_row
from services.scoring.schemas import (
    OFFICE,
    AspectScoresSet,
    BookPeriod,
    ConfigSet,
    ExemptionSet,
    JobRef,
    SchemeRef,
)
from services.scoring.service.inputs import DIRTY_CHANNEL
from services.scoring.service.recompute import create_job

JOB_FIELDS = (
    "id, scheme_id, period, status, stage, done_units, total_units, started_at, finished_at, error, "
    + "requested_by"
)


async def _mark_dirty(c: Any, book: int, unit_no: int, period: str) -> None:
    """Queue the unit and period for the scorer and wake it (at commit, like the consumers do)."""
    await c.execute("INSERT INTO dirty (book, unit_no, period) VALUES ($1, $2, $3)", book, unit_no, period)
    await c.execute("SELECT pg_notify($1, '')", DIRTY_CHANNEL)


def job_public(r: Any) -> dict[str, Any]:
    total = r["total_units"] or 0
    return {
        "job_id": r["id"],
        "scheme_id": r["scheme_id"],
        "period": r["period"],
        "status": r["status"],
        "stage": r["stage"],
        "done_units": r["done_units"],
        "total_units": total,
        "progress": 1.0 if r["status"] == "done" else (round(r["done_units"] / total, 4) if total else 0.0),
        "started_at": r["started_at"].isoformat() if r["started_at"] else None,
        "finished_at": r["finished_at"].isoformat() if r["finished_at"] else None,
        "error": r["error"],
        "requested_by": r["requested_by"],
    }


async def bump(c: Any, book: int) -> None:
    """A new stamp for the book: cached models and standings of it are rebuilt on next use."""
    await c.execute("UPDATE book SET stamp = stamp + 1 WHERE id = $1", book)


async def config_get(c: asyncpg.Connection, *, caller: Caller, p: SchemeRef) -> dict[str, Any]:
    """The book's scoring configuration (defaults when none was set)."""
    book = await book_of(c, p.scheme_id)
    raw = await c.fetchval("SELECT config FROM book WHERE id = $1", book)
    return (ScoringConfig.model_validate(connection.js(raw)) if raw else ScoringConfig()).model_dump(
        mode="json"
    )


async def config_set(c: asyncpg.Connection, *, caller: Caller, p: ConfigSet) -> dict[str, Any]:
    """Replace the book's scoring configuration (考核办 of the book); later scores use it."""
    caller.require(*OFFICE)
    book = await book_of(c, p.scheme_id)
    await require_book_scope(c, caller, book)
    await c.execute("UPDATE book SET config = $2 WHERE id = $1", book, p.config.model_dump_json())
    await bump(c, book)
    return p.config.model_dump(mode="json")


async def exemption_set(c: asyncpg.Connection, *, caller: Caller, p: ExemptionSet) -> dict[str, Any]:
    """Exempt a unit from ranking in a period (专项考核第一), or lift it; the unit is rescored."""
    caller.require(*OFFICE)
    book = await book_of(c, p.scheme_id)
    await require_book_scope(c, caller, book)
    row = await unit_row(c, caller, book, p.unit_id)
    if p.exempt:
        await c.execute(
            "INSERT INTO exemption (book, period, unit_no, reason) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (book, period, unit_no) DO UPDATE SET reason = EXCLUDED.reason",
            book,
            p.period,
            row["unit_no"],
            p.reason,
        )
    else:
        await c.execute(
            "DELETE FROM exemption WHERE book = $1 AND period = $2 AND unit_no = $3",
            book,
            p.period,
            row["unit_no"],
        )
    await _mark_dirty(c, book, row["unit_no"], p.period)
    return {"unit_id": p.unit_id, "period": p.period, "exempt": p.exempt}


async def aspect_scores_set(c: asyncpg.Connection, *, caller: Caller, p: AspectScoresSet) -> dict[str, Any]:
    """Directly scored aspects of a unit's quarter or year (领导评议, 平时督查 by hand); rescored."""
    caller.require(*OFFICE)
    if kind_of(p.period) not in ("quarter", "year"):
        raise ValidationFailed("period: aspect scores belong to a quarter or a year", field="period")
    for code, v in p.scores.items():
        if code == "indicators":  # scoring computes it from the indicator values
            msg = "scores.indicators: the indicator aspect is computed from approved values"
            raise ValidationFailed(msg, field="scores.indicators")
        if not 0.0 <= v <= 100.0:
            raise ValidationFailed(f"scores.{code}: must be within 0..100", field=f"scores.{code}")
    book = await book_of(c, p.scheme_id)
    await require_book_scope(c, caller, book)
    row = await unit_row(c, caller, book, p.unit_id)
    await c.executemany(
        "INSERT INTO aspect_score (book, period, unit_no, code, value) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (book, period, unit_no, code) DO UPDATE SET value = EXCLUDED.value",
        [(book, p.period, row["unit_no"], k, v) for k, v in p.scores.items()],
    )
    await _mark_dirty(c, book, row["unit_no"], p.period)
    return {"unit_id": p.unit_id, "period": p.period, "scores": p.scores}


async def recompute_status(c: asyncpg.Connection, *, caller: Caller, p: JobRef) -> dict[str, Any]:
    """A recompute job's progress, when its book is in the caller's subtree."""
    caller.require(*OFFICE)
    row = await c.fetchrow(f"SELECT {JOB_FIELDS}, book FROM job WHERE id = $1", p.job_id)
    if row is not None and not await covers_book(c, caller, row["book"]):
        row = None  # a job of a book outside the caller's subtree: not disclosed
    if row is None:
        raise NotFound(f"no recompute job {p.job_id!r}", field="job_id")
    return job_public(row)


async def queue_recompute(
    c: asyncpg.Connection, *, caller: Caller, p: BookPeriod
) -> tuple[dict[str, Any], int]:
    """A new recompute job of the book's period (one at a time): (the job, its book); run after commit."""
    caller.require(*OFFICE)
    book = await book_of(c, p.scheme_id)
    await require_book_scope(c, caller, book)
    running = await c.fetchval(
        "SELECT id FROM job WHERE book = $1 AND period = $2 AND status IN ('queued', 'running')",
        book,
        p.period,
    )
    if running:
        raise Conflict(
            "a recompute of this scheme and period is already running",
            code=ScoringErrorCode.RECOMPUTE_RUNNING,
            field="period",
            details=[{"job_id": running}],
        )
    job_id = await create_job(
        c, book=book, scheme_id=p.scheme_id, period=p.period, requested_by=caller.user_id
    )
    row = await c.fetchrow(f"SELECT {JOB_FIELDS} FROM job WHERE id = $1", job_id)
    return job_public(row), book
