"""Rankings (排名), grades (等次), the 三色榜 and score explanations (得分反查) — from the scoring service."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import call
from gateway.policy import Op


@strawberry.type
class RankingQuery:
    @strawberry.field(description="得分反查: the trace from a unit's total down to each indicator's inputs")
    async def score_explanation(self, info: Info[Context, None], unit_id: str, period: str) -> JSON:
        params = {"unit_id": unit_id, "period": period}
        return await call(info, Op.score_read, "scoring", "explanation", params)
