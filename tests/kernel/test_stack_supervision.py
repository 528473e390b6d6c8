"""`kaohe up` keeps going when a component dies: restarted with backoff, the others untouched; the
gateway's /readyz names an upstream service that stopped answering."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kaohe.settings import COMPONENTS, SERVICES
from kaohe.stack import Ports, Restarts, Stack
from tests.conftest import Infra, Namespace, eventually


@pytest.fixture
def stack(infra: Infra, database_url: str, ns: Namespace, tmp_path: Path) -> Iterator[Stack]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "NATS_URL": infra.nats_url,
            "S3_ENDPOINT": infra.s3_endpoint,
            "S3_ACCESS_KEY": infra.s3_access_key,
            "S3_SECRET_KEY": infra.s3_secret_key,
            "KAOHE_GATEWAY_UPSTREAM_HEALTH_TTL_S": "0.2",
            **ns.component_env(COMPONENTS),
        }
    )
    s = Stack(tmp_path, Ports.free(), env=env, restarts=Restarts(base_s=0.5, cap_s=2))
    s.start_infra()
    s.start_components()
    stop = threading.Event()
    supervisor = threading.Thread(target=s.supervise, args=(stop, 0.1), name="supervisor")
    supervisor.start()
    try:
        yield s
    finally:
        stop.set()
        supervisor.join(10)
        s.stop()


async def _ready(url: str) -> dict[str, object] | None:
    async with httpx.AsyncClient(timeout=2) as http:
        try:
            return dict((await http.get(f"{url}/readyz")).json())
        except httpx.HTTPError:
            return None


async def test_a_killed_component_comes_back_and_readyz_names_a_silent_one(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kaohe.stack")
    others = {c: p.proc.pid for c, p in stack.procs.items() if c != "scoring"}
    old = stack.procs["scoring"].proc.pid
    stack.procs["scoring"].kill()  # SIGKILL
    scoring = f"http://127.0.0.1:{stack.ports.components['scoring']}"

    async def back() -> bool:
        if stack.procs["scoring"].proc.pid == old:
            return False
        status = await _ready(scoring)
        return status is not None and status.get("status") == "ready"

    await eventually(back, within=60, what="scoring restarted and ready")
    assert {c: p.proc.pid for c, p in stack.procs.items() if c != "scoring"} == others
    assert all(stack.procs[c].proc.poll() is None for c in others)
    [restarted] = [r for r in caplog.records if r.getMessage() == "stack.component.restarted"]
    kv = restarted.kv  # type: ignore[attr-defined]
    assert kv["component"] == "scoring" and kv["exit_code"] == -signal.SIGKILL and kv["delay_s"] == 0.5
    gateway = stack.gateway_url

    async def all_answer() -> bool:
        status = await _ready(gateway)
        return status is not None and status.get("upstreams") == dict.fromkeys(SERVICES, "ok")

    await eventually(all_answer, within=30, what="the gateway sees every service again")
    # One stack for both (five processes are slow to start): now a service that stops answering.
    await _gateway_readiness_names_a_silent_upstream(stack)


async def _gateway_readiness_names_a_silent_upstream(stack: Stack) -> None:
    gateway = stack.gateway_url
    status = await _ready(gateway)
    assert status is not None and status["status"] == "ready", status
    pid = stack.procs["rewards"].proc.pid
    os.kill(pid, signal.SIGSTOP)  # alive but not answering
    try:

        async def named() -> bool:
            s = await _ready(gateway)
            upstreams = (s or {}).get("upstreams") or {}
            return str(upstreams.get("rewards", "")).startswith("fail") and s["status"] == "degraded"  # type: ignore[index]

        await eventually(named, within=30, what="readyz naming rewards")
        s = await _ready(gateway)
        assert s is not None and s["upstreams"]["indicators"] == "ok"  # type: ignore[index]
    finally:
        os.kill(pid, signal.SIGCONT)

    async def recovered() -> bool:
        s = await _ready(gateway)
        return s is not None and s["status"] == "ready"

    await eventually(recovered, within=30, what="rewards answering again")
