"""Incremental scoring benchmark: approval → updated score and ranking readable, under 200 approvals/s.

    python -m bench.incremental [--quick]

The synthetic province of bench.recompute (30,000 units, 60 leaves; --quick: 3,000) with two months of
values loaded and fully scored, then VACUUM ANALYZE and CHECKPOINT as after any bulk load. The scoring
component then runs in this process (measurement starts once its scorer has preloaded its working set,
as before it reports ready) while approvals for the third month are published to JetStream at a steady
200/s (as the indicators service's outbox relay would).
Every fourth approval goes to a unit with nothing yet in that month; its latency is the time from the
publish until `scoring.scores_by_units` (RPC over NATS, one batched reader polling every 10 ms) returns
the unit's month score with its rank.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid

import asyncpg
import numpy as np

from bench._stack import peak_rss_mb, percentile, report, start_infra
from bench.recompute import CITY, YEAR, load
from kaohe import bus, natsauth
from kaohe.db import Database, asyncpg_dsn
from kaohe.events import CloudEvent
from kaohe.identity import Caller
from kaohe.rpc import RpcClient
from kaohe.settings import InfraSettings
from services.scoring import app
from services.scoring.repository import connection
from services.scoring.service.recompute import create_job, run_recompute
from services.scoring.settings import ScoringSettings

RATE, MONTH = 200, "2026-03"


def say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def main(quick: bool) -> None:
    stack = start_infra()
    try:
        asyncio.run(measure(stack.urls["database"], stack.urls["nats"], quick))
    finally:
        stack.stop()


async def measure(url: str, nats_url: str, quick: bool) -> None:
    n_units, n_cats, seconds = (3000, 10, 10) if quick else (30000, 30, 30)
    t = time.perf_counter()
    book, body, n_values = await load(url, n_units, n_cats, months=2)
    db = Database(url, schema="scoring", pool_size=2)
    async with db.uow() as s:
        job = await create_job(
            await connection.raw(s), book=book, scheme_id="bench-scheme", period="2026-Q1", requested_by="b"
        )
    await run_recompute(db, "bench", job, book, "2026-Q1")
    async with db.uow() as s:  # the preload's announcements are not part of what is measured
        await (await connection.raw(s)).execute("DELETE FROM outbox")
    await db.dispose()
    # As after any bulk load: statistics and visibility maps brought up to date and the load's dirty pages
    # written out, so that autovacuum and the checkpoint of the load do not run during the measurement.
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("VACUUM (ANALYZE) scoring.value, scoring.result, scoring.warning, scoring.outbox")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    say(f"{n_values} values loaded and scored in {time.perf_counter() - t:.1f}s")
    tag = uuid.uuid4().hex[:8]
    settings = ScoringSettings(event_prefix=f"bi{tag}", event_stream=f"BI{tag}", rpc_prefix=f"bi{tag}-rpc")
    rt = app.setup(settings, InfraSettings(database_url=url, nats_url=nats_url))
    await rt.start()
    await rt.state["scorer_ready"].wait()  # the scorer has loaded its working set (as before serving)
    nc = await bus.connect(nats_url, name="bench-incremental", identity=natsauth.admin_identity())
    js = nc.jetstream()
    client = RpcClient(nc, prefix=settings.rpc_prefix, timeout_s=10)
    caller = Caller.system()
    leaves = [leaf for l1 in body["trunk"] for leaf in l1["children"]]
    fresh = list(range(n_units))
    random.Random(1).shuffle(fresh)
    latencies: list[float] = []
    rng = np.random.default_rng(3)

    def approval(unit: int, leaf: dict, revision: int) -> bytes:
        uid = f"U{unit:06d}"
        value = round(leaf.get("target", 1.0) * 90 / 365 * float(rng.normal(1.1, 0.1)), 3)
        if leaf["standard"]["type"] == "deduction":
            value = float(rng.poisson(0.3))
        data = {
            "submission_id": f"s-{uid}-{leaf['code']}",
            "unit_id": uid,
            "unit_path": f"/14/{unit % 100:02d}/{uid}/",
            "scheme_id": "bench-scheme",
            "scheme_version": 1,
            "assessing_unit": CITY,
            "year": YEAR,
            "code": leaf["code"],
            "period": MONTH,
            "value": value,
            "revision": revision,
            "evidence": [],
            "actor": "bench",
            "at": "2026-04-01T00:00:00Z",
            "review_level": 2,
            "final": True,
        }
        ev = CloudEvent(
            source="/kaohe/indicators",
            type="kaohe.indicators.submission.approved",
            subject=data["submission_id"],
            data=data,
        )
        return ev.to_bytes()

    waiting: dict[str, float] = {}  # unit id → publish time, until its month score and rank are readable
    done = asyncio.Event()

    async def watch() -> None:
        """One reader polls every 10 ms for all waiting units at once, as the gateway's loaders batch."""
        while not done.is_set() or waiting:
            ids = list(waiting)[:1000]
            if ids:
                got = await client.call("scoring", "scores_by_units", {"ids": ids, "period": MONTH}, caller)
                now = time.perf_counter()
                for uid in ids:
                    if got[uid] is not None and got[uid]["rank"] is not None:
                        latencies.append((now - waiting.pop(uid)) * 1000)
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())

    subject = f"{settings.event_prefix}.indicators.submission.approved"
    revisions: dict[tuple[int, str], int] = {}
    total = RATE * seconds
    start = time.perf_counter()
    for i in range(total):
        await asyncio.sleep(max(0.0, start + i / RATE - time.perf_counter()))
        tracked = i % 4 == 0
        unit = fresh.pop() if tracked else int(rng.integers(n_units))
        leaf = leaves[int(rng.integers(len(leaves)))]
        key = (unit, leaf["code"])
        revisions[key] = revisions.get(key, 0) + 1
        t0 = time.perf_counter()
        await js.publish(subject, approval(unit, leaf, revisions[key]))
        if tracked:
            waiting[f"U{unit:06d}"] = t0
    achieved = total / (time.perf_counter() - start)
    done.set()
    try:
        await asyncio.wait_for(watcher, 60)
    except TimeoutError:
        async with Database(url, schema="scoring").uow() as s:
            c = await connection.raw(s)
            for q in (
                "SELECT count(*) FROM value WHERE period = '2026-03'",
                "SELECT count(*) FROM dirty",
                "SELECT count(*) FROM result WHERE period = '2026-03'",
                "SELECT count(*) FROM inbox",
                "SELECT count(*) FROM dead_letter",
            ):
                say(f"{q}: {await c.fetchval(q)}")
        raise
    await nc.close()
    await rt.stop()
    say(f"{total} approvals at {achieved:.0f}/s; {len(latencies)} tracked")
    report(
        {
            "benchmark": "incremental",
            "quick": quick,
            "units": n_units,
            "approvals": total,
            "rate_per_s": round(achieved, 1),
            "tracked": len(latencies),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
            "max_ms": round(max(latencies), 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3,000 units, 10 s of approvals")
    main(ap.parse_args().quick)
