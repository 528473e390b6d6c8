"""Component runtime: RPC over NATS with error codes, concurrency, and a graceful drain on shutdown."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client as NATS
from pydantic import BaseModel

from kaohe.errors import NotFound, UpstreamTimeout, UpstreamUnavailable, ValidationFailed
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.runtime import Runtime
from kaohe.settings import InfraSettings
from services.supervision.settings import SupervisionSettings
from tests.conftest import Infra, Namespace


class Work(BaseModel):
    seconds: float = 0.0
    fail: str | None = None


def _runtime(infra: Infra, database_url: str, ns: Namespace) -> Runtime:
    settings = SupervisionSettings(
        event_prefix=ns.prefix, event_stream=ns.stream, rpc_prefix=ns.rpc_prefix, shutdown_grace_s=5
    )
    rt = Runtime(settings, InfraSettings(database_url=database_url, nats_url=infra.nats_url))
    rpc = rt.rpc_server()
    finished: list[float] = []
    entered = asyncio.Event()
    rt.state.update(finished=finished, entered=entered)

    @rpc.method("work", Work)
    async def work(caller: Caller, p: Work) -> dict[str, object]:
        if p.fail == "missing":
            raise NotFound("no such item", field="item_id")
        if p.fail == "bug":
            raise RuntimeError("secret internal detail: password=hunter2")
        entered.set()
        await asyncio.sleep(p.seconds)  # stands for real work taking that long
        finished.append(p.seconds)
        return {"user": caller.user_id, "slept": p.seconds}

    return rt


CALLER = Caller(user_id="u1", roles=frozenset({Role.leader}), org_path="/14/")


async def test_rpc_errors_are_codes_and_internals_do_not_leak(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS
) -> None:
    rt = _runtime(infra, database_url, ns)
    await rt.start()
    client = RpcClient(nc, prefix=ns.rpc_prefix, timeout_s=2)
    try:
        assert await client.call("supervision", "work", Work(), CALLER) == {"user": "u1", "slept": 0.0}
        with pytest.raises(NotFound) as nf:
            await client.call("supervision", "work", Work(fail="missing"), CALLER)
        assert nf.value.field == "item_id"
        with pytest.raises(ValidationFailed) as vf:
            await client.call("supervision", "work", {"seconds": "soon"}, CALLER)
        assert vf.value.field == "seconds"
        with pytest.raises(Exception) as internal:
            await client.call("supervision", "work", Work(fail="bug"), CALLER)
        assert getattr(internal.value, "code", None) == "internal"
        assert "hunter2" not in str(internal.value) and "ref " in str(internal.value)
        # Requests are served concurrently: ten 0.3 s calls take far less than 3 s.
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.gather(
            *(client.call("supervision", "work", Work(seconds=0.3), CALLER) for _ in range(10))
        )
        assert loop.time() - t0 < 1.5
        with pytest.raises(UpstreamTimeout):
            await client.call("supervision", "work", Work(seconds=1.0), CALLER, timeout_s=0.2)
    finally:
        await rt.stop()


async def test_shutdown_finishes_in_flight_requests_then_refuses(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS
) -> None:
    rt = _runtime(infra, database_url, ns)
    await rt.start()
    client = RpcClient(nc, prefix=ns.rpc_prefix, timeout_s=5)
    in_flight = asyncio.create_task(client.call("supervision", "work", Work(seconds=0.5), CALLER))
    await asyncio.wait_for(rt.state["entered"].wait(), 5)  # the request is being handled
    await rt.stop()
    assert await in_flight == {"user": "u1", "slept": 0.5}
    assert rt.state["finished"] == [0.5]
    with pytest.raises(UpstreamUnavailable):
        await client.call("supervision", "work", Work(), CALLER, timeout_s=1)
