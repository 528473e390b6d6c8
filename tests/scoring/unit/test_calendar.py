"""Scoring's period helpers read the one canonical Period (kaohe.contracts.periods)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.scoring.domain.calendar import due_on, kind_of, months_of, period_end, quarter_of


def test_kinds() -> None:
    assert [kind_of(p) for p in ("2026", "2026-Q2", "2026-03", "2026-H1", "2026Q1", "x")] == [
        "year",
        "quarter",
        "month",
        "other",
        "other",
        "other",
    ]


@given(st.integers(2000, 2100), st.integers(1, 12))
def test_a_month_lies_in_its_quarter_and_ends_it_or_not(year: int, month: int) -> None:
    m = f"{year}-{month:02d}"
    q = quarter_of(m)
    assert q == f"{year}-Q{(month - 1) // 3 + 1}" and m in months_of(q)
    assert (period_end(m) == period_end(q)) == (months_of(q)[-1] == m)


def test_due_dates() -> None:
    assert due_on("2026-02") == date(2026, 2, 28)
    assert due_on("2026-Q3") == date(2026, 9, 30)
    assert due_on("2026-H1") == date(2026, 6, 30)
    assert due_on("2026") is None and due_on("nonsense") is None
    assert quarter_of("2026") is None and quarter_of("2026-H2") is None
