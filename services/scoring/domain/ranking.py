"""Ranking and grades (排名与等次) within one category (分类考核).

Order: score descending, then the unit code (a stable, documented tie-break), so ranks are always a
permutation 1..n. Scores are compared after rounding to 6 decimals so that summation noise never decides
a place. Grades 优秀/良好/一般/较差 come from thresholds, then:
  1. 一票否决 caps a unit's grade at its veto grade (this also overrides an exemption);
  2. 专项考核第一 (exempt) units are 优秀 outside the quota and do not use a quota place;
  3. the 优秀 quota (share × category size, rounded down, at least `excellent_min`) keeps the best-ranked
     remaining 优秀 units; the others drop to 良好;
  4. the last `last_place_count` ranks are flagged 末位 (grade unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kaohe.contracts.standards import GRADES

EXCELLENT, GOOD = GRADES[0], GRADES[1]


class RankingError(ValueError):
    """Grade rules or candidates that cannot be ranked."""


@dataclass(frozen=True)
class GradeRules:  # 等次评定规则
    """Thresholds (score ≥ threshold gets the grade; below all of them 较差), quota and 末位 settings."""

    thresholds: tuple[tuple[str, float], ...] = (("优秀", 90.0), ("良好", 80.0), ("一般", 60.0))
    excellent_share: float = 0.3
    excellent_min: int = 1
    last_place_count: int = 1
    last_place_min_units: int = 2  # a category of one has no 末位


@dataclass(frozen=True)
class Candidate:
    """A unit to rank: its total, whether 专项考核第一 exempts it, and its 一票否决 cap if any."""

    unit_code: str
    score: float
    exempt: bool = False
    veto_cap: str | None = None


@dataclass(frozen=True)
class Reason:
    """A machine code and its Chinese text, e.g. quota_exceeded / 超出优秀比例，降为良好."""

    code: str
    text: str


@dataclass(frozen=True)
class Ranked:
    """A unit's place and grade with the reasons that produced the grade."""

    unit_code: str
    score: float
    rank: int
    grade: str
    threshold_grade: str
    in_quota: bool  # holds one of the quota's 优秀 places
    last_place: bool
    reasons: tuple[Reason, ...]


def validate_rules(rules: GradeRules) -> None:
    """Thresholds name grades better than 较差, best first, with non-increasing scores."""
    names = [g for g, _ in rules.thresholds]
    if names != [g for g in GRADES[:-1] if g in names] or len(set(names)) != len(names):
        raise RankingError(f"thresholds must name grades among {GRADES[:-1]} best first, got {names}")
    values = [v for _, v in rules.thresholds]
    if values != sorted(values, reverse=True) or not all(math.isfinite(v) for v in values):
        raise RankingError(f"thresholds must not increase from 优秀 down, got {rules.thresholds}")
    if not 0.0 <= rules.excellent_share <= 1.0 or rules.excellent_min < 0:
        raise RankingError("excellent_share must be within 0..1 and excellent_min ≥ 0")
    if rules.last_place_count < 0:
        raise RankingError("last_place_count must be ≥ 0")


def excellent_quota(n: int, rules: GradeRules) -> int:
    """优秀 places in a category of n: share × n rounded down, at least excellent_min, at most n."""
    # The epsilon keeps 0.29 × 100 = 28.999999999999996 from flooring to 28.
    return min(n, max(math.floor(rules.excellent_share * n + 1e-9), rules.excellent_min))


def _by_threshold(score: float, rules: GradeRules) -> str:
    for grade, threshold in rules.thresholds:
        if score >= threshold:
            return grade
    return GRADES[-1]


def _worse(a: str, b: str) -> str:
    return a if GRADES.index(a) >= GRADES.index(b) else b


def _check(codes: Sequence[str], scores: Sequence[float], vetoes: Sequence[str | None]) -> None:
    if len(set(codes)) != len(codes):
        raise RankingError("a unit appears twice in the category")
    for code, score, veto in zip(codes, scores, vetoes, strict=True):
        if not math.isfinite(score):
            raise RankingError(f"unit {code!r} has a non-finite score {score}")
        if veto is not None and veto not in GRADES:
            raise RankingError(f"unit {code!r} has an unknown veto grade {veto!r}")


def round6(scores: Sequence[float]) -> list[float]:
    """[round(s, 6) for s in scores], exactly, in numpy.

    Where |s| < 4096, s × 10⁶ is within 2.5e-7 of its float product (|product| < 2³², ulp ≤ 4.8e-7), so
    when that product is at least 1e-6 away from a half-integer both round to the same integer n, and
    n / 10⁶ (two exact operands, one correctly rounded division) is the double nearest the decimal,
    which is what round() returns. Near-halves and large or non-finite scores go through round().
    """
    x = np.asarray(scores, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        y = x * 1e6
        out: list[float] = (np.rint(y) / 1e6).tolist()
        risky = ~(np.abs(x) < 4096.0) | (np.abs(y - np.floor(y) - 0.5) < 1e-6)
    for i in np.flatnonzero(risky).tolist():
        out[i] = round(scores[i], 6)
    return out


Place = tuple[int, int, str, str, bool, bool]  # index, rank, grade, threshold grade, in quota, 末位


def rank_columns(
    codes: Sequence[str],
    scores: Sequence[float],
    exempt: Sequence[bool],
    vetoes: Sequence[str | None],
    rules: GradeRules | None = None,
) -> list[Place]:
    """rank_category over parallel columns, without reasons (bulk recomputes); returned in rank order.

    Each place is (index into the columns, rank, grade, threshold grade, in quota, 末位).
    """
    rules = rules or GradeRules()
    validate_rules(rules)
    _check(codes, scores, vetoes)
    n = len(codes)
    shown = round6(scores)
    # codes are distinct, so the index never decides the order
    ordered = sorted(zip([-s for s in shown], codes, range(n), strict=True))
    quota = excellent_quota(n, rules)
    used = 0
    last_from = n - rules.last_place_count + 1 if n >= rules.last_place_min_units else n + 1
    badness = {g: i for i, g in enumerate(GRADES)}
    thresholds = rules.thresholds
    worst = GRADES[-1]
    out: list[Place] = []
    for rank, (_, _, i) in enumerate(ordered, start=1):
        score = shown[i]
        by_threshold = worst
        for g, threshold in thresholds:
            if score >= threshold:
                by_threshold = g
                break
        grade = EXCELLENT if exempt[i] else by_threshold
        cap = vetoes[i]
        if cap is not None and badness[cap] > badness[grade]:
            grade = cap
        in_quota = False
        if grade == EXCELLENT and not exempt[i]:
            if used < quota:
                used += 1
                in_quota = True
            else:
                grade = GOOD
        out.append((i, rank, grade, by_threshold, in_quota, rank >= last_from))
    return out


def rank_category(
    candidates: Sequence[Candidate], rules: GradeRules | None = None, *, explain: bool = True
) -> list[Ranked]:
    """Rank one category and grade every unit; returned in rank order.

    `explain=False` leaves `reasons` empty (bulk recomputes); places and grades are the same.
    """
    rules = rules or GradeRules()
    validate_rules(rules)
    _check([c.unit_code for c in candidates], [c.score for c in candidates], [c.veto_cap for c in candidates])
    ordered = sorted(candidates, key=lambda c: (-round(c.score, 6), c.unit_code))
    n = len(ordered)
    quota = excellent_quota(n, rules)
    used = 0
    by_score: dict[float, list[str]] = {}
    for c in ordered if explain else ():
        by_score.setdefault(round(c.score, 6), []).append(c.unit_code)
    last_from = n - rules.last_place_count + 1 if n >= rules.last_place_min_units else n + 1
    out: list[Ranked] = []
    for i, c in enumerate(ordered):
        rank, shown = i + 1, round(c.score, 6)
        by_threshold = _by_threshold(shown, rules)
        grade = by_threshold
        reasons = [Reason("threshold", f"得分{shown:.2f}，按分数线评为{by_threshold}")] if explain else []
        tied = [code for code in by_score[shown] if code != c.unit_code] if explain else []
        if tied:
            reasons.append(Reason("tie_broken", f"与{'、'.join(tied)}同分，按单位代码排序"))
        if c.exempt:
            grade = EXCELLENT
            reasons.append(Reason("special_first", "专项考核第一，直接确定为优秀，不占优秀比例"))
        if c.veto_cap is not None and _worse(grade, c.veto_cap) != grade:
            grade = c.veto_cap
            reasons.append(Reason("veto_cap", f"一票否决，等次不高于{c.veto_cap}"))
        in_quota = False
        if grade == EXCELLENT and not c.exempt:
            if used < quota:
                used += 1
                in_quota = True
                reasons.append(Reason("quota_within", f"占优秀名额第{used}个（共{quota}个）"))
            else:
                grade = GOOD
                reasons.append(Reason("quota_exceeded", f"超出优秀比例（{quota}个名额），降为良好"))
        last = rank >= last_from
        if last:
            reasons.append(Reason("last_place", "排名末位"))
        out.append(Ranked(c.unit_code, c.score, rank, grade, by_threshold, in_quota, last, tuple(reasons)))
    return out
