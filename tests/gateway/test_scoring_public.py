"""What a frontend needs from the scoring side of the public API (issue 10 items 4, 7 and 8), through GraphQL
against the real services: manual 平时督查 until supervision publishes, the category's and the unit's
level-1 weights (差异化赋分), which periods have results, the scheme's categories, 三色榜 names and
on-schedule rows, and level-1 points beside the share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from kaohe.events import new_event
from tests.conftest import eventually
from tests.support.gateway import Harness, make_tree
from tests.support.seed import SYSTEM, YEAR, Book, approve_values, publish_book, scheme_body, wait_ranked

MONTHS = ["2026-05", "2026-06"]


@dataclass
class World:
    tree: dict[str, dict[str, Any]]
    province: Book  # A1 (own level-1 weights: 经济发展 70 / 社会治理 30 instead of 60 / 40), A2, B1
    city: Book  # city A's book: A1, A2 (its configuration changes in the supervision test)
    tag: str


def _values(i: int, leaf: str) -> float:
    """Every unit on schedule except on 政务服务 for every other unit (i is member index + 7 in months)."""
    if leaf.endswith("SVC"):
        return 2.0 if i % 2 else 10.0
    return {"GDP": 100.0, "FAI": 50.0}.get(leaf[-3:], 0.0)


@pytest_asyncio.fixture(scope="module")
async def world(gw: Harness) -> World:
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=60) as http:
        tree = await make_tree(gw, http, tag)

    async def call(service: str, method: str, params: dict[str, Any]) -> Any:
        return await gw.gw.upstream.call(service, method, params, SYSTEM)

    members = [tree[k]["id"] for k in ("A1", "A2", "B1")]
    ptag = f"P{tag}".upper()
    await call(
        "indicators",
        "categories_set",
        {
            "assessing_unit": tree["P"]["id"],
            "year": YEAR,
            "categories": [{"name": "县区"}],
            "members": dict.fromkeys(members, "县区"),
        },
    )
    body = scheme_body(tree["P"]["id"], "县区", ptag)
    body["overrides"] = [  # 差异化赋分 for A1: 经济发展 70 (category 60), 社会治理 30 (category 40)
        {"code": f"{ptag}{code}", "weight": w, "unit_id": tree["A1"]["id"], "reason": "以经济发展为重点"}
        for code, w in (("ECO", 70), ("GOV", 30))
    ]
    saved = await call(
        "indicators", "scheme_save", {"assessing_unit": tree["P"]["id"], "year": YEAR, "scheme": body}
    )
    assert not saved["problems"], saved
    await call("indicators", "scheme_publish", {"scheme_id": saved["scheme"]["id"]})
    leaves = [c["code"] for n in body["trunk"] for c in n["children"]]
    province = Book(str(saved["scheme"]["id"]), tree["P"]["id"], "县区", members, leaves)
    city = await publish_book(
        call, assessing_unit=tree["A"]["id"], members=members[:2], tag=f"C{tag}".upper()
    )
    for book in (province, city):
        await approve_values(call, book, MONTHS, value=_values)
        for m in MONTHS:
            await wait_ranked(call, book, m)
    return World(tree, province, city, ptag)


def _office(gw: Harness) -> dict[str, str]:
    return gw.headers(["assessment_office"], "/")


RANKING = """query($s: ID!, $p: String!) { ranking(schemeId: $s, period: $p, category: "县区", first: 50) {
  nodes { unitId total indicators supervision supervisionSource bonus penalty coefficient
          level1 { code weight points categoryWeight categoryPoints overridden score contribution } } } }"""
EXPLAIN = """query($u: String!, $s: ID!, $p: String!) {
  scoreExplanation(unitId: $u, period: $p, schemeId: $s) {
    total trace steps { kind code weight details } } }"""


async def _row(gw: Harness, http: httpx.AsyncClient, book: Book, period: str, unit: str) -> dict[str, Any]:
    r = await gw.gql(http, RANKING, {"s": book.scheme_id, "p": period}, headers=_office(gw))
    assert not r.get("errors"), r
    return next(x for x in r["data"]["ranking"]["nodes"] if x["unitId"] == unit)


async def test_level1_shows_category_and_unit_weights_and_points(gw: Harness, world: World) -> None:
    a1, a2 = world.tree["A1"]["id"], world.tree["A2"]["id"]
    eco, gov = f"{world.tag}ECO", f"{world.tag}GOV"
    async with httpx.AsyncClient(timeout=30) as http:
        own = {x["code"]: x for x in (await _row(gw, http, world.province, "2026-06", a1))["level1"]}
        # 差异化赋分: A1's 经济发展 is worth 70 points instead of the category's 60, 社会治理 30 instead of 40
        assert own[eco]["points"] == 70 and own[eco]["categoryPoints"] == 60 and own[eco]["overridden"]
        assert own[eco]["weight"] == pytest.approx(0.7, abs=1e-6)
        assert own[eco]["categoryWeight"] == pytest.approx(0.6, abs=1e-6)
        assert own[gov]["points"] == 30 and own[gov]["categoryPoints"] == 40 and own[gov]["overridden"]
        assert own[gov]["weight"] == pytest.approx(0.3, abs=1e-6)
        assert own[gov]["categoryWeight"] == pytest.approx(0.4, abs=1e-6)
        assert sum(x["contribution"] for x in own.values()) == pytest.approx(
            sum(x["weight"] * x["score"] for x in own.values()), abs=1e-4
        )
        plain = {x["code"]: x for x in (await _row(gw, http, world.province, "2026-06", a2))["level1"]}
        assert plain[eco]["points"] == 60 and plain[eco]["weight"] == pytest.approx(0.6, abs=1e-6)
        assert not plain[eco]["overridden"] and plain[eco]["categoryWeight"] == pytest.approx(0.6, abs=1e-6)
        # the explanation says the same on its level-1 nodes
        for unit, overridden in ((a1, True), (a2, False)):
            v = {"u": unit, "s": world.province.scheme_id, "p": "2026-06"}
            r = await gw.gql(http, EXPLAIN, v, headers=_office(gw))
            assert not r.get("errors"), r
            steps = {s["code"]: s for s in r["data"]["scoreExplanation"]["steps"] if s["kind"] == "level1"}
            d = steps[eco]["details"]
            assert d["overridden_weight"] is overridden, d
            assert d["category_weight"] == pytest.approx(0.6, abs=1e-6)
            assert d["category_points"] == 60 and d["points"] == (70 if overridden else 60)
            assert steps[eco]["weight"] == pytest.approx(d["points"] / 100, abs=1e-6)
            assert steps[gov]["details"]["overridden_weight"] is overridden


async def test_result_periods_with_status_and_scheme_categories(gw: Harness, world: World) -> None:
    q = """query($s: ID!, $a: String!) {
      scheme(id: $s) { id categories }
      schemes(assessingUnit: $a, year: 2026, status: "published") { nodes { id version } }
      resultPeriods(schemeId: $s) { period kind status snapshotId } }"""
    v = {"s": world.province.scheme_id, "a": world.province.assessing_unit}
    async with httpx.AsyncClient(timeout=30) as http:
        r = await gw.gql(http, q, v, headers=_office(gw))
        assert not r.get("errors"), r
        d = r["data"]
        assert d["scheme"]["categories"] == ["县区"]
        assert [n["id"] for n in d["schemes"]["nodes"]] == [world.province.scheme_id]
        got = [(p["period"], p["kind"], p["status"]) for p in d["resultPeriods"]]
        assert got == [
            ("2026-05", "month", "preliminary"),
            ("2026-06", "month", "preliminary"),
            ("2026-Q2", "quarter", "preliminary"),
            ("2026", "year", "preliminary"),
        ]
        pub = """mutation($s: String!) { resultsPublish(schemeId: $s, period: "2026-05") {
          state { snapshotId } errors { code message } } }"""
        r = await gw.gql(http, pub, {"s": world.province.scheme_id}, headers=_office(gw))
        snap = r["data"]["resultsPublish"]["state"]["snapshotId"]
        r = await gw.gql(http, q, v, headers=_office(gw))
        first = r["data"]["resultPeriods"][0]
        assert (first["period"], first["status"], first["snapshotId"]) == ("2026-05", "published", snap)
        # a leader of city B reads the same list; a scheme it cannot know is not found
        lead = gw.headers(["leader"], world.tree["B"]["path"])
        r = await gw.gql(http, q.replace("scheme(id: $s) { id categories }", ""), v, headers=lead)
        assert [p["period"] for p in r["data"]["resultPeriods"]][:2] == MONTHS, r
        r = await gw.gql(http, 'query { resultPeriods(schemeId: "no-such") { period } }', headers=lead)
        assert r["errors"][0]["extensions"]["code"] == "not_found", r


async def test_board_names_the_indicators_behind_and_says_on_schedule(gw: Harness, world: World) -> None:
    q = """query($s: ID!) { board(schemeId: $s, period: "2026-06", first: 50) {
      nodes { unitId colour worstLag onSchedule behind
              behindIndicators { code name level levelZh lag } } } }"""
    async with httpx.AsyncClient(timeout=30) as http:
        r = await gw.gql(http, q, {"s": world.province.scheme_id}, headers=_office(gw))
    assert not r.get("errors"), r
    rows = {x["unitId"]: x for x in r["data"]["board"]["nodes"]}
    svc = f"{world.tag}SVC"
    behind, ahead = rows[world.tree["A1"]["id"]], rows[world.tree["A2"]["id"]]
    assert behind["onSchedule"] is False and behind["behind"] == [svc]
    [ind] = behind["behindIndicators"]
    assert (ind["code"], ind["name"], ind["level"], ind["levelZh"]) == (svc, "政务服务", "red", "红")
    assert ind["lag"] == behind["worstLag"] and ind["lag"] > 0.2
    assert ahead["colour"] == "green" and ahead["onSchedule"] is True and ahead["worstLag"] is None
    assert ahead["behind"] == [] and ahead["behindIndicators"] == []


ASPECTS = """mutation($i: AspectScoresSetInput!) { aspectScoresSet(input: $i) {
  aspectScores { unitId period scores } errors { code field message } } }"""


async def _publish_supervision(gw: Harness, unit: dict[str, Any], period: str, score: float) -> None:
    """督查结果单独核算 as the supervision service publishes it: through its outbox and JetStream."""
    rt = gw.services["supervision"]
    data = {
        "unit_id": unit["id"],
        "unit_path": unit["path"],
        "period": period,
        "score": score,
        "items": 1,
        "revision": 1,
        "details": [{"item_id": "t", "deduction": 100.0 - score, "reason": "超期未办结"}],
    }
    event = new_event("supervision", "result", "scored", subject=f"{unit['id']}:{period}", data=data)
    async with rt.db.uow() as s:
        await rt.outbox.emit(s, event)


async def test_manual_supervision_counts_until_supervision_publishes(gw: Harness, world: World) -> None:
    book, a2 = world.city, world.tree["A2"]
    s = 0.2  # 平时督查 share of the total
    office = _office(gw)
    async with httpx.AsyncClient(timeout=30) as http:
        cfg = """mutation($s: String!) { configSet(schemeId: $s, config: {supervision_weight: 0.2}) {
          errors { code message } } }"""
        r = await gw.gql(http, cfg, {"s": book.scheme_id}, headers=office)
        assert r["data"]["configSet"]["errors"] == [], r

        def expected(row: dict[str, Any], sup: float) -> float:
            return (
                row["coefficient"] * ((1 - s) * row["indicators"] + s * sup) + row["bonus"] - row["penalty"]
            )

        async def quarter_with(source: str, sup: float) -> bool:
            row = await _row(gw, http, book, "2026-Q2", a2["id"])
            return (
                row["supervisionSource"] == source
                and row["supervision"] == pytest.approx(sup)
                and row["total"] == pytest.approx(expected(row, sup), abs=1e-6)
            )

        # the configuration applies from the next recompute; no 平时督查 result yet: 100 (default)
        start = """mutation($s: String!) { recomputeStart(schemeId: $s, period: "2026-Q2") {
          errors { code } } }"""
        assert (await gw.gql(http, start, {"s": book.scheme_id}, headers=office))["data"]["recomputeStart"][
            "errors"
        ] == []
        await eventually(lambda: quarter_with("default", 100.0), what="recomputed with 平时督查 20%")
        before = await _row(gw, http, book, "2026-Q2", a2["id"])
        # the 考核办 enters 平时督查 by hand for the quarter: the total moves by s × (100 − 60)
        inp = {
            "schemeId": book.scheme_id,
            "period": "2026-Q2",
            "unitId": a2["id"],
            "scores": {"supervision": 60},
        }
        r = await gw.gql(http, ASPECTS, {"i": inp}, headers=office)
        assert r["data"]["aspectScoresSet"]["errors"] == [], r
        await eventually(lambda: quarter_with("manual", 60.0), what="manual 平时督查 counted")
        after = await _row(gw, http, book, "2026-Q2", a2["id"])
        assert after["total"] == pytest.approx(before["total"] - s * 40, abs=1e-6)
        june = await _row(gw, http, book, "2026-06", a2["id"])  # the quarter's months take it too
        assert june["supervisionSource"] == "manual" and june["supervision"] == pytest.approx(60.0)
        v = {"u": a2["id"], "s": book.scheme_id, "p": "2026-Q2"}
        ex = (await gw.gql(http, EXPLAIN, v, headers=office))["data"]["scoreExplanation"]
        assert ex["trace"]["details"]["supervision_source"] == "manual"
        assert ex["total"] == pytest.approx(after["total"], abs=1e-6)
        # supervision publishes its result for the unit and quarter: it replaces the manual score
        await _publish_supervision(gw, a2, "2026-Q2", 90.0)
        await eventually(lambda: quarter_with("service", 90.0), what="supervision's result overrides")
        last = await _row(gw, http, book, "2026-Q2", a2["id"])
        assert last["total"] == pytest.approx(before["total"] - s * 10, abs=1e-6)
        ex = (await gw.gql(http, EXPLAIN, v, headers=office))["data"]["scoreExplanation"]
        assert ex["trace"]["details"]["supervision_source"] == "service"
        # A1 had neither: still the default
        a1 = await _row(gw, http, book, "2026-Q2", world.tree["A1"]["id"])
        assert a1["supervisionSource"] == "default" and a1["supervision"] == pytest.approx(100.0)


async def test_aspect_scores_refuse_what_would_be_ignored(gw: Harness, world: World) -> None:
    base = {"schemeId": world.city.scheme_id, "unitId": world.tree["A1"]["id"]}
    async with httpx.AsyncClient(timeout=30) as http:
        for period, scores, field in (
            ("2026-Q2", {"indicators": 50}, "indicators"),  # computed from approved values
            ("2026-06", {"supervision": 50}, "period"),  # aspects belong to quarters and years
        ):
            inp = {**base, "period": period, "scores": scores}
            r = await gw.gql(http, ASPECTS, {"i": inp}, headers=_office(gw))
            [err] = r["data"]["aspectScoresSet"]["errors"]
            assert err["code"] == "validation_failed" and field in (err["field"] or ""), r
