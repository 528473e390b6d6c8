"""Approval (审批): reasons required, pools kept whole, levels in order by different people, CAS."""

from __future__ import annotations

import asyncio

from kaohe.errors import KaoheError
from kaohe.identity import Caller, Role
from tests.rewards.scenario import Q1, activate, by, registry
from tests.support.rewards import OFFICE, ORG, Rewards


async def _set(rw: Rewards) -> tuple[dict, dict[str, str]]:
    sid = await rw.scheme()
    keys = await registry(rw)
    await activate(rw)
    snap = await rw.publish(sid, "2026-Q1", Q1)
    return await rw.current_set(snap.snapshot_id), keys


async def test_an_adjustment_needs_a_reason_and_keeps_the_pool_whole(rewards: Rewards) -> None:
    rw = rewards
    s, keys = await _set(rw)
    lines = await rw.lines(s["set_id"])
    b = by(lines, kind="pay", person_key=keys["B"])[0]
    for reason in ("", " ", "x"):
        err = await rw.error(
            "proposal_line_adjust",
            {"set_id": s["set_id"], "line_id": b["line_id"], "expected_version": 1, "amount_fen": 1_000_000,
             "reason": reason},
        )  # fmt: skip
        assert (err.code, err.field) == ("reason_required", "reason")
    # 甲镇 pays out its whole pool (everything withheld was released): no fen left to raise B
    err = await rw.error(
        "proposal_line_adjust",
        {"set_id": s["set_id"], "line_id": b["line_id"], "expected_version": 1, "amount_fen": 1_016_472,
         "reason": "补发"},
    )  # fmt: skip
    assert (err.code, err.field) == ("pool_exceeded", "amount_fen")
    after = await rw.call(
        "proposal_line_adjust",
        {"set_id": s["set_id"], "line_id": b["line_id"], "expected_version": 1, "amount_fen": 1_000_000,
         "reason": "按实际出勤核减"},
    )  # fmt: skip
    assert after["version"] == 2
    assert after["paid_fen"] == s["paid_fen"] - 16_471 and after["withheld_fen"] == s["withheld_fen"] + 16_471
    assert after["paid_fen"] + after["withheld_fen"] == after["pool_fen"]
    got = by(await rw.lines(s["set_id"], unit_id="140501"), kind="pay", person_key=keys["B"])[0]
    assert (got["amount_fen"], got["computed_fen"]) == (1_000_000, 1_016_471)
    assert any("审核调整" in t for t in got["explanation"])
    # a consequence can only be dropped, not priced
    talk = by(lines, kind="cadre")[0]
    err = await rw.error(
        "proposal_line_adjust",
        {"set_id": s["set_id"], "line_id": talk["line_id"], "expected_version": 2, "amount_fen": 5,
         "reason": "不适用"},
    )  # fmt: skip
    assert err.code == "not_money"


async def test_levels_in_order_by_two_people_and_problems_first(rewards: Rewards) -> None:
    rw = rewards
    s, _ = await _set(rw)
    sid = s["set_id"]
    err = await rw.error("proposal_set_approve", {"set_id": sid, "expected_version": 1, "level": 2})
    assert err.code == "wrong_level"
    one = await rw.call("proposal_set_approve", {"set_id": sid, "expected_version": 1, "level": 1}, OFFICE)
    err = await rw.error(
        "proposal_set_approve", {"set_id": sid, "expected_version": one["version"], "level": 2}
    )
    assert err.code == "same_reviewer"
    rejected = await rw.call(
        "proposal_set_reject",
        {"set_id": sid, "expected_version": one["version"], "reason": "名册未更新"},
        ORG,
    )
    assert rejected["status"] == "rejected"
    err = await rw.error(
        "proposal_set_approve", {"set_id": sid, "expected_version": rejected["version"], "level": 2}
    )
    assert err.code == "set_closed"


async def test_problems_block_approval_until_resolved(rewards: Rewards) -> None:
    rw = rewards
    sid = await rw.scheme()
    await registry(rw)
    capped = {
        "kind": "quarterly_pay",
        "id": "qpay",
        "basis": "《办法》第五条",
        "adjust": {"优秀": "0.10"},
        "caps": [{"grade": "优秀", "max_count": 0, "scope": "all"}],
    }
    await activate(rw, [capped])
    snap = await rw.publish(sid, "2026-Q1", Q1)
    s = await rw.current_set(snap.snapshot_id)
    assert [p["code"] for p in s["problems"]] == ["cap_exceeded"]
    err = await rw.error("proposal_set_approve", {"set_id": s["set_id"], "expected_version": 1, "level": 1})
    assert err.code == "problems_open" and err.details == [{"problem_id": 1}]
    s = await rw.call(
        "proposal_problem_resolve",
        {"set_id": s["set_id"], "problem_id": 1, "expected_version": 1, "reason": "经党组会研究同意"},
    )
    assert s["problems"][0]["resolution"] == "经党组会研究同意"
    ok = await rw.call("proposal_set_approve", {"set_id": s["set_id"], "expected_version": 2, "level": 1})
    assert ok["status"] == "reviewed"


async def test_concurrent_approvals_one_wins(rewards: Rewards) -> None:
    rw = rewards
    s, _ = await _set(rw)
    callers = [
        Caller(user_id=f"office-{n}", roles=frozenset({Role.assessment_office}), org_path="/14/1405/")
        for n in range(4)
    ]
    params = {"set_id": s["set_id"], "expected_version": 1, "level": 1}
    got = await asyncio.gather(
        *(rw.call("proposal_set_approve", params, c) for c in callers), return_exceptions=True
    )
    wins = [g for g in got if isinstance(g, dict)]
    losses = [g for g in got if isinstance(g, KaoheError)]
    assert len(wins) == 1 and len(losses) == 3
    assert {e.code for e in losses} == {"version_conflict"}
    final = await rw.call("proposal_set_get", {"set_id": s["set_id"]}, ORG)
    assert (
        final["level"],
        final["version"],
        len([r for r in final["reviews"] if r["decision"] == "approved"]),
    ) == (
        1,
        2,
        1,
    )
