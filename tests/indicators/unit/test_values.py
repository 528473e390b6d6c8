"""填报数值校验: types and ranges reject, implausible changes only flag."""

from __future__ import annotations

import math

import pytest

from kaohe.contracts.scheme import DataElement, Indicator, Scheme, ValueSpec
from kaohe.contracts.standards import CompletionRatio, Formula, Qualitative
from services.indicators.domain.values import (
    FieldSpec,
    InvalidValue,
    Plausibility,
    Reported,
    coerce_value,
    submission_fields,
    validate_submission,
)
from services.indicators.errors import IndicatorsErrorCode as ErrorCode

FIELDS = {
    "A1": FieldSpec(code="A1", name="固定资产投资", unit_of_measure="亿元", value=ValueSpec(min_value=0)),
    "A2": FieldSpec(code="A2", name="安全事故", value=ValueSpec(kind="count")),
    "A3": FieldSpec(code="A3", name="达标率", value=ValueSpec(kind="percent")),
    "A4": FieldSpec(
        code="A4", name="领导评议", value=ValueSpec(kind="grade", grades=("好", "较好", "一般", "差"))
    ),
    "A5": FieldSpec(code="A5", name="项目开工", evidence_required=True),
}
GOOD = {
    "A1": Reported(value=120.5),
    "A2": Reported(value="3"),
    "A3": Reported(value="98.5%"),
    "A4": Reported(value="较好"),
    "A5": Reported(value=4, evidence=["file-1"]),
}


def test_a_clean_submission_is_accepted_with_coerced_values() -> None:
    check = validate_submission(FIELDS, GOOD)
    assert check.ok
    assert check.errors == [] and check.flags == []
    assert check.values == {"A1": 120.5, "A2": 3.0, "A3": 98.5, "A4": "较好", "A5": 4.0}


def test_each_bad_value_is_an_error_on_its_field() -> None:
    bad = {
        "A1": Reported(value="十二"),
        "A2": Reported(value="2.5"),
        "A3": Reported(value=101),
        "A4": Reported(value="优"),
        "A5": Reported(value=1),
        "ZZ": Reported(value=1),
    }
    check = validate_submission(FIELDS, bad)
    assert not check.ok
    got = sorted((e.field, e.code) for e in check.errors)
    assert got == [
        ("A1", ErrorCode.NOT_A_NUMBER),
        ("A2", ErrorCode.NOT_AN_INTEGER),
        ("A3", ErrorCode.OUT_OF_RANGE),
        ("A4", ErrorCode.UNKNOWN_GRADE),
        ("A5", ErrorCode.EVIDENCE_MISSING),
        ("ZZ", ErrorCode.UNKNOWN_FIELD),
    ]
    messages = {e.field: e.message for e in check.errors}
    assert messages["A3"] == "A3（达标率）: 101 超出范围，应在 0 至 100 之间"
    assert messages["A4"] == "A4（领导评议）: 等级「优」不在 好/较好/一般/差 之中"


def test_missing_values_are_errors_unless_the_submission_is_partial() -> None:
    only_one = {"A1": Reported(value=1)}
    assert {e.field for e in validate_submission(FIELDS, only_one).errors} == {"A2", "A3", "A4", "A5"}
    assert validate_submission(FIELDS, only_one, partial=True).ok


def test_excel_style_numbers_are_read() -> None:
    spec = ValueSpec()
    assert coerce_value(spec, "１２３") == 123  # full-width digits from a Chinese IME
    assert coerce_value(spec, "1,234.5") == 1234.5
    assert coerce_value(spec, " 7 ") == 7
    for raw in ("nan", "inf", True, "1.2.3"):
        with pytest.raises(InvalidValue):
            coerce_value(spec, raw)


def test_a_tenfold_jump_is_flagged_not_rejected() -> None:
    check = validate_submission(FIELDS, GOOD | {"A1": Reported(value=1200)}, previous={"A1": 120})
    assert check.ok
    assert [(f.field, f.code) for f in check.flags] == [("A1", ErrorCode.OUTLIER_CHANGE)]
    assert (
        check.flags[0].message == "A1（固定资产投资）: 本期 1200 为上期 120 的 10 倍，超过 3 倍阈值，请核实"
    )


def test_change_within_the_factor_and_drops_are_judged_both_ways() -> None:
    rule = Plausibility(max_change_factor=3)
    # 250 / 100 = 2.5: fine; 100 → 30 is ÷3.33: flagged; 100 → 0: flagged
    assert (
        validate_submission(FIELDS, GOOD | {"A1": Reported(value=250)}, previous={"A1": 100}, rule=rule).flags
        == []
    )
    down = validate_submission(FIELDS, GOOD | {"A1": Reported(value=30)}, previous={"A1": 100}, rule=rule)
    zero = validate_submission(FIELDS, GOOD | {"A1": Reported(value=0)}, previous={"A1": 100}, rule=rule)
    assert [f.code for f in down.flags] == [ErrorCode.OUTLIER_CHANGE]
    assert [f.code for f in zero.flags] == [ErrorCode.OUTLIER_CHANGE]


def test_z_score_against_history() -> None:
    history = {"A1": [10.0, 11.0, 9.0, 10.0, 10.0]}
    # mean 10; squared deviations 0+1+1+0+0 = 2 over n-1 = 4 → sd = √0.5 ≈ 0.707
    sd = math.sqrt(0.5)
    rule = Plausibility(max_change_factor=None, z_threshold=3)
    high = validate_submission(FIELDS, GOOD | {"A1": Reported(value=13)}, history=history, rule=rule)
    near = validate_submission(FIELDS, GOOD | {"A1": Reported(value=12)}, history=history, rule=rule)
    assert (13 - 10) / sd > 3 > (12 - 10) / sd
    assert [f.code for f in high.flags] == [ErrorCode.OUTLIER_ZSCORE]
    assert near.flags == []
    short = validate_submission(
        FIELDS, GOOD | {"A1": Reported(value=13)}, history={"A1": [10, 11]}, rule=rule
    )
    assert short.flags == []  # fewer than min_history values


def test_submission_fields_list_leaf_values_and_formula_inputs() -> None:
    scheme = Scheme(
        assessing_unit="辽阳县",
        year=2026,
        data_elements=[
            DataElement(name="invest", label="固定资产投资", unit_of_measure="亿元"),
            DataElement(name="gdp", label="地区生产总值", source="statistic_import"),
            DataElement(name="ratio", label="投资率", source="formula", formula="invest / gdp"),
        ],
        trunk=[
            Indicator(
                code="A01",
                name="投资率",
                level=1,
                weight=50,
                standard=Formula(expression="ratio * 100"),
                source="formula",
            ),
            Indicator(code="A02", name="领导评议", level=1, weight=30, standard=Qualitative()),
            Indicator(
                code="A03",
                name="招商引资",
                level=1,
                weight=20,
                standard=CompletionRatio(),
                target=10,
                source="department",
                department="商务局",
            ),
        ],
    )
    unit = submission_fields(scheme, "首山镇", None)
    assert list(unit) == ["A02", "invest"]  # gdp is imported, A03 comes from the department
    assert unit["invest"].name == "固定资产投资"
    assert unit["A02"].value.kind == "grade"
    dept = submission_fields(scheme, "首山镇", None, source="department", department="商务局")
    assert list(dept) == ["A03"]
    assert submission_fields(scheme, "首山镇", None, source="department", department="发改局") == {}
    assert list(submission_fields(scheme, "首山镇", None, source="statistic_import")) == ["gdp"]
