from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.rewards.domain.conditions import UnitCondition
from services.rewards.domain.rules import RuleSetInvalid, parse_ruleset
from tests.rewards.unit.factory import COEF, QPAY, WITHHOLD, ZERO, row, ruleset

TIERS = {
    "kind": "annual_bonus",
    "id": "bonus",
    "basis": "《年度考核奖励办法》拉开档次",
    "tiers": [
        {"name": "一档", "grades": ["优秀"], "multiplier": "1.2"},
        {"name": "二档", "grades": ["良好"], "multiplier": "1.1"},
        {"name": "三档", "grades": ["一般", "较差"], "multiplier": "1.0"},
    ],
}


def problems(*rules: dict, **top: object) -> list[tuple[str | None, str, str]]:
    data = {"assessing_unit": "jc", "year": 2026, "version": 1, "rules": list(rules), **top}
    with pytest.raises(RuleSetInvalid) as e:
        parse_ruleset(data)
    return [(p.rule, p.field, p.message) for p in e.value.problems]


def test_a_complete_rule_set_parses_with_every_kind() -> None:
    rs = ruleset(
        QPAY,
        WITHHOLD,
        ZERO,
        COEF,
        TIERS,
        {
            "kind": "honour",
            "id": "h1",
            "basis": "表彰办法",
            "honour": "先进单位",
            "condition": {"grades": ["优秀"]},
        },
        {
            "kind": "cadre",
            "id": "talk",
            "basis": "晋城 提醒谈话",
            "consequence": "提醒谈话",
            "condition": {"grades": ["一般", "较差"]},
        },
        {
            "kind": "streak",
            "id": "merit",
            "basis": "《公务员奖励规定》",
            "subject": "person",
            "proposal": "记三等功",
            "periods": 3,
            "grades": ["优秀"],
        },
        {
            "kind": "linkage",
            "id": "link",
            "basis": "辽阳 单位+个人联动",
            "share_by_unit_grade": {"优秀": "0.25"},
        },
    )
    assert rs.ref == "jc/2026/v1"
    assert [r.id for r in rs.for_period("quarter")] == ["qpay", "hold", "zero", "coef"]
    assert [r.kind for r in rs.for_period("year")] == [
        "last_place_zero",
        "coefficient",
        "annual_bonus",
        *(["honour", "cadre", "streak", "linkage"]),
    ]
    assert rs.rules[0].factor("优秀") == Decimal("1.10") and rs.rules[0].factor("良好") == 1
    with pytest.raises(ValidationError):
        rs.version = 2  # type: ignore[misc]  # frozen: a used version is never edited


def test_digest_names_the_exact_content() -> None:
    a, b = ruleset(QPAY), ruleset(QPAY)
    assert a.digest == b.digest
    assert ruleset(QPAY, version=2).digest != a.digest
    assert ruleset({**QPAY, "basis": "another article"}).digest != a.digest


def test_errors_name_the_rule_and_the_field() -> None:
    got = problems({**QPAY, "adjust": {"优秀": "0.10", "差": "-0.1"}})
    assert got[0][:2] == ("qpay", "adjust.差.[key]")
    got = problems(
        {**TIERS, "tiers": [*TIERS["tiers"][:1], {"name": "二档", "grades": ["良好"], "multiplier": "1.15"}]}
    )
    assert got == [("bonus", "tiers.1.multiplier", got[0][2])] and "min_gap" in got[0][2]
    got = problems({**TIERS, "tiers": [TIERS["tiers"][0], {**TIERS["tiers"][1], "grades": ["优秀"]}]})
    assert got[0][:2] == ("bonus", "tiers.1.grades")
    assert problems({**QPAY, "basis": ""})[0][:2] == ("qpay", "basis")
    assert problems({**QPAY, "surprise": 1})[0][:2] == ("qpay", "surprise")  # extra fields are refused
    assert problems(
        {
            "kind": "honour",
            "id": "h",
            "basis": "表彰",
            "honour": "先进个人",
            "condition": {"grades": ["优秀"]},
        }
    )[0][:2] == ("h", "target")
    assert problems({**QPAY, "caps": [{"grade": "优秀"}]})[0][:2] == ("qpay", "caps.0.max_share")
    assert problems(
        {"kind": "streak", "id": "s", "basis": "x办法", "subject": "person", "proposal": "记功", "periods": 3}
    )[0][:2] == ("s", "grades")
    assert problems({"id": "k", "basis": "办法", "kind": "nope"})[0][0] == "k"


def test_set_level_errors_name_each_rule() -> None:
    got = problems(QPAY, {**QPAY, "adjust": {"优秀": "0.2"}})
    assert ("qpay", "id", "duplicate rule id") in got
    got = problems(QPAY, {**QPAY, "id": "qpay2", "graded_by": "unit"})
    assert got == [("qpay2", "period_kind", "rule 'qpay' already decides pay for quarter periods")]
    # quarterly pay and the annual bonus are both pay, but for different periods: allowed together
    ruleset(QPAY, TIERS)
    assert problems(TIERS, {**TIERS, "id": "b2"})[0][:2] == ("b2", "period_kind")
    assert problems(QPAY, year=1999)[0] == (None, "year", problems(QPAY, year=1999)[0][2])


def test_unit_conditions() -> None:
    top = UnitCondition(top_share=Decimal("0.2"))  # top 20% of 11 → ranks 1..3 (ceiling of 2.2)
    assert [r for r in range(1, 12) if top.holds(row("u", "良好", r, 11))] == [1, 2, 3]
    bottom = UnitCondition(bottom=2)
    assert [r for r in range(1, 11) if bottom.holds(row("u", "良好", r, 10))] == [9, 10]
    both = UnitCondition(grades=frozenset({"一般", "较差"}), last_place=True)
    assert both.holds(row("u", "较差", 10, 10, last_place=True))
    assert not both.holds(row("u", "良好", 10, 10, last_place=True))
    assert not UnitCondition(max_rank=3).holds(row("u", None, None, None))
    with pytest.raises(ValidationError):
        UnitCondition()
