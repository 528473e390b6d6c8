"""GraphQL errors carry a code of the published ErrorCode enum and the input path as the caller spelled it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from gateway.graphql.errors import CODES
from kaohe.errors import _BY_CODE
from tests.support.gateway import Harness, make_tree
from tests.support.seed import SYSTEM, publish_book

CREATE = """mutation($input: SubmissionCreateInput!) {
  submissionCreate(input: $input) { node { id } errors { code field message } } }"""
CONFIG_SET = """mutation($s: String!, $c: JSON!) {
  configSet(schemeId: $s, config: $c) { config errors { code field message } } }"""


async def test_document_and_variable_errors_have_codes_and_fields(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    office = gw.headers(["assessment_office"], "/")

    async def errors(query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        body = await gw.gql(http, query, variables, headers=office)
        assert body.get("errors"), body
        return [e["extensions"] for e in body["errors"]]

    value = {"unitId": "u1", "indicatorCode": "K1", "period": "2026-Q1", "value": "abc"}
    assert await errors(CREATE, {"input": value}) == [{"code": "bad_user_input", "field": "input.value"}]
    missing = "query($unitId: ID!) { unit(id: $unitId) { id } }"
    assert await errors(missing) == [{"code": "bad_user_input", "field": "unitId"}]
    assert await errors("query { unit(id: 1.5) { id } }") == [{"code": "graphql_validation", "field": None}]
    assert await errors("query { nope }") == [{"code": "graphql_validation", "field": None}]
    assert await errors("query { ") == [{"code": "graphql_parse_failed", "field": "query"}]
    ext = await errors('query { unitSubtree(rootId: "x", first: 0) { nodes { id } } }')
    assert ext[0]["code"] == "page_size_out_of_range" and ext[0]["field"] == "first"


async def test_error_code_enum_lists_kernel_and_gateway_codes(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    q = '{ __type(name: "ErrorCode") { kind enumValues { name description } } }'
    body = await gw.gql(http, q, headers=gw.headers(["assessment_office"], "/"))
    t = body["data"]["__type"]
    assert t["kind"] == "ENUM"
    names = {v["name"].lower(): v["description"] for v in t["enumValues"]}
    assert set(_BY_CODE) <= set(names)  # every kernel code
    assert {"bad_user_input", "graphql_validation", "graphql_parse_failed", "rate_limited"} <= set(names)
    assert set(names) == set(CODES) and all(names.values())


async def test_config_set_names_the_path_inside_config(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    tag = uuid.uuid4().hex[:4]
    tree = await make_tree(gw, http, tag)

    async def call(service: str, method: str, params: dict[str, Any]) -> Any:
        return await gw.gw.upstream.call(service, method, params, SYSTEM)

    book = await publish_book(
        call, assessing_unit=tree["A"]["id"], members=[tree["A1"]["id"]], tag=f"E{tag}".upper()
    )
    office = gw.headers(["assessment_office"], "/")
    bad = {"grades": {"thresholds": [["优秀", 90], ["良好", 95]]}}
    r = await gw.gql(http, CONFIG_SET, {"s": book.scheme_id, "c": bad}, headers=office)
    [err] = r["data"]["configSet"]["errors"]
    assert (err["code"], err["field"]) == ("validation_failed", "config.grades.thresholds"), err
    r = await gw.gql(http, CONFIG_SET, {"s": book.scheme_id, "c": {"supervision_weight": 2}}, headers=office)
    assert r["data"]["configSet"]["errors"][0]["field"] == "config.supervision_weight"
    aspects = {"quarter_aspects": [{"code": "leader_review", "name": "领导评议", "weight": 1}]}
    r = await gw.gql(http, CONFIG_SET, {"s": book.scheme_id, "c": aspects}, headers=office)
    assert r["data"]["configSet"]["errors"][0]["field"] == "config.quarter_aspects"


async def test_malformed_http_requests_are_graphql_errors_with_codes(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    office = {**gw.headers(["assessment_office"], "/"), "Content-Type": "application/json"}
    cases = [
        (b"{not json", "body"),
        (b'{"variables": {}}', "query"),
        (b'{"query": "{ __typename }", "variables": [1]}', "variables"),
    ]
    for body, field in cases:
        r = await http.post(f"{gw.url}/graphql", content=body, headers=office)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/json"), r.text
        assert r.json()["errors"][0]["extensions"] == {"code": "bad_request", "field": field}, body
    r = await http.get(f"{gw.url}/graphql", params={"query": "mutation { __typename }"}, headers=office)
    assert r.status_code == 400 and r.json()["errors"][0]["extensions"] == {
        "code": "bad_request",
        "field": "query",
    }
