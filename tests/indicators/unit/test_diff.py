"""方案版本对比: structured entries and the Chinese rendering."""

from __future__ import annotations

from kaohe.contracts.reporting import Reporting
from kaohe.contracts.scheme import (
    Coefficient,
    DataElement,
    Indicator,
    Scheme,
    Supplement,
    WeightOverride,
)
from kaohe.contracts.standards import CompletionRatio, Deduction
from services.indicators.domain.diff import describe_standard, diff_schemes, render_diff


def v1() -> Scheme:
    return Scheme(
        assessing_unit="晋城市",
        year=2026,
        categories=["县区"],
        data_elements=[DataElement(name="gdp", label="地区生产总值", unit_of_measure="亿元")],
        trunk=[
            Indicator(
                code="K01",
                name="现代产业",
                level=1,
                children=[
                    Indicator(
                        code="K0101",
                        name="工业增加值增速",
                        level=2,
                        weight=60,
                        standard=CompletionRatio(),
                        target=6,
                    ),
                    Indicator(
                        code="K0102",
                        name="安全生产",
                        level=2,
                        weight=40,
                        standard=Deduction(per_occurrence=2),
                    ),
                ],
            )
        ],
        overrides=[WeightOverride(unit_id="城区", code="K0101", weight=50)],
        coefficients=[Coefficient(unit_id="北石店镇", kind="evaluation", value=1.1)],
    )


def v2() -> Scheme:
    old = v1()
    k01 = old.trunk[0]
    k0101 = k01.children[0].model_copy(
        update={"weight": 55, "standard": CompletionRatio(cap=1.2), "targets_by_unit": {"城区": 8}}
    )
    return old.model_copy(
        update={
            "version": 2,
            "trunk": [k01.model_copy(update={"children": [k0101]})],
            "supplements": [
                Supplement(
                    unit_id="城区",
                    parent_code="K01",
                    indicators=[
                        Indicator(
                            code="K0103",
                            name="国控点治理",
                            level=2,
                            weight=45,
                            standard=CompletionRatio(),
                            target=5,
                        )
                    ],
                )
            ],
            "data_elements": [],
            "coefficients": [Coefficient(unit_id="北石店镇", kind="evaluation", value=1.2)],
        }
    )


def test_entries_name_each_change_with_before_and_after() -> None:
    entries = diff_schemes(v1(), v2())
    summary = [(e.kind, e.subject, e.key) for e in entries]
    assert summary == [
        ("changed", "indicator", "K0101"),
        ("removed", "indicator", "K0102"),
        ("added", "indicator", "K0103"),
        ("removed", "data_element", "gdp"),
        ("changed", "coefficient", "北石店镇 / 评价系数"),
    ]
    changed = {c.field: (c.before, c.after) for c in entries[0].changes}
    assert changed == {
        "weight": ("60", "55"),
        "standard": ("完成率（封顶 100%）", "完成率（封顶 120%）"),
        "targets_by_unit.城区": ("无", "8"),
    }
    assert entries[2].scope == "单位 城区，K01 之下"
    assert entries[4].changes[0].before == "1.1"
    assert entries[4].changes[0].after == "1.2"


def test_rendering_reads_as_a_change_list() -> None:
    text = render_diff(diff_schemes(v1(), v2()), old=v1(), new=v2())
    assert text.splitlines() == [
        "方案 2026 → 方案 2026 v2：新增 1 项，删除 2 项，修改 2 项",
        "【修改指标】K0101「工业增加值增速」（共性指标，K01 之下）",
        "    权重：60 → 55",
        "    评价标准：完成率（封顶 100%） → 完成率（封顶 120%）",
        "    单位目标值（城区）：无 → 8",
        "【删除指标】K0102「安全生产」（共性指标，K01 之下）",
        "【新增指标】K0103「国控点治理」（单位 城区，K01 之下）",
        "    权重：45",
        "    评价标准：完成率（封顶 100%）",
        "    目标值：5",
        "【删除数据元素】gdp「地区生产总值」",
        "【修改系数】北石店镇 / 评价系数",
        "    系数：1.1 → 1.2",
    ]


def test_a_moved_indicator_shows_its_old_and_new_place() -> None:
    old = v1()
    moved = old.model_copy(
        update={
            "trunk": [old.trunk[0].model_copy(update={"children": [old.trunk[0].children[0]]})],
            "supplements": [
                Supplement(
                    category="县区", indicators=[old.trunk[0].children[1].model_copy(update={"level": 1})]
                )
            ],
        }
    )
    entry = next(e for e in diff_schemes(old, moved) if e.key == "K0102")
    assert [(c.label, c.before, c.after) for c in entry.changes] == [
        ("位置", "共性指标，K01 之下", "类别 县区"),
        ("层级", "2", "1"),
    ]


def test_overrides_are_diffed_by_scope_and_code() -> None:
    old = v1()
    new = old.model_copy(update={"overrides": [WeightOverride(unit_id="城区", code="K0101", weight=45)]})
    entries = diff_schemes(old, new)
    assert [(e.key, e.changes[0].before, e.changes[0].after) for e in entries] == [
        ("单位 城区 / K0101", "50", "45")
    ]


def test_identical_versions_have_no_changes() -> None:
    assert diff_schemes(v1(), v1()) == []
    assert render_diff([], old=v1(), new=v1()) == "方案 2026 → 方案 2026：无变化"


def test_standards_are_described_in_chinese() -> None:
    assert (
        describe_standard(Deduction(per_occurrence=2, max_deduction=10)) == "扣分（每次 2 分，最多扣 10 分）"
    )
    assert describe_standard(CompletionRatio(cap=1.2, floor=0.6)) == "完成率（封顶 120%，低于 60% 不得分）"


def test_a_changed_reporting_rule_is_listed_as_the_schemes_报送时限() -> None:
    old = v1()
    new = old.model_copy(update={"version": 2, "reporting": Reporting(due_workdays=8, remind_workdays=0)})
    entries = diff_schemes(old, new)
    assert [(e.kind, e.subject, e.key) for e in entries] == [("changed", "scheme", "方案 2026 v2")]
    assert [(c.field, c.label, c.before, c.after) for c in entries[0].changes] == [
        (
            "reporting",
            "报送时限",
            "次月第 5 个工作日前报送，提前 2 个工作日提醒",
            "次月第 8 个工作日前报送，截止当日提醒",
        )
    ]
    assert render_diff(entries, old=old, new=new).splitlines() == [
        "方案 2026 → 方案 2026 v2：新增 0 项，删除 0 项，修改 1 项",
        "【修改方案】方案 2026 v2",
        "    报送时限：次月第 5 个工作日前报送，提前 2 个工作日提醒 → 次月第 8 个工作日前报送，截止当日提醒",
    ]
    # the reminder alone changing is a change too
    remind = old.model_copy(update={"reporting": Reporting(remind_workdays=3)})
    (entry,) = diff_schemes(old, remind)
    assert [c.after for c in entry.changes] == ["次月第 5 个工作日前报送，提前 3 个工作日提醒"]


def test_a_version_stored_before_the_reporting_rule_differs_only_if_the_rule_is_not_the_default() -> None:
    body = v1().model_dump(mode="json")
    del body["reporting"]
    older = Scheme.model_validate(body)
    assert diff_schemes(older, v1()) == []
    changed = v1().model_copy(update={"reporting": Reporting(due_workdays=10)})
    assert [c.field for e in diff_schemes(older, changed) for c in e.changes] == ["reporting"]
