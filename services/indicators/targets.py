"""What a submission is about (填报对象): a published scheme's leaf or data element, or a legacy indicator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.errors import NotFound
from services.indicators import scheme_store
from services.indicators.domain import EffectiveLeaf, FieldSpec, Scheme, effective_leaves, submission_fields
from services.indicators.domain.scheme import ValueSpec
from services.indicators.models import Indicator, SchemeRow, Submission

SOURCES = ("unit_report", "department", "statistic_import")


@dataclass
class Target:
    code: str
    spec: FieldSpec
    row: SchemeRow | None = None  # None: a standalone indicator (walking skeleton)
    leaf: EffectiveLeaf | None = None  # None for a data element (数据元素)
    legacy: Indicator | None = None
    category: str | None = None

    @property
    def assessing_unit(self) -> str:
        return self.row.assessing_unit if self.row else ""

    def indicator_block(self) -> dict[str, Any] | None:
        """The effective leaf as the current scoring service reads it from submission.approved."""
        if self.legacy is not None:
            i = self.legacy
            return {
                "id": i.id,
                "code": i.code,
                "name": i.name,
                "weight": i.weight,
                "target": i.target,
                "direction": i.direction,
                "standard": i.standard,
            }
        if self.leaf is None or self.row is None:
            return None
        leaf = self.leaf
        return {
            "id": f"{self.row.id}:{leaf.code}",
            "code": leaf.code,
            "name": leaf.name,
            "weight": leaf.weight,
            "target": leaf.target,
            "direction": leaf.direction,
            "standard": leaf.standard.model_dump(mode="json") if leaf.standard else None,
        }


def fields_for(scheme: Scheme, unit_id: str, category: str | None) -> dict[str, FieldSpec]:
    """Every value reported about a unit, whatever the source (unit, department or import)."""
    out: dict[str, FieldSpec] = {}
    for source in SOURCES:
        out.update(submission_fields(scheme, unit_id, category, source=source))  # type: ignore[arg-type]
    return out


def roster_of(row: SchemeRow) -> dict[str, str]:
    return {u["unit_id"]: u["category"] for u in (row.units or [])}


async def resolve(
    s: AsyncSession, *, unit_id: str, unit_path: str, code: str, period: str, assessing_unit: str | None
) -> Target:
    """The nearest published scheme above the unit that asks for `code`, else a standalone indicator."""
    year = int(period[:4])
    if assessing_unit is not None:
        candidates = [assessing_unit]
    else:
        candidates = list(reversed(unit_path.strip("/").split("/")[:-1]))  # nearest ancestor first
    for au in candidates:
        row = await scheme_store.latest(s, au, year)
        if row is None:
            continue
        roster = roster_of(row)
        if roster and unit_id not in roster:
            continue
        scheme = scheme_store.to_domain(row)
        category = roster.get(unit_id)
        fields = fields_for(scheme, unit_id, category)
        if code in fields:
            leaf = next((x for x in effective_leaves(scheme, unit_id, category) if x.code == code), None)
            return Target(code, fields[code], row=row, leaf=leaf, category=category)
    if assessing_unit is None:
        legacy = (await s.exec(select(Indicator).where(Indicator.code == code))).first()
        if legacy is not None:
            return Target(
                code,
                FieldSpec(
                    code=code, name=legacy.name, unit_of_measure=legacy.unit_of_measure, value=ValueSpec()
                ),
                legacy=legacy,
            )
    raise NotFound(
        f"indicator {code} is not in a published scheme for unit {unit_id} in {year}", field="indicator_code"
    )


async def resolve_existing(s: AsyncSession, sub: Submission, unit_path: str) -> Target:
    """The target of a stored submission (by its scheme key, or its standalone indicator)."""
    if sub.indicator_id is not None:
        legacy = await s.get(Indicator, sub.indicator_id)
        assert legacy is not None
        spec = FieldSpec(code=sub.code, name=legacy.name, unit_of_measure=legacy.unit_of_measure)
        return Target(sub.code, spec, legacy=legacy)
    return await resolve(
        s,
        unit_id=sub.unit_id,
        unit_path=unit_path,
        code=sub.code,
        period=sub.period,
        assessing_unit=sub.assessing_unit,
    )


def same_granularity(period: str) -> str:
    """A LIKE pattern matching periods of the same kind: 2026, 2026-03, 2026-Q1 or 2026-H1."""
    if len(period) == 4:
        return "____"
    return "____-" + ("__" if period[5].isdigit() else period[5] + "_")


async def history(
    s: AsyncSession, *, unit_id: str, assessing_unit: str, code: str, period: str, n: int = 8
) -> list[float]:
    """Earlier values of the same kind of period, newest first (for plausibility flags)."""
    rows = await s.execute(
        text(
            "SELECT value FROM submission WHERE unit_id = :u AND assessing_unit = :a AND code = :c"
            " AND period LIKE :pat AND period < :p AND value IS NOT NULL ORDER BY period DESC LIMIT :n"
        ),
        {"u": unit_id, "a": assessing_unit, "c": code, "pat": same_granularity(period), "p": period, "n": n},
    )
    return [float(r[0]) for r in rows]
