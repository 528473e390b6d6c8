"""Demo city (演示数据): 山西省 → 晋城市, its 市直部门, 6 县(市、区), 乡镇/街道 and 村/社区, from parameters.

Pure and deterministic: the same parameters and seed give the same units. Codes follow the administrative
division pattern (晋城 1405, 城区 140502, a township 140525100, a village 140525100201); departments carry a
short pinyin suffix (发改委 1405fg) as the rest of the platform does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

PROVINCE, CITY = "14", "1405"
OFFICE_UNIT = "1405kh"  # 市目标责任考核办公室: runs the scheme, not itself assessed

# (suffix, name); the first ones are the responsible departments (责任部门) the scheme names, so a
# smaller `departments` parameter keeps every one of them
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("fg", "晋城市发展和改革委员会"),
    ("gx", "晋城市工业和信息化局"),
    ("zj", "晋城市住房和城乡建设局"),
    ("sthj", "晋城市生态环境局"),
    ("nync", "晋城市农业农村局"),
    ("tj", "晋城市统计局"),
    ("sj", "晋城市市场监督管理局"),
    ("sp", "晋城市行政审批服务管理局"),
    ("rs", "晋城市人力资源和社会保障局"),
    ("yj", "晋城市应急管理局"),
    ("zz", "中共晋城市委组织部"),
    ("jw", "晋城市纪委监委"),
    ("xc", "中共晋城市委宣传部"),
    ("tc", "晋城市投资促进中心"),
    ("xf", "晋城市信访局"),
    ("cz", "晋城市财政局"),
    ("sw", "晋城市商务局"),
    ("zr", "晋城市规划和自然资源局"),
    ("jt", "晋城市交通运输局"),
    ("sl", "晋城市水务局"),
    ("jy", "晋城市教育局"),
    ("wj", "晋城市卫生健康委员会"),
    ("mz", "晋城市民政局"),
    ("wl", "晋城市文化和旅游局"),
    ("ny", "晋城市能源局"),
    ("kj", "晋城市科学技术局"),
    ("ga", "晋城市公安局"),
    ("cg", "晋城市城市管理局"),
    ("ly", "晋城市林业局"),
    ("yb", "晋城市医疗保障局"),
    ("gz", "晋城市人民政府国有资产监督管理委员会"),
    ("jr", "晋城市地方金融监督管理局"),
    ("ts", "晋城市退役军人事务局"),
    ("shj", "晋城市审计局"),
)
MIN_DEPARTMENTS = 15  # the responsible departments above

# 县(市、区) and their 街道 (first) and 乡镇, as of 2026
COUNTIES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("140502", "城区",
     ("东街街道", "西街街道", "南街街道", "北街街道", "矿区街道", "钟家庄街道", "西上庄街道"), ("北石店镇",)),
    ("140525", "泽州县", (),
     ("南村镇", "下村镇", "大东沟镇", "周村镇", "犁川镇", "晋庙铺镇", "金村镇", "高都镇", "巴公镇", "大阳镇",
      "山河镇", "柳树口镇", "北义城镇", "李寨乡", "南岭乡")),
    ("140581", "高平市", ("东城街道", "南城街道", "北城街道"),
     ("米山镇", "三甲镇", "神农镇", "陈区镇", "北诗镇", "河西镇", "马村镇", "野川镇", "寺庄镇", "原村乡",
      "永录乡", "建宁乡", "石末乡")),
    ("140522", "阳城县", (),
     ("凤城镇", "北留镇", "润城镇", "町店镇", "芹池镇", "次营镇", "横河镇", "河北镇", "蟒河镇", "东冶镇",
      "白桑乡", "寺头乡", "西河乡", "演礼乡", "固隆乡", "董封乡", "驾岭乡")),
    ("140524", "陵川县", (),
     ("崇文镇", "礼义镇", "附城镇", "西河底镇", "平城镇", "杨村镇", "潞城镇", "秦家庄乡", "古郊乡", "六泉乡",
      "马圪当乡", "夺火乡")),
    ("140521", "沁水县", (),
     ("龙港镇", "中村镇", "郑庄镇", "端氏镇", "嘉峰镇", "郑村镇", "柿庄镇", "樊村河乡", "胡底乡", "固县乡",
      "十里乡", "土沃乡", "张村乡", "苏庄乡")),
)  # fmt: skip
MAX_TOWNS = min(len(s) + len(t) for _, _, s, t in COUNTIES)

_VILLAGE_A = "东西南北上下前后大小新高张王李赵马杨石柳杏桃"
_VILLAGE_B = ("庄", "沟", "河", "坡", "岭", "峪", "凹", "头", "寨", "窑", "洼", "掌")
_COMMUNITY = ("和平", "建设", "文昌", "凤台", "书院", "泰森", "红星", "景西", "兰花", "白马", "康乐", "锦绣")


@dataclass(frozen=True)
class DemoUnit:
    id: str
    name: str
    kind: str  # province, city, county, township, street, village, community, department
    parent_id: str | None
    category: str | None = None  # 市直 / 县区 / 乡镇 / 街道 when the city assesses it


@dataclass
class City:
    units: list[DemoUnit] = field(default_factory=list)  # parents before children

    def by_kind(self, kind: str) -> list[DemoUnit]:
        return [u for u in self.units if u.kind == kind]

    @property
    def roster(self) -> dict[str, str]:
        """{unit_id: category} of the units the city assesses (考核对象)."""
        return {u.id: u.category for u in self.units if u.category is not None}

    def path(self, unit_id: str) -> str:
        parents = {u.id: u.parent_id for u in self.units}
        ids = [unit_id]
        while (p := parents[ids[-1]]) is not None:
            ids.append(p)
        return "/" + "/".join(reversed(ids)) + "/"


def build_city(
    rng: random.Random, *, departments: int = 30, towns_per_county: int = 8, villages_per_town: int = 4
) -> City:
    """The hierarchy down to villages; `towns_per_county` takes each county's first 街道/乡镇."""
    if not MIN_DEPARTMENTS <= departments <= len(DEPARTMENTS):
        raise ValueError(f"departments must be {MIN_DEPARTMENTS}..{len(DEPARTMENTS)}")
    if not 1 <= towns_per_county <= MAX_TOWNS:
        raise ValueError(f"towns_per_county must be 1..{MAX_TOWNS}")
    if not 0 <= villages_per_town <= len(_VILLAGE_A):
        raise ValueError(f"villages_per_town must be 0..{len(_VILLAGE_A)}")
    city = City(
        [
            DemoUnit(PROVINCE, "山西省", "province", None),
            DemoUnit(CITY, "晋城市", "city", PROVINCE),
            DemoUnit(OFFICE_UNIT, "晋城市目标责任考核办公室", "department", CITY),
        ]
    )
    for suffix, name in DEPARTMENTS[:departments]:
        city.units.append(DemoUnit(f"{CITY}{suffix}", name, "department", CITY, "市直"))
    for cid, cname, streets, towns in COUNTIES:
        city.units.append(DemoUnit(cid, cname, "county", CITY, "县区"))
        picked = [(n, "street") for n in streets] + [(n, "township") for n in towns]
        for i, (tname, kind) in enumerate(picked[:towns_per_county]):
            # real codes: streets 001…, towns 100…
            tid = f"{cid}{i + 1:03d}" if kind == "street" else f"{cid}{100 + i:03d}"
            city.units.append(DemoUnit(tid, tname, kind, cid, "街道" if kind == "street" else "乡镇"))
            city.units += _grassroots(rng, tid, tname, kind, villages_per_town)
    return city


def _grassroots(rng: random.Random, tid: str, tname: str, kind: str, n: int) -> list[DemoUnit]:
    """Villages under a township, communities under a street, with plausible distinct names."""
    if kind == "street":
        names = rng.sample(_COMMUNITY, min(n, len(_COMMUNITY)))
        return [DemoUnit(f"{tid}{j + 1:03d}", f"{nm}社区", "community", tid) for j, nm in enumerate(names)]
    firsts = rng.sample(_VILLAGE_A, n)
    return [
        DemoUnit(f"{tid}{200 + j}", f"{a}{rng.choice(_VILLAGE_B)}村", "village", tid)
        for j, a in enumerate(firsts)
    ]
