"""Time-schedule progress (序时进度) and warnings (预警): how far behind the schedule is a unit?

Expected progress is a share of the annual target as of the END of the given date:
- linear schedules go by day of the year (day / days in the year), not by months elapsed, because the
  check runs on any day (周推进, 月调度) and a months-elapsed curve would jump on the 1st of each month;
- milestone schedules give the share due by each milestone month's last day; between two anchors (the
  start of the year counts as 0) progress is interpolated linearly by day, and after the last milestone
  it stays at the last milestone's share.
lag = expected − actual; a positive lag is behind schedule. Levels: 保靖's 绿/黄/橙/红 or a 三色榜.
"""

from __future__ import annotations

import calendar
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from kaohe.contracts.standards import Schedule, WarningLevel

SEVERITY: tuple[WarningLevel, ...] = ("green", "yellow", "orange", "red")
Colour = Literal["green", "yellow", "red"]  # 三色榜: 绿 / 黄 / 红


class PaceError(ValueError):
    """A warning configuration or progress input that does not make sense."""


@dataclass(frozen=True)
class WarningConfig:
    """Lag ≥ threshold raises that level (highest wins); `relative` divides the lag by the expected share."""

    thresholds: tuple[tuple[WarningLevel, float], ...]
    basis: Literal["points", "relative"] = "points"


# The seeds name the levels but not the cut-offs: these thresholds are examples to configure.
FOUR_LEVEL = WarningConfig((("yellow", 0.05), ("orange", 0.10), ("red", 0.20)))  # 保靖 绿/黄/橙/红
THREE_COLOUR = WarningConfig((("yellow", 0.05), ("red", 0.15)))  # 恒口 三色榜


@dataclass(frozen=True)
class PaceResult:
    """One unit's progress on one indicator at a date."""

    unit_code: str
    indicator_code: str
    on: date
    expected: float
    actual: float
    lag: float
    level: WarningLevel


@dataclass(frozen=True)
class BoardRow:
    """One unit on the 三色榜: its colour is its worst indicator's (橙 counts as 红)."""

    unit_code: str
    colour: Colour
    red: int
    yellow: int
    green: int
    worst_lag: float
    behind: tuple[str, ...]  # indicators that are not green, worst first


def _month_end_day(on: date, month: int) -> int:
    return date(on.year, month, calendar.monthrange(on.year, month)[1]).timetuple().tm_yday


def expected_fraction(schedule: Schedule, on: date) -> float:
    """Share of the annual target due by the end of `on` (序时进度)."""
    day = on.timetuple().tm_yday
    if schedule.kind == "linear":
        return day / (366 if calendar.isleap(on.year) else 365)
    prev_day, prev_frac = 0, 0.0
    for m in schedule.milestones:
        end_day = _month_end_day(on, m.month)
        if day <= end_day:
            return prev_frac + (m.fraction - prev_frac) * (day - prev_day) / (end_day - prev_day)
        prev_day, prev_frac = end_day, m.fraction
    return prev_frac


def actual_fraction(value: float, target: float) -> float:
    """Share of the annual target done so far (cumulative value / annual target)."""
    if not (math.isfinite(target) and target > 0):
        raise PaceError(f"序时进度 needs a positive annual target, got {target}")
    if not math.isfinite(value):
        raise PaceError(f"progress value must be finite, got {value}")
    return value / target


def validate_config(config: WarningConfig) -> None:
    """Levels must rise in severity with strictly increasing positive thresholds."""
    levels = [lv for lv, _ in config.thresholds]
    values = [t for _, t in config.thresholds]
    if not levels or "green" in levels or levels != sorted(levels, key=SEVERITY.index):
        raise PaceError(f"warning levels must be among yellow/orange/red in that order, got {levels}")
    if len(set(levels)) != len(levels) or any(b <= a for a, b in itertools.pairwise(values)):
        raise PaceError(f"warning thresholds must strictly increase, got {config.thresholds}")
    if values[0] <= 0 or not all(math.isfinite(v) for v in values):
        raise PaceError(f"warning thresholds must be finite and > 0, got {values}")


def warning_level(lag: float, expected: float, config: WarningConfig = FOUR_LEVEL) -> WarningLevel:
    """The highest level whose threshold the lag reaches; green when on or ahead of schedule."""
    validate_config(config)
    if config.basis == "relative":
        if expected <= 0:
            return "green"  # nothing was due yet
        lag = lag / expected
    level: WarningLevel = "green"
    for lv, threshold in config.thresholds:
        if lag >= threshold:
            level = lv
    return level


def assess_pace(
    schedule: Schedule,
    on: date,
    *,
    value: float,
    target: float,
    config: WarningConfig = FOUR_LEVEL,
    unit_code: str = "",
    indicator_code: str = "",
) -> PaceResult:
    """Expected vs actual progress and the warning level for one unit and indicator."""
    expected = expected_fraction(schedule, on)
    actual = actual_fraction(value, target)
    lag = expected - actual
    level = warning_level(lag, expected, config)
    return PaceResult(unit_code, indicator_code, on, expected, actual, lag, level)


def three_colour_board(rows: Iterable[PaceResult]) -> list[BoardRow]:
    """三色榜: one row per unit, red first, then by red count, yellow count, worst lag and unit code."""
    per_unit: dict[str, list[PaceResult]] = {}
    for r in rows:
        per_unit.setdefault(r.unit_code, []).append(r)
    board = []
    for unit, results in per_unit.items():
        red = sum(1 for r in results if r.level in ("red", "orange"))
        yellow = sum(1 for r in results if r.level == "yellow")
        colour: Colour = "red" if red else "yellow" if yellow else "green"
        late = sorted((r for r in results if r.level != "green"), key=lambda r: (-r.lag, r.indicator_code))
        behind = tuple(r.indicator_code for r in late)
        worst = max(r.lag for r in results)
        green = len(results) - red - yellow
        board.append(BoardRow(unit, colour, red, yellow, green, worst, behind))
    order = {"red": 0, "yellow": 1, "green": 2}
    return sorted(board, key=lambda b: (order[b.colour], -b.red, -b.yellow, -b.worst_lag, b.unit_code))
