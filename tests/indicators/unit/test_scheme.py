"""考核方案 resolution: trunk + category + unit supplements, overrides, targets (晋城 县区 as the example)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kaohe.contracts.scheme import (
    Coefficient,
    Indicator,
    Scheme,
    Supplement,
    ValueSpec,
    WeightOverride,
    counted_total,
    effective_leaves,
    unit_coefficient,
    value_spec,
    with_unit_targets,
)
from kaohe.contracts.standards import Bonus, CompletionRatio, Deduction, Qualitative


def leaf(code: str, name: str, weight: float | None, level: int = 2, **kw: object) -> Indicator:
    kw.setdefault("standard", CompletionRatio())
    return Indicator(code=code, name=name, level=level, weight=weight, **kw)  # type: ignore[arg-type]


def node(code: str, name: str, children: list[Indicator], **kw: object) -> Indicator:
    return Indicator(code=code, name=name, level=1, children=children, **kw)  # type: ignore[arg-type]


def jincheng() -> Scheme:
    """A cut-down 晋城 "1+4": trunk 党的建设 (10) + 县区 supplement of four level-1 indicators (90)."""
    trunk = [
        node(
            "D01",
            "党的建设",
            [
                leaf("D0101", "政治建设", 5, standard=Qualitative()),
                leaf("D0102", "党风廉政", 5, standard=Deduction(per_occurrence=1)),
            ],
            weight=10,
        ),
        leaf("B01", "争先创优", None, level=1, standard=Bonus(per_unit=1, cap=3)),
    ]
    county = [
        node("K01", "现代产业", [leaf("K0101", "工业增加值增速", 30, target=6.0, unit_of_measure="%")]),
        node("K02", "城市建设", [leaf("K0201", "城市更新项目", 20, target=10, targets_by_unit={"城区": 14})]),
        node(
            "K03",
            "生态文明",
            [leaf("K0301", "PM2.5浓度", 20, target=35, direction="lower_better", unit_of_measure="μg/m³")],
        ),
        node("K04", "社会民生", [leaf("K0401", "民生实事", 20, target=12, targets_by_category={"县区": 15})]),
    ]
    town = [node("X01", "高质量发展", [leaf("X0101", "一产固投", 90, target=1000)])]
    return Scheme(
        assessing_unit="晋城市",
        year=2026,
        categories=["县区", "乡镇"],
        trunk=trunk,
        supplements=[
            Supplement(category="县区", indicators=county),
            Supplement(category="乡镇", indicators=town),
            # 城区's own key task: the 5 air-quality 国控点, under 生态文明
            Supplement(
                unit_id="城区",
                parent_code="K03",
                indicators=[leaf("K0302", "国控点精细化治理", 5, target=5)],
            ),
        ],
        # 城区: 57 on 城市建设 + 生态文明, the rest shrunk to fit
        overrides=[
            WeightOverride(unit_id="城区", code="K01", weight=23),
            WeightOverride(unit_id="城区", code="K02", weight=30),
            WeightOverride(unit_id="城区", code="K03", weight=27),
            WeightOverride(unit_id="城区", code="K04", weight=10),
        ],
        coefficients=[
            Coefficient(unit_id="北石店镇", kind="evaluation", value=1.1),
            Coefficient(unit_id="北石店镇", kind="assessment", value=1.05),
        ],
    )


def test_a_county_without_specifics_gets_trunk_plus_its_category() -> None:
    leaves = effective_leaves(jincheng(), "泽州县", "县区")
    assert [x.code for x in leaves] == ["D0101", "D0102", "B01", "K0101", "K0201", "K0301", "K0401"]
    assert {x.code: x.weight for x in leaves if x.counted} == {
        "D0101": 5,
        "D0102": 5,
        "K0101": 30,
        "K0201": 20,
        "K0301": 20,
        "K0401": 20,
    }
    assert counted_total(leaves) == 100
    assert [x.origin for x in leaves][:3] == ["trunk"] * 3
    assert leaves[3].path == ("K01",)


def test_unit_overrides_scale_leaves_and_the_unit_task_is_grafted() -> None:
    leaves = {x.code: x for x in effective_leaves(jincheng(), "城区", "县区")}
    assert leaves["K0302"].origin == "unit"
    assert leaves["K0302"].path == ("K03",)
    # 生态文明 holds K0301 (20) + K0302 (5) = 25, scaled to 27: × 1.08
    assert leaves["K0301"].weight == pytest.approx(21.6)
    assert leaves["K0302"].weight == pytest.approx(5.4)
    assert leaves["K0301"].base_weight == 20
    assert leaves["K0201"].weight == pytest.approx(30)
    assert leaves["K0201"].weight + leaves["K0301"].weight + leaves["K0302"].weight == pytest.approx(57)
    assert counted_total(leaves.values()) == pytest.approx(100)


def test_a_unit_override_on_a_leaf_beats_a_category_override() -> None:
    scheme = jincheng().model_copy(
        update={
            "overrides": [
                WeightOverride(category="县区", code="K0101", weight=25),
                WeightOverride(unit_id="沁水县", code="K0101", weight=35),
            ]
        }
    )
    by_unit = {x.code: x.weight for x in effective_leaves(scheme, "沁水县", "县区")}
    by_other = {x.code: x.weight for x in effective_leaves(scheme, "泽州县", "县区")}
    assert by_unit["K0101"] == 35
    assert by_other["K0101"] == 25


def test_targets_resolve_unit_then_category_then_default() -> None:
    city = {x.code: x.target for x in effective_leaves(jincheng(), "城区", "县区")}
    other = {x.code: x.target for x in effective_leaves(jincheng(), "泽州县", "县区")}
    assert city["K0201"] == 14  # unit target
    assert other["K0201"] == 10  # default
    assert other["K0401"] == 15  # category target over the default 12


def test_bonus_items_sit_outside_the_total() -> None:
    leaves = {x.code: x for x in effective_leaves(jincheng(), "泽州县", "县区")}
    assert leaves["B01"].counted is False
    assert leaves["D0102"].counted is True


def test_township_sees_trunk_and_its_own_category_only() -> None:
    codes = [x.code for x in effective_leaves(jincheng(), "北石店镇", "乡镇")]
    assert codes == ["D0101", "D0102", "B01", "X0101"]


def test_coefficients_multiply() -> None:
    assert unit_coefficient(jincheng(), "北石店镇") == pytest.approx(1.1 * 1.05)
    assert unit_coefficient(jincheng(), "泽州县") == 1.0


def test_value_spec_is_inferred_from_the_standard() -> None:
    leaves = {x.code: x for x in effective_leaves(jincheng(), "泽州县", "县区")}
    assert leaves["D0101"].value.kind == "grade"
    assert leaves["D0101"].value.grades == ("好", "较好", "一般", "差")
    assert leaves["D0102"].value == ValueSpec(kind="count", min_value=0)
    assert leaves["K0101"].value.kind == "percent"
    explicit = leaf("Z", "z", 1, value=ValueSpec(kind="number", min_value=-50))
    assert value_spec(explicit).min_value == -50


def test_with_unit_targets_patches_one_indicator_in_a_supplement() -> None:
    scheme = with_unit_targets(jincheng(), "K0101", {"泽州县": 7.5})
    assert {x.code: x.target for x in effective_leaves(scheme, "泽州县", "县区")}["K0101"] == 7.5
    assert {x.code: x.target for x in effective_leaves(scheme, "阳城县", "县区")}["K0101"] == 6.0


def test_a_supplement_needs_exactly_one_scope() -> None:
    with pytest.raises(ValidationError):
        Supplement(category="县区", unit_id="城区", indicators=[leaf("Q1", "q", 1, level=1)])
    with pytest.raises(ValidationError):
        WeightOverride(code="K01", weight=1)
