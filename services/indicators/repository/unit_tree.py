"""Hot read paths of the unit tree (subtree, ancestors): JSON built by PostgreSQL, no transaction.

A county subtree is a few hundred rows; building 242 dicts, walking them again in the RPC layer and
serializing them cost more than the query. Here PostgreSQL returns the page as one JSON text in the
UnitPublic shape and the RPC reply embeds it as is (`orjson.Fragment`). Two autocommit statements on one
connection replace BEGIN, the same two queries and COMMIT; each statement reads its own snapshot, as the
READ COMMITTED transaction did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kaohe.db import autocommit
from services.indicators.repository.units import AS_OF, upper

UNIT_JSON = (
    "json_build_object('id', v.unit_id, 'name', v.name, 'kind', v.kind, 'parent_id', v.parent_id,"
    " 'path', v.path, 'valid_from', v.valid_from, 'valid_to', v.valid_to, 'status', 'active')"
)
EMPTY = orjson.Fragment(b"[]")
PATH_AT = f"SELECT path FROM unit_version WHERE unit_id = :id AND {AS_OF}"


def _fragment(raw: str | None) -> orjson.Fragment:
    return orjson.Fragment(raw) if raw else EMPTY


async def _path(conn: AsyncConnection, unit_id: str, d: date) -> str | None:
    # the path goes back as a literal parameter: the planner then sees the range bounds and picks the
    # index range scan (joined from a CTE it estimated a third of the table and scanned it all)
    return (await conn.execute(text(PATH_AT), {"id": unit_id, "d": d})).scalar()


async def subtree_page(
    engine: AsyncEngine,
    root_id: str,
    d: date,
    *,
    search: str | None,
    kinds: Sequence[str] | None,
    include_root: bool,
    after: str | None,
    first: int,
) -> tuple[str | None, orjson.Fragment, str | None]:
    """(root path or None when not valid on `d`, items as JSON, path of the last item when more follow)."""
    cond = [AS_OF, "path < :hi", "path >= :lo" if include_root else "path > :lo"]
    if after is not None:
        cond.append("path > :after")
    if kinds:
        cond.append("kind = ANY(:kinds)")
    q = None
    if search:
        q = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        cond.append("(name ILIKE :q OR unit_id ILIKE :q)")
    # the (first+1)th row only tells whether a next page exists
    sql = f"""
        WITH pg AS (
          SELECT unit_id, name, kind, parent_id, path, valid_from, valid_to,
                 row_number() OVER (ORDER BY path) AS rn
          FROM unit_version WHERE {" AND ".join(cond)} ORDER BY path LIMIT :n
        )
        SELECT (SELECT json_agg({UNIT_JSON} ORDER BY v.path) FROM pg v WHERE v.rn <= :first)::text,
               (SELECT path FROM pg WHERE rn = :first AND EXISTS (SELECT 1 FROM pg WHERE rn > :first))
    """
    async with autocommit(engine) as conn:
        root = await _path(conn, root_id, d)
        if root is None:
            return None, EMPTY, None
        params: dict[str, Any] = {"d": d, "lo": root, "hi": upper(root), "n": first + 1, "first": first}
        if after is not None:
            params["after"] = after
        if kinds:
            params["kinds"] = list(kinds)
        if q is not None:
            params["q"] = q
        row = (await conn.execute(text(sql), params)).one()
    return root, _fragment(row[0]), row[1]


async def ancestors(
    engine: AsyncEngine, unit_id: str, d: date, *, org_path: str
) -> tuple[str | None, orjson.Fragment]:
    """(the unit's path on `d` or None, its ancestors root first, those above `org_path` left out)."""
    sql = (
        f"SELECT json_agg({UNIT_JSON} ORDER BY length(v.path))::text FROM unit_version v"
        f" WHERE v.unit_id = ANY(:ids) AND {AS_OF} AND starts_with(v.path, :org)"
    )
    async with autocommit(engine) as conn:
        path = await _path(conn, unit_id, d)
        if path is None:
            return None, EMPTY
        ids = path.strip("/").split("/")[:-1]
        raw = (await conn.execute(text(sql), {"ids": ids, "d": d, "org": org_path})).scalar()
    return path, _fragment(raw)
