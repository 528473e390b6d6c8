"""平时督查 results in scoring: a run of `supervision.result.scored` events in one batch, on the real stack.

A sweep that cards many units publishes their scores together; scoring's consumer stores such a run in
one statement. It must behave as if the events were applied one by one: per unit and period the newest
revision wins whatever the order, an older or repeated revision changes nothing, and every stored score
rescores its unit.
"""

from __future__ import annotations

import pytest

from kaohe.contracts.supervision import ResultDeduction, SupervisionResultScored
from kaohe.events import CloudEvent
from services.scoring import consumers
from services.scoring.service import inputs
from tests.conftest import eventually
from tests.support.scoring import UNITS, Scoring, fill, month_total, totals

pytestmark = pytest.mark.asyncio


def result(unit: str, score: float, revision: int, period: str = "2026-01") -> CloudEvent:
    path = next(u["path"] for u in UNITS if u["unit_id"] == unit)
    return SupervisionResultScored(
        unit_id=unit,
        unit_path=path,
        period=period,
        score=score,
        items=1,
        revision=revision,
        details=[ResultDeduction(item_id=f"item-{unit}", deduction=100 - score, reason="超期未办结")],
    ).event(subject=f"{unit}:{period}")


async def test_a_run_of_results_applies_the_newest_revision_of_each_unit(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    await sc.call("config_set", {"scheme_id": sid, "config": {"supervision_weight": 0.1}})
    for unit in ("140501", "140502", "140503"):
        await fill(sc, sid, unit, "2026-01", 90, 60, 1, "较好")
    plain = month_total(90, 60, 1, 0.8, s=0.1, sup=100.0, period="2026-01")
    coef = 1.1  # 140503's evaluation coefficient

    async def filled() -> bool:
        got = await totals(sc, ["140501", "140502", "140503"], "2026-01")
        return got == {
            "140501": pytest.approx(plain),
            "140502": pytest.approx(plain),
            "140503": pytest.approx(month_total(90, 60, 1, 0.8, coef=coef, s=0.1, period="2026-01")),
        }

    await eventually(filled, what="the month scored without supervision results")
    # one batch, out of order: 140501's revision 2 before its revision 1 (older: ignored), a repeat of
    # revision 2 with another score (not newer: ignored), 140502's two revisions in order
    run = [
        result("140501", 70.0, 2),
        result("140502", 90.0, 1),
        result("140501", 95.0, 1),
        result("140502", 60.0, 2),
        result("140501", 10.0, 2),
    ]
    async with sc.rt.db.uow() as s:
        await consumers.handle_many(s, run, inputs.Interned())

    async def applied() -> bool:
        got = await totals(sc, ["140501", "140502", "140503"], "2026-01")
        return got == {
            "140501": pytest.approx(month_total(90, 60, 1, 0.8, s=0.1, sup=70.0, period="2026-01")),
            "140502": pytest.approx(month_total(90, 60, 1, 0.8, s=0.1, sup=60.0, period="2026-01")),
            "140503": pytest.approx(month_total(90, 60, 1, 0.8, coef=coef, s=0.1, period="2026-01")),
        }

    await eventually(applied, what="the newest revision of each unit weighted in")
    ex = await sc.call("explanation", {"unit_id": "140501", "period": "2026-01", "scheme_id": sid})
    sup = next(c for c in ex["trace"]["children"] if c["kind"] == "supervision")
    assert sup["value"] == pytest.approx(70.0)
    # later, over the bus: an older revision changes nothing, a newer one moves the total
    await sc.send(SupervisionResultScored.from_event(result("140501", 20.0, 1)), "140501:2026-01")
    await sc.send(SupervisionResultScored.from_event(result("140502", 80.0, 3)), "140502:2026-01")
    moved = month_total(90, 60, 1, 0.8, s=0.1, sup=80.0, period="2026-01")

    async def newer() -> bool:
        return (await totals(sc, ["140502"], "2026-01"))["140502"] == pytest.approx(moved)

    await eventually(newer, what="revision 3 of 140502 weighted in")
    got = await totals(sc, ["140501"], "2026-01")
    assert got["140501"] == pytest.approx(month_total(90, 60, 1, 0.8, s=0.1, sup=70.0, period="2026-01"))
