"""A calendar correction applied to stored sweep indexes without replaying timelines (时限重算).

Every moment an item's next check can be (`clocks.evaluate`, `cards.assess`) is of one of two kinds:
- *counted*: the end of the Nth working day after a day already past when it was computed — 签收, 反馈 and
  推进 clocks counted from an entry, red-card thresholds and overdue days counted from a missed due, the
  lead's grace counted from a delivery, and the working days an approved pause gave back on top;
- *anchored*: the end of the first working day on or after a deadline date (办结时限, 分项时限).
When every day a correction changes lies after today, no counted moment's start is changed, so each keeps
its index in the sequence of working days (`WorkdayCalendar.index_of`) and lands on the new calendar's
working day of that index; an anchored one lands on the new calendar's first working day on or after its
date. Both maps are monotone, so the earliest moment of each kind stays the earliest of its kind, and the
new next check is the earlier of the two mapped moments. A pause that shifted an anchored due mixes the two
rules: such an item (`recomputable` False) and any correction reaching today or earlier go to a full
re-evaluation instead. The unit tests hold this against `evaluate` + `assess` on the corrected calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from kaohe.workdays import WorkdayCalendar


@dataclass
class Correction:  # 日历更正
    old: WorkdayCalendar
    new: WorkdayCalendar
    since: date  # no day before this one differs between the two calendars
    _counted: dict[date, date] = field(default_factory=dict, repr=False)

    def applies(self, today: date) -> bool:
        """Whether stored indexes can be mapped (every changed day lies after `today`)."""
        return self.since > today

    def counted(self, at: datetime) -> datetime:
        """A counted moment (the end of a working day of the old calendar) on the new calendar."""
        day = self.old.local_day(at)
        if day < self.since:
            return at
        moved = self._counted.get(day)
        if moved is None:
            moved = self._counted[day] = self.new.workday(self.old.index_of(day))
        return self.new.end_of(moved)

    def anchored(self, day: date) -> datetime:
        """An anchored moment: the end of the new calendar's first working day on or after `day`."""
        return self.new.add_workdays(day, 0).at

    def next_check(
        self, counted: datetime | None, anchor: date | None
    ) -> tuple[datetime | None, datetime | None]:
        """(next check, next counted moment) on the new calendar, from the stored earliest of each kind."""
        c = self.counted(counted) if counted is not None else None
        a = self.anchored(anchor) if anchor is not None else None
        return min((t for t in (c, a) if t is not None), default=None), c
