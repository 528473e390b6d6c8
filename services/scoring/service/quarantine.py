"""The scorer's own dead-letter handling: a book whose batch fails is retried with backoff, then quarantined.

The scorer scores each book of a batch under its own savepoint (workers.py). When a book raises, only its
work is rolled back: its queued (unit, period) pairs move to `dirty_held` and `book_fault` counts the
attempt. The book is retried after an exponential backoff; after `max_attempts` it is quarantined — held
until an operator retries it (`scorer_retry`, or `python -m services.scoring.service.quarantine retry
SCHEME`) — while every other book keeps flowing. Work queued for a held book later joins its held work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from kaohe import logs
from kaohe.identity import Caller
from services.scoring.repository.scope import book_of, covers_book, require_book_scope
from services.scoring.schemas import OFFICE
from services.scoring.service.inputs import DIRTY_CHANNEL
from services.scoring.settings import QueueSettings

log = logs.get("scoring.quarantine")


_FAILED = (
    "INSERT INTO book_fault AS f (book, attempts, error, retry_at, quarantined_at)"
    " VALUES ($1, 1, $2, CASE WHEN $3 > 1 THEN now() + make_interval(secs => $4) END,"
    " CASE WHEN $3 <= 1 THEN now() END)"
    " ON CONFLICT (book) DO UPDATE SET attempts = f.attempts + 1, error = EXCLUDED.error,"
    " last_failed_at = now(),"
    " retry_at = CASE WHEN f.attempts + 1 < $3 THEN now() + make_interval(secs => least($4 * 2 ^ f.attempts,"
    " $5)) END,"
    " quarantined_at = CASE WHEN f.attempts + 1 >= $3 THEN now() END"
    " RETURNING attempts, quarantined_at IS NOT NULL AS quarantined,"
    " extract(epoch FROM retry_at - now()) AS wait_s"
)
_HOLD = (
    "INSERT INTO dirty_held (book, unit_no, period, cause_event, queued_at)"
    " SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::timestamptz[])"
)
# Held work of books whose backoff has passed goes back to the queue (oldest first).
_RELEASE = (
    "WITH due AS (UPDATE book_fault SET retry_at = NULL WHERE retry_at <= now() AND quarantined_at IS NULL"
    " RETURNING book), moved AS (DELETE FROM dirty_held h USING due WHERE h.book = due.book"
    " RETURNING h.id, h.book, h.unit_no, h.period, h.cause_event)"
    " INSERT INTO dirty (book, unit_no, period, cause_event)"
    " SELECT book, unit_no, period, cause_event FROM moved ORDER BY id"
)


class BookQueue:
    """Fault bookkeeping of the scorer's queue (one per scorer; the state is in the database)."""

    def __init__(self, settings: QueueSettings | None = None) -> None:
        self.settings = settings or QueueSettings()
        self._due: float | None = None  # when this process's earliest backoff ends (monotonic)
        self._swept = 0.0

    async def hold(self, c: asyncpg.Connection, rows: Sequence[Any]) -> None:
        """Set aside queued work of books in backoff or quarantine (inside the batch's transaction)."""
        cols = ("book", "unit_no", "period", "cause_event", "queued_at")
        await c.execute(_HOLD, *([r[k] for r in rows] for k in cols))

    async def failed(
        self, c: asyncpg.Connection, book: int, rows: Sequence[Any], error: BaseException
    ) -> None:
        """Count a failed attempt of `book` and hold its work in the batch (its savepoint rolled back)."""
        s = self.settings
        text = f"{type(error).__name__}: {error}"[:2000]
        r = await c.fetchrow(_FAILED, book, text, s.max_attempts, s.retry_base_s, s.retry_max_s)
        await self.hold(c, rows)
        if r["quarantined"]:
            log.error("scorer.book_quarantined", book=book, attempts=r["attempts"], error=text)
        else:
            wait = max(float(r["wait_s"] or 0.0), 0.0)
            due = time.monotonic() + wait
            self._due = due if self._due is None else min(self._due, due)
            log.warning("scorer.book_retry_scheduled", book=book, attempts=r["attempts"], in_s=round(wait, 3))

    async def recovered(self, c: asyncpg.Connection, book: int) -> None:
        """A book that had failed was scored: its fault is cleared."""
        await c.execute("DELETE FROM book_fault WHERE book = $1 AND quarantined_at IS NULL", book)
        log.info("scorer.book_recovered", book=book)

    def wait_s(self, idle: float) -> float:
        """How long the scorer may sleep before `release_due` has work (at most `idle`)."""
        return idle if self._due is None else max(0.0, min(idle, self._due - time.monotonic()))

    async def release_due(self, c: asyncpg.Connection, *, sweep_every_s: float = 5.0) -> int:
        """Requeue held work whose backoff has passed: when this process's earliest backoff ends, and every
        few seconds as a safety net (another replica's backoffs, a restart). Returns the rows requeued."""
        now = time.monotonic()
        if (self._due is None or now < self._due) and now - self._swept < sweep_every_s:
            return 0
        self._due, self._swept = None, now
        async with c.transaction():
            status = await c.execute(_RELEASE)
            n = int(status.split()[-1])
            if n:
                await c.execute("SELECT pg_notify($1, '')", DIRTY_CHANNEL)
            # a backoff still running (another book's) keeps its own time
            left = await c.fetchval(
                "SELECT extract(epoch FROM min(retry_at) - now()) FROM book_fault"
                " WHERE quarantined_at IS NULL"
            )
        if left is not None:
            self._due = now + max(float(left), 0.0)
        return n


async def faults(c: asyncpg.Connection, book: int | None = None) -> list[dict[str, Any]]:
    """Books in backoff or quarantine, with their error and how much work they hold."""
    rows = await c.fetch(
        "SELECT f.*, b.scheme_id, (SELECT count(*) FROM dirty_held h WHERE h.book = f.book) AS held"
        " FROM book_fault f JOIN book b ON b.id = f.book WHERE $1::int IS NULL OR f.book = $1"
        " ORDER BY f.book",
        book,
    )
    return [
        {
            "scheme_id": r["scheme_id"],
            "book": r["book"],
            "status": "quarantined" if r["quarantined_at"] else "retrying",
            "attempts": r["attempts"],
            "error": r["error"],
            "held": r["held"],
            "first_failed_at": r["first_failed_at"].isoformat(),
            "last_failed_at": r["last_failed_at"].isoformat(),
            "retry_at": r["retry_at"].isoformat() if r["retry_at"] else None,
            "quarantined_at": r["quarantined_at"].isoformat() if r["quarantined_at"] else None,
        }
        for r in rows
    ]


async def retry(c: asyncpg.Connection, book: int) -> int:
    """An operator's retry: the book's held work goes back to the queue with a fresh count of attempts."""
    await c.execute("DELETE FROM book_fault WHERE book = $1", book)
    status = await c.execute(
        "WITH moved AS (DELETE FROM dirty_held WHERE book = $1"
        " RETURNING id, book, unit_no, period, cause_event)"
        " INSERT INTO dirty (book, unit_no, period, cause_event)"
        " SELECT book, unit_no, period, cause_event FROM moved ORDER BY id",
        book,
    )
    await c.execute("SELECT pg_notify($1, '')", DIRTY_CHANNEL)
    return int(status.split()[-1])


async def list_faults(
    c: asyncpg.Connection, *, caller: Caller, scheme_id: str | None
) -> list[dict[str, Any]]:
    """The faulted books the caller's subtree covers (of one scheme, or all)."""
    caller.require(*OFFICE)
    book = await book_of(c, scheme_id) if scheme_id else None
    return [f for f in await faults(c, book) if await covers_book(c, caller, f["book"])]


async def retry_book(c: asyncpg.Connection, *, caller: Caller, scheme_id: str) -> dict[str, Any]:
    """Requeue a faulted or quarantined book's held work (考核办 of the book, or system)."""
    caller.require(*OFFICE)
    book = await book_of(c, scheme_id)
    await require_book_scope(c, caller, book)
    n = await retry(c, book)
    log.info("scorer.book_retried", book=book, requeued=n, by=caller.user_id)
    return {"scheme_id": scheme_id, "requeued": n}


def main(argv: list[str] | None = None) -> int:
    """`python -m services.scoring.service.quarantine [list | retry SCHEME_ID]` on DATABASE_URL."""
    from kaohe.db import asyncpg_dsn

    ap = argparse.ArgumentParser(prog="python -m services.scoring.service.quarantine", description=__doc__)
    ap.add_argument("action", choices=["list", "retry"])
    ap.add_argument("scheme_id", nargs="?")
    args = ap.parse_args(argv)
    if args.action == "retry" and not args.scheme_id:
        ap.error("retry needs a scheme_id")

    async def run() -> None:
        conn = await asyncpg.connect(
            asyncpg_dsn(os.environ["DATABASE_URL"]), server_settings={"search_path": "scoring,public"}
        )
        try:
            if args.action == "list":
                for f in await faults(conn):
                    print(json.dumps(f, ensure_ascii=False))
                return
            book = await conn.fetchval("SELECT id FROM book WHERE scheme_id = $1", args.scheme_id)
            if book is None:
                raise SystemExit(f"no book for scheme {args.scheme_id!r}")
            async with conn.transaction():
                print(json.dumps({"scheme_id": args.scheme_id, "requeued": await retry(conn, book)}))
        finally:
            await conn.close()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
