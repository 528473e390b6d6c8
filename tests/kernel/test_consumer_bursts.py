"""Durable consumers and bursts: what arrives while a batch is being gathered joins it, within bounds.

A relay publishes a transaction's events one after another (a sweep's 100 results take tens of ms under
load); the consumer keeps taking what arrives until the stream has been quiet for `gap_s`, so such a
burst reaches the handler as one batch, not as its first event or two and then the rest. A steady stream
does not hold a batch back past `linger_s` after its first event.
"""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.consumer import Consumer, Subscription
from kaohe.db import Database
from kaohe.events import CloudEvent, event_type, new_event
from tests.conftest import Namespace, eventually

APPROVED = event_type("indicators", "submission", "approved")


def _consumer(
    db: Database, js: JetStreamContext, ns: Namespace, name: str, batches: list[list[str]], **timing: float
) -> Consumer:
    async def one(s: AsyncSession, e: CloudEvent) -> None:
        batches.append([e.id])

    async def many(s: AsyncSession, events: list[CloudEvent]) -> None:
        batches.append([e.id for e in events])

    sub = Subscription(name, [APPROVED], one, many)
    return Consumer(db, js, sub, component="scoring", stream=ns.stream, prefix=ns.prefix, **timing)


async def _publish(js: JetStreamContext, ns: Namespace, n: int) -> list[str]:
    ids = []
    for i in range(n):
        ev = new_event("indicators", "submission", "approved", subject=f"s{i}", data={"i": i})
        await js.publish(
            f"{ns.prefix}.indicators.submission.approved", ev.to_bytes(), headers={"Nats-Msg-Id": ev.id}
        )
        ids.append(ev.id)
    return ids


async def test_events_arriving_while_the_first_is_held_join_its_batch(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    db = Database(database_url, schema="scoring")
    batches: list[list[str]] = []
    c = _consumer(db, js, ns, "bursty", batches, gap_s=0.5, linger_s=5.0)
    stop = asyncio.Event()
    task = asyncio.create_task(c.run(stop))
    try:
        first = await _publish(js, ns, 1)

        async def held() -> bool:  # delivered to the consumer, not yet handled
            with_info = await js.consumer_info(ns.stream, c.durable)
            return with_info.num_ack_pending == 1 and not batches

        await eventually(held, what="the first event delivered and held")
        rest = await _publish(js, ns, 9)  # the rest of the burst, while the first is held

        async def handled() -> bool:
            return sum(len(b) for b in batches) == 10

        await eventually(handled, what="the burst handled")
    finally:
        stop.set()
        await task
        await db.dispose()
    assert batches == [first + rest]


async def test_a_steady_stream_does_not_hold_a_batch_past_the_linger(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    db = Database(database_url, schema="scoring")
    batches: list[list[str]] = []
    c = _consumer(db, js, ns, "steady", batches, gap_s=0.2, linger_s=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(c.run(stop))
    sent: list[str] = []
    try:
        for _ in range(30):  # an event every 30 ms for 0.9 s: never quiet for gap_s
            sent += await _publish(js, ns, 1)
            await asyncio.sleep(0.03)

        async def handled() -> bool:
            return sum(len(b) for b in batches) == len(sent)

        await eventually(handled, what="the stream handled")
    finally:
        stop.set()
        await task
        await db.dispose()
    assert len(batches) >= 2 and [i for b in batches for i in b] == sent  # in order, each once
