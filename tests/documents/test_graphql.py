"""Documents through the gateway's GraphQL: issue as the office, fetch inside, refused outside and missing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.gateway import Harness, Scored

ISSUE = """mutation($i: DocumentIssueSlipInput!) { documentIssueSlip(input: $i) {
  document { documentId number kind status files { format sha256 url } } errors { code field message } } }"""
GET = """query($id: ID!) { document(documentId: $id) { number title files { format url } } }"""
LIST = """query { documents(kind: REMINDER_SLIP, first: 50) { nodes { documentId number } } }"""


def codes(body: dict[str, Any]) -> list[str]:
    return sorted({e.get("extensions", {}).get("code", "?") for e in body.get("errors") or []})


async def test_slip_issued_in_graphql_is_fetched_inside_and_refused_outside(
    gw: Harness, world: Scored
) -> None:
    a1, a2 = world.tree["A1"], world.tree["A2"]
    office = gw.headers(["assessment_office"], world.tree["A"]["path"])
    slip = {
        "schemeId": world.city.scheme_id,
        "period": world.period,
        "unitId": a1["id"],
        "office": "单位A考核工作领导小组办公室",
        "officeCode": "A考办图",
        "kind": "REMINDER",
    }
    async with httpx.AsyncClient(timeout=60) as http:
        reporter = gw.headers(["reporter"], a1["path"])
        denied = await gw.gql(http, ISSUE, {"i": slip}, headers=reporter)
        assert [e["code"] for e in denied["data"]["documentIssueSlip"]["errors"]] == ["forbidden_role"]
        body = await gw.gql(http, ISSUE, {"i": slip}, headers=office)
        out = body["data"]["documentIssueSlip"]
        assert not out["errors"], out
        doc = out["document"]
        assert doc["kind"] == "REMINDER_SLIP" and doc["number"].startswith("A考办图〔")
        got = await gw.gql(http, GET, {"id": doc["documentId"]}, headers=reporter)
        url = got["data"]["document"]["files"][0]["url"]
        pdf = (await http.get(url)).content
        assert pdf.startswith(b"%PDF")
        other = gw.headers(["reporter"], a2["path"])
        outside = await gw.gql(http, GET, {"id": doc["documentId"]}, headers=other)
        missing = await gw.gql(http, GET, {"id": "nonexistent"}, headers=other)
        assert codes(outside) == codes(missing) == ["not_found"]
        assert a1["path"] not in str(outside)
        listed = await gw.gql(http, LIST, headers=other)
        assert doc["documentId"] not in str(listed)
        mine = await gw.gql(http, LIST, headers=reporter)
        assert doc["documentId"] in str(mine)
