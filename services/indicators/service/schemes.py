"""Scheme use cases (考核方案): validate, save drafts, publish (immutable), new versions, reads, 指标分解.

Plain functions of a session and a caller: they never commit and emit `scheme.published` through the
outbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.indicators import RosterUnit, SchemePublished
from kaohe.contracts.scheme import (
    Scheme,
    counted_total,
    effective_leaves,
    unit_coefficient,
    with_unit_targets,
)
from kaohe.errors import Conflict, ValidationFailed
from kaohe.events import Outbox
from kaohe.identity import Caller
from services.indicators.domain import check_decomposition, diff_schemes, render_diff
from services.indicators.domain.decompose import Decomposition, Rule
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import SchemeRow
from services.indicators.repository import schemes as store
from services.indicators.repository.units import require_unit


def _immutable(row: SchemeRow) -> Conflict:
    return Conflict(
        f"scheme {row.assessing_unit} {row.year} v{row.version} is {row.status} and cannot be edited;"
        " call scheme_new_version to start a new draft",
        field="scheme_id",
        code=IndicatorsErrorCode.SCHEME_PUBLISHED,
    )


def _revision(row: SchemeRow, expected: int | None) -> None:
    if expected is not None and expected != row.revision:
        raise Conflict(
            "the draft was changed by someone else",
            field="expected_revision",
            code=IndicatorsErrorCode.REVISION_CONFLICT,
        )


async def validate(s: AsyncSession, *, caller: Caller, assessing_unit: str, scheme: Scheme) -> dict[str, Any]:
    """Every problem of the scheme, without saving it."""
    await require_unit(s, caller, assessing_unit, "assessing_unit")
    problems = await store.problems_of(s, scheme)
    return {"ok": not problems, "problems": [x.model_dump(mode="json") for x in problems]}


async def save(
    s: AsyncSession,
    *,
    caller: Caller,
    assessing_unit: str,
    year: int,
    scheme: Scheme,
    scheme_id: str | None,
    expected_revision: int | None,
    second_review: bool,
    allow_problems: bool,
    now: datetime,
) -> dict[str, Any]:
    """Save a draft (a new one, or into `scheme_id`); problems refuse it unless `allow_problems`."""
    await require_unit(s, caller, assessing_unit, "assessing_unit")
    problems = await store.problems_of(s, scheme)
    if problems and not allow_problems:
        raise store.invalid(problems)
    if scheme_id is not None:
        row = await store.get_row(s, caller, scheme_id, lock=True)
        if row.status != "draft":
            raise _immutable(row)
        if (row.assessing_unit, row.year) != (assessing_unit, year):
            raise ValidationFailed("the draft belongs to another assessing unit or year", field="scheme_id")
        _revision(row, expected_revision)
        row.revision += 1
    else:
        draft = await store.draft_of(s, assessing_unit, year)
        if draft is not None:
            raise Conflict(
                f"a draft already exists ({draft.id}); save into it with scheme_id",
                field="scheme_id",
                code=IndicatorsErrorCode.SCHEME_DRAFT_EXISTS,
            )
        newest = await store.latest(s, assessing_unit, year, published=False)
        row = SchemeRow(
            id=uuid.uuid4().hex,
            assessing_unit=assessing_unit,
            year=year,
            version=(newest.version + 1) if newest else 1,
            body={},
            created_by=caller.user_id,
        )
    body = scheme.model_copy(update={"version": row.version})
    row.body, row.name, row.second_review, row.updated_at = (
        body.model_dump(mode="json"),
        body.name,
        second_review,
        now,
    )
    s.add(row)
    await s.flush()
    return {"scheme": store.public(row), "problems": [x.model_dump(mode="json") for x in problems]}


async def publish(
    s: AsyncSession,
    *,
    caller: Caller,
    outbox: Outbox,
    scheme_id: str,
    expected_revision: int | None,
    now: datetime,
) -> SchemeRow:
    """The draft becomes the published version (immutable; the previous one is superseded), roster frozen."""
    row = await store.get_row(s, caller, scheme_id, lock=True)
    await require_unit(s, caller, row.assessing_unit, "scheme_id")
    if row.status != "draft":
        raise _immutable(row)
    _revision(row, expected_revision)
    problems = await store.problems_of(s, store.to_domain(row))
    if problems:
        raise store.invalid(problems)
    previous = await store.latest(s, row.assessing_unit, row.year)
    if previous is not None:
        previous.status = "superseded"
        s.add(previous)
    units = await store.roster_units(s, row.assessing_unit, row.year)
    row.status, row.published_at, row.published_by, row.units = "published", now, caller.user_id, units
    s.add(row)
    data = SchemePublished(
        scheme_id=row.id,
        assessing_unit=row.assessing_unit,
        year=row.year,
        version=row.version,
        scheme=store.to_domain(row),
        units=[RosterUnit.model_validate(u) for u in units],
        published_at=now,
        published_by=caller.user_id,
        second_review=row.second_review,
        supersedes_version=None if previous is None else previous.version,
    )
    await outbox.emit(s, data.event(subject=row.id, trace_id=caller.trace_id))
    await s.flush()
    return row


async def new_version(s: AsyncSession, *, caller: Caller, scheme_id: str) -> SchemeRow:
    """A new draft copied from a published (or superseded) version."""
    src = await store.get_row(s, caller, scheme_id)
    await require_unit(s, caller, src.assessing_unit, "scheme_id")
    if src.status == "draft":
        raise Conflict(
            "the scheme is still a draft; edit it with scheme_save",
            field="scheme_id",
            code=IndicatorsErrorCode.SCHEME_DRAFT_EXISTS,
        )
    newest = await store.latest(s, src.assessing_unit, src.year, published=False)
    assert newest is not None
    if newest.status == "draft":
        raise Conflict(
            f"a draft already exists ({newest.id})",
            field="scheme_id",
            code=IndicatorsErrorCode.SCHEME_DRAFT_EXISTS,
        )
    version = newest.version + 1
    row = SchemeRow(
        id=uuid.uuid4().hex,
        assessing_unit=src.assessing_unit,
        year=src.year,
        version=version,
        name=src.name,
        second_review=src.second_review,
        body={**src.body, "version": version},
        created_by=caller.user_id,
    )
    s.add(row)
    await s.flush()
    return row


async def get(
    s: AsyncSession,
    *,
    caller: Caller,
    scheme_id: str | None,
    assessing_unit: str | None,
    year: int | None,
    version: int | None,
) -> SchemeRow:
    """A scheme by id, or an assessing unit's version for a year (default: the published, else the draft)."""
    if scheme_id is not None:
        return await store.get_row(s, caller, scheme_id)
    if assessing_unit is None or year is None:
        raise ValidationFailed("give scheme_id, or assessing_unit and year", field="scheme_id")
    await store.readable_path(s, caller, assessing_unit, "assessing_unit")
    if version is not None:
        row = await store.by_version(s, assessing_unit, year, version)
    else:
        row = await store.latest(s, assessing_unit, year) or await store.latest(
            s, assessing_unit, year, published=False
        )
    if row is None:
        raise ValidationFailed(
            f"no scheme for {assessing_unit} {year}", field="year", code=IndicatorsErrorCode.NOT_FOUND
        )
    return row


async def diff(s: AsyncSession, *, caller: Caller, scheme_id: str, against_id: str | None) -> dict[str, Any]:
    """What changed from the previous version (or `against_id`): entries and a Chinese text."""
    new = await store.get_row(s, caller, scheme_id)
    if against_id is not None:
        old = await store.get_row(s, caller, against_id)
    else:
        found = await store.by_version(s, new.assessing_unit, new.year, new.version - 1)
        if found is None:
            raise ValidationFailed("version 1 has no previous version; give against_id", field="against_id")
        old = found
    a, b = store.to_domain(old), store.to_domain(new)
    entries = diff_schemes(a, b)
    return {
        "entries": [e.model_dump(mode="json") for e in entries],
        "text": render_diff(entries, old=a, new=b),
    }


async def effective(s: AsyncSession, *, caller: Caller, scheme_id: str, unit_id: str) -> dict[str, Any]:
    """The leaves a unit is assessed on under the scheme, with its category and coefficient."""
    row = await store.get_row(s, caller, scheme_id)
    await require_unit(s, caller, unit_id)
    roster = (
        {u["unit_id"]: u["category"] for u in row.units}
        if row.units is not None
        else (await store.roster(s, row.assessing_unit, row.year))
    )
    scheme = store.to_domain(row)
    category = roster.get(unit_id)
    leaves = effective_leaves(scheme, unit_id, category)
    return {
        "unit_id": unit_id,
        "category": category,
        "coefficient": unit_coefficient(scheme, unit_id),
        "total": counted_total(leaves),
        "leaves": [x.model_dump(mode="json") for x in leaves],
    }


async def split_target(
    s: AsyncSession,
    *,
    caller: Caller,
    scheme_id: str,
    code: str,
    rule: Rule,
    parent_target: float,
    shares: dict[str, float],
    tolerance: float,
    now: datetime,
) -> dict[str, Any]:
    """指标分解: a leaf's target split among the roster members it applies to, checked, into the draft."""
    row = await store.get_row(s, caller, scheme_id, lock=True)
    await require_unit(s, caller, row.assessing_unit, "scheme_id")
    if row.status != "draft":
        raise _immutable(row)
    scheme = store.to_domain(row)
    roster = await store.roster(s, row.assessing_unit, row.year)
    children = [
        u for u, cat in roster.items() if any(x.code == code for x in effective_leaves(scheme, u, cat))
    ]
    if not children:
        raise ValidationFailed(f"indicator {code} applies to no unit of the roster", field="code")
    d = Decomposition(
        indicator_code=code, parent_target=parent_target, rule=rule, tolerance=tolerance, shares=shares
    )
    problems = check_decomposition(d, children=children, where=scheme.label)
    if problems:
        raise store.invalid(problems, "split")
    row.body = with_unit_targets(scheme, code, shares).model_dump(mode="json")
    row.revision += 1
    row.updated_at = now
    s.add(row)
    await s.flush()
    return {"scheme": store.public(row), "problems": []}
