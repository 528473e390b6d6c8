"""Demo values (演示填报数据): a quarter of values per assessed unit, drawn from the seed around the targets.

Every draw uses its own `random.Random` keyed by (seed, unit, code, period), so a value does not depend on
the order of generation or on the size of the rest of the city. Each unit has a performance factor; about
one in six lags (0.6–0.8 of schedule), which makes rankings and 序时进度 warnings worth looking at.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from demo.city import City, build_city
from demo.scheme import YEAR, DemoScheme, LeafModel, build_scheme
from kaohe.contracts.scheme import Scheme, effective_leaves

QUARTER = f"{YEAR}-Q1"
MONTHS = tuple(f"{YEAR}-{m:02d}" for m in (1, 2, 3))
WHOLE = ("个", "家", "户", "人", "个村", "条", "项", "次", "件", "起")  # counted in whole numbers
Review = Literal["approve", "reject", "pending"]  # reject: rejected, corrected, then approved
REJECT_REASON = "数据口径与统计部门不一致（疑似仅填报了部分月份），请核实后重新填报"


@dataclass(frozen=True)
class PlannedValue:
    unit_id: str
    code: str
    period: str
    value: float | None
    grade: str | None
    source: str  # unit_report | department
    department: str  # 责任部门 reviewing it
    evidence: bool
    review: Review
    first_value: float | None  # what is first reported when the review rejects it

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.unit_id, self.code, self.period)


@dataclass
class Plan:
    seed: int
    city: City
    scheme: DemoScheme
    values: list[PlannedValue]
    performance: dict[str, float]  # assessed unit → factor (1.0 = on schedule)
    vetoed: str | None  # the unit with a 重大安全生产责任事故 (一票否决)


def performance(seed: int, unit_id: str) -> float:
    """A unit's factor against schedule: most 0.9–1.2, about one in six lagging at 0.6–0.8."""
    rng = random.Random(f"{seed}:perf:{unit_id}")
    if rng.random() < 0.17:
        return round(rng.uniform(0.6, 0.8), 3)
    return round(min(1.25, max(0.88, rng.gauss(1.03, 0.07))), 3)


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def draw(
    model: LeafModel, *, seed: int, unit: str, period: str, target: float | None, uom: str, p: float
) -> float | str:
    """One value for a leaf, unit and period."""
    rng = random.Random(f"{seed}:value:{unit}:{model.code}:{period}")
    month = int(period[5:]) if period[5:].isdigit() else 3
    noise = rng.gauss(1.0, 0.02 * (5 - month))  # January figures swing most
    t = target if target is not None else 100.0
    kind = model.kind
    if kind == "grade":
        q = p * rng.gauss(1.0, 0.05)
        return "好" if q >= 1.06 else "较好" if q >= 0.95 else "一般" if q >= 0.8 else "差"
    if kind in ("incidents", "honours", "veto"):
        if kind == "honours":
            return float(rng.choice((1, 2, 3)) if p > 1.08 else int(rng.random() < 0.2))
        if kind == "veto":
            return 0.0
        return float(_poisson(rng, 0.12 + max(0.0, 1.0 - p) * 2.5))
    if kind == "amount":
        x = t * model.q1_fraction * p * noise
    elif kind == "rate":
        x = t * (1 + (p - 1) * 0.8) * noise
    elif kind == "lower":  # lower is better, and winter months are worse (采暖季)
        x = t / p * noise * {1: 1.15, 2: 1.08}.get(month, 1.0)
    elif kind == "score":
        x = 100 * (0.9 + (p - 1) * 0.5) * rng.gauss(1.0, 0.025)
    else:  # rank: a 0–100 evaluation score compared among peers
        x = 85 + (p - 1) * 60 + rng.gauss(0, 3)
    if uom == "%" or kind in ("score", "rank"):
        x = min(x, 100.0)
    x = max(x, 0.0)
    return float(round(x)) if uom in WHOLE else round(x, 2)


def build_plan(
    seed: int = 1,
    *,
    departments: int = 30,
    towns_per_county: int = 8,
    villages_per_town: int = 4,
    evidence_share: float = 0.25,
    reject_share: float = 0.03,
    pending_share: float = 0.02,
) -> Plan:
    """The whole demo as data: units, scheme and every value, its evidence and its review outcome."""
    rng = random.Random(f"{seed}:structure")
    city = build_city(
        rng, departments=departments, towns_per_county=towns_per_county, villages_per_town=villages_per_town
    )
    demo = build_scheme(city, rng)
    scheme = Scheme.model_validate(demo.body)
    roster = city.roster
    perf = {u: performance(seed, u) for u in sorted(roster)}
    veto_pool = sorted(u for u in roster if roster[u] in ("乡镇", "街道"))
    vetoed = random.Random(f"{seed}:veto").choice(veto_pool) if veto_pool else None
    raw: list[tuple[str, str, str, float | str, LeafModel]] = []
    for unit in sorted(roster):
        for leaf in effective_leaves(scheme, unit, roster[unit]):
            model = demo.leaves[leaf.code]
            for period in MONTHS if model.monthly else (QUARTER,):
                v = draw(
                    model,
                    seed=seed,
                    unit=unit,
                    period=period,
                    target=leaf.target,
                    uom=leaf.unit_of_measure,
                    p=perf[unit],
                )
                if model.kind == "veto" and unit == vetoed:
                    v = 1.0
                raw.append((unit, leaf.code, period, v, model))
    required = sum(m.evidence_required for *_, m in raw)
    extra = max(0.0, evidence_share * len(raw) - required) / max(1, len(raw) - required)
    values = []
    for unit, code, period, v, model in raw:
        r = random.Random(f"{seed}:review:{unit}:{code}:{period}")
        evidence = model.evidence_required or r.random() < extra
        roll = r.random()
        numeric = isinstance(v, float) and model.kind in ("amount", "rate", "lower", "score")
        review: Review = "approve"
        if roll < pending_share:
            review = "pending"
        elif numeric and roll > 1 - reject_share:
            review = "reject"
        first = round(v * 0.5, 2) if review == "reject" and isinstance(v, float) else None
        values.append(
            PlannedValue(
                unit_id=unit,
                code=code,
                period=period,
                value=v if isinstance(v, float) else None,
                grade=v if isinstance(v, str) else None,
                source=model.source,
                department=model.department,
                evidence=evidence,
                review=review,
                first_value=first,
            )
        )
    return Plan(seed, city, demo, values, perf, vetoed)
