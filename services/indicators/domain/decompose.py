"""Target decomposition (指标分解): split an upper target among the units below and check the split."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.indicators.errors import IndicatorsErrorCode as ErrorCode

from .errors import Problem, fmt, problem

# sum_equals: children add up to the parent; sum_at_least / sum_at_most: their sum may overshoot or undershoot
# (层层加码 is common: counties promise more than the city's target); average_equals: rates such as 增速 or
# 达标率 whose mean is the parent; each_at_least / each_at_most: every child meets the parent's own rate
# (each_at_most for lower-better indicators such as PM2.5).
Rule = Literal["sum_equals", "sum_at_least", "sum_at_most", "average_equals", "each_at_least", "each_at_most"]
RULE_ZH: dict[str, str] = {
    "sum_equals": "合计等于上级目标",
    "sum_at_least": "合计不低于上级目标",
    "sum_at_most": "合计不高于上级目标",
    "average_equals": "平均等于上级目标",
    "each_at_least": "每个单位不低于上级目标",
    "each_at_most": "每个单位不高于上级目标",
}


class Decomposition(BaseModel):  # 指标分解
    """One indicator's parent target and the targets given to the child units."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicator_code: str
    parent_target: float
    rule: Rule = "sum_equals"
    tolerance: float = Field(0.0, ge=0, description="absolute slack allowed by the rule")
    shares: dict[str, float] = Field(default_factory=dict)  # child unit id → its target


def split_even(parent_target: float, children: Sequence[str], *, decimals: int = 2) -> dict[str, float]:
    """Split equally; the rounding remainder goes to the first children so the sum is exact."""
    return split_by_base(parent_target, dict.fromkeys(children, 1.0), decimals=decimals)


def split_by_base(parent_target: float, bases: Mapping[str, float], *, decimals: int = 2) -> dict[str, float]:
    """Split in proportion to a base (e.g. last year's actual, 按基数分解); rounded sum equals the parent."""
    if not bases:
        return {}
    if any(b < 0 for b in bases.values()):
        raise ValueError("bases must be non-negative")
    base_total = sum(Decimal(str(b)) for b in bases.values())
    if base_total == 0:
        raise ValueError("bases must not all be zero")
    quantum = Decimal(1).scaleb(-decimals)
    target = Decimal(str(parent_target)).quantize(quantum)
    exact = {k: target * Decimal(str(b)) / base_total for k, b in bases.items()}
    # largest-remainder rounding: floor each share, then hand out the leftover quanta by remainder size
    floored = {k: (v / quantum).to_integral_value(ROUND_FLOOR) * quantum for k, v in exact.items()}
    leftover = int(((target - sum(floored.values())) / quantum).to_integral_value())
    order = {k: i for i, k in enumerate(bases)}  # ties go to the earlier child, deterministically
    by_remainder = sorted(bases, key=lambda k: (-(exact[k] - floored[k]), order[k]))
    for k in by_remainder[:leftover]:
        floored[k] += quantum
    return {k: float(v) for k, v in floored.items()}


def check_decomposition(
    d: Decomposition, *, children: Collection[str] | None = None, where: str = ""
) -> list[Problem]:
    """Problems of a split: the rule broken (beyond tolerance), children missing or unknown."""
    path = " / ".join(p for p in (where, f"指标 {d.indicator_code}", "分解") if p)
    out: list[Problem] = []
    if children is not None:
        expected = set(children)
        for uid in sorted(expected - d.shares.keys()):
            out.append(problem(path, ErrorCode.SPLIT_MISSING_CHILD, f"下级单位 {uid} 未分配目标值"))
        for uid in sorted(d.shares.keys() - expected):
            out.append(
                problem(path, ErrorCode.SPLIT_UNKNOWN_CHILD, f"单位 {uid} 不是下级单位，不应分配目标值")
            )
    if not d.shares:
        return out
    # rounding noise of float arithmetic is never a real discrepancy
    slack = d.tolerance + 1e-9 * max(1.0, abs(d.parent_target))
    parent = fmt(d.parent_target)
    total = sum(d.shares.values())
    mean = total / len(d.shares)
    rule = RULE_ZH[d.rule]
    if d.rule == "sum_equals" and abs(total - d.parent_target) > slack:
        gap = total - d.parent_target
        detail = f"分解合计 {fmt(total)}，应为 {parent}（{'多' if gap > 0 else '少'} {fmt(abs(gap))}）"
        out.append(problem(path, ErrorCode.SPLIT_SUM, detail))
    elif d.rule == "sum_at_least" and total < d.parent_target - slack:
        out.append(problem(path, ErrorCode.SPLIT_SUM, f"分解合计 {fmt(total)}，低于上级目标 {parent}"))
    elif d.rule == "sum_at_most" and total > d.parent_target + slack:
        out.append(problem(path, ErrorCode.SPLIT_SUM, f"分解合计 {fmt(total)}，高于上级目标 {parent}"))
    elif d.rule == "average_equals" and abs(mean - d.parent_target) > slack:
        detail = f"分解平均值 {fmt(mean)}，应为 {parent}（规则：{rule}）"
        out.append(problem(path, ErrorCode.SPLIT_AVERAGE, detail))
    elif d.rule in ("each_at_least", "each_at_most"):
        low = d.rule == "each_at_least"
        for uid, value in d.shares.items():
            if (value < d.parent_target - slack) if low else (value > d.parent_target + slack):
                detail = f"单位 {uid} 的目标值 {fmt(value)} {'低于' if low else '高于'}上级目标 {parent}"
                out.append(problem(path, ErrorCode.SPLIT_EACH, detail))
    return out
