"""Durable consumers and bursts: a burst being stored while its first event is taken joins that batch.

A relay publishes a transaction's events one after another (a sweep's 100 results take tens of ms under
load). The consumer takes its first event on arrival, then keeps taking while each take finds events
waiting, so such a burst reaches the handler as one batch, not as its first event or two and then the
rest. A trickle is not gathered: a take that had to wait for its event ends the batch.
"""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
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


async def _waiting(js: JetStreamContext, ns: Namespace, c: Consumer) -> None:
    async def waiting() -> bool:  # bound, its first pull request waiting at the server
        try:
            info = await js.consumer_info(ns.stream, c.durable)
        except NotFoundError:
            return False
        return info.num_waiting > 0

    await eventually(waiting, what="the consumer waiting for events")


async def test_a_burst_published_one_event_at_a_time_is_one_batch(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    db = Database(database_url, schema="scoring")
    batches: list[list[str]] = []
    # generous bounds for a loaded test machine: each publish is acknowledged well within burst_s
    c = _consumer(db, js, ns, "bursty", batches, gap_s=0.5, burst_s=0.25, linger_s=5.0)
    stop = asyncio.Event()
    task = asyncio.create_task(c.run(stop))
    try:
        await _waiting(js, ns, c)
        sent = await _publish(js, ns, 20)  # one after another, each acknowledged before the next

        async def handled() -> bool:
            return sum(len(b) for b in batches) == 20

        await eventually(handled, what="the burst handled")
    finally:
        stop.set()
        await task
        await db.dispose()
    assert batches == [sent]


async def test_a_steady_trickle_is_not_gathered_into_one_batch(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    db = Database(database_url, schema="scoring")
    batches: list[list[str]] = []
    c = _consumer(db, js, ns, "steady", batches, gap_s=0.5, burst_s=0.05, linger_s=5.0)
    stop = asyncio.Event()
    task = asyncio.create_task(c.run(stop))
    sent: list[str] = []
    try:
        await _waiting(js, ns, c)
        for _ in range(10):  # an event every 100 ms: each take waits for its event
            sent += await _publish(js, ns, 1)
            await asyncio.sleep(0.1)

        async def handled() -> bool:
            return sum(len(b) for b in batches) == len(sent)

        await eventually(handled, what="the stream handled")
    finally:
        stop.set()
        await task
        await db.dispose()
    assert len(batches) >= 2 and [i for b in batches for i in b] == sent  # in order, each once
