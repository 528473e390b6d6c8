"""Scheme validation (方案校验): every inconsistency at once, each naming its exact place in Chinese."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from kaohe.contracts.scheme import (
    LEVEL_ZH,
    MAX_LEVEL,
    WEIGHT_TOLERANCE,
    EffectiveLeaf,
    Indicator,
    Scheme,
    TreeNode,
    ValueSpec,
    all_indicators,
    counted_total,
    effective_leaves,
    is_container,
    is_counted,
    needs_target,
    resolve,
    walk,
)
from kaohe.contracts.standards import Formula
from kaohe.expr import Expr, ExprError, dependency_cycles, parse
from services.indicators.errors import IndicatorsErrorCode as ErrorCode

from .errors import Problem, fmt, problem

__all__ = ["Problem", "validate_scheme"]


def validate_scheme(scheme: Scheme, units: Mapping[str, str]) -> list[Problem]:
    """All problems of a scheme for a roster {unit_id: category}; an empty roster skips per-unit checks."""
    out: list[Problem] = []
    out += _check_identity(scheme, units)
    out += _check_trees(scheme)
    out += _check_scopes(scheme, units)
    out += _check_formulas(scheme)
    out += _check_views(scheme, units)
    return out


# --- helpers ----------------------------------------------------------------------------------------


def _scope(scheme: Scheme, category: str | None, unit_id: str | None, units: Mapping[str, str]) -> str:
    parts = [scheme.label]
    if unit_id is not None and category is None:
        category = units.get(unit_id)
    if category is not None:
        parts.append(f"类别 {category}")
    if unit_id is not None:
        parts.append(f"单位 {unit_id}")
    if len(parts) == 1:
        parts.append("共性指标")
    return " / ".join(parts)


def _declared(ind: Indicator) -> float:
    """The weight a node contributes to its parent's stated subtotal."""
    if not ind.children:
        return (ind.weight or 0.0) if is_counted(ind.standard) else 0.0
    return ind.weight if ind.weight is not None else sum(_declared(c) for c in ind.children)


def _spec_problem(spec: ValueSpec) -> str | None:
    if spec.min_value is not None and spec.max_value is not None and spec.min_value > spec.max_value:
        return f"取值下限 {fmt(spec.min_value)} 大于上限 {fmt(spec.max_value)}"
    if spec.kind == "grade" and not spec.grades:
        return "等级类取值未列出等级"
    if spec.kind == "percent" and (
        (spec.min_value is not None and spec.min_value < 0)
        or (spec.max_value is not None and spec.max_value > 100)
    ):
        return "百分比取值范围须在 0 至 100 之间"
    return None


# --- identity: codes, element names, coefficients ---------------------------------------------------


def _check_identity(scheme: Scheme, units: Mapping[str, str]) -> list[Problem]:
    out = []
    codes = Counter(ind.code for ind, _ in all_indicators(scheme))
    for code, n in codes.items():
        if n > 1:
            out.append(
                problem(f"{scheme.label} / 指标 {code}", ErrorCode.DUPLICATE_CODE, f"指标代码重复出现 {n} 次")
            )
    names = Counter(e.name for e in scheme.data_elements)
    for name, n in names.items():
        if n > 1:
            path = f"{scheme.label} / 数据元素 {name}"
            out.append(problem(path, ErrorCode.DUPLICATE_ELEMENT, f"数据元素名称重复出现 {n} 次"))
    seen: set[tuple[str, str]] = set()
    for c in scheme.coefficients:
        path = f"{_scope(scheme, None, c.unit_id, units)} / 系数"
        if units and c.unit_id not in units:
            out.append(problem(path, ErrorCode.UNKNOWN_UNIT, f"系数所属单位 {c.unit_id} 不在考核对象名单中"))
        if (c.unit_id, c.kind) in seen:
            kind = "评价系数" if c.kind == "evaluation" else "考核系数"
            out.append(problem(path, ErrorCode.DUPLICATE_COEFFICIENT, f"{kind}重复设置"))
        seen.add((c.unit_id, c.kind))
    return out


# --- trees: levels, leaves, parent subtotals, sources -----------------------------------------------


def _check_trees(scheme: Scheme) -> list[Problem]:
    graft_targets = {s.parent_code for s in scheme.supplements if s.parent_code is not None}
    out = []
    trees: list[tuple[str, list[Indicator], bool]] = [(f"{scheme.label} / 共性指标", scheme.trunk, True)]
    for sup in scheme.supplements:
        where = f"类别 {sup.category}" if sup.category is not None else f"单位 {sup.unit_id}"
        # supplement levels depend on where they are grafted; the per-view check covers them
        trees.append((f"{scheme.label} / {where}", sup.indicators, False))
    for base, roots, check_level in trees:
        for ind, ancestors in walk(roots):
            path = f"{base} / 指标 {ind.code}"
            if check_level and ind.level != len(ancestors) + 1:
                out.append(_level_problem(path, ind, len(ancestors) + 1))
            out += _check_node(path, ind, ind.code in graft_targets)
    for e in scheme.data_elements:
        path = f"{scheme.label} / 数据元素 {e.name}"
        if (e.source == "formula") != (e.formula is not None):
            out.append(
                problem(path, ErrorCode.SOURCE_MISMATCH, "数据来源为公式计算时须填写公式，反之不得填写公式")
            )
        if e.source == "department" and not e.department:
            out.append(problem(path, ErrorCode.DEPARTMENT_MISSING, "数据来源为部门提供，但未指定责任部门"))
        if (msg := _spec_problem(e.value)) is not None:
            out.append(problem(path, ErrorCode.VALUE_SPEC_INVALID, msg))
    return out


def _level_problem(path: str, ind: Indicator, expected: int) -> Problem:
    declared = LEVEL_ZH.get(ind.level, str(ind.level))
    if expected > MAX_LEVEL:
        return problem(path, ErrorCode.LEVEL_MISMATCH, f"层级超过{LEVEL_ZH[MAX_LEVEL]}（标为{declared}）")
    return problem(
        path, ErrorCode.LEVEL_MISMATCH, f"标为{declared}指标，按所在位置应为{LEVEL_ZH[expected]}指标"
    )


def _check_node(path: str, ind: Indicator, is_graft_target: bool) -> list[Problem]:
    out = []
    if ind.children:
        if ind.standard is not None:
            out.append(
                problem(
                    path, ErrorCode.PARENT_WITH_STANDARD, "含下级指标的指标不应设置评价标准，由末级指标计分"
                )
            )
        if ind.weight is not None:
            children = sum(_declared(c) for c in ind.children)
            if abs(children - ind.weight) > WEIGHT_TOLERANCE:
                detail = f"权重 {fmt(ind.weight)} 与下级指标权重合计 {fmt(children)} 不一致"
                out.append(problem(path, ErrorCode.PARENT_WEIGHT_MISMATCH, detail))
        return out
    if is_container(ind) and is_graft_target:
        return out
    if ind.standard is None:
        out.append(problem(path, ErrorCode.LEAF_WITHOUT_STANDARD, "末级指标未设置评价标准"))
    elif ind.weight is None and is_counted(ind.standard):
        out.append(problem(path, ErrorCode.LEAF_WITHOUT_WEIGHT, "末级指标未设置权重（分值）"))
    if isinstance(ind.standard, Formula) != (ind.source == "formula"):
        out.append(problem(path, ErrorCode.SOURCE_MISMATCH, "评价标准为公式时数据来源须为公式计算，反之亦然"))
    if ind.source == "department" and not ind.department:
        out.append(problem(path, ErrorCode.DEPARTMENT_MISSING, "数据来源为部门提供，但未指定责任部门"))
    if ind.value is not None and (msg := _spec_problem(ind.value)) is not None:
        out.append(problem(path, ErrorCode.VALUE_SPEC_INVALID, msg))
    if needs_target(ind.standard):
        targets = [("默认", ind.target)]
        targets += [(f"类别 {k}", v) for k, v in ind.targets_by_category.items()]
        targets += [(f"单位 {k}", v) for k, v in ind.targets_by_unit.items()]
        for label, value in targets:
            if value is not None and value <= 0:
                detail = f"{label}目标值为 {fmt(value)}，按完成率计分的目标值须大于 0"
                out.append(problem(path, ErrorCode.TARGET_NOT_POSITIVE, detail))
    return out


# --- scopes: categories and units named by supplements, overrides and targets -----------------------


def _check_scopes(scheme: Scheme, units: Mapping[str, str]) -> list[Problem]:
    declared = set(scheme.categories)
    out = []

    def category_known(cat: str | None) -> bool:
        return cat is None or cat in declared

    def unit_known(uid: str | None) -> bool:
        return uid is None or not units or uid in units

    for sup in scheme.supplements:
        path = _scope(scheme, sup.category, sup.unit_id, units)
        if not category_known(sup.category):
            out.append(
                problem(path, ErrorCode.UNKNOWN_CATEGORY, f"补充指标所属类别 {sup.category} 未在方案中定义")
            )
        if not unit_known(sup.unit_id):
            out.append(
                problem(path, ErrorCode.UNKNOWN_UNIT, f"个性指标所属单位 {sup.unit_id} 不在考核对象名单中")
            )
    for ov in scheme.overrides:
        path = f"{_scope(scheme, ov.category, ov.unit_id, units)} / 指标 {ov.code}"
        if not category_known(ov.category):
            out.append(
                problem(path, ErrorCode.UNKNOWN_CATEGORY, f"权重调整所属类别 {ov.category} 未在方案中定义")
            )
        if not unit_known(ov.unit_id):
            out.append(
                problem(path, ErrorCode.UNKNOWN_UNIT, f"权重调整所属单位 {ov.unit_id} 不在考核对象名单中")
            )
    for ind, _ in all_indicators(scheme):
        path = f"{scheme.label} / 指标 {ind.code}"
        for cat in ind.targets_by_category:
            if not category_known(cat):
                out.append(
                    problem(path, ErrorCode.UNKNOWN_CATEGORY, f"分类目标值的类别 {cat} 未在方案中定义")
                )
        for uid in ind.targets_by_unit:
            if not unit_known(uid):
                out.append(
                    problem(path, ErrorCode.UNKNOWN_UNIT, f"单位目标值的单位 {uid} 不在考核对象名单中")
                )
    if declared:
        for uid, cat in units.items():
            if cat not in declared:
                path = _scope(scheme, cat, uid, units)
                out.append(problem(path, ErrorCode.UNKNOWN_CATEGORY, f"单位所属类别 {cat} 未在方案中定义"))
    return out


# --- formulas ---------------------------------------------------------------------------------------


def _check_formulas(scheme: Scheme) -> list[Problem]:
    known = {e.name for e in scheme.data_elements}
    # (path, source text, name of the derived data element or None for an indicator's formula)
    sources: list[tuple[str, str, str | None]] = [
        (f"{scheme.label} / 指标 {ind.code} / 公式", ind.standard.expression, None)
        for ind, _ in all_indicators(scheme)
        if isinstance(ind.standard, Formula)
    ]
    sources += [
        (f"{scheme.label} / 数据元素 {e.name} / 公式", e.formula, e.name)
        for e in scheme.data_elements
        if e.formula is not None
    ]
    derived: dict[str, Expr] = {}
    out = []
    for path, src, element in sources:
        try:
            expr = parse(src)
        except ExprError as exc:
            detail = f"公式「{src}」无法解析（第 {exc.position + 1} 个字符处）：{exc.message}"
            out.append(problem(path, ErrorCode.FORMULA_SYNTAX, detail))
            continue
        missing = sorted({ref.name for ref in expr.references()} - known)
        if missing:
            detail = f"公式「{src}」引用了未定义的数据元素：{'、'.join(missing)}"
            out.append(problem(path, ErrorCode.FORMULA_UNKNOWN_ELEMENT, detail))
        if element is not None:
            derived[element] = expr
    for cycle in dependency_cycles(derived):
        ring = " → ".join([*cycle, cycle[0]])
        path = f"{scheme.label} / 数据元素 {cycle[0]} / 公式"
        out.append(problem(path, ErrorCode.FORMULA_CYCLE, f"数据元素公式循环引用：{ring}"))
    return out


# --- views: weights and targets per category and per unit -------------------------------------------


def _check_view(
    scheme: Scheme, category: str | None, unit_id: str | None, units: Mapping[str, str]
) -> list[Problem]:
    """Grafts, overrides and supplement levels of one view (the parts that view adds)."""
    base = _scope(scheme, category, unit_id, units)
    resolved, _ = resolve(scheme, unit_id, category)
    origin = "unit" if unit_id is not None else "category"

    def own(unit: str | None, cat: str | None) -> bool:
        """Whether a supplement or override scoped (unit, cat) belongs to this view, not an outer one."""
        return unit == unit_id if unit_id is not None else unit is None and cat == category

    out = []
    for sup in resolved.orphan_supplements:
        if own(sup.unit_id, sup.category):
            detail = f"补充指标挂接的上级指标 {sup.parent_code} 不存在"
            out.append(problem(base, ErrorCode.GRAFT_PARENT_MISSING, detail))
    for sup in scheme.supplements:
        parent = resolved.index.get(sup.parent_code) if sup.parent_code else None
        if own(sup.unit_id, sup.category) and parent is not None and parent.ind.standard is not None:
            detail = f"补充指标挂接在已有评价标准的末级指标 {sup.parent_code} 之下"
            out.append(problem(base, ErrorCode.GRAFT_ONTO_LEAF, detail))
    for ov in resolved.unknown_overrides:
        if own(ov.unit_id, ov.category):
            out.append(
                problem(f"{base} / 指标 {ov.code}", ErrorCode.UNKNOWN_CODE, "权重调整指向的指标不存在")
            )
    for ov in resolved.unscalable_overrides:
        if own(ov.unit_id, ov.category):
            detail = f"下级指标权重合计为 0，无法按比例调整为 {fmt(ov.weight)}"
            out.append(problem(f"{base} / 指标 {ov.code}", ErrorCode.OVERRIDE_UNSCALABLE, detail))

    def check_levels(nodes: Iterable[TreeNode]) -> None:
        for node in nodes:
            if node.origin == origin and node.ind.level != node.depth:
                out.append(_level_problem(f"{base} / 指标 {node.ind.code}", node.ind, node.depth))
            check_levels(node.children)

    check_levels(resolved.roots)
    return out


def _check_views(scheme: Scheme, units: Mapping[str, str]) -> list[Problem]:
    out: list[Problem] = []
    total = scheme.total
    categories: list[str | None] = list(scheme.categories) or [None]
    sums: dict[str | None, float] = {}
    missing: dict[str | None, list[str]] = {}  # per category view: ratio leaves without a target
    for cat in categories:
        out += _check_view(scheme, cat, None, units) if cat is not None else []
        leaves = effective_leaves(scheme, None, cat)
        sums[cat] = got = counted_total(leaves)
        missing[cat] = _untargeted(leaves)
        if abs(got - total) > WEIGHT_TOLERANCE:
            detail = f"权重合计 {fmt(got)}，应为 {fmt(total)}"
            out.append(problem(_scope(scheme, cat, None, units), ErrorCode.WEIGHT_SUM, detail))
    members: dict[str | None, list[str]] = {cat: [] for cat in categories}
    unit_missing: dict[str, list[str]] = {}
    for uid, cat in units.items():
        view_cat = cat if scheme.categories else None
        if view_cat not in members:
            continue  # an unknown category, already reported
        members[view_cat].append(uid)
        out += _check_view(scheme, view_cat, uid, units)
        leaves = effective_leaves(scheme, uid, view_cat)
        got = counted_total(leaves)
        unit_missing[uid] = _untargeted(leaves)
        # a unit weighing the same as its category would only repeat the category's problem
        if abs(got - total) > WEIGHT_TOLERANCE and abs(got - sums[view_cat]) > WEIGHT_TOLERANCE:
            detail = f"权重合计 {fmt(got)}，应为 {fmt(total)}"
            out.append(problem(_scope(scheme, view_cat, uid, units), ErrorCode.WEIGHT_SUM, detail))
    # a target missing for every unit of a category is one problem of the category, not one per unit
    said: set[tuple[str | None, str]] = set()
    for cat in categories:
        for code in missing[cat]:
            if all(code in unit_missing[u] for u in members[cat]):
                n = len(members[cat])
                detail = "按完成率计分的指标缺少目标值" + (f"（本类别 {n} 个单位均未设置）" if n else "")
                path = f"{_scope(scheme, cat, None, units)} / 指标 {code}"
                out.append(problem(path, ErrorCode.TARGET_MISSING, detail))
                said.add((cat, code))
    for uid, codes in unit_missing.items():
        view_cat = units[uid] if scheme.categories else None
        for code in codes:
            if (view_cat, code) not in said:
                path = f"{_scope(scheme, view_cat, uid, units)} / 指标 {code}"
                out.append(problem(path, ErrorCode.TARGET_MISSING, "按完成率计分的指标缺少目标值"))
    return out


def _untargeted(leaves: Iterable[EffectiveLeaf]) -> list[str]:
    return [leaf.code for leaf in leaves if needs_target(leaf.standard) and leaf.target is None]
