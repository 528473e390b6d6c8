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
    emails: list[tuple[int, str, str | None, datetime]] = []
    memo: dict[tuple[time | None, time | None], datetime] = {}
    for r in rows:
        if "email" not in r["channels"] or not r["email"]:
            continue
        key = (r["quiet_start"], r["quiet_end"])
        at = memo.get(key)
        if at is None:
            quiet = Quiet(*key) if key[0] is not None and key[1] is not None else None
            at = memo[key] = send_at(now, urgent=d.urgent, cal=timing.cal, window=timing.window, quiet=quiet)
        emails.append((r["id"], r["user_id"], r["unit_path"], at))
    await deliveries.add(c, emails)
    pushed = [
        PushedNotice(
            notice_id=str(r["id"]),
            user_id=r["user_id"],
            rule=d.rule,
            title=d.title,
            urgent=d.urgent,
            created_at=now,
        )
        for r in rows
    ]
    return Outcome(len(rows), len(emails), pushed)
