"""Office writes to a results book need a caller whose subtree covers the book's assessing unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kaohe.errors import KaoheError
from kaohe.identity import Caller, Role
from tests.conftest import eventually
from tests.support.scoring import OFFICE, SCHEME, Scoring, fill, totals

pytestmark = pytest.mark.asyncio

# The city's book is assessed by 1405 (/14/1405/). A sibling city's office and a township's office inside
# 1405 both hold the office role, and neither covers /14/1405/ itself.
SIBLING = Caller(user_id="o2", roles=frozenset({Role.assessment_office}), org_path="/14/1406/")
TOWNSHIP = Caller(user_id="o3", roles=frozenset({Role.assessment_office}), org_path="/14/1405/140501/")
REPORTER = Caller(user_id="r1", roles=frozenset({Role.reporter}), org_path="/14/1405/140501/")


def writes(sid: str) -> list[tuple[str, dict[str, Any]]]:
    args = {"scheme_id": sid, "period": "2026-Q1"}
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    config = {"supervision_weight": 0.3}
    return [
        ("config_set", {"scheme_id": sid, "config": config}),
        ("exemption_set", {**args, "unit_id": "140501", "exempt": True, "reason": "专项第一"}),
        ("aspect_scores_set", {**args, "unit_id": "140501", "scores": {"key_work": 50.0}}),
        ("recompute_start", args),
        ("objection_window_open", {**args, "until": until}),
        ("results_publish", {**args, "force_close_window": True}),
    ]


async def forbidden(sc: Scoring, method: str, params: dict[str, Any], caller: Caller) -> str:
    with pytest.raises(KaoheError) as err:
        await sc.call(method, params, caller)
    return err.value.code


async def state_of(sc: Scoring, sid: str) -> dict[str, Any]:
    return {
        "config": await sc.call("config_get", {"scheme_id": sid}),
        "results": await sc.call("results_state", {"scheme_id": sid, "period": "2026-Q1"}),
        "grades": await sc.call("grades", {"scheme_id": sid, "period": "2026-Q1"}),
        "periods": await sc.call("periods", {"scheme_id": sid, "unit_id": "140501", "year": 2026}),
    }


async def test_offices_outside_the_assessing_unit_change_nothing(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")
    await fill(sc, sid, "140502", "2026-01", 100, 50, 0, "好")

    async def done() -> bool:
        return None not in (await totals(sc, ["140501", "140502"], "2026-Q1")).values()

    await eventually(done, what="results")
    before = await state_of(sc, sid)
    for caller in (SIBLING, TOWNSHIP):
        for method, params in writes(sid):
            assert await forbidden(sc, method, params, caller) == "forbidden_scope", (method, caller.org_path)
    assert await state_of(sc, sid) == before
    assert before["results"]["status"] == "preliminary"

    # the city's own office may; a job it starts is not disclosed outside
    job = await sc.call("recompute_start", {"scheme_id": sid, "period": "2026-Q1"})
    assert await forbidden(sc, "recompute_status", {"job_id": job["job_id"]}, TOWNSHIP) == "not_found"
    assert (await sc.call("recompute_status", {"job_id": job["job_id"]}))["job_id"] == job["job_id"]


async def test_objection_answer_needs_the_books_assessing_unit(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")

    async def done() -> bool:
        return (await totals(sc, ["140501"], "2026-Q1"))["140501"] is not None

    await eventually(done, what="results")
    args = {"scheme_id": sid, "period": "2026-Q1"}
    await sc.call(
        "objection_window_open", {**args, "until": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}
    )
    obj = await sc.call("objection_create", {**args, "unit_id": "140501", "reason": "数据有误"}, REPORTER)
    answer = {"objection_id": obj["objection_id"], "answer": "维持", "decision": "rejected"}
    # the township's office covers the objecting unit but not the book's assessing unit
    assert await forbidden(sc, "objection_answer", answer, TOWNSHIP) == "forbidden_scope"
    assert await forbidden(sc, "objection_answer", answer, SIBLING) == "not_found"
    assert (await sc.call("results_state", args))["open_objections"] == 1
    await sc.call("objection_answer", answer)
    assert (await sc.call("results_state", args))["open_objections"] == 0


async def test_a_book_whose_assessing_unit_path_is_unknown_is_denied(scoring: Scoring) -> None:
    sc = scoring
    # assessed units' paths do not pass through the assessing unit: its place in the tree is unknown
    sid = await sc.scheme({**SCHEME, "assessing_unit": "1499"})
    code = await forbidden(
        sc, "config_set", {"scheme_id": sid, "config": {"supervision_weight": 0.3}}, OFFICE
    )
    assert code == "forbidden_scope"
    root = Caller(user_id="p", roles=frozenset({Role.assessment_office}), org_path="/")
    got = await sc.call("config_set", {"scheme_id": sid, "config": {"supervision_weight": 0.3}}, root)
    assert got["supervision_weight"] == 0.3
