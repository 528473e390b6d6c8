"""The indicators mutations and evidence reads through GraphQL: falsy arguments, uniform not-found."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.gateway.test_authz import one_leaf_scheme
from tests.support.gateway import Harness, make_tree

CREATE = """mutation($i: SubmissionCreateInput!) {
  submissionCreate(input: $i) { node { id version value narrative } errors { code field message } } }"""
UPDATE = """mutation($s: String!, $v: Int!, $value: Float, $narrative: String) {
  submissionUpdate(submissionId: $s, expectedVersion: $v, value: $value, narrative: $narrative) {
    node { id version value narrative } errors { code field message } } }"""
UPLOAD = """mutation($i: EvidenceUploadInput!) {
  evidenceUploadRequest(input: $i) { evidenceId uploadUrl uploadHeaders errors { code field message } } }"""
DOWNLOAD = "query($id: ID!) { evidenceDownload(id: $id) { id downloadUrl } }"


async def _world(gw: Harness, http: httpx.AsyncClient) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    tree = await make_tree(gw, http, tag)
    code = f"DD-{tag}"
    await one_leaf_scheme(gw, tree["P"]["id"], [tree[k]["id"] for k in ("A1", "A2", "B1")], code)
    return {**tree, "code": code}


async def test_submission_update_keeps_zero_and_empty_narrative(gw: Harness, http: httpx.AsyncClient) -> None:
    w = await _world(gw, http)
    rep = gw.headers(["reporter"], w["A1"]["path"])
    i = {
        "unitId": w["A1"]["id"],
        "indicatorCode": w["code"],
        "period": "2026-Q1",
        "value": 3,
        "narrative": "三起",
    }
    made = (await gw.gql(http, CREATE, {"i": i}, headers=rep))["data"]["submissionCreate"]
    assert not made["errors"], made
    sub = made["node"]
    r = await gw.gql(
        http, UPDATE, {"s": sub["id"], "v": sub["version"], "value": 0, "narrative": ""}, headers=rep
    )
    got = r["data"]["submissionUpdate"]
    assert not got["errors"], got
    assert (got["node"]["value"], got["node"]["narrative"], got["node"]["version"]) == (0, "", 2)
    # arguments left out keep the stored values
    r = await gw.gql(http, UPDATE, {"s": sub["id"], "v": 2}, headers=rep)
    node = r["data"]["submissionUpdate"]["node"]
    assert (node["value"], node["narrative"], node["version"]) == (0, "", 3)


async def test_evidence_download_out_of_scope_answers_like_a_missing_id(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    w = await _world(gw, http)
    rep = gw.headers(["reporter"], w["A1"]["path"])
    i = {"unitId": w["A1"]["id"], "indicatorCode": w["code"], "period": "2026-Q2", "value": 1}
    sub = (await gw.gql(http, CREATE, {"i": i}, headers=rep))["data"]["submissionCreate"]["node"]
    up = {"submissionId": sub["id"], "filename": "a.pdf", "contentType": "application/pdf", "size": 3}
    r = await gw.gql(http, UPLOAD, {"i": {**up, "sha256": "a" * 64}}, headers=rep)
    ev = r["data"]["evidenceUploadRequest"]
    assert not ev["errors"] and ev["uploadHeaders"]["If-None-Match"] == "*", ev
    other = gw.headers(["reporter"], w["B1"]["path"])  # another county's reporter
    answers = []
    for eid in (ev["evidenceId"], "0" * 32):
        body = await gw.gql(http, DOWNLOAD, {"id": eid}, headers=other)
        [err] = body["errors"]
        answers.append((body["_status"], err["message"], err.get("extensions")))
    assert answers[0] == answers[1], answers
    assert answers[0][1:] == ("evidence not found", {"code": "not_found", "field": "evidenceId"})
