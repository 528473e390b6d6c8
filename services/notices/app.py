"""Notices service (通知): wires the rules consumer, the email and reminder workers, the push and RPC."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, InfraSettings
from kaohe.workdays import WorkdayCalendar, official_calendar
from services.notices import consumers, rpc, workers
from services.notices.domain.timing import Window
from services.notices.service.fanout import Timing
from services.notices.service.push import Pusher
from services.notices.settings import NoticesSettings


def _now() -> datetime:
    return datetime.now(UTC)


def setup(
    settings: ComponentSettings,
    infra: InfraSettings,
    app: FastAPI | None = None,
    *,
    clock: Callable[[], datetime] = _now,
    calendar: WorkdayCalendar | None = None,
) -> Runtime:
    """Build the notices runtime; nothing connects until `rt.start()`. `clock` and `calendar`: what "now"
    and the working days are (tests pin both; the default is the wall clock and the national calendar)."""
    assert isinstance(settings, NoticesSettings)
    rt = Runtime(settings, infra)
    timing = Timing(calendar or official_calendar(), Window(settings.work_start, settings.work_end))
    pusher = Pusher(settings.event_prefix, settings.push_batch)
    rt.state.update(timing=timing, pusher=pusher, clock=clock)
    consumers.subscribe(rt, timing, pusher, clock, timedelta(hours=settings.max_event_age_h))
    rpc.register(rt, clock)
    stop = asyncio.Event()

    def start_workers(rt: Runtime) -> None:
        assert rt.db is not None and rt.nc is not None
        stop.clear()
        nc = rt.nc
        pusher.publish = nc.publish
        rt.state["workers"] = [
            asyncio.create_task(
                workers.deliver(rt.db, settings, timing, clock, stop), name="notices:deliver"
            ),
            asyncio.create_task(
                workers.remind(rt.db, settings, timing, clock, pusher, stop), name="notices:remind"
            ),
        ]

    async def stop_workers(rt: Runtime) -> None:
        stop.set()
        tasks = rt.state.get("workers", [])
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=settings.shutdown_grace_s)
            for t in pending:
                t.cancel()
        with contextlib.suppress(Exception):
            await pusher.drain()

    rt.on_start.append(start_workers)
    rt.on_stop.append(stop_workers)
    return rt
