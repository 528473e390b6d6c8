"""Notices through the gateway's webhooks: an integrator (a 政务 messaging system) registered for
`notices.notice.created` receives a signed delivery per fan-out in its subtree, user ids and no address."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS

from kaohe.contracts.scoring import WarningRaised
from kaohe.events import CloudEvent
from kaohe.identity import Caller, Role
from tests.conftest import Infra, eventually
from tests.notices.harness import recipient
from tests.support.gateway import Harness, harness
from tests.support.webhooks import Receiver, serving

pytestmark = pytest.mark.asyncio

OFFICE = Caller(user_id="office-14", roles=frozenset({Role.assessment_office}), org_path="/14/")
PEOPLE = [
    recipient("rep-140501", "140501", "/14/1405/140501/", ["reporter"]),
    recipient("head-140501", "140501", "/14/1405/140501/", ["leader"]),
    recipient("rep-140601", "140601", "/14/1406/140601/", ["reporter"]),  # another city: not the hook's
]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serving(Receiver()) as rec:
        yield rec


@pytest_asyncio.fixture
async def gw(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    async with harness(infra, template_db, services=("notices",), webhook_allow_private=True) as h:
        yield h


def warning(unit: str, path: str, name: str) -> WarningRaised:
    return WarningRaised(
        unit_id=unit,
        unit_path=path,
        unit_name=name,
        code="GDP",
        period="2026-11",
        level="red",
        level_zh="红",
        expected=0.9,
        actual=0.5,
        lag=0.4,
    )


async def test_a_notice_reaches_a_webhook_of_its_subtree_signed_with_user_ids_only(
    gw: Harness, receiver: Receiver, nc: NATS
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(
            f"{gw.url}/api/v1/api-keys",
            json={"name": "政务短信平台", "scopes": ["webhooks:manage"], "org_path": "/14/1405/"},
            headers=gw.headers(["assessment_office"], "/"),
        )
        assert r.status_code == 201, r.text
        key = {"X-Api-Key": r.json()["key"]}
        target = {"url": f"http://127.0.0.1:{receiver.port}/hook", "event_types": ["notices.notice.created"]}
        r = await http.post(f"{gw.url}/api/v1/webhooks", json=target, headers=key)
        assert r.status_code == 201, r.text
        hook, secret = r.json(), r.json()["secret"]
        await gw.gw.upstream.call("notices", "recipients_import", {"recipients": PEOPLE}, OFFICE)

        js = nc.jetstream()
        units = (("140601", "/14/1406/140601/", "外市镇"), ("140501", "/14/1405/140501/", "甲镇"))
        for unit, path, name in units:
            ev = CloudEvent(
                source="/kaohe/scoring",
                type=WarningRaised.TYPE,
                subject=f"{unit}:GDP:2026-11",
                data=warning(unit, path, name).data(),
            )
            await js.publish(f"{gw.ns.prefix}.scoring.warning.raised", ev.to_bytes())

        async def delivered() -> bool:
            r = await http.get(f"{gw.url}/api/v1/webhooks/{hook['id']}/deliveries", headers=key)
            items = r.json()["items"]
            return bool(items) and items[0]["status"] == "delivered" and bool(receiver.hits)

        await eventually(delivered, within=30, what="the notice's webhook delivery")
        # the outside unit's notices were written (and announced) before the inside one's
        other = Caller(user_id="rep-140601", roles=frozenset({Role.reporter}), org_path="/14/1406/140601/")
        outside = await gw.gw.upstream.call("notices", "notifications", {"first": 10}, other)
        assert [i["unit_id"] for i in outside["items"]] == ["140601"]

    [hit] = receiver.hits  # one fan-out inside the subtree: one delivery; the other city's never
    h = hit["headers"]
    assert h["kaohe-event-type"] == "notices.notice.created"
    want = hmac.new(secret.encode(), f"{h['kaohe-timestamp']}.".encode() + hit["body"], hashlib.sha256)
    assert h["kaohe-signature"] == f"v1={want.hexdigest()}"
    assert abs(int(h["kaohe-timestamp"]) - time.time()) < 60
    payload = json.loads(hit["body"])
    assert payload["type"] == "notices.notice.created"
    [data] = payload["data"]["units"]  # the other city's group never leaves the gateway
    assert sorted(data["user_ids"]) == ["head-140501", "rep-140501"] and len(data["notice_ids"]) == 2
    assert (data["rule"], data["rule_zh"], data["unit_id"]) == ("warning", "预警提醒", "140501")
    assert data["unit_path"] == "/14/1405/140501/" and data["urgent"] is True and "甲镇" in data["title"]
    assert b"@" not in hit["body"] and b"140601" not in hit["body"]
