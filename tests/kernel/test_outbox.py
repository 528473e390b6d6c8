"""The transactional outbox and its relay against real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import asyncio

import pytest
from nats.js import JetStreamContext
from sqlalchemy import func, select, text

from kaohe.db import Database
from kaohe.events import OUTBOX, CloudEvent, Outbox, new_event
from kaohe.relay import OutboxRelay
from tests.conftest import Namespace, eventually


class Boom(Exception):
    pass


async def _stream_messages(js: JetStreamContext, stream: str) -> int:
    return int((await js.stream_info(stream)).state.messages)


async def test_event_published_iff_transaction_commits(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    await published_iff_commit(database_url, js, js, ns)


async def published_iff_commit(
    database_url: str, relay_js: JetStreamContext, js: JetStreamContext, ns: Namespace
) -> None:
    """The relay (on `relay_js`) publishes a committed event once and a rolled-back one never; `js` reads."""
    db = Database(database_url, schema="indicators")
    outbox = Outbox(prefix=ns.prefix, schema="indicators")
    relay = OutboxRelay(db, relay_js, component="indicators")
    try:
        rolled_back = new_event("indicators", "unit", "changed", subject="u1", data={"n": 1})
        with pytest.raises(Boom):
            async with db.uow() as s:
                await s.execute(
                    text(
                        "INSERT INTO indicators.unit (id, name, kind, path, valid_from, created_at) "
                        "VALUES ('u1', 'x', 'county', '/u1/', now(), now())"
                    )
                )
                await outbox.emit(s, rolled_back)
                raise Boom
        assert await relay.relay_once() == 0
        assert await _stream_messages(js, ns.stream) == 0

        committed = new_event("indicators", "unit", "changed", subject="u2", data={"n": 2})
        async with db.uow() as s:
            await outbox.emit(s, committed)
        assert await relay.relay_once() == 1
        assert await relay.relay_once() == 0  # marked sent: not published twice
        assert await _stream_messages(js, ns.stream) == 1

        sub = await js.pull_subscribe(f"{ns.prefix}.>", stream=ns.stream)
        [msg] = await sub.fetch(1, timeout=2)
        got = CloudEvent.from_bytes(msg.data)
        assert got.id == committed.id and got.id != rolled_back.id
        assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == committed.id
        assert msg.subject == f"{ns.prefix}.indicators.unit.changed"
        assert got.specversion == "1.0" and got.source == "/kaohe/indicators" and got.data == {"n": 2}
    finally:
        await db.dispose()


async def test_relays_in_parallel_publish_each_event_once(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    db = Database(database_url, schema="scoring")
    outbox = Outbox(prefix=ns.prefix, schema="scoring")
    async with db.uow() as s:
        for i in range(300):
            await outbox.emit(s, new_event("scoring", "score", "updated", subject=str(i), data={"i": i}))
    relays = [OutboxRelay(db, js, component="scoring", batch=40) for _ in range(3)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    try:

        async def drained() -> bool:
            async with db.engine.connect() as c:
                left = (
                    await c.execute(
                        select(func.count()).select_from(OUTBOX).where(OUTBOX.c.published_at.is_(None))
                    )
                ).scalar_one()
            return left == 0

        await eventually(drained, what="outbox drained by three relays")
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await db.dispose()
    # Each row was claimed by exactly one relay (SKIP LOCKED): no relay published another's row, and
    # the work was actually shared. The stream holds each event once.
    assert sum(r.published for r in relays) == 300
    assert sum(1 for r in relays if r.published > 0) >= 2
    assert await _stream_messages(js, ns.stream) == 300


async def _pending(db: Database) -> int:
    async with db.engine.connect() as c:
        q = select(func.count()).select_from(OUTBOX).where(OUTBOX.c.published_at.is_(None))
        return int((await c.execute(q)).scalar_one())


class Held:
    """A rewards outbox with its relay running (poll 50 ms) from the start of the block."""

    def __init__(self, database_url: str, js: JetStreamContext, ns: Namespace, max_hold_s: float) -> None:
        self.db = Database(database_url, schema="rewards")
        self.outbox = Outbox(prefix=ns.prefix, schema="rewards")
        self.relay = OutboxRelay(self.db, js, component="rewards", poll_s=0.05, max_hold_s=max_hold_s)
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.relay.run(self.stop))

    async def emit(self) -> None:
        async with self.db.uow() as s:
            await self.outbox.emit(s, new_event("rewards", "plan", "changed", subject="p", data={}))

    async def all_published(self) -> None:
        async def none_pending() -> bool:
            return await _pending(self.db) == 0

        await eventually(none_pending, what="the outbox drained")

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await self.task
        await self.db.dispose()


async def test_a_held_relay_publishes_what_was_committed_when_the_hold_ends(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    """A batch job holds the relay (supervision's sweep): its committed events wait, then go out."""
    h = Held(database_url, js, ns, max_hold_s=600)
    try:
        with h.relay.hold():
            with h.relay.hold():  # nested: the outer one still holds when this ends
                h.start()
                await h.emit()

                async def waits() -> bool:
                    return h.relay.waiting_on_hold.is_set()

                await eventually(waits, what="the relay waiting on the hold")
            assert h.relay.waiting_on_hold.is_set()
            assert await _pending(h.db) == 1 and h.relay.published == 0
            assert await _stream_messages(js, ns.stream) == 0
        await h.all_published()
        assert h.relay.published == 1 and await _stream_messages(js, ns.stream) == 1
    finally:
        await h.close()


async def test_a_hold_publishes_anyway_once_it_is_older_than_max_hold(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    h = Held(database_url, js, ns, max_hold_s=0.3)
    h.start()
    try:
        with h.relay.hold():  # a job that outlasts the hold: its events are not kept back longer
            await h.emit()
            await h.all_published()
            assert h.relay.published == 1
    finally:
        await h.close()
