"""Office methods: scoring configuration, exemptions (专项考核第一), direct aspect scores, recompute jobs."""

from __future__ import annotations

import asyncio
from typing import Any

from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.scoring.config import ScoringConfig
from services.scoring.consumers import DIRTY_CHANNEL
from services.scoring.domain.calendar import kind_of
from services.scoring.errors import ScoringErrorCode
from services.scoring.repository import connection
from services.scoring.schemas import (
    OFFICE,
    AspectScoresSet,
    BookPeriod,
    ConfigSet,
    ExemptionSet,
    JobRef,
    SchemeRef,
    book_of,
    covers_book,
    require_book_scope,
    unit_row,
)
from services.scoring.service.recompute import create_job, run_recompute

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


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()
    tasks: set[asyncio.Task[Any]] = rt.state.setdefault("jobs", set())

    def db() -> Any:
        assert rt.db is not None
        return rt.db

    async def bump(c: Any, book: int) -> None:
        await c.execute("UPDATE book SET stamp = stamp + 1 WHERE id = $1", book)

    @rpc.method("config_get", SchemeRef)
    async def config_get(caller: Caller, p: SchemeRef) -> dict[str, Any]:
        async with db().uow() as s:
            c = await connection.raw(s)
            book = await book_of(c, p.scheme_id)
            raw = await c.fetchval("SELECT config FROM book WHERE id = $1", book)
        return (ScoringConfig.model_validate(connection.js(raw)) if raw else ScoringConfig()).model_dump(
            mode="json"
        )

    @rpc.method("config_set", ConfigSet)
    async def config_set(caller: Caller, p: ConfigSet) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with db().uow() as s:
            c = await connection.raw(s)
            book = await book_of(c, p.scheme_id)
            await require_book_scope(c, caller, book)
            await c.execute("UPDATE book SET config = $2 WHERE id = $1", book, p.config.model_dump_json())
            await bump(c, book)
        return p.config.model_dump(mode="json")

    @rpc.method("exemption_set", ExemptionSet)
    async def exemption_set(caller: Caller, p: ExemptionSet) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with db().uow() as s:
            c = await connection.raw(s)
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

    @rpc.method("aspect_scores_set", AspectScoresSet)
    async def aspect_scores_set(caller: Caller, p: AspectScoresSet) -> dict[str, Any]:
        caller.require(*OFFICE)
        if kind_of(p.period) not in ("quarter", "year"):
            raise ValidationFailed("period: aspect scores belong to a quarter or a year", field="period")
        for code, v in p.scores.items():
            if code == "indicators":  # scoring computes it from the indicator values
                msg = "scores.indicators: the indicator aspect is computed from approved values"
                raise ValidationFailed(msg, field="scores.indicators")
            if not 0.0 <= v <= 100.0:
                raise ValidationFailed(f"scores.{code}: must be within 0..100", field=f"scores.{code}")
        async with db().uow() as s:
            c = await connection.raw(s)
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

    @rpc.method("recompute_start", BookPeriod)
    async def recompute_start(caller: Caller, p: BookPeriod) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with db().uow() as s:
            c = await connection.raw(s)
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
        task = asyncio.create_task(run_recompute(db(), rt.settings.event_prefix, job_id, book, p.period))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return job_public(row)

    @rpc.method("recompute_status", JobRef)
    async def recompute_status(caller: Caller, p: JobRef) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with db().uow() as s:
            c = await connection.raw(s)
            row = await c.fetchrow(f"SELECT {JOB_FIELDS}, book FROM job WHERE id = $1", p.job_id)
            if row is not None and not await covers_book(c, caller, row["book"]):
                row = None  # a job of a book outside the caller's subtree: not disclosed
        if row is None:
            raise NotFound(f"no recompute job {p.job_id!r}", field="job_id")
        return job_public(row)
