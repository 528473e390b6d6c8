"""Background loops: email delivery (claims with SKIP LOCKED, so replicas share it) and the reminder sweep —
填报 deadlines (idempotent per scheme, month and recipient) and 督办 due days (per item, unit and due day) —
so replicas running it together write each reminder once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from kaohe import logs
from kaohe.db import Database
from services.notices.repository.connection import raw
from services.notices.service import delivery, items, reminders
from services.notices.service.fanout import Timing
from services.notices.service.mail import Mailer
from services.notices.service.push import Pusher
from services.notices.settings import NoticesSettings

log = logs.get("notices.workers")


async def _loop(stop: asyncio.Event, period: float, step: Callable[[], Awaitable[int]], name: str) -> None:
    """Run `step` until `stop`; again at once while it finds work, else after `period` (or when woken)."""
    while not stop.is_set():
        found = 0
        try:
            found = await step()
        except Exception as e:
            log.warning(f"notices.{name}.failed", error=type(e).__name__, detail=str(e)[:300])
        if found:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), period)


async def deliver(
    db: Database,
    settings: NoticesSettings,
    timing: Timing,
    clock: Callable[[], datetime],
    stop: asyncio.Event,
) -> None:
    mailer = Mailer(settings)
    if not mailer.configured:
        log.info("notices.email.held", reason="KAOHE_NOTICES_SMTP_HOST is not set")
        return

    async def step() -> int:
        return await delivery.run_once(db, mailer, settings, timing, clock)

    await _loop(stop, settings.deliver_poll_s, step, "delivery")


async def remind(
    db: Database,
    settings: NoticesSettings,
    timing: Timing,
    clock: Callable[[], datetime],
    pusher: Pusher,
    stop: asyncio.Event,
) -> None:
    async def step() -> int:
        async with db.uow() as s:
            c, now = await raw(s), clock()
            pushed = await reminders.sweep(c, now=now, timing=timing)
            ahead = settings.item_remind_workdays
            pushed += await items.sweep(c, now=now, timing=timing, remind_workdays=ahead)
            await pusher.announce(s, pushed)
        return 0  # a sweep is complete in one go: wait for the next period

    await _loop(stop, settings.remind_poll_s, step, "reminders")
