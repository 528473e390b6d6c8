"""The bus's identities on a real nats-server: no credentials, no connection; a foreign identity can neither
forge another service's event nor call or stand in for a service; the gateway can call."""

from __future__ import annotations

import contextlib
import dataclasses
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import nats.errors
import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe import bus, devnats, natsauth
from kaohe.errors import UpstreamTimeout
from kaohe.rpc import RpcClient
from kaohe.settings import COMPONENTS
from kaohe.stack import Ports, Stack
from tests.conftest import Infra, Namespace, eventually
from tests.support.indicators import OFFICE as IND_OFFICE
from tests.support.indicators import Running, harness_kwargs, running
from tests.support.scoring import OFFICE, Scoring, fill, totals
from tests.support.scoring import running as scoring_running

JAN = "2026-01"


@pytest_asyncio.fixture
async def scoring(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> AsyncIterator[Scoring]:
    async with scoring_running(infra, database_url, ns, nc, js) as sc:
        yield sc


@pytest.fixture(autouse=True)
def _our_server(infra: Infra) -> None:
    if not infra.nats_passwords:
        pytest.skip("NATS is external (KAOHE_TEST_NATS_URL): its identities are not the session's")


@contextlib.asynccontextmanager
async def connected(infra: Infra, who: str) -> AsyncIterator[NATS]:
    nc = await bus.connect(infra.nats_url, name=f"test-{who}", identity=infra.identity(who))
    try:
        yield nc
    finally:
        await nc.close()


def denied(caplog: pytest.LogCaptureFixture, what: str) -> list[str]:
    """The permission violations the kernel logged (the server reports them asynchronously)."""
    errors = [r.kv["error"] for r in caplog.records if r.getMessage() == "nats.permission_denied"]  # type: ignore[attr-defined]
    return [e for e in errors if what.lower() in e.lower().replace('"', "")]


async def test_a_client_without_valid_credentials_cannot_connect(infra: Infra) -> None:
    for creds in ({}, {"user": "indicators", "password": "not-the-password"}):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(servers=[infra.nats_url], allow_reconnect=False, connect_timeout=2, **creds)


@pytest.mark.parametrize("who", ["scoring", "guest"])
async def test_a_foreign_identity_cannot_forge_an_approval(
    infra: Infra,
    scoring: Scoring,
    ns: Namespace,
    who: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with connected(infra, "indicators") as ind, connected(infra, who) as foreign:
        genuine = dataclasses.replace(scoring, js=ind.jetstream(timeout=5))  # approvals from indicators
        sid = await scoring.scheme()
        await fill(genuine, sid, "140501", JAN, 10, 5, 4, "一般")

        async def scored(unit: str) -> float | None:
            return (await totals(scoring, [unit], JAN))[unit]

        await eventually(lambda: _is_set(scored("140501")), what="the genuine approvals scored")
        before = await scored("140501")
        stored = (await scoring.js.stream_info(ns.stream)).state.messages

        forger = dataclasses.replace(scoring, js=foreign.jetstream(timeout=1))
        with pytest.raises(nats.errors.TimeoutError):  # the server drops it: no stream ever acks it
            await forger.value(sid, "140501", "GDP", JAN, 1000, revision=99)
        await foreign.publish(f"{ns.prefix}.indicators.submission.approved", b"{}")  # core NATS too
        await foreign.flush()
        assert (await scoring.js.stream_info(ns.stream)).state.messages == stored

        # A later genuine approval is scored: the consumer has passed the point the forgery would be at.
        await fill(genuine, sid, "140502", JAN, 10, 5, 0, "好")
        await eventually(lambda: _is_set(scored("140502")), what="a later genuine approval scored")
        assert await scored("140501") == before
    assert denied(caplog, f"Publish to {ns.prefix}.indicators.submission.approved")


async def _is_set(total: object) -> bool:
    return await total is not None  # type: ignore[misc]


@pytest_asyncio.fixture
async def indicators(infra: Infra, database_url: str, ns: Namespace) -> AsyncIterator[Running]:
    async with running(**harness_kwargs(infra, database_url, ns)) as r:
        yield r


async def test_only_the_gateway_may_call_or_serve_a_service(
    infra: Infra,
    scoring: Scoring,
    indicators: Running,
    ns: Namespace,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sid = await scoring.scheme()
    calls = [
        ("scoring", "config_get", {"scheme_id": sid}, OFFICE),
        ("indicators", "scheme_list", {}, IND_OFFICE),
    ]
    for who in ("supervision", "scoring", "guest"):
        async with connected(infra, who) as foreign:
            client = RpcClient(foreign, prefix=ns.rpc_prefix, timeout_s=1)
            for service, method, params, caller in calls:
                with pytest.raises(UpstreamTimeout):  # the request never reaches the service
                    await client.call(service, method, params, caller)
    assert len(denied(caplog, f"Publish to {ns.rpc_prefix}.")) == 6

    async with connected(infra, "gateway") as gw, connected(infra, "supervision") as impostor:
        stolen: list[bytes] = []

        async def steal(msg: nats.aio.msg.Msg) -> None:
            stolen.append(msg.data)

        await impostor.subscribe(f"{ns.rpc_prefix}.scoring.*", cb=steal)  # refused by the server
        await impostor.flush()
        client = RpcClient(gw, prefix=ns.rpc_prefix, timeout_s=5)
        for service, method, params, caller in calls:
            assert await client.call(service, method, params, caller) is not None
        await impostor.flush()  # anything the server sent the impostor before this has arrived
        assert stolen == []
    assert denied(caplog, f"Subscription to {ns.rpc_prefix}.scoring.*")


def test_the_dev_stack_gives_each_component_only_its_own_credentials(tmp_path: Path) -> None:
    creds = tmp_path / "nats-credentials.json"
    passwords = devnats.nats_credentials(creds)
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert set(passwords) == set(natsauth.IDENTITIES) and len(set(passwords.values())) == len(passwords)
    assert devnats.nats_credentials(creds) == passwords  # kept: a restart reuses them
    leaked = {f"KAOHE_{i.upper()}_NATS_PASSWORD": "from-the-parent" for i in natsauth.IDENTITIES}
    stack = Stack(tmp_path, Ports.free(), env=leaked, nats_passwords=passwords)
    stack.urls = {"database": "postgresql+asyncpg://x/y", "nats": "nats://x", "s3": "http://x"}
    for c in COMPONENTS:
        env = stack.component_env(c)
        mine = natsauth.env_for(c, passwords[c])
        assert {k: v for k, v in env.items() if k in natsauth.credential_vars()} == mine, c
