"""One leaf's evaluation standard (评价标准): inputs → score, for one unit or, vectorised, for many.

Scores are in the leaf's own points (`full`, 分值); `fraction` = score / full is what the roll-up weights.
Missing data scores 0 with a `missing_value` note (未报送不得分); a mis-configured leaf raises RuleError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt

from kaohe.contracts.standards import (
    Banded,
    Bonus,
    CompletionRatio,
    Deduction,
    Direction,
    Formula,
    Qualitative,
    RankAmongPeers,
    Standard,
    Veto,
)
from kaohe.expr import Expr, ExprError, Ref, parse

Role = Literal["scored", "bonus", "veto"]
FloatArray = npt.NDArray[np.float64]

NOTES_ZH: dict[str, str] = {
    "missing_value": "未报送数据，不得分",
    "missing_grade": "无评议等次，不得分",
    "non_positive_target": "目标值不大于0，按是否达标计分",
    "ratio_unbounded": "实际值为0或更优，完成率按封顶计",
    "capped": "超过封顶完成率，按封顶计分",
    "below_floor": "低于最低完成率，不得分",
    "no_band": "未达到最低档次，不得分",
    "deduction_capped": "扣分达到上限",
    "progress_bonus": "排名进位加分",
    "bonus_capped": "加分达到上限",
    "veto_triggered": "触发一票否决",
    "formula_missing_value": "公式所需数据缺失，不得分",
    "formula_division_by_zero": "公式除数为0，不得分",
    "formula_non_finite": "公式结果无效，不得分",
}


class RuleError(ValueError):
    """A leaf that cannot be scored as configured (unknown grade, missing target, bad formula)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class LeafInput:  # 指标得分输入
    """Everything one unit brings to one leaf; fields a standard does not use are ignored."""

    full: float  # 分值
    value: float | None = None
    target: float | None = None
    direction: Direction = "higher_better"
    peers: tuple[float, ...] = ()  # 排名: the other units' values in the category, this unit excluded
    previous_rank: int | None = None  # 进位: last period's rank
    grade: str | None = None  # 领导评议 grade
    occurrences: int | None = None  # 扣分 / 一票否决 count
    elements: Mapping[Ref, float] = field(default_factory=dict)  # 公式 data elements
    evidence_ids: tuple[str, ...] = ()  # 佐证材料, passed through to the trace
    # 年度目标按序时进度分解 (trace only): when set, `target` is annual_target × due_fraction
    annual_target: float | None = None
    due_fraction: float | None = None


@dataclass(frozen=True)
class LeafResult:
    """A leaf's outcome; `bonus` sits outside the weighted total, `veto_grade` caps the unit's grade."""

    score: float
    fraction: float
    ratio: float | None = None
    notes: tuple[str, ...] = ()
    bonus: float = 0.0
    veto_grade: str | None = None
    role: Role = "scored"
    value: float | None = None  # the value scored (a formula's result)
    rank: int | None = None
    rank_of: int | None = None
    detail: str = ""


def _missing(x: float | None) -> bool:
    return x is None or math.isnan(x)


def raw_ratio(value: float, target: float, direction: Direction) -> tuple[float, tuple[str, ...]]:
    """Completion ratio before caps; lower_better inverts (target / value); may be +inf."""
    if target <= 0:
        # A ratio against a zero or negative target means nothing; meeting it is what counts.
        met = value >= target if direction == "higher_better" else value <= target
        return (1.0 if met else 0.0), ("non_positive_target",)
    if direction == "higher_better":
        return value / target, ()
    if value <= 0:
        return math.inf, ("ratio_unbounded",)
    return target / value, ()


def completion_fraction(ratio: float, std: CompletionRatio) -> tuple[float, tuple[str, ...]]:
    """Fraction credited for a ratio: 0 below the floor, the ratio itself up to the cap."""
    if ratio < std.floor:
        return 0.0, ("below_floor",) if std.floor > 0 else ()
    if ratio > std.cap:
        return std.cap, ("capped",)
    return max(ratio, 0.0), ()


def band_fraction(ratio: float, std: Banded) -> tuple[float, tuple[str, ...]]:
    """The fraction of the highest band whose min_ratio ≤ ratio."""
    chosen = None
    for band in std.bands:
        if band.min_ratio <= ratio:
            chosen = band
    return (chosen.fraction, ()) if chosen else (0.0, ("no_band",))


def rank_among(value: float, peers: Sequence[float], direction: Direction) -> tuple[int, int]:
    """(rank, n): 1 + the number of peers strictly better; ties share the better rank."""
    valid = [p for p in peers if not math.isnan(p)]
    better = sum(1 for p in valid if (p > value if direction == "higher_better" else p < value))
    return better + 1, len(valid) + 1


def rank_fraction(rank: int, n: int, last_fraction: float) -> float:
    """First place gets 1, place n gets last_fraction, linear between."""
    if n <= 1:
        return 1.0
    return 1.0 - (rank - 1) / (n - 1) * (1.0 - last_fraction)


def _result(
    full: float,
    fraction: float,
    *,
    ratio: float | None = None,
    notes: tuple[str, ...] = (),
    bonus: float = 0.0,
    value: float | None = None,
    rank: int | None = None,
    rank_of: int | None = None,
    detail: str = "",
) -> LeafResult:
    score = full * fraction
    return LeafResult(score, fraction, ratio, notes, bonus, None, "scored", value, rank, rank_of, detail)


def _ratio_rule(std: CompletionRatio | Banded, inp: LeafInput, value: float | None) -> LeafResult:
    if _missing(value):
        return _result(inp.full, 0.0, notes=("missing_value",))
    assert value is not None
    if _missing(inp.target):
        raise RuleError("missing_target", "a completion or banded standard needs a target value")
    assert inp.target is not None
    ratio, notes = raw_ratio(value, inp.target, inp.direction)
    if isinstance(std, CompletionRatio):
        frac, more = completion_fraction(ratio, std)
    else:
        frac, more = band_fraction(ratio, std)
    shown = ratio if math.isfinite(ratio) else None
    return _result(inp.full, frac, ratio=shown, notes=notes + more, value=value)


def _deduction(std: Deduction, inp: LeafInput, count: float | None) -> LeafResult:
    n = 0.0 if _missing(count) else max(float(count), 0.0)  # type: ignore[arg-type]
    limit = min(std.max_deduction if std.max_deduction is not None else inp.full, inp.full)
    lost = n * std.per_occurrence
    notes: tuple[str, ...] = ()
    if lost > limit:
        lost, notes = limit, ("deduction_capped",)
    frac = (inp.full - lost) / inp.full if inp.full > 0 else 0.0
    return LeafResult(score=inp.full - lost, fraction=frac, notes=notes, value=n)


def _rank(std: RankAmongPeers, inp: LeafInput) -> LeafResult:
    if _missing(inp.value):
        return _result(inp.full, 0.0, notes=("missing_value",))
    assert inp.value is not None
    rank, n = rank_among(inp.value, inp.peers, inp.direction)
    frac = rank_fraction(rank, n, std.last_fraction)
    bonus, notes = 0.0, ()
    if inp.previous_rank is not None and inp.previous_rank > rank:
        # 进位 cap is read literally: the contract's default cap of 0 grants no progress bonus.
        bonus = min((inp.previous_rank - rank) * std.progress_bonus_per_place, std.progress_bonus_cap)
        notes = ("progress_bonus",) if bonus > 0 else ()
    return _result(inp.full, frac, notes=notes, bonus=bonus, value=inp.value, rank=rank, rank_of=n)


def _qualitative(std: Qualitative, inp: LeafInput) -> LeafResult:
    if inp.grade is None:
        return _result(inp.full, 0.0, notes=("missing_grade",))
    if inp.grade not in std.grades:
        raise RuleError("unknown_grade", f"grade {inp.grade!r} is not one of {sorted(std.grades)}")
    frac = std.grades[inp.grade]
    if not 0.0 <= frac <= 1.0:
        raise RuleError("grade_fraction_out_of_range", f"grade {inp.grade!r} maps to {frac}, not 0..1")
    return _result(inp.full, frac)


@lru_cache(maxsize=4096)
def formula_expr(expression: str) -> Expr:
    """Parse a formula once per process (pure and cached); a bad formula is a configuration error."""
    try:
        return parse(expression)
    except ExprError as err:
        raise RuleError("formula_syntax", str(err)) from err


def _formula(std: Formula, inp: LeafInput) -> LeafResult:
    try:
        value = formula_expr(std.expression).evaluate(inp.elements)
    except ExprError as err:
        return _result(inp.full, 0.0, notes=(f"formula_{err.code}",), detail=str(err))
    if isinstance(std.then, Deduction):
        return _deduction(std.then, inp, value)
    return _ratio_rule(std.then, inp, value)


def score_leaf(standard: Standard, inp: LeafInput) -> LeafResult:
    """Score one unit on one leaf under its standard."""
    if inp.full < 0 or not math.isfinite(inp.full):
        raise RuleError("bad_full_score", f"full score must be a finite number ≥ 0, got {inp.full}")
    if isinstance(standard, CompletionRatio | Banded):
        return _ratio_rule(standard, inp, inp.value)
    if isinstance(standard, RankAmongPeers):
        return _rank(standard, inp)
    if isinstance(standard, Deduction):
        # no recorded occurrence deducts nothing: 扣分 counts come from records, not submissions
        count = inp.occurrences if inp.occurrences is not None else inp.value
        return _deduction(standard, inp, count)
    if isinstance(standard, Qualitative):
        return _qualitative(standard, inp)
    if isinstance(standard, Bonus):
        units = inp.value if not _missing(inp.value) else inp.occurrences
        raw = (0.0 if _missing(units) else max(float(units), 0.0)) * standard.per_unit  # type: ignore[arg-type]
        points = min(raw, standard.cap)
        notes = ("bonus_capped",) if raw > standard.cap else ()
        return LeafResult(0.0, 0.0, notes=notes, bonus=points, role="bonus", value=units)
    if isinstance(standard, Veto):
        hits = inp.occurrences if inp.occurrences is not None else inp.value
        if hits is not None and not math.isnan(hits) and hits > 0:
            return LeafResult(0.0, 0.0, notes=("veto_triggered",), veto_grade=standard.cap_grade, role="veto")
        return LeafResult(0.0, 0.0, role="veto", value=hits)
    return _formula(standard, inp)


# ---------------------------------------------------------------- batch path


@dataclass(frozen=True)
class BatchScores:
    """Scores of many units on one leaf, index-aligned with the input arrays."""

    score: FloatArray
    fraction: FloatArray
    bonus: FloatArray


def ratio_batch(values: npt.ArrayLike, targets: npt.ArrayLike, direction: Direction) -> FloatArray:
    """Vectorised raw_ratio; NaN marks a missing value or target."""
    v = np.asarray(values, dtype=np.float64)
    t = np.broadcast_to(np.asarray(targets, dtype=np.float64), v.shape)
    # tiny positive targets overflow to inf, as they do in scalar Python: that is a capped ratio
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if direction == "higher_better":
            prop = v / t
            met = v >= t
        else:
            prop = np.where(v > 0, t / v, np.inf)
            met = v <= t
        out = np.where(t > 0, prop, np.where(met, 1.0, 0.0))
    out[np.isnan(v) | np.isnan(t)] = np.nan
    return out


def score_batch(
    standard: Standard,
    *,
    values: npt.ArrayLike,
    full: npt.ArrayLike,
    targets: npt.ArrayLike | None = None,
    direction: Direction = "higher_better",
    previous_ranks: npt.ArrayLike | None = None,
) -> BatchScores:
    """Vectorised score_leaf for numeric standards; for `rank`, `values` is the whole category.

    Deduction reads `values` as occurrence counts, Bonus as units; NaN is a missing value.
    Qualitative, veto and formula leaves go through score_leaf.
    """
    # Extreme inputs overflow to inf exactly as scalar Python floats do; the rules then cap them.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _score_batch(standard, values, full, targets, direction, previous_ranks)


def _score_batch(
    standard: Standard,
    values: npt.ArrayLike,
    full: npt.ArrayLike,
    targets: npt.ArrayLike | None,
    direction: Direction,
    previous_ranks: npt.ArrayLike | None,
) -> BatchScores:
    v = np.asarray(values, dtype=np.float64)
    f = np.broadcast_to(np.asarray(full, dtype=np.float64), v.shape)
    zeros = np.zeros(v.shape)
    if isinstance(standard, CompletionRatio | Banded):
        if targets is None:
            raise RuleError("missing_target", "a completion or banded standard needs targets")
        r = ratio_batch(v, targets, direction)
        if isinstance(standard, CompletionRatio):
            frac = np.where(r >= standard.floor, np.clip(r, 0.0, standard.cap), 0.0)
        else:
            mins = np.array([b.min_ratio for b in standard.bands])
            fracs = np.array([b.fraction for b in standard.bands])
            idx = np.searchsorted(mins, r, side="right") - 1
            frac = np.where((idx >= 0) & ~np.isnan(r), fracs[np.maximum(idx, 0)], 0.0)
        return BatchScores(f * frac, frac, zeros)
    if isinstance(standard, RankAmongPeers):
        return _rank_batch(standard, v, f, direction, previous_ranks)
    if isinstance(standard, Deduction):
        n = np.where(np.isnan(v), 0.0, np.maximum(v, 0.0))
        limit = f if standard.max_deduction is None else np.minimum(standard.max_deduction, f)
        lost = np.minimum(n * standard.per_occurrence, limit)
        frac = np.where(f > 0, (f - lost) / f, 0.0)
        return BatchScores(f - lost, frac, zeros)
    if isinstance(standard, Bonus):
        units = np.where(np.isnan(v), 0.0, np.maximum(v, 0.0))
        return BatchScores(zeros, zeros.copy(), np.minimum(units * standard.per_unit, standard.cap))
    raise RuleError("no_batch_path", f"{standard.type} leaves are scored one by one with score_leaf")


def _rank_batch(
    std: RankAmongPeers,
    v: FloatArray,
    f: FloatArray,
    direction: Direction,
    previous_ranks: npt.ArrayLike | None,
) -> BatchScores:
    present = ~np.isnan(v)
    keyed = v[present] if direction == "higher_better" else -v[present]
    ordered = np.sort(keyed)
    n = int(present.sum())
    ranks = np.zeros(v.shape, dtype=np.int64)
    # rank = 1 + number of strictly better values: ties share the better rank
    ranks[present] = n - np.searchsorted(ordered, keyed, side="right") + 1
    if n <= 1:
        frac = np.where(present, 1.0, 0.0)
    else:
        frac = np.where(present, 1.0 - (ranks - 1) / (n - 1) * (1.0 - std.last_fraction), 0.0)
    bonus = np.zeros(v.shape)
    if previous_ranks is not None:
        prev = np.asarray(previous_ranks, dtype=np.float64)
        gained = np.where(present & (prev > ranks), prev - ranks, 0.0)
        bonus = np.minimum(gained * std.progress_bonus_per_place, std.progress_bonus_cap)
    return BatchScores(f * frac, frac, bonus)
