"""A late deadline or part is checked again at the end of every working day it stays late (issue 12): its
overdue working days — and so the charged unit's score — go up then, without any transition."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.supervision.domain import (
    Action,
    Assessment,
    CardPolicy,
    ClockKind,
    Command,
    assess,
    evaluate,
    next_overdue_day,
    replay,
)

from .builders import BASE, CAL, ITEM, at, coop, lead, office, steps, timeline

QUIET = CardPolicy(red_overdue_workdays=None)  # no red threshold: only the daily step is left to see


def assessed(cmds: list[Command], now: datetime, policy: CardPolicy = QUIET) -> Assessment:
    _, entries = replay(ITEM, commands=sorted(cmds, key=lambda c: c.at))
    board = evaluate(ITEM, entries=entries, calendar=CAL, now=now)
    return assess(ITEM, board=board, calendar=CAL, policy=policy, now=now)


def part_days(a: Assessment) -> int:
    (b,) = [b for b in a.breaches if b.kind is ClockKind.PART]
    return b.overdue_workdays


def test_a_late_part_is_checked_at_the_end_of_each_working_day_skipping_the_weekend() -> None:
    late = BASE  # COOP's part was due Fri 03-20 and has not arrived
    first = assessed(late, at(date(2026, 3, 23), 9))
    assert part_days(first) == 0 and first.next_check == at(date(2026, 3, 23), 18)
    monday = assessed(late, at(date(2026, 3, 23), 18, 30))
    assert part_days(monday) == 1 and monday.next_check == at(date(2026, 3, 24), 18)
    friday = assessed(late, at(date(2026, 3, 27), 19))  # 23–27: five working days
    assert part_days(friday) == 5 and friday.next_check == at(date(2026, 3, 30), 18)  # Sat/Sun skipped
    # the progress clock (next due 03-31 18:00 after the 03-17 report… met 03-30) is later than each step
    assert all(a.board.next_due is None or a.board.next_due > a.next_check for a in (first, monday, friday))


def test_no_daily_check_once_the_part_arrived() -> None:
    arrived = coop(Action.SUBMIT_PART, at(date(2026, 3, 25)), evidence=("s3://e/coop.pdf",))
    now = at(date(2026, 3, 25), 19)
    a = assessed([*BASE, arrived], now)
    (b,) = [b for b in a.breaches if b.kind is ClockKind.PART]
    assert b.overdue_workdays == 2 and b.clock is not None  # 03-23, 03-24; it arrived 03-25 10:00
    assert next_overdue_day(b.clock, calendar=CAL, now=now) is None
    assert a.next_check == a.board.next_due == at(date(2026, 3, 31), 18)  # only the clocks still running


def test_an_approved_pause_stops_the_daily_check_and_resuming_starts_it_again() -> None:
    pause = [
        lead(Action.REQUEST_PAUSE, at(date(2026, 3, 24)), reason="待省厅审批"),
        office(Action.APPROVE_PAUSE, at(date(2026, 3, 24), 11), reason="确需等待"),
    ]
    now = at(date(2026, 3, 25), 19)
    paused = assessed([*BASE[:5], *pause], now)
    (b,) = [b for b in paused.breaches if b.kind is ClockKind.PART]
    assert b.clock is not None and next_overdue_day(b.clock, calendar=CAL, now=now) is None
    resume = office(Action.RESUME, at(date(2026, 3, 27), 9), reason="批复已下达")
    now = at(date(2026, 3, 27), 10)
    a = assessed([*BASE[:5], *pause, resume], now)
    (b,) = [b for b in a.breaches if b.kind is ClockKind.PART]
    # late 03-23 and 03-24 counted, (03-24, 03-27] paused (03-27 too, once it ends): 03-30 counts next
    assert b.overdue_workdays == 2
    assert next_overdue_day(b.clock, calendar=CAL, now=now) == at(date(2026, 3, 30), 18)  # type: ignore[arg-type]
    for t, days in [
        (at(date(2026, 3, 27), 19), 2),
        (at(date(2026, 3, 30), 17), 2),
        (at(date(2026, 3, 30), 19), 3),
    ]:
        assert part_days(assessed([*BASE[:5], *pause, resume], t)) == days  # never down, up once a day


@settings(max_examples=150, deadline=None)
@given(st.lists(steps, max_size=25), st.integers(min_value=0, max_value=60 * 24 * 40))
def test_nothing_a_score_reads_changes_before_next_check(raw, minutes: int) -> None:
    entries, last = timeline(raw)
    now = last + timedelta(minutes=minutes)

    def view(t: datetime) -> tuple[Assessment, dict[str, int]]:
        board = evaluate(ITEM, entries=entries, calendar=CAL, now=t)
        a = assess(ITEM, board=board, calendar=CAL, policy=CardPolicy(), now=t)
        return a, {b.key: b.overdue_workdays for b in a.breaches if b.carded}

    a, days = view(now)
    if a.next_check is None:
        later, days_later = view(now + timedelta(days=400))
        assert days_later == days and later.cards == a.cards
        return
    assert a.next_check > now
    before, days_before = view(a.next_check - timedelta(seconds=1))
    assert days_before == days and before.cards == a.cards  # nothing moved in between: no check was due
    _, days_after = view(a.next_check + timedelta(days=3))
    assert all(days_after.get(k, 0) >= n for k, n in days.items())  # overdue days never go back
