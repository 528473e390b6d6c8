"""Fan-out (分发): a draft's inbox rows for every recipient, their email deliveries timed by the rules of
domain/timing, and the live push — set-based, so a warning wave reaches ten thousand inboxes in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import asyncpg

from kaohe.contracts.notices import PushedNotice
from kaohe.workdays import WorkdayCalendar
from services.notices.domain.rules import Draft
from services.notices.domain.timing import Quiet, Window, send_at
from services.notices.repository import deliveries, notices


@dataclass(frozen=True)
class Timing:
    """The calendar and working hours email deliveries are timed on."""

    cal: WorkdayCalendar
    window: Window


@dataclass
class Outcome:
    stored: int
    emails: int
    pushed: list[PushedNotice]


async def deliver(c: asyncpg.Connection, d: Draft, *, now: datetime, timing: Timing) -> Outcome:
    """Store the draft for its audience (once per recipient) and schedule the emails it calls for."""
    rows = await notices.fan_out(c, d, now)
    return await _follow(c, rows, now=now, timing=timing, draft=d)


async def deliver_many(
    c: asyncpg.Connection, drafts: list[Draft], *, now: datetime, timing: Timing
) -> Outcome:
    """`deliver` for many drafts: single-unit ones in one statement (a warning wave), others one by one."""
    many = [d for d in drafts if notices.single_unit(d)]
    out = Outcome(0, 0, [])
    if many:
        out = await _wave(c, many, now=now, timing=timing)
    for d in drafts:
        if not notices.single_unit(d):
            one = await deliver(c, d, now=now, timing=timing)
            out = Outcome(out.stored + one.stored, out.emails + one.emails, out.pushed + one.pushed)
    return out


async def _wave(c: asyncpg.Connection, drafts: list[Draft], *, now: datetime, timing: Timing) -> Outcome:
    """Single-unit drafts: rows and deliveries in one statement; only quiet-hours recipients re-timed."""
    plain = send_at(now, urgent=False, cal=timing.cal, window=timing.window)
    rows = await notices.fan_out_many(c, drafts, now, plain)
    later: list[tuple[int, datetime]] = []
    memo: dict[tuple[time, time], datetime] = {}
    pushed = []
    emails = 0
    for r in rows:
        pushed.append(
            PushedNotice(
                notice_id=str(r["id"]),
                user_id=r["user_id"],
                rule=r["rule"],
                title=r["title"],
                urgent=r["urgent"],
                created_at=now,
                unit_id=r["unit_id"],
                unit_path=r["unit_path"],
            )
        )
        if not r["mail"]:
            continue
        emails += 1
        if r["urgent"] or r["quiet_start"] is None or r["quiet_end"] is None:
            continue
        key = (r["quiet_start"], r["quiet_end"])
        at = memo.get(key)
        if at is None:
            at = memo[key] = send_at(
                now, urgent=False, cal=timing.cal, window=timing.window, quiet=Quiet(*key)
            )
        if at != plain:
            later.append((r["id"], at))
    await deliveries.retime(c, later)
    return Outcome(len(rows), emails, pushed)


async def _follow(
    c: asyncpg.Connection, rows: list[asyncpg.Record], *, now: datetime, timing: Timing, draft: Draft
) -> Outcome:
    """One draft's new rows: their email deliveries (timed per quiet hours) and their push items."""
    emails: list[tuple[int, str, str | None, datetime]] = []
    memo: dict[tuple[time | None, time | None], datetime] = {}
    pushed = [
        PushedNotice(
            notice_id=str(r["id"]),
            user_id=r["user_id"],
            rule=draft.rule,
            title=draft.title,
            urgent=draft.urgent,
            created_at=now,
            unit_id=r["unit_id"],
            unit_path=r["unit_path"],
        )
        for r in rows
    ]
    for r in rows:
        if "email" not in r["channels"] or not r["email"]:
            continue
        key = (r["quiet_start"], r["quiet_end"])
        at = memo.get(key)
        if at is None:
            quiet = Quiet(*key) if key[0] is not None and key[1] is not None else None  # type: ignore[arg-type]
            at = memo[key] = send_at(
                now, urgent=draft.urgent, cal=timing.cal, window=timing.window, quiet=quiet
            )
        emails.append((r["id"], r["user_id"], r["unit_path"], at))
    await deliveries.add(c, emails)
    return Outcome(len(rows), len(emails), pushed)
