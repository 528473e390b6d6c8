"""Documents test fixtures: the services and the gateway for a module, and a scored world to render."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio

from kaohe.identity import Caller, Role
from tests.conftest import Infra
from tests.support.gateway import Harness, Scored, harness, scored_world

OFFICE = {"office": "单位A考核工作领导小组办公室", "office_code": "A考办"}


def office(path: str = "/") -> Caller:
    return Caller(user_id="office", roles=frozenset({Role.assessment_office}), org_path=path)


def reporter(path: str) -> Caller:
    return Caller(user_id=f"r-{path}", roles=frozenset({Role.reporter}), org_path=path)


@pytest_asyncio.fixture(scope="module")
async def gw(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    async with harness(infra, template_db) as h:
        yield h


@pytest_asyncio.fixture(scope="module")
async def world(gw: Harness) -> Scored:
    """Province P → cities A, B → counties A1..A5, B1; two months of approved values, ranked."""
    async with httpx.AsyncClient(timeout=30) as http:
        return await scored_world(gw, http, uuid.uuid4().hex[:6], extra=3)


@pytest_asyncio.fixture(scope="module")
def call(gw: Harness) -> Any:
    async def call(method: str, params: dict[str, Any], caller: Caller, service: str = "documents") -> Any:
        return await gw.gw.upstream.call(service, method, params, caller, timeout_s=60)

    return call
