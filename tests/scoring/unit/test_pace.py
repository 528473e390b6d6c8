"""序时进度: expected progress by date, lag, warning levels and the 三色榜."""

from __future__ import annotations

from datetime import date

import pytest

from kaohe.contracts.standards import Milestone, Schedule, WarningLevel
from services.scoring.domain.pace import (
    FOUR_LEVEL,
    THREE_COLOUR,
    PaceError,
    PaceResult,
    WarningConfig,
    assess_pace,
    expected_fraction,
    three_colour_board,
    warning_level,
)

LINEAR = Schedule()


def milestones(*pairs: tuple[int, float]) -> Schedule:
    return Schedule(kind="milestones", milestones=[Milestone(month=m, fraction=f) for m, f in pairs])


def test_linear_goes_by_day_of_year() -> None:
    assert expected_fraction(LINEAR, date(2023, 7, 2)) == 183 / 365  # 2 July is day 183
    assert expected_fraction(LINEAR, date(2023, 1, 1)) == 1 / 365
    assert expected_fraction(LINEAR, date(2023, 12, 31)) == 1.0
    assert expected_fraction(LINEAR, date(2024, 2, 29)) == 60 / 366  # leap year


def test_milestones_interpolate_within_the_month() -> None:
    s = milestones((1, 0.1), (2, 0.2), (12, 1.0))
    assert expected_fraction(s, date(2023, 1, 31)) == pytest.approx(0.1)
    # 14 Feb is day 45; January ends on day 31, February on day 59: 0.1 + 0.1 × 14 / 28
    assert expected_fraction(s, date(2023, 2, 14)) == pytest.approx(0.15)
    assert expected_fraction(s, date(2023, 2, 28)) == pytest.approx(0.2)


def test_milestones_ramp_from_zero_and_hold_after_the_last() -> None:
    s = milestones((6, 0.6))
    # 30 June is day 181; 1 April is day 91 → 0.6 × 91 / 181
    assert expected_fraction(s, date(2023, 4, 1)) == pytest.approx(0.6 * 91 / 181)
    assert expected_fraction(s, date(2023, 8, 1)) == 0.6


@pytest.mark.parametrize(
    ("actual", "level"),
    [(0.55, "green"), (0.47, "green"), (0.44, "yellow"), (0.38, "orange"), (0.25, "red")],
)
def test_four_levels(actual: float, level: str) -> None:
    # expected 1 July (day 182 of 365) ≈ 0.4986; thresholds 0.05 / 0.10 / 0.20
    r = assess_pace(LINEAR, date(2023, 7, 1), value=actual * 200, target=200)
    assert r.expected == 182 / 365
    assert r.lag == pytest.approx(182 / 365 - actual)
    assert r.level == level


def test_threshold_is_inclusive_and_three_colour_has_no_orange() -> None:
    assert warning_level(0.05, 0.5, FOUR_LEVEL) == "yellow"
    assert warning_level(0.0499, 0.5, FOUR_LEVEL) == "green"
    assert warning_level(0.12, 0.5, THREE_COLOUR) == "yellow"
    assert warning_level(0.15, 0.5, THREE_COLOUR) == "red"


def test_relative_basis() -> None:
    relative = WarningConfig((("yellow", 0.05), ("red", 0.15)), "relative")
    assert warning_level(0.02, 0.2, relative) == "yellow"  # 0.02 / 0.2 = 10 % behind
    assert warning_level(0.04, 0.2, relative) == "red"  # 20 % behind
    assert warning_level(0.5, 0.0, relative) == "green"  # nothing was due yet


def test_config_and_input_validation() -> None:
    for bad in [
        WarningConfig((("red", 0.2), ("yellow", 0.05))),
        WarningConfig((("yellow", 0.1), ("orange", 0.1))),
        WarningConfig((("yellow", 0.0),)),
        WarningConfig(()),
    ]:
        with pytest.raises(PaceError):
            warning_level(0.1, 0.5, bad)
    with pytest.raises(PaceError, match="positive annual target"):
        assess_pace(LINEAR, date(2023, 7, 1), value=10, target=0)


def _row(unit: str, indicator: str, lag: float, level: WarningLevel) -> PaceResult:
    return PaceResult(unit, indicator, date(2023, 7, 1), 0.5, 0.5 - lag, lag, level)


def test_three_colour_board() -> None:
    rows = [
        _row("A", "gdp", 0.25, "red"),
        _row("A", "invest", -0.1, "green"),
        _row("B", "gdp", 0.06, "yellow"),
        _row("B", "invest", 0.07, "yellow"),
        _row("C", "gdp", 0.0, "green"),
        _row("D", "gdp", 0.12, "orange"),  # orange counts as red on a three-colour board
    ]
    board = three_colour_board(rows)
    assert [(b.unit_code, b.colour) for b in board] == [
        ("A", "red"),
        ("D", "red"),
        ("B", "yellow"),
        ("C", "green"),
    ]
    a, d, b, c = board
    assert (a.red, a.yellow, a.green, a.behind) == (1, 0, 1, ("gdp",))
    assert b.behind == ("invest", "gdp")  # worst lag first
    assert c.behind == () and c.worst_lag == 0.0
    assert d.red == 1
