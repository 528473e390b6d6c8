"""Items (督办事项) and their responsible units: every SQL statement about them but list reads (`lists`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.periods import Period
from kaohe.db import raw_connection
from kaohe.workdays import CHINA_TZ

Row = Mapping[str, Any]


def js(value: Any) -> str:
    return orjson.dumps(value).decode()


async def insert(s: AsyncSession, row: dict[str, Any]) -> None:
    """One new item row (body, deadlines as JSON)."""
    row = {**row, "body": js(row["body"]), "deadlines": js(row["deadlines"])}
    cols = ", ".join(row)
    vals = ", ".join(f"CAST(:{k} AS jsonb)" if k in ("body", "deadlines") else f":{k}" for k in row)
    await s.execute(text(f"INSERT INTO item ({cols}) VALUES ({vals})"), row)


async def replace_units(s: AsyncSession, item_id: str, tasks: Sequence[dict[str, Any]]) -> None:
    """The item's lead and cooperating units (tasks: unit_id, unit_path, role, task, deadline)."""
    await s.execute(text("DELETE FROM item_unit WHERE item_id = :i"), {"i": item_id})
    for pos, t in enumerate(tasks):
        await s.execute(
            text(
                "INSERT INTO item_unit (item_id, unit_id, unit_path, role, task, deadline, pos)"
                " VALUES (:i, :u, :p, :r, :t, :d, :pos)"
            ),
            {"i": item_id, "u": t["unit_id"], "p": t["unit_path"], "r": t["role"], "t": t["task"]}
            | {"d": t["deadline"], "pos": pos},
        )


async def get(s: AsyncSession, item_id: str, *, lock: bool = False) -> Row | None:
    sql = "SELECT * FROM item WHERE id = :i" + (" FOR UPDATE" if lock else "")
    return (await s.execute(text(sql), {"i": item_id})).mappings().first()


async def units_of(s: AsyncSession, ids: Sequence[str]) -> dict[str, list[Row]]:
    """Each item's units, the lead first."""
    out: dict[str, list[Row]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = (
        await s.execute(
            text(
                "SELECT u.*, n.name AS unit_name FROM item_unit u LEFT JOIN unit n ON n.id = u.unit_id"
                " WHERE u.item_id = ANY(:ids) ORDER BY u.item_id, u.pos"
            ),
            {"ids": list(ids)},
        )
    ).mappings()
    for r in rows:
        out[r["item_id"]].append(r)
    return out


async def update(
    s: AsyncSession, item_id: str, fields: dict[str, Any], *, expected: int | None = None
) -> bool:
    """Set fields; with `expected`, only while the item is still at that version (compare-and-set)."""
    sets = ", ".join(
        f"{k} = CAST(:{k} AS jsonb)" if k in ("body", "deadlines") else f"{k} = :{k}" for k in fields
    )
    vals = {k: js(v) if k in ("body", "deadlines") else v for k, v in fields.items()}
    sql = f"UPDATE item SET {sets} WHERE id = :_id" + (" AND version = :_v" if expected is not None else "")
    res = await s.execute(text(sql), {**vals, "_id": item_id, "_v": expected})
    return bool(res.rowcount)  # type: ignore[attr-defined]


async def update_many(s: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """The sweep's per-item fields of a batch in one statement; the items leave the recheck queue."""
    if not rows:
        return
    cols = {
        "next_due": "timestamptz",
        "overdue": "boolean",
        "provisional": "boolean",
        "calendar_version": "text",
        "yellow_cards": "int",
        "red_cards": "int",
        "next_counted": "timestamptz",
        "next_anchor": "date",
        "recomputable": "boolean",
    }
    c = await raw_connection(s)
    await c.execute(
        "UPDATE item i SET "
        + ", ".join(f"{k} = v.{k}" for k in cols)
        + " FROM unnest($1::text[], "
        + ", ".join(f"${n}::{t}[]" for n, t in enumerate(cols.values(), start=2))
        + ") AS v(id, "
        + ", ".join(cols)
        + ") WHERE i.id = v.id",
        [r["id"] for r in rows],
        *([r[k] for r in rows] for k in cols),
    )
    await c.execute("DELETE FROM recheck WHERE item_id = ANY($1::text[])", [r["id"] for r in rows])


async def get_many(s: AsyncSession, ids: Sequence[str]) -> list[Row]:
    res = await s.execute(text("SELECT * FROM item WHERE id = ANY(:ids)"), {"ids": list(ids)})
    return list(res.mappings())


async def set_done(s: AsyncSession, done: Sequence[tuple[str, str, datetime]]) -> None:
    """Record when each (item, unit, at) part was submitted, in one statement; a recorded time stays."""
    if done:
        await s.execute(
            text(
                "UPDATE item_unit u SET done_at = v.at FROM unnest(CAST(:i AS text[]), CAST(:u AS text[]),"
                " CAST(:at AS timestamptz[])) AS v(item_id, unit_id, at)"
                " WHERE u.item_id = v.item_id AND u.unit_id = v.unit_id AND u.done_at IS NULL"
            ),
            {"i": [d[0] for d in done], "u": [d[1] for d in done], "at": [d[2] for d in done]},
        )


async def next_number(s: AsyncSession, office_id: str, year: int) -> int:
    return int(
        (
            await s.execute(
                text(
                    "INSERT INTO number_seq (office_id, year, last) VALUES (:o, :y, 1)"
                    " ON CONFLICT (office_id, year) DO UPDATE SET last = number_seq.last + 1 RETURNING last"
                ),
                {"o": office_id, "y": year},
            )
        ).scalar_one()
    )


async def number_taken(s: AsyncSession, office_id: str, number: str) -> bool:
    res = await s.execute(
        text("SELECT 1 FROM item WHERE office_id = :o AND number = :n"), {"o": office_id, "n": number}
    )
    return res.first() is not None


async def by_dedupe(s: AsyncSession, key: str) -> Row | None:
    return (await s.execute(text("SELECT * FROM item WHERE dedupe_key = :k"), {"k": key})).mappings().first()


async def open_assessment(s: AsyncSession, unit_id: str, code: str, *, lock: bool = True) -> Row | None:
    sql = (
        "SELECT * FROM item WHERE lead_unit = :u AND indicator_code = :c AND open AND source = 'assessment'"
        + (" FOR UPDATE" if lock else "")
    )
    return (await s.execute(text(sql), {"u": unit_id, "c": code})).mappings().first()


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """A period's [start, end) as moments in China time (lists, scores and statistics of a period)."""
    p = Period.parse(period)
    start = datetime.combine(p.start, datetime.min.time(), CHINA_TZ)
    end = datetime.combine(p.next().start, datetime.min.time(), CHINA_TZ)
    return start, end


async def of_unit(s: AsyncSession, unit_id: str, start: datetime, end: datetime) -> list[Row]:
    """Items the unit answers for that were active in [start, end)."""
    sql = (
        "SELECT i.* FROM item i JOIN item_unit u ON u.item_id = i.id WHERE u.unit_id = :u"
        " AND i.assigned_at IS NOT NULL AND i.assigned_at < :end"
        " AND (i.finished_at IS NULL OR i.finished_at >= :start)"
    )
    return list((await s.execute(text(sql), {"u": unit_id, "start": start, "end": end})).mappings())


async def of_units(s: AsyncSession, unit_ids: Sequence[str], start: datetime, end: datetime) -> list[Row]:
    """`of_unit` for many units in one query: each row carries the unit it is listed for (`for_unit`)."""
    if not unit_ids:
        return []
    sql = (
        "SELECT u.unit_id AS for_unit, i.* FROM item i JOIN item_unit u ON u.item_id = i.id"
        " WHERE u.unit_id = ANY(:us) AND i.assigned_at IS NOT NULL AND i.assigned_at < :end"
        " AND (i.finished_at IS NULL OR i.finished_at >= :start) ORDER BY u.unit_id, i.id"
    )
    res = await s.execute(text(sql), {"us": list(unit_ids), "start": start, "end": end})
    return list(res.mappings())


async def due_ids(s: AsyncSession, now: datetime, batch: int) -> list[str]:
    """Items whose next due time has passed, then items a calendar change queued for a recheck; locked for
    this transaction (other replicas skip them). Two index scans, not a scan of the open items."""
    c = await raw_connection(s)
    ids = [
        r[0]
        for r in await c.fetch(
            "SELECT id FROM item WHERE next_due <= $1 ORDER BY next_due LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            batch,
        )
    ]
    if len(ids) < batch:
        rows = await c.fetch(
            "SELECT i.id FROM recheck q JOIN item i ON i.id = q.item_id WHERE NOT i.id = ANY($1::text[])"
            " LIMIT $2 FOR UPDATE OF i SKIP LOCKED",
            ids,
            batch - len(ids),
        )
        ids += [r[0] for r in rows]
    return ids


SWEEP_COLUMNS = (
    "id, number, title, problem, source, source_ref, source_note, office_id, priority, indicator_code, body,"
    " yellow_cards, red_cards, overdue, next_due"
)


async def sweep_rows(s: AsyncSession, ids: Sequence[str]) -> tuple[list[Row], dict[str, list[Row]]]:
    """What the sweep evaluates of a batch (the item columns the domain reads; each item's units, the lead
    first), on the session's driver connection: the ORM's row objects cost more than the evaluation."""
    c = await raw_connection(s)
    rows = await c.fetch(f"SELECT {SWEEP_COLUMNS} FROM item WHERE id = ANY($1::text[])", list(ids))
    units: dict[str, list[Row]] = {i: [] for i in ids}
    for u in await c.fetch(
        "SELECT item_id, unit_id, unit_path FROM item_unit WHERE item_id = ANY($1::text[])"
        " ORDER BY item_id, pos",
        list(ids),
    ):
        units[u["item_id"]].append(u)
    return list(rows), units


async def remappable(s: AsyncSession, *, since: date) -> list[Row]:
    """Open items whose stored next check a correction from `since` may move and can be remapped (assessed
    with the split next check, not waiting for a recheck): id, next_counted, next_anchor."""
    c = await raw_connection(s)
    return list(
        await c.fetch(
            "SELECT id, next_counted, next_anchor FROM item i"
            " WHERE open AND status <> 'draft' AND recomputable AND (next_counted >= $1 OR next_anchor >= $2)"
            " AND NOT EXISTS (SELECT 1 FROM recheck q WHERE q.item_id = i.id)",
            datetime.combine(since, datetime.min.time(), CHINA_TZ),
            since - timedelta(days=31),  # a deadline date's first working day can lie a holiday later
        )
    )


async def remap(
    s: AsyncSession, rows: Sequence[tuple[str, datetime | None, datetime | None]], version: str
) -> None:
    """Store remapped next checks (id, next_due, next_counted) and the calendar version they follow."""
    if rows:
        c = await raw_connection(s)
        await c.execute(
            "UPDATE item i SET next_due = v.d, next_counted = v.c, calendar_version = $4"
            " FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS v(id, d, c) WHERE i.id = v.id",
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            version,
        )


async def queue(s: AsyncSession, ids: Sequence[str], *, now: datetime) -> None:
    """Queue items for the sweep's full re-evaluation."""
    if ids:
        c = await raw_connection(s)
        await c.execute(
            "INSERT INTO recheck (item_id, since) SELECT unnest($1::text[]), $2"
            " ON CONFLICT (item_id) DO NOTHING",
            list(ids),
            now,
        )


async def mark_due(
    s: AsyncSession, *, since: date, provisional_years: Sequence[int], now: datetime, unmappable: bool = False
) -> int:
    """Set-based: queue for a recheck the open items whose running clocks reach `since` or whose deadline
    lies in a year that was provisional (a narrow row each; the item rows are written once, by the sweep);
    with `unmappable`, only those `remappable` leaves out."""
    only = (
        " AND (NOT recomputable OR (provisional AND EXTRACT(year FROM deadline)::int = ANY(:years)))"
        if unmappable
        else ""
    )
    res = await s.execute(
        text(
            "INSERT INTO recheck (item_id, since) SELECT id, :now FROM item"
            " WHERE open AND status <> 'draft' AND ("
            " (next_due IS NOT NULL AND next_due >= :since) OR deadline >= :sday"
            " OR (provisional AND EXTRACT(year FROM deadline)::int = ANY(:years)))"
            + only
            + " ON CONFLICT (item_id) DO NOTHING"
        ),
        {"now": now, "since": datetime.combine(since, datetime.min.time(), CHINA_TZ), "sday": since}
        | {"years": list(provisional_years)},
    )
    return int(res.rowcount)  # type: ignore[attr-defined]
