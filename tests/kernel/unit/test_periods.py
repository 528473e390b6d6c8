"""The one period type: canonical spelling round-trips, the lenient reader, the calendar."""

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaohe.contracts.periods import KINDS, PER_YEAR, Period, is_period, kind_of, normalize


@st.composite
def periods(draw: st.DrawFn) -> Period:
    kind = draw(st.sampled_from(KINDS))
    return Period(draw(st.integers(2001, 2099)), kind, draw(st.integers(1, PER_YEAR[kind])))


@given(periods())
def test_canonical_spelling_round_trips(p: Period) -> None:
    assert Period.parse(str(p)) == p
    assert Period.read(str(p)) == p
    assert is_period(str(p)) and kind_of(str(p)) == p.kind


@given(periods())
def test_previous_and_next_are_inverse_and_adjacent(p: Period) -> None:
    assert p.next().previous() == p == p.previous().next()
    assert p.previous().end + dt.timedelta(days=1) == p.start
    assert p.end + dt.timedelta(days=1) == p.next().start


@given(periods())
def test_months_tile_the_period(p: Period) -> None:
    months = p.months()
    assert months[0].start == p.start and months[-1].end == p.end
    assert all(a.end + dt.timedelta(days=1) == b.start for a, b in itertools.pairwise(months))
    assert all(p.contains(m) and m.within(p.kind) == p for m in months)


@given(periods(), st.sampled_from(KINDS))
def test_within_contains_the_period(p: Period, kind: str) -> None:
    outer = p.within(kind)  # type: ignore[arg-type]
    if outer is None:
        assert len(Period(p.year, kind, 1).months()) < len(p.months())  # type: ignore[arg-type]
    else:
        assert outer.start <= p.start and p.end <= outer.end and outer.contains(p)


@given(periods(), periods())
def test_sort_key_is_chronological(a: Period, b: Period) -> None:
    if a.end < b.start:
        assert a.sort_key() < b.sort_key()


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("2026Q1", "2026-Q1"),
        ("2026-q2", "2026-Q2"),
        ("2026年第3季度", "2026-Q3"),
        ("2026年四季度", "2026-Q4"),
        ("2026H1", "2026-H1"),
        ("2026年下半年", "2026-H2"),
        ("2026年度", "2026"),
        ("2026年3月", "2026-03"),
        ("2026/3", "2026-03"),
        ("202603", "2026-03"),
        ("2026-03-01", "2026-03"),
        ("２０２６Ｑ１", "2026-Q1"),
        (dt.date(2026, 5, 31), "2026-05"),
        (2026, "2026"),
        (2026.0, "2026"),
    ],
)
def test_reads_what_people_type(typed: object, canonical: str) -> None:
    assert normalize(typed) == canonical


@pytest.mark.parametrize(
    "typed", ["20263", "2026-13", "2026Q5", "2026H3", "Q1", "", None, True, 2026.5, "1999"]
)
def test_reads_no_period_from_what_is_not_one(typed: object) -> None:
    assert normalize(typed) is None


@pytest.mark.parametrize("text", ["2026Q1", "2026-3", "2026-Q1\n", "2026-00", " 2026", "2026年"])
def test_parse_takes_only_the_canonical_spelling_and_names_the_field(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        Period.parse(text)


def test_labels_and_calendar() -> None:
    q1 = Period.parse("2026-Q1")
    assert q1.label == "2026年第1季度"
    assert [str(m) for m in q1.months()] == ["2026-01", "2026-02", "2026-03"]
    assert str(q1.previous()) == "2025-Q4"
    assert Period.parse("2026-H2").label == "2026年下半年" and Period.parse("2026").label == "2026年度"
    assert Period.parse("2024-02").end == dt.date(2024, 2, 29)
    assert str(Period.parse("2026-05").within("quarter")) == "2026-Q2"
    assert Period.parse("2026-Q2").within("month") is None
