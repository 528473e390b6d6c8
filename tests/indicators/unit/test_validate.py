"""Scheme validation: weights, codes, levels, formulas, targets, scopes, inheritance."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kaohe.contracts.scheme import (
    DataElement,
    Indicator,
    Scheme,
    SchemeRef,
    Supplement,
    WeightOverride,
)
from kaohe.contracts.standards import Bonus, CompletionRatio, Formula, Qualitative
from services.indicators.domain.inherit import validate_inheritance
from services.indicators.domain.validate import validate_scheme
from services.indicators.errors import IndicatorsErrorCode as ErrorCode

ROSTER = {"城区": "县区", "泽州县": "县区", "北石店镇": "乡镇"}


def leaf(code: str, weight: float | None, level: int = 2, **kw: object) -> Indicator:
    kw.setdefault("standard", CompletionRatio())
    kw.setdefault("target", 1.0)
    return Indicator(code=code, name=f"指标{code}", level=level, weight=weight, **kw)  # type: ignore[arg-type]


def node(code: str, children: list[Indicator], level: int = 1, **kw: object) -> Indicator:
    return Indicator(code=code, name=f"指标{code}", level=level, children=children, **kw)  # type: ignore[arg-type]


def scheme(**kw: object) -> Scheme:
    """Trunk 20 + 县区 80 + 乡镇 80; 城区 gets a unit task of 10 and an override taking 10 off K02."""
    base: dict[str, object] = {
        "assessing_unit": "晋城市",
        "year": 2026,
        "categories": ["县区", "乡镇"],
        "trunk": [node("D01", [leaf("D0101", 10), leaf("D0102", 10)], weight=20)],
        "supplements": [
            Supplement(
                category="县区",
                indicators=[node("K01", [leaf("K0101", 50)]), node("K02", [leaf("K0201", 30)])],
            ),
            Supplement(category="乡镇", indicators=[node("X01", [leaf("X0101", 80)])]),
            Supplement(unit_id="城区", parent_code="K01", indicators=[leaf("K0102", 10)]),
        ],
        "overrides": [WeightOverride(unit_id="城区", code="K02", weight=20)],
    }
    base.update(kw)
    return Scheme.model_validate(base)


def codes(problems: list) -> list[str]:
    return [p.code for p in problems]


def test_a_consistent_scheme_has_no_problems() -> None:
    assert validate_scheme(scheme(), ROSTER) == []


def test_category_weights_off_by_two_give_one_precise_message() -> None:
    bad = scheme(
        supplements=[
            Supplement(
                category="县区",
                indicators=[node("K01", [leaf("K0101", 50)]), node("K02", [leaf("K0201", 28)])],
            ),
            Supplement(category="乡镇", indicators=[node("X01", [leaf("X0101", 80)])]),
        ],
        overrides=[],
    )
    problems = validate_scheme(bad, ROSTER)
    # 20 + 50 + 28 = 98; 泽州县 and 城区 equal their category, so only the category is reported
    assert [p.message for p in problems] == ["方案 2026 / 类别 县区: 权重合计 98，应为 100"]
    assert problems[0].code == ErrorCode.WEIGHT_SUM
    assert problems[0].path == "方案 2026 / 类别 县区"


def test_a_unit_whose_override_breaks_the_total_is_named() -> None:
    bad = scheme(overrides=[WeightOverride(unit_id="城区", code="K02", weight=25)])
    problems = validate_scheme(bad, ROSTER)
    # 城区: 20 + 50 + 10 (its own task) + 25 = 105
    assert [p.message for p in problems] == ["方案 2026 / 类别 县区 / 单位 城区: 权重合计 105，应为 100"]


def test_bonus_items_do_not_count_towards_the_total() -> None:
    bonus = leaf("B01", 5, level=1, standard=Bonus(per_unit=1, cap=5), target=None)
    ok = scheme(trunk=[node("D01", [leaf("D0101", 10), leaf("D0102", 10)], weight=20), bonus])
    assert validate_scheme(ok, ROSTER) == []


def test_duplicate_codes_are_reported_once_per_code() -> None:
    dup = scheme(
        supplements=[
            Supplement(
                category="县区",
                indicators=[node("K01", [leaf("K0101", 50)]), node("K02", [leaf("K0201", 30)])],
            ),
            Supplement(category="乡镇", indicators=[node("X01", [leaf("K0101", 80)])]),
        ],
        overrides=[],
    )
    problems = [p for p in validate_scheme(dup, ROSTER) if p.code == ErrorCode.DUPLICATE_CODE]
    assert [p.message for p in problems] == ["方案 2026 / 指标 K0101: 指标代码重复出现 2 次"]


def test_tree_levels_and_parent_subtotals_are_checked() -> None:
    bad = scheme(trunk=[node("D01", [leaf("D0101", 10, level=3), leaf("D0102", 10)], weight=25)])
    by_code = {p.code: p.message for p in validate_scheme(bad, ROSTER)}
    assert (
        by_code[ErrorCode.LEVEL_MISMATCH]
        == "方案 2026 / 共性指标 / 指标 D0101: 标为三级指标，按所在位置应为二级指标"
    )
    assert by_code[ErrorCode.PARENT_WEIGHT_MISMATCH] == (
        "方案 2026 / 共性指标 / 指标 D01: 权重 25 与下级指标权重合计 20 不一致"
    )


def test_a_grafted_supplement_must_sit_one_level_below_its_parent() -> None:
    bad = scheme(
        supplements=[
            Supplement(
                category="县区",
                indicators=[node("K01", [leaf("K0101", 50)]), node("K02", [leaf("K0201", 30)])],
            ),
            Supplement(category="乡镇", indicators=[node("X01", [leaf("X0101", 80)])]),
            Supplement(unit_id="城区", parent_code="K01", indicators=[leaf("K0102", 10, level=1)]),
        ]
    )
    problems = [p for p in validate_scheme(bad, ROSTER) if p.code == ErrorCode.LEVEL_MISMATCH]
    assert [p.path for p in problems] == ["方案 2026 / 类别 县区 / 单位 城区 / 指标 K0102"]


def test_leaves_need_a_standard_and_a_weight() -> None:
    bare = Indicator(code="D0103", name="缺标准", level=2, weight=5)
    no_weight = leaf("D0104", None)
    bad = scheme(trunk=[node("D01", [leaf("D0101", 10), leaf("D0102", 5), bare, no_weight], weight=20)])
    found = {(p.code, p.path) for p in validate_scheme(bad, ROSTER)}
    assert (ErrorCode.LEAF_WITHOUT_STANDARD, "方案 2026 / 共性指标 / 指标 D0103") in found
    assert (ErrorCode.LEAF_WITHOUT_WEIGHT, "方案 2026 / 共性指标 / 指标 D0104") in found


def test_formula_cycle_is_detected() -> None:
    elements = [
        DataElement(name="a", label="甲", source="formula", formula="b + 1"),
        DataElement(name="b", label="乙", source="formula", formula="a * 2"),
        DataElement(name="c", label="丙"),
    ]
    f = leaf("D0102", 10, standard=Formula(expression="a / c"), source="formula")
    bad = scheme(data_elements=elements, trunk=[node("D01", [leaf("D0101", 10), f], weight=20)])
    problems = [p for p in validate_scheme(bad, ROSTER) if p.code == ErrorCode.FORMULA_CYCLE]
    assert [p.message for p in problems] == ["方案 2026 / 数据元素 a / 公式: 数据元素公式循环引用：a → b → a"]


def test_a_running_total_through_prev_is_not_a_cycle() -> None:
    elements = [
        DataElement(name="monthly", label="当月"),
        DataElement(name="total", label="累计", source="formula", formula="prev(total) + monthly"),
    ]
    f = leaf("D0102", 10, standard=Formula(expression="total"), source="formula")
    ok = scheme(data_elements=elements, trunk=[node("D01", [leaf("D0101", 10), f], weight=20)])
    assert validate_scheme(ok, ROSTER) == []


def test_an_unparsable_formula_is_rejected_when_the_standard_is_built() -> None:
    with pytest.raises(ValidationError) as e:
        Formula(expression="gdp * (1 +")
    assert e.value.errors()[0]["msg"].startswith("Value error, expression:")


def test_formulas_must_parse_and_name_existing_elements() -> None:
    elements = [DataElement(name="gdp", label="地区生产总值")]
    unknown = leaf("D0102", 10, standard=Formula(expression="growth(gdp) + invest"), source="formula")
    derived = DataElement(name="share", label="占比", formula="gdp / (1 +")  # a derived element's formula
    bad = scheme(
        data_elements=[*elements, derived], trunk=[node("D01", [leaf("D0101", 10), unknown], weight=20)]
    )
    by_code = {p.code: p for p in validate_scheme(bad, ROSTER)}
    assert "无法解析" in by_code[ErrorCode.FORMULA_SYNTAX].message
    assert by_code[ErrorCode.FORMULA_UNKNOWN_ELEMENT].message == (
        "方案 2026 / 指标 D0102 / 公式: 公式「growth(gdp) + invest」引用了未定义的数据元素：invest"
    )


def test_a_formula_standard_needs_the_formula_source() -> None:
    elements = [DataElement(name="gdp", label="地区生产总值")]
    f = leaf("D0102", 10, standard=Formula(expression="gdp"))  # source left at unit_report
    bad = scheme(data_elements=elements, trunk=[node("D01", [leaf("D0101", 10), f], weight=20)])
    assert codes(validate_scheme(bad, ROSTER)) == [ErrorCode.SOURCE_MISMATCH]


def test_a_target_missing_for_every_unit_is_one_category_problem() -> None:
    untargeted = scheme(
        supplements=[
            Supplement(
                category="县区",
                indicators=[node("K01", [leaf("K0101", 50, target=None)]), node("K02", [leaf("K0201", 30)])],
            ),
            Supplement(category="乡镇", indicators=[node("X01", [leaf("X0101", 80)])]),
        ],
        overrides=[],
    )
    problems = validate_scheme(untargeted, ROSTER)
    assert [p.message for p in problems] == [
        "方案 2026 / 类别 县区 / 指标 K0101: 按完成率计分的指标缺少目标值（本类别 2 个单位均未设置）"
    ]


def test_a_target_missing_for_some_units_names_those_units() -> None:
    partly = scheme(
        supplements=[
            Supplement(
                category="县区",
                indicators=[
                    node("K01", [leaf("K0101", 50, target=None, targets_by_unit={"城区": 8})]),
                    node("K02", [leaf("K0201", 30)]),
                ],
            ),
            Supplement(category="乡镇", indicators=[node("X01", [leaf("X0101", 80)])]),
        ],
        overrides=[],
    )
    assert [p.path for p in validate_scheme(partly, ROSTER)] == [
        "方案 2026 / 类别 县区 / 单位 泽州县 / 指标 K0101"
    ]


def test_grades_need_no_target() -> None:
    graded = leaf("D0102", 10, standard=Qualitative(), target=None)
    assert validate_scheme(scheme(trunk=[node("D01", [leaf("D0101", 10), graded], weight=20)]), ROSTER) == []


def test_unknown_categories_units_and_override_codes() -> None:
    bad = scheme(
        overrides=[
            WeightOverride(unit_id="城区", code="K02", weight=20),
            WeightOverride(unit_id="阳城县", code="K02", weight=20),
            WeightOverride(category="街道", code="K02", weight=20),
            WeightOverride(unit_id="泽州县", code="K99", weight=0),
        ]
    )
    found = [(p.code, p.path) for p in validate_scheme(bad, {**ROSTER, "西街": "社区"})]
    assert (ErrorCode.UNKNOWN_UNIT, "方案 2026 / 单位 阳城县 / 指标 K02") in found
    assert (ErrorCode.UNKNOWN_CATEGORY, "方案 2026 / 类别 街道 / 指标 K02") in found
    assert (ErrorCode.UNKNOWN_CATEGORY, "方案 2026 / 类别 社区 / 单位 西街") in found
    assert (ErrorCode.UNKNOWN_CODE, "方案 2026 / 类别 县区 / 单位 泽州县 / 指标 K99") in found


def test_a_graft_under_a_missing_parent_is_reported() -> None:
    sups = [
        *scheme().supplements[:2],
        Supplement(unit_id="城区", parent_code="K09", indicators=[leaf("K0102", 10)]),
    ]
    found = [(p.code, p.message) for p in validate_scheme(scheme(supplements=sups), ROSTER)]
    assert (
        ErrorCode.GRAFT_PARENT_MISSING,
        "方案 2026 / 类别 县区 / 单位 城区: 补充指标挂接的上级指标 K09 不存在",
    ) in found


# --- inheritance (承接) -----------------------------------------------------------------------------


def province() -> Scheme:
    return Scheme(
        assessing_unit="山西省",
        year=2026,
        trunk=[
            node(
                "S01",
                [
                    leaf("S0101", 60, cascade=True, unit_of_measure="%"),
                    leaf("S0102", 40, cascade=True, direction="lower_better"),
                ],
            )
        ],
    )


def test_inheritance_references_are_checked_against_the_parent_scheme() -> None:
    child = scheme(
        parent=SchemeRef(assessing_unit="山西省", year=2026),
        trunk=[
            node(
                "D01",
                [
                    leaf("D0101", 10, inherits_from="S0101", unit_of_measure="亿元"),
                    leaf("D0102", 10, inherits_from="S0199"),
                ],
                weight=20,
            )
        ],
    )
    got = sorted((p.code, p.message) for p in validate_inheritance(child, province()))
    assert got == sorted(
        [
            (
                ErrorCode.INHERIT_MISMATCH,
                "方案 2026 / 指标 D0101: 计量单位「亿元」与上级指标 S0101 的「%」不一致",
            ),
            (
                ErrorCode.INHERIT_UNKNOWN,
                "方案 2026 / 指标 D0102: 承接的上级指标 S0199 在上级方案（山西省 2026）中不存在",
            ),
            (
                ErrorCode.INHERIT_MISSING,
                "方案 2026 / 上级方案 山西省 2026 / 指标 S0102: 上级下达的指标「指标S0102」未被承接",
            ),
        ]
    )


def test_a_complete_inheritance_passes_and_a_wrong_parent_is_named() -> None:
    child = scheme(
        parent=SchemeRef(assessing_unit="山西省", year=2026),
        trunk=[
            node(
                "D01",
                [
                    leaf("D0101", 10, inherits_from="S0101"),
                    leaf("D0102", 10, inherits_from="S0102", direction="lower_better"),
                ],
                weight=20,
            )
        ],
    )
    assert validate_inheritance(child, province()) == []
    wrong = child.model_copy(update={"parent": SchemeRef(assessing_unit="山西省", year=2025)})
    assert codes(validate_inheritance(wrong, province())) == [ErrorCode.PARENT_SCHEME_MISMATCH]
