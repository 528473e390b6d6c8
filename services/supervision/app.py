"""Supervision service (督查督办): wires the consumers, the sweep and the RPC methods (docs/rpc)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, InfraSettings
from services.supervision import consumers, workers
from services.supervision.rpc import admin, items, reads
from services.supervision.service.context import Ctx, policies
from services.supervision.settings import SupervisionSettings


def setup(
    settings: ComponentSettings, infra: InfraSettings, app: FastAPI | None = None, *, sweep: bool = True
) -> Runtime:
    """Build the supervision runtime; nothing connects until `rt.start()`. `sweep=False`: no background
    sweep (tests drive it with `sweep_run`)."""
    assert isinstance(settings, SupervisionSettings)
    rt = Runtime(settings, infra)
    ladders, cards, rules = policies(settings)
    ctx = Ctx(settings, rt.outbox, ladders, cards, rules, hold_relay=rt.hold_relay)
    rt.state["ctx"] = ctx
    settings.fernet_key()  # a production process without its key fails at start, not at the first intake
    consumers.subscribe(rt, ctx)
    items.register(rt, ctx)
    reads.register(rt, ctx)
    admin.register(rt, ctx)
    stop = asyncio.Event()

    def start_sweep(rt: Runtime) -> None:
        if not sweep:
            return
        assert rt.db is not None
        stop.clear()
        rt.state["sweep"] = asyncio.create_task(workers.run(rt.db, ctx, stop))

    async def stop_sweep(rt: Runtime) -> None:
        stop.set()
        task = rt.state.get("sweep")
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)

    rt.on_start.append(start_sweep)
    rt.on_stop.append(stop_sweep)
    return rt
