"""结果运用 authorization matrix at the GraphQL layer: every role with a subtree (city A) against a target
inside it (A, A1), outside it (B, B1) and one that does not exist — outside answers exactly as missing, and
nothing of B leaks. Plus the API-key scopes of the HR and payroll REST routes."""

from __future__ import annotations

import base64
import io
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openpyxl import Workbook

from kaohe.identity import Role
from tests.conftest import eventually
from tests.support.gateway import Harness, make_tree

pytestmark = pytest.mark.asyncio
RULES = [{"kind": "honour", "id": "best", "basis": "评先评优办法 第三条", "honour": "先进单位",
          "period_kind": "quarter", "condition": {"grades": ["优秀"]}}]  # fmt: skip
CREATE = """mutation($u: String!, $r: JSON!) { rewardRuleSetCreate(assessingUnit: $u, year: 2026, rules: $r) {
  node { assessingUnit version } errors { code field message } } }"""


@dataclass
class World:
    tree: dict[str, dict[str, Any]]
    key: dict[str, str]  # an integration API key of A's subtree, all scopes


Probe = Callable[[Harness, httpx.AsyncClient, dict[str, str], str], Awaitable[tuple[bool, str]]]


@pytest_asyncio.fixture(scope="module")
async def world(gw: Harness) -> World:
    """The tree P → A (A1, A2), B (B1); a draft rule set of A and of B; rewards knows every unit."""
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=30) as http:
        tree = await make_tree(gw, http, tag)
        root = gw.headers(["organisation"], "/")
        for city in ("A", "B"):

            async def created(city: str = city) -> bool:
                r = await gw.gql(http, CREATE, {"u": tree[city]["id"], "r": RULES}, headers=root)
                return not r["data"]["rewardRuleSetCreate"]["errors"]

            await eventually(created, within=30, what=f"rewards knows unit {city}")
        office = gw.headers(["assessment_office"], tree["A"]["path"])
        r = await http.post(
            f"{gw.url}/api/v1/api-keys", json={"name": "all", "scopes": ["*"]}, headers=office
        )
        assert r.status_code == 201, r.text
        return World(tree, {"X-Api-Key": r.json()["key"]})


def _target(w: World, which: str, level: str) -> str:
    """`inside`, `outside` or `missing`: the city (assessing unit) or county of each."""
    if which == "missing":
        return f"nx{uuid.uuid4().hex[:6]}"
    key = {"inside": "A", "outside": "B"}[which] + ("1" if level == "county" else "")
    return str(w.tree[key]["id"])


def _gql(query: str, field: str, level: str, got: Callable[[Any, str], bool]) -> Callable[..., Any]:
    async def probe(gw: Harness, http: httpx.AsyncClient, hdr: dict[str, str], w: World, which: str) -> Any:
        target = _target(w, which, level)
        body = await gw.gql(http, query, {"u": target, "r": RULES}, headers=hdr)
        text = str(body)
        data = (body.get("data") or {}).get(field)
        if data is None or body.get("errors"):
            return False, text
        if isinstance(data, dict) and data.get("errors"):
            return False, text
        return got(data, target), text

    return probe


# probe → the roles that get the target's data inside their subtree (the rewards contract's role table)
READERS = {Role.assessment_office, Role.organisation, Role.leader, Role.system}
LOCAL = {Role.reporter, Role.department}  # a unit's own people: their units' cadres and ledger
MANAGERS = {Role.assessment_office, Role.organisation, Role.system}
PROBES: dict[str, tuple[Callable[..., Any], set[Role]]] = {
    "rewardCadres": (
        _gql(
            "query($u: String!) { rewardCadres(unitId: $u) { nodes { personKey unitId } } }",
            "rewardCadres",
            "county",
            lambda d, t: isinstance(d.get("nodes"), list),
        ),
        READERS | LOCAL,
    ),
    "rewardLedger": (
        _gql(
            "query($u: String!) { rewardLedger(unitId: $u) { nodes { holder seq } } }",
            "rewardLedger",
            "county",
            lambda d, t: isinstance(d.get("nodes"), list),
        ),
        READERS | LOCAL,
    ),
    "rewardRuleSet": (
        _gql(
            "query($u: String!) { rewardRuleSet(assessingUnit: $u, year: 2026, version: 1) {"
            " assessingUnit } }",
            "rewardRuleSet",
            "city",
            lambda d, t: d["assessingUnit"] == t,
        ),
        READERS,
    ),
    "rewardRuleSets": (
        _gql(
            "query($u: String!) { rewardRuleSets(assessingUnit: $u) { nodes { assessingUnit } } }",
            "rewardRuleSets",
            "city",
            lambda d, t: any(n["assessingUnit"] == t for n in d["nodes"]),
        ),
        READERS,
    ),
    "rewardRuleSetCreate": (
        _gql(CREATE, "rewardRuleSetCreate", "city", lambda d, t: d["node"]["assessingUnit"] == t),
        MANAGERS,
    ),
}
ROLES = [r for r in Role if r is not Role.system]  # no user token carries `system`


def _codes(text: str) -> list[str]:
    return sorted(set(re.findall(r"'code': '([a-z_]+)'", text)))


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_matrix(gw: Harness, world: World, role: Role) -> None:
    a = world.tree["A"]["path"]
    hdr = world.key if role is Role.integration else gw.headers([role.value], a, user=f"u-{role.value}")
    b1 = world.tree["B1"]
    async with httpx.AsyncClient(timeout=30) as http:
        for name, (probe, roles) in PROBES.items():
            inside, text = await probe(gw, http, hdr, world, "inside")
            assert inside == (role in roles), f"{role.value} {name} inside: {text}"
            outside, out_text = await probe(gw, http, hdr, world, "outside")
            assert outside is False, f"{role.value} {name} outside must be denied: {out_text}"
            for leak in (b1["path"], world.tree["B"]["path"], "单位B"):
                assert leak not in out_text, f"leak in {name}: {out_text}"
            missing, missing_text = await probe(gw, http, hdr, world, "missing")
            assert missing is False
            assert _codes(out_text) == _codes(missing_text), (
                f"{role.value} {name}: outside differs from missing"
            )


async def test_rest_scopes_of_hr_and_payroll_keys(gw: Harness, world: World) -> None:
    """The roster import needs `registry:write`, the payroll export `payroll:read`; other scopes are refused
    before any service is asked, and a bad body names its field."""
    office = gw.headers(["assessment_office"], world.tree["A"]["path"])
    async with httpx.AsyncClient(timeout=30) as http:
        keys = {}
        for scope in ("registry:write", "payroll:read", "results:read"):
            r = await http.post(
                f"{gw.url}/api/v1/api-keys", json={"name": scope, "scopes": [scope]}, headers=office
            )
            assert r.status_code == 201, r.text
            keys[scope] = {"X-Api-Key": r.json()["key"]}
        body = {"filename": "名册.csv", "content_base64": "", "dry_run": True}
        imp = f"{gw.url}/api/v1/rewards/registry/import"
        for scope in ("payroll:read", "results:read"):
            r = await http.post(imp, json=body, headers=keys[scope])
            assert r.status_code == 403 and r.json()["code"] == "forbidden_role", r.text
            r = await http.get(
                f"{gw.url}/api/v1/rewards/payroll", params={"set_id": 1}, headers=keys["registry:write"]
            )
            assert r.status_code == 403 and r.json()["code"] == "forbidden_role", r.text
        # an empty CSV is read by the service: its dry run reports, nothing is written
        header = "身份证号,姓名,单位代码,职务类别,职级,月绩效基数(元),任职日期\n"
        bad = header + f"998877665544,张三,{world.tree['A1']['id']},处长,正科,abc,2025-13-01\n"
        body["content_base64"] = base64.b64encode(bad.encode()).decode()
        r = await http.post(imp, json=body, headers=keys["registry:write"])
        assert r.status_code == 200, r.text
        report = r.json()
        fields = {p["field"] for p in report["problems"]}
        assert report["committed"] is False and report["valid"] == 0 and {"身份证号", "职务类别"} <= fields, (
            report
        )
        assert "998877665544" not in str(report)  # the ID number never comes back, not even a wrong one
        body.update(dry_run=False, expected_digest=report["digest"])
        r = await http.post(imp, json=body, headers=keys["registry:write"])
        assert r.status_code >= 400 and r.json()["code"] in ("import_invalid", "validation_failed"), r.text
        # the same roster as XLSX (what an office exports from its spreadsheet): read the same way
        wb = Workbook()
        ws = wb.active
        ws.append(header.strip().split(","))
        ws.append(
            [
                "11010119800101123X",
                "张三",
                world.tree["A1"]["id"],
                "一般干部",
                "科员",
                "4200.50",
                "2025-03-01",
            ]
        )
        buf = io.BytesIO()
        wb.save(buf)
        xlsx = {
            "filename": "名册.xlsx",
            "dry_run": True,
            "content_base64": base64.b64encode(buf.getvalue()).decode(),
        }
        r = await http.post(imp, json=xlsx, headers=keys["registry:write"])
        assert r.status_code == 200 and r.json()["problems"] == [] and r.json()["valid"] == 1, r.text
        assert r.json()["committed"] is False
        missing = await http.post(
            imp, json={"filename": "x.csv", "dry_run": True}, headers=keys["registry:write"]
        )
        assert missing.status_code == 422 and missing.json()["field"] == "content_base64", missing.text
