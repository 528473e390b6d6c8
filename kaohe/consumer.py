"""Durable pull consumers with explicit ack, delayed naks, a dead-letter store, and an inbox.

Each fetched batch runs in one transaction: the inbox rows (consumer, event id) and the handlers' writes
commit together, so a redelivered event that was already processed is acknowledged without running the
handler again. When a handler fails, the batch is rolled back and replayed with a savepoint per event,
so the failing event alone is retried (or dead-lettered) and its neighbours commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe import logs, metrics
from kaohe.db import Database
from kaohe.events import DEAD_LETTER, CloudEvent, dlq_subject, nats_subject

log = logs.get("kaohe.consumer")

CLAIM = text(
    "INSERT INTO inbox (consumer, event_id) SELECT :consumer, unnest(CAST(:ids AS text[]))"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, list[CloudEvent]], Awaitable[None]]


class _HandlerFailed(Exception):
    """A handler raised on the fast path; the batch is retried event by event."""


@dataclass(frozen=True)
class Subscription:
    """A durable consumer: its name, the event types it wants, and the handler.

    With `batch_handler`, a fetched batch's new events (in stream order, duplicates removed) are handed
    over in one call, so a handler can write them with a few statements instead of a few per event;
    after a failure the batch is replayed event by event through `handler`.
    """

    name: str
    types: Sequence[str]
    handler: Handler
    batch_handler: BatchHandler | None = None


class Consumer:
    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        sub: Subscription,
        *,
        component: str,
        stream: str,
        prefix: str,
        max_deliver: int = 5,
        backoff_s: Sequence[float] = (0.2, 1.0, 5.0, 15.0),
        batch: int = 100,
        ack_wait_s: float = 30.0,
    ) -> None:
        self.db = db
        self.js = js
        self.sub = sub
        self.component = component
        self.stream = stream
        self.prefix = prefix
        self.max_deliver = max_deliver
        self.backoff_s = list(backoff_s) or [1.0]
        self.batch = batch
        self.ack_wait_s = ack_wait_s
        self.durable = f"{component}-{sub.name}"

    async def ensure(self) -> None:
        """Create or update the durable consumer on the stream."""
        cfg = ConsumerConfig(
            durable_name=self.durable,
            filter_subjects=[nats_subject(self.prefix, t) for t in self.sub.types],
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait_s,
            # Deliveries are counted here, not by the server: a poison event must reach the dead-letter
            # store before it is terminated, and a server-side limit would drop it if that write failed.
            max_deliver=-1,
            max_ack_pending=max(1000, self.batch * 4),
        )
        await self.js.add_consumer(self.stream, cfg)

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and handle batches until `stop` is set; the batch in hand is finished first (drain)."""
        psub = None
        while not stop.is_set():
            try:
                if psub is None:
                    await self.ensure()
                    psub = await self.js.pull_subscribe_bind(self.durable, stream=self.stream)
                msgs = await self._next_batch(psub)
                if msgs:
                    await self.handle_batch(msgs)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # NATS or DB outage: wait and retry; unacked messages are redelivered
                log.warning("consumer.loop_error", consumer=self.durable, error=repr(e))
                if isinstance(e, nats.errors.ConnectionClosedError | nats.js.errors.NotFoundError):
                    psub = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
        if psub is not None:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()

    async def _next_batch(self, psub: JetStreamContext.PullSubscription) -> list[Msg]:
        """What is pending, up to a batch, as soon as one event is there.

        nats-py's long-polling `fetch(n)` keeps its first message until n have arrived or the timeout
        has passed, which on a trickle of events (200/s, batch 100) adds half a second or more to every
        event. So: wait for one (returns on arrival), then take whatever else is already pending.
        """
        try:
            msgs: list[Msg] = await psub.fetch(1, timeout=1.0)
        except TimeoutError:  # nothing pending
            return []
        if self.batch > 1:
            with contextlib.suppress(TimeoutError):
                msgs += await psub.fetch(self.batch - 1, timeout=0.01)
        return msgs

    async def handle_batch(self, msgs: list[Msg]) -> None:
        """Handle a fetched batch: one transaction on the fast path, per-event savepoints after a failure."""
        events: list[tuple[Msg, CloudEvent]] = []
        failed: list[tuple[Msg, CloudEvent | None, BaseException]] = []
        for msg in msgs:
            try:
                events.append((msg, CloudEvent.from_bytes(msg.data)))
            except ValueError as e:
                failed.append((msg, None, e))
        ok: list[Msg] = []
        try:
            if events:
                ok = await self._fast_path(events)
        except _HandlerFailed:
            ok, slow_failed = await self._slow_path(events)
            failed += slow_failed
        except Exception as e:  # the transaction itself failed (DB outage): nothing of the batch happened
            log.warning("consumer.commit_failed", consumer=self.durable, error=repr(e))
            for msg, _ in events:
                await self._retry_later(msg)
            ok = []
        for msg in ok:
            await msg.ack()
        metrics.EVENTS_HANDLED.labels(self.component, self.durable, "ok").inc(len(ok))
        for msg, event, err in failed:
            metrics.EVENTS_HANDLED.labels(self.component, self.durable, "error").inc()
            deliveries = msg.metadata.num_delivered or 1
            if event is None or deliveries >= self.max_deliver:
                await self._dead_letter(msg, event, err, deliveries)
            else:
                log.warning(
                    "consumer.handler_failed",
                    consumer=self.durable,
                    event_id=event.id,
                    type=event.type,
                    deliveries=deliveries,
                    error=repr(err),
                )
                await self._retry_later(msg)

    async def _claim(self, session: AsyncSession, ids: list[str]) -> set[str]:
        """Insert inbox rows; returns the ids not processed before (in this transaction's view)."""
        rows = await session.execute(  # one array parameter: compiling a multi-row VALUES cost more than
            CLAIM,  # the handlers of a burst of small events
            {"consumer": self.durable, "ids": ids},
        )
        return {r[0] for r in rows}

    async def _fast_path(self, events: list[tuple[Msg, CloudEvent]]) -> list[Msg]:
        async with self.db.uow() as session:
            fresh = await self._claim(session, list(dict.fromkeys(e.id for _, e in events)))
            todo: list[CloudEvent] = []
            for _, event in events:
                if event.id in fresh:
                    fresh.discard(event.id)  # a duplicate within the batch runs once
                    todo.append(event)
            try:
                if self.sub.batch_handler is not None:
                    if todo:
                        await self.sub.batch_handler(session, todo)
                else:
                    for event in todo:
                        await self.sub.handler(session, event)
            except Exception as e:
                raise _HandlerFailed from e
        return [m for m, _ in events]

    async def _slow_path(
        self, events: list[tuple[Msg, CloudEvent]]
    ) -> tuple[list[Msg], list[tuple[Msg, CloudEvent | None, BaseException]]]:
        ok: list[Msg] = []
        failed: list[tuple[Msg, CloudEvent | None, BaseException]] = []
        async with self.db.uow() as session:
            for msg, event in events:
                try:
                    async with session.begin_nested():
                        if await self._claim(session, [event.id]):
                            await self.sub.handler(session, event)
                    ok.append(msg)
                except Exception as e:
                    failed.append((msg, event, e))
        return ok, failed

    async def _retry_later(self, msg: Msg) -> None:
        n = msg.metadata.num_delivered or 1
        delay = self.backoff_s[min(n - 1, len(self.backoff_s) - 1)]
        with contextlib.suppress(Exception):
            await msg.nak(delay=delay)

    async def _dead_letter(
        self, msg: Msg, event: CloudEvent | None, err: BaseException, deliveries: int
    ) -> None:
        """Persist the event in the dead-letter table and on the DLQ stream, then terminate it."""
        event_id = event.id if event else f"unparseable-{msg.metadata.sequence.stream}"
        etype = event.type if event else "unparseable"
        try:
            async with self.db.uow() as session:
                await session.execute(
                    pg_insert(DEAD_LETTER)
                    .values(
                        consumer=self.durable,
                        event_id=event_id,
                        type=etype,
                        envelope=msg.data,
                        error=repr(err)[:4000],
                        deliveries=deliveries,
                    )
                    # parked again after a replay: the new failure, and replayable again
                    .on_conflict_do_update(
                        index_elements=["consumer", "event_id"],
                        set_={
                            "envelope": msg.data,
                            "error": repr(err)[:4000],
                            "deliveries": deliveries,
                            "created_at": func.now(),
                            "replayed_at": None,
                        },
                    )
                )
            await self.js.publish(
                dlq_subject(self.prefix, self.durable),
                msg.data,
                headers={"Nats-Msg-Id": f"{self.durable}:{event_id}", "Kaohe-Error": repr(err)[:500]},
            )
        except Exception as e:  # could not persist: keep the event alive and try again later
            log.warning(
                "consumer.dead_letter_failed", consumer=self.durable, event_id=event_id, error=repr(e)
            )
            await self._retry_later(msg)
            return
        await msg.term()
        metrics.EVENTS_DEAD.labels(self.component, self.durable).inc()
        log.error(
            "consumer.dead_lettered",
            consumer=self.durable,
            event_id=event_id,
            type=etype,
            deliveries=deliveries,
            error=repr(err),
        )
