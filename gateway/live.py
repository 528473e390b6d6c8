"""Live events for GraphQL subscriptions: one core-NATS subscription per process, fanned out in memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from kaohe import logs
from kaohe.events import CloudEvent, nats_subject

log = logs.get("gateway.live")

LIVE_TYPES: tuple[str, ...] = (
    "kaohe.scoring.score.updated",
    "kaohe.scoring.warning.raised",
    "kaohe.scoring.warning.cleared",
    "kaohe.scoring.results.published",
    "kaohe.supervision.item.opened",
    "kaohe.supervision.item.changed",
    "kaohe.supervision.item.closed",
    "kaohe.supervision.card.issued",
    "kaohe.rewards.proposal.awaiting",
)
# Per-user pushes (kaohe.contracts.notices): relayed to subscriptions, never a reason to drop cached reads.
PUSH_TYPES: tuple[str, ...] = ("kaohe.notices.inbox.pushed",)
QUEUE_SIZE = 256  # a slow subscriber drops its oldest events instead of holding the process's memory


class LiveEvents:
    """Events as they are published (JetStream subjects are plain NATS subjects too): no replay."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._queues: set[asyncio.Queue[CloudEvent]] = set()
        self._subs: list[Subscription] = []
        self._types: set[str] = {*LIVE_TYPES, *PUSH_TYPES}
        self._listeners: list[Callable[[str], None]] = []

    def listen(self, types: Iterable[str], listener: Callable[[str], None]) -> None:
        """Call `listener(event type)` for each event of these types, before any subscriber sees it."""
        self._types.update(types)
        self._listeners.append(listener)

    async def start(self, nc: NATS) -> None:
        for t in sorted(self._types):
            self._subs.append(await nc.subscribe(nats_subject(self.prefix, t), cb=self._on_msg))

    async def stop(self) -> None:
        for s in self._subs:
            with contextlib.suppress(Exception):
                await s.unsubscribe()
        self._subs.clear()

    async def _on_msg(self, msg: Msg) -> None:
        try:
            event = CloudEvent.from_bytes(msg.data)
        except ValueError:
            log.warning("live.bad_event", subject=msg.subject)
            for listener in self._listeners:  # unreadable, yet maybe a change: invalidate all the same
                listener("")
            return
        for listener in self._listeners:
            listener(event.type)
        for q in list(self._queues):
            if q.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()
            q.put_nowait(event)

    def stream(self, types: set[str]) -> AsyncIterator[CloudEvent]:
        """Events of the given types from this call on (registered at once), until iteration stops."""
        q: asyncio.Queue[CloudEvent] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(q)
        return self._drain(q, types)

    async def _drain(self, q: asyncio.Queue[CloudEvent], types: set[str]) -> AsyncIterator[CloudEvent]:
        try:
            while True:
                event = await q.get()
                if event.type in types:
                    yield event
        finally:
            self._queues.discard(q)
