"""List reads of items (督办清单): the filters of a list, a keyset page, the board's counts and columns.

A page is one statement — the listed items and, joined after the LIMIT, each one's units as typed arrays —
read on the driver connection (SQLAlchemy's statement and row handling cost as much as the query); the RPC
runs it on a plain autocommit connection, so no BEGIN/COMMIT round trips either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.pages import decode_cursor
from kaohe.contracts.supervision_rpc import ItemListParams
from kaohe.db import raw_connection
from kaohe.identity import Caller
from services.supervision.repository.items import period_bounds
from services.supervision.repository.scope import bounds, in_subtree, visible

Row = Mapping[str, Any]
Executor = AsyncSession | AsyncConnection


def filters(caller: Caller, p: ItemListParams, *, now: datetime) -> tuple[list[str], dict[str, Any]]:
    """WHERE clauses (over alias i) of a list, the caller's scope first."""
    scope, params = visible(caller)
    where = [scope]
    if len(p.status) == 1:  # equality: the page reads item_status_created in keyset order
        where.append("i.status = :status")
        params["status"] = str(p.status[0])
    elif p.status:
        where.append("i.status = ANY(:status)")
        params["status"] = [str(x) for x in p.status]
    if p.source:
        where.append("i.source = ANY(:source)")
        params["source"] = [str(x) for x in p.source]
    if p.unit_path:
        role = "" if p.unit_role == "any" else " AND fu.role = :urole"
        where.append(
            "EXISTS (SELECT 1 FROM item_unit fu WHERE fu.item_id = i.id"
            f" AND {in_subtree('fu.unit_path', 'f')}{role})"
        )
        params |= bounds(p.unit_path, "f") | {"urole": p.unit_role}
    if p.overdue is not None:
        where.append("i.overdue" if p.overdue else "NOT i.overdue")
    if p.card is not None:
        where.append("i.red_cards > 0" if p.card == "red" else "i.yellow_cards > 0")
    if p.period:
        start, end = period_bounds(p.period)
        where.append("i.created_at < :pend AND (i.finished_at IS NULL OR i.finished_at >= :pstart)")
        params |= {"pstart": start, "pend": end}
    if p.office_id:
        where.append("i.office_id = :office")
        params["office"] = p.office_id
    if p.indicator_code:
        where.append("i.indicator_code = :code")
        params["code"] = p.indicator_code
    return where, params


# Each listed item's units as parallel arrays, the lead first (asyncpg gives typed lists: dates, datetimes);
# joined to the page's rows after LIMIT, so it runs once per listed item, in the same statement.
UNIT_ARRAYS = """
  LEFT JOIN LATERAL (
    SELECT array_agg(u.unit_id ORDER BY u.pos) AS u_id, array_agg(u.unit_path ORDER BY u.pos) AS u_path,
      array_agg(n.name ORDER BY u.pos) AS u_name, array_agg(u.role ORDER BY u.pos) AS u_role,
      array_agg(u.task ORDER BY u.pos) AS u_task, array_agg(u.deadline ORDER BY u.pos) AS u_deadline,
      array_agg(u.done_at ORDER BY u.pos) AS u_done_at
    FROM item_unit u LEFT JOIN unit n ON n.id = u.unit_id WHERE u.item_id = p.id) us ON TRUE"""
_UNIT_KEYS = (
    ("unit_id", "u_id"),
    ("unit_path", "u_path"),
    ("unit_name", "u_name"),
    ("role", "u_role"),
    ("task", "u_task"),
    ("deadline", "u_deadline"),
    ("done_at", "u_done_at"),
)


def units_in_row(row: Row) -> list[dict[str, Any]]:
    """The units a `page`/`column` row carries (`UNIT_ARRAYS`), as `units_of` gives them, the lead first."""
    ids = row["u_id"]
    if not ids:
        return []
    cols = [(k, row[c]) for k, c in _UNIT_KEYS]
    return [{k: v[n] for k, v in cols} for n in range(len(ids))]


async def page(s: Executor, caller: Caller, p: ItemListParams, *, now: datetime) -> list[Row]:
    """Newest first, keyset on (created_at, id); LIMIT first + 1; each row with its units (`units_in_row`)."""
    where, params = filters(caller, p, now=now)
    key = decode_cursor(p.after, 2)
    if key is not None:
        where.append("(i.created_at, i.id) < (CAST(:c_at AS timestamptz), :c_id)")
        params |= {"c_at": datetime.fromisoformat(str(key[0])), "c_id": str(key[1])}
    sql = (
        f"SELECT p.*, us.* FROM (SELECT i.* FROM item i WHERE {' AND '.join(where)}"
        f" ORDER BY i.created_at DESC, i.id DESC LIMIT :lim) p {UNIT_ARRAYS}"
        " ORDER BY p.created_at DESC, p.id DESC"
    )
    params["lim"] = p.first + 1
    positional, args = _positional(sql, params)
    return [dict(r) for r in await (await raw_connection(s)).fetch(positional, *args)]


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _positional(sql: str, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """`:name` parameters as the driver's `$n` (a page is read on the asyncpg connection: SQLAlchemy's
    statement and row handling cost as much as the query); names the SQL does not use are left out."""
    names: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return _NAMED.sub(number, sql), [params[n] for n in names]


async def count_by_status(s: Executor, where: list[str], params: dict[str, Any]) -> dict[str, int]:
    rows = await s.execute(
        text(f"SELECT i.status, count(*) AS n FROM item i WHERE {' AND '.join(where)} GROUP BY i.status"),
        params,
    )
    return {r[0]: int(r[1]) for r in rows}


async def column(s: Executor, where: list[str], params: dict[str, Any], status: str, limit: int) -> list[Row]:
    """A board column: the first items of a status, the next due first; each row with its units."""
    sql = (
        f"SELECT p.*, us.* FROM (SELECT i.* FROM item i WHERE {' AND '.join(where)}"
        " AND i.status = :col_status ORDER BY i.next_due NULLS LAST, i.created_at DESC LIMIT :col_lim) p"
        f" {UNIT_ARRAYS} ORDER BY p.next_due NULLS LAST, p.created_at DESC"
    )
    res = await s.execute(text(sql), {**params, "col_status": status, "col_lim": limit})
    return list(res.mappings())
