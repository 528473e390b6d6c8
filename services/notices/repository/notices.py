"""Inbox rows (站内信): the fan-out insert (one statement per draft, ON CONFLICT DO NOTHING) and the reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from services.notices.domain.rules import Draft

# Recipients of one draft, and their new inbox rows, in one statement. A recipient covers a unit when the
# unit's path starts with the recipient's org path (their subtree holds it). A row that exists already
# (same rule, source and user: a redelivered event, a second replica, a later sweep) is not written again
# and not returned, so nothing downstream of it happens twice.
_FANOUT = """
WITH r AS (
    SELECT user_id, unit_id, org_path, email, channels, quiet_start, quiet_end
    FROM recipient
    WHERE roles && $1::text[]
      AND ($2::text[] IS NULL OR unit_id = ANY($2::text[]))
      AND ($3::text IS NULL OR starts_with($3::text, org_path))
      AND ($4::text IS NULL OR $4::text = ANY(codes))
), ins AS (
    INSERT INTO notice (dedup, user_id, rule, source, unit_id, unit_path, urgent, title, body, created_at)
    SELECT $5 || r.user_id, r.user_id, $6, $7, coalesce($8, r.unit_id), coalesce($9, r.org_path), $10, $11,
           coalesce($12::jsonb ->> r.unit_id, $13), $14
    FROM r
    ON CONFLICT (dedup) DO NOTHING
    RETURNING id, user_id, unit_id, unit_path
)
SELECT ins.id, ins.user_id, ins.unit_id, ins.unit_path, r.email, r.channels, r.quiet_start, r.quiet_end
FROM ins JOIN r USING (user_id)
"""


async def fan_out(c: asyncpg.Connection, d: Draft, at: datetime) -> list[asyncpg.Record]:
    """Write the draft's inbox rows for every recipient it reaches; the new rows with their channels."""
    a = d.audience
    return await c.fetch(
        _FANOUT,
        sorted(a.roles),
        list(a.units) if a.units is not None else None,
        a.covering,
        a.code,
        f"{d.rule}:{d.source}:",
        d.rule,
        d.source,
        d.unit_id,
        d.unit_path,
        d.urgent,
        d.title,
        orjson.dumps(d.per_unit).decode() if d.per_unit else None,
        d.body,
        at,
    )


# Many single-unit drafts (a warning wave, a batch of cards) in one statement: each draft's audience is
# one unit and a set of roles; the same unique key keeps every (rule, source, recipient) to one row.
_FANOUT_MANY = """
WITH d AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[],
                         $8::text[], $9::text[])
        AS d(prefix, rule, source, unit_id, unit_path, urgent, title, body, roles)
), r AS (
    SELECT d.*, rc.user_id, rc.email, rc.channels, rc.quiet_start, rc.quiet_end,
           'email' = ANY(rc.channels) AND rc.email IS NOT NULL AS mail
    FROM d JOIN recipient rc ON rc.unit_id = d.unit_id AND rc.roles && string_to_array(d.roles, ',')
), ins AS (
    INSERT INTO notice (dedup, user_id, rule, source, unit_id, unit_path, urgent, title, body, created_at)
    SELECT prefix || user_id, user_id, rule, source, unit_id, unit_path, urgent, title, body, $10 FROM r
    ON CONFLICT (dedup) DO NOTHING
    RETURNING id, dedup
), new AS (
    SELECT ins.id, r.* FROM ins JOIN r ON r.prefix || r.user_id = ins.dedup
), mail AS (
    -- email deliveries in the same statement: urgent now ($10), others at the next working moment ($11);
    -- the caller re-times the few whose recipient keeps quiet hours
    INSERT INTO delivery (notice_id, channel, user_id, unit_path, not_before)
    SELECT id, 'email', user_id, unit_path, CASE WHEN urgent THEN $10 ELSE $11 END FROM new WHERE mail
    ON CONFLICT (notice_id, channel) DO NOTHING
)
SELECT id, user_id, unit_id, unit_path, mail, quiet_start, quiet_end, urgent, rule, title FROM new
"""


def single_unit(d: Draft) -> bool:
    """A draft `fan_out_many` can take: one unit's recipients by role, one body for all."""
    a = d.audience
    return (
        a.units is not None and len(a.units) == 1 and a.covering is None and a.code is None and not d.per_unit
    )


async def fan_out_many(
    c: asyncpg.Connection, drafts: Sequence[Draft], at: datetime, not_urgent_at: datetime
) -> list[asyncpg.Record]:
    """`fan_out` of many single-unit drafts at once, with their email deliveries (non-urgent ones at
    `not_urgent_at`); each new row with its draft's rule, title, urgency and the recipient's quiet hours."""
    cols: list[list[Any]] = [[] for _ in range(9)]
    for d in drafts:
        assert d.audience.units is not None
        unit = d.audience.units[0]
        row = (
            f"{d.rule}:{d.source}:",
            d.rule,
            d.source,
            unit,
            d.unit_path,
            d.urgent,
            d.title,
            d.body,
            ",".join(sorted(d.audience.roles)),
        )
        for i, v in enumerate(row):
            cols[i].append(v)
    return await c.fetch(_FANOUT_MANY, *cols, at, not_urgent_at)


async def page(
    c: asyncpg.Connection, user_id: str, *, before: int | None, first: int, unread_only: bool
) -> list[asyncpg.Record]:
    """The user's own inbox, newest first (keyset on id), `first + 1` rows."""
    return await c.fetch(
        "SELECT id, rule, source, unit_id, urgent, title, body, created_at, read_at FROM notice"
        " WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2) AND (NOT $3 OR read_at IS NULL)"
        " ORDER BY id DESC LIMIT $4",
        user_id,
        before,
        unread_only,
        first + 1,
    )


async def unread(c: asyncpg.Connection, user_id: str) -> int:
    return int(
        await c.fetchval("SELECT count(*) FROM notice WHERE user_id = $1 AND read_at IS NULL", user_id)
    )


async def mark_read(
    c: asyncpg.Connection, user_id: str, ids: Sequence[int] | None, at: datetime
) -> list[int]:
    """Mark the user's own unread rows read (all when `ids` is None); the ids changed."""
    rows = await c.fetch(
        "UPDATE notice SET read_at = $3 WHERE user_id = $1 AND read_at IS NULL"
        " AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[])) RETURNING id",
        user_id,
        list(ids) if ids is not None else None,
        at,
    )
    return [r["id"] for r in rows]


async def owned(c: asyncpg.Connection, user_id: str, ids: Sequence[int]) -> set[int]:
    """Which of these ids are the user's notices."""
    rows = await c.fetch(
        "SELECT id FROM notice WHERE user_id = $1 AND id = ANY($2::bigint[])", user_id, list(ids)
    )
    return {r["id"] for r in rows}


def public(r: Any) -> dict[str, Any]:
    return {
        "notice_id": str(r["id"]),
        "rule": r["rule"],
        "unit_id": r["unit_id"],
        "urgent": r["urgent"],
        "title": r["title"],
        "body": r["body"],
        "created_at": r["created_at"].isoformat(),
        "read_at": r["read_at"].isoformat() if r["read_at"] else None,
    }
