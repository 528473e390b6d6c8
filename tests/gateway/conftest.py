"""Gateway test fixtures: `gw`, the four services and the gateway for a test module, and `http`, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from tests.conftest import Infra
from tests.support.gateway import Harness, harness


@pytest_asyncio.fixture(scope="module")
async def gw(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    """The full harness shared by a test module."""
    async with harness(infra, template_db) as h:
        yield h


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client (the gateway's URL is `gw.url`)."""
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
