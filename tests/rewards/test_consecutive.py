"""Consecutive-period rules read earlier published years (两年末位 → 调整建议, 三年优秀 → 记三等功)."""

from __future__ import annotations

from tests.rewards.scenario import activate, by, registry
from tests.support.rewards import HR, Rewards

ADJUST = {
    "kind": "cadre",
    "id": "adjust",
    "basis": "晋城市 连续两年排名末位的单位主要负责人 调整建议",
    "consequence": "调整建议",
    "period_kind": "year",
    "condition": {"bottom": 1},
    "consecutive": 2,
}
MERIT = {
    "kind": "streak",
    "id": "merit3",
    "basis": "公务员奖励规定 连续三年优秀 记三等功",
    "subject": "person",
    "proposal": "记三等功",
    "period_kind": "year",
    "periods": 3,
    "grades": ["优秀"],
}


def year(bottom: str) -> list[dict]:
    others = [u for u in ("140501", "140502", "140503") if u != bottom]
    return [
        {"unit_id": others[0], "grade": "优秀", "rank": 1, "of": 3},
        {"unit_id": others[1], "grade": "良好", "rank": 2, "of": 3},
        {"unit_id": bottom, "grade": "一般", "rank": 3, "of": 3},
    ]


async def test_two_years_at_the_bottom_and_three_years_excellent(rewards: Rewards) -> None:
    rw = rewards
    s2025 = await rw.scheme(2025)
    s2026 = await rw.scheme(2026)
    keys = await registry(rw, period="2026")  # A 优秀, B 良好, D 一般 in 2026
    for period, grades in (("2024", {"A": "优秀", "B": "优秀"}), ("2025", {"A": "优秀", "B": "良好"})):
        items = [{"person_key": keys[w], "grade": g} for w, g in grades.items()]
        await rw.call("person_grades_set", {"period": period, "items": items}, HR)
    await activate(rw, [ADJUST, MERIT])
    await rw.publish(s2025, "2025", year(bottom="140503"))
    await rw.publish(s2025, "2025-Q4", year(bottom="140502"))  # a quarter: not a year, never counted
    snap = await rw.publish(s2026, "2026", year(bottom="140503"))
    s = await rw.current_set(snap.snapshot_id)
    lines = await rw.lines(s["set_id"])
    adjust = by(lines, consequence="调整建议")
    assert [(x["person_key"], x["unit_id"]) for x in adjust] == [(keys["C"], "140503")]
    assert [r["period"] for r in adjust[0]["inputs"]["consecutive"]] == ["2026", "2025"]
    assert any("连续 2 期" in t for t in adjust[0]["explanation"])
    merit = by(lines, consequence="记三等功")
    assert [x["person_key"] for x in merit] == [keys["A"]]  # B's 2025 良好 breaks the run
    assert [r["period"] for r in merit[0]["inputs"]["consecutive"]] == ["2026", "2025", "2024"]


async def test_one_year_at_the_bottom_is_not_enough(rewards: Rewards) -> None:
    rw = rewards
    s2025 = await rw.scheme(2025)
    s2026 = await rw.scheme(2026)
    await registry(rw, period="2026")
    await activate(rw, [ADJUST])
    await rw.publish(s2025, "2025", year(bottom="140502"))
    snap = await rw.publish(s2026, "2026", year(bottom="140503"))
    s = await rw.current_set(snap.snapshot_id)
    assert by(await rw.lines(s["set_id"]), consequence="调整建议") == []
