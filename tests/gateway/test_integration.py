"""Integration API: webhooks (signed, retried, history), subscriptions over websockets, REST, no N+1."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
import websockets

from tests.conftest import Infra, eventually
from tests.gateway.test_authz import one_leaf_scheme
from tests.support.gateway import Harness, harness, make_tree
from tests.support.webhooks import Receiver, serving

SUBMIT = """mutation($i: SubmissionCreateInput!) {
  submissionCreate(input: $i) { node { id } errors { code message } } }"""
APPROVE = """mutation($s: String!) {
  submissionApprove(submissionId: $s) { node { status } errors { code message } } }"""
REJECT = """mutation($s: String!, $r: String!) {
  submissionReject(submissionId: $s, reason: $r) { node { status } errors { code message } } }"""


@pytest_asyncio.fixture(scope="module")
async def gw(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    """The full harness; webhooks may target this suite's receiver on loopback (a development setting)."""
    async with harness(infra, template_db, webhook_allow_private=True) as h:
        yield h


@pytest_asyncio.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver(fail_first=2)) as rec:
        yield rec


@pytest_asyncio.fixture(scope="module")
async def tree(gw: Harness) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=30) as client:
        t = await make_tree(gw, client, tag)
        code = f"WH-{tag}"
        await one_leaf_scheme(gw, t["P"]["id"], [t[k]["id"] for k in ("A1", "A2", "B1")], code)
    return {**t, "code": code, "tag": tag}


async def _submit(h: Harness, client: httpx.AsyncClient, unit: str, code: str, period: str) -> str:
    r = await h.gql(
        client,
        SUBMIT,
        {"i": {"unitId": unit, "indicatorCode": code, "period": period, "value": 5.5}},
        headers=h.headers(["reporter"], "/"),
    )
    assert not r["data"]["submissionCreate"]["errors"], r
    return str(r["data"]["submissionCreate"]["node"]["id"])


async def test_webhook_signed_retried_with_backoff_and_history(
    gw: Harness,
    http: httpx.AsyncClient,
    tree: dict[str, Any],
    receiver: Receiver,
) -> None:
    office = gw.headers(["assessment_office"], "/")
    r = await http.post(
        f"{gw.url}/api/v1/api-keys",
        json={"name": "13710", "scopes": ["webhooks:manage"], "org_path": tree["A"]["path"]},
        headers=office,
    )
    key = {"X-Api-Key": r.json()["key"]}
    r = await http.post(
        f"{gw.url}/api/v1/webhooks",
        json={"url": f"http://127.0.0.1:{receiver.port}/hook", "event_types": ["submission.rejected"]},
        headers=key,
    )
    assert r.status_code == 201, r.text
    hook, secret = r.json(), r.json()["secret"]
    dept = gw.headers(["department"], "/", indicator_codes=[tree["code"]])
    for unit in ("B1", "A1"):  # B1 lies outside the integration's subtree: never delivered
        sub = await _submit(gw, http, tree[unit]["id"], tree["code"], "2026-03")
        res = await gw.gql(http, REJECT, {"s": sub, "r": "数据与统计局口径不一致"}, headers=dept)
        assert not res["data"]["submissionReject"]["errors"], res

    async def delivered() -> bool:
        return any(h["headers"].get("kaohe-event-type") == "submission.rejected" for h in receiver.hits[2:])

    await eventually(delivered, within=30, what="third attempt")
    hits = [h for h in receiver.hits if h["headers"]["kaohe-event-type"] == "submission.rejected"]
    assert len(hits) == 3 and len({h["headers"]["kaohe-event-id"] for h in hits}) == 1
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(hits)]
    assert gaps[0] >= 0.2 * 0.9 and gaps[1] >= 0.4 * 0.9, gaps  # exponential backoff from 0.2 s
    for h in hits:
        ts = h["headers"]["kaohe-timestamp"]
        want = hmac.new(secret.encode(), f"{ts}.".encode() + h["body"], hashlib.sha256).hexdigest()
        assert h["headers"]["kaohe-signature"] == f"v1={want}"
        assert abs(int(ts) - time.time()) < 60
    payload = json.loads(hits[-1]["body"])
    assert payload["type"] == "submission.rejected"
    assert payload["data"]["unit_id"] == tree["A1"]["id"]
    assert tree["B1"]["path"] not in str(receiver.hits)

    async def recorded() -> bool:
        r = await http.get(f"{gw.url}/api/v1/webhooks/{hook['id']}/deliveries", headers=key)
        return bool(r.json()["items"]) and r.json()["items"][0]["status"] == "delivered"

    await eventually(recorded, what="delivery recorded")
    r = await http.get(f"{gw.url}/api/v1/webhooks/{hook['id']}/deliveries", headers=key)
    [d] = r.json()["items"]
    assert d["attempts"] == 3 and [a["status_code"] for a in d["attempt_log"]] == [500, 500, 200]
    assert [a["error"] for a in d["attempt_log"]] == ["http_500", "http_500", None]  # categories only
    q = """query($id: ID!) { webhook(id: $id) { url deliveries(first: 5) {
      edges { node { status attempts attemptLog { attempt statusCode } } } } } }"""
    g = await gw.gql(http, q, {"id": hook["id"]}, headers=key)
    node = g["data"]["webhook"]["deliveries"]["edges"][0]["node"]
    assert node["status"] == "delivered" and [a["statusCode"] for a in node["attemptLog"]] == [500, 500, 200]
    # Another subtree's integrator cannot see this webhook at all.
    other = gw.headers(["assessment_office"], tree["B"]["path"])
    r = await http.get(f"{gw.url}/api/v1/webhooks/{hook['id']}/deliveries", headers=other)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def _ws(h: Harness, token: str) -> Any:
    ws = await websockets.connect(
        h.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    ack = json.loads(await ws.recv())
    assert ack["type"] == "connection_ack", ack
    return ws


async def test_subscription_receives_live_ranking_changes_for_its_subtree(
    gw: Harness,
    http: httpx.AsyncClient,
    tree: dict[str, Any],
) -> None:
    token = gw.token(["leader"], tree["A"]["path"])
    ws = await _ws(gw, token)
    try:
        q = """subscription($root: ID) { rankingChanged(rootId: $root) {
          unitId period score { total version } unit { name path } } }"""
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": q, "variables": {}}}))
        await asyncio.sleep(0.3)  # the subscription is registered before the events happen
        dept = gw.headers(["department"], "/", indicator_codes=[tree["code"]])
        for unit in ("B1", "A2"):
            sub = await _submit(gw, http, tree[unit]["id"], tree["code"], "2026-04")
            res = await gw.gql(http, APPROVE, {"s": sub}, headers=dept)
            assert not res["data"]["submissionApprove"]["errors"], res
        msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert msg["type"] == "next", msg
        data = msg["payload"]["data"]["rankingChanged"]
        assert data["unitId"] == tree["A2"]["id"] and data["unit"]["path"] == tree["A2"]["path"]
        assert data["score"]["total"] > 0 and data["period"] == "2026-04"
        # Per-connection cap (5): the 6th concurrent subscription on this connection is refused.
        for i in range(2, 7):
            payload = {"query": "subscription { warningChanged { change } }"}
            await ws.send(json.dumps({"id": str(i), "type": "subscribe", "payload": payload}))
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert msg["id"] == "6" and _error_code(msg) == "too_many_subscriptions", msg
    finally:
        await ws.close()


def _error_code(msg: dict[str, Any]) -> str:
    """The code of a subscription's error, sent as `error` or as `next` with errors."""
    errors = msg["payload"] if msg["type"] == "error" else msg["payload"]["errors"]
    return str(errors[0]["extensions"]["code"])


async def test_subscription_needs_authentication(gw: Harness) -> None:
    ws = await websockets.connect(
        gw.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    try:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        q = {"query": "subscription { rankingChanged { unitId } }"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": q}))
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert _error_code(msg) == "unauthenticated", msg
    finally:
        with contextlib.suppress(Exception):
            await ws.close()


async def test_no_n_plus_one_requests_do_not_grow_with_page_size(
    gw: Harness,
    http: httpx.AsyncClient,
    tree: dict[str, Any],
) -> None:
    office = gw.headers(["assessment_office"], "/")
    root = tree["A1"]["id"]
    for i in range(40):
        r = await gw.gql(
            http,
            "mutation($i: UnitCreateInput!) { unitCreate(input: $i) { errors { code } } }",
            {"i": {"id": f"{root}v{i:02d}", "name": f"村{i}", "kind": "village", "parentId": root}},
            headers=office,
        )
        assert not r["data"]["unitCreate"]["errors"]
    q = """query($root: ID!, $n: Int!) { unitSubtree(rootId: $root, first: $n) { edges { node {
      id name score { total rank grade } evidence { id } supervisionSignals { total }
      resultRecords { seq amountFen }
      parent { name } } } pageInfo { hasNextPage endCursor } } }"""
    counts = []
    for n in (5, 40):
        before = dict(gw.gw.upstream.calls)
        r = await gw.gql(http, q, {"root": root, "n": n}, headers=office)
        assert len(r["data"]["unitSubtree"]["edges"]) == n, r
        after = gw.gw.upstream.calls
        counts.append({s: after[s] - before.get(s, 0) for s in after if after[s] - before.get(s, 0)})
    assert counts[0] == counts[1], counts
    assert counts[1] == {"indicators": 3, "scoring": 1, "supervision": 1, "rewards": 1}, counts


async def test_rest_openapi_problems_bulk_and_export(
    gw: Harness,
    http: httpx.AsyncClient,
    tree: dict[str, Any],
) -> None:
    spec = (await http.get(f"{gw.url}/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    for path in ("/api/v1/submissions/bulk", "/api/v1/statistics", "/api/v1/results", "/api/v1/webhooks"):
        assert path in spec["paths"]
    office = gw.headers(["assessment_office"], "/")
    r = await http.post(
        f"{gw.url}/api/v1/webhooks", json={"url": "ftp://x", "event_types": ["nope"]}, headers=office
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "validation_failed" and r.json()["field"] == "url"
    r = await http.post(f"{gw.url}/api/v1/submissions/bulk", json={"period": "2026-Q1"}, headers=office)
    assert r.status_code == 422 and r.json()["field"] == "scheme_id"
    r = await http.post(
        f"{gw.url}/api/v1/submissions/bulk",
        json={
            "scheme_id": "no-such-scheme",
            "period": "2026-Q1",
            "unit_id": tree["A1"]["id"],
            "rows": [{"a": 1}],
        },
        headers=office,
    )
    assert r.status_code == 404 and r.json()["code"] == "not_found", r.text
    r = await http.get(f"{gw.url}/api/v1/results", params={"root_id": tree["A"]["id"]}, headers=office)
    assert r.status_code == 200 and {i["unit_id"] for i in r.json()["items"]} >= {tree["A1"]["id"]}
    r = await http.get(
        f"{gw.url}/api/v1/results", params={"root_id": tree["A"]["id"], "format": "csv"}, headers=office
    )
    assert r.headers["content-type"].startswith("text/csv") and "unit_id" in r.text
