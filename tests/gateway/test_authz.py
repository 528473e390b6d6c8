"""Authorization matrix: every role × every operation × inside/outside the caller's subtree — zero leaks.

Callers are scoped to city A. "Inside" targets county A1, "outside" county B1 under city B; an outside
answer must look exactly like the answer about a unit that does not exist, and never carry B1's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gateway.policy import Op, allowed
from kaohe.identity import Caller, Role
from tests.conftest import eventually
from tests.support.gateway import Harness, make_tree
from tests.support.seed import SYSTEM, YEAR

DENIED = {
    "forbidden",
    "forbidden_role",
    "forbidden_scope",
    "forbidden_indicator",
    "not_found",
    "unauthenticated",
}
ROLES = [r for r in Role if r is not Role.system]


@dataclass
class World:
    tag: str
    tree: dict[str, dict[str, Any]]
    code: str
    subs: dict[str, str]  # target key -> submission id
    keys: dict[str, str]  # API keys by name


@pytest_asyncio.fixture(scope="module")
async def world(gw: Harness) -> World:
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=30) as http:
        tree = await make_tree(gw, http, tag)
        office = gw.headers(["assessment_office"], "/")
        code = f"AZ-{tag}"
        await one_leaf_scheme(gw, tree["P"]["id"], [tree[k]["id"] for k in ("A1", "A2", "B1")], code)
        subs = {}
        for key in ("A1", "B1"):
            scored = await _submit(gw, http, office, tree[key]["id"], code, "2026-Q1")
            r = await gw.gql(
                http,
                """mutation($s: String!) {
                  submissionApprove(submissionId: $s) { errors { code message } } }""",
                {"s": scored},
                headers=office,
            )
            assert not r["data"]["submissionApprove"]["errors"], r
            subs[key] = await _submit(gw, http, office, tree[key]["id"], code, "2026-Q2")
            r = await gw.gql(http, EVIDENCE_UPLOAD, _evidence_vars(subs[key]), headers=office)
            assert not r["data"]["evidenceUploadRequest"]["errors"], r
        q = """query($id: ID!) {
          unit(id: $id) { score { total } supervisionSignals { total } } }"""
        for key in ("A1", "B1"):

            async def scored(key: str = key) -> bool:
                u = (await gw.gql(http, q, {"id": tree[key]["id"]}, headers=office))["data"]["unit"]
                return bool(u["score"] and u["supervisionSignals"])

            await eventually(scored, what=f"score of {key} through the gateway")
        keys = {}
        for name, scopes in (("all", ["*"]), ("readonly", ["results:read"])):
            r = await http.post(
                f"{gw.url}/api/v1/api-keys",
                json={"name": name, "scopes": scopes, "org_path": tree["A"]["path"]},
                headers=office,
            )
            assert r.status_code == 201, r.text
            keys[name] = r.json()["key"]
    return World(tag, tree, code, subs, keys)


async def one_leaf_scheme(h: Harness, assessing_unit: str, members: list[str], code: str) -> None:
    """Publish a scheme whose only indicator is the leaf `code` (completion ratio, target 8) for `members`."""

    async def call(method: str, params: dict[str, Any]) -> Any:
        return await h.gw.upstream.call("indicators", method, params, SYSTEM)

    cat = "县区"
    base = {"assessing_unit": assessing_unit, "year": YEAR}
    await call(
        "categories_set", {**base, "categories": [{"name": cat}], "members": dict.fromkeys(members, cat)}
    )
    leaf = {"code": code, "name": "测试指标", "level": 1, "weight": 100, "target": 8}
    leaf["standard"] = {"type": "completion_ratio", "cap": 1.2}
    scheme = {**base, "name": f"{YEAR}年度考核 ({code})", "categories": [cat], "trunk": [leaf]}
    saved = await call("scheme_save", {**base, "scheme": scheme})
    assert not saved["problems"], saved
    await call("scheme_publish", {"scheme_id": saved["scheme"]["id"]})


EVIDENCE_UPLOAD = """mutation($i: EvidenceUploadInput!) {
  evidenceUploadRequest(input: $i) { evidenceId errors { code } } }"""


def _evidence_vars(sub: str) -> dict[str, Any]:
    pdf = {"filename": "a.pdf", "contentType": "application/pdf", "size": 10, "sha256": "0" * 64}
    return {"i": {"submissionId": sub, **pdf}}


async def _submit(
    h: Harness, http: httpx.AsyncClient, hdr: dict[str, str], unit: str, code: str, period: str
) -> str:
    r = await h.gql(
        http,
        """mutation($i: SubmissionCreateInput!) { submissionCreate(input: $i) {
           node { id } errors { code message } } }""",
        {"i": {"unitId": unit, "indicatorCode": code, "period": period, "value": 5}},
        headers=hdr,
    )
    assert not r["data"]["submissionCreate"]["errors"], r
    return str(r["data"]["submissionCreate"]["node"]["id"])


Outcome = tuple[bool, str]  # (allowed, the whole response text for leak checks)


def _codes(body: dict[str, Any]) -> set[str]:
    out = {e.get("extensions", {}).get("code", "?") for e in body.get("errors") or []}

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for e in x.get("errors") or []:
                if isinstance(e, dict) and "code" in e:
                    out.add(e["code"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(body.get("data"))
    return out


def _gql(
    query: str, var: Callable[[World, str], dict[str, Any]], *, read: Callable[[Any], bool] | None = None
):
    """An operation run through GraphQL; `read` judges a read's data (True = data was returned)."""

    async def run(h: Harness, http: httpx.AsyncClient, hdr: dict[str, str], w: World, target: str) -> Outcome:
        body = await h.gql(http, query, var(w, target), headers=hdr)
        codes = _codes(body)
        if codes & DENIED:
            return False, str(body)
        if read is not None:
            return read(body.get("data")), str(body)
        return True, str(body)

    return run


def _uid(w: World, t: str) -> str:
    return w.tree[t]["id"] if t in w.tree else f"ZZ{w.tag}"


def _unit_field(field: str) -> Callable[[Any], bool]:
    def read(data: Any) -> bool:
        u = (data or {}).get("unit")
        return bool(u and u.get(field))

    return read


OPS: dict[Op, Any] = {
    Op.unit_read: _gql(
        "query($id: ID!) { unit(id: $id) { id path } }",
        lambda w, t: {"id": _uid(w, t)},
        read=_unit_field("id"),
    ),
    Op.score_read: _gql(
        "query($id: ID!) { unit(id: $id) { score { total } } }",
        lambda w, t: {"id": _uid(w, t)},
        read=_unit_field("score"),
    ),
    Op.evidence_read: _gql(
        "query($id: ID!) { unit(id: $id) { evidence { id } } }",
        lambda w, t: {"id": _uid(w, t)},
        read=_unit_field("evidence"),
    ),
    Op.supervision_read: _gql(
        "query($id: ID!) { unit(id: $id) { supervisionSignals { total } } }",
        lambda w, t: {"id": _uid(w, t)},
        read=_unit_field("supervisionSignals"),
    ),
    # rewards (实绩档案 holds approved results only): tests/gateway/test_rewards_authz.py
    Op.unit_write: _gql(
        """mutation($i: UnitCreateInput!) { unitCreate(input: $i) { unit { id } errors { code } } }""",
        lambda w, t: {
            "i": {
                "id": f"N{uuid.uuid4().hex[:8]}",
                "name": "新单位",
                "kind": "township",
                "parentId": _uid(w, t),
            }
        },
    ),
    Op.submission_read: _gql(
        "query($u: String!) { submissions(unitId: $u) { edges { node { id unitId } } } }",
        lambda w, t: {"u": _uid(w, t)},
    ),
    Op.submission_write: _gql(
        """mutation($i: SubmissionCreateInput!) {
          submissionCreate(input: $i) { node { id } errors { code } } }""",
        lambda w, t: {
            "i": {
                "unitId": _uid(w, t),
                "indicatorCode": w.code,
                "period": f"2026-0{1 + len(w.tag) % 8}",
                "value": 1,
            }
        },
    ),
    Op.submission_review: _gql(
        """mutation($s: String!) {
          submissionReject(submissionId: $s, reason: "请补充") { node { id } errors { code } } }""",
        lambda w, t: {"s": w.subs.get(t, f"ZZ{w.tag}")},
    ),
    Op.evidence_write: _gql(EVIDENCE_UPLOAD, lambda w, t: _evidence_vars(w.subs.get(t, f"ZZ{w.tag}"))),
}


async def _rest_results(
    h: Harness, http: httpx.AsyncClient, hdr: dict[str, str], w: World, t: str
) -> Outcome:
    r = await http.get(f"{h.url}/api/v1/results", params={"root_id": _uid(w, t)}, headers=hdr)
    return r.status_code == 200, r.text


async def _webhook(h: Harness, http: httpx.AsyncClient, hdr: dict[str, str], w: World, t: str) -> Outcome:
    r = await http.get(f"{h.url}/api/v1/webhooks", headers=hdr)
    return r.status_code == 200, r.text


async def _apikeys(h: Harness, http: httpx.AsyncClient, hdr: dict[str, str], w: World, t: str) -> Outcome:
    r = await http.get(f"{h.url}/api/v1/api-keys", headers=hdr)
    return r.status_code == 200, r.text


OPS[Op.results_export] = _rest_results
SUBTREE_FREE = {Op.webhook_manage: _webhook, Op.apikey_manage: _apikeys}  # not about one unit


def _caller(role: Role, w: World) -> tuple[Caller, dict[str, str]]:
    path = w.tree["A"]["path"]
    if role is Role.integration:
        return (
            Caller(user_id="k", roles=frozenset({role}), org_path=path, scopes=frozenset({"*"})),
            {"X-Api-Key": w.keys["all"]},
        )
    codes = frozenset({w.code} if role is Role.department else ())  # a 责任部门 writes only its own
    return Caller(user_id="u", roles=frozenset({role}), org_path=path, indicator_codes=codes), {}


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_matrix(gw: Harness, world: World, role: Role) -> None:
    caller, hdr = _caller(role, world)
    if not hdr:
        hdr = gw.headers([role.value], caller.org_path, indicator_codes=sorted(caller.indicator_codes))
    b1 = world.tree["B1"]
    async with httpx.AsyncClient(timeout=30) as http:
        for op, run in OPS.items():
            expect = allowed(caller, op)
            inside, _ = await run(gw, http, hdr, world, "A1")
            assert inside == expect, f"{role.value} {op.value} inside: expected allowed={expect}"
            outside, text = await run(gw, http, hdr, world, "B1")
            assert outside is False, f"{role.value} {op.value} outside must be denied: {text}"
            assert b1["path"] not in text and "单位B1" not in text, f"leak in {op.value}: {text}"
            missing, missing_text = await run(gw, http, hdr, world, "nonexistent")
            assert missing is False
            assert _codes_of(text) == _codes_of(missing_text), f"{op.value}: outside differs from missing"
        for op, run in SUBTREE_FREE.items():
            ok, text = await run(gw, http, hdr, world, "A1")
            assert ok == allowed(caller, op), f"{role.value} {op.value}"
            assert b1["path"] not in text


def _codes_of(text: str) -> list[str]:
    import re

    return sorted(set(re.findall(r"'code': '([a-z_]+)'", text)))


async def test_scoped_api_key_and_department_indicators(gw: Harness, world: World) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        ro = {"X-Api-Key": world.keys["readonly"]}
        ok, _ = await OPS[Op.submission_write](gw, http, ro, world, "A1")
        assert ok is False  # results:read does not grant submissions:write
        ok, _ = await _rest_results(gw, http, ro, world, "A1")
        assert ok is True
        dept = gw.headers(["department"], world.tree["A"]["path"], indicator_codes=["SOMETHING-ELSE"])
        ok, text = await OPS[Op.submission_write](gw, http, dept, world, "A1")
        assert ok is False and "forbidden" in text
        # Platform roles cannot be claimed by a user token; forged or revoked keys do not work.
        for role in ("system", "integration"):
            r = await http.post(
                f"{gw.url}/graphql", json={"query": "{ __typename }"}, headers=gw.headers([role], "/")
            )
            assert r.status_code == 401
        r = await http.post(
            f"{gw.url}/graphql",
            json={"query": "{ __typename }"},
            headers={"X-Api-Key": world.keys["all"] + "x"},
        )
        assert r.status_code == 401
