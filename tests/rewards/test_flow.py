"""A published quarter becomes proposals, is approved at two levels, and lands in the ledger."""

from __future__ import annotations

from kaohe.contracts.rewards import PayApproved, ProposalApproved, ProposalAwaiting
from tests.conftest import eventually
from tests.rewards.scenario import Q1, activate, by, registry
from tests.support.rewards import OFFICE, ORG, Rewards
from tests.support.scoring import Events


async def test_a_quarter_applied_to_pay_honours_and_cadres(rewards: Rewards, events: Events) -> None:
    rw = rewards
    sid = await rw.scheme()
    keys = await registry(rw)
    await activate(rw)
    snap = await rw.publish(sid, "2026-Q1", Q1)
    s = await rw.current_set(snap.snapshot_id)
    assert (s["status"], s["level"], s["levels"], s["pool_error_fen"]) == ("pending", 0, 2, 0)
    lines = await rw.lines(s["set_id"])
    pay = {x["person_key"]: x["amount_fen"] for x in by(lines, kind="pay")}
    # 甲镇: base (5,000 + 3,000 元) × 3 months = 2,400,000 fen × 考核系数 1.2 (招商) = 2,880,000; 20% withheld
    # and all of it released (优秀). Weights: A 1,500,000 × 1.1 = 1,650,000; B 900,000 × 1.0. A's exact share
    # 2,880,000 × 1,650,000 / 2,550,000 = 1,863,529.41…, B's 1,016,470.58…: floors leave 1 fen, which goes
    # to the larger remainder (B).
    assert pay[keys["A"]] == 1_863_529
    assert pay[keys["B"]] == 1_016_471
    # 乙镇 (良好): base 4,000 元 × 3 = 1,200,000; 240,000 withheld and released: D is paid all of it
    assert pay[keys["D"]] == 1_200_000
    # 丙镇 (较差, 末位): 末位零绩效 — C is paid nothing, the whole 900,000 stays withheld
    assert pay[keys["C"]] == 0
    zeroed = by(lines, kind="zeroed", unit_id="140503")
    assert [z["amount_fen"] for z in zeroed] == [900_000]
    # 提醒谈话 for 丙镇's head only (乙镇 is 良好); 先进单位 for the two 优秀 units
    assert [(x["person_key"], x["consequence"]) for x in by(lines, kind="cadre")] == [(keys["C"], "提醒谈话")]
    assert sorted(x["unit_id"] for x in by(lines, kind="honour")) == ["140501", "140504"]
    a = by(lines, kind="pay", person_key=keys["A"])[0]
    assert a["basis"] == "《恒口示范区薪酬绩效考核办法》第五条" and a["snapshot_digest"] == snap.digest
    assert a["inputs"]["grade"] == "优秀" and any("最大余数法" in t for t in a["explanation"])
    assert s["pool_fen"] == 2_880_000 + 1_200_000 + 900_000
    assert s["paid_fen"] + s["withheld_fen"] == s["pool_fen"]

    await eventually(lambda: _has(events, ProposalAwaiting.TYPE), what="proposal.awaiting")
    first = await rw.call(
        "proposal_set_approve", {"set_id": s["set_id"], "expected_version": 1, "level": 1}, OFFICE
    )
    assert (first["status"], first["level"]) == ("reviewed", 1)
    done = await rw.call(
        "proposal_set_approve", {"set_id": s["set_id"], "expected_version": first["version"], "level": 2}, ORG
    )
    assert (done["status"], done["level"]) == ("approved", 2)

    ledger = await rw.call("ledger_person", {"person_key": keys["A"]}, ORG)
    assert [(e["entry"], e["amount_fen"], e["consequence"]) for e in ledger["items"]] == [
        ("applied", 1_863_529, "绩效工资")
    ]
    verdict = await rw.call("ledger_verify", {}, ORG)
    assert verdict["ok"] and verdict["entries"] >= len(lines)

    await eventually(lambda: _has(events, PayApproved.TYPE), what="pay.approved")
    paid = [ln for e in events.of(PayApproved.TYPE) for ln in e.data["lines"]]
    assert {ln["person_key"]: ln["amount_fen"] for ln in paid} == pay
    assert {ln["unit_path"] for ln in paid if ln["unit_id"] == "140501"} == {"/14/1405/140501/"}
    approved = [u for e in events.of(ProposalApproved.TYPE) for u in e.data["units"]]
    assert all(u["paid_fen"] + u["withheld_fen"] == u["pool_fen"] for u in approved)


async def _has(events: Events, etype: str) -> bool:
    return bool(events.of(etype))
