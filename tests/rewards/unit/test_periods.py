"""The domain speaks the one period spelling (kaohe.contracts.periods.Period): `2026-Q1`, never `2026Q1`."""

import pytest

from services.rewards.domain.inputs import months_in, period_kind, previous_period


@pytest.mark.parametrize(
    ("period", "kind", "months", "before"),
    [
        ("2026", "year", 12, "2025"),
        ("2026-Q1", "quarter", 3, "2025-Q4"),
        ("2026-Q3", "quarter", 3, "2026-Q2"),
        ("2026-01", "month", 1, "2025-12"),
        ("2026-H1", "half", 6, "2025-H2"),
    ],
)
def test_canonical_periods(period: str, kind: str, months: int, before: str) -> None:
    assert (period_kind(period), months_in(period), previous_period(period)) == (kind, months, before)


@pytest.mark.parametrize("spelling", ["2026Q1", "2026年第1季度", "2026-3", "26-Q1"])
def test_other_spellings_are_refused(spelling: str) -> None:
    with pytest.raises(ValueError, match="period"):
        period_kind(spelling)
