"""Fixtures of the cross-component notices tests: a template with every component's migrations (scoring's
objections and notices' inbox in one database, as the stack runs them) and a clock that reads the wall."""

from __future__ import annotations

from datetime import datetime

import pytest

from kaohe.workdays import CHINA_TZ
from tests.conftest import Infra, make_template
from tests.notices.harness import Clock

TEMPLATE = "kaohe_template_notices_flow"


@pytest.fixture(scope="session")
def template_db(infra: Infra) -> str:
    return make_template(infra, TEMPLATE)


@pytest.fixture
def clock() -> Clock:
    """Now: the events scoring emits carry the real time, and an old event notifies nobody."""
    return Clock(datetime.now(CHINA_TZ))
