"""Typed scheme input (考核方案): GraphQL inputs mirroring the scheme model, and their conversion to JSON.

The scheme model lives in `kaohe.contracts.scheme` (`Scheme`, `Indicator`, …) and `kaohe.contracts.standards`;
these GraphQL types mirror it field by field (camelCase in GraphQL). Maps
become lists of pairs (`targetsByUnit: [{unitId, target}]`), literals become enums, and the standard is a
`@oneOf` input whose one key is the standard's kind. `scheme_dict` turns a `SchemeInput` into exactly the
JSON the indicators RPC `scheme_save`/`scheme_validate` take, leaving out what the client did not set so the
model's defaults apply — except the 报送要求 (`reporting`), which `kept_reporting` carries over from the
stored scheme when a save leaves it out. The typed output (`SchemeDocument`) is in `scheme_document.py`.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from gateway.context import Context
from gateway.graphql.common import call
from gateway.graphql.scheme_terms import (
    DOC,
    CoefficientKind,
    D,
    DataSource,
    Direction,
    ScheduleKind,
    ValueKind,
    VetoCapGrade,
)
from gateway.policy import Op
from kaohe.errors import KaoheError, ValidationFailed

UNSET: Any = strawberry.UNSET


def opt(description: str) -> Any:
    """An optional input field: left out of the JSON when unset (or null), so the model's default applies."""
    return strawberry.field(default=UNSET, description=description)


def req(description: str) -> Any:
    return strawberry.field(description=description)


# --- inputs ------------------------------------------------------------------------------------------


@strawberry.input(description=DOC["completion_ratio"])
class CompletionRatioInput:
    cap: float | None = opt(D["cap"])
    floor: float | None = opt(D["floor"])


@strawberry.input(description=DOC["band"])
class BandInput:
    min_ratio: float = req(D["min_ratio"])
    fraction: float = req(D["band_fraction"])


@strawberry.input(description=DOC["banded"])
class BandedInput:
    bands: list[BandInput] = req(D["bands"])


@strawberry.input(description=DOC["rank"])
class RankInput:
    last_fraction: float | None = opt(D["last_fraction"])
    progress_bonus_per_place: float | None = opt(D["progress_bonus_per_place"])
    progress_bonus_cap: float | None = opt(D["progress_bonus_cap"])


@strawberry.input(description=DOC["deduction"])
class DeductionInput:
    per_occurrence: float = req(D["per_occurrence"])
    max_deduction: float | None = opt(D["max_deduction"])


@strawberry.input(description=DOC["grade_fraction"])
class GradeFractionInput:
    grade: str = req("等次, e.g. 好")
    fraction: float = req("share of the 分值, 0..1")


@strawberry.input(description=DOC["qualitative"])
class QualitativeInput:
    grades: list[GradeFractionInput] | None = opt(D["grades"])


@strawberry.input(description=DOC["bonus"])
class BonusInput:
    per_unit: float = req(D["per_unit"])
    cap: float = req(D["bonus_cap"])


@strawberry.input(description=DOC["veto"])
class VetoInput:
    cap_grade: VetoCapGrade | None = opt(D["cap_grade"])


@strawberry.input(one_of=True, description="评价标准 inside a formula: exactly one of the keys")
class InnerStandardInput:
    completion_ratio: CompletionRatioInput | None = opt(DOC["completion_ratio"])
    banded: BandedInput | None = opt(DOC["banded"])
    deduction: DeductionInput | None = opt(DOC["deduction"])


@strawberry.input(description=DOC["formula"])
class FormulaInput:
    expression: str = req(D["expression"])
    then: InnerStandardInput | None = opt(D["then"])


@strawberry.input(one_of=True, description="评价标准: exactly one of the keys, the standard's kind")
class StandardInput:
    completion_ratio: CompletionRatioInput | None = opt(DOC["completion_ratio"])
    banded: BandedInput | None = opt(DOC["banded"])
    rank: RankInput | None = opt(DOC["rank"])
    deduction: DeductionInput | None = opt(DOC["deduction"])
    qualitative: QualitativeInput | None = opt(DOC["qualitative"])
    bonus: BonusInput | None = opt(DOC["bonus"])
    veto: VetoInput | None = opt(DOC["veto"])
    formula: FormulaInput | None = opt(DOC["formula"])


@strawberry.input(description=DOC["milestone"])
class MilestoneInput:
    month: int = req(D["month"])
    fraction: float = req(D["milestone_fraction"])


@strawberry.input(description=DOC["schedule"])
class ScheduleInput:
    kind: ScheduleKind | None = opt(D["schedule_kind"])
    milestones: list[MilestoneInput] | None = opt(D["milestones"])


@strawberry.input(description=DOC["value_spec"])
class ValueSpecInput:
    kind: ValueKind | None = opt(D["value_kind"])
    min_value: float | None = opt(D["min_value"])
    max_value: float | None = opt(D["max_value"])
    grades: list[str] | None = opt(D["value_grades"])


@strawberry.input(description=DOC["data_element"])
class DataElementInput:
    name: str = req(D["element_name"])
    label: str = req(D["label"])
    unit_of_measure: str | None = opt(D["unit_of_measure"])
    source: DataSource | None = opt(D["source"])
    department: str | None = opt(D["department"])
    formula: str | None = opt(D["element_formula"])
    value: ValueSpecInput | None = opt(D["value"])
    evidence_required: bool | None = opt(D["evidence_required"])


@strawberry.input(description=DOC["category_target"])
class CategoryTargetInput:
    category: str = req(D["category"])
    target: float = req("目标值 in the unit of measure")


@strawberry.input(description=DOC["unit_target"])
class UnitTargetInput:
    unit_id: str = req(D["unit_id"])
    target: float = req("目标值 in the unit of measure")


@strawberry.input(description=DOC["indicator"])
class IndicatorInput:
    code: str = req(D["code"])
    name: str = req(D["name"])
    level: int = req(D["level"])
    weight: float | None = opt(D["weight"])
    children: list[IndicatorInput] | None = opt(D["children"])
    standard: StandardInput | None = opt(D["standard"])
    direction: Direction | None = opt(D["direction"])
    unit_of_measure: str | None = opt(D["unit_of_measure"])
    target: float | None = opt(D["target"])
    targets_by_category: list[CategoryTargetInput] | None = opt(D["targets_by_category"])
    targets_by_unit: list[UnitTargetInput] | None = opt(D["targets_by_unit"])
    schedule: ScheduleInput | None = opt(D["schedule"])
    source: DataSource | None = opt(D["source"])
    department: str | None = opt(D["department"])
    inherits_from: str | None = opt(D["inherits_from"])
    cascade: bool | None = opt(D["cascade"])
    value: ValueSpecInput | None = opt(D["value"])
    evidence_required: bool | None = opt(D["evidence_required"])
    description: str | None = opt(D["description"])


@strawberry.input(description=DOC["supplement"])
class SupplementInput:
    category: str | None = opt(D["category"])
    unit_id: str | None = opt(D["unit_id"])
    parent_code: str | None = opt(D["parent_code"])
    indicators: list[IndicatorInput] = req(D["indicators"])


@strawberry.input(description=DOC["override"])
class WeightOverrideInput:
    code: str = req("the indicator's code (a leaf, or a parent whose leaves are scaled)")
    weight: float = req(D["override_weight"])
    category: str | None = opt(D["category"])
    unit_id: str | None = opt(D["unit_id"])
    reason: str | None = opt(D["reason"])


@strawberry.input(description=DOC["coefficient"])
class CoefficientInput:
    unit_id: str = req(D["unit_id"])
    kind: CoefficientKind = req(D["coefficient_kind"])
    value: float = req(D["coefficient_value"])
    reason: str | None = opt(D["reason"])


@strawberry.input(description=DOC["scheme_ref"])
class SchemeRefInput:
    assessing_unit: str = req(D["assessing_unit"])
    year: int = req(D["year"])


@strawberry.input(description=DOC["reporting"])
class ReportingInput:
    due_workdays: int | None = opt(D["due_workdays"])
    remind_workdays: int | None = opt(D["remind_workdays"])


@strawberry.input(description=DOC["scheme"])
class SchemeInput:
    name: str | None = opt(D["scheme_name"])
    total: float | None = opt(D["total"])
    categories: list[str] | None = opt(D["categories"])
    parent: SchemeRefInput | None = opt(D["parent"])
    data_elements: list[DataElementInput] | None = opt(D["data_elements"])
    trunk: list[IndicatorInput] | None = opt(D["trunk"])
    supplements: list[SupplementInput] | None = opt(D["supplements"])
    overrides: list[WeightOverrideInput] | None = opt(D["overrides"])
    coefficients: list[CoefficientInput] | None = opt(D["coefficients"])
    reporting: ReportingInput | None = opt(D["reporting"])


# --- conversion to the RPC's JSON --------------------------------------------------------------------

ONE_OF = (StandardInput, InnerStandardInput)
# list-of-pairs fields that are maps in the model: {first field: second field}
MAPS: dict[type, frozenset[str]] = {
    IndicatorInput: frozenset({"targets_by_category", "targets_by_unit"}),
    QualitativeInput: frozenset({"grades"}),
}


def scheme_dict(
    doc: SchemeInput, *, assessing_unit: str, year: int, path: str = "document"
) -> dict[str, Any]:
    """The scheme JSON the indicators RPC takes: snake_case keys, `type` discriminators, maps; unset left out.

    Raises ValidationFailed naming the input path (camelCase) for a standard with not exactly one kind or
    a pair list that repeats a key.
    """
    return {"assessing_unit": assessing_unit, "year": year, **_obj(doc, path)}


def _obj(obj: Any, path: str) -> dict[str, Any]:
    if isinstance(obj, ONE_OF):
        given = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
        given = [(k, v) for k, v in given if v is not UNSET and v is not None]
        if len(given) != 1:
            raise ValidationFailed(
                f"{path}: give exactly one kind of standard, got {len(given)}", field=path, code="one_of"
            )
        kind, inner = given[0]
        return {"type": kind, **_obj(inner, f"{path}.{to_camel_case(kind)}")}
    maps = MAPS.get(type(obj), frozenset())
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if v is UNSET or v is None:
            continue
        sub = f"{path}.{to_camel_case(f.name)}"
        out[f.name] = _pairs(v, sub) if f.name in maps else _value(v, sub)
    return out


def _value(v: Any, path: str) -> Any:
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, list):
        return [_value(x, f"{path}.{i}") for i, x in enumerate(v)]
    if dataclasses.is_dataclass(v):
        return _obj(v, path)
    return v


def _pairs(items: list[Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        key_field, value_field = (f.name for f in dataclasses.fields(item))
        key = getattr(item, key_field)
        if key in out:
            raise ValidationFailed(
                f"{path}: {key} is listed twice",
                field=f"{path}.{i}.{to_camel_case(key_field)}",
                code="duplicate",
            )
        out[key] = getattr(item, value_field)
    return out


def scheme_param(scheme: Any, document: SchemeInput | None, *, assessing_unit: str, year: int) -> Any:
    """The RPC's `scheme`: from exactly one of the typed `document` or the JSON import `scheme`."""
    has_json = scheme is not UNSET and scheme is not None
    has_doc = document is not UNSET and document is not None
    if has_json and has_doc:
        raise ValidationFailed(
            "give either document (typed) or scheme (JSON import), not both", field="scheme"
        )
    if not has_json and not has_doc:
        raise ValidationFailed(
            "document is required (or scheme, the JSON import of a file)", field="document"
        )
    if has_json:
        return scheme
    assert document is not None
    return scheme_dict(document, assessing_unit=assessing_unit, year=year)


async def kept_reporting(
    info: Info[Context, None], body: dict[str, Any], scheme_id: str | None
) -> dict[str, Any]:
    """The typed body with the 报送要求 it leaves out kept: as the draft saved into (`scheme_id`) has it,
    else as the unit's latest scheme of the year (published, else draft) has it; none: the defaults.

    So a client that does not know `reporting` (or sends a document without it) does not reset values set
    over RPC or in an earlier version. The read is the save's own operation (`scheme_write`).
    """
    if "reporting" in body:
        return body
    by = (
        {"scheme_id": scheme_id}
        if scheme_id
        else {"assessing_unit": body["assessing_unit"], "year": body["year"]}
    )
    try:
        prior = await call(info, Op.scheme_write, "indicators", "scheme_get", by)
    except KaoheError as e:
        if scheme_id is None and e.code == "not_found":
            return body  # the unit's first scheme of the year
        raise
    reporting = (prior.get("scheme") or {}).get("reporting")
    return {**body, "reporting": reporting} if reporting else body


def as_document_error(e: KaoheError) -> KaoheError:
    """An error about `scheme.trunk.0.weight` named as the caller wrote it: `document.trunk.0.weight`."""
    if _about_scheme(e.field):
        old, e.field = e.field, _document_path(str(e.field))
        e.message = e.message.replace(str(old), e.field, 1)
    for d in e.details:
        if isinstance(d, dict) and _about_scheme(d.get("field")):
            d["field"] = _document_path(d["field"])
    return e


def _about_scheme(field: object) -> bool:
    return isinstance(field, str) and (field == "scheme" or field.startswith("scheme."))


def _document_path(field: str) -> str:
    return ".".join(["document", *(to_camel_case(p) for p in field.split(".")[1:])])
