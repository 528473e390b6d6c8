"""填报截止 (reporting deadlines) on the working-day calendar: when a month's values are due, when to remind.

A month's values fall due on the `due_workdays`-th working day after it ends (民法典's counting, in
kaohe.workdays: the month's last day is not counted); the reminder goes `remind_workdays` working days
before that day — never "N × 24 h": before a 调休 Saturday the Friday and the Saturday are both working days.
Each scheme brings its own rule (`kaohe.contracts.reporting.Reporting`); `day_zh` names a due day in notices.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from kaohe.workdays import WorkdayCalendar


@dataclass(frozen=True, slots=True)
class Deadline:
    period: str  # YYYY-MM
    due: date  # the last working day to hand in
    remind_on: date  # the working day the reminder goes out


def month_end(period: str) -> date:
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])


def deadline(period: str, cal: WorkdayCalendar, *, due_workdays: int, remind_workdays: int) -> Deadline:
    """The due day of a month's values and the day its reminder goes out."""
    due = cal.add_workdays(month_end(period), due_workdays).day
    return Deadline(period, due, remind_on(due, cal, remind_workdays))


def reminders_due(
    year: int, today: date, cal: WorkdayCalendar, *, due_workdays: int, remind_workdays: int
) -> list[Deadline]:
    """The months of `year` whose reminder day has come and whose due day has not passed (today counted)."""
    out = []
    for month in range(1, 13):
        d = deadline(f"{year}-{month:02d}", cal, due_workdays=due_workdays, remind_workdays=remind_workdays)
        if d.remind_on <= today <= d.due:
            out.append(d)
    return out


WEEKDAY_ZH = "一二三四五六日"


def day_zh(d: date, cal: WorkdayCalendar) -> str:
    """A due day as a notice names it: 2026年10月10日（星期六，调休工作日）."""
    note = ""
    if cal.is_workday(d) and d.weekday() >= 5:
        note = "，调休工作日"
    elif not cal.is_workday(d) and d.weekday() < 5:
        note = "，休息日"
    return f"{d.year}年{d.month}月{d.day}日（星期{WEEKDAY_ZH[d.weekday()]}{note}）"


def remind_on(due: date, cal: WorkdayCalendar, workdays: int) -> date:
    """The working day `workdays` before `due` (the due day itself for 0)."""
    return cal.add_workdays(due, -workdays).day if workdays else due


def missing(
    expected: Mapping[str, Iterable[str]], filed: Mapping[str, Iterable[str]]
) -> dict[str, list[str]]:
    """Per unit, the leaf codes it has not handed in (units with nothing missing are left out)."""
    out = {}
    for unit, codes in expected.items():
        gap = sorted(set(codes) - set(filed.get(unit, ())))
        if gap:
            out[unit] = gap
    return out
