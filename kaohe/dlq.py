"""Dead letters (死信) of a service: list them, and replay one onto the event stream (`kaohe dlq`).

A replay publishes the parked CloudEvent again on its own subject. Every consumer of that subject sees
it, and each one's inbox (consumer, event id) makes it a no-op for those that handled it before; the
consumer that parked it handles it now. The message id is the replay's own
(`<event id>:replay:<row id>:<parked at>:<last replay or 0>`), so the stream drops a repeated replay within
its dedupe window and the inbox drops it after that. `replayed_at` records the last replay, and another one
is refused unless forced (`--force`; a consumer that has handled it still does nothing). An event that fails
again on its replay is parked anew: the row takes the new error and `replayed_at` is cleared, so the next
replay, after the next fix, needs no force.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import nats

from kaohe.db import asyncpg_dsn
from kaohe.events import CloudEvent, nats_subject
from kaohe.natsauth import Identity
from kaohe.settings import ComponentSettings

COLUMNS = "id, consumer, event_id, type, deliveries, error, created_at, replayed_at"


class ReplayError(RuntimeError):
    """The dead letter cannot be replayed (unknown, unparseable or already replayed)."""


async def listed(database_url: str, service: str, limit: int) -> list[dict[str, Any]]:
    """The newest dead letters of the service, as printable dicts."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        rows = await conn.fetch(
            f'SELECT {COLUMNS} FROM "{service}".dead_letter ORDER BY id DESC LIMIT $1', limit
        )
    finally:
        await conn.close()
    return [{k: None if v is None else str(v) for k, v in dict(r).items()} for r in rows]


async def replay(
    database_url: str,
    nats_url: str,
    identity: Identity | None,
    *,
    service: str,
    ref: str,
    settings: ComponentSettings,
    force: bool = False,
) -> str:
    """Publish the dead letter `ref` (row id or event id) again; returns what was done, for people."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    # The row stays locked from the read until `replayed_at` is written after the publish: a consumer that
    # fails on the replay again parks it anew (clearing `replayed_at`) only after this, never before.
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                "SELECT id, consumer, event_id, type, envelope, created_at, replayed_at"
                f' FROM "{service}".dead_letter WHERE id::text = $1 OR event_id = $1'
                " ORDER BY id LIMIT 1 FOR UPDATE",
                ref,
            )
            if row is None:
                raise ReplayError(f"no dead letter {ref!r} in {service} (`kaohe dlq {service}` lists them)")
            if row["replayed_at"] is not None and not force:
                raise ReplayError(
                    f"dead letter {row['id']} was already replayed at {row['replayed_at']} (--force: again)"
                )
            try:
                event = CloudEvent.from_bytes(bytes(row["envelope"]))
            except ValueError as e:
                raise ReplayError(
                    f"dead letter {row['id']} is not a CloudEvent and cannot be replayed"
                ) from e
            subject = nats_subject(settings.event_prefix, event.type)
            parked = int(row["created_at"].timestamp() * 1e6)  # parked anew after a replay: a new message id
            auth: dict[str, Any] = {}
            if identity is not None:
                auth = {
                    "user": identity.user,
                    "password": identity.password,
                    "inbox_prefix": identity.inbox_prefix,
                }
            # one attempt, no reconnect loop: an operator's command should fail fast and say why
            nc = await nats.connect(
                servers=[u.strip() for u in nats_url.split(",") if u.strip()],
                name="kaohe-dlq",
                allow_reconnect=False,
                connect_timeout=5,
                **auth,
            )
            try:
                ack = await nc.jetstream().publish(
                    subject,
                    bytes(row["envelope"]),
                    stream=settings.event_stream,
                    headers={
                        "Nats-Msg-Id": f"{event.id}:replay:{row['id']}:{parked}:{row['replayed_at'] or 0}"
                    },
                )
            finally:
                await nc.close()
            await conn.execute(
                f'UPDATE "{service}".dead_letter SET replayed_at = now() WHERE id = $1',
                row["id"],
            )
    finally:
        await conn.close()
    dup = " (a duplicate: already on the stream)" if ack.duplicate else ""
    return (
        f"replayed dead letter {row['id']} ({event.type}, event {event.id}) of consumer {row['consumer']} "
        f"on {subject}: stream sequence {ack.seq}{dup}"
    )
