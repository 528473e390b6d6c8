"""What payroll and 13710 pull: a published period's figures as published, live ones only when asked;
the CSV export is safe to open in a spreadsheet and names its file."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import eventually
from tests.support.gateway import UNIT_CREATE, Harness, scored_world
from tests.support.seed import SYSTEM

pytestmark = pytest.mark.asyncio
PUBLISH = """mutation($s: String!, $p: String!) {
  resultsPublish(schemeId: $s, period: $p, forceCloseWindow: true) {
    state { status } errors { code message } } }"""
EXPLAIN = """query($u: String!, $p: String!, $s: ID!, $src: ResultSource) {
  scoreExplanation(unitId: $u, period: $p, schemeId: $s, source: $src) {
    status source snapshotId total addsUp trace } }"""


async def test_rest_and_explanation_serve_the_published_snapshot(gw: Harness) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        world = await scored_world(gw, http, uuid.uuid4().hex[:6])
        book, period, a1 = world.city, world.period, world.tree["A1"]["id"]
        office = gw.headers(["assessment_office"], world.tree["A"]["path"])
        name = '=HYPERLINK("x")'
        inp = {
            "id": f"X{uuid.uuid4().hex[:6]}",
            "name": name,
            "kind": "county",
            "parentId": world.tree["A"]["id"],
        }
        r = await gw.gql(http, UNIT_CREATE, {"i": inp}, headers=gw.headers(["assessment_office"], "/"))
        assert not r["data"]["unitCreate"]["errors"], r
        r = await gw.gql(http, PUBLISH, {"s": book.scheme_id, "p": period}, headers=office)
        assert r["data"]["resultsPublish"]["state"]["status"] == "published", r

        async def rows(**params: Any) -> dict[str, dict[str, Any]]:
            q = {"root_id": world.tree["A"]["id"], "period": period, **params}
            got = await http.get(f"{gw.url}/api/v1/results", params=q, headers=office)
            assert got.status_code == 200, got.text
            return {row["unit_id"]: row for row in got.json()["items"]}

        published = (await rows())[a1]
        assert (published["status"], published["source"]) == ("published", "published")
        total = published["total"]

        # A1's value is reopened, changed and approved again: its live total moves
        async def call(service: str, method: str, params: dict[str, Any]) -> Any:
            return await gw.gw.upstream.call(service, method, params, SYSTEM)

        listed = await call(
            "indicators", "submissions_list", {"unit_id": a1, "period": period, "code": book.leaves[0]}
        )
        sub_id = listed["items"][0]["id"]
        await call("indicators", "submission_reopen", {"submission_id": sub_id, "reason": "复核更正"})
        version = (await call("indicators", "submission_get", {"submission_id": sub_id}))["version"]
        await call(
            "indicators",
            "submission_update",
            {"submission_id": sub_id, "expected_version": version, "value": 0},
        )
        await call("indicators", "submission_approve", {"submission_id": sub_id})

        async def live_moved() -> bool:
            return (await rows(source="live"))[a1]["total"] != pytest.approx(total)

        await eventually(live_moved, what="A1's live total after the change", within=30)
        live = (await rows(source="live"))[a1]
        assert (live["status"], live["source"]) == ("published", "live")
        assert (await rows())[a1]["total"] == pytest.approx(total)  # the default is still what was published

        v = {"u": a1, "p": period, "s": book.scheme_id}
        frozen = (await gw.gql(http, EXPLAIN, v, headers=office))["data"]["scoreExplanation"]
        assert (frozen["status"], frozen["source"]) == ("published", "published") and frozen["snapshotId"]
        assert frozen["total"] == pytest.approx(total) and frozen["trace"]["value"] == pytest.approx(total)
        now = (await gw.gql(http, EXPLAIN, {**v, "src": "LIVE"}, headers=office))["data"]["scoreExplanation"]
        assert (now["source"], now["total"]) == ("live", pytest.approx(live["total"]))

        got = await http.get(
            f"{gw.url}/api/v1/results",
            params={"root_id": world.tree["A"]["id"], "period": period, "format": "csv"},
            headers=office,
        )
        assert got.status_code == 200
        assert got.headers["content-disposition"] == f'attachment; filename="results-{period}-published.csv"'
        table = {r["unit_id"]: r for r in csv.DictReader(io.StringIO(got.text.lstrip("\ufeff")))}
        assert table[inp["id"]]["name"] == "'" + name  # text in a spreadsheet, not a formula
        assert float(table[a1]["total"]) == pytest.approx(total) and table[a1]["status"] == "published"
