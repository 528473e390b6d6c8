"""Typed scheme output (考核方案): the stored scheme JSON as GraphQL objects mirroring the typed inputs.

Field names and enums are the inputs' (`SchemeDocument` reads back as what `SchemeInput` wrote, with the
model's defaults filled in); the standard is a union of object types, one per kind.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

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
from kaohe.contracts.reporting import Reporting as ReportingModel


def f(description: str) -> Any:
    return strawberry.field(description=description)


@strawberry.type(description=DOC["completion_ratio"])
class CompletionRatioStandard:
    cap: float = f(D["cap"])
    floor: float = f(D["floor"])


@strawberry.type(description=DOC["band"])
class Band:
    min_ratio: float = f(D["min_ratio"])
    fraction: float = f(D["band_fraction"])


@strawberry.type(description=DOC["banded"])
class BandedStandard:
    bands: list[Band] = f(D["bands"])


@strawberry.type(description=DOC["rank"])
class RankStandard:
    last_fraction: float = f(D["last_fraction"])
    progress_bonus_per_place: float = f(D["progress_bonus_per_place"])
    progress_bonus_cap: float = f(D["progress_bonus_cap"])


@strawberry.type(description=DOC["deduction"])
class DeductionStandard:
    per_occurrence: float = f(D["per_occurrence"])
    max_deduction: float | None = f(D["max_deduction"])


@strawberry.type(description=DOC["grade_fraction"])
class GradeFraction:
    grade: str = f("等次, e.g. 好")
    fraction: float = f("share of the 分值, 0..1")


@strawberry.type(description=DOC["qualitative"])
class QualitativeStandard:
    grades: list[GradeFraction] = f("等次 → share of the 分值 (0..1)")


@strawberry.type(description=DOC["bonus"])
class BonusStandard:
    per_unit: float = f(D["per_unit"])
    cap: float = f(D["bonus_cap"])


@strawberry.type(description=DOC["veto"])
class VetoStandard:
    cap_grade: VetoCapGrade = f(D["cap_grade"])


InnerStandard = Annotated[
    CompletionRatioStandard | BandedStandard | DeductionStandard,
    strawberry.union("InnerStandard", description="评价标准 inside a formula"),
]


@strawberry.type(description=DOC["formula"])
class FormulaStandard:
    expression: str = f(D["expression"])
    then: InnerStandard = f(D["then"])


Standard = Annotated[
    CompletionRatioStandard
    | BandedStandard
    | RankStandard
    | DeductionStandard
    | QualitativeStandard
    | BonusStandard
    | VetoStandard
    | FormulaStandard,
    strawberry.union("Standard", description="评价标准: one object type per kind (ask with `... on`)"),
]


@strawberry.type(description=DOC["milestone"])
class Milestone:
    month: int = f(D["month"])
    fraction: float = f(D["milestone_fraction"])


@strawberry.type(description=DOC["schedule"])
class Schedule:
    kind: ScheduleKind = f(D["schedule_kind"])
    milestones: list[Milestone] = f(D["milestones"])


@strawberry.type(description=DOC["value_spec"])
class ValueSpec:
    kind: ValueKind = f(D["value_kind"])
    min_value: float | None = f(D["min_value"])
    max_value: float | None = f(D["max_value"])
    grades: list[str] = f(D["value_grades"])


@strawberry.type(description=DOC["data_element"])
class DataElement:
    name: str = f(D["element_name"])
    label: str = f(D["label"])
    unit_of_measure: str = f(D["unit_of_measure"])
    source: DataSource = f(D["source"])
    department: str | None = f(D["department"])
    formula: str | None = f(D["element_formula"])
    value: ValueSpec = f(D["value"])
    evidence_required: bool = f(D["evidence_required"])


@strawberry.type(description=DOC["category_target"])
class CategoryTarget:
    category: str = f(D["category"])
    target: float = f("目标值 in the unit of measure")


@strawberry.type(description=DOC["unit_target"])
class UnitTarget:
    unit_id: str = f(D["unit_id"])
    target: float = f("目标值 in the unit of measure")


@strawberry.type(description=DOC["indicator"])
class SchemeIndicator:
    code: str = f(D["code"])
    name: str = f(D["name"])
    level: int = f(D["level"])
    weight: float | None = f(D["weight"])
    children: list[SchemeIndicator] = f(D["children"])
    standard: Standard | None = f(D["standard"])
    direction: Direction = f(D["direction"])
    unit_of_measure: str = f(D["unit_of_measure"])
    target: float | None = f(D["target"])
    targets_by_category: list[CategoryTarget] = f(D["targets_by_category"])
    targets_by_unit: list[UnitTarget] = f(D["targets_by_unit"])
    schedule: Schedule = f(D["schedule"])
    source: DataSource = f(D["source"])
    department: str | None = f(D["department"])
    inherits_from: str | None = f(D["inherits_from"])
    cascade: bool = f(D["cascade"])
    value: ValueSpec | None = f("取值要求 as declared; null: inferred from the standard and unit of measure")
    evidence_required: bool = f(D["evidence_required"])
    description: str = f(D["description"])


@strawberry.type(description=DOC["supplement"])
class Supplement:
    category: str | None = f(D["category"])
    unit_id: str | None = f(D["unit_id"])
    parent_code: str | None = f(D["parent_code"])
    indicators: list[SchemeIndicator] = f(D["indicators"])


@strawberry.type(description=DOC["override"])
class WeightOverride:
    code: str = f("the indicator's code")
    weight: float = f(D["override_weight"])
    category: str | None = f(D["category"])
    unit_id: str | None = f(D["unit_id"])
    reason: str = f(D["reason"])


@strawberry.type(description=DOC["coefficient"])
class Coefficient:
    unit_id: str = f(D["unit_id"])
    kind: CoefficientKind = f(D["coefficient_kind"])
    value: float = f(D["coefficient_value"])
    reason: str = f(D["reason"])


@strawberry.type(description=DOC["scheme_ref"])
class SchemeRef:
    assessing_unit: str = f(D["assessing_unit"])
    year: int = f(D["year"])


@strawberry.type(description=DOC["reporting"])
class Reporting:
    due_workdays: int = f(D["due_workdays"])
    remind_workdays: int = f(D["remind_workdays"])


@strawberry.type(description=DOC["scheme"].split(" (its")[0] + ", typed (what SchemeInput writes)")
class SchemeDocument:
    name: str = f(D["scheme_name"])
    total: float = f(D["total"])
    categories: list[str] = f(D["categories"])
    parent: SchemeRef | None = f(D["parent"])
    data_elements: list[DataElement] = f(D["data_elements"])
    trunk: list[SchemeIndicator] = f(D["trunk"])
    supplements: list[Supplement] = f(D["supplements"])
    overrides: list[WeightOverride] = f(D["overrides"])
    coefficients: list[Coefficient] = f(D["coefficients"])
    reporting: Reporting = f(D["reporting"])


# --- from the stored JSON ----------------------------------------------------------------------------


def _inner(d: dict[str, Any]) -> CompletionRatioStandard | BandedStandard | DeductionStandard:
    kind = d.get("type")
    if kind == "banded":
        return BandedStandard(
            bands=[Band(min_ratio=b["min_ratio"], fraction=b["fraction"]) for b in d["bands"]]
        )
    if kind == "deduction":
        return DeductionStandard(per_occurrence=d["per_occurrence"], max_deduction=d.get("max_deduction"))
    return CompletionRatioStandard(cap=d.get("cap", 1.0), floor=d.get("floor", 0.0))


def standard_of(d: dict[str, Any] | None) -> Any:
    """The typed standard of a stored standard dict (None when the node has none)."""
    if not d:
        return None
    kind = d.get("type")
    if kind == "rank":
        return RankStandard(
            last_fraction=d.get("last_fraction", 0.6),
            progress_bonus_per_place=d.get("progress_bonus_per_place", 0.0),
            progress_bonus_cap=d.get("progress_bonus_cap", 0.0),
        )
    if kind == "qualitative":
        grades = d.get("grades") or {"好": 1.0, "较好": 0.8, "一般": 0.6, "差": 0.3}
        return QualitativeStandard(grades=[GradeFraction(grade=g, fraction=x) for g, x in grades.items()])
    if kind == "bonus":
        return BonusStandard(per_unit=d["per_unit"], cap=d["cap"])
    if kind == "veto":
        return VetoStandard(cap_grade=VetoCapGrade(d.get("cap_grade", "较差")))
    if kind == "formula":
        return FormulaStandard(expression=d["expression"], then=_inner(d.get("then") or {}))
    return _inner(d)


def schedule_of(d: dict[str, Any] | None) -> Schedule:
    d = d or {}
    ms = [Milestone(month=m["month"], fraction=m["fraction"]) for m in d.get("milestones") or []]
    return Schedule(kind=ScheduleKind(d.get("kind", "linear")), milestones=ms)


def _spec(d: dict[str, Any]) -> ValueSpec:
    return ValueSpec(
        kind=ValueKind(d.get("kind", "number")),
        min_value=d.get("min_value"),
        max_value=d.get("max_value"),
        grades=list(d.get("grades") or ()),
    )


def indicator_of(d: dict[str, Any]) -> SchemeIndicator:
    return SchemeIndicator(
        code=d["code"],
        name=d["name"],
        level=d["level"],
        weight=d.get("weight"),
        children=[indicator_of(c) for c in d.get("children") or []],
        standard=standard_of(d.get("standard")),
        direction=Direction(d.get("direction", "higher_better")),
        unit_of_measure=d.get("unit_of_measure", ""),
        target=d.get("target"),
        targets_by_category=[
            CategoryTarget(category=k, target=v) for k, v in (d.get("targets_by_category") or {}).items()
        ],
        targets_by_unit=[
            UnitTarget(unit_id=k, target=v) for k, v in (d.get("targets_by_unit") or {}).items()
        ],
        schedule=schedule_of(d.get("schedule")),
        source=DataSource(d.get("source", "unit_report")),
        department=d.get("department"),
        inherits_from=d.get("inherits_from"),
        cascade=bool(d.get("cascade", False)),
        value=_spec(d["value"]) if d.get("value") is not None else None,
        evidence_required=bool(d.get("evidence_required", False)),
        description=d.get("description", ""),
    )


def document_of(d: dict[str, Any]) -> SchemeDocument:
    """The typed document of a stored scheme body (`Scheme.scheme`)."""
    parent = d.get("parent")
    return SchemeDocument(
        name=d.get("name", ""),
        total=d.get("total", 100.0),
        categories=list(d.get("categories") or []),
        parent=SchemeRef(assessing_unit=parent["assessing_unit"], year=parent["year"]) if parent else None,
        data_elements=[
            DataElement(
                name=e["name"],
                label=e["label"],
                unit_of_measure=e.get("unit_of_measure", ""),
                source=DataSource(e.get("source", "unit_report")),
                department=e.get("department"),
                formula=e.get("formula"),
                value=_spec(e.get("value") or {}),
                evidence_required=bool(e.get("evidence_required", False)),
            )
            for e in d.get("data_elements") or []
        ],
        trunk=[indicator_of(n) for n in d.get("trunk") or []],
        supplements=[
            Supplement(
                category=s.get("category"),
                unit_id=s.get("unit_id"),
                parent_code=s.get("parent_code"),
                indicators=[indicator_of(n) for n in s.get("indicators") or []],
            )
            for s in d.get("supplements") or []
        ],
        overrides=[
            WeightOverride(
                code=o["code"],
                weight=o["weight"],
                category=o.get("category"),
                unit_id=o.get("unit_id"),
                reason=o.get("reason", ""),
            )
            for o in d.get("overrides") or []
        ],
        coefficients=[
            Coefficient(
                unit_id=c["unit_id"],
                kind=CoefficientKind(c["kind"]),
                value=c["value"],
                reason=c.get("reason", ""),
            )
            for c in d.get("coefficients") or []
        ],
        reporting=reporting_of(d.get("reporting")),
    )


def reporting_of(d: dict[str, Any] | None) -> Reporting:
    """The 报送要求 of a stored body; the model's defaults for a body stored before it existed."""
    r = ReportingModel.model_validate(d or {})
    return Reporting(due_workdays=r.due_workdays, remind_workdays=r.remind_workdays)
