"""When a notice may go out (发送时间): urgent at once; others in working hours on working days, outside
the recipient's quiet hours (免打扰), on the same working-day calendar as supervision (kaohe.workdays).

Pure: every function takes the moment it reasons about; nothing reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from kaohe.workdays import WorkdayCalendar

MAX_DAYS = 60  # the longest run of rest days (Spring Festival with weekends) is far shorter


@dataclass(frozen=True, slots=True)
class Window:
    """Working hours [start, end) of a working day, China time."""

    start: time = time(9, 0)
    end: time = time(18, 0)

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("working hours: start must be before end")


@dataclass(frozen=True, slots=True)
class Quiet:
    """免打扰: [start, end) China time; wraps midnight when end ≤ start (22:00–07:00)."""

    start: time
    end: time

    def holds(self, t: time) -> bool:
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


def send_at(
    now: datetime, *, urgent: bool, cal: WorkdayCalendar, window: Window, quiet: Quiet | None = None
) -> datetime:
    """The first moment ≥ `now` a notice may be sent (an aware datetime in the calendar's zone).

    Urgent: `now`. Otherwise a working day's working hours, outside quiet hours; quiet hours that cover a
    whole working day's hours are ignored for that day rather than holding the notice forever.
    """
    if urgent:
        return now
    t = now.astimezone(cal.tz)
    for _ in range(MAX_DAYS):
        day = t.date()
        open_, close = (datetime.combine(day, h, cal.tz) for h in (window.start, window.end))
        if cal.is_workday(day) and t < close:
            t = max(t, open_)
            if quiet is None:
                return t
            found = _outside(t, close, quiet, cal)
            if found is not None:
                return found
            if _all_quiet(open_, close, quiet, cal):
                return t  # nothing of this day is outside quiet hours: the day's hours win
        t = datetime.combine(day + timedelta(days=1), time(0), cal.tz)
    raise ValueError(f"no working hours within {MAX_DAYS} days of {now.isoformat()}")


def _outside(t: datetime, close: datetime, quiet: Quiet, cal: WorkdayCalendar) -> datetime | None:
    """The first moment in [t, close) outside quiet hours, or None."""
    if not quiet.holds(t.timetz().replace(tzinfo=None)):
        return t
    end = datetime.combine(t.date(), quiet.end, cal.tz)
    if end <= t:
        end += timedelta(days=1)
    return end if end < close else None


def _all_quiet(open_: datetime, close: datetime, quiet: Quiet, cal: WorkdayCalendar) -> bool:
    return _outside(open_, close, quiet, cal) is None
