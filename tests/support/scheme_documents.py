"""A rich scheme written twice, by hand: as the typed GraphQL input and as the model's JSON.

`rich_input` spells out every field of every object (model defaults written explicitly), so the typed
document read back (`Scheme.document`) must equal it; `rich_json` is the same scheme in the indicators
model's own JSON, minimal (the model fills the defaults). It uses every kind of standard, both schedule
kinds, data elements (one derived), category and unit supplements, overrides on a parent, a coefficient,
承接 of the parent scheme's 下达 indicator (`parent_input`) and a 报送要求 other than the default.
"""

from __future__ import annotations

from typing import Any


def node(code: str, name: str, level: int, **fields: Any) -> dict[str, Any]:
    """An IndicatorInput with every field given; `fields` (camelCase) replace the model defaults."""
    out: dict[str, Any] = {
        "code": code,
        "name": name,
        "level": level,
        "weight": None,
        "children": [],
        "standard": None,
        "direction": "HIGHER_BETTER",
        "unitOfMeasure": "",
        "target": None,
        "targetsByCategory": [],
        "targetsByUnit": [],
        "schedule": {"kind": "LINEAR", "milestones": []},
        "source": "UNIT_REPORT",
        "department": None,
        "inheritsFrom": None,
        "cascade": False,
        "value": None,
        "evidenceRequired": False,
        "description": "",
    }
    assert set(fields) <= set(out), set(fields) - set(out)
    return {**out, **fields}


def spec(kind: str, lo: float | None = None, hi: float | None = None, grades: list[str] | None = None) -> Any:
    return {"kind": kind, "minValue": lo, "maxValue": hi, "grades": grades or []}


def cr(cap: float = 1.0, floor: float = 0.0) -> dict[str, Any]:
    return {"completionRatio": {"cap": cap, "floor": floor}}


def rich_input(*, parent: str, county: str, town: str, dept: str) -> dict[str, Any]:
    """The typed `SchemeInput` (camelCase, enums by name), every field explicit."""
    bands = [
        {"minRatio": 0.6, "fraction": 0.5},
        {"minRatio": 0.9, "fraction": 0.8},
        {"minRatio": 1.0, "fraction": 1},
    ]
    milestones = [
        {"month": 3, "fraction": 0.2},
        {"month": 6, "fraction": 0.5},
        {"month": 12, "fraction": 1.0},
    ]
    eco = node(
        "ECO",
        "经济发展",
        1,
        weight=50,
        children=[
            node(
                "GDP",
                "地区生产总值",
                2,
                weight=20,
                standard=cr(1.2, 0.5),
                unitOfMeasure="亿元",
                target=100,
                targetsByCategory=[{"category": "乡镇", "target": 20}],
                targetsByUnit=[{"unitId": county, "target": 120}],
                schedule={"kind": "MILESTONES", "milestones": milestones},
                inheritsFrom="PGDP",
                cascade=True,
                evidenceRequired=True,
                description="完成率计分，超额 20% 封顶，低于 50% 不得分",
            ),
            node("FAI", "固定资产投资", 2, weight=15, standard={"banded": {"bands": bands}}, target=50),
            node(
                "FIN",
                "财政自给率",
                2,
                weight=15,
                standard={
                    "formula": {"expression": "收入 / 支出 * 100", "then": {"banded": {"bands": bands}}}
                },
                unitOfMeasure="%",
                target=60,
                source="FORMULA",
            ),
        ],
    )
    gov = node(
        "GOV",
        "社会治理",
        1,
        weight=50,
        children=[
            node(
                "SAFE",
                "安全生产",
                2,
                weight=10,
                standard={"deduction": {"perOccurrence": 2, "maxDeduction": 10}},
                value=spec("COUNT", 0),
            ),
            node(
                "SVC",
                "政务服务评议",
                2,
                weight=15,
                standard={
                    "qualitative": {
                        "grades": [
                            {"grade": "好", "fraction": 1.0},
                            {"grade": "较好", "fraction": 0.85},
                            {"grade": "一般", "fraction": 0.6},
                        ]
                    }
                },
                source="DEPARTMENT",
                department=dept,
                value=spec("GRADE", grades=["好", "较好", "一般"]),
            ),
            node(
                "RANK",
                "营商环境排名",
                2,
                weight=15,
                standard={"rank": {"lastFraction": 0.5, "progressBonusPerPlace": 0.2, "progressBonusCap": 1}},
            ),
            node(
                "ENERGY",
                "单位GDP能耗",
                2,
                weight=10,
                standard=cr(),
                direction="LOWER_BETTER",
                unitOfMeasure="吨标煤/万元",
                target=0.5,
                source="STATISTIC_IMPORT",
            ),
        ],
    )
    honour = node("HONOUR", "争先创优", 1, standard={"bonus": {"perUnit": 1, "cap": 3}})
    veto = node("VETO", "重大安全事故", 1, standard={"veto": {"capGrade": "FAIR"}})
    return {
        "name": "2026年度目标责任考核（类型化）",
        "total": 100,
        "categories": ["县区", "乡镇"],
        "parent": {"assessingUnit": parent, "year": 2026},
        "dataElements": [
            {
                "name": "收入",
                "label": "一般公共预算收入",
                "unitOfMeasure": "亿元",
                "source": "STATISTIC_IMPORT",
                "department": None,
                "formula": None,
                "value": spec("NUMBER", 0),
                "evidenceRequired": False,
            },
            {
                "name": "支出",
                "label": "一般公共预算支出",
                "unitOfMeasure": "亿元",
                "source": "DEPARTMENT",
                "department": dept,
                "formula": None,
                "value": spec("NUMBER", 0),
                "evidenceRequired": True,
            },
            {
                "name": "自给率",
                "label": "财政自给率",
                "unitOfMeasure": "%",
                "source": "FORMULA",
                "department": None,
                "formula": "收入 / 支出 * 100",
                "value": spec("PERCENT", 0, 100),
                "evidenceRequired": False,
            },
        ],
        "trunk": [eco, gov, honour, veto],
        "supplements": [
            {
                "category": "乡镇",
                "unitId": None,
                "parentCode": "GOV",
                "indicators": [
                    node("AGRI", "粮食生产", 2, weight=10, standard=cr(), unitOfMeasure="万吨", target=30)
                ],
            },
            {
                "category": None,
                "unitId": county,
                "parentCode": None,
                "indicators": [
                    node("PROJ", "国控点整治", 1, weight=10, standard=cr(), unitOfMeasure="个", target=5)
                ],
            },
        ],
        "overrides": [
            {"code": "GOV", "weight": 50, "category": "乡镇", "unitId": None, "reason": "含粮食生产"},
            {"code": "ECO", "weight": 40, "category": None, "unitId": county, "reason": "国控点任务"},
        ],
        "coefficients": [{"unitId": town, "kind": "EVALUATION", "value": 1.05, "reason": "牵引性工程多"}],
        "reporting": {"dueWorkdays": 7, "remindWorkdays": 3},
    }


def ind(code: str, name: str, level: int, **fields: Any) -> dict[str, Any]:
    """An indicator in the model's JSON: only the fields given."""
    return {"code": code, "name": name, "level": level, **fields}


def rich_json(*, assessing_unit: str, parent: str, county: str, town: str, dept: str) -> dict[str, Any]:
    """The same scheme as the indicators model's JSON, with only what differs from the defaults."""
    bands = [
        dict(min_ratio=0.6, fraction=0.5),
        dict(min_ratio=0.9, fraction=0.8),
        dict(min_ratio=1.0, fraction=1),
    ]
    cr_ = {"type": "completion_ratio"}
    milestones = [dict(month=3, fraction=0.2), dict(month=6, fraction=0.5), dict(month=12, fraction=1.0)]
    gdp = ind(
        "GDP",
        "地区生产总值",
        2,
        weight=20,
        standard={"type": "completion_ratio", "cap": 1.2, "floor": 0.5},
        unit_of_measure="亿元",
        target=100,
        targets_by_category={"乡镇": 20},
        targets_by_unit={county: 120},
        schedule={"kind": "milestones", "milestones": milestones},
        inherits_from="PGDP",
        cascade=True,
        evidence_required=True,
        description="完成率计分，超额 20% 封顶，低于 50% 不得分",
    )
    formula = {
        "type": "formula",
        "expression": "收入 / 支出 * 100",
        "then": {"type": "banded", "bands": bands},
    }
    eco = [
        gdp,
        ind("FAI", "固定资产投资", 2, weight=15, standard={"type": "banded", "bands": bands}, target=50),
        ind(
            "FIN",
            "财政自给率",
            2,
            weight=15,
            standard=formula,
            unit_of_measure="%",
            target=60,
            source="formula",
        ),
    ]
    rank = {"type": "rank", "last_fraction": 0.5, "progress_bonus_per_place": 0.2, "progress_bonus_cap": 1}
    grades = {"好": 1.0, "较好": 0.85, "一般": 0.6}
    gov = [
        ind(
            "SAFE",
            "安全生产",
            2,
            weight=10,
            standard={"type": "deduction", "per_occurrence": 2, "max_deduction": 10},
            value={"kind": "count", "min_value": 0},
        ),
        ind(
            "SVC",
            "政务服务评议",
            2,
            weight=15,
            standard={"type": "qualitative", "grades": grades},
            source="department",
            department=dept,
            value={"kind": "grade", "grades": list(grades)},
        ),
        ind("RANK", "营商环境排名", 2, weight=15, standard=rank),
        ind(
            "ENERGY",
            "单位GDP能耗",
            2,
            weight=10,
            standard=cr_,
            direction="lower_better",
            unit_of_measure="吨标煤/万元",
            target=0.5,
            source="statistic_import",
        ),
    ]
    elements = [
        dict(
            name="收入",
            label="一般公共预算收入",
            unit_of_measure="亿元",
            source="statistic_import",
            value={"min_value": 0},
        ),
        dict(
            name="支出",
            label="一般公共预算支出",
            unit_of_measure="亿元",
            source="department",
            department=dept,
            value={"min_value": 0},
            evidence_required=True,
        ),
        dict(
            name="自给率",
            label="财政自给率",
            unit_of_measure="%",
            source="formula",
            formula="收入 / 支出 * 100",
            value={"kind": "percent", "min_value": 0, "max_value": 100},
        ),
    ]
    return {
        "assessing_unit": assessing_unit,
        "year": 2026,
        "name": "2026年度目标责任考核（类型化）",
        "categories": ["县区", "乡镇"],
        "parent": {"assessing_unit": parent, "year": 2026},
        "data_elements": elements,
        "trunk": [
            ind("ECO", "经济发展", 1, weight=50, children=eco),
            ind("GOV", "社会治理", 1, weight=50, children=gov),
            ind("HONOUR", "争先创优", 1, standard={"type": "bonus", "per_unit": 1, "cap": 3}),
            ind("VETO", "重大安全事故", 1, standard={"type": "veto", "cap_grade": "一般"}),
        ],
        "supplements": [
            {
                "category": "乡镇",
                "parent_code": "GOV",
                "indicators": [
                    ind("AGRI", "粮食生产", 2, weight=10, standard=cr_, unit_of_measure="万吨", target=30)
                ],
            },
            {
                "unit_id": county,
                "indicators": [
                    ind("PROJ", "国控点整治", 1, weight=10, standard=cr_, unit_of_measure="个", target=5)
                ],
            },
        ],
        "overrides": [
            {"code": "GOV", "weight": 50, "category": "乡镇", "reason": "含粮食生产"},
            {"code": "ECO", "weight": 40, "unit_id": county, "reason": "国控点任务"},
        ],
        "coefficients": [{"unit_id": town, "kind": "evaluation", "value": 1.05, "reason": "牵引性工程多"}],
        "reporting": {"due_workdays": 7, "remind_workdays": 3},
    }


def parent_input() -> dict[str, Any]:
    """The upper level's scheme: one 下达 (cascade) indicator, PGDP, that the rich scheme 承接."""
    leaf = node(
        "PGDP", "地区生产总值", 2, weight=100, standard=cr(), unitOfMeasure="亿元", target=1000, cascade=True
    )
    return {"name": "省级方案", "trunk": [node("PECO", "经济发展", 1, weight=100, children=[leaf])]}


# The whole typed document, every field (indicators two levels deep, as in the rich scheme).
_IND = """code name level weight direction unitOfMeasure target source department inheritsFrom cascade
  evidenceRequired description targetsByCategory { category target } targetsByUnit { unitId target }
  schedule { kind milestones { month fraction } } value { kind minValue maxValue grades }
  standard { __typename
    ... on CompletionRatioStandard { cap floor }
    ... on BandedStandard { bands { minRatio fraction } }
    ... on RankStandard { lastFraction progressBonusPerPlace progressBonusCap }
    ... on DeductionStandard { perOccurrence maxDeduction }
    ... on QualitativeStandard { grades { grade fraction } }
    ... on BonusStandard { perUnit cap }
    ... on VetoStandard { capGrade }
    ... on FormulaStandard { expression then { __typename
      ... on CompletionRatioStandard { cap floor }
      ... on BandedStandard { bands { minRatio fraction } }
      ... on DeductionStandard { perOccurrence maxDeduction } } } }"""
DOCUMENT = f"""fragment Ind on SchemeIndicator {{ {_IND} }}
fragment Doc on SchemeDocument {{
  name total categories parent {{ assessingUnit year }}
  dataElements {{ name label unitOfMeasure source department formula evidenceRequired
    value {{ kind minValue maxValue grades }} }}
  trunk {{ ...Ind children {{ ...Ind children {{ code }} }} }}
  supplements {{ category unitId parentCode indicators {{ ...Ind children {{ code }} }} }}
  overrides {{ code weight category unitId reason }}
  coefficients {{ unitId kind value reason }}
  reporting {{ dueWorkdays remindWorkdays }}
}}"""

_ONE_OF = {
    "CompletionRatioStandard": "completionRatio",
    "BandedStandard": "banded",
    "RankStandard": "rank",
    "DeductionStandard": "deduction",
    "QualitativeStandard": "qualitative",
    "BonusStandard": "bonus",
    "VetoStandard": "veto",
    "FormulaStandard": "formula",
}


def as_input(value: Any) -> Any:
    """A `SchemeDocument` as read (with the `Doc` fragment) in the input's shape: union → @oneOf key."""
    if isinstance(value, list):
        return [as_input(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__typename" in value:
        rest = {k: as_input(v) for k, v in value.items() if k != "__typename"}
        return {_ONE_OF[value["__typename"]]: rest}
    return {k: as_input(v) for k, v in value.items()}
