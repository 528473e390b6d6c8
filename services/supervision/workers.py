"""The sweep loop (时限巡检): every `sweep_interval_s`, one sweep as of now; safe with several replicas.

`python -m services.supervision.workers [--as-of ISO] [--batch N] [--loop]` runs sweeps from the command
line against the configured database (operators, and the crash test that SIGKILLs it mid-sweep).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import datetime

from kaohe import logs
from kaohe.db import Database
from services.supervision.service.context import Ctx, policies
from services.supervision.service.sweep import sweep_once

log = logs.get("kaohe.supervision.sweep")


async def run(db: Database, ctx: Ctx, stop: asyncio.Event) -> None:
    """Sweep until `stop` is set; an error is logged and the next round tries again."""
    while not stop.is_set():
        try:
            got = await sweep_once(db, ctx, now=ctx.now(), batch=ctx.settings.sweep_batch)
            if got.items or got.scores:
                log.info("sweep.done", items=got.items, cards=got.cards, scores=got.scores)
        except Exception as e:  # keep sweeping: the failed batch rolled back and is taken again
            log.error("sweep.failed", error=f"{type(e).__name__}: {e}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ctx.settings.sweep_interval_s)


async def _main(as_of: datetime | None, batch: int, loop: bool) -> None:
    from kaohe.events import Outbox
    from kaohe.settings import InfraSettings, effective_database_url
    from services.supervision.settings import SupervisionSettings

    settings, infra = SupervisionSettings(), InfraSettings()
    db = Database(effective_database_url(settings, infra), schema="supervision")
    ctx = Ctx(settings, Outbox(prefix=settings.event_prefix, schema="supervision"), *policies(settings))
    try:
        while True:
            got = await sweep_once(db, ctx, now=as_of or ctx.now(), batch=batch)
            print(f"swept items={got.items} cards={got.cards} scores={got.scores}", flush=True)
            if not loop:
                break
    finally:
        await db.dispose()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="run supervision sweeps")
    ap.add_argument("--as-of", type=datetime.fromisoformat, default=None)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--loop", action="store_true")
    a = ap.parse_args()
    asyncio.run(_main(a.as_of, a.batch, a.loop))
