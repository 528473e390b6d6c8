"""Working-day calendar (工作日历): China's public holidays, make-up working days (调休) and local overrides.

Basis: the State Council's yearly notice on the holiday arrangement
(国务院办公厅关于XXXX年部分节假日安排的通知, under 《全国年节及纪念日放假办法》) names the days off and
the weekend days worked in their place; the `chinese-calendar` package carries those notices as data. Years
it does not cover yet are **provisional**: only weekends are days off there, and every result that touches
such a year says so, so a deadline can be recomputed when the year's notice is added.
A city's own day off or extra working day is an `Override`.

Counting rule (民法典 第二百零一条、第二百零三条: the start day is not counted; a period whose last day is a
rest day ends on the next working day; the period ends when business stops that day):
- `add_workdays(start, n)` with n ≥ 1 falls due at `end_of_day` (default 18:00 Asia/Shanghai) of the Nth
  working day after the start's calendar day, whatever the hour of the start. n = 0 is the first working
  day on or after the start's day (a deadline date that falls on a holiday moves to the next working day);
  n < 0 counts back.
- `workdays_between(a, b)` is the number of working days d with a < d ≤ b (negative when b < a), so
  `workdays_between(s, add_workdays(s, n).day) == n` for n ≥ 1.
- `overdue_workdays(due, now)` counts the working days *whole* past `due`: it is ≥ k exactly when
  `now ≥ add_workdays(due, k).at`.
Never "24 h × N": a clock started on the eve of the Spring Festival does not fall due during it.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import cache, cached_property

# China has kept UTC+8 without daylight saving since 1991: a fixed offset is exact for every supported year
# and needs no tz database in a slim container.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
FIRST_YEAR, LAST_YEAR = 2000, 2099  # the span a calendar indexes; government deadlines stay well inside it
DEFAULT_END_OF_DAY = time(18, 0)  # 下班时间: a due day ends when offices close


class CalendarRangeError(ValueError):
    """A date outside the years the calendar indexes."""


@dataclass(frozen=True, slots=True)
class Override:  # 地方调整
    """A local change on top of the national calendar: `workday=False` a day off, True a working day."""

    day: date
    workday: bool
    reason: str  # the basis, e.g. "晋城市政府办公室通知 2026-05-12"


@dataclass(frozen=True, slots=True)
class Due:  # 时限
    """When a clock falls due, on which calendar, and whether a year it crossed is still provisional."""

    at: datetime
    day: date
    provisional: bool
    calendar_version: str


def _ordinal_span() -> tuple[int, int]:
    return date(FIRST_YEAR, 1, 1).toordinal(), date(LAST_YEAR, 12, 31).toordinal()


def _is_weekend(d: date) -> bool:
    return d.weekday() >= 5


class WorkdayCalendar:  # 工作日历
    """An immutable, versioned working-day calendar; build it with `official_calendar` or `with_overrides`."""

    def __init__(
        self,
        *,
        days_off: Iterable[date],
        extra_workdays: Iterable[date],
        covered_years: Iterable[int],
        overrides: Iterable[Override] = (),
        end_of_day: time = DEFAULT_END_OF_DAY,
        tz: tzinfo = CHINA_TZ,
        names: Mapping[date, str] | None = None,
        source: str = "",
    ) -> None:
        self.covered_years: frozenset[int] = frozenset(covered_years)
        self.overrides: tuple[Override, ...] = tuple(sorted(overrides, key=lambda o: o.day))
        self.end_of_day, self.tz, self.source = end_of_day, tz, source
        self._names = dict(names or {})
        seen: dict[date, bool] = {}
        for o in self.overrides:
            if seen.get(o.day, o.workday) != o.workday:
                raise ValueError(f"conflicting overrides for {o.day.isoformat()}")
            seen[o.day] = o.workday
        # Only the days that differ from the weekend rule are kept: that is the calendar's whole content.
        off = {d for d in days_off if not _is_weekend(d) and d.year in self.covered_years}
        work = {d for d in extra_workdays if _is_weekend(d) and d.year in self.covered_years}
        for day, is_work in seen.items():
            off.discard(day)
            work.discard(day)
            if is_work and _is_weekend(day):
                work.add(day)
            elif not is_work and not _is_weekend(day):
                off.add(day)
        self._off: frozenset[date] = frozenset(off)
        self._work: frozenset[date] = frozenset(work)
        self._memo: dict[tuple[date, int], Due] = {}  # results are immutable: safe to share

    # -- identity -------------------------------------------------------------------------------------
    @cached_property
    def version(self) -> str:
        """A content hash: equal calendars (same days, coverage, end of day and zone) share a version."""
        offset = datetime.combine(date(2026, 1, 1), self.end_of_day, self.tz).utcoffset()
        content = {
            "off": sorted(d.isoformat() for d in self._off),
            "work": sorted(d.isoformat() for d in self._work),
            "covered": sorted(self.covered_years),
            "end_of_day": self.end_of_day.isoformat(),
            "utc_offset": str(offset),
        }
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        return digest[:16]

    def with_overrides(self, overrides: Iterable[Override]) -> WorkdayCalendar:
        """A new calendar (new version) with `overrides` layered on top of this one's."""
        return WorkdayCalendar(
            days_off=self._off,
            extra_workdays=self._work,
            covered_years=self.covered_years,
            overrides=(*self.overrides, *overrides),
            end_of_day=self.end_of_day,
            tz=self.tz,
            names=self._names,
            source=self.source,
        )

    def with_year(
        self, year: int, *, days_off: Iterable[date], extra_workdays: Iterable[date], source: str = ""
    ) -> WorkdayCalendar:
        """A new calendar (new version) that covers `year` with its notice's days off and make-up days
        (a year the package lacks: entered by hand from the State Council notice; no longer provisional)."""
        mine = [d for d in days_off if d.year == year], [d for d in extra_workdays if d.year == year]
        return WorkdayCalendar(
            days_off=[*(d for d in self._off if d.year != year), *mine[0]],
            extra_workdays=[*(d for d in self._work if d.year != year), *mine[1]],
            covered_years={*self.covered_years, year},
            overrides=self.overrides,
            end_of_day=self.end_of_day,
            tz=self.tz,
            names=self._names,
            source=f"{self.source}; {source}" if source else self.source,
        )

    # -- coverage -------------------------------------------------------------------------------------
    def covered(self, year: int) -> bool:
        """True when the year's national holiday notice is in the calendar (not provisional)."""
        return year in self.covered_years

    def provisional(self, a: date, b: date | None = None) -> bool:
        """True when any year from `a` to `b` (inclusive, either order) is not covered."""
        lo, hi = sorted((a.year, (b or a).year))
        cov = self.covered_years
        return not (lo in cov and hi in cov) or any(y not in cov for y in range(lo + 1, hi))

    # -- days -----------------------------------------------------------------------------------------
    def is_workday(self, d: date) -> bool:
        """True for a working day: a weekday not given off, or a weekend made a working day (调休上班)."""
        if isinstance(d, datetime):
            d = self.local_day(d)
        if d in self._work:
            return True
        return not _is_weekend(d) and d not in self._off

    def describe(self, d: date) -> str | None:
        """The holiday or make-up day's name from the source data (e.g. "Spring Festival"), if any."""
        return self._names.get(d)

    def local_day(self, moment: datetime) -> date:
        """The calendar day of an aware moment in the calendar's zone."""
        if moment.tzinfo is None:
            raise ValueError("naive datetime: pass an aware moment")
        return moment.astimezone(self.tz).date()

    def end_of(self, d: date) -> datetime:
        """The moment day `d` ends for deadlines (`end_of_day` in the calendar's zone)."""
        return datetime.combine(d, self.end_of_day, self.tz)

    @cached_property
    def _ordinals(self) -> array[int]:
        lo, hi = _ordinal_span()
        off = {d.toordinal() for d in self._off}
        work = {d.toordinal() for d in self._work}
        # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the weekday
        return array("l", (o for o in range(lo, hi + 1) if o in work or ((o - 1) % 7 < 5 and o not in off)))

    def _ordinal(self, d: date) -> int:
        if not FIRST_YEAR <= d.year <= LAST_YEAR:
            raise CalendarRangeError(f"{d.isoformat()} is outside {FIRST_YEAR}–{LAST_YEAR}")
        return d.toordinal()

    def _day(self, start: date | datetime) -> date:
        if isinstance(start, datetime):
            if start.tzinfo is None:
                raise ValueError("naive datetime: pass an aware moment")
            return (start if start.tzinfo is self.tz else start.astimezone(self.tz)).date()
        return start

    def add_workdays(self, start: date | datetime, n: int) -> Due:
        """The Nth working day after the start's day, due at its end (see the module's counting rule)."""
        day = self._day(start)
        key = (day, n)
        hit = self._memo.get(key)
        if hit is None:
            ords, s = self._ordinals, self._ordinal(day)
            index = bisect_right(ords, s) + n - 1 if n > 0 else bisect_left(ords, s) + n
            if not 0 <= index < len(ords):
                raise CalendarRangeError(f"{n} working days from {day} leave {FIRST_YEAR}–{LAST_YEAR}")
            due_day = date.fromordinal(ords[index])
            hit = Due(self.end_of(due_day), due_day, self.provisional(day, due_day), self.version)
            if len(self._memo) > 200_000:  # bounded: province-scale recomputes reuse a few thousand keys
                self._memo.clear()
            self._memo[key] = hit
        return hit

    def index_of(self, day: date) -> int:
        """A working day's position in the calendar's sequence of working days (the Nth since 2000-01-01,
        from 0): `add_workdays(start, n)` is the working day at index `index_of` of start's last working day
        plus n. Raises ValueError for a rest day."""
        ords, o = self._ordinals, self._ordinal(day)
        i = bisect_left(ords, o)
        if i == len(ords) or ords[i] != o:
            raise ValueError(f"{day.isoformat()} is not a working day")
        return i

    def workday(self, index: int) -> date:
        """The working day at `index` (see `index_of`)."""
        ords = self._ordinals
        if not 0 <= index < len(ords):
            raise CalendarRangeError(f"working day #{index} is outside {FIRST_YEAR}–{LAST_YEAR}")
        return date.fromordinal(ords[index])

    def workdays_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days d with a < d ≤ b (calendar days of the arguments); negative when b is before a."""
        ords = self._ordinals
        return bisect_right(ords, self._ordinal(self._day(b))) - bisect_right(
            ords, self._ordinal(self._day(a))
        )

    def overdue_workdays(self, due: datetime, now: datetime) -> int:
        """Whole working days elapsed after `due` by `now` (0 until the first working day after it ends)."""
        if now <= due:
            return 0
        today = self.local_day(now)
        count = self.workdays_between(self.local_day(due), today)
        if count and self.is_workday(today) and now < self.end_of(today):
            count -= 1  # today has not ended yet
        return max(count, 0)

    def shift(self, due: Due, n: int) -> Due:
        """`due` moved by n working days (a pause's working days given back), on this calendar."""
        if n == 0:
            return due
        moved = self.add_workdays(due.day, n)
        return Due(moved.at, moved.day, due.provisional or moved.provisional, self.version)


def _probe_coverage(is_workday: object, years: range) -> list[int]:
    out = []
    for y in years:
        try:
            is_workday(date(y, 1, 1))  # type: ignore[operator]
        except NotImplementedError:
            continue
        out.append(y)
    return out


@cache
def official_calendar(*, end_of_day: time = DEFAULT_END_OF_DAY, tz: tzinfo = CHINA_TZ) -> WorkdayCalendar:
    """The national calendar seeded from the `chinese-calendar` package (years it lacks are provisional)."""
    import chinese_calendar

    covered = _probe_coverage(chinese_calendar.is_workday, range(FIRST_YEAR, LAST_YEAR + 1))
    names = {d: str(n) for d, n in {**chinese_calendar.holidays, **chinese_calendar.workdays}.items()}
    return WorkdayCalendar(
        days_off=chinese_calendar.holidays.keys(),
        extra_workdays=chinese_calendar.workdays.keys(),
        covered_years=covered,
        end_of_day=end_of_day,
        tz=tz,
        names=names,
        source=f"chinese-calendar {chinese_calendar.__version__}",
    )
