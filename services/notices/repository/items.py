"""督办事项 as notices knows them (item.opened|changed|closed): each unit's due day, for 时限临近提醒."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg

# The newest event wins (version); a redelivered or older one changes nothing. An event without units or
# due days (item.closed of an item never heard of) keeps what is stored.
_TRACK = """
INSERT INTO item_watch AS w
    (item_id, number, title, version, status, open, deadline, unit_ids, unit_paths, dues, done)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11::text[], '{}'))
ON CONFLICT (item_id) DO UPDATE SET
    number = excluded.number,
    title = CASE WHEN excluded.title = '' THEN w.title ELSE excluded.title END,
    version = excluded.version,
    status = excluded.status,
    open = excluded.open,
    deadline = coalesce(excluded.deadline, w.deadline),
    unit_ids = CASE WHEN cardinality(excluded.unit_ids) = 0 THEN w.unit_ids ELSE excluded.unit_ids END,
    unit_paths = CASE WHEN cardinality(excluded.unit_ids) = 0 THEN w.unit_paths ELSE excluded.unit_paths END,
    dues = CASE WHEN cardinality(excluded.dues) = 0 THEN w.dues ELSE excluded.dues END,
    done = CASE WHEN $12 THEN '{}'
                ELSE ARRAY(SELECT DISTINCT x FROM unnest(w.done || excluded.done) AS x ORDER BY x) END
WHERE w.version < excluded.version
"""


async def track(
    c: asyncpg.Connection,
    *,
    item_id: str,
    number: str,
    title: str,
    version: int,
    status: str,
    open_: bool,
    deadline: date | None,
    unit_ids: Sequence[str],
    unit_paths: Sequence[str],
    dues: Sequence[date],
    part_done: str | None = None,
    new_cycle: bool = False,
) -> tuple[str, list[str] | None]:
    """Apply one item event (`part_done`: a unit handed in its part; `new_cycle`: 重新办理 clears that);
    the item's title as stored (the events after item.opened do not carry it) and its units before this
    event (None: an item not heard of before)."""
    before = await c.fetchval("SELECT unit_ids FROM item_watch WHERE item_id = $1", item_id)
    await c.execute(
        _TRACK,
        item_id,
        number,
        title,
        version,
        status,
        open_,
        deadline,
        list(unit_ids),
        list(unit_paths),
        list(dues),
        [part_done] if part_done else None,
        new_cycle,
    )
    title = await c.fetchval("SELECT title FROM item_watch WHERE item_id = $1", item_id)
    return str(title or ""), (list(before) if before is not None else None)


async def due_between(
    c: asyncpg.Connection, statuses: Sequence[str], lo: date, hi: date
) -> list[asyncpg.Record]:
    """(item, unit) pairs of open items in a running status whose unit's due day is in [lo, hi] and
    whose part is not handed in: item_id, number, title, unit_id, unit_path, lead, due. No sub-deadline
    falls after its item's deadline (supervision refuses it), so only items not yet due are read."""
    return await c.fetch(
        "SELECT w.item_id, w.number, w.title, u.unit_id, u.unit_path, u.n = 1 AS lead, u.due"
        " FROM item_watch w,"
        " unnest(w.unit_ids, w.unit_paths, w.dues) WITH ORDINALITY AS u(unit_id, unit_path, due, n)"
        " WHERE w.open AND w.deadline >= $2 AND w.status = ANY($1::text[]) AND u.due BETWEEN $2 AND $3"
        " AND NOT (u.unit_id = ANY(w.done))"
        " ORDER BY w.item_id, u.n",
        list(statuses),
        lo,
        hi,
    )
