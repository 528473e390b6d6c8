"""填报截止提醒 (deadline reminders): on a month's reminder day, the reporters of units that have not handed
in every leaf hear of it — once per scheme, month and recipient, however often the sweep runs. Each
scheme's own 报送时限 (`Scheme.reporting`, stored with its roster) decides the days."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from kaohe.contracts.notices import PushedNotice
from services.notices.domain import deadlines, rules
from services.notices.repository import filing
from services.notices.service.fanout import Timing, deliver


async def sweep(c: asyncpg.Connection, *, now: datetime, timing: Timing) -> list[PushedNotice]:
    """Reminders due today (China time) for the current schemes of this year and the last."""
    today = timing.cal.local_day(now)
    pushed: list[PushedNotice] = []
    for year in (today.year - 1, today.year):
        for scheme_id, due_workdays, remind_workdays in await filing.current_schemes(c, year):
            due = deadlines.reminders_due(
                year, today, timing.cal, due_workdays=due_workdays, remind_workdays=remind_workdays
            )
            if not due:
                continue
            expected, names = await filing.expected(c, scheme_id)
            for d in due:
                gaps = deadlines.missing(expected, await filing.filed(c, scheme_id, d.period))
                if gaps:
                    draft = rules.reminder(scheme_id, d, gaps, names, timing.cal)
                    pushed += (await deliver(c, draft, now=now, timing=timing)).pushed
    return pushed
