"""结果运用 subscriptions: proposal sets that now await the caller's review (待我审批), as they arrive."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.rewards import RewardProposalSet, set_of
from gateway.graphql.subscriptions import _start
from gateway.policy import Op
from kaohe.contracts.rewards import ProposalAwaiting
from kaohe.errors import KaoheError

AWAITING = {ProposalAwaiting.TYPE}


@strawberry.type(description="A proposal set awaits review at `level` (1 = 初审, 2 = 复审)")
class RewardProposalAwaiting:
    event_id: str
    set_id: int
    assessing_unit: str
    scheme_id: str
    period: str
    level: int = strawberry.field(description="the level awaiting review")
    levels: int
    lines: int
    problems: int = strawberry.field(description="problems to resolve before approval")

    @strawberry.field(description="The set, loaded fresh for this event (null if it is no longer yours)")
    async def proposal_set(self, info: Info[Context, None]) -> RewardProposalSet | None:
        ctx = info.context
        try:
            d = await ctx.rpc.call("rewards", "proposal_set_get", {"set_id": self.set_id}, ctx.caller)
        except KaoheError:
            return None
        return set_of(d)


@strawberry.type
class RewardsSubscription:
    @strawberry.subscription(
        description="待我审批: proposal sets of assessing units in your subtree (default) or under a root, as"
        " they come to await review at a level you may pass (组织部, 考核办)"
    )
    async def reward_proposal_awaiting(
        self, info: Info[Context, None], root_id: strawberry.ID | None = None
    ) -> AsyncGenerator[RewardProposalAwaiting, None]:
        path = await _start(info, Op.rewards_manage, str(root_id) if root_id else None)
        ctx = info.context
        ctx.active_subscriptions += 1
        try:
            async for ev in ctx.services.live.stream(AWAITING):
                d = ProposalAwaiting.from_event(ev)
                where = d.assessing_path or ""
                # an assessing unit whose path rewards does not know yet: root callers only (as the service)
                mine = where.startswith(path) and ctx.caller.covers(where) if where else path == "/"
                if mine and d.level <= d.levels:
                    yield RewardProposalAwaiting(
                        event_id=ev.id,
                        set_id=d.set_id,
                        assessing_unit=d.assessing_unit,
                        scheme_id=d.scheme_id,
                        period=d.period,
                        level=d.level,
                        levels=d.levels,
                        lines=d.lines,
                        problems=d.problems,
                    )
        finally:
            ctx.active_subscriptions -= 1
