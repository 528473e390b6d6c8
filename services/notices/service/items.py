"""督办事项 in (item.opened|changed|closed): each unit's due day kept for the 时限临近提醒, the changes the
units must act on told to them; and the sweep that reminds each unit before its own due day."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from kaohe.contracts.notices import PushedNotice
from kaohe.contracts.supervision import ItemChanged, ItemClosed, ItemOpened
from services.notices.domain import deadlines, supervision
from services.notices.repository import items
from services.notices.service.fanout import Timing, deliver, deliver_many


async def opened(
    c: asyncpg.Connection, event_id: str, e: ItemOpened, *, now: datetime, timing: Timing, notify: bool
) -> list[PushedNotice]:
    await items.track(
        c,
        item_id=e.item_id,
        number=e.number,
        title=e.title,
        version=e.version,
        status=e.status,
        open_=True,
        deadline=e.deadline,
        unit_ids=e.unit_ids,
        unit_paths=e.unit_paths,
        dues=supervision.unit_dues(e),
    )
    if not notify:
        return []
    return (await deliver(c, supervision.item_opened(event_id, e), now=now, timing=timing)).pushed


async def changed(
    c: asyncpg.Connection, event_id: str, e: ItemChanged, *, now: datetime, timing: Timing, notify: bool
) -> list[PushedNotice]:
    """The item's new state and due days (an approved extension: a new due day, so a new reminder)."""
    lead = e.unit_ids[0] if e.unit_ids else None
    title, before = await items.track(
        c,
        item_id=e.item_id,
        number=e.number,
        title="",
        version=e.version,
        status=e.status,
        open_=True,
        deadline=e.deadline,
        unit_ids=e.unit_ids,
        unit_paths=e.unit_paths,
        dues=supervision.unit_dues(e),
        part_done=e.unit_id if e.action == "submit_part" and e.unit_id and e.unit_id != lead else None,
        new_cycle=e.action == "reopen",
    )
    if not notify:
        return []
    if e.action == "assign":  # 交办 of a draft (an intake, an escalation) to units item.opened did not name
        draft = supervision.item_assigned(event_id, e, title) if before != e.unit_ids else None
    else:
        draft = supervision.item_changed(event_id, e, title, timing.cal)
    if draft is None:
        return []
    return (await deliver(c, draft, now=now, timing=timing)).pushed


async def closed(
    c: asyncpg.Connection, event_id: str, e: ItemClosed, *, now: datetime, timing: Timing, notify: bool
) -> list[PushedNotice]:
    """销号/撤销: no more reminders; the units are told."""
    title, _ = await items.track(
        c,
        item_id=e.item_id,
        number=e.number,
        title="",
        version=e.version,
        status=e.status,
        open_=False,
        deadline=None,
        unit_ids=e.unit_ids,
        unit_paths=e.unit_paths,
        dues=[],
    )
    draft = supervision.item_closed(event_id, e, title) if notify else None
    if draft is None:
        return []
    return (await deliver(c, draft, now=now, timing=timing)).pushed


async def sweep(
    c: asyncpg.Connection, *, now: datetime, timing: Timing, remind_workdays: int
) -> list[PushedNotice]:
    """时限临近提醒 due today (China time): from `remind_workdays` working days before a unit's due day
    until that day, once per (item, unit, due day) however often it runs."""
    cal = timing.cal
    today = cal.local_day(now)
    # a due day whose reminder day has come lies no later than `remind_workdays` working days ahead (a day
    # more for a due day on a rest day); the exact rule is applied below
    hi = (cal.add_workdays(today, remind_workdays).day if remind_workdays else today) + timedelta(days=1)
    rows = await items.due_between(c, supervision.RUNNING, today, hi)
    drafts = [
        supervision.item_due(
            r["item_id"], r["number"], r["title"], r["unit_id"], r["unit_path"], r["lead"], r["due"], cal
        )
        for r in rows
        if deadlines.remind_on(r["due"], cal, remind_workdays) <= today <= r["due"]
    ]
    if not drafts:
        return []
    return (await deliver_many(c, drafts, now=now, timing=timing)).pushed
