"""Rankings (排名) with the level-1 breakdown, grades (等次) with quotas, the 三色榜 and warnings (预警).

Hot lists are plain objects filled once from the scoring service's page: no resolver per row or cell,
only the optional cross-service `unit` join goes through a DataLoader (one request for the whole page).
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import Connection, call, connection, decode_cursor, mk, mk_opt, page_size
from gateway.graphql.scores import Warning
from gateway.graphql.units import Unit
from gateway.policy import Op, authorize


@strawberry.type(
    description="一级指标得分: a level-1 indicator's score in a unit's ranking row. `points` is its 分值"
    " as the scheme is written (e.g. 30 of a 100-point scheme); `weight` is the same as a share of the"
    " indicator part (points ÷ the unit's total points, 0..1), which is what the score is weighted by"
)
class Level1Score:
    code: str
    name: str
    weight: float = strawberry.field(
        description="the unit's share of the indicator part, 0..1 (points ÷ total points)"
    )
    points: float = strawberry.field(
        description="分值: the unit's points for this indicator (after 差异化赋分)"
    )
    category_weight: float | None = strawberry.field(
        description="the category's share, 0..1 (null: the category has no such indicator)"
    )
    category_points: float | None = strawberry.field(description="the category's 分值")
    overridden: bool = strawberry.field(
        description="差异化赋分: the unit's 分值 differs from its category's (a per-unit weight, or a"
        " 个性指标 under this indicator)"
    )
    score: float = strawberry.field(description="0..100 (百分制)")
    contribution: float = strawberry.field(description="weight × score, points of the 0..100 indicator part")


@strawberry.type(description="排名行: one unit's place in its category (同类比较) with the level-1 breakdown")
class RankingRow:
    unit_id: str
    unit_name: str | None
    unit_path: str
    category: str = strawberry.field(description="分类")
    rank: int = strawberry.field(description="名次 within the whole category")
    of: int = strawberry.field(description="units ranked in the category")
    total: float = strawberry.field(description="总分")
    indicators: float | None = strawberry.field(description="指标得分 (before 平时督查, bonus, penalty)")
    supervision: float | None = strawberry.field(description="平时督查 score, 0..100")
    supervision_source: str = strawberry.field(
        description="where the 平时督查 score came from: service (the supervision service's result), manual"
        " (entered by the 考核办 with aspectScoresSet until the service publishes one), default (none yet:"
        " 100, no deduction recorded)"
    )
    bonus: float | None = strawberry.field(description="加分 (争先创优)")
    penalty: float | None = strawberry.field(description="扣分")
    coefficient: float | None = strawberry.field(description="评价系数 / 考核系数")
    grade: str | None = strawberry.field(description="等次: 优秀 | 良好 | 一般 | 较差 (after quota and veto)")
    threshold_grade: str | None = strawberry.field(description="grade by score thresholds alone")
    in_quota: bool | None = strawberry.field(description="inside the 优秀 quota")
    exempt: bool | None = strawberry.field(description="专项考核第一: 优秀 outside the quota")
    vetoed: bool = strawberry.field(description="一票否决 capped the grade")
    last_place: bool | None = strawberry.field(description="末位")
    warning_colour: str | None = strawberry.field(
        description="三色榜 colour: green | yellow | red (null: no schedule check in the period)"
    )
    level1: list[Level1Score] = strawberry.field(description="一级指标 in scheme order")
    version: int | None

    @strawberry.field(description="The unit from the unit tree (batched: one request per page)")
    async def unit(self, info: Info[Context, None]) -> Unit | None:
        return mk_opt(Unit, await info.context.l.unit_by_id.load(self.unit_id))


def ranking_row(d: dict[str, Any]) -> RankingRow:
    """Built once per row from the RPC dict: direct construction, no generic conversion."""
    return RankingRow(
        unit_id=d["unit_id"],
        unit_name=d.get("unit_name"),
        unit_path=d["unit_path"],
        category=d["category"],
        rank=d["rank"],
        of=d["of"],
        total=d["total"],
        indicators=d.get("indicators"),
        supervision=d.get("supervision"),
        supervision_source=d.get("supervision_source") or "default",
        bonus=d.get("bonus"),
        penalty=d.get("penalty"),
        coefficient=d.get("coefficient"),
        grade=d.get("grade"),
        threshold_grade=d.get("threshold_grade"),
        in_quota=d.get("in_quota"),
        exempt=d.get("exempt"),
        vetoed=bool(d.get("vetoed")),
        last_place=d.get("last_place"),
        warning_colour=d.get("warning_colour"),
        level1=[
            Level1Score(
                code=x["code"],
                name=x["name"],
                weight=x["weight"],
                points=x.get("points") or 0.0,
                category_weight=x.get("category_weight"),
                category_points=x.get("category_points"),
                overridden=bool(x.get("overridden")),
                score=x["score"],
                contribution=x["contribution"],
            )
            for x in d.get("level1") or ()
        ],
        version=d.get("version"),
    )


@strawberry.type(description="Units per grade (等次)")
class GradeCount:
    grade: str = strawberry.field(description="优秀 | 良好 | 一般 | 较差")
    count: int


@strawberry.type(description="等次分布: a category's grades with the 优秀 quota (名额)")
class GradeSummary:
    category: str
    of: int = strawberry.field(description="units in the category")
    quota: int | None = strawberry.field(description="优秀 quota (名额) for the category")
    counts: list[GradeCount]
    exempt: int = strawberry.field(description="专项考核第一 exemptions")
    vetoed: int = strawberry.field(description="一票否决 cases")
    last_place: list[str] = strawberry.field(description="末位 units in your subtree")


def _grades(d: dict[str, Any]) -> GradeSummary:
    counts = [GradeCount(grade=g, count=n) for g, n in (d.get("counts") or {}).items()]
    return GradeSummary(
        category=d["category"],
        of=d["of"],
        quota=d.get("quota"),
        counts=counts,
        exempt=d.get("exempt") or 0,
        vetoed=d.get("vetoed") or 0,
        last_place=list(d.get("last_place") or []),
    )


LAG = (
    "lag behind 序时进度 = expected − actual, as shares of the annual target (0.12: 12% of the year's target"
    " behind the schedule)"
)


@strawberry.type(description="An indicator behind 序时进度 on the 三色榜, with its name and warning level")
class BehindIndicator:
    code: str
    name: str = strawberry.field(description="指标名称")
    level: str = strawberry.field(description="yellow | orange | red")
    level_zh: str = strawberry.field(description="黄 | 橙 | 红")
    lag: float = strawberry.field(description=LAG)


@strawberry.type(description="三色榜 row: a unit's colour from its worst schedule check (橙 counts as 红)")
class BoardRow:
    unit_id: str
    unit_name: str | None
    unit_path: str
    category: str
    colour: str = strawberry.field(description="red | yellow | green (红/黄/绿)")
    red: int = strawberry.field(description="indicators behind at 红 or 橙")
    yellow: int = strawberry.field(description="indicators behind at 黄")
    green: int = strawberry.field(description="indicators checked and not behind at a warning level")
    on_schedule: bool = strawberry.field(
        description="no indicator is behind at a warning level (green): on or ahead of schedule, or behind by"
        " less than the yellow threshold; worstLag is then null"
    )
    worst_lag: float | None = strawberry.field(
        description=f"the largest {LAG}, among the indicators behind at a warning level; null when onSchedule"
    )
    behind: list[str] = strawberry.field(
        description="codes of the indicators behind at a warning level, worst first (names: behindIndicators)"
    )
    behind_indicators: list[BehindIndicator] = strawberry.field(
        description="the indicators behind at a warning level, worst first, with names and levels"
    )


def _board(d: dict[str, Any]) -> BoardRow:
    return BoardRow(
        unit_id=d["unit_id"],
        unit_name=d.get("unit_name"),
        unit_path=d["unit_path"],
        category=d["category"],
        colour=d["colour"],
        red=d["red"],
        yellow=d["yellow"],
        green=d["green"],
        on_schedule=bool(d.get("on_schedule", d.get("worst_lag") is None)),
        worst_lag=d.get("worst_lag"),
        behind=list(d.get("behind") or []),
        behind_indicators=[
            BehindIndicator(
                code=x["code"], name=x["name"], level=x["level"], level_zh=x["level_zh"], lag=x["lag"]
            )
            for x in d.get("behind_indicators") or ()
        ],
    )


def _warning(d: dict[str, Any]) -> Warning:
    return mk(Warning, d)


@strawberry.type
class RankingQuery:
    @strawberry.field(description="排名: a category's ranking, your subtree's units (名次 category-wide)")
    async def ranking(
        self,
        info: Info[Context, None],
        scheme_id: strawberry.ID,
        period: str,
        category: str,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[RankingRow]:
        params = {
            "scheme_id": str(scheme_id),
            "period": period,
            "category": category,
            "first": page_size(info, first),
            "after": decode_cursor(after),
        }
        r = await call(info, Op.score_read, "scoring", "ranking", params)
        return connection(r["items"], r.get("next"), ranking_row, key="rank")

    @strawberry.field(description="等次: grade counts per category with the 优秀 quota")
    async def grades(
        self,
        info: Info[Context, None],
        scheme_id: strawberry.ID,
        period: str,
        category: str | None = None,
    ) -> list[GradeSummary]:
        params = {"scheme_id": str(scheme_id), "period": period, "category": category}
        return [_grades(d) for d in await call(info, Op.score_read, "scoring", "grades", params)]

    @strawberry.field(description="三色榜: units by colour, red first (a quarter is checked at its end)")
    async def board(
        self,
        info: Info[Context, None],
        scheme_id: strawberry.ID,
        period: str,
        category: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[BoardRow]:
        params = {
            "scheme_id": str(scheme_id),
            "period": period,
            "category": category,
            "first": page_size(info, first),
            "after": decode_cursor(after),
        }
        r = await call(info, Op.warning_read, "scoring", "board", params)
        return connection(r["items"], r.get("next"), _board, key="unit_id")

    @strawberry.field(description="序时进度预警: active warnings under a unit (default: your subtree)")
    async def warnings(
        self,
        info: Info[Context, None],
        root_id: strawberry.ID | None = None,
        period: str | None = None,
        min_level: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Warning]:
        authorize(info.context.caller, Op.warning_read)
        params: dict[str, Any] = {"first": page_size(info, first), "after": decode_cursor(after)}
        if root_id is not None:
            root = await info.context.l.unit_by_id.load(str(root_id))
            if root is None:  # outside the subtree looks exactly like missing: an empty list
                return connection([], None, _warning)
            params["root_path"] = root["path"]
        if period:
            params["period"] = period
        if min_level:
            params["min_level"] = min_level
        r = await call(info, Op.warning_read, "scoring", "warnings", params)
        return connection(r["items"], r.get("next"), _warning, key="code")
