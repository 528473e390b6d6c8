"""Unit versions (组织沿革) in SQL: as-of reads over validity intervals and set-based restructuring.

Paths are materialized (`/14/1405/140502/`) and stored with COLLATE "C", so a subtree is the btree range
[path, path-with-last-slash-bumped) — one index range scan, with no LIKE wildcards to escape in ids.
A change never rewrites history: it closes the open version (`valid_to`) and inserts the next one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from services.indicators.errors import IndicatorsErrorCode

COLS = "unit_id, version, name, kind, parent_id, path, valid_from, valid_to, change, lineage"
AS_OF = "valid_from <= :d AND (valid_to IS NULL OR valid_to > :d)"


def upper(path: str) -> str:
    """Exclusive upper bound of the subtree range: '/' is 0x2F, '0' is 0x30."""
    return path[:-1] + "0"


def public(row: Any, *, status: str = "active") -> dict[str, Any]:
    """The UnitPublic shape of a unit_version row."""
    return {
        "id": row["unit_id"],
        "name": row["name"],
        "kind": row["kind"],
        "parent_id": row["parent_id"],
        "path": row["path"],
        "valid_from": row["valid_from"].isoformat(),
        "valid_to": row["valid_to"].isoformat() if row["valid_to"] else None,
        "status": status,
    }


def version_public(row: Any) -> dict[str, Any]:
    return {**public(row), "change": row["change"], "version": row["version"], "lineage": row["lineage"]}


async def _rows(s: AsyncSession, sql: str, **params: Any) -> list[Any]:
    return list((await s.execute(text(sql), params)).mappings())


async def at(s: AsyncSession, unit_id: str, d: date) -> Any | None:
    """The version of `unit_id` valid on `d`."""
    rows = await _rows(s, f"SELECT {COLS} FROM unit_version WHERE unit_id = :id AND {AS_OF}", id=unit_id, d=d)
    return rows[0] if rows else None


async def many_at(s: AsyncSession, ids: Sequence[str], d: date) -> list[Any]:
    return await _rows(
        s, f"SELECT {COLS} FROM unit_version WHERE unit_id = ANY(:ids) AND {AS_OF}", ids=list(ids), d=d
    )


async def children(
    s: AsyncSession, parent_id: str, d: date, *, kinds: list[str] | None, after: str | None, limit: int
) -> list[Any]:
    sql = f"SELECT {COLS} FROM unit_version WHERE parent_id = :p AND {AS_OF}"
    if kinds:
        sql += " AND kind = ANY(:kinds)"
    if after is not None:
        sql += " AND unit_id > :after"
    sql += " ORDER BY unit_id LIMIT :n"
    return await _rows(s, sql, p=parent_id, d=d, kinds=kinds, after=after, n=limit)


async def subtree(
    s: AsyncSession,
    root_path: str,
    d: date,
    *,
    search: str | None,
    kinds: list[str] | None,
    include_root: bool,
    after: str | None,
    limit: int,
) -> list[Any]:
    sql = f"SELECT {COLS} FROM unit_version WHERE path >= :lo AND path < :hi AND {AS_OF}"
    lo = root_path if include_root else root_path + "\x01"
    if after is not None:
        sql += " AND path > :after"
    if kinds:
        sql += " AND kind = ANY(:kinds)"
    q = None
    if search:
        q = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql += " AND (name ILIKE :q OR unit_id ILIKE :q)"
    sql += " ORDER BY path LIMIT :n"
    return await _rows(s, sql, lo=lo, hi=upper(root_path), d=d, after=after, kinds=kinds, q=q, n=limit)


async def history(s: AsyncSession, unit_id: str) -> list[Any]:
    return await _rows(s, f"SELECT {COLS} FROM unit_version WHERE unit_id = :id ORDER BY version", id=unit_id)


# --- writes ---------------------------------------------------------------------------------------


async def open_version(s: AsyncSession, unit_id: str, field: str = "unit_id") -> Any:
    """The unit's open version, locked for the change; closed or missing units are refused."""
    rows = await _rows(
        s,
        f"SELECT seq, {COLS} FROM unit_version WHERE unit_id = :id AND valid_to IS NULL FOR UPDATE",
        id=unit_id,
    )
    if not rows:
        exists = await _rows(s, "SELECT status FROM unit WHERE id = :id", id=unit_id)
        if exists:
            raise Conflict(f"unit {unit_id} is closed", field=field, code=IndicatorsErrorCode.UNIT_CLOSED)
        raise NotFound(f"unit {unit_id} not found", field=field)
    return rows[0]


def check_effective(ver: Any, effective: date) -> None:
    if effective < ver["valid_from"]:
        raise ValidationFailed(
            f"effective {effective} precedes the current version of {ver['unit_id']}"
            f" (from {ver['valid_from']});"
            " history is not rewritten",
            field="effective",
        )


async def insert_first(
    s: AsyncSession,
    *,
    unit_id: str,
    name: str,
    kind: str,
    parent_id: str | None,
    path: str,
    valid_from: date,
    lineage: dict[str, Any] | None = None,
) -> Any:
    await s.execute(
        text(
            "INSERT INTO unit (id, name, kind, parent_id, path, valid_from, status, version, created_at)"
            " VALUES (:id, :name, :kind, :p, :path, :d, 'active', 1, now())"
        ),
        dict(id=unit_id, name=name, kind=kind, p=parent_id, path=path, d=valid_from),
    )
    rows = await _rows(
        s,
        f"INSERT INTO unit_version ({COLS}) VALUES (:id, 1, :name, :kind, :p, :path, :d, NULL, 'created',"
        f" CAST(:l AS json)) RETURNING {COLS}",
        id=unit_id,
        name=name,
        kind=kind,
        p=parent_id,
        path=path,
        d=valid_from,
        l=json.dumps(lineage or {}),
    )
    return rows[0]


async def next_version(
    s: AsyncSession,
    old: Any,
    effective: date,
    change: str,
    *,
    name: str | None = None,
    lineage: dict[str, Any] | None = None,
) -> Any:
    """Close `old` at `effective` and open the next version with a new name (rename)."""
    check_effective(old, effective)
    await s.execute(
        text("UPDATE unit_version SET valid_to = :e WHERE seq = :seq"), {"e": effective, "seq": old["seq"]}
    )
    rows = await _rows(
        s,
        f"INSERT INTO unit_version ({COLS}) VALUES (:id, :v, :name, :kind, :p, :path, :e, NULL, :c,"
        f" CAST(:l AS json)) RETURNING {COLS}",
        id=old["unit_id"],
        v=old["version"] + 1,
        name=name or old["name"],
        kind=old["kind"],
        p=old["parent_id"],
        path=old["path"],
        e=effective,
        c=change,
        l=json.dumps(lineage or {}),
    )
    await s.execute(
        text("UPDATE unit SET name = :name, valid_from = :e, version = :v WHERE id = :id"),
        {"name": rows[0]["name"], "e": effective, "v": rows[0]["version"], "id": old["unit_id"]},
    )
    return rows[0]


async def move(
    s: AsyncSession,
    old: Any,
    parent: Any,
    effective: date,
    change: str,
    lineage: dict[str, Any] | None = None,
) -> tuple[Any, int]:
    """Re-parent a unit and give every open version in its subtree the new path (set-based)."""
    old_path, unit_id = old["path"], old["unit_id"]
    if parent["path"].startswith(old_path):
        raise Conflict(
            f"cannot move {unit_id} under its own subtree",
            field="parent_id",
            code=IndicatorsErrorCode.MOVE_INTO_OWN_SUBTREE,
        )
    latest = await _rows(
        s,
        "SELECT max(valid_from) AS m FROM unit_version WHERE path >= :lo AND path < :hi AND valid_to IS NULL",
        lo=old_path,
        hi=upper(old_path),
    )
    if latest[0]["m"] is not None and effective < latest[0]["m"]:
        raise ValidationFailed(
            f"effective {effective} precedes a version in the subtree of {unit_id} (from {latest[0]['m']})",
            field="effective",
        )
    new_path = f"{parent['path']}{unit_id}/"
    rows = await _rows(
        s,
        f"""WITH closed AS (
              UPDATE unit_version SET valid_to = :e
              WHERE path >= :lo AND path < :hi AND valid_to IS NULL RETURNING *)
            INSERT INTO unit_version ({COLS})
            SELECT unit_id, version + 1, name, kind,
                   CASE WHEN unit_id = :id THEN :p ELSE parent_id END,
                   :new || substr(path, :n), :e, NULL,
                   CASE WHEN unit_id = :id THEN :c ELSE 'reparented' END,
                   CASE WHEN unit_id = :id THEN CAST(:l AS json) ELSE CAST('{{}}' AS json) END
            FROM closed RETURNING {COLS}""",
        e=effective,
        lo=old_path,
        hi=upper(old_path),
        id=unit_id,
        p=parent["unit_id"],
        new=new_path,
        n=len(old_path) + 1,
        c=change,
        l=json.dumps(lineage or {}),
    )
    await s.execute(
        text(
            "UPDATE unit u SET path = v.path, parent_id = v.parent_id, version = v.version,"
            " valid_from = v.valid_from FROM unit_version v WHERE v.unit_id = u.id AND v.valid_to IS NULL"
            " AND v.path >= :lo AND v.path < :hi"
        ),
        {"lo": new_path, "hi": upper(new_path)},
    )
    mine = next(r for r in rows if r["unit_id"] == unit_id)
    return mine, len(rows) - 1


async def close(s: AsyncSession, old: Any, effective: date, change: str, lineage: dict[str, Any]) -> Any:
    """Close a unit: its open version ends at `effective`; no new version opens."""
    check_effective(old, effective)
    kids = await _rows(
        s,
        "SELECT unit_id FROM unit_version WHERE parent_id = :id AND valid_to IS NULL LIMIT 1",
        id=old["unit_id"],
    )
    if kids:
        raise Conflict(
            f"unit {old['unit_id']} still has open child units (e.g. {kids[0]['unit_id']});"
            " move or close them first",
            field="unit_id",
            code=IndicatorsErrorCode.UNIT_HAS_CHILDREN,
        )
    rows = await _rows(
        s,
        f"UPDATE unit_version SET valid_to = :e, lineage = CAST(:l AS json) WHERE seq = :seq"
        f" RETURNING {COLS}",
        e=effective,
        seq=old["seq"],
        l=json.dumps({**(old["lineage"] or {}), **lineage, "ended_by": change}),
    )
    await s.execute(
        text("UPDATE unit SET status = 'closed', valid_to = :e WHERE id = :id"),
        {"e": effective, "id": old["unit_id"]},
    )
    return rows[0]


async def many_current(s: AsyncSession, ids: Sequence[str]) -> list[tuple[Any, str]]:
    """The latest version of each unit with its status (closed units keep their last version)."""
    rows = await _rows(
        s,
        f"SELECT DISTINCT ON (v.unit_id) {', '.join('v.' + c.strip() for c in COLS.split(','))}, u.status"
        " FROM unit_version v JOIN unit u ON u.id = v.unit_id WHERE v.unit_id = ANY(:ids)"
        " ORDER BY v.unit_id, v.version DESC",
        ids=list(ids),
    )
    return [(r, r["status"]) for r in rows]


async def unit_path(s: AsyncSession, unit_id: str) -> str | None:
    """The current path of a unit (closed units keep their last path)."""
    row = (await s.execute(text("SELECT path FROM unit WHERE id = :id"), {"id": unit_id})).first()
    return None if row is None else str(row[0])


async def require_unit(s: AsyncSession, caller: Caller, unit_id: str, field: str = "unit_id") -> str:
    """The unit's current path if the caller covers it; out-of-scope units are reported as missing."""
    path = await unit_path(s, unit_id)
    if path is None or not caller.covers(path):
        raise NotFound(f"unit {unit_id} not found", field=field)
    return path
