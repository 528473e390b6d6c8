"""Fixtures of the cross-component notices tests: a template with every component's migrations (scoring's
objections and notices' inbox in one database, as the stack runs them) and a clock that reads the wall."""

from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg
import pytest

from kaohe import migrate
from kaohe.db import asyncpg_dsn
from kaohe.workdays import CHINA_TZ
from tests.conftest import Infra
from tests.notices.harness import Clock

TEMPLATE = "kaohe_template_notices_flow"


@pytest.fixture(scope="session")
def template_db(infra: Infra) -> str:
    async def create() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(infra.pg_server_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        finally:
            await conn.close()

    asyncio.run(create())
    migrate.upgrade(infra.pg_server_url.rsplit("/", 1)[0] + f"/{TEMPLATE}")
    return TEMPLATE


@pytest.fixture
def clock() -> Clock:
    """Now: the events scoring emits carry the real time, and an old event notifies nobody."""
    return Clock(datetime.now(CHINA_TZ))
