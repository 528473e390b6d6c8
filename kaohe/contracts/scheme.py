"""考核方案 (assessment scheme): the "1+N" indicator tree of one assessing unit for one year.

A scheme is a common trunk (共性指标) plus supplements (补充指标) per category (分类指标, e.g. 晋城 市直/县区/
乡镇/街道) or per unit (个性指标, e.g. 城区's 国控点 task), with per-category or per-unit weight overrides
(差异化赋分) and coefficients (评价系数 / 考核系数). `effective_leaves` resolves all of it for one unit.

The models accept inconsistent schemes on purpose: an editor saves drafts, and `validate.validate_scheme`
reports every inconsistency at once instead of pydantic stopping at the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kaohe.contracts.reporting import Reporting
from kaohe.contracts.standards import (
    Banded,
    Bonus,
    CompletionRatio,
    Deduction,
    Direction,
    Formula,
    Qualitative,
    Schedule,
    Standard,
    Veto,
)

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ELEMENT_PATTERN = r"^[^\W\d]\w{0,63}$"  # a name kaohe.expr accepts: letters (CJK too), digits, _
MAX_LEVEL = 3
LEVEL_ZH: dict[int, str] = {1: "一级", 2: "二级", 3: "三级"}

DataSource = Literal["unit_report", "department", "statistic_import", "formula"]
SOURCE_ZH: dict[str, str] = {
    "unit_report": "单位填报",
    "department": "部门提供",
    "statistic_import": "统计导入",
    "formula": "公式计算",
}
ValueKind = Literal["number", "count", "percent", "grade"]
Origin = Literal["trunk", "category", "unit"]
WEIGHT_TOLERANCE = 1e-6


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ValueSpec(_Model):  # 取值要求
    """What a reported value may be: a real number, an integer count, a percentage 0..100 or a grade."""

    kind: ValueKind = "number"
    min_value: float | None = None
    max_value: float | None = None
    grades: tuple[str, ...] = ()


class DataElement(_Model):  # 数据元素
    """A named input for formulas; derived (派生) when it has a formula of its own."""

    name: str = Field(pattern=ELEMENT_PATTERN)
    label: str = Field(min_length=1, max_length=200)
    unit_of_measure: str = ""
    source: DataSource = "unit_report"
    department: str | None = None
    formula: str | None = Field(None, min_length=1, max_length=2000)
    value: ValueSpec = Field(default_factory=ValueSpec)
    evidence_required: bool = False


class Indicator(_Model):  # 指标 (一级/二级/三级)
    """A node of the tree; a node without children is a scored leaf and carries the scoring fields."""

    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    level: int = Field(ge=1, le=MAX_LEVEL)
    # 分值: required on counted leaves; on a parent it is an optional subtotal checked against its children.
    weight: float | None = Field(None, ge=0)
    children: list[Indicator] = Field(default_factory=list)
    standard: Standard | None = None  # 评价标准
    direction: Direction = "higher_better"
    unit_of_measure: str = ""  # 计量单位
    target: float | None = None  # 目标值 (default)
    targets_by_category: dict[str, float] = Field(default_factory=dict)
    targets_by_unit: dict[str, float] = Field(default_factory=dict)
    schedule: Schedule = Field(default_factory=Schedule)  # 时间进度
    source: DataSource = "unit_report"  # 数据来源
    department: str | None = None  # 责任部门 (unit id)
    inherits_from: str | None = None  # 承接: code of the indicator in the parent scheme
    cascade: bool = False  # 下达: the child schemes below must 承接 this indicator
    value: ValueSpec | None = None  # None: inferred from the standard and unit of measure
    evidence_required: bool = False  # 佐证材料
    description: str = ""  # 评分细则 in prose

    @property
    def is_leaf(self) -> bool:
        return not self.children


class Supplement(_Model):  # 补充指标: the N of "1+N"
    """Indicators added for one category (分类指标) or one unit (个性指标), optionally under a trunk node."""

    category: str | None = None
    unit_id: str | None = None
    parent_code: str | None = None  # graft under this node; None adds new top-level indicators
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_scope(self) -> Supplement:
        if (self.category is None) == (self.unit_id is None):
            raise ValueError("a supplement belongs to exactly one of category or unit_id")
        return self


class WeightOverride(_Model):  # 差异化赋分
    """A different weight for one category or one unit; on a parent its leaves are scaled to it."""

    code: str
    weight: float = Field(ge=0)
    category: str | None = None
    unit_id: str | None = None
    reason: str = ""

    @model_validator(mode="after")
    def _one_scope(self) -> WeightOverride:
        if (self.category is None) == (self.unit_id is None):
            raise ValueError("an override belongs to exactly one of category or unit_id")
        return self


class Coefficient(_Model):
    """评价系数 (e.g. townships with more 牵引性工程) or 考核系数 (front-line departments such as 招商)."""

    unit_id: str
    kind: Literal["evaluation", "assessment"]
    value: float = Field(gt=0, le=3)
    reason: str = ""


class SchemeRef(_Model):
    assessing_unit: str
    year: int


class Scheme(_Model):  # 考核方案
    """One assessing unit's scheme for one year: trunk + supplements + overrides + coefficients."""

    assessing_unit: str  # 考核主体
    year: int = Field(ge=2000, le=2100)
    version: int = Field(1, ge=1)
    name: str = ""
    total: float = Field(100.0, gt=0)  # 总分 of the counted leaves; 加分 and 一票否决 sit outside it
    categories: list[str] = Field(default_factory=list)
    parent: SchemeRef | None = None  # the upper level's scheme this one 承接
    data_elements: list[DataElement] = Field(default_factory=list)
    trunk: list[Indicator] = Field(default_factory=list)
    supplements: list[Supplement] = Field(default_factory=list)
    overrides: list[WeightOverride] = Field(default_factory=list)
    coefficients: list[Coefficient] = Field(default_factory=list)
    reporting: Reporting = Field(default_factory=Reporting)  # 报送要求: 填报 due day and reminder

    @property
    def label(self) -> str:
        return f"方案 {self.year}" if self.version == 1 else f"方案 {self.year} v{self.version}"


class EffectiveLeaf(_Model):
    """A scored leaf as it applies to one unit (or to a whole category when unit_id is None)."""

    code: str
    name: str
    level: int
    path: tuple[str, ...]  # ancestor codes, top first
    origin: Origin
    weight: float  # after overrides
    base_weight: float | None
    counted: bool  # False for 加分 and 一票否决: outside the weighted total
    standard: Standard | None
    direction: Direction
    unit_of_measure: str
    target: float | None
    schedule: Schedule
    source: DataSource
    department: str | None
    inherits_from: str | None
    value: ValueSpec
    evidence_required: bool


def is_counted(standard: Standard | None) -> bool:
    """Whether a leaf's weight belongs to the scheme total (加分 and 一票否决 do not)."""
    return not isinstance(standard, Bonus | Veto)


def is_container(ind: Indicator) -> bool:
    """A childless node with neither standard nor weight: a slot that supplements graft into."""
    return not ind.children and ind.standard is None and ind.weight is None


def needs_target(standard: Standard | None) -> bool:
    """Whether the standard divides by a target (完成率, 分档, or a formula scored that way)."""
    if isinstance(standard, Formula):
        return isinstance(standard.then, CompletionRatio | Banded)
    return isinstance(standard, CompletionRatio | Banded)


def value_spec(ind: Indicator) -> ValueSpec:
    """The leaf's declared ValueSpec, or one inferred from its standard and unit of measure."""
    if ind.value is not None:
        return ind.value
    std = ind.standard
    if isinstance(std, Qualitative):
        return ValueSpec(kind="grade", grades=tuple(std.grades))
    if isinstance(std, Deduction | Veto):
        return ValueSpec(kind="count", min_value=0)
    if ind.unit_of_measure == "%":
        return ValueSpec(kind="percent")
    return ValueSpec()


def walk(
    nodes: Iterable[Indicator], ancestors: tuple[Indicator, ...] = ()
) -> Iterator[tuple[Indicator, tuple[Indicator, ...]]]:
    """Depth-first (node, ancestors) over a forest of indicators."""
    for node in nodes:
        yield node, ancestors
        yield from walk(node.children, (*ancestors, node))


def all_indicators(scheme: Scheme) -> Iterator[tuple[Indicator, tuple[Indicator, ...]]]:
    """Every node of the trunk and of every supplement (ancestors are within its own tree)."""
    yield from walk(scheme.trunk)
    for sup in scheme.supplements:
        yield from walk(sup.indicators)


# --- resolution -------------------------------------------------------------------------------------


@dataclass
class TreeNode:
    ind: Indicator
    origin: Origin
    depth: int
    children: list[TreeNode] = field(default_factory=list)


@dataclass
class Resolved:
    """The tree for one unit or category, with what could not be applied (reported by validation)."""

    roots: list[TreeNode]
    index: dict[str, TreeNode]
    orphan_supplements: list[Supplement]  # parent_code not found in this tree
    unknown_overrides: list[WeightOverride]  # code not found in this tree
    unscalable_overrides: list[WeightOverride]  # a parent whose counted leaves weigh 0


def _build(
    nodes: Iterable[Indicator], origin: Origin, index: dict[str, TreeNode], depth: int
) -> list[TreeNode]:
    out = []
    for ind in nodes:
        node = TreeNode(ind, origin, depth)
        index.setdefault(ind.code, node)  # duplicates are reported by validation; the first one wins
        node.children = _build(ind.children, origin, index, depth + 1)
        out.append(node)
    return out


def _leaves(node: TreeNode) -> Iterator[TreeNode]:
    if not node.children:
        yield node
    for child in node.children:
        yield from _leaves(child)


def resolve(scheme: Scheme, unit_id: str | None, category: str | None) -> tuple[Resolved, dict[str, float]]:
    """Build the effective tree and leaf weights for a unit (or a category when unit_id is None)."""
    index: dict[str, TreeNode] = {}
    roots = _build(scheme.trunk, "trunk", index, 1)
    orphans: list[Supplement] = []
    # category supplements first, so a unit supplement may graft under a category's own indicators
    scoped = [s for s in scheme.supplements if category is not None and s.category == category]
    scoped += [s for s in scheme.supplements if unit_id is not None and s.unit_id == unit_id]
    for sup in scoped:
        origin: Origin = "unit" if sup.unit_id is not None else "category"
        if sup.parent_code is None:
            roots.extend(_build(sup.indicators, origin, index, 1))
        elif sup.parent_code in index:
            parent = index[sup.parent_code]
            parent.children.extend(_build(sup.indicators, origin, index, parent.depth + 1))
        else:
            orphans.append(sup)

    weights: dict[str, float] = {}
    for root in roots:
        for leaf in _leaves(root):
            weights[leaf.ind.code] = leaf.ind.weight or 0.0

    # unit overrides win over category overrides; parents are applied before their descendants
    chosen: dict[str, WeightOverride] = {}
    for ov in scheme.overrides:
        if category is not None and ov.category == category:
            chosen[ov.code] = ov
    for ov in scheme.overrides:
        if unit_id is not None and ov.unit_id == unit_id:
            chosen[ov.code] = ov
    unknown = [ov for ov in chosen.values() if ov.code not in index]
    unscalable: list[WeightOverride] = []
    known = sorted((ov for ov in chosen.values() if ov.code in index), key=lambda o: index[o.code].depth)
    for ov in known:
        node = index[ov.code]
        if not node.children:
            weights[ov.code] = ov.weight
            continue
        counted = [leaf for leaf in _leaves(node) if is_counted(leaf.ind.standard)]
        current = sum(weights[leaf.ind.code] for leaf in counted)
        if current <= 0:
            unscalable.append(ov)
            continue
        factor = ov.weight / current
        for leaf in counted:
            weights[leaf.ind.code] *= factor
    return Resolved(roots, index, orphans, unknown, unscalable), weights


def _target(ind: Indicator, unit_id: str | None, category: str | None) -> float | None:
    if unit_id is not None and unit_id in ind.targets_by_unit:
        return ind.targets_by_unit[unit_id]
    if category is not None and category in ind.targets_by_category:
        return ind.targets_by_category[category]
    return ind.target


def effective_leaves(scheme: Scheme, unit_id: str | None, category: str | None) -> list[EffectiveLeaf]:
    """The scored leaves for one unit: trunk + its category's and its own supplements, overrides, targets."""
    resolved, weights = resolve(scheme, unit_id, category)
    out: list[EffectiveLeaf] = []

    def visit(node: TreeNode, path: tuple[str, ...]) -> None:
        if node.children:
            for child in node.children:
                visit(child, (*path, node.ind.code))
            return
        ind = node.ind
        if is_container(ind):
            return
        out.append(
            EffectiveLeaf(
                code=ind.code,
                name=ind.name,
                level=ind.level,
                path=path,
                origin=node.origin,
                weight=weights[ind.code],
                base_weight=ind.weight,
                counted=is_counted(ind.standard),
                standard=ind.standard,
                direction=ind.direction,
                unit_of_measure=ind.unit_of_measure,
                target=_target(ind, unit_id, category),
                schedule=ind.schedule,
                source=ind.source,
                department=ind.department,
                inherits_from=ind.inherits_from,
                value=value_spec(ind),
                evidence_required=ind.evidence_required,
            )
        )

    for root in resolved.roots:
        visit(root, ())
    return out


def counted_total(leaves: Iterable[EffectiveLeaf]) -> float:
    """Sum of the weights that make up the scheme total (bonus and veto leaves excluded)."""
    return sum(leaf.weight for leaf in leaves if leaf.counted)


def unit_coefficient(scheme: Scheme, unit_id: str) -> float:
    """The product of a unit's coefficients (1.0 when it has none)."""
    result = 1.0
    for c in scheme.coefficients:
        if c.unit_id == unit_id:
            result *= c.value
    return result


def with_unit_targets(scheme: Scheme, code: str, targets: Mapping[str, float]) -> Scheme:
    """A copy of the scheme whose indicator `code` carries these per-unit targets (e.g. after 分解)."""

    def patch(nodes: list[Indicator]) -> list[Indicator]:
        out = []
        for ind in nodes:
            if ind.code == code:
                ind = ind.model_copy(update={"targets_by_unit": {**ind.targets_by_unit, **targets}})
            elif ind.children:
                ind = ind.model_copy(update={"children": patch(ind.children)})
            out.append(ind)
        return out

    sups = [s.model_copy(update={"indicators": patch(s.indicators)}) for s in scheme.supplements]
    return scheme.model_copy(update={"trunk": patch(scheme.trunk), "supplements": sups})
