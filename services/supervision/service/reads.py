"""Reads (查询): an item with its timeline, lists, the 督办清单 board, per-unit statistics, timeline verify.

Everything is scoped by the caller (`repository.scope`); an item out of reach reads as not found.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.chain import Entry as ChainEntry
from kaohe.chain import verify
from kaohe.contracts.pages import decode_cursor, encode_cursor
from kaohe.contracts.supervision import (
    Board,
    BoardColumn,
    ItemDetail,
    ItemPublic,
    ItemStatus,
    TimelineVerify,
    UnitStats,
)
from kaohe.contracts.supervision_rpc import BoardParams, ItemListParams, StatsParams
from kaohe.errors import Forbidden
from kaohe.identity import Caller, Role
from services.supervision.domain import evaluate
from services.supervision.repository import items as item_repo
from services.supervision.repository import lists, records
from services.supervision.repository import units as unit_repo
from services.supervision.repository.lists import Executor
from services.supervision.service.context import Ctx
from services.supervision.service.convert import (
    STATUS_ZH,
    breach_public,
    card_public,
    clocks_public,
    domain_item,
    entries_of,
    entry_public,
    item_public,
    to_item_public,
)
from services.supervision.service.transitions import load

Row = Mapping[str, Any]
STATS_ROLES = (Role.supervisor, Role.leader, Role.assessment_office, Role.system)


async def detail(s: AsyncSession, ctx: Ctx, caller: Caller, item_id: str) -> ItemDetail:
    row, units = await load(s, caller, item_id)
    stored = await records.entries(s, item_id)
    cal = await ctx.calendar(s)
    board = None
    if stored:
        board = evaluate(
            domain_item(row), entries=entries_of(stored), calendar=cal, ladder=ctx.ladders, now=ctx.now()
        )
    return ItemDetail(
        **item_public(ctx, caller, row, units),
        timeline=[entry_public(r) for r in stored],
        clocks=clocks_public(board),
        breaches=[breach_public(r) for r in await records.breaches(s, item_id)],
        cards=[card_public(r, row["number"]) for r in await records.cards(s, item_id)],
    )


async def publics(s: Executor, ctx: Ctx, caller: Caller, rows: list[Row]) -> list[ItemPublic]:
    """Rows of `page`/`column` carry their units; other rows get theirs in one query."""
    if rows and "u_id" not in rows[0]:
        units = await item_repo.units_of(s, [r["id"] for r in rows])
        return [to_item_public(ctx, caller, r, units[r["id"]]) for r in rows]
    return [to_item_public(ctx, caller, r, lists.units_in_row(r)) for r in rows]


async def page(s: Executor, ctx: Ctx, caller: Caller, p: ItemListParams) -> dict[str, Any]:
    """One statement (the items and their units): runs on a session or a plain autocommit connection."""
    rows = await lists.page(s, caller, p, now=ctx.now())
    more = len(rows) > p.first
    rows = rows[: p.first]
    nxt = encode_cursor(rows[-1]["created_at"].isoformat(), rows[-1]["id"]) if more and rows else None
    return {"items": await publics(s, ctx, caller, rows), "next": nxt}


async def board(s: AsyncSession, ctx: Ctx, caller: Caller, p: BoardParams) -> Board:
    lp = ItemListParams(
        unit_path=p.root_path,
        period=p.period,
        source=p.source,
        first=1,  # type: ignore[arg-type]
    )
    where, params = lists.filters(caller, lp, now=ctx.now())
    counts = await lists.count_by_status(s, where, params)
    columns = []
    for st in ItemStatus:
        rows = await lists.column(s, where, params, str(st), p.per_column) if counts.get(st) else []
        columns.append(
            BoardColumn(
                status=st,
                status_zh=STATUS_ZH[str(st)],
                count=counts.get(str(st), 0),
                items=await publics(s, ctx, caller, rows),
            )
        )
    return Board(columns=columns)


async def stats(s: AsyncSession, ctx: Ctx, caller: Caller, p: StatsParams) -> dict[str, Any]:
    """Per unit of the subtree: items, closed, overdue, on-time rate, cards, sent back, days to close."""
    caller.require(*STATS_ROLES)
    root = p.root_path or caller.org_path
    if not caller.has(Role.system) and not root.startswith(caller.org_path):
        raise Forbidden(
            "root_path is outside your organisation subtree", field="root_path", code="forbidden_scope"
        )
    key = decode_cursor(p.after, 1)
    units = await unit_repo.in_subtree(s, root, str(key[0]) if key else None, p.first + 1)
    more = len(units) > p.first
    units = units[: p.first]
    ids = [u["id"] for u in units]
    start, end = _bounds(p.period)
    sql = """
      SELECT u.unit_id,
        count(*) AS items,
        count(*) FILTER (WHERE u.role = 'lead') AS lead_items,
        count(*) FILTER (WHERE i.status = 'closed') AS closed,
        count(*) FILTER (WHERE i.open AND i.overdue) AS overdue,
        count(*) FILTER (WHERE i.status = 'closed' AND NOT EXISTS (
            SELECT 1 FROM breach b WHERE b.item_id = i.id AND b.unit_id = u.unit_id)) AS on_time
      FROM item_unit u JOIN item i ON i.id = u.item_id
      WHERE u.unit_id = ANY(:ids) AND i.assigned_at IS NOT NULL
        AND (CAST(:end AS timestamptz) IS NULL OR i.assigned_at < :end)
        AND (CAST(:start AS timestamptz) IS NULL OR i.finished_at IS NULL OR i.finished_at >= :start)
      GROUP BY u.unit_id"""
    agg = {
        r["unit_id"]: r
        for r in (await s.execute(text(sql), {"ids": ids, "start": start, "end": end})).mappings()
    }
    cards = {
        r[0]: (int(r[1]), int(r[2]))
        for r in await s.execute(
            text(
                "SELECT unit_id, count(*) FILTER (WHERE colour = 'yellow'),"
                " count(*) FILTER (WHERE colour = 'red') FROM card WHERE unit_id = ANY(:ids)"
                " AND (CAST(:start AS timestamptz) IS NULL OR at >= :start)"
                " AND (CAST(:end AS timestamptz) IS NULL OR at < :end) GROUP BY unit_id"
            ),
            {"ids": ids, "start": start, "end": end},
        )
    }
    sent = {
        r[0]: int(r[1])
        for r in await s.execute(
            text(
                "SELECT i.lead_unit, count(*) FROM entry e JOIN item i ON i.id = e.item_id"
                " WHERE i.lead_unit = ANY(:ids) AND e.payload->>'action' = 'send_back'"
                " AND (CAST(:start AS timestamptz) IS NULL OR e.at >= :start)"
                " AND (CAST(:end AS timestamptz) IS NULL OR e.at < :end) GROUP BY i.lead_unit"
            ),
            {"ids": ids, "start": start, "end": end},
        )
    }
    cal = await ctx.calendar(s)
    spans: dict[str, list[int]] = {}
    for r in await s.execute(
        text(
            "SELECT u.unit_id, i.assigned_at, i.finished_at FROM item_unit u JOIN item i ON i.id = u.item_id"
            " WHERE u.unit_id = ANY(:ids) AND i.status = 'closed'"
            " AND (CAST(:start AS timestamptz) IS NULL OR i.finished_at >= :start)"
            " AND (CAST(:end AS timestamptz) IS NULL OR i.assigned_at < :end)"
        ),
        {"ids": ids, "start": start, "end": end},
    ):
        spans.setdefault(r[0], []).append(cal.workdays_between(r[1], r[2]))
    out = []
    for u in units:
        a = agg.get(u["id"])
        closed = int(a["closed"]) if a else 0
        y, r = cards.get(u["id"], (0, 0))
        done = spans.get(u["id"])
        out.append(
            UnitStats(
                unit_id=u["id"],
                unit_path=u["path"],
                unit_name=u["name"],
                items=int(a["items"]) if a else 0,
                lead_items=int(a["lead_items"]) if a else 0,
                closed=closed,
                overdue=int(a["overdue"]) if a else 0,
                on_time_rate=(int(a["on_time"]) / closed) if a and closed else None,
                yellow_cards=y,
                red_cards=r,
                sent_back=sent.get(u["id"], 0),
                avg_workdays_to_close=round(sum(done) / len(done), 2) if done else None,
            )
        )
    return {"items": out, "next": encode_cursor(units[-1]["id"]) if more and units else None}


def _bounds(period: str | None) -> tuple[datetime | None, datetime | None]:
    if period is None:
        return None, None
    return item_repo.period_bounds(period)


async def timeline_verify(s: AsyncSession, caller: Caller, item_id: str) -> TimelineVerify:
    """Recompute the item's chain: the first entry whose content or link does not fit breaks it."""
    caller.require(Role.supervisor, Role.leader, Role.assessment_office, Role.system)
    await load(s, caller, item_id)
    rows = await records.entries(s, item_id)
    v = verify(ChainEntry(dict(r["payload"]), r["prev_hash"], r["hash"]) for r in rows)
    broken = rows[v.broken_at]["seq"] if v.broken_at is not None else None
    return TimelineVerify(item_id=item_id, ok=v.ok, entries=len(rows), broken_at=broken, reason=v.reason)
