"""Subscriptions (graphql-transport-ws): live score/ranking and warning changes for a subtree."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import mk, mk_opt
from gateway.graphql.scores import Score, Warning
from gateway.graphql.units import Unit
from gateway.policy import Op, authorize
from kaohe.errors import KaoheError, NotFound
from kaohe.events import CloudEvent

SCORE = "kaohe.scoring.score.updated"
WARNINGS = {"kaohe.scoring.warning.raised", "kaohe.scoring.warning.cleared"}


@strawberry.type(description="A unit's score changed (its rank in the category may have moved)")
class RankingChange:
    unit_id: str
    period: str
    score: Score
    event_id: str
    scheme_id: str | None
    category: str | None = strawberry.field(description="分类")
    rank: int | None = strawberry.field(description="名次 in the category after the change")
    of: int | None
    grade: str | None = strawberry.field(description="等次 after the change")
    unit_path: strawberry.Private[str] = ""

    @strawberry.field(
        description="三色榜 colour now (a month's worst active warning: red | yellow | green; null for"
        " quarters and years)"
    )
    async def warning_colour(self, info: Info[Context, None]) -> str | None:
        if len(self.period) != 7 or "Q" in self.period or "H" in self.period:
            return None
        params = {"root_path": self.unit_path, "period": self.period, "first": 500}
        r = await info.context.rpc.call("scoring", "warnings", params, info.context.caller)
        levels = {w["level"] for w in r["items"] if w["unit_id"] == self.unit_id}
        return "red" if levels & {"red", "orange"} else "yellow" if "yellow" in levels else "green"

    @strawberry.field(description="The unit, loaded fresh for this event")
    async def unit(self, info: Info[Context, None]) -> Unit | None:
        return mk_opt(Unit, await info.context.l.unit_by_id.load(self.unit_id))


@strawberry.type(description="A 序时进度 warning was raised or cleared (三色榜 moves)")
class WarningChange:
    change: str = strawberry.field(description="raised | cleared")
    warning: Warning
    event_id: str

    @strawberry.field(description="The unit, loaded fresh for this event")
    async def unit(self, info: Info[Context, None]) -> Unit | None:
        return mk_opt(Unit, await info.context.l.unit_by_id.load(self.warning.unit_id))


async def _start(info: Info[Context, None], op: Op, root_id: str | None) -> str:
    """Authenticate, enforce the per-connection cap, return the subtree's path; errors carry their code."""
    try:
        return await _check(info, op, root_id)
    except KaoheError as e:  # subscription errors skip the operation extensions: attach the code here
        raise GraphQLError(e.message, extensions={"code": e.code, "field": e.field}) from None


async def _check(info: Info[Context, None], op: Op, root_id: str | None) -> str:
    ctx = info.context
    caller = await ctx.authenticate_ws() if ctx.ws_auth else ctx.caller
    authorize(caller, op)
    if ctx.active_subscriptions >= ctx.config.subscriptions_per_connection:
        raise KaoheError(
            f"at most {ctx.config.subscriptions_per_connection} subscriptions per connection",
            code="too_many_subscriptions",
        )
    if root_id is None:
        return caller.org_path
    root = await ctx.fresh_loaders().unit_by_id.load(root_id)
    if root is None:
        raise NotFound(f"unit {root_id} not found", field="rootId")
    return str(root["path"])


def _in(event: CloudEvent, path: str, period: str | None, info: Info[Context, None]) -> bool:
    d: dict[str, Any] = event.data
    unit_path = str(d.get("unit_path") or "")
    if not unit_path.startswith(path) or not info.context.caller.covers(unit_path):
        return False
    return period is None or d.get("period") == period


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="排名变动: score changes of units under a root (default: your subtree)"
    )
    async def ranking_changed(
        self, info: Info[Context, None], root_id: strawberry.ID | None = None, period: str | None = None
    ) -> AsyncGenerator[RankingChange, None]:
        path = await _start(info, Op.score_read, str(root_id) if root_id else None)
        ctx = info.context
        ctx.active_subscriptions += 1
        try:
            async for ev in ctx.services.live.stream({SCORE}):
                if _in(ev, path, period, info):
                    ctx.loaders = ctx.fresh_loaders()  # no stale cache across events
                    d = ev.data
                    yield RankingChange(
                        unit_id=d["unit_id"],
                        period=d["period"],
                        score=mk(Score, d),
                        event_id=ev.id,
                        scheme_id=d.get("scheme_id"),
                        category=d.get("category"),
                        rank=d.get("rank"),
                        of=d.get("of"),
                        grade=d.get("grade"),
                        unit_path=str(d.get("unit_path") or ""),
                    )
        finally:
            ctx.active_subscriptions -= 1

    @strawberry.subscription(description="预警变动: warnings raised or cleared under a root (三色榜)")
    async def warning_changed(
        self, info: Info[Context, None], root_id: strawberry.ID | None = None, period: str | None = None
    ) -> AsyncGenerator[WarningChange, None]:
        path = await _start(info, Op.warning_read, str(root_id) if root_id else None)
        ctx = info.context
        ctx.active_subscriptions += 1
        try:
            async for ev in ctx.services.live.stream(WARNINGS):
                if _in(ev, path, period, info):
                    ctx.loaders = ctx.fresh_loaders()
                    yield WarningChange(
                        change=ev.type.rsplit(".", 1)[-1], warning=mk(Warning, ev.data), event_id=ev.id
                    )
        finally:
            ctx.active_subscriptions -= 1
