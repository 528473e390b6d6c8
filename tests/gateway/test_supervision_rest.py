"""督查督办 REST for integrators: the 办不成事/12345 intake and its abuse (bad key, oversized body, replayed
client key, rate limit), the signed outcome callback, 13710 feedback stages, and the XLSX round trip."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openpyxl
import pytest_asyncio

from gateway.intake import INTAKE_BURST, INTAKE_MAX_BYTES
from tests.conftest import Infra, eventually
from tests.support.gateway import Harness, harness, make_tree
from tests.support.webhooks import Receiver, serving

URL = "/api/v1/supervision"


@pytest_asyncio.fixture(scope="module")
async def gw(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    """The full harness; the outcome callback may target this module's receiver on loopback (development)."""
    async with harness(infra, template_db, webhook_allow_private=True) as h:
        yield h


@pytest_asyncio.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver()) as rec:
        yield rec


@pytest_asyncio.fixture(scope="module")
async def tree(gw: Harness) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=30) as http:
        t = await make_tree(gw, http, tag)
        office = gw.headers(["supervisor"], t["A"]["path"])

        async def known() -> bool:  # supervision learns units from indicators' unit.changed events
            r = await http.post(
                f"{gw.url}{URL}/intake", json=complaint(t, "probe" + uuid.uuid4().hex), headers=office
            )
            return r.status_code == 201

        await eventually(known, what="supervision knows the new units", within=30)
    return t


async def api_key(gw: Harness, http: httpx.AsyncClient, path: str, scopes: list[str]) -> str:
    r = await http.post(
        f"{gw.url}/api/v1/api-keys",
        json={"name": "12345热线", "scopes": scopes, "org_path": path},
        headers=gw.headers(["assessment_office"], "/"),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def complaint(t: dict[str, Any], client_key: str, **kw: Any) -> dict[str, Any]:
    body = {
        "client_key": client_key,
        "channel": "hotline",
        "office_id": t["A"]["id"],
        "text": "办理营业执照变更跑了三次仍未办成",
        "category": "营商环境",
        "contact_phone": "13812345678",
        "contact_name": "王先生",
    }
    body.update(kw)
    return body


async def test_intake_bad_key_oversized_body_and_replayed_client_key(
    gw: Harness, tree: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        key = await api_key(gw, http, tree["A"]["path"], ["supervision:intake"])
        hdr = {"X-Api-Key": key}
        ck = f"ticket-{uuid.uuid4().hex}"

        bad = await http.post(
            f"{gw.url}{URL}/intake", json=complaint(tree, ck), headers={"X-Api-Key": key + "x"}
        )
        assert bad.status_code == 401 and bad.json()["code"] == "unauthenticated", bad.text
        wrong_scope = await api_key(gw, http, tree["A"]["path"], ["results:read"])
        r = await http.post(
            f"{gw.url}{URL}/intake", json=complaint(tree, ck), headers={"X-Api-Key": wrong_scope}
        )
        assert r.status_code == 403, r.text
        big = complaint(tree, ck, text="诉" * 200, attachments=["k" * 100] * 20, category="x" * 100)
        big["padding"] = "x" * INTAKE_MAX_BYTES
        r = await http.post(f"{gw.url}{URL}/intake", json=big, headers=hdr)
        assert r.status_code == 413 and r.json()["code"] == "body_too_large", r.text

        first = await http.post(f"{gw.url}{URL}/intake", json=complaint(tree, ck), headers=hdr)
        assert first.status_code == 201, first.text
        again = await http.post(f"{gw.url}{URL}/intake", json=complaint(tree, ck), headers=hdr)
        assert again.status_code == 200 and again.json()["duplicate"] is True, again.text
        assert again.json()["item_id"] == first.json()["item_id"] and first.json()["duplicate"] is False
        assert first.json()["status"] == "draft"

        office = gw.headers(["supervisor"], tree["A"]["path"])
        q = """query($id: ID!) { supervisionItem(id: $id) { status source channel category contactPhone } }"""
        r = await gw.gql(http, q, {"id": first.json()["item_id"]}, headers=office)
        got = r["data"]["supervisionItem"]
        assert got["source"] == "hotline" and got["status"] == "draft" and got["category"] == "营商环境", r
        leader = gw.headers(["leader"], tree["A"]["path"])
        r = await gw.gql(http, q, {"id": first.json()["item_id"]}, headers=leader)
        phone = r["data"]["supervisionItem"]["contactPhone"]
        assert phone != "13812345678" and "****" in (phone or "****"), r  # masked but for the office

        q = """query { supervisionItems(source: [hotline], status: [draft], first: 200) { nodes { id } } }"""
        ids = [n["id"] for n in (await gw.gql(http, q, headers=office))["data"]["supervisionItems"]["nodes"]]
        assert ids.count(first.json()["item_id"]) == 1


async def test_intake_is_rate_limited_per_key(gw: Harness, tree: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        hdr = {"X-Api-Key": await api_key(gw, http, tree["A"]["path"], ["supervision:intake"])}
        body = complaint(tree, f"flood-{uuid.uuid4().hex}")
        statuses = []
        for _ in range(INTAKE_BURST + 5):
            r = await http.post(f"{gw.url}{URL}/intake", json=body, headers=hdr)
            statuses.append(r.status_code)
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) >= 1 and r.json()["code"] == "rate_limited"
                break
        assert statuses[0] == 201 and statuses[-1] == 429 and set(statuses[1:-1]) <= {200}, statuses


async def test_outcome_callback_is_signed_and_delivered_when_the_item_ends(
    gw: Harness, tree: dict[str, Any], receiver: Receiver
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        hdr = {"X-Api-Key": await api_key(gw, http, tree["A"]["path"], ["supervision:intake"])}
        cb = f"http://127.0.0.1:{receiver.port}/outcome"
        r = await http.post(
            f"{gw.url}{URL}/intake",
            json=complaint(tree, f"cb-{uuid.uuid4().hex}", callback_url=cb),
            headers=hdr,
        )
        assert r.status_code == 201, r.text
        created = r.json()
        secret = created["callback_secret"]
        assert secret
        bad = await http.post(
            f"{gw.url}{URL}/intake",
            json=complaint(tree, f"cb-{uuid.uuid4().hex}", callback_url="ftp://example.org/x"),
            headers=hdr,
        )
        assert bad.status_code == 422 and bad.json()["field"] == "callback_url", bad.text

        office = gw.headers(["supervisor"], tree["A"]["path"])
        item = (await http.get(f"{gw.url}{URL}/items/{created['item_id']}", headers=office)).json()
        m = """mutation($i: SupervisionTransitionInput!) { supervisionItemWithdraw(input: $i) {
          node { status } errors { code message } } }"""
        i = {"itemId": item["id"], "expectedVersion": item["version"], "reason": "不属于本级职责, 已转交"}
        r = await gw.gql(http, m, {"i": i}, headers=office)
        assert r["data"]["supervisionItemWithdraw"]["node"]["status"] == "withdrawn", r

        def hit() -> dict[str, Any] | None:
            return next(
                (
                    h
                    for h in receiver.hits
                    if h["headers"].get("kaohe-event-type") == "supervision.intake.outcome"
                    and json.loads(h["body"])["data"]["item_id"] == item["id"]
                ),
                None,
            )

        async def arrived() -> bool:
            return hit() is not None

        await eventually(arrived, what="the outcome callback", within=30)
        h = hit()
        assert h is not None
        ts = h["headers"]["kaohe-timestamp"]
        mac = hmac.new(secret.encode(), f"{ts}.".encode() + h["body"], hashlib.sha256).hexdigest()
        assert h["headers"]["kaohe-signature"] == f"v1={mac}"
        data = json.loads(h["body"])["data"]
        assert data["outcome"] == "withdrawn" and "13812345678" not in h["body"].decode()


async def test_13710_feedback_stages_over_rest(gw: Harness, tree: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        office = gw.headers(["supervisor"], tree["A"]["path"])
        today = datetime.now(UTC).date()
        m = """mutation($i: SupervisionItemCreateInput!) { supervisionItemCreate(input: $i) {
          node { id version } errors { code message } } }"""
        i = {
            "title": "12345热线重复投诉整改",
            "problem": "同一事项一月内重复投诉",
            "source": "hotline",
            "sourceRef": "12345-2026-000123",
            "officeId": tree["A"]["id"],
            "lead": {"unitId": tree["A1"]["id"], "task": "牵头办理", "deadline": str(today + timedelta(30))},
            "deadline": str(today + timedelta(30)),
        }
        r = await gw.gql(http, m, {"i": i}, headers=office)
        item = r["data"]["supervisionItemCreate"]["node"]
        lead = gw.headers(["reporter"], tree["A1"]["path"])
        version = item["version"]
        for stage, status in (
            ("accept", "in_progress"),
            ("feedback", "in_progress"),
            ("close", "closure_requested"),
        ):
            body = {
                "stage": stage,
                "expected_version": version,
                "reason": f"{stage} 已办",
                "evidence": ["ev/x.pdf"],
            }
            r = await http.post(f"{gw.url}{URL}/items/{item['id']}/feedback", json=body, headers=lead)
            assert r.status_code == 200 and r.json()["status"] == status, (stage, r.text)
            version = r.json()["version"]
        stale = {"stage": "feedback", "expected_version": 0, "reason": "旧版本"}
        r = await http.post(f"{gw.url}{URL}/items/{item['id']}/feedback", json=stale, headers=lead)
        assert r.status_code == 409, r.text
        other = gw.headers(["reporter"], tree["B1"]["path"])
        r = await http.post(f"{gw.url}{URL}/items/{item['id']}/feedback", json=stale, headers=other)
        assert r.status_code == 404, r.text


def _sheet(content: bytes) -> list[list[Any]]:
    wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


async def test_xlsx_export_escapes_formulas_and_import_round_trips_with_a_harmless_dry_run(
    gw: Harness, tree: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        office = gw.headers(["supervisor"], tree["A"]["path"])
        today = datetime.now(UTC).date()
        m = """mutation($i: SupervisionItemCreateInput!) { supervisionItemCreate(input: $i) {
          node { id number } errors { code message } } }"""
        tag = uuid.uuid4().hex[:6]

        async def create(title: str, problem: str, task: str) -> str:
            i = {
                "title": title,
                "problem": problem,
                "source": "superior",
                "sourceRef": f"市委督查室交办单 {tag}",
                "officeId": tree["A"]["id"],
                "lead": {"unitId": tree["A1"]["id"], "task": task, "deadline": str(today + timedelta(30))},
                "cooperating": [
                    {"unitId": tree["A2"]["id"], "task": "配合", "deadline": str(today + timedelta(20))}
                ],
                "deadline": str(today + timedelta(30)),
                "measures": ["建立台账", "每周调度"],
            }
            r = await gw.gql(http, m, {"i": i}, headers=office)
            assert not r["data"]["supervisionItemCreate"]["errors"], r
            return str(r["data"]["supervisionItemCreate"]["node"]["number"])

        formula = await create('=HYPERLINK("http://x")整改', "@SUM(1)", "-牵头")
        normal = [await create(f"河道清淤整改 {tag} {k}", "汛前清淤未完成", "牵头清淤") for k in (1, 2)]

        async def export() -> list[list[Any]]:
            r = await http.get(f"{gw.url}{URL}/export", params={"source": "superior"}, headers=office)
            assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml"), (
                r.text
            )
            return _sheet(r.content)

        rows = await export()
        header = [str(h) for h in rows[0]]
        row = next(x for x in rows if formula in [str(v) for v in x])
        texts = [v for v in row if isinstance(v, str)]
        assert '\'=HYPERLINK("http://x")整改' in texts and "'@SUM(1)" in texts, row
        assert not any(t.startswith(("=", "@", "-", "+")) for t in texts), row

        q = """query { supervisionItems(source: [superior], first: 200) { nodes { id } } }"""

        async def count() -> int:
            return len((await gw.gql(http, q, headers=office))["data"]["supervisionItems"]["nodes"])

        before = await count()
        # the two normal items' rows, made new (编号 cleared), and a broken copy: 时限 that is no date
        picked = [list(x) for x in rows[1:] if any(n in [str(v) for v in x] for n in normal)]
        assert len(picked) == 2, rows
        num, due = header.index("编号"), header.index("时限")
        for x in picked:
            x[num] = None
        broken = list(picked[0])
        broken[due] = "下个月"

        def xlsx(data: list[list[Any]]) -> str:
            wb = openpyxl.Workbook()
            ws = wb.active
            ws.append(header)
            for x in data:
                ws.append(x)
            buf = io.BytesIO()
            wb.save(buf)
            return base64.b64encode(buf.getvalue()).decode()

        body = {"office_id": tree["A"]["id"], "content_base64": xlsx([*picked, broken]), "dry_run": True}
        r = await http.post(f"{gw.url}{URL}/import", json=body, headers=office)
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["dry_run"] and report["rows"] == 3 and report["valid"] == 2, report
        assert {(p["row"], p["column"]) for p in report["problems"]} == {(4, "时限")}, report
        assert report["created"] == [] and await count() == before, "a dry run changed something"
        body["dry_run"] = False
        r = await http.post(f"{gw.url}{URL}/import", json=body, headers=office)
        assert r.status_code == 200 and r.json()["created"] == [] and await count() == before, r.text
        body["content_base64"] = xlsx(picked)
        r = await http.post(f"{gw.url}{URL}/import", json=body, headers=office)
        assert r.status_code == 200, r.text
        assert len(r.json()["created"]) == 2 and await count() == before + 2, r.json()
        again = await export()
        titles = [str(x[header.index("标题")]) for x in again[1:]]
        assert all(titles.count(f"河道清淤整改 {tag} {k}") == 2 for k in (1, 2)), titles


async def test_item_webhooks_reach_a_subscriber_with_only_its_subtrees_units(
    gw: Harness, tree: dict[str, Any], receiver: Receiver
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        key = await api_key(gw, http, tree["A2"]["path"], ["webhooks:manage"])
        url = f"http://127.0.0.1:{receiver.port}/sup-{uuid.uuid4().hex[:6]}"
        r = await http.post(
            f"{gw.url}/api/v1/webhooks",
            json={"url": url, "event_types": ["supervision.item.opened", "supervision.item.changed"]},
            headers={"X-Api-Key": key},
        )
        assert r.status_code == 201, r.text
        office = gw.headers(["supervisor"], tree["A"]["path"])
        today = datetime.now(UTC).date()
        m = """mutation($i: SupervisionItemCreateInput!) { supervisionItemCreate(input: $i) {
          node { id } errors { code message } } }"""

        async def create(lead: str, coop: str | None) -> str:
            i: dict[str, Any] = {
                "title": "校园周边交通整治",
                "problem": "上下学高峰拥堵",
                "source": "department",
                "sourceRef": f"交警支队函 {uuid.uuid4().hex[:4]}",
                "officeId": tree["A"]["id"],
                "lead": {"unitId": tree[lead]["id"], "task": "牵头", "deadline": str(today + timedelta(30))},
                "deadline": str(today + timedelta(30)),
            }
            if coop:
                i["cooperating"] = [
                    {"unitId": tree[coop]["id"], "task": "配合", "deadline": str(today + timedelta(20))}
                ]
            r = await gw.gql(http, m, {"i": i}, headers=office)
            assert not r["data"]["supervisionItemCreate"]["errors"], r
            return str(r["data"]["supervisionItemCreate"]["node"]["id"])

        other = await create("A1", None)  # nothing of A2: not delivered
        shared = await create("A1", "A2")  # A2 cooperates: the subscriber under A2 hears of it

        def bodies() -> list[dict[str, Any]]:
            mine = [
                h for h in receiver.hits if h["headers"].get("kaohe-event-type") == "supervision.item.opened"
            ]
            return [json.loads(h["body"]) for h in mine]

        async def arrived() -> bool:
            return any(b["data"]["item_id"] == shared for b in bodies())

        await eventually(arrived, what="the item.opened webhook", within=30)
        got = next(b for b in bodies() if b["data"]["item_id"] == shared)
        assert got["data"]["unit_ids"] == [tree["A2"]["id"]], got  # A1 (the lead) is outside the subtree
        assert tree["A1"]["path"] not in json.dumps(got, ensure_ascii=False)
        # events reach the consumer in order: `other` was decided before `shared` was queued
        hooks = (await http.get(f"{gw.url}/api/v1/webhooks", headers={"X-Api-Key": key})).json()
        hook = next(h for h in hooks if h["url"] == url)
        r = await http.get(f"{gw.url}/api/v1/webhooks/{hook['id']}/deliveries", headers={"X-Api-Key": key})
        opened = [d for d in r.json()["items"] if d["event_type"] == "supervision.item.opened"]
        assert len(opened) == 1, r.json()
        assert not any(b["data"]["item_id"] == other for b in bodies())
