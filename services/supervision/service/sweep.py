"""The sweep (时限巡检): items whose next due time has passed, re-evaluated in batches, cards issued once.

Each batch is one transaction: `SELECT … WHERE next_due <= now … FOR UPDATE SKIP LOCKED` (the index on
`next_due`; another replica skips the rows this one holds), `clocks.assess_items` of the batch (breaches and
cards by their stable keys, so a batch retried after a crash inserts nothing twice), commit. A process
killed mid-sweep loses only its uncommitted batch, which the next sweep takes again. Queued supervision
scores are recomputed after the items, in batches of their own. The process's outbox relay is held while
the item batches run (`kaohe.relay.OutboxRelay.hold`): their breaches and cards go out right after.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from kaohe import gcpause
from kaohe.db import Database
from services.supervision.repository import items as item_repo
from services.supervision.service import scores
from services.supervision.service.clocks import assess_items
from services.supervision.service.context import Ctx

SCORE_BATCH = 200  # queued (unit, period) scores rescored per transaction


@dataclass
class SweepCount:
    items: int = 0
    breaches: int = 0
    cards: int = 0
    scores: int = 0


async def sweep_once(
    db: Database, ctx: Ctx, *, now: datetime, batch: int = 500, workers: int = 2
) -> SweepCount:
    """One full sweep as of `now`: every due item once (`workers` batches in flight on their own
    connections, so one's database round trips overlap another's evaluation: two halve a sweep of
    8,000 due items on two cores), then the queued scores."""
    out = SweepCount()
    seen: set[str] = set()

    async def worker() -> None:
        while True:
            async with db.uow() as s:
                ids = [i for i in await item_repo.due_ids(s, now, batch) if i not in seen]
                if not ids:
                    return
                seen.update(ids)
                rows, units = await item_repo.sweep_rows(s, ids)
                for r in (await assess_items(s, ctx, rows, now=now, units=units)).values():
                    out.items += 1
                    out.breaches += r.breaches
                    out.cards += r.cards

    # batches of acyclic rows and boards: the collector walked the heap ~500 times; the relay publishes the
    # batches' breaches and cards when they are done instead of between them on this event loop
    with gcpause.paused(), ctx.hold_relay():
        await asyncio.gather(*(worker() for _ in range(workers)))
    while True:  # the queued scores, a batch a transaction, until a batch finds the queue drained
        async with db.uow() as s:
            taken, changed = await scores.recompute_queued(s, ctx, batch=SCORE_BATCH, now=now)
        out.scores += changed
        if taken < SCORE_BATCH:
            break
    return out
