"""The item's permanent records in SQL: the hash-chained timeline (办理记录), breaches and cards (红黄牌).

All three tables are append-only (a trigger refuses UPDATE and DELETE); breaches and cards are keyed by
their stable domain keys, so writing them again (a second sweep, another replica) inserts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.chain import GENESIS, link
from kaohe.db import raw_connection
from kaohe.events import CloudEvent, Outbox, nats_subject, notify_channel

Row = Mapping[str, Any]


async def entries(s: AsyncSession, item_id: str) -> list[Row]:
    res = await s.execute(text("SELECT * FROM entry WHERE item_id = :i ORDER BY seq"), {"i": item_id})
    return list(res.mappings())


async def entries_of(s: AsyncSession, ids: Sequence[str]) -> dict[str, list[Row]]:
    """The timelines of many items (a sweep's batch, a score recompute), on the driver connection."""
    out: dict[str, list[Row]] = {i: [] for i in ids}
    if ids:
        c = await raw_connection(s)
        for r in await c.fetch(
            "SELECT item_id, seq, payload FROM entry WHERE item_id = ANY($1::text[]) ORDER BY item_id, seq",
            list(ids),
        ):
            out[r["item_id"]].append(r)
    return out


async def append(
    s: AsyncSession, item_id: str, payload: dict[str, Any], *, at: datetime, stage: str | None
) -> str:
    """Chain the entry to the item's last one (under the item's row lock) and store it; its hash."""
    prev = (
        await s.execute(
            text("SELECT hash FROM entry WHERE item_id = :i ORDER BY seq DESC LIMIT 1"), {"i": item_id}
        )
    ).scalar_one_or_none() or GENESIS
    body = {**payload, "stage": stage}
    digest = link(prev, body)
    await s.execute(
        text(
            "INSERT INTO entry (item_id, seq, at, payload, stage, prev_hash, hash)"
            " VALUES (:i, :seq, :at, CAST(:p AS jsonb), :stage, :prev, :h)"
        ),
        {"i": item_id, "seq": payload["seq"], "at": at, "p": orjson.dumps(body).decode(), "stage": stage}
        | {"prev": prev, "h": digest},
    )
    return digest


def _columns(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    return {n: [r[n] for r in rows] for n in names}


BREACH = ("key", "item_id", "unit_id", "unit_path", "kind", "cycle", "role", "at", "due", "reason", "carded")
CARD = ("key", "item_id", "unit_id", "unit_path", "colour", "role", "at", "reason", "breach_key")
TYPES = {"cycle": "int[]", "at": "timestamptz[]", "due": "timestamptz[]", "carded": "boolean[]"}


def _unnest(names: Sequence[str]) -> str:
    return "SELECT * FROM unnest(" + ", ".join(f"CAST(:{n} AS {TYPES.get(n, 'text[]')})" for n in names) + ")"


async def insert_breaches(s: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert breaches in one statement (the caller filtered out the recorded keys under the items' locks)."""
    if rows:
        cols = ", ".join(BREACH)
        sql = f"INSERT INTO breach ({cols}) {_unnest(BREACH)} ON CONFLICT (key) DO NOTHING"
        await s.execute(text(sql), _columns(rows, BREACH))


async def insert_cards(s: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Issue cards in one statement (the caller filtered out the issued keys): each exactly once."""
    if rows:
        cols = ", ".join(CARD)
        sql = f"INSERT INTO card ({cols}) {_unnest(CARD)} ON CONFLICT (key) DO NOTHING"
        await s.execute(text(sql), _columns(rows, CARD))


async def emit_many(s: AsyncSession, outbox: Outbox, events: Sequence[CloudEvent]) -> None:
    """Many events into the kernel's outbox table in one statement (what `Outbox.emit` does for one),
    published by the relay only if the transaction commits."""
    if not events:
        return
    await s.execute(
        text(
            "INSERT INTO outbox (id, type, subject, envelope) SELECT * FROM unnest("
            "CAST(:ids AS text[]), CAST(:types AS text[]), CAST(:subjects AS text[]), CAST(:envs AS bytea[]))"
        ),
        {
            "ids": [e.id for e in events],
            "types": [e.type for e in events],
            "subjects": [nats_subject(outbox.prefix, e.type) for e in events],
            "envs": [e.to_bytes() for e in events],
        },
    )
    await s.execute(text("SELECT pg_notify(:ch, '')"), {"ch": notify_channel(outbox.schema)})


async def known_keys(s: AsyncSession, table: str, ids: Sequence[str]) -> dict[str, set[str]]:
    """The breach or card keys already recorded, per item."""
    assert table in ("breach", "card")
    out: dict[str, set[str]] = {i: set() for i in ids}
    if ids:
        c = await raw_connection(s)
        for item_id, key in await c.fetch(
            f"SELECT item_id, key FROM {table} WHERE item_id = ANY($1::text[])", list(ids)
        ):
            out[item_id].add(key)
    return out


async def breaches(s: AsyncSession, item_id: str) -> list[Row]:
    res = await s.execute(text("SELECT * FROM breach WHERE item_id = :i ORDER BY at, key"), {"i": item_id})
    return list(res.mappings())


async def cards(s: AsyncSession, item_id: str) -> list[Row]:
    res = await s.execute(text("SELECT * FROM card WHERE item_id = :i ORDER BY at, key"), {"i": item_id})
    return list(res.mappings())
