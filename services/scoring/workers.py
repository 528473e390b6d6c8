"""The incremental scorer loop: drains `dirty` (queued by the consumers) in batches, book by book.

Woken by NOTIFY from the consumers' transactions (and a short poll as a safety net). A per-book advisory
lock keeps the incremental scorer and full recomputes of the same book from interleaving.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from typing import Any

import asyncpg

from kaohe import logs
from kaohe.db import Database, asyncpg_dsn
from services.scoring.domain.book import BookModel
from services.scoring.domain.calendar import kind_of, months_of, quarter_of
from services.scoring.repository import books, connection
from services.scoring.service.inputs import DIRTY_CHANNEL
from services.scoring.service.quarantine import BookQueue
from services.scoring.service.scorer import score_span
from services.scoring.service.standings import Standings

log = logs.get("scoring.worker")
LOCK_NS = 0x5C0E  # advisory lock namespace: (LOCK_NS, book)
BATCH = 5000


class ModelCache:
    """Compiled books by id, rebuilt when the book's stamp moves (new scheme, config, roster change)."""

    def __init__(self) -> None:
        self._models: dict[int, tuple[int, BookModel | None]] = {}

    async def get(self, c: asyncpg.Connection, book: int) -> BookModel | None:
        current = await books.stamp(c, book)
        hit = self._models.get(book)
        if hit is not None and hit[0] == current:
            return hit[1]
        model = await books.load_model(c, book)
        self._models[book] = (current or 0, model)
        return model


def span_of(period: str) -> str:
    """The span recomputed for a dirty period: its quarter; a year's last quarter (recomposes the year)."""
    k = kind_of(period)
    if k in ("month", "quarter"):
        return quarter_of(period)  # type: ignore[return-value]
    if k == "year":
        return f"{period}-Q4"
    return period


async def lock_book(c: asyncpg.Connection, book: int) -> None:
    await c.execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_NS, book)


async def connect(db: Database) -> asyncpg.Connection:
    """The scorer's own connection: a hot loop of short transactions, without pool checkout and ping."""
    return await asyncpg.connect(
        asyncpg_dsn(db.url),
        server_settings={"application_name": "kaohe-scoring-scorer", "search_path": f"{db.schema},public"},
    )


# The batch, with whether each row's book is in backoff or quarantine (its rows are held, not scored)
# and whether it had failed before: one statement, as cheap as the DELETE alone while no book is faulty.
_TAKE = (
    "WITH d AS (DELETE FROM dirty WHERE id IN (SELECT id FROM dirty ORDER BY id LIMIT $1 FOR UPDATE SKIP"
    " LOCKED) RETURNING book, unit_no, period, cause_event, queued_at)"
    " SELECT d.*, f.book IS NOT NULL AS faulted,"
    " coalesce(f.quarantined_at IS NOT NULL OR f.retry_at > now(), false) AS held"
    " FROM d LEFT JOIN book_fault f ON f.book = d.book"
)


async def drain_once(
    c: asyncpg.Connection,
    cache: ModelCache,
    prefix: str,
    places: Standings | None = None,
    queue: BookQueue | None = None,
) -> int:
    """Score one batch of queued (unit, period) pairs in one transaction; returns how many were taken.

    Each book is scored under its own savepoint: a book that raises is rolled back alone, its work held
    and its attempt counted (quarantine.py), and the batch's other books are committed.
    """
    queue = queue or BookQueue()
    async with c.transaction():
        rows = await c.fetch(_TAKE, BATCH)
        held = [r for r in rows if r["held"]]
        if held:
            await queue.hold(c, held)
        faulted = {r["book"] for r in rows if r["faulted"] and not r["held"]}
        work: dict[int, dict[str, tuple[set[int], dict[int, str], set[str]]]] = {}
        taken: dict[int, list[asyncpg.Record]] = {}
        for r in rows:
            if r["held"]:
                continue
            taken.setdefault(r["book"], []).append(r)
            units, causes, periods = work.setdefault(r["book"], {}).setdefault(
                span_of(r["period"]), (set(), {}, set())
            )
            units.add(r["unit_no"])
            periods.add(r["period"])
            if r["cause_event"]:
                causes[r["unit_no"]] = r["cause_event"]
        for book in sorted(work):
            # the savepoint goes with the lock in one round trip (simple protocol, literal integers)
            await c.execute(f"SAVEPOINT book; SELECT pg_advisory_xact_lock({LOCK_NS}, {int(book)})")
            try:
                await _score_book(c, cache, book, work[book], prefix, places)
                if book in faulted:
                    await queue.recovered(c, book)
            except Exception as e:  # only this book's work is undone; the connection must still answer
                await c.execute("ROLLBACK TO SAVEPOINT book")
                if places is not None:  # memory may hold the failed book's rows: reload them when next read
                    places.forget(book)
                log.exception("scorer.book_failed", book=book, error=repr(e))
                await queue.failed(c, book, taken[book], e)
        return len(rows)


async def _score_book(
    c: asyncpg.Connection,
    cache: ModelCache,
    book: int,
    spans: dict[str, tuple[set[int], dict[int, str], set[str]]],
    prefix: str,
    places: Standings | None,
) -> None:
    model = await cache.get(c, book)
    if model is None:
        return  # values wait for the scheme; its arrival queues them again
    for span, (units, causes, periods) in sorted(spans.items()):
        await score_span(
            c,
            model,
            span,
            model.with_rank_peers(units),
            prefix=prefix,
            causes=causes,
            places=places,
            dirty=periods,
        )


async def preload(db: Database, cache: ModelCache, places: Standings) -> int:
    """Load the standings and result rows the scorer works on next: for every book with a scheme, the
    quarter of its latest scored month (its months, the quarter, the year). Returns the periods loaded.

    Without it the first approvals after a start would wait while their periods are read."""
    loaded = 0
    async with db.uow() as s:
        c = await connection.raw(s)
        book_rows = await c.fetch("SELECT id FROM book WHERE scheme_id IS NOT NULL ORDER BY id")
        for (book,) in book_rows:
            month = await c.fetchval(
                "SELECT max(period) FROM result WHERE book = $1 AND period ~ '^[0-9]{4}-[0-9]{2}$'", book
            )
            model = await cache.get(c, book) if month else None
            if model is None:
                continue
            quarter = quarter_of(month)
            assert quarter is not None
            for period in [*months_of(quarter), quarter, month[:4]]:
                await places.get(c, model, period, rows=True)
                loaded += 1
    return loaded


async def run(
    db: Database,
    prefix: str,
    stop: asyncio.Event,
    cache: ModelCache,
    places: Standings | None = None,
    ready: asyncio.Event | None = None,
    queue: BookQueue | None = None,
) -> None:
    """Preload, then drain on every NOTIFY (and every half second) until stopped; requeue the work of
    books whose backoff has passed."""
    queue = queue or BookQueue()
    if places is not None:
        try:
            n = await preload(db, cache, places)
            # What was loaded lives as long as the process: out of the collector's full passes, which
            # would otherwise walk it all (hundreds of ms for a 30,000-unit book) in the middle of a batch.
            gc.collect()
            gc.freeze()
            log.info("scorer.preloaded", periods=n)
        except Exception as e:  # the scorer loads what it needs on demand
            log.warning("scorer.preload_failed", error=repr(e))
    if ready is not None:
        ready.set()
    wake = asyncio.Event()
    listener: Any = None
    try:
        listener = await asyncpg.connect(asyncpg_dsn(db.url))
        await listener.add_listener(DIRTY_CHANNEL, lambda *_: wake.set())
    except Exception as e:  # polling still works
        log.warning("scorer.listen_failed", error=repr(e))
    conn: asyncpg.Connection | None = None
    try:
        while not stop.is_set():
            try:
                if conn is None or conn.is_closed():
                    conn = await connect(db)
                await queue.release_due(conn)
                while await drain_once(conn, cache, prefix, places, queue):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the dirty rows were rolled back and are retried
                if places is not None:  # memory may hold the failed batch: reload from the database
                    places.clear()
                log.exception("scorer.batch_failed", error=repr(e))
                if conn is not None:  # a fresh connection next time, whatever state this one is in
                    with contextlib.suppress(Exception):
                        await conn.close()
                    conn = None
                await asyncio.sleep(1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), queue.wait_s(0.5))
            wake.clear()
    finally:
        for held in (listener, conn):
            if held is not None:
                with contextlib.suppress(Exception):
                    await held.close()
