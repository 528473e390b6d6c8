"""Scores (得分), warnings (序时进度预警) and their types; rankings live in rankings.py."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description="单位得分: a unit's score in a period (preliminary until results are published)")
class Score:
    period: str
    total: float
    leaves: int | None
    version: int
    updated_at: datetime | None
    rank: int | None = strawberry.field(description="名次 within the category (同类比较)")
    of: int | None = strawberry.field(description="number of units ranked in the category")
    grade: str | None = strawberry.field(description="等次: 优秀 | 良好 | 一般 | 较差")
    category: str | None = strawberry.field(description="分类")
    scheme_id: str | None = strawberry.field(description="考核方案 whose results hold the score")
    status: str | None = strawberry.field(description="preliminary | objection_window | published")
    source: str | None = strawberry.field(
        description="live: the current figures (after publication too); the published snapshot is"
        " resultsSnapshot / scoreExplanation"
    )
    digest: str | None = strawberry.field(description="sha256 of the explanation trace")


@strawberry.type(description="序时进度预警: schedule lag of one indicator (绿/黄/橙/红)")
class Warning:
    unit_id: str
    unit_path: str | None
    code: str
    period: str
    level: str = strawberry.field(description="green | yellow | orange | red")
    level_zh: str | None = strawberry.field(description="绿 | 黄 | 橙 | 红")
    expected: float | None
    actual: float | None
    lag: float | None
    previous_level: str | None
    raised_at: datetime | None
