"""填报截止 on the working-day calendar: the Friday before a 调休 Saturday, holidays, missing units."""

from datetime import date

from kaohe.workdays import official_calendar
from services.notices.domain.deadlines import deadline, missing, reminders_due

CAL = official_calendar()


def test_reminder_before_a_monday_deadline_is_on_the_friday_before_the_tiaoxiu_saturday() -> None:
    # 2026-09 ends on Wed 30 Sep; 国庆 1–7 Oct off; Sat 10 Oct is a 调休 working day.
    # Working days after 30 Sep: Thu 8, Fri 9, Sat 10, Mon 12 → the 4th is Monday 12 Oct.
    d = deadline("2026-09", CAL, due_workdays=4, remind_workdays=2)
    assert d.due == date(2026, 10, 12)
    # Two working days before Monday: Saturday 10 (调休), then Friday 9 — not Thursday 8 (weekdays only)
    # and not Saturday 10 (two calendar days).
    assert d.remind_on == date(2026, 10, 9)


def test_one_working_day_before_is_the_tiaoxiu_saturday_itself() -> None:
    d = deadline("2026-09", CAL, due_workdays=4, remind_workdays=1)
    assert d.remind_on == date(2026, 10, 10)


def test_reminders_are_due_from_the_reminder_day_to_the_due_day_only() -> None:
    kw = {"due_workdays": 4, "remind_workdays": 2}
    assert [d.period for d in reminders_due(2026, date(2026, 10, 8), CAL, **kw)] == []
    assert [d.period for d in reminders_due(2026, date(2026, 10, 9), CAL, **kw)] == ["2026-09"]
    assert [d.period for d in reminders_due(2026, date(2026, 10, 12), CAL, **kw)] == ["2026-09"]
    assert [d.period for d in reminders_due(2026, date(2026, 10, 13), CAL, **kw)] == []


def test_missing_lists_each_unit_with_what_it_has_not_handed_in() -> None:
    expected = {"A": ["GDP", "FAI"], "B": ["GDP"], "C": ["GDP"]}
    filed = {"A": ["GDP"], "B": ["GDP"]}
    assert missing(expected, filed) == {"A": ["FAI"], "C": ["GDP"]}
