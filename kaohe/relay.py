"""The outbox relay: publishes committed outbox rows to JetStream, once per event id.

Several relay processes may run against one schema: each claims rows with FOR UPDATE SKIP LOCKED.
Each message carries `Nats-Msg-Id` = event id, so a crash between publish and marking the row sent
yields a server-side duplicate drop (within the stream's window) or, later, an inbox hit at consumers.

A batch job of the same process may `hold()` the relay while it runs (supervision's sweep): the relay and
the job share one event loop, and publishing thousands of events between the job's batches (a publish,
an ack and a future each) took as much of the loop as the job itself. Held, the relay publishes the
job's events in one run when it ends, or once the hold is `max_hold_s` old, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import asyncpg
from nats.js import JetStreamContext
from sqlalchemy import func, select, update

from kaohe import logs, metrics
from kaohe.db import Database, asyncpg_dsn
from kaohe.events import OUTBOX, notify_channel

log = logs.get("kaohe.relay")


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        *,
        component: str,
        batch: int = 500,
        poll_s: float = 0.5,
        publish_timeout_s: float = 5.0,
        max_hold_s: float = 2.0,
    ) -> None:
        self.db = db
        self.js = js
        self.component = component
        self.batch = batch
        self.poll_s = poll_s
        self.publish_timeout_s = publish_timeout_s
        self.max_hold_s = max_hold_s
        self._wake = asyncio.Event()
        self._holds = 0
        self._held_since = 0.0
        self._released = asyncio.Event()
        self.waiting_on_hold = asyncio.Event()  # set while a pass waits for a hold to end (tests observe it)
        self.published = 0  # rows this relay published and marked

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Defer publishing while the block runs (nested and concurrent holds share one count), at most
        `max_hold_s` from the first: what the block commits goes out in one run when the last hold ends."""
        if self._holds == 0:
            self._held_since = time.monotonic()
            self._released.clear()
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            if self._holds == 0:
                self._released.set()

    async def _await_release(self, stop: asyncio.Event) -> None:
        left = self.max_hold_s - (time.monotonic() - self._held_since)
        if self._holds == 0 or left <= 0:
            return
        self.waiting_on_hold.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(self._released, stop), left)
        finally:
            self.waiting_on_hold.clear()

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were published and marked."""
        async with self.db.engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(OUTBOX.c.seq, OUTBOX.c.id, OUTBOX.c.subject, OUTBOX.c.envelope)
                    .where(OUTBOX.c.published_at.is_(None))
                    .order_by(OUTBOX.c.seq)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            futures = [
                await self.js.publish_async(r.subject, r.envelope, headers={"Nats-Msg-Id": r.id})
                for r in rows
            ]
            # one deadline for the batch's acks (a timer and a task per message cost as much as publishing)
            _, late = await asyncio.wait(futures, timeout=self.publish_timeout_s)
            for f in late:
                f.cancel()
            results = [TimeoutError("no ack") if f.cancelled() else f.exception() for f in futures]
            done = [r.seq for r, res in zip(rows, results, strict=True) if res is None]
            failed = [r.seq for r, res in zip(rows, results, strict=True) if res is not None]
            if done:
                await conn.execute(
                    update(OUTBOX).where(OUTBOX.c.seq.in_(done)).values(published_at=func.now())
                )
            if failed:
                await conn.execute(
                    update(OUTBOX).where(OUTBOX.c.seq.in_(failed)).values(attempts=OUTBOX.c.attempts + 1)
                )
                first = next(res for res in results if res is not None)
                log.warning(
                    "outbox.relay.publish_failed",
                    component=self.component,
                    failed=len(failed),
                    error=repr(first),
                )
        metrics.EVENTS_PUBLISHED.labels(self.component).inc(len(done))
        self.published += len(done)
        return len(done)

    async def pending(self) -> int:
        async with self.db.engine.connect() as conn:
            n = (
                await conn.execute(
                    select(func.count()).select_from(OUTBOX).where(OUTBOX.c.published_at.is_(None))
                )
            ).scalar_one()
        metrics.OUTBOX_PENDING.labels(self.component).set(n)
        return int(n)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set: woken by NOTIFY at commit, polling as a fallback."""
        listener = asyncio.create_task(self._listen(stop))
        backoff = 0.1
        try:
            while not stop.is_set():
                await self._await_release(stop)
                self._wake.clear()  # before the pass: a commit notified during it triggers another pass
                try:
                    n = await self.relay_once()
                    backoff = 0.1
                except Exception as e:  # DB or NATS outage: keep the rows, try again later
                    log.warning("outbox.relay.error", component=self.component, error=repr(e))
                    await _sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if n >= self.batch:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(self._wake, stop), self.poll_s)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self, stop: asyncio.Event) -> None:
        channel = notify_channel(self.db.schema)
        while not stop.is_set():
            try:
                conn = await asyncpg.connect(asyncpg_dsn(self.db.url))
                try:
                    await conn.add_listener(channel, lambda *_: self._wake.set())
                    self._wake.set()  # catch anything committed while we were not listening
                    await stop.wait()
                finally:
                    await conn.close(timeout=2)
            except (OSError, asyncpg.PostgresError) as e:
                log.warning("outbox.relay.listen_error", component=self.component, error=repr(e))
                await _sleep_or_stop(stop, 1.0)


async def _first(a: asyncio.Event, b: asyncio.Event) -> None:
    ta, tb = asyncio.create_task(a.wait()), asyncio.create_task(b.wait())
    try:
        await asyncio.wait({ta, tb}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        ta.cancel()
        tb.cancel()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
