"""Office tools around a scheme: 分类 membership, validation without saving, 指标分解 (target split)."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import UserError, call, capped, mk
from gateway.graphql.scheme_types import SchemeInput, as_document_error, scheme_param
from gateway.graphql.schemes import CategorySet, Scheme
from gateway.policy import Op
from kaohe.errors import KaoheError, ValidationFailed


@strawberry.type(description="A problem of a scheme or split: where (path), what (code), a Chinese message")
class SchemeProblem:
    path: str
    code: str
    message: str


def _problems(raw: object) -> list[SchemeProblem]:
    return [mk(SchemeProblem, p) for p in raw or [] if isinstance(p, dict)]  # type: ignore[attr-defined]


@strawberry.input(description="A category (类别) of the year's set, e.g. 县区, 乡镇, 市直")
class CategoryInput:
    name: str
    description: str = ""


@strawberry.input(description="A unit assessed in a category")
class CategoryMemberInput:
    unit_id: str
    category: str


@strawberry.input(description="分类: the whole category set of an assessing unit for a year (replaces it)")
class CategoriesSetInput:
    assessing_unit: str
    year: int
    categories: list[CategoryInput]
    members: list[CategoryMemberInput]


@strawberry.type
class CategorySetPayload:
    category_set: CategorySet | None = None
    problems: list[SchemeProblem] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="方案校验: the result of checking a scheme document without storing it")
class SchemeValidation:
    ok: bool
    problems: list[SchemeProblem]


@strawberry.enum(description="How a parent target is split among child units (指标分解规则)")
class SplitRule(Enum):
    SUM_EQUALS = "sum_equals"
    SUM_AT_LEAST = "sum_at_least"
    SUM_AT_MOST = "sum_at_most"
    AVERAGE_EQUALS = "average_equals"
    EACH_AT_LEAST = "each_at_least"
    EACH_AT_MOST = "each_at_most"


@strawberry.input(description="A child unit's share of a split target")
class TargetShareInput:
    unit_id: str
    target: float


@strawberry.input(description="指标分解: split a leaf's target among the category members of a draft scheme")
class SchemeSplitTargetInput:
    scheme_id: strawberry.ID
    code: str = strawberry.field(description="the leaf's indicator code")
    rule: SplitRule
    parent_target: float
    shares: list[TargetShareInput]
    tolerance: float | None = None


@strawberry.type
class SchemeSplitPayload:
    scheme: Scheme | None = None
    problems: list[SchemeProblem] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def _failed(cls: type, e: KaoheError) -> object:
    """A domain error as payload errors; a rejected split or set also lists every problem."""
    return cls(errors=[UserError.of(e)], problems=_problems(e.details))


@strawberry.type
class SchemeToolsQuery:
    @strawberry.field(
        description="方案校验: check a scheme for a year without saving it (考核办); give it typed "
        "(`document`) or as JSON (`scheme`), not both"
    )
    async def scheme_validate(
        self,
        info: Info[Context, None],
        assessing_unit: str,
        year: int,
        document: SchemeInput | None = strawberry.UNSET,
        scheme: strawberry.scalars.JSON | None = strawberry.UNSET,
    ) -> SchemeValidation:
        body = scheme_param(scheme, document, assessing_unit=assessing_unit, year=year)
        params = {"assessing_unit": assessing_unit, "year": year, "scheme": body}
        try:
            r = await call(info, Op.scheme_write, "indicators", "scheme_validate", params)
        except ValidationFailed as e:
            raise (as_document_error(e) if document else e) from None
        return SchemeValidation(ok=bool(r["ok"]), problems=_problems(r.get("problems")))


@strawberry.type
class SchemeToolsMutation:
    @strawberry.mutation(
        description="设置分类: the year's categories and which unit is assessed in which (考核办); "
        "a published scheme scores only its category members"
    )
    async def categories_set(
        self, info: Info[Context, None], input: CategoriesSetInput
    ) -> CategorySetPayload:
        members: dict[str, str] = {}
        for i, m in enumerate(capped(info, input.members, "members")):
            if m.unit_id in members:
                e = ValidationFailed(f"unit {m.unit_id} is listed twice", field=f"members.{i}.unitId")
                return _failed(CategorySetPayload, e)  # type: ignore[return-value]
            members[m.unit_id] = m.category
        params = {
            "assessing_unit": input.assessing_unit,
            "year": input.year,
            "categories": [{"name": c.name, "description": c.description} for c in input.categories],
            "members": members,
        }
        try:
            r = await call(info, Op.scheme_write, "indicators", "categories_set", params)
        except KaoheError as e:
            return _failed(CategorySetPayload, e)  # type: ignore[return-value]
        return CategorySetPayload(category_set=mk(CategorySet, r))

    @strawberry.mutation(description="指标分解: split a target among child units of a draft scheme (考核办)")
    async def scheme_split_target(
        self, info: Info[Context, None], input: SchemeSplitTargetInput
    ) -> SchemeSplitPayload:
        params: dict[str, object] = {
            "scheme_id": str(input.scheme_id),
            "code": input.code,
            "rule": input.rule.value,
            "parent_target": input.parent_target,
            "shares": {s.unit_id: s.target for s in capped(info, input.shares, "shares")},
        }
        if input.tolerance is not None:
            params["tolerance"] = input.tolerance
        try:
            r = await call(info, Op.scheme_write, "indicators", "scheme_split_target", params)
        except KaoheError as e:
            return _failed(SchemeSplitPayload, e)  # type: ignore[return-value]
        return SchemeSplitPayload(scheme=mk(Scheme, r["scheme"]), problems=_problems(r.get("problems")))
