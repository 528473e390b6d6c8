"""Scheme and category persistence helpers (方案存储): rows ↔ domain `Scheme`, rosters, scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal, text, tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.scheme import Scheme
from kaohe.errors import NotFound, ValidationFailed
from kaohe.identity import Caller
from services.indicators.domain import Problem, validate_inheritance, validate_scheme
from services.indicators.domain.errors import problem
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import SchemeRow
from services.indicators.repository.units import unit_path


def to_domain(row: SchemeRow) -> Scheme:
    return Scheme.model_validate(row.body)


def public(row: SchemeRow, *, body: bool = True) -> dict[str, Any]:
    out = {
        "id": row.id,
        "assessing_unit": row.assessing_unit,
        "year": row.year,
        "version": row.version,
        "status": row.status,
        "name": row.name,
        "second_review": row.second_review,
        "revision": row.revision,
        "created_by": row.created_by,
        "updated_at": row.updated_at.isoformat(),
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "published_by": row.published_by,
    }
    if body:
        out["scheme"] = row.body
    return out


async def readable_path(s: AsyncSession, caller: Caller, assessing_unit: str, field: str) -> str:
    """The assessing unit's path if the caller covers it or sits inside it (an assessed unit)."""
    path = await unit_path(s, assessing_unit)
    if path is None or not (caller.covers(path) or caller.org_path.startswith(path)):
        raise NotFound(f"unit {assessing_unit} not found", field=field)
    return path


async def get_row(s: AsyncSession, caller: Caller, scheme_id: str, *, lock: bool = False) -> SchemeRow:
    q = select(SchemeRow).where(SchemeRow.id == scheme_id)
    if lock:
        q = q.with_for_update()
    row = (await s.exec(q)).first()
    if row is None:
        raise NotFound(f"scheme {scheme_id} not found", field="scheme_id")
    await readable_path(s, caller, row.assessing_unit, "scheme_id")
    return row


async def latest(
    s: AsyncSession, assessing_unit: str, year: int, *, published: bool = True
) -> SchemeRow | None:
    """The current published version (or, with published=False, the newest of any status)."""
    q = select(SchemeRow).where(SchemeRow.assessing_unit == assessing_unit, SchemeRow.year == year)
    if published:
        q = q.where(SchemeRow.status == "published")
    return (await s.exec(q.order_by(col(SchemeRow.version).desc()).limit(1))).first()


async def roster(s: AsyncSession, assessing_unit: str, year: int) -> dict[str, str]:
    """{unit_id: category} of the year's category members (分类名单)."""
    rows = await s.execute(
        text(
            "SELECT unit_id, category FROM category_member WHERE assessing_unit = :a AND year = :y"
            " ORDER BY unit_id"
        ),
        {"a": assessing_unit, "y": year},
    )
    return {r[0]: r[1] for r in rows}


async def roster_units(s: AsyncSession, assessing_unit: str, year: int) -> list[dict[str, Any]]:
    """The roster with names and current paths, as the scheme.published event lists it."""
    rows = await s.execute(
        text(
            "SELECT m.unit_id, u.name, u.path, m.category"
            " FROM category_member m JOIN unit u ON u.id = m.unit_id"
            " WHERE m.assessing_unit = :a AND m.year = :y ORDER BY u.path"
        ),
        {"a": assessing_unit, "y": year},
    )
    return [dict(r._mapping) for r in rows]


async def problems_of(s: AsyncSession, scheme: Scheme) -> list[Problem]:
    """validate_scheme against the roster, plus 承接 checks against the parent's published scheme."""
    out = validate_scheme(scheme, await roster(s, scheme.assessing_unit, scheme.year))
    if scheme.parent is not None:
        parent = await latest(s, scheme.parent.assessing_unit, scheme.parent.year)
        if parent is None:
            detail = f"上级方案（{scheme.parent.assessing_unit} {scheme.parent.year}）尚未发布，无法承接"
            out.append(problem(scheme.label, IndicatorsErrorCode.PARENT_SCHEME_MISMATCH, detail))
        else:
            out += validate_inheritance(scheme, to_domain(parent))
    return out


def invalid(problems: list[Problem], what: str = "scheme") -> ValidationFailed:
    """Every problem in `details`; the message names the first and the count."""
    first = problems[0]
    return ValidationFailed(
        f"{len(problems)} problem(s) in the {what}; first: {first.message}",
        field=what,
        code=f"{what}_invalid",
        details=[p.model_dump(mode="json") for p in problems],
    )


async def draft_of(s: AsyncSession, assessing_unit: str, year: int) -> SchemeRow | None:
    """The assessing unit's open draft for the year, if any."""
    q = select(SchemeRow).where(
        SchemeRow.assessing_unit == assessing_unit, SchemeRow.year == year, SchemeRow.status == "draft"
    )
    return (await s.exec(q)).first()


async def by_version(s: AsyncSession, assessing_unit: str, year: int, version: int) -> SchemeRow | None:
    """One version of the assessing unit's scheme for the year."""
    q = select(SchemeRow).where(
        SchemeRow.assessing_unit == assessing_unit, SchemeRow.year == year, SchemeRow.version == version
    )
    return (await s.exec(q)).first()


async def page_of(
    s: AsyncSession,
    caller: Caller,
    *,
    assessing_unit: str | None,
    year: int | None,
    status: str | None,
    after: list[str] | None,
) -> list[SchemeRow]:
    """Scheme versions by (assessing unit, year, version) after the cursor that the caller may read.

    A caller reads the schemes of units in its subtree and of the units above it (the schemes it is
    assessed by)."""
    q = select(SchemeRow)
    if assessing_unit:
        q = q.where(SchemeRow.assessing_unit == assessing_unit)
    if year:
        q = q.where(SchemeRow.year == year)
    if status:
        q = q.where(SchemeRow.status == status)
    if after:
        key = (col(SchemeRow.assessing_unit), col(SchemeRow.year), col(SchemeRow.version))
        q = q.where(tuple_(*key) > tuple_(literal(after[0]), literal(int(after[1])), literal(int(after[2]))))
    q = q.order_by(col(SchemeRow.assessing_unit), col(SchemeRow.year), col(SchemeRow.version))
    found = (await s.exec(q.limit(5000))).all()
    ids = list({r.assessing_unit for r in found})
    paths = dict((await s.execute(text("SELECT id, path FROM unit WHERE id = ANY(:i)"), {"i": ids})).all())
    rows = [(r, paths.get(r.assessing_unit, "\x00")) for r in found]
    return [r for r, path in rows if caller.covers(path) or caller.org_path.startswith(path)]
