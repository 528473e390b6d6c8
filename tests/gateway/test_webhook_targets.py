"""Webhooks are no SSRF tool: non-public targets refused at registration and at delivery, failures as
categories (no transport text to scan ports with)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import insert, update

from gateway.tables import DELIVERY, WEBHOOK
from kaohe import devstack
from tests.conftest import Infra, eventually
from tests.support.gateway import Harness, harness


@pytest_asyncio.fixture(scope="module")
async def hw(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    """The gateway alone (webhooks are its own), with the production default: no private targets."""
    async with harness(infra, template_db, services=(), webhook_timeout_s=2) as h:
        assert h.cfg.webhook_allow_private is False  # the default, in every environment
        yield h


@pytest_asyncio.fixture(scope="module")
async def receiver() -> AsyncIterator[dict[str, Any]]:
    """A loopback HTTP server that records every request it gets."""
    hits: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        hits.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    port = devstack.free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())

    async def up() -> bool:
        return bool(server.started)

    await eventually(up, what="receiver up")
    yield {"port": port, "hits": hits}
    server.should_exit = True
    await task


def _office(h: Harness) -> dict[str, str]:
    return h.headers(["assessment_office"], "/")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",  # a name: refused for what it resolves to
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://2130706433/hook",  # 127.0.0.1 spelt as a number
        "https://10.1.2.3/hook",
        "https://192.168.0.1/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://224.0.0.1/hook",  # multicast
        "https://0.0.0.0/hook",
        "https://240.0.0.1/hook",  # reserved
    ],
)
async def test_non_public_targets_are_refused(hw: Harness, http: httpx.AsyncClient, url: str) -> None:
    r = await http.post(
        f"{hw.url}/api/v1/webhooks", json={"url": url, "event_types": ["score.updated"]}, headers=_office(hw)
    )
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["field"]) == ("webhook_target_forbidden", "url")


async def test_graphql_refuses_too_and_public_https_is_accepted(hw: Harness, http: httpx.AsyncClient) -> None:
    q = """mutation($u: String!) { webhookCreate(url: $u, eventTypes: ["score.updated"]) {
      webhook { id } errors { code field } } }"""
    r = await hw.gql(http, q, {"u": "https://192.168.1.1/hook"}, headers=_office(hw))
    assert r["data"]["webhookCreate"]["errors"] == [{"code": "webhook_target_forbidden", "field": "url"}]
    r = await hw.gql(http, q, {"u": "http://93.184.215.14/hook"}, headers=_office(hw))
    assert r["data"]["webhookCreate"]["errors"][0]["field"] == "url"  # https only
    r = await hw.gql(http, q, {"u": "https://93.184.215.14/hook"}, headers=_office(hw))
    assert r["data"]["webhookCreate"]["errors"] == [] and r["data"]["webhookCreate"]["webhook"]["id"]


async def _deliver_once(h: Harness, http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """Register a public https URL, then point the stored row at `url` (as if its name now resolved
    there), queue one delivery and return its first attempt."""
    office = _office(h)
    r = await http.post(
        f"{h.url}/api/v1/webhooks",
        json={"url": "https://93.184.215.14/hook", "event_types": ["score.updated"]},
        headers=office,
    )
    assert r.status_code == 201, r.text
    hook_id = r.json()["id"]
    db = h.gw.webhooks.db
    async with db.uow() as s:
        await s.execute(update(WEBHOOK).where(WEBHOOK.c.id == hook_id).values(url=url))
        await s.execute(
            insert(DELIVERY).values(
                webhook_id=hook_id, event_id=uuid.uuid4().hex, event_type="score.updated", body="{}"
            )
        )
    h.gw.webhooks.wake.set()

    async def attempted() -> bool:
        r = await http.get(f"{h.url}/api/v1/webhooks/{hook_id}/deliveries", headers=office)
        items = r.json()["items"]
        return bool(items and items[0]["attempt_log"])

    await eventually(attempted, what="first attempt recorded")
    r = await http.get(f"{h.url}/api/v1/webhooks/{hook_id}/deliveries", headers=office)
    return dict(r.json()["items"][0]["attempt_log"][0])


async def test_delivery_checks_the_target_again(
    hw: Harness,
    http: httpx.AsyncClient,
    receiver: dict[str, Any],
) -> None:
    """DNS rebinding: a target that now resolves to loopback is not contacted."""
    attempt = await _deliver_once(hw, http, f"https://localhost:{receiver['port']}/rebound")
    assert attempt["error"] == "target_forbidden" and attempt["status_code"] is None
    attempt = await _deliver_once(hw, http, f"http://127.0.0.1:{receiver['port']}/plain")
    assert attempt["error"] == "target_forbidden"
    assert receiver["hits"] == []


@contextlib.contextmanager
def _private_allowed(h: Harness) -> Any:
    h.cfg.webhook_allow_private = True  # the explicit development setting
    try:
        yield
    finally:
        h.cfg.webhook_allow_private = False


async def test_failures_are_recorded_as_categories(
    hw: Harness,
    http: httpx.AsyncClient,
    receiver: dict[str, Any],
) -> None:
    closed = devstack.free_port()
    with _private_allowed(hw):
        attempt = await _deliver_once(hw, http, f"http://127.0.0.1:{closed}/closed")
        assert attempt["error"] == "connect_failed", attempt
        attempt = await _deliver_once(hw, http, f"http://127.0.0.1:{receiver['port']}/ok")
        assert attempt["error"] is None and attempt["status_code"] == 200
    assert receiver["hits"] == ["/ok"]
    # A public address goes through the pinned path; unreachable here or not, only a category is kept.
    attempt = await _deliver_once(hw, http, "https://1.1.1.1:9/hook")
    assert attempt["error"] in {"connect_failed", "timeout"}, attempt
