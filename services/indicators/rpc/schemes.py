"""Schemes (考核方案) RPC: draft → published (immutable) → new version with a diff; thin handlers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from kaohe.contracts.pages import PageRequest, Request, decode_cursor, page
from kaohe.contracts.scheme import Scheme
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain.access import OFFICE
from services.indicators.domain.decompose import Rule
from services.indicators.repository import schemes as store
from services.indicators.rpc.common import uow
from services.indicators.service import schemes as service

AU = Field(max_length=40)
YEAR = Field(ge=2000, le=2100)


class SchemeSave(Request):
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


class SchemeCheck(Request):
    assessing_unit: str = AU
    year: int = YEAR
    scheme: Scheme


class SchemeRef(Request):
    scheme_id: str = Field(max_length=64)
    expected_revision: int | None = None


class SchemeGet(Request):
    scheme_id: str | None = Field(None, max_length=64)
    assessing_unit: str | None = Field(None, max_length=40)
    year: int | None = None
    version: int | None = None


class SchemeList(PageRequest):
    assessing_unit: str | None = Field(None, max_length=40)
    year: int | None = None
    status: Literal["draft", "published", "superseded"] | None = None


class SchemeDiff(Request):
    scheme_id: str = Field(max_length=64)
    against_id: str | None = Field(None, max_length=64)


class SchemeEffective(Request):
    scheme_id: str = Field(max_length=64)
    unit_id: str = Field(max_length=40)


class SplitTarget(Request):  # 指标分解
    scheme_id: str = Field(max_length=64)
    code: str = Field(max_length=64)
    rule: Rule = "sum_equals"
    parent_target: float
    shares: dict[str, float] = Field(min_length=1, max_length=10_000)
    tolerance: float = Field(0.0, ge=0)


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()

    @rpc.method("scheme_validate", SchemeCheck)
    async def scheme_validate(caller: Caller, p: SchemeCheck) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with uow(rt) as s:
            return await service.validate(s, caller=caller, assessing_unit=p.assessing_unit, scheme=p.scheme)

    @rpc.method("scheme_save", SchemeSave)
    async def scheme_save(caller: Caller, p: SchemeSave) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with uow(rt) as s:
            return await service.save(
                s,
                caller=caller,
                assessing_unit=p.assessing_unit,
                year=p.year,
                scheme=p.scheme,
                scheme_id=p.scheme_id,
                expected_revision=p.expected_revision,
                second_review=p.second_review,
                allow_problems=p.allow_problems,
                now=datetime.now(UTC),
            )

    @rpc.method("scheme_publish", SchemeRef)
    async def scheme_publish(caller: Caller, p: SchemeRef) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with uow(rt) as s:
            row = await service.publish(
                s,
                caller=caller,
                outbox=rt.outbox,
                scheme_id=p.scheme_id,
                expected_revision=p.expected_revision,
                now=datetime.now(UTC),
            )
            return store.public(row)

    @rpc.method("scheme_new_version", SchemeRef)
    async def scheme_new_version(caller: Caller, p: SchemeRef) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with uow(rt) as s:
            return store.public(await service.new_version(s, caller=caller, scheme_id=p.scheme_id))

    @rpc.method("scheme_get", SchemeGet)
    async def scheme_get(caller: Caller, p: SchemeGet) -> dict[str, Any]:
        async with uow(rt) as s:
            row = await service.get(
                s,
                caller=caller,
                scheme_id=p.scheme_id,
                assessing_unit=p.assessing_unit,
                year=p.year,
                version=p.version,
            )
            return store.public(row)

    @rpc.method("scheme_list", SchemeList)
    async def scheme_list(caller: Caller, p: SchemeList) -> dict[str, Any]:
        after = decode_cursor(p.after, 3)
        async with uow(rt) as s:
            rows = await store.page_of(
                s, caller, assessing_unit=p.assessing_unit, year=p.year, status=p.status, after=after
            )
        return page(
            [store.public(r, body=False) for r in rows],
            p.first,
            lambda x: (x["assessing_unit"], x["year"], x["version"]),
        )

    @rpc.method("scheme_diff", SchemeDiff)
    async def scheme_diff(caller: Caller, p: SchemeDiff) -> dict[str, Any]:
        async with uow(rt) as s:
            return await service.diff(s, caller=caller, scheme_id=p.scheme_id, against_id=p.against_id)

    @rpc.method("scheme_effective", SchemeEffective)
    async def scheme_effective(caller: Caller, p: SchemeEffective) -> dict[str, Any]:
        async with uow(rt) as s:
            return await service.effective(s, caller=caller, scheme_id=p.scheme_id, unit_id=p.unit_id)

    @rpc.method("scheme_split_target", SplitTarget)
    async def scheme_split_target(caller: Caller, p: SplitTarget) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with uow(rt) as s:
            return await service.split_target(
                s,
                caller=caller,
                scheme_id=p.scheme_id,
                code=p.code,
                rule=p.rule,
                parent_target=p.parent_target,
                shares=p.shares,
                tolerance=p.tolerance,
                now=datetime.now(UTC),
            )
