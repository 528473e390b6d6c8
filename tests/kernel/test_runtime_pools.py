"""Component runtime: the consumers and the outbox relay have a database pool of their own, so RPC calls
holding every connection of the main pool (a burst of reads) do not hold back the events."""

from __future__ import annotations

import asyncio

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.events import CloudEvent, new_event
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.runtime import Runtime
from kaohe.settings import InfraSettings
from services.supervision.settings import SupervisionSettings
from tests.conftest import Infra, Namespace, eventually

CALLER = Caller(user_id="u1", roles=frozenset({Role.leader}), org_path="/14/")
SCORED = "kaohe.scoring.score.updated"


class Hold(BaseModel):
    pass


async def test_an_event_is_handled_while_rpc_calls_hold_the_whole_main_pool(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> None:
    settings = SupervisionSettings(
        event_prefix=ns.prefix,
        event_stream=ns.stream,
        rpc_prefix=ns.rpc_prefix,
        shutdown_grace_s=5,
        db_pool_size=1,  # the main pool: one connection and one overflow
    )
    rt = Runtime(settings, InfraSettings(database_url=database_url, nats_url=infra.nats_url))
    holding: list[int] = []
    release = asyncio.Event()

    @rt.rpc_server().method("hold", Hold)
    async def hold(caller: Caller, p: Hold) -> dict[str, object]:
        assert rt.db is not None
        async with rt.db.uow() as s:  # a connection of the main pool, held until released
            await s.execute(text("SELECT 1"))
            holding.append(1)
            await release.wait()
        return {}

    handled: list[str] = []

    async def on_event(s: AsyncSession, e: CloudEvent) -> None:
        await s.execute(text("SELECT 1"))  # the handler's transaction needs a connection too
        handled.append(e.id)

    rt.subscribe("score-signals", [SCORED], on_event)
    await rt.start()
    client = RpcClient(nc, prefix=ns.rpc_prefix, timeout_s=30)
    calls = [asyncio.create_task(client.call("supervision", "hold", Hold(), CALLER)) for _ in range(2)]
    try:

        async def exhausted() -> bool:
            return len(holding) == 2

        await eventually(exhausted, what="both main-pool connections held")
        ev = new_event("scoring", "score", "updated", subject="u:2026-06", data={})
        await js.publish(f"{ns.prefix}.scoring.score.updated", ev.to_bytes(), headers={"Nats-Msg-Id": ev.id})

        async def done() -> bool:
            return handled == [ev.id]

        await eventually(done, within=10, what="the event handled while the main pool is held")
        assert len(holding) == 2 and not release.is_set()  # still held: the consumer used its own pool
    finally:
        release.set()
        await asyncio.gather(*calls, return_exceptions=True)
        await rt.stop()
