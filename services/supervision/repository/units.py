"""Units (组织) as the indicators service announced them (`unit.changed`): id, path, name, parent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.paths import upper

Row = Mapping[str, Any]


async def upsert(
    s: AsyncSession, unit_id: str, *, path: str, name: str, parent_id: str | None, closed: bool, revision: int
) -> bool:
    """Store the unit's newest version (older revisions change nothing); True when applied."""
    res = await s.execute(
        text(
            "INSERT INTO unit AS x (id, path, name, parent_id, closed, revision)"
            " VALUES (:id, :path, :name, :parent, :closed, :rev) ON CONFLICT (id) DO UPDATE SET"
            " path = EXCLUDED.path, name = EXCLUDED.name, parent_id = EXCLUDED.parent_id,"
            " closed = EXCLUDED.closed, revision = EXCLUDED.revision WHERE x.revision < EXCLUDED.revision"
            " RETURNING 1"
        ),
        {"id": unit_id, "path": path, "name": name, "parent": parent_id, "closed": closed, "rev": revision},
    )
    return res.first() is not None


async def move_paths(s: AsyncSession, old: str, new: str) -> None:
    """A moved unit's subtree: every stored path under `old` now lies under `new` (units, items, cards)."""
    params = {"old": old, "new": new, "hi": upper(old), "n": len(old) + 1}
    for table, col in (
        ("unit", "path"),
        ("item", "office_path"),
        ("item", "lead_path"),
        ("item_unit", "unit_path"),
        ("score", "unit_path"),
    ):
        await s.execute(
            text(
                f"UPDATE {table} SET {col} = :new || substr({col}, :n)"
                f' WHERE {col} COLLATE "C" >= :old AND {col} COLLATE "C" < :hi'
            ),
            params,
        )


async def get_many(s: AsyncSession, ids: Sequence[str]) -> dict[str, Row]:
    if not ids:
        return {}
    res = await s.execute(text("SELECT * FROM unit WHERE id = ANY(:ids)"), {"ids": list(ids)})
    return {r["id"]: r for r in res.mappings()}


async def in_subtree(s: AsyncSession, root: str, after: str | None, limit: int) -> list[Row]:
    res = await s.execute(
        text(
            'SELECT * FROM unit WHERE path COLLATE "C" >= :lo AND path COLLATE "C" < :hi'
            " AND (CAST(:after AS text) IS NULL OR id > :after) AND NOT closed ORDER BY id LIMIT :n"
        ),
        {"lo": root, "hi": upper(root), "after": after, "n": limit},
    )
    return list(res.mappings())
