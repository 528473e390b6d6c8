"""The city scenario the rewards tests share: four units, four cadres, one rule set of each money kind.

Units (tests.support.scoring.UNITS): 140501 甲镇, 140502 乙镇, 140503 丙镇 (乡镇), 140504 丁街道 (街道).
Cadres (monthly performance-pay base): A 甲镇 主要负责人 5,000.00 元 (own grade 优秀), B 甲镇 一般干部
3,000.00 元 (良好), C 丙镇 主要负责人 3,000.00 元 (no grade), D 乙镇 一般干部 4,000.00 元 (一般).
"""

from __future__ import annotations

from typing import Any

from tests.support.rewards import CITY, HR, ORG, Rewards

QPAY = {
    "kind": "quarterly_pay",
    "id": "qpay",
    "basis": "《恒口示范区薪酬绩效考核办法》第五条",
    "adjust": {"优秀": "0.10", "较差": "-0.10"},
}
HOLD = {
    "kind": "withholding",
    "id": "hold",
    "basis": "《恒口示范区季度考核办法》暂扣薪酬",
    "share": "0.2",
    "release": {"优秀": "1", "良好": "1", "一般": "0.5", "较差": "0"},
}
ZERO = {
    "kind": "last_place_zero",
    "id": "zero",
    "basis": "阳泉高新区 末位零绩效",
    "period_kinds": ["quarter"],
}
COEF = {
    "kind": "coefficient",
    "id": "coef",
    "basis": "阳泉高新区 一线部门考核系数",
    "by_unit_kind": {"招商": "1.2"},
}
TALK = {
    "kind": "cadre",
    "id": "talk",
    "basis": "晋城市 考核结果运用办法 第八条",
    "consequence": "提醒谈话",
    "period_kind": "quarter",
    "condition": {"grades": ["一般", "较差"]},
}
HONOUR = {
    "kind": "honour",
    "id": "best",
    "basis": "恒口示范区 评先评优办法",
    "honour": "先进单位",
    "period_kind": "quarter",
    "condition": {"grades": ["优秀"]},
}
RULES = [QPAY, HOLD, ZERO, COEF, TALK, HONOUR]

# ID numbers are made up (valid shape only); names are what must never leave the registry
PEOPLE = {
    "A": ("110101199001011234", "张三丰", "140501", "主要负责人", "正科", 500000, "优秀"),
    "B": ("110101199202022345", "李四", "140501", "一般干部", "科员", 300000, "良好"),
    "C": ("11010119850303345X", "王五", "140503", "主要负责人", "正科", 300000, None),
    "D": ("110101198804044567", "赵六", "140502", "一般干部", "科员", 400000, "一般"),
}
Q1 = [
    {"unit_id": "140501", "grade": "优秀", "rank": 1, "of": 3},
    {"unit_id": "140502", "grade": "良好", "rank": 2, "of": 3},
    {"unit_id": "140503", "grade": "较差", "rank": 3, "of": 3, "last_place": True},
    {"unit_id": "140504", "grade": "优秀", "rank": 1, "of": 1, "category": "街道"},
]


async def registry(rw: Rewards, period: str = "2026-Q1") -> dict[str, str]:
    """Register the four cadres with their posts (from 2025-01-01) and grades; returns name → person key."""
    keys: dict[str, str] = {}
    for who, (idn, name, unit, post, rank, pay, _) in PEOPLE.items():
        p = await rw.call("person_upsert", {"id_number": idn, "name": name, "account": f"acct-{who}"}, HR)
        keys[who] = p["person_key"]
        await rw.call(
            "post_upsert",
            {"person_key": p["person_key"], "unit_id": unit, "post": post, "rank": rank,
             "monthly_pay_fen": pay, "valid_from": "2025-01-01"},
            HR,
        )  # fmt: skip
    grades = [{"person_key": keys[w], "grade": v[6]} for w, v in PEOPLE.items() if v[6]]
    await rw.call("person_grades_set", {"period": period, "items": grades}, HR)
    await rw.call("unit_profiles_set", {"items": [{"unit_id": "140501", "unit_kind": "招商"}]}, ORG)
    return keys


async def activate(
    rw: Rewards, rules: list[dict[str, Any]] | None = None, year: int = 2026
) -> dict[str, Any]:
    rs = await rw.call("ruleset_create", {"assessing_unit": CITY, "year": year, "rules": rules or RULES}, ORG)
    return await rw.call(  # type: ignore[no-any-return]
        "ruleset_activate",
        {"assessing_unit": CITY, "year": year, "version": rs["version"], "expected_revision": rs["revision"]},
        ORG,
    )


def by(lines: list[dict[str, Any]], **match: Any) -> list[dict[str, Any]]:
    return [x for x in lines if all(x.get(k) == v for k, v in match.items())]
