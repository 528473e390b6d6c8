"""结果运用 through the gateway, on the real services: an HR system imports the 干部名册 over REST, the 组织部
activates rules, the 考核办 publishes a month, proposals appear with their explanations, two people approve
them at two levels, the ledger (实绩档案) holds them, and the payroll system fetches the pay file."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets

from tests.conftest import Infra, eventually
from tests.support.gateway import Harness, Scored, harness, scored_world
from tests.support.webhooks import Receiver, serving

pytestmark = pytest.mark.asyncio
BASIS = "《某市机关绩效工资发放办法》第五条"
RULES = [
    {
        "kind": "quarterly_pay",
        "id": "mpay",
        "basis": BASIS,
        "period_kind": "month",
        "adjust": {"优秀": "0.10", "较差": "-0.10"},
    },
    {
        "kind": "honour",
        "id": "best",
        "basis": "某市 评先评优办法 第三条",
        "honour": "先进单位",
        "period_kind": "month",
        "condition": {"grades": ["优秀"]},
    },
]
HEADERS = [
    "身份证号",
    "姓名",
    "单位代码",
    "职务类别",
    "职级",
    "月绩效基数(元)",
    "任职日期",
    "登录账号",
    "期间",
    "个人等次",
]
PUBLISH = """mutation($s: String!, $p: String!) {
  resultsPublish(schemeId: $s, period: $p, forceCloseWindow: true) {
    state { status } errors { code message } } }"""
CREATE = """mutation($u: String!, $r: JSON!) {
  rewardRuleSetCreate(assessingUnit: $u, year: 2026, rules: $r) {
    node { version revision status ref } errors { code field message } } }"""
ACTIVATE = """mutation($u: String!, $v: Int!, $rev: Int!) {
  rewardRuleSetActivate(assessingUnit: $u, year: 2026, version: $v, expectedRevision: $rev) {
    node { status } errors { code message } } }"""
SETS = """query($u: String) { rewardProposalSets(assessingUnit: $u, first: 20) { nodes {
  setId status level levels version lines poolFen paidFen withheldFen poolErrorFen snapshotId snapshotDigest
  rulesetRef
  problems { problemId code } } } }"""
LINES = """query($s: Int!, $u: String, $k: String) {
  rewardProposalLines(setId: $s, unitId: $u, kind: $k, first: 200) { nodes {
    lineId subject unitId personKey kind consequence ruleId basis amountFen inputs snapshotDigest explanation
  } } }"""
ADJUST = """mutation($s: Int!, $l: Int!, $v: Int!, $r: String!, $f: Fen) {
  rewardProposalAdjust(setId: $s, lineId: $l, expectedVersion: $v, reason: $r, amountFen: $f) {
    node { version paidFen withheldFen poolFen poolErrorFen } errors { code field message } } }"""
APPROVE = """mutation($s: Int!, $v: Int!, $l: Int!) {
  rewardProposalApprove(setId: $s, expectedVersion: $v, level: $l) {
    node { status level version } errors { code message } } }"""
LEDGER = """query($p: String, $u: String) { rewardLedger(personKey: $p, unitId: $u) { nodes {
  holder seq entry consequence amountFen basis snapshotDigest hash prevHash } } }"""
VERIFY = "query { rewardLedgerVerify { ok holders entries faults { holder reason } } }"
WHATIF = """query($s: String!, $r: JSON!) { rewardWhatIf(snapshotId: $s, rules: $r) {
  gainersCount losersCount paidBeforeFen paidAfterFen poolErrorFen
  gainers { personKey deltaFen gained lost } losers { personKey deltaFen } } }"""


@pytest_asyncio.fixture(scope="module")
async def gw(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    """The full harness; webhooks may target this module's receiver on loopback (a development setting)."""
    async with harness(infra, template_db, webhook_allow_private=True) as h:
        yield h


@pytest_asyncio.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver()) as rec:
        yield rec


def id_number() -> str:
    """A made-up 居民身份证号码 of the right shape (never a real person's)."""
    return f"110101{random.randint(1960, 2000)}0101{random.randint(1000, 9999)}"


def roster_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADERS)
    w.writerows(rows)
    return base64.b64encode(out.getvalue().encode("utf-8")).decode()


async def api_key(gw: Harness, http: httpx.AsyncClient, path: str, scopes: list[str]) -> dict[str, str]:
    office = gw.headers(["assessment_office"], path)
    r = await http.post(f"{gw.url}/api/v1/api-keys", json={"name": "hr", "scopes": scopes}, headers=office)
    assert r.status_code == 201, r.text
    return {"X-Api-Key": r.json()["key"]}


async def import_roster(gw: Harness, http: httpx.AsyncClient, key: dict[str, str], content: str) -> Any:
    body = {"filename": "名册.csv", "content_base64": content, "dry_run": True}
    dry = await http.post(f"{gw.url}/api/v1/rewards/registry/import", json=body, headers=key)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["problems"] == [] and report["committed"] is False, report
    body.update(dry_run=False, expected_digest=report["digest"])
    done = await http.post(f"{gw.url}/api/v1/rewards/registry/import", json=body, headers=key)
    assert done.status_code == 200, done.text
    return done.json()


async def activate(gw: Harness, http: httpx.AsyncClient, org: dict[str, str], unit: str) -> None:
    r = (await gw.gql(http, CREATE, {"u": unit, "r": RULES}, headers=org))["data"]["rewardRuleSetCreate"]
    assert not r["errors"] and r["node"]["status"] == "draft", r
    v = {"u": unit, "v": r["node"]["version"], "rev": r["node"]["revision"]}
    a = (await gw.gql(http, ACTIVATE, v, headers=org))["data"]["rewardRuleSetActivate"]
    assert not a["errors"] and a["node"]["status"] == "active", a


async def publish(gw: Harness, http: httpx.AsyncClient, world: Scored, office: dict[str, str]) -> None:
    v = {"s": world.city.scheme_id, "p": world.period}
    r = await gw.gql(http, PUBLISH, v, headers=office)
    assert r["data"]["resultsPublish"]["state"]["status"] == "published", r


async def the_set(gw: Harness, http: httpx.AsyncClient, unit: str, hdr: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def appeared() -> bool:
        body = await gw.gql(http, SETS, {"u": unit}, headers=hdr)
        nodes = [n for n in body["data"]["rewardProposalSets"]["nodes"] if n["status"] != "superseded"]
        if nodes:
            found.update(nodes[0])
        return bool(nodes)

    await eventually(appeared, within=60, what="the proposal set of the published month")
    return found


async def applied_month(gw: Harness, http: httpx.AsyncClient, receiver: Receiver) -> dict[str, Any]:
    """The whole path, checked step by step; returns what the pay checks need."""
    tag = uuid.uuid4().hex[:6]
    world = await scored_world(gw, http, tag)
    a, a1, a2 = world.tree["A"], world.tree["A1"], world.tree["A2"]
    office = gw.headers(["assessment_office"], a["path"], user=f"office-{tag}")
    org = gw.headers(["organisation"], a["path"], user=f"org-{tag}")
    hr = await api_key(gw, http, a["path"], ["registry:write"])
    x, y, z = (f"acct-{w}-{tag}" for w in "xyz")
    # X (head, 优秀) and Y (staff, 良好) in A1; Z (head, 一般) in A2; bases 5,000 / 3,000 / 4,000 元 a month
    ids = [id_number() for _ in range(3)]
    content = roster_csv(
        [
            [
                ids[0],
                "张三丰",
                a1["id"],
                "主要负责人",
                "正科",
                "5000.00",
                "2025-01-01",
                x,
                world.period,
                "优秀",
            ],
            [
                ids[1],
                "李四",
                a1["id"],
                "一般干部",
                "科员",
                "3000.00",
                "2025-01-01",
                y,
                world.period,
                "良好",
            ],
            [
                ids[2],
                "王五",
                a2["id"],
                "主要负责人",
                "正科",
                "4000.00",
                "2025-01-01",
                z,
                world.period,
                "一般",
            ],
        ]
    )
    report = await import_roster(gw, http, hr, content)
    assert (report["committed"], report["new_persons"], report["new_posts"], report["grades"]) == (
        True,
        3,
        3,
        3,
    )
    await activate(gw, http, org, a["id"])

    ws = await websockets.connect(
        gw.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]
    )
    try:
        init = {"type": "connection_init", "payload": {"Authorization": office["Authorization"]}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        q = "subscription { rewardProposalAwaiting { setId level levels proposalSet { status } } }"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": q}}))
        await asyncio.sleep(0.3)  # registered before the month is published
        await publish(gw, http, world, office)
        msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
        awaiting = msg["payload"]["data"]["rewardProposalAwaiting"]
        assert (awaiting["level"], awaiting["levels"], awaiting["proposalSet"]["status"]) == (1, 2, "pending")
    finally:
        await ws.close()

    s = await the_set(gw, http, a["id"], office)
    assert s["setId"] == awaiting["setId"] and s["status"] == "pending" and s["problems"] == []
    assert s["poolErrorFen"] == 0 and s["paidFen"] + s["withheldFen"] == s["poolFen"]
    body = await gw.gql(http, LINES, {"s": s["setId"], "u": a1["id"], "k": "pay"}, headers=office)
    assert body.get("data"), body
    pay = body["data"]["rewardProposalLines"]["nodes"]
    assert len(pay) == 2, body
    # A1's pool: (5,000 + 3,000 元) × 1 month = 800,000 fen, split by base × own grade factor: X 550,000,
    # Y 300,000 of 850,000. X's exact share 517,647.05…, Y's 282,352.94…: the fen left goes to Y.
    by_amount = sorted(ln["amountFen"] for ln in pay)
    assert by_amount == [282_353, 517_647]
    for ln in pay:
        assert ln["basis"] == BASIS and ln["ruleId"] == "mpay" and ln["snapshotDigest"] == s["snapshotDigest"]
        assert ln["inputs"]["grade"] in ("优秀", "良好") and ln["explanation"], ln
    x_key = next(ln["personKey"] for ln in pay if ln["amountFen"] == 517_647)

    # what-if (模拟测算): 优秀 +20 % instead of +10 % on the same snapshot. A1's pool stays 800,000; weights
    # X 600,000, Y 300,000 → X 533,333.33…, Y 266,666.66…: the fen left goes to Y. Nothing is written.
    draft = [{**RULES[0], "adjust": {"优秀": "0.20", "较差": "-0.10"}}, *RULES[1:]]
    wi = await gw.gql(http, WHATIF, {"s": s["snapshotId"], "r": draft}, headers=org)
    w = wi["data"]["rewardWhatIf"]
    y_key = next(ln["personKey"] for ln in pay if ln["personKey"] != x_key)
    gains = {c["personKey"]: c["deltaFen"] for c in w["gainers"] + w["losers"]}
    assert gains == {x_key: 533_333 - 517_647, y_key: 266_667 - 282_353}, w
    assert (w["gainersCount"], w["losersCount"], w["poolErrorFen"]) == (1, 1, 0)
    assert w["paidAfterFen"] == w["paidBeforeFen"] == s["paidFen"]
    assert (await the_set(gw, http, a["id"], office)) == s  # the stored set is untouched

    # an adjustment without a reason is refused and changes nothing
    refused = await gw.gql(
        http,
        ADJUST,
        {"s": s["setId"], "l": pay[0]["lineId"], "v": s["version"], "r": "", "f": 1},
        headers=office,
    )
    errors = refused["data"]["rewardProposalAdjust"]["errors"]
    assert errors and errors[0]["code"] == "reason_required" and errors[0]["field"] == "reason", refused
    again = await the_set(gw, http, a["id"], office)
    assert again["version"] == s["version"]
    # with a reason: Z's pay (A2, all of its 400,000) cut by 100 元; the 100 元 stays withheld, the pool whole
    z_line = (await gw.gql(http, LINES, {"s": s["setId"], "u": a2["id"], "k": "pay"}, headers=office))[
        "data"
    ]["rewardProposalLines"]["nodes"][0]
    assert z_line["amountFen"] == 400_000
    v = {"s": s["setId"], "l": z_line["lineId"], "v": s["version"], "r": "病假扣减, 人社复核", "f": 390_000}
    adjusted = (await gw.gql(http, ADJUST, v, headers=office))["data"]["rewardProposalAdjust"]
    node = adjusted["node"]
    assert not adjusted["errors"] and node["version"] > s["version"], adjusted
    assert (node["paidFen"], node["withheldFen"]) == (s["paidFen"] - 10_000, s["withheldFen"] + 10_000)
    assert node["poolFen"] == s["poolFen"] and node["poolErrorFen"] == 0
    version = node["version"]

    hooks = await api_key(gw, http, a["path"], ["webhooks:manage"])
    events = ["rewards.proposal.approved", "rewards.pay.approved"]
    target = {"url": f"http://127.0.0.1:{receiver.port}/hook", "event_types": events}
    r = await http.post(f"{gw.url}/api/v1/webhooks", json=target, headers=hooks)
    assert r.status_code == 201, r.text

    first = await gw.gql(http, APPROVE, {"s": s["setId"], "v": version, "l": 1}, headers=office)
    node = first["data"]["rewardProposalApprove"]["node"]
    assert (node["status"], node["level"]) == ("reviewed", 1), first
    twice = await gw.gql(http, APPROVE, {"s": s["setId"], "v": node["version"], "l": 2}, headers=office)
    assert twice["data"]["rewardProposalApprove"]["errors"][0]["code"] == "same_reviewer", twice
    stale = await gw.gql(http, APPROVE, {"s": s["setId"], "v": s["version"], "l": 2}, headers=org)
    assert stale["data"]["rewardProposalApprove"]["errors"][0]["code"] == "version_conflict", stale
    done = await gw.gql(http, APPROVE, {"s": s["setId"], "v": node["version"], "l": 2}, headers=org)
    assert done["data"]["rewardProposalApprove"]["node"]["status"] == "approved", done

    # integrators hear of it: per unit of A's subtree, by opaque person key, never a name or an ID number
    def approved() -> list[dict[str, Any]]:
        bodies = [json.loads(h["body"]) for h in receiver.hits if h["type"] == events[0]]
        return [b for b in bodies if b["data"]["set_id"] == s["setId"]]

    async def delivered() -> bool:
        return bool(approved())

    await eventually(delivered, within=30, what="rewards.proposal.approved delivered")
    units = [u for b in approved() for u in b["data"]["units"]]
    assert {u["unit_id"] for u in units} == {a1["id"], a2["id"]}
    assert all(u["paid_fen"] + u["withheld_fen"] == u["pool_fen"] for u in units)
    raw = b"".join(h["body"] for h in receiver.hits).decode()
    assert all(secret not in raw for secret in ("张三丰", "李四", "王五", *ids)), raw[:500]

    # the 实绩档案: X's entry, readable by the 组织部 and by X, not by X for Y; chains verify
    ledger = (await gw.gql(http, LEDGER, {"p": x_key}, headers=org))["data"]["rewardLedger"]["nodes"]
    assert [(e["entry"], e["amountFen"], e["basis"]) for e in ledger] == [("applied", 517_647, BASIS)]
    own = gw.headers(["reporter"], a2["path"], user=x)  # X's login; A1, X's and Y's unit, not in scope
    mine = await gw.gql(http, LEDGER, {"p": x_key}, headers=own)
    assert [e["hash"] for e in mine["data"]["rewardLedger"]["nodes"]] == [ledger[0]["hash"]], mine
    y_key = next(ln["personKey"] for ln in pay if ln["personKey"] != x_key)
    theirs = await gw.gql(http, LEDGER, {"p": y_key}, headers=own)
    assert theirs["data"] is None and theirs["errors"][0]["extensions"]["code"] in (
        "not_found",
        "forbidden_role",
    )
    verdict = (await gw.gql(http, VERIFY, headers=org))["data"]["rewardLedgerVerify"]
    assert verdict["ok"] and verdict["entries"] >= 3 and verdict["faults"] == []
    unit = await gw.gql(
        http,
        "query($id: ID!) { unit(id: $id) { resultRecords { holder consequence } } }",
        {"id": a1["id"]},
        headers=org,
    )
    assert any(r["holder"] == f"unit:{a1['id']}" for r in unit["data"]["unit"]["resultRecords"]), unit

    # the payroll file: every approved pay line, to the fen (the 组织部's bearer token, then the payroll key)
    url = f"{gw.url}/api/v1/rewards/payroll"
    r = await http.get(url, params={"set_id": s["setId"]}, headers=org)
    assert r.status_code == 200, r.text
    meta = r.json()
    got = await http.get(meta["url"])
    assert got.status_code == 200
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    all_pay = await gw.gql(http, LINES, {"s": s["setId"], "u": None, "k": "pay"}, headers=office)
    want = {ln["personKey"]: ln["amountFen"] for ln in all_pay["data"]["rewardProposalLines"]["nodes"]}
    person = "人员编码" if rows and "人员编码" in rows[0] else "person_key"  # the column of the opaque key
    assert {row[person]: int(row["金额(分)"]) for row in rows} == want and meta["rows"] == len(rows)
    assert len(want) == 3 and want[x_key] == 517_647
    xlsx = await http.get(url, params={"set_id": s["setId"], "format": "xlsx"}, headers=org)
    assert xlsx.status_code == 200 and (await http.get(xlsx.json()["url"])).content[:2] == b"PK"
    # a key without the payroll scope is refused by the gateway; the payroll system's key is served
    r = await http.get(url, params={"set_id": s["setId"]}, headers=hr)
    assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    return {"set_id": s["setId"], "a": a, "x_key": x_key, "pay": want, "ids": ids, "url": url}


async def test_published_month_becomes_explained_proposals_two_level_approval_ledger_and_payroll(
    gw: Harness, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    done = await applied_month(gw, http, receiver)
    assert len(done["pay"]) == 3


async def test_pay_lines_reach_the_payroll_system_by_its_key_and_by_webhook(
    gw: Harness, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    """The contract's payroll side (contracts/rewards/rpc.py): `payroll_export` serves an integration key
    with `payroll:read`, and each `pay.approved` line carries its `unit_path`, so a webhook subscriber of
    the subtree receives the lines of its units."""
    done = await applied_month(gw, http, receiver)
    payroll = await api_key(gw, http, done["a"]["path"], ["payroll:read"])
    r = await http.get(done["url"], params={"set_id": done["set_id"]}, headers=payroll)
    assert r.status_code == 200 and r.json()["rows"] == len(done["pay"]), r.text

    def pay_lines() -> list[dict[str, Any]]:
        bodies = [json.loads(h["body"]) for h in receiver.hits if h["type"] == "rewards.pay.approved"]
        return [ln for b in bodies if b["data"]["set_id"] == done["set_id"] for ln in b["data"]["lines"]]

    async def delivered() -> bool:
        return bool(pay_lines())

    await eventually(delivered, within=30, what="rewards.pay.approved delivered")
    assert {ln["person_key"]: ln["amount_fen"] for ln in pay_lines()} == done["pay"]
    assert all(ln["unit_path"].startswith(done["a"]["path"]) for ln in pay_lines())
