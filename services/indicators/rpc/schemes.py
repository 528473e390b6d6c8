"""Schemes (考核方案) RPC: draft → published (immutable) → new version with a diff."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, model_validator
from sqlalchemy import literal, text, tuple_
from sqlmodel import col, select

from kaohe.contracts.indicators import RosterUnit, SchemePublished
from kaohe.contracts.scheme import (
    Scheme,
    counted_total,
    effective_leaves,
    unit_coefficient,
    with_unit_targets,
)
from kaohe.errors import Conflict, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain import check_decomposition, diff_schemes, render_diff
from services.indicators.domain.access import OFFICE
from services.indicators.domain.decompose import Decomposition, Rule
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import SchemeRow
from services.indicators.repository import schemes as store
from services.indicators.repository.units import require_unit
from services.indicators.rpc.common import decode_cursor, emit, page, uow
from services.indicators.schemas import In, Page

AU = Field(max_length=40)
YEAR = Field(ge=2000, le=2100)


class SchemeSave(In):
    assessing_unit: str = AU
    year: int = YEAR
    scheme: Scheme
    scheme_id: str | None = Field(None, max_length=64)
    expected_revision: int | None = None
    second_review: bool = False
    allow_problems: bool = False

    @model_validator(mode="after")
    def _same_owner(self) -> SchemeSave:
        if (self.scheme.assessing_unit, self.scheme.year) != (self.assessing_unit, self.year):
            raise ValueError("scheme.assessing_unit and scheme.year must equal assessing_unit and year")
        return self


class SchemeCheck(In):
    assessing_unit: str = AU
    year: int = YEAR
    scheme: Scheme


class SchemeRef(In):
    scheme_id: str = Field(max_length=64)
    expected_revision: int | None = None


class SchemeGet(In):
    scheme_id: str | None = Field(None, max_length=64)
    assessing_unit: str | None = Field(None, max_length=40)
    year: int | None = None
    version: int | None = None


class SchemeList(Page):
    assessing_unit: str | None = Field(None, max_length=40)
    year: int | None = None
    status: Literal["draft", "published", "superseded"] | None = None


class SchemeDiff(In):
    scheme_id: str = Field(max_length=64)
    against_id: str | None = Field(None, max_length=64)


class SchemeEffective(In):
    scheme_id: str = Field(max_length=64)
    unit_id: str = Field(max_length=40)


class SplitTarget(In):  # 指标分解
    scheme_id: str = Field(max_length=64)
    code: str = Field(max_length=64)
    rule: Rule = "sum_equals"
    parent_target: float
    shares: dict[str, float] = Field(min_length=1, max_length=10_000)
    tolerance: float = Field(0.0, ge=0)


def _immutable(row: SchemeRow) -> Conflict:
    return Conflict(
        f"scheme {row.assessing_unit} {row.year} v{row.version} is {row.status} and cannot be edited;"
        " call scheme_new_version to start a new draft",
        field="scheme_id",
        code=IndicatorsErrorCode.SCHEME_PUBLISHED,
    )


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()

    @rpc.method("scheme_validate", SchemeCheck)
    async def scheme_validate(caller: Caller, p: SchemeCheck) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with uow(rt) as s:
            await require_unit(s, caller, p.assessing_unit, "assessing_unit")
            problems = await store.problems_of(s, p.scheme)
        return {"ok": not problems, "problems": [x.model_dump(mode="json") for x in problems]}

    @rpc.method("scheme_save", SchemeSave)
    async def scheme_save(caller: Caller, p: SchemeSave) -> dict[str, Any]:
        caller.require(*OFFICE)
        now = datetime.now(UTC)
        async with uow(rt) as s:
            await require_unit(s, caller, p.assessing_unit, "assessing_unit")
            problems = await store.problems_of(s, p.scheme)
            if problems and not p.allow_problems:
                raise store.invalid(problems)
            if p.scheme_id is not None:
                row = await store.get_row(s, caller, p.scheme_id, lock=True)
                if row.status != "draft":
                    raise _immutable(row)
                if (row.assessing_unit, row.year) != (p.assessing_unit, p.year):
                    raise ValidationFailed(
                        "the draft belongs to another assessing unit or year", field="scheme_id"
                    )
                if p.expected_revision is not None and p.expected_revision != row.revision:
                    raise Conflict(
                        "the draft was changed by someone else",
                        field="expected_revision",
                        code=IndicatorsErrorCode.REVISION_CONFLICT,
                    )
                row.revision += 1
            else:
                drafts = (
                    await s.exec(
                        select(SchemeRow).where(
                            SchemeRow.assessing_unit == p.assessing_unit,
                            SchemeRow.year == p.year,
                            SchemeRow.status == "draft",
                        )
                    )
                ).first()
                if drafts is not None:
                    raise Conflict(
                        f"a draft already exists ({drafts.id}); save into it with scheme_id",
                        field="scheme_id",
                        code=IndicatorsErrorCode.SCHEME_DRAFT_EXISTS,
                    )
                newest = await store.latest(s, p.assessing_unit, p.year, published=False)
                row = SchemeRow(
                    id=uuid.uuid4().hex,
                    assessing_unit=p.assessing_unit,
                    year=p.year,
                    version=(newest.version + 1) if newest else 1,
                    body={},
                    created_by=caller.user_id,
                )
            body = p.scheme.model_copy(update={"version": row.version})
            row.body, row.name, row.second_review, row.updated_at = (
                body.model_dump(mode="json"),
                body.name,
                p.second_review,
                now,
            )
            s.add(row)
            await s.flush()
            return {"scheme": store.public(row), "problems": [x.model_dump(mode="json") for x in problems]}

    @rpc.method("scheme_publish", SchemeRef)
    async def scheme_publish(caller: Caller, p: SchemeRef) -> dict[str, Any]:
        caller.require(*OFFICE)
        now = datetime.now(UTC)
        async with uow(rt) as s:
            row = await store.get_row(s, caller, p.scheme_id, lock=True)
            await require_unit(s, caller, row.assessing_unit, "scheme_id")
            if row.status != "draft":
                raise _immutable(row)
            if p.expected_revision is not None and p.expected_revision != row.revision:
                raise Conflict(
                    "the draft was changed by someone else",
                    field="expected_revision",
                    code=IndicatorsErrorCode.REVISION_CONFLICT,
                )
            problems = await store.problems_of(s, store.to_domain(row))
            if problems:
                raise store.invalid(problems)
            previous = await store.latest(s, row.assessing_unit, row.year)
            if previous is not None:
                previous.status = "superseded"
                s.add(previous)
            units = await store.roster_units(s, row.assessing_unit, row.year)
            row.status, row.published_at, row.published_by, row.units = (
                "published",
                now,
                caller.user_id,
                units,
            )
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
            await emit(rt, s, caller, data, subject=row.id)
            await s.flush()
            return store.public(row)

    @rpc.method("scheme_new_version", SchemeRef)
    async def scheme_new_version(caller: Caller, p: SchemeRef) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with uow(rt) as s:
            src = await store.get_row(s, caller, p.scheme_id)
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
            return store.public(row)

    @rpc.method("scheme_get", SchemeGet)
    async def scheme_get(caller: Caller, p: SchemeGet) -> dict[str, Any]:
        async with uow(rt) as s:
            if p.scheme_id is not None:
                return store.public(await store.get_row(s, caller, p.scheme_id))
            if p.assessing_unit is None or p.year is None:
                raise ValidationFailed("give scheme_id, or assessing_unit and year", field="scheme_id")
            await store.readable_path(s, caller, p.assessing_unit, "assessing_unit")
            q = select(SchemeRow).where(
                SchemeRow.assessing_unit == p.assessing_unit, SchemeRow.year == p.year
            )
            if p.version is not None:
                row = (await s.exec(q.where(SchemeRow.version == p.version))).first()
            else:
                row = await store.latest(s, p.assessing_unit, p.year) or await store.latest(
                    s, p.assessing_unit, p.year, published=False
                )
            if row is None:
                raise ValidationFailed(
                    f"no scheme for {p.assessing_unit} {p.year}",
                    field="year",
                    code=IndicatorsErrorCode.NOT_FOUND,
                )
            return store.public(row)

    @rpc.method("scheme_list", SchemeList)
    async def scheme_list(caller: Caller, p: SchemeList) -> dict[str, Any]:
        after = decode_cursor(p.after, 3)
        async with uow(rt) as s:
            q = select(SchemeRow)
            if p.assessing_unit:
                q = q.where(SchemeRow.assessing_unit == p.assessing_unit)
            if p.year:
                q = q.where(SchemeRow.year == p.year)
            if p.status:
                q = q.where(SchemeRow.status == p.status)
            if after:
                key = (col(SchemeRow.assessing_unit), col(SchemeRow.year), col(SchemeRow.version))
                q = q.where(
                    tuple_(*key) > tuple_(literal(after[0]), literal(int(after[1])), literal(int(after[2])))
                )
            q = q.order_by(col(SchemeRow.assessing_unit), col(SchemeRow.year), col(SchemeRow.version))
            found = (await s.exec(q.limit(5000))).all()
            ids = list({r.assessing_unit for r in found})
            paths = dict(
                (await s.execute(text("SELECT id, path FROM unit WHERE id = ANY(:i)"), {"i": ids})).all()
            )
        rows = [(r, paths.get(r.assessing_unit, "\x00")) for r in found]
        ok = [r for r, path in rows if caller.covers(path) or caller.org_path.startswith(path)]
        return page(
            [store.public(r, body=False) for r in ok],
            p.first,
            lambda x: (x["assessing_unit"], x["year"], x["version"]),
        )

    @rpc.method("scheme_diff", SchemeDiff)
    async def scheme_diff(caller: Caller, p: SchemeDiff) -> dict[str, Any]:
        async with uow(rt) as s:
            new = await store.get_row(s, caller, p.scheme_id)
            if p.against_id is not None:
                old = await store.get_row(s, caller, p.against_id)
            else:
                old = (
                    await s.exec(
                        select(SchemeRow).where(
                            SchemeRow.assessing_unit == new.assessing_unit,
                            SchemeRow.year == new.year,
                            SchemeRow.version == new.version - 1,
                        )
                    )
                ).first()
                if old is None:
                    raise ValidationFailed(
                        "version 1 has no previous version; give against_id", field="against_id"
                    )
        a, b = store.to_domain(old), store.to_domain(new)
        entries = diff_schemes(a, b)
        return {
            "entries": [e.model_dump(mode="json") for e in entries],
            "text": render_diff(entries, old=a, new=b),
        }

    @rpc.method("scheme_effective", SchemeEffective)
    async def scheme_effective(caller: Caller, p: SchemeEffective) -> dict[str, Any]:
        async with uow(rt) as s:
            row = await store.get_row(s, caller, p.scheme_id)
            await require_unit(s, caller, p.unit_id)
            roster = (
                {u["unit_id"]: u["category"] for u in row.units}
                if row.units is not None
                else (await store.roster(s, row.assessing_unit, row.year))
            )
        scheme = store.to_domain(row)
        category = roster.get(p.unit_id)
        leaves = effective_leaves(scheme, p.unit_id, category)
        return {
            "unit_id": p.unit_id,
            "category": category,
            "coefficient": unit_coefficient(scheme, p.unit_id),
            "total": counted_total(leaves),
            "leaves": [x.model_dump(mode="json") for x in leaves],
        }

    @rpc.method("scheme_split_target", SplitTarget)
    async def scheme_split_target(caller: Caller, p: SplitTarget) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with uow(rt) as s:
            row = await store.get_row(s, caller, p.scheme_id, lock=True)
            await require_unit(s, caller, row.assessing_unit, "scheme_id")
            if row.status != "draft":
                raise _immutable(row)
            scheme = store.to_domain(row)
            roster = await store.roster(s, row.assessing_unit, row.year)
            children = [
                u
                for u, cat in roster.items()
                if any(x.code == p.code for x in effective_leaves(scheme, u, cat))
            ]
            if not children:
                raise ValidationFailed(f"indicator {p.code} applies to no unit of the roster", field="code")
            d = Decomposition(
                indicator_code=p.code,
                parent_target=p.parent_target,
                rule=p.rule,
                tolerance=p.tolerance,
                shares=p.shares,
            )
            problems = check_decomposition(d, children=children, where=scheme.label)
            if problems:
                raise store.invalid(problems, "split")
            row.body = with_unit_targets(scheme, p.code, p.shares).model_dump(mode="json")
            row.revision += 1
            row.updated_at = datetime.now(UTC)
            s.add(row)
            await s.flush()
            return {"scheme": store.public(row), "problems": []}
