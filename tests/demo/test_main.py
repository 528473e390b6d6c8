"""`python -m demo` (what `dev.py demo` and `kaohe demo` run) against a stack that is already running."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest_asyncio

from tests.conftest import Infra
from tests.support.gateway import Harness, harness

ROOT = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture
async def running(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    async with harness(infra, template_db) as h:
        yield h


def demo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NATS_URL", "DATABASE_URL", "KAOHE_"))}
    return subprocess.run(
        [sys.executable, "-m", "demo", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_with_only_the_gateway_port_set_it_uses_that_stack_and_never_the_bus(running: Harness) -> None:
    port = str(urlsplit(running.url).port)
    # NATS is not on its default port here: a demo that touched the bus would loop on nats.error
    r = await asyncio.to_thread(demo, "--skeleton-only", env={"KAOHE_GATEWAY_HTTP_PORT": port})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert f"using the running stack at http://127.0.0.1:{port}" in out
    assert "6/6 score" in out and "demo finished" in out
    assert "nats." not in out and "Traceback" not in out  # no nats.error, no stray nats.disconnected
