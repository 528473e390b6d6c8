"""A calendar correction mapped onto stored next checks equals a full re-evaluation (domain.recalc)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kaohe.workdays import Override
from services.supervision.domain import CardPolicy, assess, evaluate
from services.supervision.domain.recalc import Correction

from .builders import CAL, ITEM, at, steps, timeline

POLICY = CardPolicy(red_overdue_workdays=5)


def checks(entries, cal, now):
    board = evaluate(ITEM, entries=entries, calendar=cal, now=now)
    return assess(ITEM, board=board, calendar=cal, policy=POLICY, now=now)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(steps, max_size=20),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=1, max_value=60),
    st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=3, unique=True),
)
def test_the_mapped_next_check_is_the_re_evaluated_one(raw, wait: int, ahead: int, more: list[int]) -> None:
    entries, last = timeline(raw)
    now = last + timedelta(days=wait, hours=3)
    today = CAL.local_day(now)
    days = [today + timedelta(days=ahead + k) for k in more]  # every changed day after today
    new = CAL.with_overrides(Override(d, not CAL.is_workday(d), "更正") for d in days)
    before = checks(entries, CAL, now)
    after = checks(entries, new, now)
    fix = Correction(CAL, new, since=min(days))
    assert fix.applies(today)
    if before.recomputable:
        assert fix.next_check(before.next_counted, before.next_anchor) == (
            after.next_check,
            after.next_counted,
        )


def test_a_holiday_moves_a_counted_due_and_leaves_a_later_deadline_on_its_day() -> None:
    # 签收 due Tue 3 Mar (1 working day from Mon 2 Mar); the deadline Tue 31 Mar
    entries, _ = timeline([])
    now = at(date(2026, 3, 2), 12)
    new = CAL.with_overrides([Override(date(2026, 3, 3), False, "地方调休")])
    before, after = checks(entries, CAL, now), checks(entries, new, now)
    assert before.next_check == at(date(2026, 3, 3), 18) and after.next_check == at(date(2026, 3, 4), 18)
    fix = Correction(CAL, new, since=date(2026, 3, 3))
    assert fix.next_check(before.next_counted, before.next_anchor)[0] == after.next_check
    assert fix.anchored(date(2026, 3, 31)) == at(date(2026, 3, 31), 18)
    assert not fix.applies(date(2026, 3, 3))  # a correction of today is replayed, not mapped
