"""Every lifecycle transition through the RPC, every refused one, compare-and-set, the chained timeline."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kaohe.errors import KaoheError
from tests.supervision.harness import COOP, LEAD, OFFICE, PROVINCE, SYSTEM, Sup, future, item_params


async def step(sup: Sup, method: str, item: dict[str, Any], caller: Any, **p: Any) -> dict[str, Any]:
    params = {"item_id": item["id"], "expected_version": item["version"], **p}
    return await sup.call(method, params, caller)  # type: ignore[no-any-return]


async def new(sup: Sup) -> dict[str, Any]:
    return await sup.create(
        lead={"unit_id": "140501", "task": "牵头整改", "deadline": future(60)},
        cooperating=[{"unit_id": "140502", "task": "配合", "deadline": future(30)}],
        deadline=future(60),
    )


async def test_the_full_path_with_every_transition(sup: Sup) -> None:
    it = await new(sup)
    assert it["status"] == "assigned" and it["version"] == 1 and it["number"].startswith("晋督〔")
    assert it["available_actions"] == ["escalate", "withdraw"]
    seen = await sup.call("item_get", {"item_id": it["id"]}, LEAD)
    assert "accept" in seen["available_actions"]
    it = await step(sup, "item_accept", it, LEAD)
    assert it["status"] == "in_progress"
    it = await step(sup, "item_feedback", it, LEAD, reason="已部署", stage="feedback")
    it = await step(sup, "item_feedback", it, COOP, reason="配合中")
    it = await step(sup, "item_part_submit", it, COOP, evidence=["s3://ev/part.pdf"])
    part = next(t for t in it["cooperating"] if t["unit_id"] == "140502")
    assert part["done_at"] is not None
    it = await step(sup, "item_extension_request", it, LEAD, reason="工程量大", new_deadline=future(90))
    assert it["status"] == "extension_requested"
    it = await step(sup, "item_extension_approve", it, OFFICE, new_deadline=future(80))
    assert it["status"] == "in_progress" and it["deadline"] == future(80)
    assert it["deadlines"] == [future(60), future(80)]  # the old deadline is kept
    it = await step(sup, "item_pause_request", it, LEAD, reason="等待省厅批复")
    it = await step(sup, "item_pause_approve", it, OFFICE, reason="同意")
    assert it["status"] == "paused"
    it = await step(sup, "item_resume", it, OFFICE, reason="已批复")
    it = await step(sup, "item_closure_request", it, LEAD, reason="已完成", evidence=["s3://ev/done.pdf"])
    it = await step(sup, "item_send_back", it, OFFICE, reason="佐证不足")
    assert it["status"] == "in_progress"
    it = await step(sup, "item_closure_request", it, LEAD, reason="补充", evidence=["s3://ev/more.pdf"])
    it = await step(sup, "item_close", it, OFFICE, reason="核实销号")
    assert it["status"] == "closed"
    it = await step(sup, "item_reopen", it, OFFICE, reason="问题反弹", new_deadline=future(100))
    assert it["status"] == "in_progress" and it["cycle"] == 2
    it = await step(sup, "item_withdraw", it, OFFICE, reason="并入他项")
    assert it["status"] == "withdrawn" and it["available_actions"] == []
    actions = [e["action"] for e in it["timeline"]]
    assert actions == [
        "assign",
        "accept",
        "report_progress",
        "report_progress",
        "submit_part",
        "request_extension",
        "approve_extension",
        "request_pause",
        "approve_pause",
        "resume",
        "request_closure",
        "send_back",
        "request_closure",
        "verify_closure",
        "reopen",
        "withdraw",
    ]
    assert it["timeline"][2]["stage"] == "feedback"
    v = await sup.call("timeline_verify", {"item_id": it["id"]})
    assert v == {"item_id": it["id"], "ok": True, "entries": 16, "broken_at": None, "reason": None}
    closed = sup.of("kaohe.supervision.item.closed", item_id=it["id"])
    assert sorted(e.data["outcome"] for e in closed) == ["closed", "withdrawn"]


@pytest.mark.parametrize(
    ("method", "caller", "extra", "code"),
    [
        ("item_close", OFFICE, {"reason": "x"}, "transition_refused"),  # not under review
        ("item_accept", OFFICE, {}, "actor_not_allowed"),  # the office does not 签收
        ("item_accept", COOP, {}, "actor_not_allowed"),  # nor a cooperating unit
        ("item_withdraw", OFFICE, {}, "requirement_missing"),  # a reason is needed
        ("item_withdraw", LEAD, {"reason": "x"}, "actor_not_allowed"),
        ("item_closure_request", LEAD, {"reason": "x", "evidence": ["k"]}, "transition_refused"),
    ],
)
async def test_refused_transitions_change_nothing(
    sup: Sup, method: str, caller: Any, extra: dict[str, Any], code: str
) -> None:
    it = await new(sup)
    with pytest.raises(KaoheError) as e:
        await step(sup, method, it, caller, **extra)
    assert e.value.code == code
    again = await sup.call("item_get", {"item_id": it["id"]})
    assert again["version"] == it["version"] and again["status"] == "assigned"


async def test_more_refusals_name_their_field(sup: Sup) -> None:
    it = await new(sup)
    it = await step(sup, "item_accept", it, LEAD)
    with pytest.raises(KaoheError) as e:  # closure without evidence
        await step(sup, "item_closure_request", it, LEAD, reason="done")
    assert (e.value.code, e.value.field) == ("requirement_missing", "evidence")
    with pytest.raises(KaoheError) as e:  # an extension earlier than the deadline
        await step(sup, "item_extension_request", it, LEAD, reason="x", new_deadline=future(10))
    assert (e.value.code, e.value.field) == ("requirement_missing", "new_deadline")
    with pytest.raises(KaoheError) as e:  # only the system backdates
        await step(sup, "item_feedback", it, LEAD, reason="x", at="2026-01-01T09:00:00+08:00")
    assert (e.value.code, e.value.field) == ("validation_failed", "at")
    with pytest.raises(KaoheError) as e:
        await sup.call(
            "item_create",
            item_params(
                deadline="2026-01-01", lead={"unit_id": "140501", "task": "t", "deadline": "2026-02-01"}
            ),
        )
    assert e.value.code == "item_invalid" and e.value.field == "lead.deadline"
    with pytest.raises(KaoheError) as e:
        await sup.call(
            "item_create", item_params(lead={"unit_id": "nope", "task": "t", "deadline": "2026-06-01"})
        )
    assert (e.value.code, e.value.field) == ("unit_unknown", "lead.unit_id")


async def test_a_number_is_unique_within_its_office(sup: Sup) -> None:
    await sup.create(number="督〔2026〕7号")
    with pytest.raises(KaoheError) as e:
        await sup.create(number="督[2026]第007号")  # the same number as typed differently
    assert (e.value.code, e.value.field) == ("number_taken", "number")
    with pytest.raises(KaoheError) as e:
        await sup.create(number="2026-7")
    assert (e.value.code, e.value.field) == ("number_invalid", "number")


async def test_a_stale_version_is_a_conflict(sup: Sup) -> None:
    it = await new(sup)
    await step(sup, "item_accept", it, LEAD)
    with pytest.raises(KaoheError) as e:
        await step(sup, "item_withdraw", it, OFFICE, reason="x")  # still at version 1
    assert (e.value.code, e.value.field) == ("stale_state", "version")


async def test_of_two_concurrent_transitions_one_wins(sup: Sup) -> None:
    it = await new(sup)
    it = await step(sup, "item_accept", it, LEAD)
    results = await asyncio.gather(
        step(sup, "item_withdraw", it, OFFICE, reason="撤销"),
        step(sup, "item_feedback", it, LEAD, reason="进展"),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0], KaoheError) and lost[0].code == "stale_state"
    final = await sup.call("item_get", {"item_id": it["id"]})
    assert final["version"] == 3 and len(final["timeline"]) == 3


async def test_escalation_opens_a_draft_at_the_higher_office(sup: Sup) -> None:
    it = await new(sup)
    it = await step(sup, "item_escalate", it, OFFICE, reason="涉及跨市协调, 本级无法解决")
    assert it["status"] == "escalated" and it["escalated_to"]
    up = await sup.call("item_get", {"item_id": it["escalated_to"]}, SYSTEM)
    assert up["office_id"] == "14" and up["status"] == "draft" and up["parent_id"] == it["id"]
    # each office numbers its own items (the province's first, too) under its own prefix: never the same
    assert (up["number"], it["number"]) == ("省督〔2026〕1号", "晋督〔2026〕1号")
    city = await sup.call("item_get", {"item_id": it["escalated_to"]}, OFFICE)
    assert city["available_actions"] == []  # the city office reads it (its unit leads) but does not manage it
    prov = await sup.call("item_get", {"item_id": it["escalated_to"]}, PROVINCE)
    assert "assign" in prov["available_actions"]


async def test_rejections_a_cooperating_extension_and_resuming_an_escalation(sup: Sup) -> None:
    it = await new(sup)
    it = await step(sup, "item_accept", it, LEAD)
    it = await step(sup, "item_extension_request", it, COOP, reason="材料未到", new_deadline=future(40))
    assert it["status"] == "extension_requested"
    it = await step(sup, "item_extension_reject", it, OFFICE, reason="不予延期")
    assert it["status"] == "in_progress" and it["cooperating"][0]["deadline"] == future(30)
    it = await step(sup, "item_extension_request", it, COOP, reason="材料未到", new_deadline=future(40))
    it = await step(sup, "item_extension_approve", it, OFFICE, new_deadline=future(45))
    part = next(c for c in it["clocks"] if c["kind"] == "part" and c["state"] == "running")
    assert part["unit_id"] == "140502" and part["due_at"][:10] >= future(45)  # the part's new sub-deadline
    assert it["deadline"] == future(60)  # the item's own deadline is unchanged
    it = await step(sup, "item_pause_request", it, LEAD, reason="等待批复")
    it = await step(sup, "item_pause_reject", it, OFFICE, reason="不符合暂停条件")
    assert it["status"] == "in_progress"
    it = await step(sup, "item_escalate", it, OFFICE, reason="需市政府研究")
    it = await step(sup, "item_resume", it, OFFICE, reason="已研究, 继续办理")
    assert it["status"] == "in_progress"
    entries = [(e["action"], e["actor"], e["unit_id"]) for e in it["timeline"]]
    assert ("request_extension", "cooperating", "140502") in entries
    with pytest.raises(KaoheError) as e:  # the tasks of an assigned item are not re-assigned
        await step(
            sup,
            "item_assign",
            it,
            OFFICE,
            lead={"unit_id": "140503", "task": "t", "deadline": future(9)},
            deadline=future(9),
        )
    assert e.value.code == "transition_refused"
    assert (await sup.call("item_get", {"item_id": it["id"]}))["lead"]["unit_id"] == "140501"
