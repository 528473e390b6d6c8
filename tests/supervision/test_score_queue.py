"""督查结果单独核算 after a sweep: the queued (unit, period) scores are claimed in batches, each pair rescored
and published once, even with two replicas sweeping at once and a batch smaller than the queue."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

import orjson
import pytest

from kaohe.db import Database
from services.supervision.service import sweep
from services.supervision.service.context import Ctx
from tests.supervision.harness import SYSTEM, Sup, at, item_params

SCORED = "kaohe.supervision.result.scored"
TOWNS = ("140502", "140503")


async def two_late_partners(sup: Sup) -> None:
    """An item whose lead reports on time while both cooperating parts (due 06-15) never arrive."""
    p = item_params(
        at=at(2026, 6, 1),
        lead={"unit_id": "140501", "task": "牵头", "deadline": "2026-06-30"},
        cooperating=[{"unit_id": t, "task": "配合", "deadline": "2026-06-15"} for t in TOWNS],
        deadline="2026-06-30",
    )
    it = await sup.call("item_create", p, SYSTEM)
    ref = {"item_id": it["id"], "unit_id": "140501"}
    it = await sup.call("item_accept", ref | {"expected_version": 1, "at": at(2026, 6, 1, 10)}, SYSTEM)
    await sup.call(
        "item_feedback",
        ref | {"expected_version": it["version"], "reason": "推进中", "at": at(2026, 6, 12)},
        SYSTEM,
    )


async def test_two_replicas_drain_the_score_queue_in_small_batches_each_pair_once(
    sup: Sup, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await two_late_partners(sup)
    monkeypatch.setattr(sweep, "SCORE_BATCH", 1)  # a claim per pair: the replicas interleave
    ctx: Ctx = sup.rt.state["ctx"]
    dbs = [Database(database_url, schema="supervision") for _ in range(2)]
    now = datetime.fromisoformat(at(2026, 6, 17, 10))
    try:
        got = await asyncio.gather(
            *(sweep.sweep_once(db, Ctx(ctx.settings, ctx.outbox), now=now) for db in dbs)
        )
    finally:
        for db in dbs:
            await db.dispose()
    assert sum(r.cards for r in got) == 2  # a yellow card to each late partner
    assert await sup.sql("SELECT * FROM score_dirty") == []  # nothing left for the next sweep
    rows = await sup.sql("SELECT unit_id, period, score, revision FROM score ORDER BY unit_id, period")
    charged = {
        (r["unit_id"], r["period"]): (r["score"], r["revision"]) for r in rows if r["unit_id"] in TOWNS
    }
    # 黄牌 2 + 06-16 overdue × 0.5, in the month and in its quarter, stored once (revision 1)
    assert charged == {(t, p): (Decimal("97.50"), 1) for t in TOWNS for p in ("2026-06", "2026-Q2")}
    assert sum(r.scores for r in got) == len(rows)
    envelopes = await sup.sql("SELECT envelope FROM outbox WHERE type = :t", t=SCORED)
    events = [orjson.loads(e["envelope"]) for e in envelopes]
    keys = sorted(e["subject"] for e in events)
    assert len(keys) == len(set(keys)) == len(rows)  # each changed score published once
    for e in events:
        d = e["data"]
        if d["unit_id"] in TOWNS:
            assert (d["score"], d["revision"], d["unit_path"]) == (97.5, 1, f"/14/1405/{d['unit_id']}/")
    # a second sweep as of the same moment finds nothing due and changes no score
    again = await sweep.sweep_once(sup.rt.db, ctx, now=now)
    assert (again.items, again.scores) == (0, 0)
