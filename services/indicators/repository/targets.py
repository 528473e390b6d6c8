"""What a submission is about (填报对象): a published scheme's leaf or data element."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.scheme import EffectiveLeaf, Scheme, effective_leaves
from kaohe.errors import NotFound
from kaohe.identity import Caller
from services.indicators.domain import FieldSpec, access, submission_fields
from services.indicators.models import SchemeRow, Submission
from services.indicators.repository import schemes as scheme_store

SOURCES = ("unit_report", "department", "statistic_import")


@dataclass
class Target:
    code: str
    spec: FieldSpec
    row: SchemeRow | None = None
    leaf: EffectiveLeaf | None = None  # None for a data element (数据元素)
    category: str | None = None
    source: str = "unit_report"  # 数据来源 of the leaf or data element
    department: str | None = None  # 责任部门 named by the scheme

    def require_write(self, caller: Caller, field: str) -> None:
        """access.require_write for this target's indicator and data source."""
        access.require_write(caller, self.code, source=self.source, department=self.department, field=field)

    @property
    def assessing_unit(self) -> str:
        return self.row.assessing_unit if self.row else ""

    def indicator_block(self) -> dict[str, Any] | None:
        """The effective leaf as the current scoring service reads it from submission.approved."""
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


@dataclass
class Compiled:
    """A published scheme parsed once: its row (detached), domain model, roster and per-unit views."""

    row: SchemeRow
    scheme: Scheme
    roster: dict[str, str]
    views: dict[str, tuple[dict[str, FieldSpec], dict[str, EffectiveLeaf]]] = field(default_factory=dict)

    def view(self, unit_id: str) -> tuple[dict[str, FieldSpec], dict[str, EffectiveLeaf]]:
        """(fields the unit reports, its effective leaves by code), computed once per unit."""
        if unit_id not in self.views:
            category = self.roster.get(unit_id)
            leaves = {x.code: x for x in effective_leaves(self.scheme, unit_id, category)}
            self.views[unit_id] = (fields_for(self.scheme, unit_id, category), leaves)
        return self.views[unit_id]


# Published schemes are immutable (body and roster are frozen at publish; only the status moves on to
# superseded, which `resolve` re-reads), so parsing one once per process is safe. Bounded, most recent last.
_COMPILED: OrderedDict[str, Compiled] = OrderedDict()
_COMPILED_MAX = 16


async def published(s: AsyncSession, assessing_unit: str, year: int) -> Compiled | None:
    """The current published scheme of an assessing unit and year, parsed (cached by scheme id)."""
    found = (
        await s.execute(
            text(
                "SELECT id FROM scheme WHERE assessing_unit = :a AND year = :y AND status = 'published'"
                " ORDER BY version DESC LIMIT 1"
            ),
            {"a": assessing_unit, "y": year},
        )
    ).first()
    if found is None:
        return None
    hit = _COMPILED.get(found[0])
    if hit is not None:
        _COMPILED.move_to_end(found[0])
        return hit
    row = await s.get(SchemeRow, found[0])
    assert row is not None
    s.expunge(row)  # shared across requests: never attached to (or flushed by) another session
    hit = _COMPILED[row.id] = Compiled(row, scheme_store.to_domain(row), roster_of(row))
    while len(_COMPILED) > _COMPILED_MAX:
        _COMPILED.popitem(last=False)
    return hit


def fields_for(scheme: Scheme, unit_id: str, category: str | None) -> dict[str, FieldSpec]:
    """Every value reported about a unit, whatever the source (unit, department or import)."""
    out: dict[str, FieldSpec] = {}
    for source in SOURCES:
        out.update(submission_fields(scheme, unit_id, category, source=source))  # type: ignore[arg-type]
    return out


def roster_of(row: SchemeRow) -> dict[str, str]:
    return {u["unit_id"]: u["category"] for u in (row.units or [])}


Memo = dict[tuple[str, int], Compiled | None]  # (assessing unit, year) → scheme, within one request


async def resolve(
    s: AsyncSession,
    *,
    unit_id: str,
    unit_path: str,
    code: str,
    period: str,
    assessing_unit: str | None,
    memo: Memo | None = None,
) -> Target:
    """The nearest published scheme above the unit that asks for `code`."""
    year = int(period[:4])
    if assessing_unit is not None:
        candidates = [assessing_unit]
    else:
        candidates = list(reversed(unit_path.strip("/").split("/")[:-1]))  # nearest ancestor first
    for au in candidates:
        if memo is None:
            compiled = await published(s, au, year)
        elif (au, year) in memo:
            compiled = memo[(au, year)]
        else:
            compiled = memo[(au, year)] = await published(s, au, year)
        if compiled is None:
            continue
        roster = compiled.roster
        if roster and unit_id not in roster:
            continue
        fields, leaves = compiled.view(unit_id)
        if code in fields:
            row, leaf = compiled.row, leaves.get(code)
            if leaf is not None:
                source, department = leaf.source, leaf.department
            else:
                element = next(e for e in compiled.scheme.data_elements if e.name == code)
                source, department = element.source, element.department
            return Target(
                code,
                fields[code],
                row=row,
                leaf=leaf,
                category=roster.get(unit_id),
                source=source,
                department=department,
            )
    raise NotFound(
        f"indicator {code} is not in a published scheme for unit {unit_id} in {year}", field="indicator_code"
    )


async def resolve_existing(
    s: AsyncSession, sub: Submission, unit_path: str, memo: Memo | None = None
) -> Target:
    """The target of a stored submission (by its scheme key)."""
    return await resolve(
        s,
        unit_id=sub.unit_id,
        unit_path=unit_path,
        code=sub.code,
        period=sub.period,
        assessing_unit=sub.assessing_unit,
        memo=memo,
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
