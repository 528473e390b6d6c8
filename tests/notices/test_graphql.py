"""Notifications through the gateway: preferences, the inbox page, unread count, mark read, the live
subscription — each the caller's own — and a supervision card reaching the carded unit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest_asyncio
import websockets

from kaohe import bus
from kaohe.contracts.events import EventPayload
from kaohe.contracts.supervision import CardIssued
from kaohe.events import CloudEvent
from tests.conftest import Infra, eventually
from tests.support.gateway import Harness, harness

GANG = "/14/1405/140501/"
YI = "/14/1405/140502/"

PREFS = """mutation($i: NotificationPreferencesSetInput!) {
  notificationPreferencesSet(input: $i) { preferences { channels email quietHours { start end } }
    errors { code field message } } }"""
INBOX = """query($after: String) { unreadCount notifications(first: 1, after: $after) {
  edges { cursor node { notificationId rule ruleZh title urgent unitId readAt } }
  pageInfo { hasNextPage endCursor } } }"""
MARK = """mutation($i: NotificationMarkReadInput!) {
  notificationMarkRead(input: $i) { marked unreadCount errors { code field message } } }"""


@pytest_asyncio.fixture
async def gw(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    async with harness(infra, template_db, services=("notices",)) as h:
        yield h


async def publish(h: Harness, infra: Infra, payload: EventPayload, subject: str) -> None:
    nc = await bus.connect(infra.nats_url, name="test-notices-gql", identity=infra.identity())
    try:
        _, svc, entity, verb = payload.TYPE.split(".")
        ev = CloudEvent(source=f"/kaohe/{svc}", type=payload.TYPE, subject=subject, data=payload.data())
        await nc.jetstream().publish(f"{h.ns.prefix}.{svc}.{entity}.{verb}", ev.to_bytes())
    finally:
        await nc.close()


def card(unit: str, path: str, colour: str, key: str) -> CardIssued:
    return CardIssued(
        key=key,
        colour=colour,
        item_id="i1",
        number="督〔2026〕7号",
        unit_id=unit,
        unit_path=path,
        role="lead",
        at=datetime(2026, 12, 21, tzinfo=UTC),
        reason="逾期未签收",
        breach_key=f"b-{key}",
    )


async def test_the_inbox_preferences_and_live_notices_are_the_callers_own(gw: Harness, infra: Infra) -> None:
    a = gw.headers(["reporter"], GANG, user="rep-a")
    b = gw.headers(["leader"], YI, user="head-b")
    async with httpx.AsyncClient(timeout=30) as http:
        bad = await gw.gql(http, PREFS, {"i": {"channels": ["EMAIL"]}}, headers=a)
        err = bad["data"]["notificationPreferencesSet"]["errors"][0]
        assert err["field"] == "email" and err["code"] == "validation_failed"
        ok = await gw.gql(
            http,
            PREFS,
            {
                "i": {
                    "channels": ["EMAIL"],
                    "email": "a@example.gov.cn",
                    "quietHours": {"start": "22:00:00", "end": "07:00:00"},
                }
            },
            headers=a,
        )
        prefs = ok["data"]["notificationPreferencesSet"]["preferences"]
        assert prefs == {
            "channels": ["EMAIL", "INBOX"],
            "email": "a@example.gov.cn",
            "quietHours": {"start": "22:00:00", "end": "07:00:00"},
        }
        await gw.gql(http, PREFS, {"i": {"channels": ["INBOX"]}}, headers=b)
        token = gw.token(["reporter"], GANG, user="rep-a")
        ws = await websockets.connect(
            gw.url.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"]
        )
        try:
            await ws.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
            )
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            sub = "subscription { notificationArrived { notificationId rule title urgent } }"
            await ws.send(json.dumps({"id": "n", "type": "subscribe", "payload": {"query": sub}}))
            live: list[dict[str, Any]] = []

            async def listen() -> None:
                while True:
                    msg = json.loads(await ws.recv())
                    if msg.get("id") == "n" and msg["type"] == "next":
                        live.append(msg["payload"]["data"]["notificationArrived"])

            task = asyncio.create_task(listen())
            try:
                # keep publishing until the subscription is live: a card each round, new event ids each time
                rounds = 0

                async def arrived() -> bool:
                    nonlocal rounds
                    rounds += 1
                    if rounds % 25 == 1:
                        await publish(gw, infra, card("140501", GANG, "red", f"k{rounds}"), "140501:i1")
                    return bool(live)

                await eventually(arrived, what="a live notice on rep-a's subscription")
                await publish(gw, infra, card("140502", YI, "yellow", "kb"), "140502:i1")

                async def b_has() -> bool:
                    r = await gw.gql(http, INBOX, {}, headers=b)
                    return r["data"]["unreadCount"] == 1

                await eventually(b_has, what="head-b's yellow card notice")
            finally:
                task.cancel()
        finally:
            await ws.close()
        assert all(n["rule"] == "SUPERVISION" and n["urgent"] and "红牌" in n["title"] for n in live), live
        first = (await gw.gql(http, INBOX, {}, headers=a))["data"]
        n_a = first["unreadCount"]
        assert n_a >= 1 and first["notifications"]["edges"][0]["node"]["unitId"] == "140501"
        assert first["notifications"]["pageInfo"]["hasNextPage"] == (n_a > 1)
        b_page = (await gw.gql(http, INBOX, {}, headers=b))["data"]["notifications"]["edges"]
        b_node = b_page[0]["node"]
        assert b_node["ruleZh"] == "督办提醒" and not b_node["urgent"] and "黄牌" in b_node["title"]
        # another user's notification: refused as missing, and it stays unread
        r = await gw.gql(http, MARK, {"i": {"notificationIds": [b_node["notificationId"]]}}, headers=a)
        err = r["data"]["notificationMarkRead"]["errors"][0]
        assert err["code"] == "not_found" and err["field"] == "notificationIds"
        assert (await gw.gql(http, INBOX, {}, headers=b))["data"]["unreadCount"] == 1
        r = await gw.gql(http, MARK, {"i": {"all": True}}, headers=a)
        assert r["data"]["notificationMarkRead"]["unreadCount"] == 0
        assert len(r["data"]["notificationMarkRead"]["marked"]) == n_a


IMPORT = """mutation($r: [NotificationRecipientInput!]!) { notificationRecipientsImport(recipients: $r) {
  imported errors { code field message } } }"""
DELIVERIES = (
    """query { notificationDeliveries(first: 10) { nodes { userId rule status attempts tries { ok } } } }"""
)


async def test_the_office_imports_its_recipients_and_reads_the_delivery_log_of_its_subtree(
    gw: Harness, infra: Infra
) -> None:
    office = gw.headers(["assessment_office"], "/14/1405/", user="kb-1405")
    async with httpx.AsyncClient(timeout=30) as http:
        outside = {"userId": "x", "unitId": "1406", "orgPath": "/14/1406/", "roles": ["leader"]}
        r = await gw.gql(http, IMPORT, {"r": [outside]}, headers=office)
        err = r["data"]["notificationRecipientsImport"]["errors"][0]
        assert err["code"] == "forbidden_scope" and err["field"] == "recipients.0.orgPath"
        inside = {
            "userId": "head-a",
            "unitId": "140501",
            "orgPath": GANG,
            "roles": ["leader"],
            "email": "h@a.cn",
        }
        r = await gw.gql(http, IMPORT, {"r": [inside]}, headers=office)
        assert r["data"]["notificationRecipientsImport"] == {"imported": 1, "errors": []}
        reporter = gw.headers(["reporter"], GANG, user="rep-a")
        denied = await gw.gql(http, IMPORT, {"r": [inside]}, headers=reporter)
        refused = denied["data"]["notificationRecipientsImport"]
        assert refused["imported"] is None and refused["errors"][0]["code"] in {"forbidden", "forbidden_role"}
        await publish(gw, infra, card("140501", GANG, "yellow", "k1"), "140501:i1")

        async def logged() -> bool:
            nodes = (await gw.gql(http, DELIVERIES, {}, headers=office))["data"]["notificationDeliveries"][
                "nodes"
            ]
            return [n["userId"] for n in nodes] == ["head-a"]

        await eventually(logged, what="head-a's email delivery in the office's log")
        other = gw.headers(["assessment_office"], "/14/1406/", user="kb-1406")
        nodes = (await gw.gql(http, DELIVERIES, {}, headers=other))["data"]["notificationDeliveries"]["nodes"]
        assert nodes == []
