"""Proposal sets (拟运用清单) in SQL: the set, pool balances and lines by binary COPY, problems, reviews."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from services.rewards.repository.connection import dumps

SET_COLUMNS = (
    "set_id, scheme_id, assessing_unit, period, snapshot_id, snapshot_digest, ruleset_year, ruleset_version,"
    " ruleset_ref, ruleset_digest, status, level, levels, version, lines, units, pool_fen, paid_fen,"
    " withheld_fen, created_at, superseded_by"
)
LINE_COLUMNS = (
    "set_id", "line_no", "subject", "unit_id", "person_key", "kind", "consequence", "rule_id", "basis",
    "amount_fen", "computed_fen", "inputs", "dropped",
)  # fmt: skip
UNIT_COLUMNS = ("set_id", "unit_id", "unit_path", "pool_fen", "paid_fen", "withheld_fen")


async def insert_set(conn: asyncpg.Connection, **v: Any) -> int:
    return await conn.fetchval(  # type: ignore[no-any-return]
        "INSERT INTO proposal_set (scheme_id, assessing_unit, period, snapshot_id, snapshot_digest,"
        " ruleset_year,"
        " ruleset_version, ruleset_ref, ruleset_digest, status, levels, lines, units, pool_fen, paid_fen,"
        " withheld_fen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $12, $13, $14, $15)"
        " RETURNING set_id",
        v["scheme_id"], v["assessing_unit"], v["period"], v["snapshot_id"], v["snapshot_digest"],
        v["ruleset_year"],
        v["ruleset_version"], v["ruleset_ref"], v["ruleset_digest"], v["levels"], v["lines"], v["units"],
        v["pool_fen"], v["paid_fen"], v["withheld_fen"],
    )  # fmt: skip


async def copy_lines(conn: asyncpg.Connection, records: Any) -> None:
    """Lines by binary COPY from a sequence or an async iterable of records."""
    await conn.copy_records_to_table("proposal_line", records=records, columns=LINE_COLUMNS)


async def copy_units(conn: asyncpg.Connection, records: Sequence[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table("proposal_unit", records=records, columns=UNIT_COLUMNS)


async def insert_problems(conn: asyncpg.Connection, set_id: int, problems: Sequence[Any]) -> None:
    await conn.executemany(
        "INSERT INTO proposal_problem (set_id, problem_id, code, message, rule_id, unit_id, person_key, data)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
        [
            (set_id, i, p.code, p.message, p.rule_id, p.unit_id, p.person_key, dumps(dict(p.data)))
            for i, p in enumerate(problems, 1)
        ],
    )


async def supersede_open(
    conn: asyncpg.Connection, assessing_unit: str, scheme_id: str, period: str, by: int
) -> None:
    """Sets of the same assessing unit, scheme and period still awaiting review give way to `by`."""
    await conn.execute(
        "UPDATE proposal_set SET status = 'superseded', superseded_by = $4, version = version + 1"
        " WHERE assessing_unit = $1 AND scheme_id = $2 AND period = $3 AND status IN ('pending', 'reviewed')"
        " AND set_id <> $4",
        assessing_unit,
        scheme_id,
        period,
        by,
    )


async def get_set(conn: asyncpg.Connection, set_id: int, *, lock: bool = False) -> asyncpg.Record | None:
    tail = " FOR UPDATE" if lock else ""
    return await conn.fetchrow(f"SELECT {SET_COLUMNS} FROM proposal_set WHERE set_id = $1{tail}", set_id)  # type: ignore[no-any-return]


async def problems(conn: asyncpg.Connection, set_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT problem_id, code, message, rule_id, unit_id, person_key, data, resolved_by, resolution"
        " FROM proposal_problem WHERE set_id = $1 ORDER BY problem_id",
        set_id,
    )


async def reviews(conn: asyncpg.Connection, set_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT seq, level, decision, by_user, at, comment, line_no, from_fen, to_fen, dropped"
        " FROM proposal_review WHERE set_id = $1 ORDER BY seq",
        set_id,
    )


async def add_review(conn: asyncpg.Connection, set_id: int, **v: Any) -> None:
    await conn.execute(
        "INSERT INTO proposal_review (set_id, seq, level, decision, by_user, comment, line_no, from_fen,"
        " to_fen,"
        " dropped) VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM proposal_review WHERE set_id = $1),"
        " $2, $3, $4, $5, $6, $7, $8, $9)",
        set_id, v["level"], v["decision"], v["by"], v.get("comment"), v.get("line_no"), v.get("from_fen"),
        v.get("to_fen"), v.get("dropped", False),
    )  # fmt: skip


async def bump(conn: asyncpg.Connection, set_id: int, **changes: Any) -> None:
    cols = ", ".join(f"{k} = ${i}" for i, k in enumerate(changes, 2))
    sep = ", " if cols else ""
    await conn.execute(
        f"UPDATE proposal_set SET version = version + 1{sep}{cols} WHERE set_id = $1",
        set_id,
        *changes.values(),
    )


async def line(conn: asyncpg.Connection, set_id: int, line_no: int) -> asyncpg.Record | None:
    return await conn.fetchrow(  # type: ignore[no-any-return]
        "SELECT * FROM proposal_line WHERE set_id = $1 AND line_no = $2 FOR UPDATE", set_id, line_no
    )


async def set_line(
    conn: asyncpg.Connection, set_id: int, line_no: int, amount: int | None, dropped: bool
) -> None:
    await conn.execute(
        "UPDATE proposal_line SET amount_fen = $3, dropped = $4 WHERE set_id = $1 AND line_no = $2",
        set_id,
        line_no,
        amount,
        dropped,
    )


async def unit_balance(conn: asyncpg.Connection, set_id: int, unit_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(  # type: ignore[no-any-return]
        "SELECT * FROM proposal_unit WHERE set_id = $1 AND unit_id = $2 FOR UPDATE", set_id, unit_id
    )


async def move_pay(conn: asyncpg.Connection, set_id: int, unit_id: str, delta: int) -> None:
    """Pay up by `delta` fen, withheld down by as much: the pool still balances."""
    await conn.execute(
        "UPDATE proposal_unit SET paid_fen = paid_fen + $3, withheld_fen = withheld_fen - $3"
        " WHERE set_id = $1 AND unit_id = $2",
        set_id,
        unit_id,
        delta,
    )
    await conn.execute(
        "UPDATE proposal_set SET paid_fen = paid_fen + $2, withheld_fen = withheld_fen - $2"
        " WHERE set_id = $1",
        set_id,
        delta,
    )


async def resolve(conn: asyncpg.Connection, set_id: int, problem_id: int, by: str, reason: str) -> bool:
    status = await conn.execute(
        "UPDATE proposal_problem SET resolved_by = $3, resolution = $4 WHERE set_id = $1 AND problem_id = $2"
        " AND resolved_by IS NULL",
        set_id,
        problem_id,
        by,
        reason,
    )
    return bool(status.endswith(" 1"))


async def lines_page(
    conn: asyncpg.Connection,
    set_id: int,
    *,
    unit_id: str | None,
    person_key: str | None,
    kind: str | None,
    after: int,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT * FROM proposal_line WHERE set_id = $1 AND line_no > $2"
        " AND ($3::varchar IS NULL OR unit_id = $3)"
        " AND ($4::char(25) IS NULL OR person_key = $4) AND ($5::varchar IS NULL OR kind = $5)"
        " ORDER BY line_no LIMIT $6",
        set_id,
        after,
        unit_id,
        person_key,
        kind,
        limit,
    )


async def live_lines(conn: asyncpg.Connection, set_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT line_no, subject, unit_id, person_key, kind, consequence, rule_id, basis, amount_fen, inputs"
        " FROM proposal_line WHERE set_id = $1 AND NOT dropped ORDER BY line_no",
        set_id,
    )


async def units(conn: asyncpg.Connection, set_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT unit_id, unit_path, pool_fen, paid_fen, withheld_fen FROM proposal_unit WHERE set_id = $1"
        " ORDER BY unit_id",
        set_id,
    )


async def sets_page(
    conn: asyncpg.Connection,
    *,
    assessing_unit: str | None,
    period: str | None,
    status: str | None,
    before: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        f"SELECT {SET_COLUMNS} FROM proposal_set WHERE ($1::varchar IS NULL OR assessing_unit = $1)"
        " AND ($2::varchar IS NULL OR period = $2) AND ($3::varchar IS NULL OR status = $3)"
        " AND ($4::bigint IS NULL OR set_id < $4) ORDER BY set_id DESC LIMIT $5",
        assessing_unit,
        period,
        status,
        before,
        limit,
    )


async def approved_of(
    conn: asyncpg.Connection, assessing_unit: str, scheme_id: str, period: str, but: int
) -> list[int]:
    rows = await conn.fetch(
        "SELECT set_id FROM proposal_set WHERE assessing_unit = $1 AND scheme_id = $2 AND period = $3"
        " AND status = 'approved' AND superseded_by IS NULL AND set_id <> $4",
        assessing_unit,
        scheme_id,
        period,
        but,
    )
    return [r["set_id"] for r in rows]
