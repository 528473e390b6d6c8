"""Period composition (月调度、季研判、年考核): monthly results → quarterly score → annual score.

A quarter is a weighted sum of aspects (考核方面); an aspect is either scored directly for the quarter
(领导评议), scored on the quarter's 季末累计 values (`quarter_end`: one score, like a direct one), or
derived from the quarter's monthly scores (their mean, or the last month's). A year is a
weighted sum of shares: the mean of the quarterly scores, directly scored parts (平时督查, 年终考核)…
Scores are nominally 0..100 (bonus points may lift a total above 100, so only finiteness is checked);
the weights of one composition must sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

WEIGHT_TOLERANCE = 1e-9

MonthlyRule = Literal["direct", "mean", "last", "quarter_end"]
AnnualSource = Literal["quarters_mean", "direct"]


class PeriodError(ValueError):
    """A composition whose weights or inputs do not fit together."""


@dataclass(frozen=True)
class Aspect:  # 季度考核方面
    """One aspect of the quarterly assessment and how it is read from the months."""

    code: str
    name: str
    weight: float
    from_months: MonthlyRule = "direct"


@dataclass(frozen=True)
class AnnualShare:  # 年度构成
    """One share of the annual score."""

    code: str
    name: str
    weight: float
    source: AnnualSource = "direct"


@dataclass(frozen=True)
class PartResult:
    """One part's value and its contribution (weight × value) to the period score."""

    code: str
    name: str
    weight: float
    value: float
    contribution: float
    inputs: tuple[float, ...] = ()


@dataclass(frozen=True)
class PeriodResult:
    """A composed period score with its parts, in configuration order."""

    score: float
    parts: tuple[PartResult, ...]


# 恒口's six quarterly aspects. The seed names them but gives no weights: these are an example.
HENGKOU_QUARTER: tuple[Aspect, ...] = (
    Aspect("annual_progress", "年度目标进展", 0.30, "mean"),
    Aspect("pledges", "公开承诺时序完成情况", 0.15),
    Aspect("stage_priorities", "阶段性重点推进", 0.15),
    Aspect("key_projects", "包抓重点项目重点企业重点工作", 0.15),
    Aspect("supervision", "平时督查", 0.15, "mean"),
    Aspect("leader_review", "领导评议", 0.10),
)

# 恒口: quarterly results + 平时督查 = 60% of the year; the split of that 60% is an example.
HENGKOU_ANNUAL: tuple[AnnualShare, ...] = (
    AnnualShare("quarters", "季度考核", 0.50, "quarters_mean"),
    AnnualShare("supervision", "平时督查", 0.10),
    AnnualShare("year_end", "年度考核", 0.40),
)


def validate_weights(parts: Sequence[Aspect] | Sequence[AnnualShare], what: str = "parts") -> None:
    """Weights must be in (0, 1], codes unique, and the weights must sum to 1."""
    if not parts:
        raise PeriodError(f"{what}: no parts configured")
    codes = [p.code for p in parts]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise PeriodError(f"{what}: codes appear more than once: {dupes}")
    for p in parts:
        if not (math.isfinite(p.weight) and 0.0 < p.weight <= 1.0):
            raise PeriodError(f"{what}: weight of {p.code!r} ({p.name}) must be in (0, 1], got {p.weight}")
    total = math.fsum(p.weight for p in parts)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        listing = " + ".join(f"{p.name} {p.weight:g}" for p in parts)
        raise PeriodError(f"{what}: weights sum to {total:.6g}, expected 1 ({listing})")


def _score(value: float, label: str) -> float:
    if not math.isfinite(value):
        raise PeriodError(f"{label} must be a finite score, got {value}")
    return value


def _compose(parts: list[tuple[str, str, float, float, tuple[float, ...]]]) -> PeriodResult:
    results = tuple(PartResult(c, n, w, v, w * v, ins) for c, n, w, v, ins in parts)
    score = 0.0
    for r in results:
        score += r.contribution
    return PeriodResult(score, results)


def compose_quarter(aspects: Sequence[Aspect], inputs: Mapping[str, float | Sequence[float]]) -> PeriodResult:
    """Quarterly score from its aspects; monthly aspects take the quarter's monthly scores (1–3)."""
    validate_weights(aspects, "quarterly aspects")
    missing = [f"{a.code} ({a.name})" for a in aspects if a.code not in inputs]
    if missing:
        raise PeriodError(f"quarterly aspects without a score: {', '.join(missing)}")
    extra = sorted(set(inputs) - {a.code for a in aspects})
    if extra:
        raise PeriodError(f"scores given for aspects not in the configuration: {extra}")
    parts = []
    for a in aspects:
        given = inputs[a.code]
        if a.from_months in ("direct", "quarter_end"):  # quarter_end: the quarter scored on its 季末 values
            if not isinstance(given, int | float):
                raise PeriodError(f"aspect {a.code!r} ({a.name}) takes one score, got {given!r}")
            value, used = _score(float(given), f"aspect {a.code!r}"), (float(given),)
        else:
            if isinstance(given, int | float) or not 1 <= len(given) <= 3:
                raise PeriodError(f"aspect {a.code!r} ({a.name}) takes 1 to 3 monthly scores, got {given!r}")
            used = tuple(_score(float(m), f"monthly score of {a.code!r}") for m in given)
            value = math.fsum(used) / len(used) if a.from_months == "mean" else used[-1]
        parts.append((a.code, a.name, a.weight, value, used))
    return _compose(parts)


def compose_annual(
    shares: Sequence[AnnualShare], quarters: Sequence[float], direct: Mapping[str, float]
) -> PeriodResult:
    """Annual score: quarters_mean shares take the mean of the quarters held so far (1–4)."""
    validate_weights(shares, "annual shares")
    if any(s.source == "quarters_mean" for s in shares) and not 1 <= len(quarters) <= 4:
        raise PeriodError(f"an annual score needs 1 to 4 quarterly scores, got {len(quarters)}")
    q = tuple(_score(float(x), "quarterly score") for x in quarters)
    missing = [f"{s.code} ({s.name})" for s in shares if s.source == "direct" and s.code not in direct]
    if missing:
        raise PeriodError(f"annual shares without a score: {', '.join(missing)}")
    parts = []
    for s in shares:
        if s.source == "quarters_mean":
            parts.append((s.code, s.name, s.weight, math.fsum(q) / len(q), q))
        else:
            value = _score(float(direct[s.code]), f"annual share {s.code!r}")
            parts.append((s.code, s.name, s.weight, value, (value,)))
    return _compose(parts)
