"""A scheme written from the GraphQL schema: typed `document` in, typed `document` out, through the gateway.

A province publishes a scheme with a 下达 indicator; a city validates, saves and publishes a rich typed
scheme that 承接 it (every kind of standard, schedules, data elements, supplements, overrides, a
coefficient) and reads it back typed, equal to what it sent. Wrong inputs get `validation_failed` naming
the input field as the caller spelled it.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.gateway import Harness
from tests.support.scheme_documents import DOCUMENT, as_input, parent_input, rich_input

ERR = "errors { code field message }"
UNIT_CREATE = f"mutation($i: UnitCreateInput!) {{ unitCreate(input: $i) {{ unit {{ id }} {ERR} }} }}"
CATEGORIES_SET = f"mutation($i: CategoriesSetInput!) {{ categoriesSet(input: $i) {{ {ERR} }} }}"
VALIDATE = """query($a: String!, $y: Int!, $d: SchemeInput) {
  schemeValidate(assessingUnit: $a, year: $y, document: $d) { ok problems { path code message } } }"""
SAVE = f"""mutation($i: SchemeSaveInput!) {{
  schemeSave(input: $i) {{ scheme {{ id status }} problems {ERR} }} }}"""
PUBLISH = f"mutation($id: String!) {{ schemePublish(schemeId: $id) {{ scheme {{ id status }} {ERR} }} }}"
VALIDATE_JSON = """query($a: String!, $y: Int!, $s: JSON) {
  schemeValidate(assessingUnit: $a, year: $y, scheme: $s) { ok problems { path code message } } }"""
READ_STANDARDS = """query($id: ID!) { scheme(id: $id) { document { trunk { code
  standard { __typename ... on CompletionRatioStandard { cap floor } } } } } }"""
READ = f"""query($id: ID!) {{ scheme(id: $id) {{ status version document {{ ...Doc }}
  trunk {{ code children {{ code standardTyped {{ __typename ... on CompletionRatioStandard {{ cap }} }}
    scheduleTyped {{ kind milestones {{ month }} }} }} }} }} }}
{DOCUMENT}"""


def _ok(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"][field]
    assert not data.get("errors"), data
    return data


async def test_a_typed_scheme_is_saved_published_and_read_back_as_sent(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    tag = uuid.uuid4().hex[:6]
    office = gw.headers(["assessment_office"], "/")

    async def q(query: str, v: dict[str, Any]) -> dict[str, Any]:
        return await gw.gql(http, query, v, headers=office)

    province, city, county, town, dept = (f"{k}{tag}" for k in ("P", "C", "K", "T", "D"))
    for uid, parent, kind in [
        (province, None, "province"),
        (city, province, "city"),
        (county, city, "county"),
        (town, city, "township"),
        (dept, city, "department"),
    ]:
        inp = {"id": uid, "name": f"单位{uid}", "kind": kind, **({"parentId": parent} if parent else {})}
        _ok(await q(UNIT_CREATE, {"i": inp}), "unitCreate")

    # the province's scheme, typed, with the 下达 indicator PGDP
    up = _ok(
        await q(SAVE, {"i": {"assessingUnit": province, "year": 2026, "document": parent_input()}}),
        "schemeSave",
    )
    assert up["problems"] == []
    _ok(await q(PUBLISH, {"id": up["scheme"]["id"]}), "schemePublish")

    members = [{"unitId": county, "category": "县区"}, {"unitId": town, "category": "乡镇"}]
    cats = {"assessingUnit": city, "year": 2026, "categories": [{"name": "县区"}, {"name": "乡镇"}]}
    _ok(await q(CATEGORIES_SET, {"i": {**cats, "members": members}}), "categoriesSet")

    sent = rich_input(parent=province, county=county, town=town, dept=dept)
    checked = await q(VALIDATE, {"a": city, "y": 2026, "d": sent})
    assert checked.get("errors") is None and checked["data"]["schemeValidate"] == {"ok": True, "problems": []}
    saved = _ok(await q(SAVE, {"i": {"assessingUnit": city, "year": 2026, "document": sent}}), "schemeSave")
    assert saved["problems"] == [] and saved["scheme"]["status"] == "draft"
    sid = saved["scheme"]["id"]
    assert _ok(await q(PUBLISH, {"id": sid}), "schemePublish")["scheme"]["status"] == "published"

    read = await q(READ, {"id": sid})
    assert "errors" not in read, read
    scheme = read["data"]["scheme"]
    assert scheme["status"] == "published"
    assert as_input(scheme["document"]) == sent
    gdp = scheme["trunk"][0]["children"][0]  # the legacy trunk view gains the typed standard and schedule
    assert gdp["code"] == "GDP"
    assert gdp["standardTyped"] == {"__typename": "CompletionRatioStandard", "cap": 1.2}
    assert gdp["scheduleTyped"] == {
        "kind": "MILESTONES",
        "milestones": [{"month": 3}, {"month": 6}, {"month": 12}],
    }


async def test_wrong_typed_input_names_the_field(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    tag = uuid.uuid4().hex[:6]
    office = gw.headers(["assessment_office"], "/")
    city = f"W{tag}"
    r = await gw.gql(http, UNIT_CREATE, {"i": {"id": city, "name": "某市", "kind": "city"}}, headers=office)
    _ok(r, "unitCreate")
    leaf = {"code": "A", "name": "甲", "level": 1, "weight": 100, "target": 1}
    good = {"trunk": [{**leaf, "standard": {"completionRatio": {"cap": 1.2}}}]}
    bad_cap = {"trunk": [{**leaf, "standard": {"completionRatio": {"cap": 5}}}]}
    base = {"assessingUnit": city, "year": 2026}

    async def save_errors(extra: dict[str, Any]) -> list[dict[str, Any]]:
        body = await gw.gql(http, SAVE, {"i": {**base, **extra}}, headers=office)
        assert "errors" not in body, body
        out: list[dict[str, Any]] = body["data"]["schemeSave"]["errors"]
        return out

    neither = await save_errors({})
    assert [(e["code"], e["field"]) for e in neither] == [("validation_failed", "document")]
    both = await save_errors({"document": good, "scheme": {"assessing_unit": city, "year": 2026}})
    assert [(e["code"], e["field"]) for e in both] == [("validation_failed", "scheme")]
    cap = await save_errors({"document": bad_cap})
    assert [(e["code"], e["field"]) for e in cap] == [
        ("validation_failed", "document.trunk.0.standard.completionRatio.cap")
    ]
    two_kinds = {"trunk": [{**leaf, "standard": {"completionRatio": {}, "deduction": {"perOccurrence": 1}}}]}
    body = await gw.gql(http, SAVE, {"i": {**base, "document": two_kinds}}, headers=office)
    assert body["data"] is None and "exactly one key" in body["errors"][0]["message"], body
    # schemeValidate: the same rule (a top-level error, as for any query)
    body = await gw.gql(http, VALIDATE_JSON, {"a": city, "y": 2026}, headers=office)
    assert body["errors"][0]["extensions"] == {"code": "validation_failed", "field": "document"}, body
    # the JSON import (files) still works and reads back typed
    body = await gw.gql(
        http, VALIDATE_JSON, {"a": city, "y": 2026, "s": scheme_json(good, city)}, headers=office
    )
    assert body["data"]["schemeValidate"] == {"ok": True, "problems": []}, body
    saved = _ok(
        await gw.gql(http, SAVE, {"i": {**base, "scheme": scheme_json(good, city)}}, headers=office),
        "schemeSave",
    )
    r = await gw.gql(http, READ_STANDARDS, {"id": saved["scheme"]["id"]}, headers=office)
    assert r["data"]["scheme"]["document"]["trunk"] == [
        {"code": "A", "standard": {"__typename": "CompletionRatioStandard", "cap": 1.2, "floor": 0.0}}
    ], r


def scheme_json(typed: dict[str, Any], city: str) -> dict[str, Any]:
    """The one-leaf typed scheme used above as the model's JSON, as a file would hold it."""
    (leaf,) = typed["trunk"]
    std = {"type": "completion_ratio", "cap": leaf["standard"]["completionRatio"]["cap"]}
    return {"assessing_unit": city, "year": 2026, "trunk": [{**leaf, "standard": std}]}


REPORTING_READ = """query($id: ID!) { scheme(id: $id) { version status
  document { name reporting { dueWorkdays remindWorkdays } } } }"""
NEW_VERSION = (
    f"mutation($id: String!) {{ schemeNewVersion(schemeId: $id) {{ scheme {{ id version }} {ERR} }} }}"
)
DIFF = "query($id: ID!) { schemeDiff(id: $id) { entries text } }"


async def test_the_reporting_rule_is_saved_kept_when_left_out_and_refused_out_of_range(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    tag = uuid.uuid4().hex[:6]
    office = gw.headers(["assessment_office"], "/")
    city = f"R{tag}"

    async def q(query: str, v: dict[str, Any]) -> dict[str, Any]:
        return await gw.gql(http, query, v, headers=office)

    _ok(await q(UNIT_CREATE, {"i": {"id": city, "name": "某市", "kind": "city"}}), "unitCreate")
    leaf = {"code": "A", "name": "甲", "level": 1, "weight": 100, "target": 1}
    doc = {"name": "报送要求测试", "trunk": [{**leaf, "standard": {"completionRatio": {"cap": 1.2}}}]}
    base = {"assessingUnit": city, "year": 2026}

    async def save(extra: dict[str, Any]) -> dict[str, Any]:
        body = await q(SAVE, {"i": {**base, **extra}})
        assert "errors" not in body, body
        out: dict[str, Any] = body["data"]["schemeSave"]
        return out

    async def read(sid: str) -> dict[str, Any]:
        body = await q(REPORTING_READ, {"id": sid})
        assert "errors" not in body, body
        out: dict[str, Any] = body["data"]["scheme"]
        return out

    # a first save without it: the defaults
    first = await save({"document": doc})
    assert not first["errors"], first
    sid = first["scheme"]["id"]
    assert (await read(sid))["document"]["reporting"] == {"dueWorkdays": 5, "remindWorkdays": 2}

    # a non-default rule reads back as sent
    rule = {"dueWorkdays": 8, "remindWorkdays": 0}
    assert not (await save({"schemeId": sid, "document": {**doc, "reporting": rule}}))["errors"]
    assert (await read(sid))["document"]["reporting"] == rule

    # a second save into the draft that leaves it out (a client not knowing it) keeps it
    assert not (await save({"schemeId": sid, "document": {**doc, "name": "改名"}}))["errors"]
    assert (await read(sid))["document"] == {"name": "改名", "reporting": rule}

    # out of range: refused naming the field as written, the draft unchanged
    for bad, field in [
        ({"dueWorkdays": 0}, "document.reporting.dueWorkdays"),
        ({"dueWorkdays": 21}, "document.reporting.dueWorkdays"),
        ({"dueWorkdays": 5, "remindWorkdays": -1}, "document.reporting.remindWorkdays"),
        ({"remindWorkdays": 21}, "document.reporting.remindWorkdays"),
    ]:
        r = await save({"schemeId": sid, "document": {**doc, "reporting": bad}})
        assert [(e["code"], e["field"]) for e in r["errors"]] == [("validation_failed", field)], (bad, r)
    assert (await read(sid))["document"] == {"name": "改名", "reporting": rule}
    body = await q(VALIDATE, {"a": city, "y": 2026, "d": {**doc, "reporting": {"dueWorkdays": 21}}})
    assert body["errors"][0]["extensions"] == {
        "code": "validation_failed",
        "field": "document.reporting.dueWorkdays",
    }, body

    # published, then a new version: the rule is carried into it, and a change is in the 版本差异
    _ok(await q(PUBLISH, {"id": sid}), "schemePublish")
    v2 = _ok(await q(NEW_VERSION, {"id": sid}), "schemeNewVersion")["scheme"]
    assert (await read(v2["id"]))["document"]["reporting"] == rule
    changed = {"dueWorkdays": 10, "remindWorkdays": 3}
    v2_doc = {**doc, "name": "改名", "reporting": changed}
    assert not (await save({"schemeId": v2["id"], "document": v2_doc}))["errors"]
    body = await q(DIFF, {"id": v2["id"]})
    assert "errors" not in body, body
    diff = body["data"]["schemeDiff"]
    (entry,) = diff["entries"]
    assert (entry["kind"], entry["subject"]) == ("changed", "scheme")
    assert [(c["field"], c["label"]) for c in entry["changes"]] == [("reporting", "报送时限")]
    assert (
        "    报送时限：次月第 8 个工作日前报送，截止当日提醒 → 次月第 10 个工作日前报送，提前 3 个工作日提醒"
        in (diff["text"].splitlines())
    )

    # the next version saved afresh (no schemeId) without the rule keeps the latest version's
    _ok(await q(PUBLISH, {"id": v2["id"]}), "schemePublish")
    v3 = await save({"document": doc})
    assert not v3["errors"], v3
    got = await read(v3["scheme"]["id"])
    assert (got["version"], got["document"]["reporting"]) == (3, changed)
