"""Scheme version diff (方案版本对比): what changed between two versions, structured and as Chinese text."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.reporting import Reporting
from kaohe.contracts.scheme import SOURCE_ZH, Indicator, Scheme, ValueSpec, walk
from kaohe.contracts.standards import (
    Banded,
    Bonus,
    CompletionRatio,
    Deduction,
    Formula,
    Qualitative,
    RankAmongPeers,
    Schedule,
    Standard,
    Veto,
)

from .errors import fmt

Kind = Literal["added", "removed", "changed"]
Subject = Literal["scheme", "indicator", "data_element", "override", "coefficient"]
KIND_ZH: dict[str, str] = {"added": "新增", "removed": "删除", "changed": "修改"}
SUBJECT_ZH: dict[str, str] = {
    "scheme": "方案",
    "indicator": "指标",
    "data_element": "数据元素",
    "override": "权重调整",
    "coefficient": "系数",
}


class FieldChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str  # e.g. "weight", "targets_by_unit.城区"
    label: str  # e.g. "权重", "单位目标值（城区）"
    before: str  # rendered for people; "无" when absent
    after: str


class DiffEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Kind
    subject: Subject
    key: str  # indicator code, element name, "scope/code" of an override, "unit/kind" of a coefficient
    name: str = ""
    scope: str = ""  # 共性指标 / 类别 乡镇 / 单位 城区 (+ the parent it hangs under)
    changes: list[FieldChange] = Field(default_factory=list)


# --- rendering values -------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{fmt(x * 100)}%"


def describe_standard(std: Standard | None) -> str:
    """A short Chinese description of an evaluation standard."""
    match std:
        case None:
            return "无"
        case CompletionRatio(cap=cap, floor=floor):
            return f"完成率（封顶 {_pct(cap)}" + (f"，低于 {_pct(floor)} 不得分）" if floor else "）")
        case Banded(bands=bands):
            return "分档（" + "，".join(f"达 {_pct(b.min_ratio)} 得 {_pct(b.fraction)}" for b in bands) + "）"
        case RankAmongPeers(last_fraction=last, progress_bonus_per_place=per, progress_bonus_cap=cap):
            extra = f"，进位每名加 {fmt(per)} 分、封顶 {fmt(cap)} 分" if per else ""
            return f"排名（末位得 {_pct(last)}{extra}）"
        case Deduction(per_occurrence=per, max_deduction=most):
            return f"扣分（每次 {fmt(per)} 分" + (f"，最多扣 {fmt(most)} 分）" if most else "）")
        case Qualitative(grades=grades):
            return "评议（" + "/".join(f"{g}={_pct(f)}" for g, f in grades.items()) + "）"
        case Bonus(per_unit=per, cap=cap):
            return f"加分（每项 {fmt(per)} 分，封顶 {fmt(cap)} 分）"
        case Veto(cap_grade=grade):
            return f"一票否决（等次最高为{grade}）"
        case Formula(expression=expr, then=then):
            return f"公式 {expr}，按{describe_standard(then)}"
    return str(std)


def _schedule(s: Schedule) -> str:
    if s.kind == "linear":
        return "按序时均衡推进"
    return "节点：" + "，".join(f"{m.month}月 {_pct(m.fraction)}" for m in s.milestones)


def _spec(v: ValueSpec | None) -> str:
    if v is None:
        return "按评价标准推定"
    text = {"number": "数值", "count": "整数", "percent": "百分比", "grade": "等级"}[v.kind]
    if v.grades:
        text += " " + "/".join(v.grades)
    if v.min_value is not None or v.max_value is not None:
        low = fmt(v.min_value) if v.min_value is not None else ""
        high = fmt(v.max_value) if v.max_value is not None else ""
        text += f" {low}~{high}"
    return text


def describe_reporting(r: Reporting) -> str:
    """报送时限 in Chinese: the due working day of the next month and the reminder before it."""
    remind = f"提前 {r.remind_workdays} 个工作日提醒" if r.remind_workdays else "截止当日提醒"
    return f"次月第 {r.due_workdays} 个工作日前报送，{remind}"


def _show(value: Any) -> str:
    if value is None:
        return "无"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return fmt(value)
    return str(value) or "无"


# --- comparing --------------------------------------------------------------------------------------

Getter = Callable[[Any], Any]
_INDICATOR_FIELDS: list[tuple[str, str, Getter]] = [
    ("name", "名称", lambda i: i.name),
    ("level", "层级", lambda i: i.level),
    ("weight", "权重", lambda i: i.weight),
    ("standard", "评价标准", lambda i: describe_standard(i.standard)),
    ("direction", "方向", lambda i: "正向" if i.direction == "higher_better" else "逆向"),
    ("unit_of_measure", "计量单位", lambda i: i.unit_of_measure),
    ("target", "目标值", lambda i: i.target),
    ("schedule", "时间进度", lambda i: _schedule(i.schedule)),
    ("source", "数据来源", lambda i: SOURCE_ZH[i.source]),
    ("department", "责任部门", lambda i: i.department),
    ("inherits_from", "承接上级指标", lambda i: i.inherits_from),
    ("cascade", "向下级下达", lambda i: i.cascade),
    ("value", "取值要求", lambda i: _spec(i.value)),
    ("evidence_required", "须附佐证", lambda i: i.evidence_required),
    ("description", "评分细则", lambda i: i.description),
]
_ELEMENT_FIELDS: list[tuple[str, str, Getter]] = [
    ("label", "名称", lambda e: e.label),
    ("unit_of_measure", "计量单位", lambda e: e.unit_of_measure),
    ("source", "数据来源", lambda e: SOURCE_ZH[e.source]),
    ("department", "责任部门", lambda e: e.department),
    ("formula", "公式", lambda e: e.formula),
    ("value", "取值要求", lambda e: _spec(e.value)),
    ("evidence_required", "须附佐证", lambda e: e.evidence_required),
]


def _changes(old: Any, new: Any, fields: list[tuple[str, str, Getter]]) -> list[FieldChange]:
    out = []
    for name, label, get in fields:
        before, after = _show(get(old)), _show(get(new))
        if before != after:
            out.append(FieldChange(field=name, label=label, before=before, after=after))
    return out


def _dict_changes(
    field: str, label: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[FieldChange]:
    out = []
    for key in sorted(old.keys() | new.keys()):
        before, after = _show(old.get(key)), _show(new.get(key))
        if before != after:
            out.append(
                FieldChange(field=f"{field}.{key}", label=f"{label}（{key}）", before=before, after=after)
            )
    return out


def _located(scheme: Scheme) -> dict[str, tuple[Indicator, str]]:
    """Every indicator by code, with where it sits: scope, and the parent it hangs under."""

    def where(base: str, parent: str | None) -> str:
        return f"{base}，{parent} 之下" if parent else base

    out: dict[str, tuple[Indicator, str]] = {}

    def add(base: str, roots: list[Indicator], graft: str | None) -> None:
        for ind, ancestors in walk(roots):
            out.setdefault(ind.code, (ind, where(base, ancestors[-1].code if ancestors else graft)))

    add("共性指标", scheme.trunk, None)
    for sup in scheme.supplements:
        base = f"类别 {sup.category}" if sup.category is not None else f"单位 {sup.unit_id}"
        add(base, sup.indicators, sup.parent_code)
    return out


def _keyed(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    for key in [*old, *(k for k in new if k not in old)]:
        yield key, old.get(key), new.get(key)


def diff_schemes(old: Scheme, new: Scheme) -> list[DiffEntry]:
    """Added, removed and changed items between two versions of a scheme, indicators keyed by code."""
    out: list[DiffEntry] = []
    scheme_changes = _changes(
        old,
        new,
        [
            ("name", "方案名称", lambda s: s.name),
            ("total", "总分", lambda s: s.total),
            ("categories", "考核类别", lambda s: "、".join(s.categories)),
            ("parent", "承接上级方案", lambda s: s.parent and f"{s.parent.assessing_unit} {s.parent.year}"),
            ("reporting", "报送时限", lambda s: describe_reporting(s.reporting)),
        ],
    )
    if scheme_changes:
        out.append(DiffEntry(kind="changed", subject="scheme", key=new.label, changes=scheme_changes))

    a, b = _located(old), _located(new)
    for code, was, now in _keyed(a, b):
        if now is None:
            out.append(
                DiffEntry(kind="removed", subject="indicator", key=code, name=was[0].name, scope=was[1])
            )
            continue
        ind, scope = now
        if was is None:
            summary = [
                FieldChange(field=f, label=label, before="无", after=_show(get(ind)))
                for f, label, get in _INDICATOR_FIELDS
                if f in ("weight", "standard", "target") and _show(get(ind)) != "无"
            ]
            out.append(
                DiffEntry(
                    kind="added", subject="indicator", key=code, name=ind.name, scope=scope, changes=summary
                )
            )
            continue
        changes = _changes(was[0], ind, _INDICATOR_FIELDS)
        if was[1] != scope:
            changes.insert(0, FieldChange(field="location", label="位置", before=was[1], after=scope))
        changes += _dict_changes(
            "targets_by_category", "类别目标值", was[0].targets_by_category, ind.targets_by_category
        )
        changes += _dict_changes("targets_by_unit", "单位目标值", was[0].targets_by_unit, ind.targets_by_unit)
        if changes:
            out.append(
                DiffEntry(
                    kind="changed", subject="indicator", key=code, name=ind.name, scope=scope, changes=changes
                )
            )

    els_a = {e.name: e for e in old.data_elements}
    els_b = {e.name: e for e in new.data_elements}
    for name, was_e, now_e in _keyed(els_a, els_b):
        out += _simple("data_element", name, was_e, now_e, _ELEMENT_FIELDS, label=(now_e or was_e).label)

    def ov_key(o: Any) -> str:
        return f"{'类别 ' + o.category if o.category is not None else '单位 ' + o.unit_id} / {o.code}"

    ovs_a = {ov_key(o): o for o in old.overrides}
    ovs_b = {ov_key(o): o for o in new.overrides}
    for key, was_o, now_o in _keyed(ovs_a, ovs_b):
        out += _simple("override", key, was_o, now_o, [("weight", "权重", lambda o: o.weight)])

    kind_zh = {"evaluation": "评价系数", "assessment": "考核系数"}
    cos_a = {f"{c.unit_id} / {kind_zh[c.kind]}": c for c in old.coefficients}
    cos_b = {f"{c.unit_id} / {kind_zh[c.kind]}": c for c in new.coefficients}
    for key, was_c, now_c in _keyed(cos_a, cos_b):
        out += _simple("coefficient", key, was_c, now_c, [("value", "系数", lambda c: c.value)])
    return out


def _simple(
    subject: Subject, key: str, was: Any, now: Any, fields: list[tuple[str, str, Getter]], label: str = ""
) -> list[DiffEntry]:
    if was is None or now is None:
        kind: Kind = "added" if was is None else "removed"
        item = now if was is None else was
        summary = [
            FieldChange(field=f, label=lab, before="无", after=_show(get(item))) for f, lab, get in fields[:1]
        ]
        return [DiffEntry(kind=kind, subject=subject, key=key, name=label, changes=summary if now else [])]
    changes = _changes(was, now, fields)
    return (
        [DiffEntry(kind="changed", subject=subject, key=key, name=label, changes=changes)] if changes else []
    )


def render_diff(entries: list[DiffEntry], *, old: Scheme, new: Scheme) -> str:
    """The diff as Chinese text, one line per entry and one indented line per changed field."""
    counts = {k: sum(1 for e in entries if e.kind == k) for k in ("added", "removed", "changed")}
    head = f"{old.label} → {new.label}"
    if not entries:
        return f"{head}：无变化"
    lines = [f"{head}：新增 {counts['added']} 项，删除 {counts['removed']} 项，修改 {counts['changed']} 项"]
    for e in entries:
        title = f"【{KIND_ZH[e.kind]}{SUBJECT_ZH[e.subject]}】{e.key}"
        if e.name:
            title += f"「{e.name}」"
        if e.scope:
            title += f"（{e.scope}）"
        lines.append(title)
        for c in e.changes:
            lines.append(
                f"    {c.label}：{c.after}" if e.kind == "added" else f"    {c.label}：{c.before} → {c.after}"
            )
    return "\n".join(lines)
