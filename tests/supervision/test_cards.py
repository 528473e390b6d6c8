"""Clocks, breaches and cards through the sweep: attribution to the late cooperating unit, each card once
(a second sweep, two replicas at once, a process SIGKILLed mid-sweep), and the card in the unit's score."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

from kaohe.db import Database
from services.supervision.service.context import Ctx
from services.supervision.service.sweep import sweep_once
from tests.supervision.harness import SYSTEM, Sup, at, item_params

CARD = "kaohe.supervision.card.issued"


async def scenario(sup: Sup, *, coop_deadline: str = "2026-06-15") -> dict[str, Any]:
    """An item 交办 on 2026-05-06: the lead 签收 and reports on time; the cooperating part is due 06-15."""
    p = item_params(
        at=at(2026, 5, 6),
        lead={"unit_id": "140501", "task": "牵头整改", "deadline": "2026-06-30"},
        cooperating=[{"unit_id": "140502", "task": "配合疏通", "deadline": coop_deadline}],
        deadline="2026-06-30",
    )
    it = await sup.call("item_create", p, SYSTEM)
    v = it["version"]
    for when, method, extra in [
        (at(2026, 5, 6, 10), "item_accept", {}),
        (at(2026, 5, 8), "item_feedback", {"reason": "已部署"}),
        (at(2026, 5, 19), "item_feedback", {"reason": "推进中"}),
        (at(2026, 6, 1), "item_feedback", {"reason": "推进中"}),
        (at(2026, 6, 12), "item_feedback", {"reason": "推进中"}),
    ]:
        it = await sup.call(
            method,
            {"item_id": it["id"], "expected_version": v, "unit_id": "140501", "at": when, **extra},
            SYSTEM,
        )
        v = it["version"]
    return it


async def test_a_late_cooperating_part_is_charged_to_that_unit_not_the_lead(sup: Sup) -> None:
    it = await scenario(sup)
    got = await sup.call("sweep_run", {"as_of": at(2026, 6, 17, 10)}, SYSTEM)
    assert got["cards"] == 1
    item = await sup.call("item_get", {"item_id": it["id"]}, SYSTEM)
    (card,) = item["cards"]
    assert (card["unit_id"], card["colour"], card["role"]) == ("140502", "yellow", "cooperating")
    assert card["reason"] == "分项任务超期"
    assert [b["unit_id"] for b in item["breaches"]] == ["140502"]
    assert item["overdue"] is True and item["yellow_cards"] == 1
    # the score: 100 − 2 (黄牌) − 0.5 × 1 working day overdue (06-16; 06-17 has not ended at 10:00)
    (score,) = await sup.call("scores_list", {"unit_ids": ["140502"], "period": "2026-06"}, SYSTEM)
    assert Decimal(str(score["score"])) == Decimal("97.5")
    lead = await sup.call("scores_list", {"unit_ids": ["140501"], "period": "2026-06"}, SYSTEM)
    assert all(x["score"] == 100.0 and x["details"] == [] for x in lead)  # nothing charged to the lead


async def test_a_second_sweep_issues_nothing_again(sup: Sup) -> None:
    it = await scenario(sup)
    first = await sup.call("sweep_run", {"as_of": at(2026, 6, 17, 10)}, SYSTEM)
    again = await sup.call("sweep_run", {"as_of": at(2026, 6, 17, 10)}, SYSTEM)
    assert (first["cards"], again["cards"]) == (1, 0)
    rows = await sup.sql("SELECT type FROM outbox WHERE type = :t", t=CARD)
    assert len(rows) == 1
    # five working days overdue: 06-16, 17, 18, 22, 23 (06-19 is 端午节, a holiday): red from 06-23 18:00
    early = await sup.call("sweep_run", {"as_of": at(2026, 6, 23, 17)}, SYSTEM)
    later = await sup.call("sweep_run", {"as_of": at(2026, 6, 24, 9)}, SYSTEM)
    assert (early["cards"], later["cards"]) == (0, 1)
    item = await sup.call("item_get", {"item_id": it["id"]}, SYSTEM)
    assert sorted(c["colour"] for c in item["cards"]) == ["red", "yellow"]


async def many(sup: Sup, n: int) -> None:
    async def one(i: int) -> None:
        p = item_params(
            at=at(2026, 5, 6),
            lead={"unit_id": "140501", "task": f"任务{i}", "deadline": "2026-06-30"},
            cooperating=[{"unit_id": "140502", "task": "配合", "deadline": "2026-05-20"}],
            deadline="2026-06-30",
        )
        await sup.call("item_create", p, SYSTEM)

    for k in range(0, n, 10):
        await asyncio.gather(*(one(i) for i in range(k, min(k + 10, n))))


async def test_two_replicas_sweeping_at_once_issue_each_card_once(sup: Sup, database_url: str) -> None:
    await many(sup, 30)
    ctx: Ctx = sup.rt.state["ctx"]
    dbs = [Database(database_url, schema="supervision") for _ in range(2)]
    now = datetime.fromisoformat(at(2026, 5, 22, 10))
    try:
        results = await asyncio.gather(
            *(sweep_once(db, Ctx(ctx.settings, ctx.outbox), now=now, batch=3) for db in dbs)
        )
    finally:
        for db in dbs:
            await db.dispose()
    # per item: the part (05-20) missed → yellow to 140502; no accept → the lead's 签收 clock missed (no card)
    assert sum(r.cards for r in results) == 30
    assert all(r.items > 0 for r in results)  # both replicas took part
    cards = await sup.sql("SELECT key FROM card")
    events = await sup.sql("SELECT subject FROM outbox WHERE type = :t", t=CARD)
    assert len(cards) == len({c["key"] for c in cards}) == 30 and len(events) == 30


async def test_a_sweep_killed_mid_way_loses_and_doubles_nothing(sup: Sup, database_url: str, ns: Any) -> None:
    n = 80
    await many(sup, n)
    env = {**os.environ, "DATABASE_URL": database_url, "KAOHE_SUPERVISION_EVENT_PREFIX": ns.prefix}
    cmd = ["-m", "services.supervision.workers", "--as-of", at(2026, 5, 22, 10), "--batch", "1"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *cmd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            done = len(await sup.sql("SELECT key FROM card"))
            if done >= 3 or proc.returncode is not None or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # no cleanup, no rollback message: the connection just drops
        await asyncio.wait_for(proc.wait(), 10)
    finally:
        if proc.returncode is None:
            proc.kill()
    at_kill = len(await sup.sql("SELECT key FROM card"))
    assert 0 < at_kill < n, f"the sweep was not killed mid-way ({at_kill} of {n})"
    ctx: Ctx = sup.rt.state["ctx"]
    assert sup.rt.db is not None
    rest = await sweep_once(
        sup.rt.db, ctx, now=datetime.fromisoformat(at(2026, 5, 22, 10)), batch=5, workers=2
    )
    assert rest.cards == n - at_kill
    cards = await sup.sql("SELECT key FROM card")
    events = await sup.sql("SELECT subject FROM outbox WHERE type = :t", t=CARD)
    assert len(cards) == len({c["key"] for c in cards}) == n and len(events) == n
