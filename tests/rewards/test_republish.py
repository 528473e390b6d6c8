"""Only published snapshots count: duplicates apply once, preliminary scores are ignored, and a period
re-published after an upheld objection reverses and re-enters the ledger instead of editing it."""

from __future__ import annotations

import asyncpg

from kaohe.contracts.scoring import ScoreUpdated
from kaohe.db import asyncpg_dsn
from tests.conftest import eventually
from tests.rewards.scenario import Q1, activate, by, registry
from tests.support.rewards import OFFICE, ORG, Rewards


async def _approve(rw: Rewards, set_id: int) -> dict:
    """Settle the set's problems (with reasons), then pass both levels."""
    s = await rw.call("proposal_set_get", {"set_id": set_id}, ORG)
    for p in s["problems"]:
        s = await rw.call(
            "proposal_problem_resolve",
            {"set_id": set_id, "problem_id": p["problem_id"], "expected_version": s["version"],
             "reason": "乙镇无主要负责人在册，提醒谈话另行安排"},
            OFFICE,
        )  # fmt: skip
    s = await rw.call(
        "proposal_set_approve", {"set_id": set_id, "expected_version": s["version"], "level": 1}, OFFICE
    )
    return await rw.call(  # type: ignore[no-any-return]
        "proposal_set_approve", {"set_id": set_id, "expected_version": s["version"], "level": 2}, ORG
    )


async def test_preliminary_scores_are_ignored_and_a_duplicate_applies_once(
    rewards: Rewards, database_url: str
) -> None:
    rw = rewards
    sid = await rw.scheme()
    await registry(rw)
    await activate(rw)
    for n, unit in enumerate(("140501", "140502")):  # preliminary: no rank, no grade — and never read
        await rw.send(
            ScoreUpdated(unit_id=unit, unit_path=f"/14/1405/{unit}/", scheme_id=sid, period="2026-Q1",
                         total=80.0 + n, version=1, cause_event=f"e{n}"),
            f"{unit}:2026-Q1",
        )  # fmt: skip
    snap = await rw.publish(sid, "2026-Q1", Q1, event_id="results-1")
    await rw.publish(
        sid, "2026-Q1", Q1, event_id="results-1", snapshot_id=snap.snapshot_id, digest=snap.digest
    )
    # the same snapshot again under a new event id (a replay by the producer) is a duplicate too
    await rw.publish(sid, "2026-Q1", Q1, snapshot_id=snap.snapshot_id, digest=snap.digest)
    marker = await rw.publish(sid, "2026-Q2", Q1)  # processed after the duplicates: the consumer is past them
    await rw.current_set(marker.snapshot_id)
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        snaps = await conn.fetch("SELECT snapshot_id, period FROM rewards.snapshot ORDER BY period")
        sets = await conn.fetch("SELECT snapshot_id FROM rewards.proposal_set WHERE period = '2026-Q1'")
    finally:
        await conn.close()
    assert [(r["snapshot_id"], r["period"]) for r in snaps] == [
        (snap.snapshot_id, "2026-Q1"),
        (marker.snapshot_id, "2026-Q2"),
    ]
    assert [r["snapshot_id"] for r in sets] == [snap.snapshot_id]


async def test_a_republished_period_reverses_and_reenters(rewards: Rewards) -> None:
    rw = rewards
    sid = await rw.scheme()
    keys = await registry(rw)
    await activate(rw)
    first = await rw.publish(sid, "2026-Q1", Q1)
    s1 = await rw.current_set(first.snapshot_id)
    await _approve(rw, s1["set_id"])
    # objection upheld: 乙镇 drops to 较差 (last), 丙镇 rises to 良好
    q1b = [
        {"unit_id": "140501", "grade": "优秀", "rank": 1, "of": 3},
        {"unit_id": "140502", "grade": "较差", "rank": 3, "of": 3, "last_place": False},
        {"unit_id": "140503", "grade": "良好", "rank": 2, "of": 3},
        {"unit_id": "140504", "grade": "优秀", "rank": 1, "of": 1, "category": "街道"},
    ]
    second = await rw.publish(sid, "2026-Q1", q1b)
    s2 = await rw.current_set(second.snapshot_id)
    await _approve(rw, s2["set_id"])

    d = (await rw.call("ledger_person", {"person_key": keys["D"]}, ORG))["items"]
    # D (乙镇): 1,200,000 first; then 乙镇 较差 releases none of the 240,000 withheld: 960,000
    assert [(e["entry"], e["amount_fen"]) for e in d] == [
        ("applied", 1_200_000),
        ("reversal", -1_200_000),
        ("applied", 960_000),
    ]
    assert d[1]["reverses"] == d[0]["hash"] and d[2]["snapshot_digest"] == second.digest
    c = (await rw.call("ledger_person", {"person_key": keys["C"]}, ORG))["items"]
    # C (丙镇 head): 0 pay and 提醒谈话 first; then 良好: 900,000 (180,000 withheld, all released), no talk
    talk = by(c, consequence="提醒谈话")
    assert [(e["entry"]) for e in talk] == ["applied", "reversal"]
    assert [(e["entry"], e["amount_fen"]) for e in by(c, consequence="绩效工资")] == [
        ("applied", 0),
        ("reversal", 0),
        ("applied", 900_000),
    ]
    a = (await rw.call("ledger_person", {"person_key": keys["A"]}, ORG))["items"]
    assert len(a) == 1  # unchanged lines append nothing
    verdict = await rw.call("ledger_verify", {}, ORG)
    assert verdict["ok"], verdict
    old = await rw.call("proposal_set_get", {"set_id": s1["set_id"]}, ORG)
    assert old["superseded_by"] == s2["set_id"]
    snaps = (await rw.call("snapshots_list", {}, ORG))["items"]
    assert {x["snapshot_id"]: x["superseded_by"] for x in snaps}[first.snapshot_id] == second.snapshot_id


async def test_an_unapproved_set_gives_way_to_a_republished_snapshot(rewards: Rewards) -> None:
    rw = rewards
    sid = await rw.scheme()
    await registry(rw)
    await activate(rw)
    first = await rw.publish(sid, "2026-Q1", Q1)
    s1 = await rw.current_set(first.snapshot_id)
    second = await rw.publish(sid, "2026-Q1", list(reversed(Q1)))
    await rw.current_set(second.snapshot_id)

    async def superseded() -> bool:
        return (await rw.call("proposal_set_get", {"set_id": s1["set_id"]}, ORG))["status"] == "superseded"

    await eventually(superseded, what="the first set superseded")
    err = await rw.error("proposal_set_approve", {"set_id": s1["set_id"], "expected_version": 2, "level": 1})
    assert err.code == "set_closed"
