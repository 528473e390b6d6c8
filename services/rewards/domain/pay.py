"""A unit's performance-pay pool (奖励性绩效总额) for a period, and its exact split among the unit's staff.

Order of the rules, each applied once to whole fen (the pool line says which rule did what):
  pool     = base × 考核系数 (unit kind) × the unit's grade factor (quarterly_pay by unit, or its bonus tier)
  withheld = pool × 暂扣 share;  released = withheld × the share the unit's grade releases
  末位零绩效: nothing is paid, the whole pool stays withheld
  paid     = pool − (withheld − released), split among staff by largest remainder on
             weight = base pay × the person's grade factor (quarterly_pay by person, or the person's tier)
so that Σ paid + withheld == pool for every unit, to the fen. The base is the pool the caller gives for a
unit or, when none is given, the staff's monthly base × the months of the period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.rewards.domain.inputs import Cadre, SnapshotRow
from services.rewards.domain.money import allocate, scale, share_of
from services.rewards.domain.proposal import Line, PoolBalance, Problem
from services.rewards.domain.rules import (
    AnnualBonusRule,
    CoefficientRule,
    HeadcountCap,
    LastPlaceZeroRule,
    QuarterlyPayRule,
    WithholdingRule,
)

ONE = Decimal(1)
PAY = "绩效工资"


@dataclass(frozen=True)
class PayRules:  # 一个期间的薪酬规则
    """The money rules that apply to one period kind (at most one of each, as RuleSet guarantees)."""

    pay: QuarterlyPayRule | AnnualBonusRule | None = None
    withholding: WithholdingRule | None = None
    coefficient: CoefficientRule | None = None
    zero: LastPlaceZeroRule | None = None

    @classmethod
    def of(cls, rules: Sequence[Any]) -> PayRules:
        """Pick the money rules out of the rules that apply to a period."""
        found: dict[str, Any] = {}
        for r in rules:
            if isinstance(r, QuarterlyPayRule | AnnualBonusRule):
                found["pay"] = r
            elif isinstance(r, WithholdingRule):
                found["withholding"] = r
            elif isinstance(r, CoefficientRule):
                found["coefficient"] = r
            elif isinstance(r, LastPlaceZeroRule):
                found["zero"] = r
        return cls(**found)

    @property
    def primary(self) -> Any:
        """The rule a pay line names: the pay rule, else withholding, else 末位零绩效, else 考核系数."""
        return self.pay or self.withholding or self.zero or self.coefficient

    def unit_factor(self, grade: str | None) -> tuple[Decimal, str | None]:
        """The factor of a unit's pool by its grade, and the bonus tier's name when a tier decided it."""
        p = self.pay
        if isinstance(p, QuarterlyPayRule) and p.graded_by == "unit":
            return p.factor(grade), None
        if isinstance(p, AnnualBonusRule) and p.graded_by == "unit":
            t = p.tier(grade)
            return (t.multiplier, t.name) if t else (p.ungraded_multiplier, None)
        return ONE, None

    def person_factors(self) -> dict[str | None, Decimal]:
        """A person's weight factor by their own grade (all 1 unless the pay rule grades persons)."""
        p = self.pay
        grades: tuple[str | None, ...] = ("优秀", "良好", "一般", "较差", None)
        if isinstance(p, QuarterlyPayRule) and p.graded_by == "person":
            return {g: p.factor(g) for g in grades}
        if isinstance(p, AnnualBonusRule) and p.graded_by == "person":
            return {g: (t.multiplier if (t := p.tier(g)) else p.ungraded_multiplier) for g in grades}
        return dict.fromkeys(grades, ONE)


def int_factors(factors: dict[str | None, Decimal]) -> dict[str | None, int]:
    """Exact Decimal factors as integers over one common denominator (weights stay exact and fast)."""
    den = 1
    for f in factors.values():
        d = f.as_integer_ratio()[1]
        den = den * d // math.gcd(den, d)
    return {g: f.as_integer_ratio()[0] * (den // f.as_integer_ratio()[1]) for g, f in factors.items()}


def pay_unit(
    row: SnapshotRow,
    *,
    staff: Sequence[Cadre],
    rules: PayRules,
    months: int,
    base_pool: int | None,
    factors: dict[str | None, Decimal],
    weights_by_grade: dict[str | None, int],
    period: str,
    digest: str,
) -> tuple[list[Line], PoolBalance, list[Problem]]:
    """The pool, withholding and pay lines of one unit, and its balance."""
    lines: list[Line] = []
    problems: list[Problem] = []
    uid = row.unit_id
    base = base_pool if base_pool is not None else sum(c.monthly_pay_fen for c in staff) * months
    coef = rules.coefficient.of(row.unit_kind) if rules.coefficient else ONE
    unit_factor, tier = rules.unit_factor(row.grade)
    pool = scale(base, coef, unit_factor)
    unit_in = {"grade": row.grade, "rank": row.rank, "of": row.of, "category": row.category}

    def unit_line(kind: Any, what: str, rule: Any, amount: int, **extra: Any) -> None:
        inputs = {**unit_in, **extra}
        lines.append(Line("unit", uid, None, kind, what, rule.id, rule.basis, amount, inputs, period, digest))

    primary = rules.primary
    unit_line(
        "pool",
        "奖励性绩效总额",
        primary,
        pool,
        unit_kind=row.unit_kind,
        base_fen=base,
        base_from="given" if base_pool is not None else "roster",
        coefficient=str(coef),
        coefficient_rule=rules.coefficient.id if rules.coefficient else None,
        unit_factor=str(unit_factor),
        tier=tier,
    )
    zeroed = rules.zero is not None and rules.zero.condition.holds(row)
    kept = 0
    if zeroed:
        assert rules.zero is not None
        unit_line("zeroed", "末位零绩效", rules.zero, pool, last_place=row.last_place)
        distributable, kept = 0, pool
    else:
        w = rules.withholding
        if w is not None:
            withheld = share_of(pool, w.share)
            released = share_of(withheld, w.released(row.grade))
            unit_line("withheld", "暂扣绩效", w, withheld, share=str(w.share))
            unit_line("released", "返还暂扣", w, released, release_share=str(w.released(row.grade)))
            kept = withheld - released
        distributable = pool - kept
    bases = [c.monthly_pay_fen * months for c in staff]
    weights = [b * weights_by_grade[c.grade] for b, c in zip(bases, staff, strict=True)]
    if distributable and not staff:
        problems.append(Problem("no_staff", "the unit has a pool but no staff in the roster", unit_id=uid))
        kept, distributable = pool, 0
    elif distributable and not any(weights):
        problems.append(Problem("zero_weights", "every person's pay base is 0", unit_id=uid))
        kept, distributable = pool, 0
    shares = allocate(distributable, weights, keys=[c.person_key for c in staff]) if staff else []
    rule = rules.pay if rules.pay is not None else primary
    rid, basis, ugrade, urank, of, cat = rule.id, rule.basis, row.grade, row.rank, row.of, row.category
    shown = {g: str(f) for g, f in factors.items()}
    add = lines.append
    for c, base, amount in zip(staff, bases, shares, strict=True):
        inputs = {
            "grade": c.grade,
            "post": c.post,
            "rank": c.rank,
            "unit_grade": ugrade,
            "unit_rank": urank,
            "of": of,
            "category": cat,
            "base_fen": base,
            "factor": shown[c.grade],
            "zeroed": zeroed,
            "unit_paid_fen": distributable,
        }
        add(Line("person", uid, c.person_key, "pay", PAY, rid, basis, amount, inputs, period, digest))
    return lines, PoolBalance(uid, pool, sum(shares), kept), problems


def check_caps(rule: QuarterlyPayRule, *, counted: dict[str, tuple[int, dict[str, int]]]) -> list[Problem]:
    """Headcount caps (人数上限): `counted` maps unit id → (staff, people per grade adjusted)."""
    out: list[Problem] = []
    for cap in rule.caps:
        if cap.scope == "unit":
            for uid, (n, by_grade) in counted.items():
                got = by_grade.get(cap.grade, 0)
                if got > (limit := _limit(cap, n)):
                    out.append(_cap_problem(rule, cap, got, limit, uid))
        else:
            n = sum(s for s, _ in counted.values())
            got = sum(g.get(cap.grade, 0) for _, g in counted.values())
            if got > (limit := _limit(cap, n)):
                out.append(_cap_problem(rule, cap, got, limit, None))
    return out


def _limit(cap: HeadcountCap, staff: int) -> int:
    limits = []
    if cap.max_share is not None:
        limits.append(int(cap.max_share * staff))
    if cap.max_count is not None:
        limits.append(cap.max_count)
    return min(limits)


def _cap_problem(rule: QuarterlyPayRule, cap: HeadcountCap, got: int, limit: int, uid: str | None) -> Problem:
    where = f"unit {uid}" if uid else "all units"
    return Problem(
        "cap_exceeded",
        f"{got} people get the {cap.grade} adjustment in {where}; the cap allows {limit}",
        rule_id=rule.id,
        unit_id=uid,
        data={"grade": cap.grade, "count": got, "limit": limit, "scope": cap.scope},
    )
