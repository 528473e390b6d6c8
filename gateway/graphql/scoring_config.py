"""考核计分设置 of a results book: scoring configuration, 专项考核第一 exemptions, direct aspect scores.

Office writes on a book: the assessment office covering the book's assessing unit (see `require_book`);
scoring checks the role again and the unit's scope for the per-unit ones. The configuration is free-form
JSON here and validated strictly by scoring (errors name the offending field); see docs/rpc/scoring.md.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import UserError, call, payload
from gateway.graphql.results import require_book
from gateway.policy import Op, authorize
from kaohe.errors import NotFound, ValidationFailed


@strawberry.type(description="专项考核第一: a unit rated 优秀 outside the quota in a period (or no longer)")
class Exemption:
    unit_id: str
    period: str
    exempt: bool


@strawberry.type(description="Direct aspect scores (领导评议, 年度考核 …) of a unit in a quarter or year")
class AspectScores:
    unit_id: str
    period: str
    scores: JSON = strawberry.field(description="{aspect code: 0..100}")


@strawberry.input(
    description="专项考核第一: exempt a unit from the 优秀 quota in a period (exempt false: undo)"
)
class ExemptionSetInput:
    scheme_id: str
    period: str
    unit_id: str
    exempt: bool = True
    reason: str = strawberry.field(default="", description="up to 500 characters")


@strawberry.input(description="Direct aspect scores of a unit for a quarter (2026-Q1) or a year (2026)")
class AspectScoresSetInput:
    scheme_id: str
    period: str
    unit_id: str
    scores: JSON = strawberry.field(
        description="{aspect code: 0..100}, at most 20 aspects; `supervision` is a manual 平时督查 score"
        " (marked manual, replaced by the supervision service's once it publishes); `indicators` is refused"
    )


@strawberry.type
class ScoringConfigPayload:
    config: JSON | None = strawberry.field(default=None, description="the stored ScoringConfig")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ExemptionPayload:
    exemption: Exemption | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AspectScoresPayload:
    aspect_scores: AspectScores | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


CATCH_UP_S = 10.0  # how long a book call waits for scoring to learn of a scheme published just now


async def _book_call(info: Info[Context, None], method: str, params: dict[str, Any]) -> Any:
    """Call scoring on a book; right after `schemePublish` wait for scoring to catch up, invisibly.

    Scoring learns of a published scheme from the `scheme.published` event, a moment after the mutation
    returns. While indicators says the scheme is published and scoring does not know it yet, the call is
    retried (backing off up to 0.5 s) for at most CATCH_UP_S; a draft or unknown scheme fails at once.
    """
    authorize(info.context.caller, Op.scoring_config)
    await require_book(info, params["scheme_id"])
    deadline = time.monotonic() + CATCH_UP_S
    delay = 0.05
    while True:
        try:
            return await call(info, Op.scoring_config, "scoring", method, params)
        except NotFound:
            if time.monotonic() + delay > deadline or not await _published(info, params["scheme_id"]):
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


async def _published(info: Info[Context, None], scheme_id: str) -> bool:
    ctx = info.context
    scheme = await ctx.rpc.call("indicators", "scheme_get", {"scheme_id": scheme_id}, ctx.caller)
    return scheme.get("status") in ("published", "superseded")


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed(f"{field} must be an object", field=field)
    return value


async def _config(info: Info[Context, None], scheme_id: str, config: Any) -> Any:
    return await _book_call(info, "config_set", {"scheme_id": scheme_id, "config": _object(config, "config")})


async def _exemption(info: Info[Context, None], i: ExemptionSetInput) -> Exemption:
    params = {
        "scheme_id": i.scheme_id,
        "period": i.period,
        "unit_id": i.unit_id,
        "exempt": i.exempt,
        "reason": i.reason,
    }
    d = await _book_call(info, "exemption_set", params)
    return Exemption(unit_id=d["unit_id"], period=d["period"], exempt=bool(d["exempt"]))


async def _aspects(info: Info[Context, None], i: AspectScoresSetInput) -> AspectScores:
    scores = _object(i.scores, "scores")
    params = {"scheme_id": i.scheme_id, "period": i.period, "unit_id": i.unit_id, "scores": scores}
    d = await _book_call(info, "aspect_scores_set", params)
    return AspectScores(unit_id=d["unit_id"], period=d["period"], scores=d["scores"])


@strawberry.type
class ScoringConfigQuery:
    @strawberry.field(description="考核计分设置 of a book as stored (defaults when never set; 考核办)")
    async def scoring_config(self, info: Info[Context, None], scheme_id: str) -> JSON:
        return await _book_call(info, "config_get", {"scheme_id": scheme_id})


@strawberry.type
class ScoringConfigMutation:
    @strawberry.mutation(
        description="考核计分设置: replace a book's ScoringConfig (later recomputes use it; 考核办)"
    )
    async def config_set(
        self, info: Info[Context, None], scheme_id: str, config: JSON
    ) -> ScoringConfigPayload:
        return await payload(ScoringConfigPayload, "config", _config(info, scheme_id, config))

    @strawberry.mutation(description="专项考核第一: 优秀 outside the quota for a unit and period (考核办)")
    async def exemption_set(self, info: Info[Context, None], input: ExemptionSetInput) -> ExemptionPayload:
        return await payload(ExemptionPayload, "exemption", _exemption(info, input))

    @strawberry.mutation(description="Direct aspect scores (领导评议, 年度考核 …) of a unit (考核办)")
    async def aspect_scores_set(
        self, info: Info[Context, None], input: AspectScoresSetInput
    ) -> AspectScoresPayload:
        return await payload(AspectScoresPayload, "aspect_scores", _aspects(info, input))
