"""Fixtures of the scoring tests: a running scoring component and the events it publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from tests.conftest import Infra, Namespace
from tests.support.scoring import Events, Scoring, running


@pytest_asyncio.fixture
async def events(nc: NATS, ns: Namespace) -> AsyncIterator[Events]:
    ev = Events()
    sub = await nc.subscribe(f"{ns.prefix}.scoring.>", cb=ev.on)
    yield ev
    await sub.unsubscribe()


@pytest_asyncio.fixture
async def scoring(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> AsyncIterator[Scoring]:
    async with running(infra, database_url, ns, nc, js) as sc:
        yield sc
