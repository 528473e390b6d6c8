"""Fixtures of the notices tests: a real SMTP server, a steerable clock, a running notices component."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe.workdays import CHINA_TZ
from tests.conftest import Infra, Namespace, make_template
from tests.notices.harness import Clock, Notices, SmtpInbox, running, smtp_server

WEDNESDAY_10 = datetime(2026, 12, 9, 10, 0, tzinfo=CHINA_TZ)  # an ordinary working day, in working hours


TEMPLATE = "kaohe_template_notices"


@pytest.fixture(scope="session")
def template_db(infra: Infra) -> str:
    """Notices' own template: its migrations and the gateway's (the GraphQL test), cloned for each test."""
    return make_template(infra, TEMPLATE, ("notices", "gateway"))


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    with smtp_server() as s:
        yield s


@pytest.fixture
def clock() -> Clock:
    return Clock(WEDNESDAY_10)


@pytest_asyncio.fixture
async def notices(
    infra: Infra,
    database_url: str,
    ns: Namespace,
    nc: NATS,
    js: JetStreamContext,
    clock: Clock,
    smtp: tuple[SmtpInbox, int],
) -> AsyncIterator[Notices]:
    async with running(infra, database_url, ns, nc, js, clock, smtp[1]) as n:
        yield n
