"""Fixtures of the supervision tests: the supervision component running in this process, units seeded."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from tests.conftest import Infra, Namespace
from tests.supervision.harness import Sup, running


@pytest_asyncio.fixture
async def sup(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> AsyncIterator[Sup]:
    async with running(infra, database_url, ns, nc, js) as s:
        await s.seed_units()
        yield s
