"""Fixtures of the indicators tests: the indicators component running in this process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.conftest import Infra, Namespace
from tests.support.indicators import Running, harness_kwargs, running


@pytest_asyncio.fixture
async def svc(infra: Infra, database_url: str, ns: Namespace) -> AsyncIterator[Running]:
    """The indicators service on this test's database and NATS namespace, with an RPC client."""
    async with running(**harness_kwargs(infra, database_url, ns)) as r:
        yield r
