"""Demo scheme (演示方案): 晋城市 2026 "1+4" — a common trunk plus 市直/县区/乡镇/街道 supplements.

Modelled on the 晋城 report: 市直 8 一级指标 with 领题攻坚 overrides for 发改委 and 农业农村局;
县区 the same 8 with differentiated weights (城区 57 on 城市建设+生态文明, 泽州县 56 on
现代产业+项目支撑+城市建设) and local key tasks for one county each (城区's 5 国控点); 乡镇 3 一级指标;
街道 4 with 网格治理, 物业管理, 智慧社区.
Each leaf also gets a `LeafModel` saying how demo values are drawn for it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from demo.city import CITY, OFFICE_UNIT, City

YEAR = 2026
Kind = Literal["amount", "rate", "lower", "score", "incidents", "grade", "honours", "veto", "rank"]

CR = {"type": "completion_ratio", "cap": 1.2}
CR1 = {"type": "completion_ratio", "cap": 1.0, "floor": 0.5}
BANDS = {
    "type": "banded",
    "bands": [
        {"min_ratio": 0.0, "fraction": 0.4},
        {"min_ratio": 0.8, "fraction": 0.7},
        {"min_ratio": 0.9, "fraction": 0.85},
        {"min_ratio": 1.0, "fraction": 1.0},
    ],
}
QUAL = {"type": "qualitative", "grades": {"好": 1.0, "较好": 0.8, "一般": 0.6, "差": 0.3}}
BONUS = {"type": "bonus", "per_unit": 1.0, "cap": 3.0}
VETO = {"type": "veto", "cap_grade": "一般"}
RANK = {"type": "rank", "last_fraction": 0.6, "progress_bonus_per_place": 0.2, "progress_bonus_cap": 1.0}
PROJECTS = {  # 重点工程: investment is back-loaded (开春复工)
    "kind": "milestones",
    "milestones": [
        {"month": 3, "fraction": 0.15},
        {"month": 6, "fraction": 0.45},
        {"month": 9, "fraction": 0.75},
        {"month": 12, "fraction": 1.0},
    ],
}
SCORE = {"kind": "number", "min_value": 0, "max_value": 100}


def deduction(per: float, most: float) -> dict[str, Any]:
    return {"type": "deduction", "per_occurrence": per, "max_deduction": most}


@dataclass(frozen=True)
class LeafModel:
    """How the demo draws values for a leaf, and who reports and reviews it."""

    code: str
    kind: Kind
    department: str  # 责任部门 (unit id): reviews the values
    source: str  # unit_report | department
    monthly: bool  # 月调度: 2026-01..03 instead of 2026-Q1
    evidence_required: bool
    q1_fraction: float  # share of the annual target due by the end of March (序时进度)


@dataclass
class DemoScheme:
    body: dict[str, Any]
    leaves: dict[str, LeafModel]


class _Builder:
    def __init__(self) -> None:
        self.leaves: dict[str, LeafModel] = {}

    def leaf(
        self,
        code: str,
        name: str,
        weight: float | None,
        standard: dict[str, Any],
        kind: Kind,
        dept: str,
        *,
        source: str = "unit_report",
        monthly: bool = False,
        evidence: bool = False,
        schedule: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        q1 = 0.15 if schedule is PROJECTS else 0.25
        self.leaves[code] = LeafModel(code, kind, f"{CITY}{dept}", source, monthly, evidence, q1)
        node: dict[str, Any] = {
            "code": code,
            "name": name,
            "level": 2,
            "standard": standard,
            "source": source,
            "department": f"{CITY}{dept}",
            "evidence_required": evidence,
            **extra,
        }
        if weight is not None:
            node["weight"] = weight
        if schedule is not None:
            node["schedule"] = schedule
        if monthly:
            node["description"] = "按月调度：责任部门每月报送1月至当月累计数"
        if kind == "lower":
            node["direction"] = "lower_better"
        if kind in ("score", "rank"):
            node["value"] = SCORE
        return node


def _one(code: str, name: str, children: list[dict[str, Any]], level: int = 1) -> dict[str, Any]:
    return {"code": code, "name": name, "level": level, "children": children}


def _targets(rng: random.Random, units: list[str], low: float, high: float, step: float) -> dict[str, float]:
    return {u: round(rng.uniform(low, high) / step) * step for u in units}


def build_scheme(city: City, rng: random.Random) -> DemoScheme:
    """The city's 2026 scheme for the roster of `city`; targets and coefficients drawn from `rng`."""
    b = _Builder()
    roster = city.roster
    cats = ("市直", "县区", "乡镇", "街道")
    members = {cat: sorted(u for u, c in roster.items() if c == cat) for cat in cats}
    trunk = [
        _one("C01", "全面从严治党", [
            b.leaf("C0101", "基层党建", 4, BANDS, "score", "zz", target=100, unit_of_measure="分"),
            b.leaf("C0102", "党风廉政建设", 3, deduction(1, 3), "incidents", "jw", unit_of_measure="次",
                   description="发生违纪违法问题被查处的，每起扣1分"),
            b.leaf("C0103", "意识形态工作责任制", 3, deduction(0.5, 3), "incidents", "xc",
                   unit_of_measure="次"),
        ]),
        _one("C02", "领导评议", [
            b.leaf("C0201", "领导班子综合评议", 5, QUAL, "grade", "kh", source="department"),
        ]),
        _one("C03", "争先创优", [
            b.leaf("C0301", "争先创优（规定工作、自选工作、特色工作）", None, BONUS, "honours", "kh",
                   unit_of_measure="项", description="获国家级、省级表彰或经验推广的，每项加1分，最多加3分"),
        ]),
        _one("C04", "一票否决", [
            b.leaf("C0401", "重大安全生产责任事故", None, VETO, "veto", "yj", source="department",
                   unit_of_measure="起"),
        ]),
    ]  # fmt: skip
    shizhi = [
        _one("S01", "“1+5”现代产业", [
            b.leaf("S0101", "“1+5”现代产业领题任务完成率", 7, CR, "amount", "gx", target=100,
                   unit_of_measure="%"),
            b.leaf("S0102", "产业链招商签约项目", 5, CR, "amount", "tc", unit_of_measure="个",
                   targets_by_unit=_targets(rng, members["市直"], 2, 12, 1)),
        ]),
        _one("S02", "项目支撑", [
            b.leaf("S0201", "省市重点工程项目完成投资", 7, CR, "amount", "fg", unit_of_measure="亿元",
                   schedule=PROJECTS, evidence=True,
                   targets_by_unit=_targets(rng, members["市直"], 2, 30, 0.5)),
            b.leaf("S0202", "新开工项目", 5, BANDS, "amount", "fg", unit_of_measure="个", target=4),
        ]),
        _one("S03", "市场主体", [
            b.leaf("S0301", "新增市场主体培育任务", 6, CR, "amount", "sj", target=100, unit_of_measure="%"),
            b.leaf("S0302", "“小升规”企业培育", 4, CR, "amount", "gx", target=5, unit_of_measure="家"),
        ]),
        _one("S04", "城市建设", [
            b.leaf("S0401", "城市更新年度任务完成率", 6, CR, "amount", "zj", target=100, unit_of_measure="%"),
            b.leaf("S0402", "老旧小区改造", 4, CR, "amount", "zj", target=6, unit_of_measure="个"),
        ]),
        _one("S05", "乡村振兴", [
            b.leaf("S0501", "太行一号乡村振兴示范带建设任务完成率", 6, CR, "amount", "nync", target=100,
                   unit_of_measure="%"),
            b.leaf("S0502", "村级集体经济壮大提质", 4, CR, "amount", "nync", target=10,
                   unit_of_measure="个村"),
        ]),
        _one("S06", "营商环境", [
            b.leaf("S0601", "政务服务事项“一网通办”率", 6, CR1, "rate", "sp", target=95, unit_of_measure="%"),
            b.leaf("S0602", "营商环境投诉未按期办结", 5, deduction(0.5, 5), "incidents", "sp",
                   unit_of_measure="件"),
        ]),
        _one("S07", "生态文明", [
            b.leaf("S0701", "环保督察反馈问题整改完成率", 5, CR1, "rate", "sthj", target=100,
                   unit_of_measure="%"),
            b.leaf("S0702", "节能降碳任务完成率", 5, CR, "amount", "sthj", target=100, unit_of_measure="%"),
        ]),
        _one("S08", "社会民生", [
            b.leaf("S0801", "民生实事完成率", 5, CR, "amount", "rs", target=100, unit_of_measure="%"),
            b.leaf("S0802", "信访事项按期办结率", 5, BANDS, "rate", "xf", target=98, unit_of_measure="%"),
        ]),
    ]  # fmt: skip
    county = [
        _one("X01", "“1+5”现代产业", [
            b.leaf("X0101", "规模以上工业增加值增速", 6, CR, "rate", "tj", source="department", monthly=True,
                   unit_of_measure="%", targets_by_unit=_targets(rng, members["县区"], 5, 8, 0.5)),
            b.leaf("X0102", "“1+5”现代产业集群营业收入增速", 5, CR, "rate", "gx", target=8,
                   unit_of_measure="%"),
        ]),
        _one("X02", "项目支撑", [
            b.leaf("X0201", "固定资产投资增速", 5, CR, "rate", "tj", source="department", monthly=True,
                   target=7, unit_of_measure="%"),
            b.leaf("X0202", "省市重点工程项目完成投资", 6, CR, "amount", "fg", unit_of_measure="亿元",
                   schedule=PROJECTS, evidence=True,
                   targets_by_unit=_targets(rng, members["县区"], 25, 80, 1)),
        ]),
        _one("X03", "市场主体", [
            b.leaf("X0301", "新增市场主体", 6, CR, "amount", "sj", source="department", unit_of_measure="户",
                   targets_by_unit=_targets(rng, members["县区"], 3000, 9000, 100)),
            b.leaf("X0302", "新增“四上”企业", 5, BANDS, "amount", "tj", target=30, unit_of_measure="家"),
        ]),
        _one("X04", "城市建设", [
            b.leaf("X0401", "城市更新项目完成率", 6, CR, "amount", "zj", target=100, unit_of_measure="%"),
            b.leaf("X0402", "老旧小区改造开工", 5, CR, "amount", "zj", unit_of_measure="个",
                   targets_by_unit=_targets(rng, members["县区"], 10, 60, 1)),
        ]),
        _one("X05", "乡村振兴", [
            b.leaf("X0501", "农村居民人均可支配收入增速", 6, CR, "rate", "tj", source="department",
                   monthly=True,
                   target=7, unit_of_measure="%"),
            b.leaf("X0502", "防止返贫监测帮扶（新增返贫致贫）", 5, deduction(2.5, 5), "incidents", "nync",
                   unit_of_measure="户"),
        ]),
        _one("X06", "营商环境", [
            b.leaf("X0601", "营商环境评价得分", 5, RANK, "rank", "sp", unit_of_measure="分"),
            b.leaf("X0602", "“13710”督办事项按期办结率", 5, BANDS, "rate", "kh", target=98,
                   unit_of_measure="%"),
        ]),
        _one("X07", "生态文明", [
            b.leaf("X0701", "PM2.5平均浓度", 5, CR, "lower", "sthj", source="department", monthly=True,
                   unit_of_measure="微克/立方米", targets_by_unit=_targets(rng, members["县区"], 33, 42, 1)),
            b.leaf("X0702", "空气质量优良天数比例", 5, CR1, "rate", "sthj", source="department", target=78,
                   unit_of_measure="%"),
        ]),
        _one("X08", "社会民生", [
            b.leaf("X0801", "城镇新增就业", 5, CR, "amount", "rs", unit_of_measure="人",
                   targets_by_unit=_targets(rng, members["县区"], 3000, 8000, 100)),
            b.leaf("X0802", "民生实事完成率", 5, CR, "amount", "rs", target=100, unit_of_measure="%"),
        ]),
    ]  # fmt: skip
    township = [
        _one("T01", "高质量发展", [
            b.leaf("T0101", "一产固定资产投资", 15, CR, "amount", "nync", unit_of_measure="万元",
                   targets_by_unit=_targets(rng, members["乡镇"], 800, 3000, 50)),
            b.leaf("T0102", "一产增加值增速", 15, CR, "rate", "tj", target=5, unit_of_measure="%"),
        ]),
        _one("T02", "乡村振兴重点工作", [
            b.leaf("T0201", "抓党建促乡村治理能力提升", 12, BANDS, "score", "zz", target=100,
                   unit_of_measure="分"),
            b.leaf("T0202", "集体经济和“三资”管理（集体经济收入10万元以上村占比）", 12, CR1, "rate", "nync",
                   target=80, unit_of_measure="%"),
            b.leaf("T0203", "巩固脱贫成果（新增返贫致贫）", 11, deduction(2, 11), "incidents", "nync",
                   unit_of_measure="户"),
        ]),
        _one("T03", "四大牵引性工程", [
            b.leaf("T0301", "牵引性工程任务完成率", 12, CR, "amount", "fg", target=100, unit_of_measure="%",
                   schedule=PROJECTS),
            b.leaf("T0302", "牵引性工程项目入库", 8, BANDS, "amount", "fg", target=4, unit_of_measure="个"),
        ]),
    ]  # fmt: skip
    street = [
        _one("J01", "党的建设", [
            b.leaf("J0101", "政治功能", 7, BANDS, "score", "zz", target=100, unit_of_measure="分"),
            b.leaf("J0102", "组织功能", 7, BANDS, "score", "zz", target=100, unit_of_measure="分"),
            b.leaf("J0103", "清廉建设", 6, deduction(1, 6), "incidents", "jw", unit_of_measure="次"),
        ]),
        _one("J02", "基层治理", [
            b.leaf("J0201", "网格治理（网格事件按期办结率）", 10, CR1, "rate", "zz", target=95,
                   unit_of_measure="%"),
            b.leaf("J0202", "物业管理（物业服务覆盖率）", 10, CR1, "rate", "zj", target=90,
                   unit_of_measure="%"),
            b.leaf("J0203", "智慧社区建设任务完成率", 10, CR, "amount", "gx", target=100,
                   unit_of_measure="%"),
        ]),
        _one("J03", "城市更新", [
            b.leaf("J0301", "拆违治乱", 10, CR, "amount", "zj", unit_of_measure="平方米",
                   targets_by_unit=_targets(rng, members["街道"], 5000, 30000, 500)),
            b.leaf("J0302", "重点工程拆迁（老旧小区改造）", 10, CR, "amount", "zj", target=4,
                   unit_of_measure="个"),
        ]),
        _one("J04", "四大牵引性工程", [
            b.leaf("J0401", "牵引性工程任务完成率", 15, CR, "amount", "fg", target=100, unit_of_measure="%",
                   schedule=PROJECTS),
        ]),
    ]  # fmt: skip
    local, overrides = _local_tasks(b, roster)
    body: dict[str, Any] = {
        "assessing_unit": CITY,
        "year": YEAR,
        "name": "晋城市2026年度目标责任考核方案（“1+4”）",
        "total": 100,
        "categories": ["市直", "县区", "乡镇", "街道"],
        "trunk": trunk,
        "supplements": [
            {"category": "市直", "indicators": shizhi},
            {"category": "县区", "indicators": county},
            {"category": "乡镇", "indicators": township},
            {"category": "街道", "indicators": street},
            *local,
        ],
        "overrides": overrides + _shizhi_overrides(roster),
        "coefficients": _coefficients(rng, members),
    }
    assert OFFICE_UNIT == f"{CITY}kh"
    return DemoScheme(body, b.leaves)


def _local_tasks(b: _Builder, roster: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """个性指标 of one county each, and the 差异化赋分 overrides (a parent override rescales its grafts)."""
    tasks = [  # (unit, parent, code, name, unit of measure)
        ("140502", "X07", "XK01", "5个空气质量“国控点”精细化治理（国控点PM2.5均值）", "微克/立方米"),
        ("140525", "X04", "XK02", "气化晋城（燃气入户）", "户"),
        ("140524", "X04", "XK03", "气化晋城（燃气入户）", "户"),
        ("140525", "X07", "XK04", "农村黑臭水体治理", "条"),
        ("140581", "X07", "XK05", "农村黑臭水体治理", "条"),
        ("140521", "X07", "XK06", "国家森林城市创建任务完成率", "%"),
    ]
    targets = {"XK02": 8000, "XK03": 3000, "XK04": 6, "XK05": 5, "XK06": 100}
    sups = []
    for unit, parent, code, name, uom in tasks:
        if code == "XK01":
            node = b.leaf(code, name, 4, CR, "lower", "sthj", target=38, unit_of_measure=uom, evidence=True)
        else:
            node = b.leaf(code, name, 3, CR, "amount", "zj" if parent == "X04" else "sthj",
                          target=targets[code], unit_of_measure=uom, evidence=True)  # fmt: skip
        sups.append({"unit_id": unit, "parent_code": parent, "indicators": [node]})
    weights = {
        # 城区: 城市建设 + 生态文明 = 57
        "140502": {"X04": 30, "X07": 27, "X01": 5, "X02": 5, "X03": 5, "X05": 3, "X06": 5, "X08": 5},
        # 泽州县: 现代产业 + 项目支撑 + 城市建设 = 56
        "140525": {"X01": 20, "X02": 18, "X04": 18, "X03": 5, "X05": 7, "X06": 6, "X07": 6, "X08": 5},
        "140524": {"X04": 11},  # keep the level-1 weight: the local task shares it
        "140581": {"X07": 10},
        "140521": {"X07": 10},
    }
    reasons = {"140502": "城区以城市建设和生态文明为重点", "140525": "泽州县以产业、项目和城市建设为重点"}
    overrides = [
        {"code": code, "weight": w, "unit_id": unit, "reason": reasons.get(unit, "区域重点工作纳入考核")}
        for unit, ws in weights.items()
        if unit in roster
        for code, w in ws.items()
    ]
    return [s for s in sups if s["unit_id"] in roster], overrides


def _shizhi_overrides(roster: dict[str, str]) -> list[dict[str, Any]]:
    """领题攻坚: 发改委 weighs the economy, 农业农村局 乡村振兴 (each still 85 + the trunk's 15)."""
    per = {
        f"{CITY}fg": {"S01": 17, "S02": 17, "S03": 13, "S04": 7, "S05": 7, "S06": 9, "S07": 7, "S08": 8},
        f"{CITY}nync": {"S01": 9, "S02": 9, "S03": 7, "S04": 7, "S05": 25, "S06": 8, "S07": 10, "S08": 10},
    }
    return [
        {"code": code, "weight": w, "unit_id": unit, "reason": "领题攻坚：按牵头任务差异化赋分"}
        for unit, ws in per.items()
        if unit in roster
        for code, w in ws.items()
    ]


def _coefficients(rng: random.Random, members: dict[str, list[str]]) -> list[dict[str, Any]]:
    """评价系数 for townships/streets carrying more 牵引性工程; 考核系数 for front-line departments."""
    out = []
    for uid in members["乡镇"] + members["街道"]:
        tasks = rng.choice((0, 0, 0, 1, 2, 3))
        if tasks:
            reason = f"承担四大牵引性工程任务{tasks}项"
            out.append({"unit_id": uid, "kind": "evaluation", "value": 1 + tasks * 0.03, "reason": reason})
    for suffix in ("fg", "gx", "tc"):
        if f"{CITY}{suffix}" in members["市直"]:
            reason = "招商、产业、发改一线部门"
            out.append({"unit_id": f"{CITY}{suffix}", "kind": "assessment", "value": 1.05, "reason": reason})
    return out
