"""Fixtures of the demo's tests: the full gateway harness and a client of its public APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
import pytest_asyncio

from demo.client import Api, Who
from tests.conftest import Infra
from tests.support.gateway import Harness, harness


def _signer(h: Harness) -> Callable[[Who], str]:
    def sign(who: Who) -> str:
        codes = sorted(who.codes) or None
        return h.token([who.role], who.org_path, user=who.user_id, indicator_codes=codes)

    return sign


@pytest_asyncio.fixture
async def api(infra: Infra, template_db: str) -> AsyncIterator[Api]:
    """The demo's client on a fresh harness (services, gateway, database and NATS namespace of its own)."""
    async with harness(infra, template_db) as h, httpx.AsyncClient(timeout=120) as http:
        yield Api(h.url, http, sign=_signer(h))


@pytest.fixture
def another_api(infra: Infra, template_db: str) -> Callable[[], AbstractAsyncContextManager[Api]]:
    """Opens a second, independent harness with its client (to compare two fresh runs)."""
    import contextlib

    @contextlib.asynccontextmanager
    async def open_() -> AsyncIterator[Api]:
        async with harness(infra, template_db) as h, httpx.AsyncClient(timeout=120) as http:
            yield Api(h.url, http, sign=_signer(h))

    return open_
