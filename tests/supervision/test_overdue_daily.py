"""Issue 12 leftovers through the running service: a late part's score moves once per working day with
no transition (the sweep re-checks it at each working day's end); an item never 签收 is breached at the
sweep after its accept clock, even one 10 days later; a missed 签收/首次反馈 is a breach without a card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kaohe.workdays import CHINA_TZ
from tests.supervision.harness import OFFICE, SYSTEM, Sup, at, future, item_params
from tests.supervision.test_cards import scenario


async def score_of(sup: Sup, unit: str, period: str) -> Decimal:
    (row,) = await sup.call("scores_list", {"unit_ids": [unit], "period": period}, SYSTEM)
    return Decimal(str(row["score"]))


async def test_two_sweeps_a_working_day_apart_score_a_late_part_twice(sup: Sup) -> None:
    it = await scenario(sup)  # 140502's part was due Mon 06-15 and never arrives
    first = await sup.call("sweep_run", {"as_of": at(2026, 6, 17, 10)}, SYSTEM)
    assert first["cards"] == 1
    assert await score_of(sup, "140502", "2026-06") == Decimal("97.5")  # 黄牌 2 + 06-16 × 0.5
    (row,) = await sup.sql("SELECT next_due, version FROM item WHERE id = :i", i=it["id"])
    assert row["next_due"] == datetime(2026, 6, 17, 18, tzinfo=CHINA_TZ)  # the end of the next working day
    second = await sup.call("sweep_run", {"as_of": at(2026, 6, 18, 10)}, SYSTEM)
    assert (second["items"], second["cards"], second["scores"]) == (1, 0, 2)  # 2026-06 and 2026-Q2
    assert await score_of(sup, "140502", "2026-06") == Decimal("97.0")  # 06-17 counted too
    (after,) = await sup.sql("SELECT next_due, version FROM item WHERE id = :i", i=it["id"])
    assert after["version"] == row["version"]  # no transition in between: only the sweep
    assert after["next_due"] == datetime(2026, 6, 18, 18, tzinfo=CHINA_TZ)
    # 06-19 is 端午节, 06-20/21 a weekend: the next step after 06-18's end is 06-22's end
    await sup.call("sweep_run", {"as_of": at(2026, 6, 19, 10)}, SYSTEM)
    assert await score_of(sup, "140502", "2026-06") == Decimal("96.5")
    (hol,) = await sup.sql("SELECT next_due FROM item WHERE id = :i", i=it["id"])
    assert hol["next_due"] == datetime(2026, 6, 22, 18, tzinfo=CHINA_TZ)
    lead = await sup.call("scores_list", {"unit_ids": ["140501"], "period": "2026-06"}, SYSTEM)
    assert all(x["score"] == 100.0 for x in lead)  # the lead is never charged for its partner's days


async def test_an_item_never_accepted_is_breached_by_a_sweep_ten_days_later(sup: Sup) -> None:
    it = await sup.create(
        OFFICE,
        deadline=future(40),
        lead={"unit_id": "140501", "task": "牵头整改", "deadline": future(40)},
        cooperating=[],
    )
    assert it["status"] == "assigned"
    (row,) = await sup.sql("SELECT next_due, assigned_at FROM item WHERE id = :i", i=it["id"])
    assert row["next_due"] is not None and row["next_due"] - row["assigned_at"] < timedelta(days=5)
    as_of = datetime.now(UTC) + timedelta(days=10)
    got = await sup.call("sweep_run", {"as_of": as_of.isoformat()}, SYSTEM)
    assert got["items"] == 1 and got["breaches"] == 2 and got["cards"] == 0
    item = await sup.call("item_get", {"item_id": it["id"]}, SYSTEM)
    kinds = sorted((b["kind"], b["unit_id"], b["role"]) for b in item["breaches"])
    assert kinds == [("accept", "140501", "lead"), ("first_feedback", "140501", "lead")]


async def test_missed_accept_and_first_feedback_are_breaches_without_cards_a_silent_period_is_yellow(
    sup: Sup,
) -> None:
    p = item_params(
        at=at(2026, 5, 6),
        lead={"unit_id": "140501", "task": "牵头整改", "deadline": "2026-06-30"},
        cooperating=[],
        deadline="2026-06-30",
    )
    it = await sup.call("item_create", p, SYSTEM)
    late = await sup.call("sweep_run", {"as_of": at(2026, 5, 13, 10)}, SYSTEM)  # as bench.supervision's T
    assert (late["breaches"], late["cards"]) == (2, 0)
    ref = {"item_id": it["id"], "unit_id": "140501"}
    it = await sup.call("item_accept", ref | {"expected_version": 1, "at": at(2026, 5, 13, 11)}, SYSTEM)
    # accepted late, then silent: the progress period (10 working days from 05-13) ends 05-27 18:00
    silent = await sup.call("sweep_run", {"as_of": at(2026, 5, 28, 10)}, SYSTEM)
    assert silent["cards"] == 1
    item = await sup.call("item_get", {"item_id": it["id"]}, SYSTEM)
    assert [(c["colour"], c["reason"]) for c in item["cards"]] == [("yellow", "未按期推进反馈 (第1期)")]


async def test_the_part_arriving_late_rescores_its_unit_for_the_days_since_the_last_sweep(sup: Sup) -> None:
    it = await scenario(sup)  # 140502's part was due Mon 06-15
    await sup.call("sweep_run", {"as_of": at(2026, 6, 17, 10)}, SYSTEM)
    assert await score_of(sup, "140502", "2026-06") == Decimal("97.5")  # 06-16 counted
    (row,) = await sup.sql("SELECT version FROM item WHERE id = :i", i=it["id"])
    ref = {"item_id": it["id"], "unit_id": "140502", "expected_version": row["version"]}
    part = ref | {"evidence": ["s3://e/part.pdf"], "reason": "排查完成", "at": at(2026, 6, 18, 16)}
    await sup.call("item_part_submit", part, SYSTEM)  # 06-17 ended overdue; no sweep checked it since
    got = await sup.call("sweep_run", {"as_of": at(2026, 6, 18, 17)}, SYSTEM)
    assert got["items"] == 0 and got["scores"] == 2  # nothing due: the transition queued the scores
    assert await score_of(sup, "140502", "2026-06") == Decimal("97.0")  # 06-16 and 06-17, not 06-18
