"""Full recompute (全量重算) of a book's period as a job with progress, run in the background."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from kaohe import gcpause, logs
from kaohe.db import Database, asyncpg_dsn
from services.scoring.domain.calendar import kind_of
from services.scoring.repository import connection
from services.scoring.service.scorer import Outcome, score_span
from services.scoring.workers import ModelCache, lock_book

log = logs.get("scoring.recompute")


def spans(period: str) -> list[str]:
    """A year recomputes its four quarters (and so itself); a month its quarter."""
    k = kind_of(period)
    if k == "year":
        return [f"{period}-Q{q}" for q in range(1, 5)]
    if k == "month":
        return [f"{period[:4]}-Q{(int(period[5:]) - 1) // 3 + 1}"]
    return [period]


async def _job(db: Database, job_id: str, **fields: Any) -> None:
    """Progress goes through its own short transaction so that pollers see it while the job runs."""
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"UPDATE scoring.job SET {sets} WHERE id = :id"), {"id": job_id, **fields})


async def create_job(c: Any, *, book: int, scheme_id: str, period: str, requested_by: str) -> str:
    job_id = uuid.uuid4().hex
    await c.execute(
        "INSERT INTO job (id, book, scheme_id, period, status, requested_by) VALUES ($1, $2, $3, $4,"
        " 'queued', $5)",
        job_id,
        book,
        scheme_id,
        period,
        requested_by,
    )
    return job_id


async def run_recompute(db: Database, prefix: str, job_id: str, book: int, period: str) -> Outcome:
    """Recompute every unit of the book for the period; the job row follows each stage."""
    await _job(db, job_id, status="running", started_at=datetime.now(UTC))
    total = Outcome()
    try:
        with gcpause.paused():
            n = await _recompute(db, prefix, job_id, book, period, total)
        await _job(db, job_id, status="done", stage="done", done_units=n, finished_at=datetime.now(UTC))
    except Exception as e:
        log.exception("recompute.failed", job_id=job_id)
        await _job(db, job_id, status="failed", error=str(e)[:2000], finished_at=datetime.now(UTC))
    return total


async def _recompute(db: Database, prefix: str, job_id: str, book: int, period: str, total: Outcome) -> int:
    """The job's spans in one transaction; returns the units × spans done."""
    async with db.uow() as s:
        c = await connection.raw(s)
        await lock_book(c, book)
        model = await ModelCache().get(c, book)
        if model is None:
            raise ValueError("the book has no published scheme yet")
        todo = spans(period)
        n = len(model.units)
        await _job(db, job_id, total_units=n * len(todo))
        # Each period's values are read by its own connection (on this transaction's snapshot), so
        # PostgreSQL produces them on several cores at once.
        dsn = asyncpg_dsn(db.url)
        for i, span in enumerate(todo):

            async def progress(stage: str, done: int, i: int = i) -> None:
                await _job(db, job_id, stage=stage, done_units=i * n + done)

            out = await score_span(
                c, model, span, None, prefix=prefix, announce={period, span}, progress=progress, dsn=dsn
            )
            total.units += out.units
            total.rows += out.rows
            total.raised += out.raised
            total.cleared += out.cleared
    return n * len(todo)
