"""Working-day arithmetic on the 2025/2026 notices' 调休 dates, provisional years, overrides, properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaohe.workdays import CHINA_TZ, CalendarRangeError, Override, WorkdayCalendar, official_calendar

CAL = official_calendar()


def at(d: date, hh: int = 10, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), CHINA_TZ)


def test_make_up_weekend_counts_and_holiday_weekday_does_not() -> None:
    assert CAL.is_workday(date(2025, 1, 26))  # Sunday worked for the 2025 Spring Festival
    assert CAL.is_workday(date(2026, 2, 14))  # Saturday worked for the 2026 Spring Festival
    assert CAL.is_workday(date(2025, 10, 11))  # Saturday worked for National Day 2025
    assert not CAL.is_workday(date(2025, 1, 28))  # Tuesday, 除夕 2025 is a statutory day off
    assert not CAL.is_workday(date(2026, 2, 23))  # Monday, last day of the 2026 Spring Festival break
    assert not CAL.is_workday(date(2025, 10, 8))  # Wednesday inside the National Day break
    assert not CAL.is_workday(date(2026, 3, 7))  # an ordinary Saturday
    assert CAL.is_workday(date(2026, 3, 9))  # an ordinary Monday
    assert CAL.describe(date(2026, 2, 14)) == "Spring Festival"


def test_spring_festival_2026_is_not_24h_times_n() -> None:
    start = at(date(2026, 2, 13), 17, 59)  # Friday before the break
    one = CAL.add_workdays(start, 1)
    assert one.day == date(2026, 2, 14)  # the make-up Saturday
    assert one.at == datetime(2026, 2, 14, 18, 0, tzinfo=CHINA_TZ)
    assert not one.provisional and one.calendar_version == CAL.version
    assert CAL.add_workdays(start, 2).day == date(2026, 2, 24)  # Feb 15–23 off
    assert CAL.workdays_between(date(2026, 2, 13), date(2026, 2, 28)) == 6  # 14, 24, 25, 26, 27, 28 (Sat)


def test_national_day_2025() -> None:
    assert CAL.add_workdays(date(2025, 9, 30), 1).day == date(2025, 10, 9)
    assert CAL.add_workdays(date(2025, 9, 30), 3).day == date(2025, 10, 11)  # Saturday worked
    assert CAL.add_workdays(date(2025, 9, 27), 1).day == date(2025, 9, 28)  # Sunday worked


def test_start_hour_does_not_matter_and_zero_means_same_or_next_working_day() -> None:
    assert CAL.add_workdays(at(date(2026, 3, 9), 0, 1), 1) == CAL.add_workdays(
        at(date(2026, 3, 9), 23, 59), 1
    )
    assert CAL.add_workdays(date(2026, 3, 9), 0).day == date(2026, 3, 9)
    assert CAL.add_workdays(date(2026, 10, 1), 0).day == date(2026, 10, 8)  # a deadline on a holiday moves on
    assert CAL.add_workdays(date(2026, 10, 8), -1).day == date(2026, 9, 30)


def test_a_utc_moment_is_read_on_the_china_day() -> None:
    assert CAL.local_day(datetime(2026, 2, 13, 15, 59, tzinfo=UTC)) == date(2026, 2, 13)  # 23:59 in Beijing
    assert CAL.local_day(datetime(2026, 2, 13, 16, 0, tzinfo=UTC)) == date(2026, 2, 14)
    with pytest.raises(ValueError):
        CAL.add_workdays(datetime(2026, 2, 13, 10), 1)  # naive


def test_overdue_counts_whole_working_days() -> None:
    due = CAL.add_workdays(date(2026, 2, 12), 1)  # Friday Feb 13, 18:00
    assert CAL.overdue_workdays(due.at, at(date(2026, 2, 13), 20)) == 0
    assert CAL.overdue_workdays(due.at, at(date(2026, 2, 14), 17)) == 0  # make-up Saturday not over yet
    assert CAL.overdue_workdays(due.at, at(date(2026, 2, 14), 18)) == 1
    assert CAL.overdue_workdays(due.at, at(date(2026, 2, 23), 12)) == 1  # the break does not count
    assert CAL.overdue_workdays(due.at, at(date(2026, 2, 24), 18)) == 2


def test_uncovered_year_is_provisional_weekends_only() -> None:
    last = max(CAL.covered_years)
    assert CAL.covered(2026) and not CAL.covered(last + 1)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(last + 1, 3, 1))  # the package's own word
    assert not CAL.add_workdays(date(2026, 12, 1), 1).provisional
    crossing = CAL.add_workdays(date(2026, 12, 30), 2)  # Dec 31, then Jan 1 2027 (a Friday)
    assert crossing.day == date(2027, 1, 1) and crossing.provisional  # no notice yet: only weekends are off
    assert CAL.provisional(date(2027, 6, 1)) and not CAL.provisional(date(2026, 6, 1))
    assert not CAL.is_workday(date(2027, 1, 2)) and CAL.is_workday(date(2027, 1, 4))


def test_out_of_range_is_refused() -> None:
    with pytest.raises(CalendarRangeError):
        CAL.add_workdays(date(1999, 12, 31), 1)
    with pytest.raises(CalendarRangeError):
        CAL.add_workdays(date(2099, 12, 31), 5)


def test_local_overrides_layer_on_top_and_change_the_version() -> None:
    city = CAL.with_overrides(
        [
            Override(date(2026, 3, 9), workday=False, reason="全市停电检修, 市政府办通知"),
            Override(date(2026, 3, 7), workday=True, reason="补班"),
            Override(date(2027, 1, 1), workday=False, reason="元旦 (pending the national notice)"),
        ]
    )
    assert not city.is_workday(date(2026, 3, 9)) and city.is_workday(date(2026, 3, 7))
    assert not city.is_workday(date(2027, 1, 1)) and city.provisional(date(2027, 1, 1))
    assert city.version != CAL.version
    assert CAL.is_workday(date(2026, 3, 9))  # the national calendar is untouched
    assert city.add_workdays(date(2026, 3, 6), 1).day == date(2026, 3, 7)
    same = CAL.with_overrides([Override(date(2026, 3, 9), workday=True, reason="already a working day")])
    assert same.version == CAL.version  # an override that changes nothing changes no deadline
    with pytest.raises(ValueError, match="conflicting"):
        CAL.with_overrides([Override(date(2026, 3, 9), True, "a"), Override(date(2026, 3, 9), False, "b")])


def test_end_of_day_is_configurable_and_part_of_the_version() -> None:
    late = WorkdayCalendar(
        days_off=(), extra_workdays=(), covered_years=range(2026, 2027), end_of_day=time(17, 30)
    )
    assert late.add_workdays(date(2026, 3, 9), 1).at == datetime(2026, 3, 10, 17, 30, tzinfo=CHINA_TZ)
    plain = WorkdayCalendar(days_off=(), extra_workdays=(), covered_years=range(2026, 2027))
    assert late.version != plain.version


days = st.dates(min_value=date(2004, 1, 1), max_value=date(2030, 12, 31))
counts = st.integers(min_value=0, max_value=400)


@given(days)
def test_agrees_with_the_package_on_covered_years(d: date) -> None:
    if CAL.covered(d.year):
        assert CAL.is_workday(d) == chinese_calendar.is_workday(d)
    else:
        assert CAL.is_workday(d) == (d.weekday() < 5)


@given(days, st.integers(min_value=-30, max_value=60))
def test_equals_stepping_day_by_day(start: date, n: int) -> None:
    d, left = start, n
    if n > 0:
        while left:
            d += timedelta(days=1)
            left -= CAL.is_workday(d)
    elif n == 0:
        while not CAL.is_workday(d):
            d += timedelta(days=1)
    else:
        while not CAL.is_workday(d):
            d += timedelta(days=1)
        while left:
            d -= timedelta(days=1)
            left += CAL.is_workday(d)
    assert CAL.add_workdays(start, n).day == d


@given(days, st.integers(min_value=1, max_value=400))
def test_add_then_count_round_trips(start: date, n: int) -> None:
    due = CAL.add_workdays(start, n)
    assert CAL.is_workday(due.day)
    assert CAL.workdays_between(start, due.day) == n
    assert CAL.workdays_between(due.day, start) == -n


@given(days, days, counts, counts)
def test_monotone(a: date, b: date, m: int, n: int) -> None:
    (a, b), (m, n) = sorted((a, b)), sorted((m, n))
    assert CAL.add_workdays(a, n).day <= CAL.add_workdays(b, n).day
    assert CAL.add_workdays(a, m).day <= CAL.add_workdays(a, n).day
    if m >= 1 and m < n:
        assert CAL.add_workdays(a, m).day < CAL.add_workdays(a, n).day


@given(days, st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=60 * 24 * 60))
def test_overdue_threshold_is_the_added_due(due_day: date, k: int, minutes: int) -> None:
    due = CAL.add_workdays(due_day, 0)
    now = due.at + timedelta(minutes=minutes)
    assert (CAL.overdue_workdays(due.at, now) >= k) == (now >= CAL.add_workdays(due.day, k).at)
