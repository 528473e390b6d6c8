"""Durable consumers: exactly-once effects through the inbox, redelivery, dead letters, broker crashes."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe import bus, devnats, devstack, natsauth
from kaohe.consumer import Consumer, Subscription
from kaohe.db import Database
from kaohe.events import CloudEvent, Outbox, dlq_subject, event_type, new_event
from kaohe.relay import OutboxRelay
from tests.conftest import Namespace, eventually

APPROVED = event_type("indicators", "submission", "approved")
EFFECT_DDL = (
    "CREATE TABLE scoring.test_effect (event_id text PRIMARY KEY, n int NOT NULL, payload int NOT NULL)"
)
BUMP = text(
    "INSERT INTO scoring.test_effect (event_id, n, payload) VALUES (:id, 1, :p) "
    "ON CONFLICT (event_id) DO UPDATE SET n = scoring.test_effect.n + 1"
)


async def _effects(db: Database) -> list[tuple[str, int]]:
    async with db.engine.connect() as c:
        return [(r[0], r[1]) for r in (await c.execute(text("SELECT event_id, n FROM scoring.test_effect")))]


async def _prepare(database_url: str) -> Database:
    db = Database(database_url, schema="scoring")
    async with db.engine.begin() as c:  # a table of this test's own, for observable side effects
        await c.execute(text(EFFECT_DDL))
    return db


async def _publish(js: JetStreamContext, ns: Namespace, event: CloudEvent) -> None:
    await js.publish(
        f"{ns.prefix}.indicators.submission.approved", event.to_bytes(), headers={"Nats-Msg-Id": event.id}
    )


async def test_handler_crash_midway_redelivers_and_effect_happens_once(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    db = await _prepare(database_url)
    calls: list[str] = []

    async def handler(s: AsyncSession, e: CloudEvent) -> None:
        calls.append(e.id)
        await s.execute(BUMP, {"id": e.id, "p": e.data["v"]})  # the effect is written …
        if len(calls) == 1:
            raise RuntimeError("crash after the write")  # … and then the handler dies mid-way

    c = Consumer(
        db,
        js,
        Subscription("crashy", [APPROVED], handler),
        component="scoring",
        stream=ns.stream,
        prefix=ns.prefix,
        backoff_s=[0.05],
    )
    stop = asyncio.Event()
    task = asyncio.create_task(c.run(stop))
    try:
        ev = new_event("indicators", "submission", "approved", subject="s1", data={"v": 7})
        await _publish(js, ns, ev)
        # The same event id published again (a relay retry after the dedupe window) must not count twice.
        dup = ev.model_copy()
        await js.publish(f"{ns.prefix}.indicators.submission.approved", dup.to_bytes())

        async def settled() -> bool:
            info = await js.consumer_info(ns.stream, c.durable)
            return len(calls) >= 2 and info.num_pending == 0 and info.num_ack_pending == 0

        await eventually(settled, what="redelivery and ack")
    finally:
        stop.set()
        await task
    assert calls == [ev.id, ev.id]  # crashed once, handled once; the duplicate hit the inbox
    assert await _effects(db) == [(ev.id, 1)]
    async with db.engine.connect() as conn:
        inbox = (await conn.execute(text("SELECT count(*) FROM scoring.inbox"))).scalar_one()
    assert inbox == 1
    await db.dispose()


async def test_poison_event_goes_to_dead_letter_and_stream_moves_on(
    database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    db = await _prepare(database_url)

    async def handler(s: AsyncSession, e: CloudEvent) -> None:
        if e.data.get("poison"):
            raise ValueError("cannot score this")
        await s.execute(BUMP, {"id": e.id, "p": 1})

    c = Consumer(
        db,
        js,
        Subscription("picky", [APPROVED], handler),
        component="scoring",
        stream=ns.stream,
        prefix=ns.prefix,
        max_deliver=3,
        backoff_s=[0.05],
    )
    stop = asyncio.Event()
    task = asyncio.create_task(c.run(stop))
    poison = new_event("indicators", "submission", "approved", subject="bad", data={"poison": True})
    good = new_event("indicators", "submission", "approved", subject="ok", data={})
    dlq = await js.pull_subscribe(dlq_subject(ns.prefix, c.durable), stream=f"{ns.stream}_DLQ")
    try:
        await _publish(js, ns, poison)
        await _publish(js, ns, good)
        await js.publish(f"{ns.prefix}.indicators.submission.approved", b"{not json")

        async def good_done() -> bool:
            return [e for e, _ in await _effects(db)] == [good.id]

        await eventually(good_done, what="the good event processed")

        async def dead() -> bool:
            async with db.engine.connect() as conn:
                return (
                    await conn.execute(text("SELECT count(*) FROM scoring.dead_letter"))
                ).scalar_one() == 2

        await eventually(dead, what="two dead letters")
    finally:
        stop.set()
        await task
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text("SELECT event_id, deliveries, type, error FROM scoring.dead_letter ORDER BY id")
            )
        ).all()
    by_type = {r.type: r for r in rows}
    assert by_type[APPROVED].event_id == poison.id
    assert by_type[APPROVED].deliveries == 3  # max_deliver attempts, then parked
    assert "cannot score this" in by_type[APPROVED].error
    assert by_type["unparseable"].deliveries == 1  # malformed input is parked at once
    msgs = await dlq.fetch(2, timeout=2)
    assert sorted(CloudEvent.from_bytes(m.data).id for m in msgs if m.data.startswith(b'{"')) == [poison.id]
    info = await js.consumer_info(ns.stream, c.durable)
    assert info.num_pending == 0 and info.num_ack_pending == 0  # terminated, not stuck
    await db.dispose()


@pytest.mark.timeout(240)
async def test_nats_sigkill_during_1000_events_loses_and_doubles_nothing(
    database_url: str, ns: Namespace
) -> None:
    """Service A (indicators outbox) → JetStream → service B (scoring consumer), broker killed mid-flow."""
    workdir = Path(tempfile.mkdtemp(prefix="kaohe-natskill-"))
    port = devstack.free_port()
    passwords = {i: secrets.token_urlsafe(16) for i in natsauth.IDENTITIES}
    server, url = devnats.start_nats(workdir / "js", port, users=passwords)

    async def kill_and_restart(_: JetStreamContext) -> None:
        nonlocal server
        server.kill()  # SIGKILL: no clean shutdown, in-flight publishes and acks are lost
        server, _ = devnats.start_nats(workdir / "js", port, users=passwords)  # same port and store

    try:
        await flow_1000_across_a_kill(database_url, ns, url, passwords, kill_and_restart)
    finally:
        server.stop()


async def flow_1000_across_a_kill(
    database_url: str,
    ns: Namespace,
    url: str,
    passwords: dict[str, str],
    kill: Callable[[JetStreamContext], Awaitable[None]],
    *,
    replicas: int = 1,
) -> None:
    """1,000 events from indicators' outbox to scoring's consumer, each under its own NATS identity;
    `kill` SIGKILLs a broker (node) while they flow. Every effect must happen exactly once."""

    def identity(name: str) -> natsauth.Identity:
        return natsauth.Identity(name, passwords[name], natsauth.inbox_prefix(name))

    nc_a = await bus.connect(url, name="service-a", identity=identity("indicators"), reconnect_wait=0.2)
    nc_b = await bus.connect(url, name="service-b", identity=identity("scoring"), reconnect_wait=0.2)
    nc_admin = await bus.connect(url, name="admin", identity=identity(natsauth.ADMIN), reconnect_wait=0.2)
    js_a, js_b = nc_a.jetstream(timeout=2), nc_b.jetstream(timeout=2)
    await bus.ensure_streams(js_a, stream=ns.stream, prefix=ns.prefix, replicas=replicas)
    db_a = Database(database_url, schema="indicators")
    db_b = await _prepare(database_url)
    outbox = Outbox(prefix=ns.prefix, schema="indicators")

    async def handler(s: AsyncSession, e: CloudEvent) -> None:
        await s.execute(BUMP, {"id": e.id, "p": e.data["i"]})

    relay = OutboxRelay(db_a, js_a, component="indicators", batch=50, poll_s=0.1, publish_timeout_s=1.0)
    consumer = Consumer(
        db_b,
        js_b,
        Subscription("inputs", [APPROVED], handler),  # a consumer scoring's permissions name
        component="scoring",
        stream=ns.stream,
        prefix=ns.prefix,
        batch=50,
        backoff_s=[0.1],
        ack_wait_s=2.0,
    )
    stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]

    async def produce() -> None:
        for start in range(0, 1000, 20):  # a service committing state changes in small transactions
            async with db_a.uow() as s:
                for i in range(start, start + 20):
                    await outbox.emit(
                        s, new_event("indicators", "submission", "approved", subject=str(i), data={"i": i})
                    )
            await asyncio.sleep(0)

    producer = asyncio.create_task(produce())
    try:

        async def some_processed() -> bool:
            return len(await _effects(db_b)) >= 150

        await eventually(some_processed, what="flow under way")
        await kill(nc_admin.jetstream(timeout=2))
        seen_at_kill = len(await _effects(db_b))
        assert seen_at_kill < 1000, "the broker must die while events are still flowing"
        await producer

        async def all_processed() -> bool:
            return len(await _effects(db_b)) == 1000

        await eventually(all_processed, within=120, what="all 1000 events processed after the kill")
        await relay.relay_once()
        assert await relay.pending() == 0
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in (nc_a, nc_b, nc_admin):
            with contextlib.suppress(Exception):
                await conn.close()
        await db_a.dispose()
    effects = await _effects(db_b)
    assert len(effects) == 1000
    assert all(n == 1 for _, n in effects), "an event's effect happened more than once"
    async with db_b.engine.connect() as conn:
        payloads = await conn.execute(
            text("SELECT array_agg(payload ORDER BY payload) FROM scoring.test_effect")
        )
        assert payloads.scalar_one() == list(range(1000))
    await db_b.dispose()
