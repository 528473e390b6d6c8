"""The scoring domain through GraphQL: ranking page, grades, 三色榜, warnings, explanation, periods,
recompute, objections (申诉) and publication — against the real indicators and scoring services."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets

from tests.support.gateway import Harness, Scored, scored_world

RANKING = """query($s: ID!, $p: String!, $c: String!, $n: Int, $after: String) {
  ranking(schemeId: $s, period: $p, category: $c, first: $n, after: $after) {
    nodes { unitId unitName rank of total grade warningColour vetoed
            level1 { code name weight score contribution } unit { name evidence { id } } }
    pageInfo { hasNextPage endCursor } } }"""


@pytest_asyncio.fixture(scope="module")
async def world(gw: Harness) -> Scored:
    async with httpx.AsyncClient(timeout=60) as http:
        return await scored_world(gw, http, uuid.uuid4().hex[:6], extra=10)


def _office(gw: Harness) -> dict[str, str]:
    return gw.headers(["assessment_office"], "/")


async def test_ranking_page_with_level1_colour_and_pagination(gw: Harness, world: Scored) -> None:
    b = world.province
    v = {"s": b.scheme_id, "p": world.period, "c": b.category, "n": 5}
    async with httpx.AsyncClient(timeout=30) as http:
        r = await gw.gql(http, RANKING, v, headers=_office(gw))
        page = r["data"]["ranking"]
        rows = page["nodes"]
        assert [x["rank"] for x in rows] == [1, 2, 3, 4, 5] and rows[0]["of"] == len(b.members), r
        tag = b.leaves[0].removesuffix("GDP")
        assert all([x["code"] for x in row["level1"]] == [f"{tag}ECO", f"{tag}GOV"] for row in rows)
        assert all(x["warningColour"] in ("green", "yellow", "red") for x in rows)
        assert rows[0]["unit"]["name"] == rows[0]["unitName"]
        total = sum(x["contribution"] for x in rows[0]["level1"])
        assert total == pytest.approx(rows[0]["total"], abs=1e-3)
        rest = await gw.gql(http, RANKING, {**v, "after": page["pageInfo"]["endCursor"]}, headers=_office(gw))
        assert rest["data"]["ranking"]["nodes"][0]["rank"] == 6
        # A city leader sees its own counties with their category-wide ranks, never B's.
        lead = gw.headers(["leader"], world.tree["A"]["path"])
        mine = (await gw.gql(http, RANKING, {**v, "n": 100}, headers=lead))["data"]["ranking"]["nodes"]
        assert mine and all(x["unitId"].startswith("A") for x in mine)
        assert world.tree["B1"]["id"] not in json.dumps(mine)


async def test_no_n_plus_one_on_the_ranking_page(gw: Harness, world: Scored) -> None:
    b = world.province
    counts = []
    async with httpx.AsyncClient(timeout=30) as http:
        for n in (2, 12):
            before = dict(gw.gw.upstream.calls)
            v = {"s": b.scheme_id, "p": world.period, "c": b.category, "n": n}
            r = await gw.gql(http, RANKING, v, headers=_office(gw))
            assert len(r["data"]["ranking"]["nodes"]) == n, r
            after = gw.gw.upstream.calls
            counts.append({s: after[s] - before.get(s, 0) for s in after if after[s] - before.get(s, 0)})
    assert counts[0] == counts[1] == {"scoring": 1, "indicators": 2}, counts  # units + evidence, batched


async def test_grades_board_warnings_explanation_periods(gw: Harness, world: Scored) -> None:
    b, p = world.province, world.period
    q = """query($s: ID!, $p: String!, $root: ID!, $u: String!) {
      grades(schemeId: $s, period: $p) { category of quota counts { grade count } exempt vetoed lastPlace }
      board(schemeId: $s, period: $p, first: 50) { nodes { unitId colour red yellow green worstLag behind } }
      warnings(rootId: $root, period: $p, first: 50) { nodes { unitId unitPath code level levelZh lag } }
      scoreExplanation(unitId: $u, period: $p, schemeId: $s) { digest addsUp steps { depth kind code } }
      periodScores(unitId: $u, schemeId: $s, year: 2026) { period kind total parts { code weight value } }
    }"""
    a1 = world.tree["A1"]
    v = {"s": b.scheme_id, "p": p, "root": world.tree["A"]["id"], "u": a1["id"]}
    async with httpx.AsyncClient(timeout=30) as http:
        r = await gw.gql(http, q, v, headers=_office(gw))
        assert not r.get("errors"), r
        d = r["data"]
        [g] = d["grades"]
        assert g["of"] == len(b.members) and sum(c["count"] for c in g["counts"]) == g["of"]
        colours = [x["colour"] for x in d["board"]["nodes"]]
        assert colours == sorted(colours, key=["red", "yellow", "green"].index) and len(colours) == g["of"]
        assert all(w["unitPath"].startswith(world.tree["A"]["path"]) for w in d["warnings"]["nodes"])
        assert d["scoreExplanation"]["addsUp"] is True and len(d["scoreExplanation"]["digest"]) == 64
        steps = d["scoreExplanation"]["steps"]
        assert (steps[0]["depth"], steps[0]["kind"]) == (0, "total")
        assert {"level1", "leaf"} <= {x["kind"] for x in steps}
        assert [x["period"] for x in d["periodScores"]][:2] == ["2026-05", "2026-06"]
        # A leader of city B cannot explain A1: exactly like a unit that does not exist.
        other = gw.headers(["leader"], world.tree["B"]["path"])
        r = await gw.gql(http, q, v, headers=other)
        codes = {e["extensions"]["code"] for e in r["errors"]}
        assert codes == {"not_found"} and a1["path"] not in json.dumps(r.get("data"))


OBJECT = """mutation($i: ObjectionCreateInput!) { objectionCreate(input: $i) {
  objection { objectionId unitId status } errors { code field message } } }"""
ANSWER = """mutation($o: String!) { objectionAnswer(objectionId: $o, answer: "已复核", decision: REJECTED) {
  objection { status decision answer } errors { code } } }"""
PUBLISH = """mutation($s: String!, $p: String!, $f: Boolean!) {
  resultsPublish(schemeId: $s, period: $p, forceCloseWindow: $f) {
  state { status snapshotId digest openObjections } errors { code field message } } }"""


async def test_objections_then_publication_and_snapshot(gw: Harness, world: Scored) -> None:
    b, p = world.city, world.other_period
    a_office = gw.headers(["assessment_office"], world.tree["A"]["path"])
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    async with httpx.AsyncClient(timeout=30) as http:
        r = await gw.gql(
            http,
            """mutation($s: String!, $p: String!, $u: DateTime!) { objectionWindowOpen(schemeId: $s,
              period: $p, until: $u) { state { status windowUntil } errors { code } } }""",
            {"s": b.scheme_id, "p": p, "u": until},
            headers=a_office,
        )
        assert r["data"]["objectionWindowOpen"]["state"]["status"] == "objection_window", r
        reporter = gw.headers(["reporter"], world.tree["A1"]["path"])
        inp = {"schemeId": b.scheme_id, "period": p, "unitId": world.tree["A1"]["id"], "reason": "数据有误"}
        r = await gw.gql(http, OBJECT, {"i": inp}, headers=reporter)
        obj = r["data"]["objectionCreate"]["objection"]
        assert obj["status"] == "open", r
        r = await gw.gql(http, OBJECT, {"i": {**inp, "unitId": world.tree["A2"]["id"]}}, headers=reporter)
        assert r["data"]["objectionCreate"]["errors"][0]["code"] == "not_found"  # a sibling's unit
        pub = {"s": b.scheme_id, "p": p, "f": True}
        r = await gw.gql(http, PUBLISH, pub, headers=a_office)
        assert r["data"]["resultsPublish"]["errors"][0]["code"] == "objections_open", r
        r = await gw.gql(http, ANSWER, {"o": obj["objectionId"]}, headers=a_office)
        assert r["data"]["objectionAnswer"]["objection"]["decision"] == "rejected", r
        # The province's office cannot be bypassed: a county office may not publish the city's book.
        county = gw.headers(["assessment_office"], world.tree["A1"]["path"])
        r = await gw.gql(http, PUBLISH, pub, headers=county)
        assert r["data"]["resultsPublish"]["errors"][0]["code"] == "not_found", r
        r = await gw.gql(http, PUBLISH, pub, headers=a_office)
        state = r["data"]["resultsPublish"]["state"]
        assert state["status"] == "published" and len(state["digest"]) == 64, r
        q = """query($s: ID!, $p: String!) { resultsSnapshot(schemeId: $s, period: $p, first: 50) {
          digest rows { nodes { unitId rank grade total } } }
          objections(schemeId: $s, period: $p) { nodes { unitId status decision } } }"""
        r = await gw.gql(http, q, {"s": b.scheme_id, "p": p}, headers=a_office)
        snap = r["data"]["resultsSnapshot"]
        assert snap["digest"] == state["digest"] and len(snap["rows"]["nodes"]) == len(b.members), r
        assert r["data"]["objections"]["nodes"][0]["status"] == "answered"


async def test_recompute_start_and_progress(gw: Harness, world: Scored) -> None:
    b = world.city
    a_office = gw.headers(["assessment_office"], world.tree["A"]["path"])
    async with httpx.AsyncClient(timeout=30) as http:
        r = await gw.gql(
            http,
            """mutation($s: String!, $p: String!) { recomputeStart(schemeId: $s, period: $p) {
              job { jobId status progress } errors { code } } }""",
            {"s": b.scheme_id, "p": world.period},
            headers=a_office,
        )
        job = r["data"]["recomputeStart"]["job"]
        assert job["status"] in ("queued", "running", "done"), r
        q = "query($j: ID!) { recomputeJob(jobId: $j) { status stage progress doneUnits totalUnits } }"
        for _ in range(100):
            st = (await gw.gql(http, q, {"j": job["jobId"]}, headers=a_office))["data"]["recomputeJob"]
            if st["status"] in ("done", "failed"):
                break
            await asyncio.sleep(0.1)
        assert st["status"] == "done" and st["progress"] == 1.0, st
        other = gw.headers(["assessment_office"], world.tree["B"]["path"])
        r = await gw.gql(http, q, {"j": job["jobId"]}, headers=other)
        assert r["errors"][0]["extensions"]["code"] == "not_found"


async def test_submission_fields_and_live_ranking_with_rank_and_colour(gw: Harness, world: Scored) -> None:
    b = world.city
    async with httpx.AsyncClient(timeout=30) as http:
        q = """query($u: String!) { submissions(unitId: $u, first: 3) { nodes {
          code schemeId schemeVersion assessingUnit reviewLevel final flags status } } }"""
        r = await gw.gql(http, q, {"u": world.tree["A1"]["id"]}, headers=_office(gw))
        s = r["data"]["submissions"]["nodes"][0]
        assert s["schemeId"] and s["final"] is True and s["status"] == "approved" and s["code"], r
    token = gw.token(["leader"], world.tree["A"]["path"])
    ws = await websockets.connect(
        gw.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    try:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        sub = """subscription { rankingChanged(period: "2026-07") { unitId schemeId rank of grade
          warningColour score { total } } }"""
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": sub}}))
        await asyncio.sleep(0.3)
        upstream = gw.gw.upstream
        from tests.support.seed import SYSTEM, approve_values

        async def call(service: str, method: str, params: dict[str, Any]) -> Any:
            return await upstream.call(service, method, params, SYSTEM)

        one = type(b)(b.scheme_id, b.assessing_unit, b.category, b.members[:1], b.leaves[:1])
        await approve_values(call, one, ["2026-07"])
        msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
        data = msg["payload"]["data"]["rankingChanged"]
        assert data["rank"] == 1 and data["of"] >= 1 and data["schemeId"] == b.scheme_id, msg
        assert data["warningColour"] in ("green", "yellow", "red")
    finally:
        await ws.close()
