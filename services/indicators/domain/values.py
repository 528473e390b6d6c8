"""Value validation for a submission (填报数值校验): errors reject, flags only ask for a second look."""

from __future__ import annotations

import math
import statistics
import unicodedata
from collections.abc import Iterator, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.scheme import DataElement, DataSource, Scheme, ValueSpec, effective_leaves
from kaohe.contracts.standards import Formula
from kaohe.expr import ExprError, parse
from services.indicators.errors import IndicatorsErrorCode as ErrorCode

from .errors import fmt

KIND_ZH: dict[str, str] = {"number": "数值", "count": "整数", "percent": "百分比", "grade": "等级"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Model):  # 填报项
    """One thing a unit or department reports: an indicator's value or a formula's data element."""

    code: str
    name: str
    unit_of_measure: str = ""
    value: ValueSpec = Field(default_factory=ValueSpec)
    evidence_required: bool = False
    required: bool = True


class Reported(_Model):  # 一项填报
    value: float | str | None = None
    evidence: list[str] = Field(default_factory=list)  # ids of 佐证材料 already uploaded
    note: str = ""


class ValueIssue(_Model):
    field: str
    code: ErrorCode
    message: str


class Plausibility(_Model):  # 合理性校验
    """Thresholds for outlier flags; None switches a test off."""

    max_change_factor: float | None = Field(
        3.0, gt=1, description="flag when ×/÷ more than this vs last period"
    )
    z_threshold: float | None = Field(3.0, gt=0, description="flag when |z| vs history exceeds this")
    min_history: int = Field(4, ge=2, description="fewer past values than this: no z-score")


class ValueCheck(_Model):
    errors: list[ValueIssue] = Field(default_factory=list)  # reject the submission
    flags: list[ValueIssue] = Field(default_factory=list)  # accept, but mark for review
    values: dict[str, float | str] = Field(default_factory=dict)  # the coerced values

    @property
    def ok(self) -> bool:
        return not self.errors


class InvalidValue(ValueError):
    """A raw value that does not fit its ValueSpec; `detail` is a Chinese phrase without the field name."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _number(raw: object) -> float:
    if isinstance(raw, bool):
        raise InvalidValue(ErrorCode.NOT_A_NUMBER, f"「{raw}」不是数字")
    try:
        x = float(raw)  # type: ignore[arg-type]  # str, int, float: the fast path for bulk files
    except (TypeError, ValueError):
        text = str(raw).strip()
        # slow path only for what Excel users actually type: full-width digits, 1,234.5, 12%
        norm = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "").removesuffix("%")
        if not norm:
            raise InvalidValue(ErrorCode.VALUE_MISSING, "未填写数值") from None
        try:
            x = float(norm)
        except ValueError:
            raise InvalidValue(ErrorCode.NOT_A_NUMBER, f"「{text}」不是数字") from None
    if not math.isfinite(x):
        raise InvalidValue(ErrorCode.NOT_A_NUMBER, f"「{raw}」不是有效数字")
    return x


def _range_text(spec: ValueSpec, low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"应在 {fmt(low)} 至 {fmt(high)} 之间"
    return f"不得小于 {fmt(low)}" if low is not None else f"不得大于 {fmt(high or 0)}"


def coerce_value(spec: ValueSpec, raw: object) -> float | str:
    """Parse and range-check one raw value (str from CSV, number from XLSX/JSON); raises InvalidValue."""
    if raw is None or raw == "":
        raise InvalidValue(ErrorCode.VALUE_MISSING, "未填写数值")  # whitespace-only is caught below
    if spec.kind == "grade":
        grade = str(raw).strip()
        if grade not in spec.grades:
            raise InvalidValue(ErrorCode.UNKNOWN_GRADE, f"等级「{grade}」不在 {'/'.join(spec.grades)} 之中")
        return grade
    x = _number(raw)
    low, high = spec.min_value, spec.max_value
    if spec.kind == "count":
        if x != int(x):
            raise InvalidValue(ErrorCode.NOT_AN_INTEGER, f"「{raw}」应为整数")
        low = 0.0 if low is None else low
    elif spec.kind == "percent":
        low = 0.0 if low is None else low
        high = 100.0 if high is None else high
    if (low is not None and x < low) or (high is not None and x > high):
        raise InvalidValue(ErrorCode.OUT_OF_RANGE, f"{fmt(x)} 超出范围，{_range_text(spec, low, high)}")
    return x


def plausibility_flags(
    field: str,
    label: str,
    value: float,
    *,
    previous: float | None,
    history: Sequence[float],
    rule: Plausibility,
) -> list[ValueIssue]:
    """Outlier flags for one numeric value against the previous period and the history."""
    out = []
    factor = rule.max_change_factor
    if factor is not None and previous is not None and previous != 0:
        detail = None
        if value == 0:
            detail = f"本期为 0，上期为 {fmt(previous)}"
        elif (value > 0) == (previous > 0):
            ratio = value / previous
            if max(ratio, 1 / ratio) > factor:
                times = fmt(round(ratio, 2))
                detail = f"本期 {fmt(value)} 为上期 {fmt(previous)} 的 {times} 倍，超过 {fmt(factor)} 倍阈值"
        elif abs(value - previous) > factor * abs(previous):
            detail = f"本期 {fmt(value)} 与上期 {fmt(previous)} 正负相反，变动超过 {fmt(factor)} 倍"
        if detail is not None:
            out.append(
                ValueIssue(field=field, code=ErrorCode.OUTLIER_CHANGE, message=f"{label}: {detail}，请核实")
            )
    z_max = rule.z_threshold
    if z_max is not None and len(history) >= rule.min_history:
        mean = statistics.fmean(history)
        sd = statistics.stdev(history)
        # a constant history has no spread to measure against; the change test still applies
        if sd > 0 and abs(z := (value - mean) / sd) > z_max:
            detail = f"本期 {fmt(value)} 偏离历史均值 {fmt(mean)} 达 {fmt(round(abs(z), 2))} 个标准差"
            out.append(
                ValueIssue(field=field, code=ErrorCode.OUTLIER_ZSCORE, message=f"{label}: {detail}，请核实")
            )
    return out


def validate_submission(
    fields: Mapping[str, FieldSpec],
    submitted: Mapping[str, Reported],
    *,
    previous: Mapping[str, float] | None = None,
    history: Mapping[str, Sequence[float]] | None = None,
    rule: Plausibility | None = None,
    partial: bool = False,
) -> ValueCheck:
    """Type, range and evidence errors plus outlier flags for one unit's submission for one period."""
    previous, history, rule = previous or {}, history or {}, rule or Plausibility()
    errors: list[ValueIssue] = []
    flags: list[ValueIssue] = []
    values: dict[str, float | str] = {}
    for code in submitted.keys() - fields.keys():
        errors.append(
            ValueIssue(field=code, code=ErrorCode.UNKNOWN_FIELD, message=f"{code}: 不是本期应填报的项目")
        )
    for code, spec in fields.items():
        label = f"{spec.code}（{spec.name}）"
        item = submitted.get(code)
        if item is None or item.value is None or (isinstance(item.value, str) and not item.value.strip()):
            if spec.required and not partial:
                errors.append(
                    ValueIssue(field=code, code=ErrorCode.VALUE_MISSING, message=f"{label}: 未填写数值")
                )
            continue
        try:
            value = coerce_value(spec.value, item.value)
        except InvalidValue as exc:
            errors.append(ValueIssue(field=code, code=exc.code, message=f"{label}: {exc.detail}"))
            continue
        values[code] = value
        if spec.evidence_required and not item.evidence:
            detail = "该项须上传佐证材料"
            errors.append(
                ValueIssue(field=code, code=ErrorCode.EVIDENCE_MISSING, message=f"{label}: {detail}")
            )
        if isinstance(value, float):
            flags += plausibility_flags(
                code, label, value, previous=previous.get(code), history=history.get(code, ()), rule=rule
            )
    return ValueCheck(errors=errors, flags=flags, values=values)


# --- which fields a unit or a department reports ----------------------------------------------------


def _inputs(src: str, elements: Mapping[str, DataElement], seen: set[str]) -> Iterator[str]:
    """Raw data elements a formula needs, through derived elements; unparsable formulas need nothing."""
    try:
        refs = parse(src).references()
    except ExprError:
        return
    for name in sorted({r.name for r in refs}):
        if name in seen or name not in elements:
            continue
        seen.add(name)
        formula = elements[name].formula
        if formula is None:
            yield name
        else:
            yield from _inputs(formula, elements, seen)


def submission_fields(
    scheme: Scheme,
    unit_id: str,
    category: str | None,
    *,
    source: DataSource = "unit_report",
    department: str | None = None,
) -> dict[str, FieldSpec]:
    """What `unit_id` (or a department, about it) reports from `source`: leaf values and formula inputs."""
    elements = {e.name: e for e in scheme.data_elements}
    out: dict[str, FieldSpec] = {}
    needed: list[str] = []
    seen: set[str] = set()

    def mine(src: DataSource, dept: str | None) -> bool:
        return src == source and (department is None or dept == department)

    for leaf in effective_leaves(scheme, unit_id, category):
        if isinstance(leaf.standard, Formula):
            needed += _inputs(leaf.standard.expression, elements, seen)
        elif mine(leaf.source, leaf.department):
            out[leaf.code] = FieldSpec(
                code=leaf.code,
                name=leaf.name,
                unit_of_measure=leaf.unit_of_measure,
                value=leaf.value,
                evidence_required=leaf.evidence_required,
            )
    for name in needed:
        e = elements[name]
        if mine(e.source, e.department):
            out[name] = FieldSpec(
                code=name,
                name=e.label,
                unit_of_measure=e.unit_of_measure,
                value=e.value,
                evidence_required=e.evidence_required,
            )
    return out
