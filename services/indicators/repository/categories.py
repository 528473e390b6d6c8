"""Categories (分类) and their members for an assessing unit's year: every SQL statement about them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession


async def unit_paths(s: AsyncSession, ids: list[str]) -> dict[str, str]:
    """The current path of each existing unit among `ids`."""
    rows = await s.execute(text("SELECT id, path FROM unit WHERE id = ANY(:ids)"), {"ids": ids})
    return dict(rows.all())  # type: ignore[arg-type]


async def replace(
    s: AsyncSession,
    *,
    assessing_unit: str,
    year: int,
    categories: list[tuple[str, str]],
    members: dict[str, str],
) -> None:
    """The year's categories (name, description) in order and their members {unit_id: category}."""
    key = {"a": assessing_unit, "y": year}
    await s.execute(text("DELETE FROM category WHERE assessing_unit = :a AND year = :y"), key)
    await s.execute(text("DELETE FROM category_member WHERE assessing_unit = :a AND year = :y"), key)
    if categories:
        await s.execute(
            text("INSERT INTO category VALUES (:a, :y, :n, :d, :i)"),
            [{**key, "n": n, "d": d, "i": i} for i, (n, d) in enumerate(categories)],
        )
    if members:
        await s.execute(
            text("INSERT INTO category_member VALUES (:a, :y, :u, :c)"),
            [{**key, "u": u, "c": c} for u, c in members.items()],
        )


async def listed(s: AsyncSession, *, assessing_unit: str, year: int) -> list[dict[str, Any]]:
    """The year's categories in their order: [{name, description}]."""
    rows = await s.execute(
        text(
            "SELECT name, description FROM category WHERE assessing_unit = :a AND year = :y ORDER BY position"
        ),
        {"a": assessing_unit, "y": year},
    )
    return [{"name": n, "description": d} for n, d in rows]
