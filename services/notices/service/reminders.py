"""填报截止提醒 (deadline reminders): on a month's reminder day, the reporters of units that have not handed
in every leaf hear of it — once per scheme, month and recipient, however often the sweep runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from kaohe.contracts.notices import PushedNotice
from services.notices.domain import deadlines, rules
from services.notices.repository import filing
from services.notices.service.fanout import Timing, deliver


@dataclass(frozen=True)
class Policy:
    due_workdays: int
    remind_workdays: int


async def sweep(
    c: asyncpg.Connection, *, now: datetime, timing: Timing, policy: Policy
) -> list[PushedNotice]:
    """Reminders due today (China time) for the current schemes of this year and the last."""
    today = timing.cal.local_day(now)
    pushed: list[PushedNotice] = []
    for year in (today.year - 1, today.year):
        due = deadlines.reminders_due(
            year, today, timing.cal, due_workdays=policy.due_workdays, remind_workdays=policy.remind_workdays
        )
        if not due:
            continue
        for scheme_id in await filing.current_schemes(c, year):
            expected, names = await filing.expected(c, scheme_id)
            for d in due:
                gaps = deadlines.missing(expected, await filing.filed(c, scheme_id, d.period))
                if gaps:
                    draft = rules.reminder(scheme_id, d, gaps, names)
                    pushed += (await deliver(c, draft, now=now, timing=timing)).pushed
    return pushed
