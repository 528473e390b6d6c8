"""填报 tracking for deadline reminders: each published scheme's roster with its 报送时限, and the leaves each
unit handed in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg


async def store_roster(
    c: asyncpg.Connection,
    *,
    scheme_id: str,
    assessing_unit: str,
    year: int,
    version: int,
    units: Sequence[dict[str, Any]],
    due_workdays: int,
    remind_workdays: int,
) -> None:
    """The scheme version's roster (unit, name, path, leaf codes) and its reporting rule; an older version
    never overwrites."""
    current = await c.fetchval("SELECT max(version) FROM roster WHERE scheme_id = $1", scheme_id)
    if current is not None and current > version:
        return
    await c.execute("DELETE FROM roster WHERE scheme_id = $1", scheme_id)
    rule = (due_workdays, remind_workdays)
    await c.executemany(
        "INSERT INTO roster (scheme_id, unit_id, assessing_unit, year, version, unit_name, unit_path, codes,"
        " due_workdays, remind_workdays) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        [
            (scheme_id, u["unit_id"], assessing_unit, year, version, u["name"], u["path"], u["codes"], *rule)
            for u in units
        ],
    )


async def file(c: asyncpg.Connection, scheme_id: str, rows: Sequence[tuple[str, str, str]]) -> None:
    """(unit, period, code) handed in for a scheme; repeats change nothing."""
    if not rows:
        return
    units, periods, codes = (list(x) for x in zip(*rows, strict=True))
    await c.execute(
        "INSERT INTO filed (scheme_id, unit_id, period, code)"
        " SELECT $1, u, p, k FROM unnest($2::text[], $3::text[], $4::text[]) AS x(u, p, k)"
        " ON CONFLICT DO NOTHING",
        scheme_id,
        units,
        periods,
        codes,
    )


async def current_schemes(c: asyncpg.Connection, year: int) -> list[tuple[str, int, int]]:
    """The newest scheme of each assessing unit for the year (older versions remind nobody), each with its
    rule: (scheme id, due_workdays, remind_workdays)."""
    rows = await c.fetch(
        "SELECT DISTINCT ON (assessing_unit) scheme_id, due_workdays, remind_workdays FROM roster"
        " WHERE year = $1 ORDER BY assessing_unit, version DESC, scheme_id",
        year,
    )
    return [(r["scheme_id"], r["due_workdays"], r["remind_workdays"]) for r in rows]


async def expected(c: asyncpg.Connection, scheme_id: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Unit → leaf codes it fills, and unit → name."""
    rows = await c.fetch("SELECT unit_id, unit_name, codes FROM roster WHERE scheme_id = $1", scheme_id)
    return {r["unit_id"]: list(r["codes"]) for r in rows}, {r["unit_id"]: r["unit_name"] for r in rows}


async def filed(c: asyncpg.Connection, scheme_id: str, period: str) -> dict[str, list[str]]:
    rows = await c.fetch(
        "SELECT unit_id, array_agg(code) AS codes FROM filed WHERE scheme_id = $1 AND period = $2"
        " GROUP BY unit_id",
        scheme_id,
        period,
    )
    return {r["unit_id"]: list(r["codes"]) for r in rows}
