"""Working-day clocks: 13710 by hand on real dates, pauses, review holds, extensions, reopen, ladders."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.supervision.domain import (
    Action,
    Board,
    ClockKind,
    ClockState,
    Command,
    Ladder,
    LadderPolicy,
    Priority,
    Source,
    Status,
    evaluate,
    overdue_workdays,
    replay,
)

from .builders import CAL, COOP, LEAD, at, coop, lead, make_item, office, steps, timeline

ITEM = make_item()  # deadline Tue 2026-03-31, the cooperating part Fri 2026-03-20
ASSIGN = office(Action.ASSIGN, at(date(2026, 3, 2)))  # Monday
ACCEPT = lead(Action.ACCEPT, at(date(2026, 3, 3), 17, 59))


def board(cmds: list[Command], now: datetime, item=ITEM, ladder: Ladder | LadderPolicy = Ladder()) -> Board:
    _, entries = replay(item, commands=cmds)
    return evaluate(item, entries=entries, calendar=CAL, ladder=ladder, now=now)


def one(b: Board, kind: ClockKind, seq: int = 1, unit: str = LEAD, cycle: int = 1):
    return next(c for c in b.clocks if (c.kind, c.seq, c.unit_id, c.cycle) == (kind, seq, unit, cycle))


def test_13710_dues_on_the_calendar() -> None:
    b = board([ASSIGN], at(date(2026, 3, 2), 12))
    assert one(b, ClockKind.ACCEPT).due.at == at(date(2026, 3, 3), 18)
    assert one(b, ClockKind.FIRST_FEEDBACK).due.day == date(2026, 3, 5)
    assert one(b, ClockKind.DEADLINE).due.at == at(date(2026, 3, 31), 18)
    assert one(b, ClockKind.PART, unit=COOP).due.day == date(2026, 3, 20)
    assert b.next_due == at(date(2026, 3, 3), 18) and b.status is Status.ASSIGNED
    assert not b.provisional and b.calendar_version == CAL.version


def test_spring_festival_accept_falls_on_the_make_up_saturday() -> None:
    item = make_item(deadline=date(2026, 3, 31))
    b = board([office(Action.ASSIGN, at(date(2026, 2, 13), 16))], at(date(2026, 2, 13), 17), item)
    assert one(b, ClockKind.ACCEPT).due.day == date(2026, 2, 14)
    assert one(b, ClockKind.FIRST_FEEDBACK).due.day == date(2026, 2, 25)  # 14, 24, 25: the break is skipped


def test_accept_on_time_and_late() -> None:
    b = board([ASSIGN, ACCEPT], at(date(2026, 3, 4)))
    assert one(b, ClockKind.ACCEPT).state is ClockState.MET
    late = board([ASSIGN, lead(Action.ACCEPT, at(date(2026, 3, 4), 9))], at(date(2026, 3, 4), 10))
    c = one(late, ClockKind.ACCEPT)
    assert c.state is ClockState.MISSED and c.missed_at == at(date(2026, 3, 3), 18)
    assert c.met_at == at(date(2026, 3, 4), 9)  # met late; the breach stays


def test_progress_every_ten_working_days_rolls_on_when_silent() -> None:
    report = lead(Action.REPORT_PROGRESS, at(date(2026, 3, 10)), reason="完成排查 40%")
    b = board([ASSIGN, ACCEPT, report], at(date(2026, 3, 25), 12))
    assert one(b, ClockKind.PROGRESS, 1).due.day == date(2026, 3, 17)
    assert one(b, ClockKind.PROGRESS, 1).state is ClockState.MET
    first = one(b, ClockKind.FIRST_FEEDBACK)  # due Mar 5: the Mar 10 report meets it late
    assert first.state is ClockState.MISSED and first.met_at == report.at
    p2 = one(b, ClockKind.PROGRESS, 2)
    assert p2.due.day == date(2026, 3, 24) and p2.state is ClockState.MISSED
    p3 = one(b, ClockKind.PROGRESS, 3)
    assert p3.due.day == date(2026, 4, 8) and p3.state is ClockState.RUNNING  # Apr 6 (清明) skipped
    assert b.next_due == at(date(2026, 3, 31), 18)  # the deadline comes first


def test_cooperating_reports_do_not_count_as_the_leads_progress() -> None:
    b = board(
        [ASSIGN, ACCEPT, coop(Action.REPORT_PROGRESS, at(date(2026, 3, 10)), reason="x")],
        at(date(2026, 3, 18)),
    )
    assert one(b, ClockKind.PROGRESS, 1).state is ClockState.MISSED


def test_only_an_approved_pause_moves_the_clocks() -> None:
    ask = lead(Action.REQUEST_PAUSE, at(date(2026, 3, 5)), reason="待省厅审批环评")
    ok = office(Action.APPROVE_PAUSE, at(date(2026, 3, 5), 11), reason="确需等待省厅")
    resume = office(Action.RESUME, at(date(2026, 3, 12), 9), reason="批复已下达")
    during = board([ASSIGN, ACCEPT, ask, ok], at(date(2026, 3, 10)))
    assert during.next_due is None and during.status is Status.PAUSED
    assert {c.state for c in during.clocks if c.met_at is None} == {ClockState.SUSPENDED}
    b = board([ASSIGN, ACCEPT, ask, ok, resume], at(date(2026, 3, 12), 10))
    # (Mar 5, Mar 12] holds 5 working days: every running clock moves by 5
    assert one(b, ClockKind.DEADLINE).due.day == date(2026, 4, 8)
    assert one(b, ClockKind.PART, unit=COOP).due.day == date(2026, 3, 27)
    assert one(b, ClockKind.PROGRESS).due.day == date(2026, 3, 24)
    asked_only = board([ASSIGN, ACCEPT, ask], at(date(2026, 3, 23)))
    assert one(asked_only, ClockKind.PART, unit=COOP).state is ClockState.MISSED  # a request stops nothing


def test_pause_and_resume_on_one_day_moves_nothing() -> None:
    ask = lead(Action.REQUEST_PAUSE, at(date(2026, 3, 5), 9), reason="r")
    ok = office(Action.APPROVE_PAUSE, at(date(2026, 3, 5), 10), reason="r")
    resume = office(Action.RESUME, at(date(2026, 3, 5), 16), reason="r")
    assert one(
        board([ASSIGN, ACCEPT, ask, ok, resume], at(date(2026, 3, 6))), ClockKind.DEADLINE
    ).due.day == date(2026, 3, 31)


def test_a_late_clock_counts_no_overdue_days_while_paused() -> None:
    ask = lead(Action.REQUEST_PAUSE, at(date(2026, 3, 24)), reason="r")
    ok = office(Action.APPROVE_PAUSE, at(date(2026, 3, 24), 11), reason="r")
    resume = office(Action.RESUME, at(date(2026, 3, 27), 9), reason="r")
    now = at(date(2026, 3, 27), 19)
    part = one(board([ASSIGN, ACCEPT, ask, ok, resume], now), ClockKind.PART, unit=COOP)
    assert part.state is ClockState.MISSED and part.pauses == ((ask.at.replace(hour=11), resume.at),)
    # late Mar 23–27 = 5 working days, of which (Mar 24, Mar 27] = 3 were paused
    assert overdue_workdays(part, calendar=CAL, now=now) == 2


def closure(day: date, hh: int = 10) -> Command:
    return lead(
        Action.REQUEST_CLOSURE, at(day, hh), reason="已完成整治", evidence=("s3://evidence/report.pdf",)
    )


def test_closure_review_holds_the_deadline_and_verification_meets_it() -> None:
    cmds = [ASSIGN, ACCEPT, closure(date(2026, 3, 30))]
    held = board(cmds, at(date(2026, 4, 2)))
    assert one(held, ClockKind.DEADLINE).state is ClockState.HELD and held.next_due is None
    verified = board(
        [*cmds, office(Action.VERIFY_CLOSURE, at(date(2026, 4, 3)), reason="核验属实")], at(date(2026, 4, 9))
    )
    d = one(verified, ClockKind.DEADLINE)
    assert d.state is ClockState.MET and d.met_at == at(date(2026, 3, 30)) and d.missed_at is None
    assert one(
        verified, ClockKind.PART, unit=COOP
    ).missed  # the part was late; the lead's request met it late


def test_a_send_back_after_the_due_time_is_the_breach() -> None:
    back = office(Action.SEND_BACK, at(date(2026, 4, 2), 15), reason="佐证不足")
    b = board([ASSIGN, ACCEPT, closure(date(2026, 3, 30)), back], at(date(2026, 4, 3)))
    d = one(b, ClockKind.DEADLINE)
    assert d.state is ClockState.MISSED and d.missed_at == back.at
    assert d.reviews == ((at(date(2026, 3, 30)), back.at),)
    progress = b.of(ClockKind.PROGRESS)  # period 2 stopped under review; period 3 starts at the send-back
    assert progress[1].state is ClockState.CANCELLED and progress[-1].started_at == back.at


def test_extension_supersedes_the_deadline_and_a_late_one_keeps_its_breach() -> None:
    ask = lead(Action.REQUEST_EXTENSION, at(date(2026, 3, 20)), reason="r", new_deadline=date(2026, 4, 30))
    ok = office(Action.APPROVE_EXTENSION, at(date(2026, 3, 20), 11), new_deadline=date(2026, 4, 30))
    b = board([ASSIGN, ACCEPT, ask, ok], at(date(2026, 4, 10)))
    first, second = one(b, ClockKind.DEADLINE, 1), one(b, ClockKind.DEADLINE, 2)
    assert first.state is ClockState.CANCELLED and not first.missed
    assert second.due.day == date(2026, 4, 30) and second.state is ClockState.RUNNING
    ask2 = replace(ask, at=at(date(2026, 4, 2)))
    ok2 = replace(ok, at=at(date(2026, 4, 2), 11))
    late = board([ASSIGN, ACCEPT, ask2, ok2], at(date(2026, 4, 10)))
    first = one(late, ClockKind.DEADLINE, 1)
    assert first.missed and first.ended_at == ok2.at
    assert overdue_workdays(first, calendar=CAL, now=at(date(2026, 4, 10))) == 1  # Apr 1; stops at approval


def test_withdraw_stops_everything_and_reopen_starts_cycle_two() -> None:
    w = board(
        [ASSIGN, ACCEPT, office(Action.WITHDRAW, at(date(2026, 3, 4)), reason="重复交办")],
        at(date(2026, 5, 1)),
    )
    assert w.next_due is None and not any(c.missed for c in w.clocks)
    cmds = [
        ASSIGN,
        ACCEPT,
        closure(date(2026, 4, 2)),
        office(Action.VERIFY_CLOSURE, at(date(2026, 4, 3)), reason="ok"),
        office(Action.REOPEN, at(date(2026, 4, 20)), reason="问题反弹", new_deadline=date(2026, 5, 29)),
    ]
    b = board(cmds, at(date(2026, 4, 21)))
    assert one(b, ClockKind.DEADLINE).missed  # cycle 1's breach stays
    assert one(b, ClockKind.DEADLINE, cycle=2).due.day == date(2026, 5, 29) and b.cycle == 2
    assert one(b, ClockKind.PROGRESS, cycle=2).state is ClockState.RUNNING


def test_ladders_by_priority_and_source() -> None:
    policy = LadderPolicy(
        by_priority={Priority.URGENT: Ladder(1, 2, 5, "特急")},
        by_source={Source.HOTLINE: Ladder(1, 1, 3, "12345")},
    )
    urgent = replace(ITEM, priority=Priority.URGENT)
    assert policy.for_item(urgent).name == "特急"
    assert policy.for_item(replace(ITEM, source=replace(ITEM.source, source=Source.HOTLINE))).name == "12345"
    assert policy.for_item(ITEM).name == "13710"
    b = board([ASSIGN, ACCEPT], at(date(2026, 3, 4)), urgent, policy)
    assert one(b, ClockKind.FIRST_FEEDBACK).due.day == date(2026, 3, 4)
    assert one(b, ClockKind.PROGRESS).due.day == date(2026, 3, 10)
    quiet = board([ASSIGN], at(date(2026, 3, 2), 12), ladder=Ladder(None, None, None, "仅时限"))
    assert {c.kind for c in quiet.clocks} == {ClockKind.DEADLINE, ClockKind.PART}


def test_a_deadline_in_an_uncovered_year_is_provisional() -> None:
    item = make_item(deadline=date(2027, 3, 31), parts={})
    b = board([office(Action.ASSIGN, at(date(2026, 12, 1)))], at(date(2026, 12, 1), 12), item)
    assert b.provisional and one(b, ClockKind.DEADLINE).due.provisional


# -- properties --------------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(
    st.lists(steps, max_size=25),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=60),
)
def test_breaches_never_disappear_as_time_passes_and_next_due_lies_ahead(raw, d1: int, d2: int) -> None:
    entries, last = timeline(raw)
    now1 = last + timedelta(days=d1)
    now2 = now1 + timedelta(days=d2)
    b1 = evaluate(ITEM, entries=entries, calendar=CAL, now=now1)
    b2 = evaluate(ITEM, entries=entries, calendar=CAL, now=now2)
    assert b1 == evaluate(
        ITEM, entries=list(reversed(entries)), calendar=CAL, now=now1
    )  # deterministic, by seq
    missed1 = {(c.key(ITEM.id), c.missed_at) for c in b1.clocks if c.missed}
    missed2 = {(c.key(ITEM.id), c.missed_at) for c in b2.clocks if c.missed}
    assert missed1 <= missed2
    assert all(m <= now1 for _, m in missed1)
    assert b1.next_due is None or b1.next_due >= now1
    if b1.status in (Status.PAUSED, Status.ESCALATED, Status.CLOSED, Status.WITHDRAWN):
        assert b1.next_due is None


def test_extending_a_part_already_delivered_starts_no_new_clock() -> None:
    done = coop(Action.SUBMIT_PART, at(date(2026, 3, 10)), evidence=("s3://e/p.pdf",))
    ask = coop(Action.REQUEST_EXTENSION, at(date(2026, 3, 11)), reason="r", new_deadline=date(2026, 3, 27))
    ok = office(Action.APPROVE_EXTENSION, at(date(2026, 3, 11), 11), new_deadline=date(2026, 3, 27))
    b = board([ASSIGN, ACCEPT, done, ask, ok], at(date(2026, 4, 10)))
    parts = [c for c in b.of(ClockKind.PART) if c.unit_id == COOP]
    assert [(c.state, c.met_at) for c in parts] == [(ClockState.MET, done.at)]
