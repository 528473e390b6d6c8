"""Fixtures of the rewards tests: a running rewards component and the events it publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from tests.conftest import Infra, Namespace
from tests.support.rewards import Rewards, running
from tests.support.scoring import Events


@pytest_asyncio.fixture
async def events(nc: NATS, ns: Namespace) -> AsyncIterator[Events]:
    ev = Events()
    sub = await nc.subscribe(f"{ns.prefix}.rewards.>", cb=ev.on)
    yield ev
    await sub.unsubscribe()


@pytest_asyncio.fixture
async def rewards(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> AsyncIterator[Rewards]:
    async with running(infra, database_url, ns, nc, js) as rw:
        yield rw
