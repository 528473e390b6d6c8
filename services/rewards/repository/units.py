"""Units (单位) and schemes as rewards knows them: paths (scope), 单位类型 (考核系数), scheme → 考核主体."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from kaohe.contracts.paths import upper

UPSERT_UNIT = """
INSERT INTO unit AS u (unit_id, path, name, revision) VALUES ($1, $2, $3, $4)
ON CONFLICT (unit_id) DO UPDATE SET path = EXCLUDED.path, name = coalesce(EXCLUDED.name, u.name),
                                    revision = EXCLUDED.revision
WHERE u.revision <= EXCLUDED.revision
"""
# what a scheme or a snapshot says about a unit counts only while no unit.changed told us (revision 0)
SEEN_UNITS = """
INSERT INTO unit AS u (unit_id, path, name, revision)
SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::int[])
ON CONFLICT (unit_id) DO UPDATE SET path = EXCLUDED.path, name = coalesce(EXCLUDED.name, u.name)
WHERE u.revision = 0
"""
MOVE_SUBTREE = """
UPDATE unit SET path = $2 || substr(path, length($1) + 1)
WHERE path COLLATE "C" > $1 AND path COLLATE "C" < $3
"""


async def upsert(conn: asyncpg.Connection, unit_id: str, path: str, name: str | None, revision: int) -> bool:
    """Store a unit's newer version; False when a newer one is stored already."""
    status = await conn.execute(UPSERT_UNIT, unit_id, path, name, revision)
    return bool(status.endswith(" 1"))


async def move_subtree(conn: asyncpg.Connection, old: str, new: str) -> None:
    """The descendants of a moved unit follow it (unit.changed carries only the moved unit)."""
    if old != new:
        await conn.execute(MOVE_SUBTREE, old, new, upper(old))


async def seen(conn: asyncpg.Connection, units: Sequence[tuple[str, str, str | None]]) -> None:
    """Units named by a scheme or a snapshot: (id, path, name)."""
    if units:
        ids, paths, names = (list(x) for x in zip(*units, strict=True))
        await conn.execute(SEEN_UNITS, ids, paths, names, [0] * len(ids))


async def path_of(conn: asyncpg.Connection, unit_id: str) -> str | None:
    return await conn.fetchval("SELECT path FROM unit WHERE unit_id = $1", unit_id)  # type: ignore[no-any-return]


async def paths_of(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch("SELECT unit_id, path FROM unit WHERE unit_id = ANY($1::varchar[])", list(ids))
    return {r["unit_id"]: r["path"] for r in rows}


async def kinds_of(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, str]:
    """单位类型 (for 考核系数) of the units that have one."""
    rows = await conn.fetch(
        "SELECT unit_id, unit_kind FROM unit WHERE unit_id = ANY($1::varchar[]) AND unit_kind IS NOT NULL",
        list(ids),
    )
    return {r["unit_id"]: r["unit_kind"] for r in rows}


async def set_kinds(conn: asyncpg.Connection, items: Sequence[tuple[str, str]]) -> int:
    """Set 单位类型 of known units; returns how many were set."""
    ids, kinds = [i for i, _ in items], [k for _, k in items]
    status = await conn.execute(
        "UPDATE unit u SET unit_kind = v.k FROM unnest($1::varchar[], $2::varchar[]) v(i, k)"
        " WHERE u.unit_id = v.i",
        ids,
        kinds,
    )
    return int(status.split()[-1])


async def upsert_scheme(conn: asyncpg.Connection, scheme_id: str, assessing_unit: str, year: int) -> None:
    await conn.execute(
        "INSERT INTO scheme (scheme_id, assessing_unit, year) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        scheme_id,
        assessing_unit,
        year,
    )


async def scheme_of(conn: asyncpg.Connection, scheme_id: str) -> tuple[str, int] | None:
    row = await conn.fetchrow("SELECT assessing_unit, year FROM scheme WHERE scheme_id = $1", scheme_id)
    return (row["assessing_unit"], row["year"]) if row else None
