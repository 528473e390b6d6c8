"""When a notice may go out: working hours of working days (调休 included), quiet hours, urgency."""

from datetime import date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kaohe.workdays import CHINA_TZ, official_calendar
from services.notices.domain.timing import Quiet, Window, send_at

CAL = official_calendar()
WIN = Window(time(9), time(18))


def at(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CHINA_TZ)


def test_urgent_goes_at_once_even_at_night_on_a_holiday() -> None:
    now = at(2026, 10, 3, 2)  # 国庆, 02:00
    assert send_at(now, urgent=True, cal=CAL, window=WIN, quiet=Quiet(time(22), time(8))) == now


def test_non_urgent_on_a_holiday_waits_for_the_first_working_day() -> None:
    assert not CAL.is_workday(date(2026, 10, 3))
    assert send_at(at(2026, 10, 3, 10), urgent=False, cal=CAL, window=WIN) == at(2026, 10, 8, 9)


def test_after_hours_on_friday_before_a_tiaoxiu_saturday_goes_out_on_the_saturday() -> None:
    assert CAL.is_workday(date(2026, 10, 10)) and date(2026, 10, 10).weekday() == 5  # 调休上班
    assert send_at(at(2026, 10, 9, 19), urgent=False, cal=CAL, window=WIN) == at(2026, 10, 10, 9)


def test_after_hours_on_an_ordinary_friday_waits_for_monday() -> None:
    assert send_at(at(2026, 12, 11, 19), urgent=False, cal=CAL, window=WIN) == at(2026, 12, 14, 9)


def test_quiet_hours_inside_the_working_day_move_the_notice_to_their_end() -> None:
    quiet = Quiet(time(9, 30), time(11))
    assert send_at(at(2026, 12, 9, 10), urgent=False, cal=CAL, window=WIN, quiet=quiet) == at(2026, 12, 9, 11)
    assert send_at(at(2026, 12, 9, 9, 10), urgent=False, cal=CAL, window=WIN, quiet=quiet) == at(
        2026, 12, 9, 9, 10
    )


def test_quiet_hours_to_the_end_of_the_day_move_it_to_the_next_working_day() -> None:
    quiet = Quiet(time(17), time(10))  # wraps midnight
    assert send_at(at(2026, 12, 9, 17, 30), urgent=False, cal=CAL, window=WIN, quiet=quiet) == at(
        2026, 12, 10, 10
    )


def test_quiet_hours_covering_every_working_hour_do_not_hold_a_notice_forever() -> None:
    quiet = Quiet(time(8), time(19))
    assert send_at(at(2026, 12, 9, 10), urgent=False, cal=CAL, window=WIN, quiet=quiet) == at(2026, 12, 9, 10)


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31)),
    st.times(),
    st.integers(min_value=1, max_value=23 * 60),
)
def test_a_non_urgent_time_is_a_working_moment_outside_quiet_hours_and_not_before_now(
    naive: datetime, start: time, minutes: int
) -> None:
    now = naive.replace(tzinfo=CHINA_TZ)
    end = (datetime.combine(date(2026, 1, 1), start) + timedelta(minutes=minutes)).time()
    quiet = Quiet(start, end) if end != start else None
    t = send_at(now, urgent=False, cal=CAL, window=WIN, quiet=quiet)
    assert t >= now
    assert CAL.is_workday(t.date()) and WIN.start <= t.time() < WIN.end
    if quiet is not None and t.replace(hour=WIN.start.hour, minute=WIN.start.minute) != t:
        # outside quiet hours unless quiet hours cover the whole working day (then the day's hours win)
        covered = all(quiet.holds(time(h, m)) for h in range(9, 18) for m in (0, 30))
        assert covered or not quiet.holds(t.time())
