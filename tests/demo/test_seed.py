"""Demo data (演示数据): the 晋城 "1+4" city seeded through GraphQL and REST only, deterministic by seed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from demo.client import Api
from demo.seed import OFFICE, evidence_of, seed
from demo.values import build_plan

SMALL: dict[str, Any] = {"departments": 15, "towns_per_county": 2, "villages_per_town": 2}
TINY: dict[str, Any] = {"departments": 15, "towns_per_county": 1, "villages_per_town": 1}
SUBMISSIONS = """query($after: String) {
  submissions(unitId: "1405", first: 200, after: $after) {
    nodes { id unitId code period value grade status }
    pageInfo { hasNextPage endCursor } } }"""
SCHEME = "query($id: ID!) { scheme(id: $id) { status secondReview scheme } }"
VALIDATE = """query($s: JSON!) {
  schemeValidate(assessingUnit: "1405", year: 2026, scheme: $s) { ok problems { code message } } }"""
EFFECTIVE = "query($id: ID!, $u: String!) { schemeEffective(id: $id, unitId: $u) }"


async def stored(api: Api) -> dict[tuple[str, str, str], dict[str, Any]]:
    out, after = {}, None
    while True:
        page = (await api.gql(OFFICE, SUBMISSIONS, {"after": after}))["submissions"]
        for s in page["nodes"]:
            out[(s["unitId"], s["code"], s["period"])] = s
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


async def stored_values(api: Api) -> dict[tuple[str, str, str], tuple[Any, ...]]:
    return {k: (s["value"], s["grade"], s["status"]) for k, s in (await stored(api)).items()}


async def test_seed_builds_a_published_1_plus_4_city_with_reviewed_data(api: Api) -> None:
    said: list[str] = []
    summary = await seed(api, seed=7, progress=said.append, second_review=True, **SMALL)
    plan = build_plan(7, **SMALL)
    kinds = Counter(u.kind for u in plan.city.units)
    assert summary["units_by_kind"] == dict(sorted(kinds.items()))
    assert kinds["county"] == 6 and kinds["department"] == 16  # 15 市直 + the 考核办
    assert kinds["township"] + kinds["street"] == 6 * 2 and kinds["village"] + kinds["community"] == 12 * 2
    assert summary["assessed_by_category"] == {"乡镇": 8, "县区": 6, "市直": 15, "街道": 4}
    assert len(said) == 6 and said[-1].startswith("[demo 6/6")

    scheme = (await api.gql(OFFICE, SCHEME, {"id": summary["scheme_id"]}))["scheme"]
    assert scheme["status"] == "published" and scheme["secondReview"] is True
    checked = (await api.gql(OFFICE, VALIDATE, {"s": scheme["scheme"]}))["schemeValidate"]
    assert checked == {"ok": True, "problems": []}

    # 差异化赋分: 城区 57 on 城市建设 + 生态文明 (with its 国控点 task), 泽州县 56 on 产业 + 项目 + 城市建设
    async def weight(unit: str, tops: tuple[str, ...]) -> tuple[float, set[str]]:
        eff = (await api.gql(OFFICE, EFFECTIVE, {"id": summary["scheme_id"], "u": unit}))["schemeEffective"]
        assert abs(eff["total"] - 100) < 1e-6
        return sum(x["weight"] for x in eff["leaves"] if x["path"][:1] and x["path"][0] in tops), {
            x["code"] for x in eff["leaves"]
        }

    chengqu, codes = await weight("140502", ("X04", "X07"))
    assert abs(chengqu - 57) < 1e-6 and "XK01" in codes
    zezhou, codes = await weight("140525", ("X01", "X02", "X04"))
    assert abs(zezhou - 56) < 1e-6 and "XK01" not in codes and {"XK02", "XK04"} <= codes

    values = await stored_values(api)
    assert len(values) == len(plan.values) == summary["submissions"]
    statuses = Counter(v[2] for v in values.values())
    pending = sum(v.review == "pending" for v in plan.values)
    assert statuses == Counter({"approved": len(plan.values) - pending, "submitted": pending})
    assert summary["approved"] == statuses["approved"] and summary["pending"] == pending
    for v in plan.values:  # rejected ones were corrected to the planned value before approval
        assert values[v.key][:2] == (v.value, v.grade)
    assert {p for _, _, p in values} == {"2026-Q1", "2026-01", "2026-02", "2026-03"}

    files = await evidence_of(api, sorted(plan.city.roster))
    assert len(files) == sum(v.evidence for v in plan.values) == summary["evidence"]
    assert 0.2 < len(files) / len(values) < 0.35
    status = {s["id"]: s["status"] for s in (await stored(api)).values()}
    assert all(e["status"] == "verified" for e in files)
    assert all(e["locked"] == (status[e["submissionId"]] == "approved") for e in files)  # approved → locked

    again = await seed(api, seed=7, progress=said.append, second_review=True, **SMALL)
    assert again["calls"].get("imports", 0) == 0 and again["calls"].get("evidence", 0) == 0
    assert await stored_values(api) == values  # a second run resumes: nothing doubled, nothing changed


async def test_same_seed_same_values_and_another_seed_differs(
    api: Api, another_api: Callable[[], AbstractAsyncContextManager[Api]]
) -> None:
    quiet: list[str] = []
    a = await seed(api, seed=3, progress=quiet.append, second_review=False, **TINY)
    async with another_api() as api2:
        b = await seed(api2, seed=3, progress=quiet.append, second_review=False, **TINY)
        assert a["units_by_kind"] == b["units_by_kind"] and a["submissions"] == b["submissions"]
        assert await stored_values(api) == await stored_values(api2)
        one = (await api.gql(OFFICE, SCHEME, {"id": a["scheme_id"]}))["scheme"]
        two = (await api2.gql(OFFICE, SCHEME, {"id": b["scheme_id"]}))["scheme"]
        assert one["scheme"] == two["scheme"]
    same, other = build_plan(3, **TINY), build_plan(4, **TINY)
    assert [v.value for v in same.values] != [v.value for v in other.values]
    assert same.scheme.body != other.scheme.body  # targets and coefficients are drawn too
