"""Query cost and response size, bad input (NUL, deep JSON) as 4xx with a code, production quietness."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from gateway.config import GatewayConfig
from gateway.graphql.schema import build_schema
from kaohe.errors import KaoheError
from kaohe.runtime import create_app
from kaohe.settings import InfraSettings
from tests.conftest import Infra
from tests.support.gateway import UNIT_CREATE, Harness, harness, make_tree
from tests.support.seed import SYSTEM

NESTED = """{ unitSubtree(rootId: "%s") { edges { node { id ancestors { id
  children { edges { node { id evidence { downloadUrl } } } } } } } } }"""


@pytest_asyncio.fixture(scope="module")
async def hl(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    """The gateway with the indicators service, a response limit of 50 kB."""
    async with harness(infra, template_db, services=("indicators",), max_response_bytes=50_000) as h:
        async with httpx.AsyncClient(timeout=30) as client:
            h.extra["tree"] = await make_tree(h, client, uuid.uuid4().hex[:6])
        yield h


def _office(h: Harness) -> dict[str, str]:
    return h.headers(["assessment_office"], "/")


def _sent(h: Harness) -> int:
    """Every RPC the gateway's process sent (NATS requests of its RpcClient)."""
    assert h.gateway.client is not None
    return h.gateway.client.calls


async def test_nested_list_query_is_refused_before_execution(hl: Harness, http: httpx.AsyncClient) -> None:
    root = hl.extra["tree"]["P"]["id"]
    for query in (
        NESTED % root,
        "{ " + " ".join(f"a{i}: " + NESTED.strip()[1:-1] % root for i in range(3)) + " }",  # aliases
    ):
        before = _sent(hl)
        r = await hl.gql(http, query, headers=_office(hl))
        assert r.get("data") is None, r
        [err] = r["errors"]
        ext = err["extensions"]
        assert ext["code"] == "query_too_costly" and ext["limit"] == hl.cfg.max_query_cost
        assert ext["cost"] > ext["limit"] and str(ext["cost"]) in err["message"]
        assert _sent(hl) == before  # not one service call: refused before execution
    # The same shape with small pages is an ordinary query and runs.
    small = NESTED.replace("unitSubtree(", "unitSubtree(first: 5, ")
    small = small.replace("children {", "children(first: 5) {")
    r = await hl.gql(http, small % root, headers=_office(hl))
    assert not r.get("errors"), r
    assert r["data"]["unitSubtree"]["edges"][0]["node"]["id"] == root


async def test_page_arguments_from_variables_count(hl: Harness, http: httpx.AsyncClient) -> None:
    q = """query($r: ID!, $n: Int) { unitSubtree(rootId: $r, first: $n) { edges { node {
      ancestors { children(first: $n) { edges { node { evidence { downloadUrl } } } } } } } } }"""
    root = hl.extra["tree"]["P"]["id"]
    r = await hl.gql(http, q, {"r": root, "n": 200}, headers=_office(hl))
    assert r["errors"][0]["extensions"]["code"] == "query_too_costly"
    r = await hl.gql(http, q, {"r": root, "n": 2}, headers=_office(hl))
    assert not r.get("errors"), r


async def test_response_size_guard(hl: Harness, http: httpx.AsyncClient) -> None:
    q = "{ __schema { types { name description fields { name description args { name description } } } } }"
    r = await http.post(f"{hl.url}/graphql", json={"query": q}, headers=_office(hl))
    assert r.status_code == 200 and len(r.content) < 2_000
    [err] = r.json()["errors"]
    assert err["extensions"]["code"] == "response_too_large" and err["extensions"]["limit"] == 50_000


def _assert_bad_input(r: httpx.Response, field: str, code: str = "invalid_character") -> None:
    assert r.status_code == 400, r.text
    body = r.json()
    if r.request.url.path.startswith("/graphql"):
        ext = body["errors"][0]["extensions"]
        assert (ext["code"], ext["field"]) == (code, field), body
    else:
        assert r.headers["content-type"] == "application/problem+json"
        assert (body["code"], body["field"]) == (code, field), body


async def test_nul_bytes_are_client_errors_everywhere(hl: Harness, http: httpx.AsyncClient) -> None:
    office, url = _office(hl), hl.url
    # GraphQL: a unit name, a filename and a webhook URL in variables.
    r = await http.post(
        f"{url}/graphql",
        json={"query": UNIT_CREATE, "variables": {"i": {"id": "n1", "name": "单位\x00", "kind": "county"}}},
        headers=office,
    )
    _assert_bad_input(r, "variables.i.name")
    upload = """mutation($i: EvidenceUploadInput!) { evidenceUploadRequest(input: $i) { evidenceId } }"""
    variables = {
        "i": {"submissionId": "s1", "filename": "a\x00.pdf", "contentType": "application/pdf", "size": 10}
    }
    r = await http.post(f"{url}/graphql", json={"query": upload, "variables": variables}, headers=office)
    _assert_bad_input(r, "variables.i.filename")
    hook = 'mutation($u: String!) { webhookCreate(url: $u, eventTypes: ["score.updated"]) { secret } }'
    r = await http.post(
        f"{url}/graphql", json={"query": hook, "variables": {"u": "https://a\x00.example/"}}, headers=office
    )
    _assert_bad_input(r, "variables.u")
    # GraphQL: a NUL in a string literal of the document, and in the query parameter of a GET.
    literal = 'mutation { unitCreate(input: {id: "n2", name: "a\\u0000b", kind: "county"}) { unit { id } } }'
    r = await http.post(f"{url}/graphql", json={"query": literal}, headers=office)
    assert r.json()["errors"][0]["extensions"]["code"] == "invalid_character", r.text
    assert r.json().get("data") is None
    r = await http.get(f"{url}/graphql", params={"query": '{ unit(id: "a\x00") { id } }'}, headers=office)
    _assert_bad_input(r, "query")
    # REST: query parameter, path parameter, JSON body strings (webhook URL, filename).
    r = await http.get(f"{url}/api/v1/results", params={"root_id": "a\x00"}, headers=office)
    _assert_bad_input(r, "root_id")
    r = await http.get(f"{url}/api/v1/webhooks/a%00b/deliveries", headers=office)
    _assert_bad_input(r, "path")
    r = await http.post(
        f"{url}/api/v1/webhooks",
        json={"url": "https://a\x00.example/", "event_types": ["score.updated"]},
        headers=office,
    )
    _assert_bad_input(r, "url")
    body = {"scheme_id": "s", "period": "2026-Q1", "filename": "x\x00.csv", "rows": [{"a": 1}]}
    r = await http.post(f"{url}/api/v1/submissions/bulk", json=body, headers=office)
    _assert_bad_input(r, "filename")


async def test_rpc_refuses_nul_for_every_caller(hl: Harness) -> None:
    """Behind the gateway too (WebSockets, other services): the RPC server names the field."""
    with pytest.raises(KaoheError) as e:
        await hl.gw.upstream.call(
            "indicators", "unit_create", {"id": "n3", "name": "a\x00b", "kind": "county"}, SYSTEM
        )
    assert e.value.code == "invalid_character" and e.value.field == "name"


async def test_deeply_nested_json_is_a_client_error(hl: Harness, http: httpx.AsyncClient) -> None:
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000  # hand-written: client JSON encoders recurse too
    office = {**_office(hl), "Content-Type": "application/json"}
    body = b'{"query": "{ __typename }", "variables": {"v": ' + deep + b"}}"
    r = await http.post(f"{hl.url}/graphql", content=body, headers=office)
    _assert_bad_input(r, "body", "too_deep")
    body = b'{"scheme_id": "s", "period": "2026-Q1", "rows": [' + deep + b"]}"
    r = await http.post(f"{hl.url}/api/v1/submissions/bulk", content=body, headers=office)
    _assert_bad_input(r, "body", "too_deep")
    shallow = {"query": "{ __typename }", "variables": {"v": [[[[{"a": [1]}]]]] * 100}}
    assert (await http.post(f"{hl.url}/graphql", json=shallow, headers=office)).status_code == 200


async def test_client_errors_are_logged_at_info(
    hl: Harness,
    http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    r = await hl.gql(http, '{ webhook(id: "nope") { id } }', headers=_office(hl))
    assert r["errors"][0]["extensions"]["code"] == "not_found"
    r = await hl.gql(http, "{ nope }", headers=_office(hl))
    assert "Cannot query field" in r["errors"][0]["message"]
    errors = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert errors == [], [(r.name, r.getMessage()) for r in errors]
    refused = [rec for rec in caplog.records if rec.getMessage() == "graphql.request.refused"]
    assert [(rec.levelno, rec.kv["code"]) for rec in refused] == [(logging.INFO, "not_found")]  # type: ignore[attr-defined]
    invalid = [rec for rec in caplog.records if rec.getMessage() == "graphql.request.invalid"]
    assert [rec.levelno for rec in invalid] == [logging.INFO]


async def test_no_suggestions_in_production() -> None:
    dev = build_schema(GatewayConfig(environment="development"))
    prod = build_schema(GatewayConfig(environment="production"))
    q = '{ unitz(id: "x") { id } }'
    assert "Did you mean" in (await dev.execute(q)).errors[0].message  # type: ignore[index]
    [err] = (await prod.execute(q)).errors or []
    assert "Did you mean" not in err.message and "unit" not in err.message.replace("unitz", "")


@pytest.mark.parametrize(
    ("environment", "api_docs", "served"),
    [("development", None, True), ("production", None, False), ("production", True, True)],
)
async def test_api_docs_follow_the_environment(environment: str, api_docs: bool | None, served: bool) -> None:
    cfg = GatewayConfig(environment=environment, api_docs=api_docs)
    app = create_app(cfg, InfraSettings())  # nothing connects: the lifespan does not run here
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        for path in ("/openapi.json", "/docs"):
            assert (await client.get(path)).status_code == (200 if served else 404), path
        assert (await client.get("/redoc")).status_code == 404  # CDN-loaded, so never served
