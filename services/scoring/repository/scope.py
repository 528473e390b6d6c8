"""Scoping by the caller, in one place (范围): a book's assessing unit, a unit of a book, a period's status.

Every read and write of scoring resolves its book and unit through these: a caller outside the subtree
gets `forbidden_scope` on office writes and `not_found`, worded like a missing object, on reads.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from kaohe.errors import Forbidden, NotFound
from kaohe.identity import Caller
from services.scoring.errors import ScoringErrorCode


async def book_of(c: asyncpg.Connection, scheme_id: str) -> int:
    """The results book of any published version's id, or not_found naming scheme_id."""
    book = await c.fetchval("SELECT book FROM scheme WHERE scheme_id = $1", scheme_id)
    if book is None:
        raise NotFound(f"no published scheme {scheme_id!r} is known to scoring", field="scheme_id")
    return int(book)


def assessing_path(assessing_unit: str, units: list[dict[str, Any]], given: str | None = None) -> str | None:
    """The assessing unit's org path: given by the event, or the prefix of an assessed unit's path that
    ends at the assessing unit's own segment (paths are unit ids from the root). None when unknown."""
    if given:
        return given
    for u in units:
        parts = (u.get("path") or "").strip("/").split("/")
        if assessing_unit in parts:
            return "/" + "/".join(parts[: parts.index(assessing_unit) + 1]) + "/"
    return None


async def covers_book(c: asyncpg.Connection, caller: Caller, book: int) -> bool:
    """Whether the caller's subtree covers the book's assessing unit (unknown path: only the root)."""
    path = await c.fetchval("SELECT assessing_path FROM book WHERE id = $1", book)
    return caller.org_path == "/" or (path is not None and caller.covers(path))


async def require_book_scope(c: asyncpg.Connection, caller: Caller, book: int) -> None:
    """Office writes to a results book: the caller's subtree must cover the book's assessing unit.

    A book whose assessing unit's path is unknown is denied (only a system caller may act on it).
    """
    if await covers_book(c, caller, book):
        return
    raise Forbidden(
        "the scheme's assessing unit is outside your organisation subtree",
        field="scheme_id",
        code=ScoringErrorCode.FORBIDDEN_SCOPE,
    )


async def unit_row(c: asyncpg.Connection, caller: Caller, book: int, unit_id: str) -> asyncpg.Record:
    """The unit in the book, or not_found — worded exactly like a unit that does not exist, also when it
    exists but is outside the caller's subtree or not assessed in this book (nothing is disclosed)."""
    row = await c.fetchrow("SELECT * FROM book_unit WHERE book = $1 AND unit_id = $2", book, unit_id)
    if row is None or not caller.covers(row["path"]):
        raise NotFound(f"unit {unit_id} not found", field="unit_id")
    return row


async def status_of(c: asyncpg.Connection, book: int, period: str) -> str:
    row = await c.fetchrow(
        "SELECT window_until, snapshot_id FROM results_state WHERE book = $1 AND period = $2", book, period
    )
    if row is None:
        return "preliminary"
    if row["snapshot_id"]:
        return "published"
    return "objection_window" if row["window_until"] is not None else "preliminary"
