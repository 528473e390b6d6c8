"""Schemes (考核方案, "1+N"), indicator trees and categories (分类)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import (
    Connection,
    UserError,
    call,
    connection,
    decode_cursor,
    inp,
    mk,
    page_size,
    payload,
)
from gateway.graphql.scheme_document import (
    Schedule,
    SchemeDocument,
    Standard,
    document_of,
    schedule_of,
    standard_of,
)
from gateway.graphql.scheme_types import SchemeInput, as_document_error, kept_reporting, scheme_param
from gateway.policy import Op
from kaohe.errors import KaoheError


@strawberry.type(description="指标: a node of the indicator tree (一级/二级/三级) with weight and standard")
class IndicatorNode:
    code: str
    name: str
    level: int
    weight: float | None
    direction: str | None
    unit_of_measure: str | None
    target: float | None
    standard: JSON | None = strawberry.field(
        description="评价标准 as JSON", deprecation_reason="use standardTyped (or Scheme.document)"
    )
    schedule: JSON | None = strawberry.field(
        description="时间进度 as JSON", deprecation_reason="use scheduleTyped (or Scheme.document)"
    )
    source: str | None = strawberry.field(description="数据来源")
    department: str | None = strawberry.field(description="责任部门 (unit id)")
    children: list[IndicatorNode]

    @strawberry.field(description="评价标准, typed: one object type per kind (null on a parent)")
    def standard_typed(self) -> Standard | None:
        return standard_of(self.standard)

    @strawberry.field(description="时间进度 (序时进度), typed")
    def schedule_typed(self) -> Schedule:
        return schedule_of(self.schedule)


def _node(d: dict[str, Any]) -> IndicatorNode:
    n = mk(IndicatorNode, {**d, "children": []})
    n.children = [_node(c) for c in d.get("children") or []]
    return n


@strawberry.type(description="考核方案: one assessing unit's scheme for a year, versioned")
class Scheme:
    id: strawberry.ID
    assessing_unit: str
    year: int
    version: int
    status: str = strawberry.field(description="draft | published | superseded")
    name: str | None
    second_review: bool | None
    revision: int | None
    created_by: str | None
    updated_at: datetime | None
    published_at: datetime | None
    published_by: str | None
    scheme: JSON | None = strawberry.field(
        description="the whole scheme as JSON (model field names), e.g. to export it to a file"
    )

    @strawberry.field(description="the whole scheme, typed (null in lists, which carry no body)")
    def document(self) -> SchemeDocument | None:
        return document_of(self.scheme) if self.scheme else None

    @strawberry.field(
        description="分类: the category names the scheme differentiates, as ranking's `category` takes them"
        " (null in lists, which carry no body: ask `scheme(id:)` or `scheme(assessingUnit:, year:)`)"
    )
    def categories(self) -> list[str] | None:
        return list(self.scheme.get("categories") or []) if self.scheme else None

    @strawberry.field(description="共性指标: the trunk's indicator tree")
    def trunk(self) -> list[IndicatorNode]:
        return [_node(d) for d in (self.scheme or {}).get("trunk", [])]

    @strawberry.field(
        description="补充指标 (the N of 1+N) per category or unit, as JSON",
        deprecation_reason="use document.supplements (typed)",
    )
    def supplements(self) -> JSON:
        return (self.scheme or {}).get("supplements", [])


@strawberry.type(description="分类: an assessing unit's category set for a year and its members")
class CategorySet:
    assessing_unit: str
    year: int
    categories: JSON
    members: JSON


@strawberry.type(description="A readable diff between two scheme versions")
class SchemeDiff:
    entries: JSON
    text: str


@strawberry.type
class SchemeQuery:
    @strawberry.field(description="A scheme by id, or the latest (published, else draft) for a unit and year")
    async def scheme(
        self,
        info: Info[Context, None],
        id: strawberry.ID | None = None,
        assessing_unit: str | None = None,
        year: int | None = None,
        version: int | None = None,
    ) -> Scheme:
        params = {"scheme_id": id, "assessing_unit": assessing_unit, "year": year, "version": version}
        r = await call(info, Op.scheme_read, "indicators", "scheme_get", _drop_none(params))
        return mk(Scheme, r)

    @strawberry.field(description="Schemes you can see, by (assessing unit, year, version)")
    async def schemes(
        self,
        info: Info[Context, None],
        assessing_unit: str | None = None,
        year: int | None = None,
        status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Scheme]:
        params = {
            "assessing_unit": assessing_unit,
            "year": year,
            "status": status,
            "first": page_size(info, first),
            "after": decode_cursor(after),
        }
        r = await call(info, Op.scheme_read, "indicators", "scheme_list", _drop_none(params))
        return connection(r["items"], r.get("next"), lambda d: mk(Scheme, d))

    @strawberry.field(description="What changed between two versions (版本差异), in Chinese")
    async def scheme_diff(
        self, info: Info[Context, None], id: strawberry.ID, against_id: strawberry.ID | None = None
    ) -> SchemeDiff:
        params = _drop_none({"scheme_id": id, "against_id": against_id})
        return mk(SchemeDiff, await call(info, Op.scheme_read, "indicators", "scheme_diff", params))

    @strawberry.field(description="The effective leaves of a scheme for one unit (weights after overrides)")
    async def scheme_effective(self, info: Info[Context, None], id: strawberry.ID, unit_id: str) -> JSON:
        params = {"scheme_id": id, "unit_id": unit_id}
        return await call(info, Op.scheme_read, "indicators", "scheme_effective", params)

    @strawberry.field(description="分类 of an assessing unit for a year")
    async def categories(self, info: Info[Context, None], assessing_unit: str, year: int) -> CategorySet:
        params = {"assessing_unit": assessing_unit, "year": year}
        return mk(CategorySet, await call(info, Op.scheme_read, "indicators", "categories_get", params))


@strawberry.input(
    description="保存方案草稿: give the scheme typed (`document`) or as JSON (`scheme`), not both"
)
class SchemeSaveInput:
    assessing_unit: str
    year: int
    document: SchemeInput | None = strawberry.field(
        default=strawberry.UNSET, description="the scheme, typed (its assessing unit and year are these)"
    )
    scheme: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="the scheme as JSON with the model's snake_case field names: the import of a file",
    )
    scheme_id: str | None = None
    expected_revision: int | None = None
    second_review: bool | None = None
    allow_problems: bool = strawberry.field(
        default=False,
        description="保存未完成的草稿: store the draft despite problems (they are listed in `problems`)",
    )


@strawberry.type
class SchemePayload:
    scheme: Scheme | None = None
    problems: JSON | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _saved(info: Info[Context, None], input: SchemeSaveInput) -> SchemePayload:
    params = {k: v for k, v in inp(input).items() if k != "document"}
    params["scheme"] = scheme_param(
        input.scheme, input.document, assessing_unit=input.assessing_unit, year=input.year
    )
    try:
        if input.document:  # typed: a left-out 报送要求 is kept (the JSON import is the whole file)
            params["scheme"] = await kept_reporting(info, params["scheme"], input.scheme_id)
        r = await call(info, Op.scheme_write, "indicators", "scheme_save", params)
    except KaoheError as e:
        raise (as_document_error(e) if input.document else e) from None
    return SchemePayload(scheme=mk(Scheme, r["scheme"]), problems=r.get("problems"))


@strawberry.type
class SchemeMutation:
    @strawberry.mutation(
        description="保存方案草稿 (validated; problems listed with precise Chinese messages)"
    )
    async def scheme_save(self, info: Info[Context, None], input: SchemeSaveInput) -> SchemePayload:
        try:
            return await _saved(info, input)
        except Exception as e:
            return _err(SchemePayload, e)

    @strawberry.mutation(description="发布方案: the version becomes immutable and is issued downward")
    async def scheme_publish(
        self, info: Info[Context, None], scheme_id: str, expected_revision: int | None = None
    ) -> SchemePayload:
        params = _drop_none({"scheme_id": scheme_id, "expected_revision": expected_revision})
        return await payload(SchemePayload, "scheme", _scheme(info, "scheme_publish", params))

    @strawberry.mutation(description="新版本: a new draft from a published scheme")
    async def scheme_new_version(self, info: Info[Context, None], scheme_id: str) -> SchemePayload:
        return await payload(
            SchemePayload, "scheme", _scheme(info, "scheme_new_version", {"scheme_id": scheme_id})
        )


async def _scheme(info: Info[Context, None], method: str, params: dict[str, Any]) -> Scheme:
    return mk(Scheme, await call(info, Op.scheme_write, "indicators", method, params))


def _err(cls: Any, e: Exception) -> Any:
    if not isinstance(e, KaoheError):
        raise e
    return cls(errors=[UserError.of(e)], problems=e.details or None)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if k.endswith("_id") and v is not None else v) for k, v in d.items() if v is not None}
