"""Notices' outbox (发件箱): its durable events added in the fan-out's transaction, in one COPY."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from kaohe.events import CloudEvent, nats_subject, notify_channel


async def emit_many(c: asyncpg.Connection, prefix: str, events: Sequence[CloudEvent]) -> None:
    """Add `events` to the outbox in the current transaction and wake the relay at commit (a warning wave
    writes thousands: one COPY, not a statement each)."""
    if not events:
        return
    subjects = {t: nats_subject(prefix, t) for t in {e.type for e in events}}
    await c.copy_records_to_table(
        "outbox",
        schema_name="notices",
        columns=["id", "type", "subject", "envelope"],
        records=[(e.id, e.type, subjects[e.type], e.to_bytes()) for e in events],
    )
    await c.execute("SELECT pg_notify($1, '')", notify_channel("notices"))
