"""Submissions (填报) and review (审核): value checks, flags, two levels, locking, reopen, conflicts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from nats.js import JetStreamContext

from kaohe.contracts.events import payload_of
from kaohe.errors import KaoheError
from kaohe.events import CloudEvent
from kaohe.identity import Role
from tests.conftest import Namespace, eventually
from tests.support.indicators import OFFICE, Running, caller, published_city

REPORTER = caller(Role.reporter, org="/14/1405/140502/", user="chengqu")
DEPT = caller(Role.department, org="/14/1405/", user="fagai", codes=("K0101", "K0102"))
DEPT2 = caller(Role.department, org="/14/1405/", user="fagai-2", codes=("K0101", "K0102"))


async def submit(svc: Running, value: float, period: str = "2026-Q1", code: str = "K0102", **kw: Any) -> dict:
    return await svc.call(
        "submission_create",
        kw.pop("who", REPORTER),
        unit_id="140502",
        indicator_code=code,
        period=period,
        value=value,
        **kw,
    )


async def test_values_are_checked_and_outliers_flagged(svc: Running) -> None:
    await published_city(svc)
    with pytest.raises(KaoheError) as e:  # 党风廉政 counts occurrences: integers only
        await svc.call(
            "submission_create",
            REPORTER,
            unit_id="140502",
            indicator_code="D0102",
            period="2026-Q1",
            value=1.5,
        )
    assert (e.value.code, e.value.field) == ("not_an_integer", "value")
    with pytest.raises(KaoheError) as e:
        await submit(svc, 5.0, code="NOPE")
    assert e.value.code == "not_found" and e.value.field == "indicator_code"
    with pytest.raises(KaoheError) as e:
        await submit(svc, 5.0, period="2026-13")
    assert e.value.code == "validation_failed" and e.value.field == "period"
    first = await submit(svc, 5.0, period="2026-Q1")
    assert first["flags"] == [] and first["assessing_unit"] == "1405" and first["scheme_version"] == 1
    jump = await submit(svc, 40.0, period="2026-Q2")  # 8× the previous quarter
    assert [f["code"] for f in jump["flags"]] == ["outlier_change"]
    with pytest.raises(KaoheError) as e:
        await submit(svc, 6.0, period="2026-Q1")
    assert e.value.code == "submission_exists"


async def test_two_level_review_reject_reopen_are_recorded(
    svc: Running, js: JetStreamContext, ns: Namespace
) -> None:
    await published_city(svc, second_review=True)
    sub = await submit(svc, 7.2)
    rej = await svc.call(
        "submission_reject", DEPT, submission_id=sub["id"], reason="口径不对，请按统计局数据"
    )
    assert (rej["status"], rej["reason"]) == ("rejected", "口径不对，请按统计局数据")
    with pytest.raises(KaoheError) as e:
        await svc.call("submission_reject", DEPT, submission_id=sub["id"], reason="")
    assert e.value.code == "validation_failed" and e.value.field == "reason"
    upd = await svc.call(
        "submission_update", REPORTER, submission_id=sub["id"], expected_version=rej["version"], value=7.5
    )
    assert (upd["status"], upd["value"]) == ("submitted", 7.5)
    lvl1 = await svc.call("submission_approve", DEPT, submission_id=sub["id"])
    assert (lvl1["status"], lvl1["review_level"], lvl1["final"]) == ("reviewed", 1, False)
    with pytest.raises(KaoheError) as e:  # a department cannot give the 考核办's second approval
        await svc.call("submission_approve", DEPT2, submission_id=sub["id"])
    assert e.value.code == "review_conflict"
    again = await svc.call("submission_approve", DEPT, submission_id=sub["id"])  # DEPT's own, retried
    assert (again["status"], again["version"]) == ("reviewed", lvl1["version"])
    final = await svc.call("submission_approve", OFFICE, submission_id=sub["id"])
    assert (final["status"], final["review_level"], final["final"]) == ("approved", 2, True)
    with pytest.raises(KaoheError) as e:
        await svc.call(
            "submission_update",
            REPORTER,
            submission_id=sub["id"],
            expected_version=final["version"],
            value=9.0,
        )
    assert e.value.code == "submission_locked"
    with pytest.raises(KaoheError) as e:
        await svc.call("submission_reopen", DEPT, submission_id=sub["id"], reason="x")
    assert e.value.code == "forbidden_role"
    reo = await svc.call(
        "submission_reopen", OFFICE, submission_id=sub["id"], reason="统计局修订了一季度数据"
    )
    assert reo["status"] == "reopened"
    got = await svc.call("submission_get", OFFICE, submission_id=sub["id"])
    assert [(h["action"], h["actor"], h["reason"]) for h in got["history"]] == [
        ("submitted", "chengqu", None),
        ("rejected", "fagai", "口径不对，请按统计局数据"),
        ("updated", "chengqu", None),
        ("reviewed", "fagai", None),
        ("approved", "kaohe-ban", None),
        ("reopened", "kaohe-ban", "统计局修订了一季度数据"),
    ]
    assert [h["version"] for h in got["history"]] == [1, 2, 3, 4, 5, 6]

    stream = await js.pull_subscribe(f"{ns.prefix}.indicators.submission.>", durable=None)
    events: list[dict] = []

    async def all_six() -> bool:
        try:
            events.extend(json.loads(m.data) for m in await stream.fetch(20, timeout=0.5))
        except TimeoutError:
            pass
        return len(events) >= 6

    await eventually(all_six, what="six submission events")
    kinds = [(e["type"].rsplit(".", 1)[1], e["data"]["revision"]) for e in events]
    assert kinds == [
        ("submitted", 1),
        ("rejected", 2),
        ("submitted", 3),
        ("approved", 4),
        ("approved", 5),
        ("reopened", 6),
    ]
    approved = events[4]["data"]
    assert (approved["review_level"], approved["final"], approved["value"], approved["code"]) == (
        2,
        True,
        7.5,
        "K0102",
    )
    assert (approved["assessing_unit"], approved["year"], approved["unit_path"]) == (
        "1405",
        2026,
        "/14/1405/140502/",
    )
    assert approved["unit_name"] == "城区"
    assert approved["indicator"]["code"] == "K0102" and approved["indicator"]["weight"] == 30
    assert (
        approved["indicator"]["target"] == 8.0
        and approved["indicator"]["standard"]["type"] == "completion_ratio"
    )
    # every event is its contract model (kaohe.contracts.indicators), the leaf code under `code` only
    for e in events:
        assert type(payload_of(CloudEvent.model_validate(e))).TYPE == e["type"]
        assert "indicator_code" not in e["data"]
    assert events[5]["data"]["reason"] == "统计局修订了一季度数据"
    assert events[3]["data"]["final"] is False


async def test_concurrent_approvals_one_wins_the_other_gets_review_conflict(svc: Running) -> None:
    await published_city(svc)
    for i in range(5):  # several rounds: the race must resolve the same way every time
        sub = await submit(svc, 7.0, period=f"2026-0{i + 1}")
        results = await asyncio.gather(
            svc.call("submission_approve", DEPT, submission_id=sub["id"], expected_version=1),
            svc.call("submission_reject", DEPT2, submission_id=sub["id"], expected_version=1, reason="不对"),
            return_exceptions=True,
        )
        wins = [r for r in results if isinstance(r, dict)]
        losses = [r for r in results if isinstance(r, KaoheError)]
        assert len(wins) == 1 and len(losses) == 1, results
        assert losses[0].code == "review_conflict"
        state = await svc.call("submission_get", OFFICE, submission_id=sub["id"])
        assert state["status"] == wins[0]["status"] and state["version"] == 2
        assert len(state["history"]) == 2


async def test_department_reviews_only_its_own_indicators(svc: Running) -> None:
    await published_city(svc)
    sub = await svc.call(
        "submission_create", REPORTER, unit_id="140502", indicator_code="D0101", period="2026-Q1", value=90
    )
    with pytest.raises(KaoheError) as e:
        await svc.call("submission_approve", DEPT, submission_id=sub["id"])
    assert e.value.code == "forbidden_indicator"


async def test_out_of_scope_access_is_denied_for_every_submission_method(svc: Running) -> None:
    await published_city(svc)
    sub = await submit(svc, 7.0)
    zezhou = caller(Role.reporter, Role.department, Role.assessment_office, org="/14/1405/140525/")
    calls = [
        (
            "submission_create",
            {"unit_id": "140502", "indicator_code": "K0102", "period": "2026-Q2", "value": 1},
        ),
        ("submission_update", {"submission_id": sub["id"], "expected_version": 1, "value": 2}),
        ("submission_get", {"submission_id": sub["id"]}),
        ("submission_approve", {"submission_id": sub["id"]}),
        ("submission_reject", {"submission_id": sub["id"], "reason": "x"}),
        ("submission_reopen", {"submission_id": sub["id"], "reason": "x"}),
        ("submissions_list", {"unit_id": "140502"}),
    ]
    for method, params in calls:
        with pytest.raises(KaoheError) as e:
            await svc.call(method, zezhou, **params)
        assert e.value.code == "not_found", method
    assert (await svc.call("submissions_list", zezhou))["items"] == []
    mine = await svc.call("submissions_list", REPORTER, period="2026-Q1")
    assert [s["id"] for s in mine["items"]] == [sub["id"]]


async def test_bulk_approve_decides_each_submission_like_a_single_approval(svc: Running) -> None:
    await published_city(svc, second_review=True)
    k1 = await submit(svc, 7.0, period="2026-01")
    k2 = await submit(svc, 7.5, period="2026-02")
    done = await submit(svc, 8.0, period="2026-03")
    d = await svc.call(
        "submission_create", REPORTER, unit_id="140502", indicator_code="D0101", period="2026-Q1", value=90
    )
    await svc.call("submission_approve", DEPT, submission_id=done["id"])
    ids = [k1["id"], "nope", d["id"], done["id"], k2["id"]]
    res = await svc.call("submission_bulk_approve", DEPT, ids=ids, reason="批量审核通过")
    got = [(x["id"], x["ok"], (x["error"] or {}).get("code")) for x in res["items"]]
    assert got == [
        (k1["id"], True, None),
        ("nope", False, "not_found"),
        (d["id"], False, "forbidden_indicator"),  # D0101 is not the 发改委's
        (done["id"], False, "review_conflict"),  # already reviewed at level 1: the 考核办's turn
        (k2["id"], True, None),
    ]
    first = res["items"][0]["submission"]
    assert (first["status"], first["review_level"], first["final"], first["version"]) == (
        "reviewed",
        1,
        False,
        2,
    )
    final = await svc.call("submission_bulk_approve", OFFICE, ids=[k1["id"], k2["id"], done["id"]])
    assert [x["submission"]["status"] for x in final["items"]] == ["approved"] * 3
    state = await svc.call("submission_get", OFFICE, submission_id=k1["id"])
    assert [(h["action"], h["actor"], h["version"]) for h in state["history"]] == [
        ("submitted", "chengqu", 1),
        ("reviewed", "fagai", 2),
        ("approved", "kaohe-ban", 3),
    ]
    with pytest.raises(KaoheError) as e:
        await svc.call("submission_bulk_approve", REPORTER, ids=[k1["id"]])
    assert e.value.code == "forbidden_role"


async def test_a_retried_decision_succeeds_and_a_different_one_still_conflicts(svc: Running) -> None:
    await published_city(svc)
    sub = await submit(svc, 7.0)
    params = {"submission_id": sub["id"], "expected_version": 1}
    # the first attempt's answer is lost: the caller sees upstream_timeout, the service carries on
    with pytest.raises(KaoheError) as e:
        await svc.client.call("indicators", "submission_approve", params, DEPT, timeout_s=0.001)
    assert e.value.code == "upstream_timeout"
    again = await svc.call("submission_approve", DEPT, **params)  # the identical decision, retried
    assert (again["status"], again["version"], again["reviewed_by"]) == ("approved", 2, "fagai")
    assert await svc.call("submission_approve", DEPT, **params) == again  # and once more: same answer
    state = await svc.call("submission_get", OFFICE, submission_id=sub["id"])
    assert [h["action"] for h in state["history"]] == ["submitted", "approved"]  # decided once
    for who, method, kw in (
        (DEPT2, "submission_approve", {}),  # another reviewer's decision
        (DEPT, "submission_reject", {"reason": "不对"}),  # a different decision by the same reviewer
    ):
        with pytest.raises(KaoheError) as e:
            await svc.call(method, who, **params, **kw)
        assert e.value.code == "review_conflict", (who.user_id, method)
    rej = await submit(svc, 7.0, period="2026-Q2")
    first = await svc.call("submission_reject", DEPT, submission_id=rej["id"], reason="口径不符")
    assert await svc.call("submission_reject", DEPT, submission_id=rej["id"], reason="口径不符") == first
    with pytest.raises(KaoheError) as e:  # the same verb with another reason is another decision
        await svc.call("submission_reject", DEPT, submission_id=rej["id"], reason="数据有误")
    assert e.value.code == "review_conflict"
    bulk = await submit(svc, 7.0, period="2026-Q3")
    one = await svc.call("submission_bulk_approve", DEPT, ids=[bulk["id"]])
    two = await svc.call("submission_bulk_approve", DEPT, ids=[bulk["id"]])
    assert one["items"][0]["ok"] and two == one
    other = await svc.call("submission_bulk_approve", DEPT2, ids=[bulk["id"]])
    assert other["items"][0]["error"]["code"] == "review_conflict"


async def test_the_skeleton_standalone_indicator_is_gone(svc: Running) -> None:
    """No indicator_create RPC, and a code no published scheme asks for is not found (no legacy fallback)."""
    with pytest.raises(KaoheError) as e:
        await svc.call("indicator_create", OFFICE, code="FAI", name="固定资产投资增速", weight=10, target=8)
    assert e.value.code == "unknown_method"
    await published_city(svc)
    with pytest.raises(KaoheError) as e:
        await submit(svc, 7.2, code="FAI", period="2026-Q3")
    assert (e.value.code, e.value.field) == ("not_found", "indicator_code")
