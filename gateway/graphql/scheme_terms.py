"""The scheme's vocabulary for GraphQL: enums for the model's literals and the description of every field.

Shared by the typed input (`scheme_types`) and output (`scheme_document`), taken from the scheme model's
docstrings and field descriptions (`kaohe/contracts/scheme.py`, `kaohe/contracts/standards.py`).
"""

from __future__ import annotations

from enum import Enum

import strawberry

# --- enums (the model's literals) -------------------------------------------------------------------


@strawberry.enum(description="指标方向: whether more or less of the value is better")
class Direction(Enum):
    HIGHER_BETTER = strawberry.enum_value("higher_better", description="正向: more is better")
    LOWER_BETTER = strawberry.enum_value("lower_better", description="逆向: less is better (e.g. 能耗)")


@strawberry.enum(description="数据来源: who provides a value")
class DataSource(Enum):
    UNIT_REPORT = strawberry.enum_value("unit_report", description="单位填报: the assessed unit reports it")
    DEPARTMENT = strawberry.enum_value("department", description="部门提供: the responsible department")
    STATISTIC_IMPORT = strawberry.enum_value(
        "statistic_import", description="统计导入: the statistics import"
    )
    FORMULA = strawberry.enum_value("formula", description="公式计算: computed from data elements")


@strawberry.enum(description="取值类型: what kind of value is reported")
class ValueKind(Enum):
    NUMBER = strawberry.enum_value("number", description="a real number in the unit of measure")
    COUNT = strawberry.enum_value("count", description="an integer count (e.g. occurrences)")
    PERCENT = strawberry.enum_value("percent", description="a percentage 0..100")
    GRADE = strawberry.enum_value("grade", description="one of the listed grades (等次)")


@strawberry.enum(description="时间进度的方式: how the 序时进度 is laid out over the year")
class ScheduleKind(Enum):
    LINEAR = strawberry.enum_value("linear", description="evenly through the year (month m: m/12)")
    MILESTONES = strawberry.enum_value("milestones", description="节点目标: by the listed months")


@strawberry.enum(description="系数的种类")
class CoefficientKind(Enum):
    EVALUATION = strawberry.enum_value(
        "evaluation", description="评价系数: e.g. townships carrying more 牵引性工程"
    )
    ASSESSMENT = strawberry.enum_value(
        "assessment", description="考核系数: e.g. front-line departments such as 招商"
    )


@strawberry.enum(description="一票否决后的最高等次: the best grade a vetoed unit can get")
class VetoCapGrade(Enum):
    GOOD = strawberry.enum_value("良好", description="良好")
    FAIR = strawberry.enum_value("一般", description="一般")
    POOR = strawberry.enum_value("较差", description="较差 (the default)")


# --- descriptions shared by the input and the output types ------------------------------------------

D: dict[str, str] = {
    "cap": "封顶: the highest completion ratio credited, e.g. 1.2 = 120% (0 < cap ≤ 2; default 1.0)",
    "floor": "保底线: a completion ratio below this scores 0 (0..1; default 0)",
    "bands": "档次: 1 to 20 bands, strictly ascending minRatio, fraction never decreasing",
    "min_ratio": "this band's lowest completion ratio (value ÷ target), e.g. 0.9 = 90%",
    "band_fraction": "share of the indicator's 分值 scored in this band, 0..1 (0.8 = 80%)",
    "last_fraction": "share of the 分值 for the last place, 0..1 (default 0.6); first place gets all of it",
    "progress_bonus_per_place": "进位加分: points per place gained over the previous period (default 0)",
    "progress_bonus_cap": "the most 进位 points in all; required when progressBonusPerPlace > 0",
    "per_occurrence": "points deducted per occurrence (the reported count), > 0",
    "max_deduction": "the most points deducted in all (> 0); unset: up to the indicator's whole 分值",
    "grades": "等次 → share of the 分值 (0..1); unset: 好 1.0, 较好 0.8, 一般 0.6, 差 0.3",
    "per_unit": "points per unit of the reported value, > 0",
    "bonus_cap": "the most bonus points (加分 上限), > 0",
    "cap_grade": "the best grade a vetoed unit can get (default 较差)",
    "expression": "表达式 over data element names, with prev(x) and growth(x), "
    "e.g. `(收入 - 支出) / 收入 * 100`",
    "then": "how the expression's value is scored: completionRatio, banded or deduction "
    "(default completionRatio)",
    "month": "month 1..12",
    "milestone_fraction": "share of the annual target due by the month's end, 0..1 (0.5 = 50%)",
    "schedule_kind": "LINEAR (default) or MILESTONES",
    "milestones": "节点目标: at most 12, in month order with non-decreasing fractions; "
    "required for MILESTONES",
    "value_kind": "NUMBER (default), COUNT, PERCENT or GRADE",
    "min_value": "smallest accepted value, in the unit of measure",
    "max_value": "largest accepted value, in the unit of measure",
    "value_grades": "accepted 等次 when kind is GRADE",
    "element_name": "数据元素名: the name formulas use; letters (CJK too), digits and _, "
    "not starting with a digit",
    "label": "显示名称 (1..200 characters)",
    "unit_of_measure": "计量单位, e.g. 亿元, %, 个",
    "source": "数据来源 (default UNIT_REPORT)",
    "department": "责任部门: the id of the unit that provides or reviews the value",
    "element_formula": "派生公式: computed from other data elements (a derived element)",
    "value": "取值要求: what a reported value may be; unset on an indicator: inferred from its standard",
    "evidence_required": "佐证材料: a submission must carry evidence (default false)",
    "code": "指标编码: unique in the scheme; letters, digits, . _ - (at most 64), e.g. JC-ECO-GDP",
    "name": "指标名称 (1..200 characters)",
    "level": "层级: 1 一级, 2 二级, 3 三级 指标",
    "weight": "分值: points of the scheme total (总分, usually 100); required on a counted leaf, on a parent "
    "an optional subtotal checked against its children",
    "children": "下级指标; a node without children is a scored leaf (叶子指标)",
    "standard": "评价标准: how a leaf's value becomes points (exactly one kind)",
    "direction": "正向/逆向 (default HIGHER_BETTER)",
    "target": "目标值: the annual target for every unit, in the unit of measure",
    "targets_by_category": "分类目标值: per-category targets, overriding `target`",
    "targets_by_unit": "分解目标值: per-unit targets (指标分解), overriding category and default targets",
    "schedule": "时间进度 (序时进度): how much of the target is due by a date (default LINEAR)",
    "inherits_from": "承接: the code of the indicator in the parent scheme this one takes over",
    "cascade": "下达: the schemes one level down must 承接 this indicator (default false)",
    "description": "评分细则 in prose",
    "category": "分类 name (one of the scheme's categories)",
    "unit_id": "the unit's id",
    "parent_code": "graft under this node (a trunk or category indicator); unset: new top-level indicators",
    "indicators": "the supplement's indicators (at least one)",
    "override_weight": "分值 in points for this category or unit (≥ 0); on a parent its counted leaves "
    "are scaled to add up to it",
    "reason": "理由 (shown in explanations)",
    "coefficient_kind": "EVALUATION 评价系数 or ASSESSMENT 考核系数",
    "coefficient_value": "the multiplier, 0 < value ≤ 3 (1.05 = +5%); a unit's coefficients multiply",
    "scheme_name": "方案名称, e.g. 2026年度目标责任考核",
    "total": "总分: what the counted leaves' 分值 add up to (default 100); 加分 and 一票否决 sit outside it",
    "categories": "分类 names used by supplements, overrides and targets (members: categoriesSet)",
    "parent": "承接: the upper level's scheme this one takes over (its published version)",
    "data_elements": "数据元素: named inputs for formulas",
    "trunk": "共性指标: the common indicator tree (the 1 of 1+N)",
    "supplements": "补充指标: indicators per category or unit (the N of 1+N)",
    "overrides": "差异化赋分: weights per category or unit",
    "coefficients": "评价系数 / 考核系数 per unit",
    "assessing_unit": "考核主体: the assessing unit's id",
    "year": "考核年度",
    "reporting": "报送要求 (default: due on the 5th working day, reminded 2 before); left out of a save, "
    "it is kept as the draft saved into (schemeId) has it, else as the unit's latest scheme of the year",
    "due_workdays": "报送时限: a month's values are due on the N-th working day after the month ends "
    "(1..20, default 5; working days on the versioned calendar: 调休 Saturdays count, holidays do not)",
    "remind_workdays": "提前提醒工作日: units that have not handed in are reminded N working days before "
    "the 报送时限 (0..20, default 2; 0: on the day itself)",
}

DOC = {
    "completion_ratio": "完成率: points = 分值 × min(ratio, cap), ratio = value ÷ target "
    "(target ÷ value when LOWER_BETTER); a ratio below floor scores 0",
    "banded": "分档: the highest band whose minRatio ≤ value ÷ target gives its fraction of the 分值",
    "band": "档次: from a completion ratio up, a share of the 分值",
    "rank": "排名进位: by rank within the category; first gets the whole 分值, last lastFraction, linear "
    "between; optional 进位 bonus per place gained",
    "deduction": "扣分: each occurrence deducts perOccurrence points, at most maxDeduction",
    "qualitative": "定性评价 / 领导评议: a reported grade (等次) maps to a share of the 分值",
    "grade_fraction": "等次 and its share of the 分值",
    "bonus": "加分 / 争先创优: points per unit of value, capped; outside the scheme total",
    "veto": "一票否决: a value > 0 (an occurrence) caps the unit's grade at capGrade; outside the total",
    "formula": "公式: an expression over data elements, then scored as completionRatio, banded or deduction",
    "schedule": "时间进度: how much of the annual target should be done by a date (序时进度)",
    "milestone": "节点目标: the share of the annual target due by a month's end",
    "value_spec": "取值要求: what a reported value may be",
    "data_element": "数据元素: a named input for formulas; 派生 (derived) when it has a formula",
    "indicator": "指标: a node of the tree (一级/二级/三级); a node without children is a scored leaf",
    "category_target": "a category's target (分类目标值)",
    "unit_target": "a unit's target (分解目标值)",
    "supplement": "补充指标: indicators for one category (分类指标) or one unit (个性指标): exactly one of "
    "category or unitId",
    "override": "差异化赋分: another weight for one category or one unit (exactly one of the two)",
    "coefficient": "评价系数 / 考核系数: multiplies a unit's assessed score",
    "scheme_ref": "a scheme by assessing unit and year",
    "reporting": "报送要求: 报送时限 of monthly values and the 填报截止提醒 before it, in working days",
    "scheme": "考核方案 document: trunk + supplements + overrides + coefficients (its assessing unit and "
    "year are the operation's)",
}
