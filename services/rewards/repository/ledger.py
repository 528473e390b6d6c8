"""The ledger (实绩档案) in SQL: append-only entries (a trigger refuses UPDATE/DELETE), each chain's head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from services.rewards.domain.ledger import LedgerEntry
from services.rewards.repository.connection import dumps, js

COLUMNS = (
    "holder",
    "seq",
    "scope",
    "period",
    "unit_id",
    "person_key",
    "set_id",
    "payload",
    "prev_hash",
    "hash",
)


async def of_scope(conn: asyncpg.Connection, scope: str, period: str) -> list[LedgerEntry]:
    rows = await conn.fetch(
        "SELECT holder, seq, payload, prev_hash, hash FROM ledger WHERE scope = $1 AND period = $2"
        " ORDER BY holder, seq",
        scope,
        period,
    )
    return [LedgerEntry(r["holder"], r["seq"], js(r["payload"]), r["prev_hash"], r["hash"]) for r in rows]


async def heads(conn: asyncpg.Connection, holders: Sequence[str]) -> list[LedgerEntry]:
    """Each holder's last entry as a bare head (seq and hash), locked until the transaction ends."""
    rows = await conn.fetch(
        "SELECT holder, seq, hash FROM ledger_head WHERE holder = ANY($1::varchar[])"
        " ORDER BY holder FOR UPDATE",
        list(holders),
    )
    return [LedgerEntry(r["holder"], r["seq"], {}, "", r["hash"]) for r in rows]


async def append(conn: asyncpg.Connection, entries: Sequence[LedgerEntry], set_id: int) -> None:
    records = [
        (
            e.holder,
            e.seq,
            e.payload["scope"],
            e.payload["period"],
            e.payload["unit_id"],
            e.payload.get("person_key"),
            set_id,
            dumps(e.payload),
            e.prev_hash,
            e.hash,
        )
        for e in entries
    ]
    await conn.copy_records_to_table("ledger", records=records, columns=COLUMNS)
    last: dict[str, LedgerEntry] = {}
    for e in entries:
        last[e.holder] = e
    await conn.execute(
        "INSERT INTO ledger_head (holder, seq, hash)"
        " SELECT * FROM unnest($1::varchar[], $2::int[], $3::char(64)[])"
        " ON CONFLICT (holder) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash",
        list(last),
        [e.seq for e in last.values()],
        [e.hash for e in last.values()],
    )


async def chain(conn: asyncpg.Connection, holder: str) -> tuple[list[LedgerEntry], str | None]:
    rows = await conn.fetch(
        "SELECT holder, seq, payload, prev_hash, hash FROM ledger WHERE holder = $1 ORDER BY seq", holder
    )
    head = await conn.fetchval("SELECT hash FROM ledger_head WHERE holder = $1", holder)
    return [
        LedgerEntry(r["holder"], r["seq"], js(r["payload"]), r["prev_hash"], r["hash"]) for r in rows
    ], head


async def holders_under(conn: asyncpg.Connection, lo: str, hi: str) -> list[str]:
    """Every chain of units in a subtree, and of persons who held a post there."""
    rows = await conn.fetch(
        "SELECT h.holder FROM ledger_head h WHERE EXISTS (SELECT 1 FROM ledger l JOIN unit u USING (unit_id)"
        ' WHERE l.holder = h.holder AND u.path COLLATE "C" >= $1 AND u.path COLLATE "C" < $2) ORDER BY 1',
        lo,
        hi,
    )
    return [r["holder"] for r in rows]


async def page(
    conn: asyncpg.Connection, holder: str, *, period: str | None, after: int, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT holder, seq, payload, prev_hash, hash FROM ledger WHERE holder = $1 AND seq > $2"
        " AND ($3::varchar IS NULL OR period = $3) ORDER BY seq LIMIT $4",
        holder,
        after,
        period,
        limit,
    )


async def newest(conn: asyncpg.Connection, holders: Sequence[str], last: int) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT l.holder, l.seq, l.payload, l.prev_hash, l.hash FROM unnest($1::varchar[]) h(holder)"
        " CROSS JOIN LATERAL (SELECT * FROM ledger x WHERE x.holder = h.holder"
        "  ORDER BY x.seq DESC LIMIT $2) l",
        list(holders),
        last,
    )


def public(r: Any) -> dict[str, Any]:
    p = js(r["payload"])
    return {**p, "holder": r["holder"], "seq": r["seq"], "prev_hash": r["prev_hash"], "hash": r["hash"]}
