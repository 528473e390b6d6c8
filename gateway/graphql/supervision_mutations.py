"""督查督办 mutations: create and assign items, and one mutation per lifecycle transition (`<Entity><Verb>`).

Every transition is compare-and-set on `expectedVersion` (the item's `version`): of two concurrent changes
one wins, the other gets `stale_state`. Refusals come back as typed `errors` (ErrorCode and
SupervisionErrorCode), never as a changed item.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import UserError, call, inp
from gateway.graphql.supervision_types import (
    FeedbackStage,
    ItemPriority,
    ItemSource,
    SupervisionItemPayload,
    SupervisionSweepResult,
    item,
    mk,
)
from gateway.policy import Op
from kaohe.errors import KaoheError


@strawberry.input(description="A responsible unit's task and sub-deadline (inclusive)")
class SupervisionTaskInput:
    unit_id: str
    task: str
    deadline: date


@strawberry.input(description="节点目标")
class SupervisionMilestoneInput:
    title: str
    due: date


@strawberry.input(description="交办: a new 督办事项 (督查室)")
class SupervisionItemCreateInput:
    title: str
    problem: str = strawberry.field(description="问题")
    source: ItemSource  # type: ignore[valid-type]
    source_ref: str = strawberry.field(description="what raised it: a 批示 document, a ticket number …")
    office_id: str = strawberry.field(description="the supervising office's unit (督查室)")
    lead: SupervisionTaskInput = strawberry.field(description="牵头单位")
    deadline: date = strawberry.field(description="时限")
    cooperating: list[SupervisionTaskInput] = strawberry.field(default_factory=list, description="配合单位")
    measures: list[str] = strawberry.field(default_factory=list, description="举措")
    milestones: list[SupervisionMilestoneInput] = strawberry.field(default_factory=list)
    priority: ItemPriority | None = strawberry.field(default=None, description="default: normal")  # type: ignore[valid-type]
    source_note: str | None = None
    indicator_code: str | None = None
    attachments: list[str] = strawberry.field(default_factory=list, description="storage keys")
    number: str | None = strawberry.field(
        default=None, description="default: the office's next number under its own prefix, e.g. 晋督〔年〕n号"
    )
    assign: bool = strawberry.field(default=True, description="false: keep it a draft (待交办)")
    at: datetime | None = strawberry.field(default=None, description="backdate (system role only)")


@strawberry.input(description="One transition: compare-and-set on `expectedVersion`")
class SupervisionTransitionInput:
    item_id: strawberry.ID
    expected_version: int
    reason: str = strawberry.field(default="", description="why, or what was done")
    evidence: list[str] = strawberry.field(default_factory=list, description="佐证材料 storage keys")
    unit_id: str | None = strawberry.field(
        default=None, description="the acting unit when your subtree covers several of the item's units"
    )
    at: datetime | None = strawberry.field(default=None, description="backdate (system role only)")


@strawberry.input(description="交办 a pending (draft or intake) item: its units and deadline")
class SupervisionItemAssignInput:
    item_id: strawberry.ID
    expected_version: int
    lead: SupervisionTaskInput
    deadline: date
    cooperating: list[SupervisionTaskInput] = strawberry.field(default_factory=list)
    measures: list[str] = strawberry.field(default_factory=list)
    title: str | None = None
    office_id: str | None = None
    priority: ItemPriority | None = None  # type: ignore[valid-type]
    reason: str = ""


def params_of(obj: Any) -> dict[str, Any]:
    """Strawberry input (nested inputs and enums included) as RPC params; unset optionals left out."""
    return {k: _plain(v) for k, v in inp(obj).items()}


def _plain(v: Any) -> Any:
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, date | datetime):
        return v.isoformat()
    if hasattr(v, "__strawberry_definition__"):  # a nested input object
        return params_of(v)
    return v


async def run(
    info: Info[Context, None], op: Op, method: str, params: dict[str, Any]
) -> SupervisionItemPayload:
    try:
        return SupervisionItemPayload(
            node=item(await call(info, op, "supervision", method, params), detail=True)
        )
    except KaoheError as e:
        return SupervisionItemPayload(errors=[UserError.of(e)])


def _transition(method: str, op: Op, description: str) -> Any:
    async def resolve(
        self: Any, info: Info[Context, None], input: SupervisionTransitionInput
    ) -> SupervisionItemPayload:
        return await run(info, op, method, params_of(input))

    return strawberry.mutation(resolver=resolve, description=description)


ACT, MANAGE = Op.supervision_act, Op.supervision_manage


@strawberry.type
class SupervisionMutation:
    @strawberry.mutation(description="交办: create a 督办事项 (督查室); assign=false keeps a draft")
    async def supervision_item_create(
        self, info: Info[Context, None], input: SupervisionItemCreateInput
    ) -> SupervisionItemPayload:
        return await run(info, MANAGE, "item_create", params_of(input))

    @strawberry.mutation(description="交办 a pending item (an intake from 办不成事/12345 or a draft)")
    async def supervision_item_assign(
        self, info: Info[Context, None], input: SupervisionItemAssignInput
    ) -> SupervisionItemPayload:
        return await run(info, MANAGE, "item_assign", params_of(input))

    supervision_item_accept = _transition("item_accept", ACT, "签收 (the lead unit)")
    supervision_item_part_submit = _transition(
        "item_part_submit", ACT, "报送分项完成情况 (a responsible unit; evidence required)"
    )
    supervision_item_closure_request = _transition(
        "item_closure_request", ACT, "申请销号 with results (reason) and evidence (the lead unit)"
    )
    supervision_item_close = _transition("item_close", MANAGE, "审核销号: verified closure (督查室)")
    supervision_item_send_back = _transition("item_send_back", MANAGE, "退回 a closure request (督查室)")
    supervision_item_extension_reject = _transition("item_extension_reject", MANAGE, "驳回延期 (督查室)")
    supervision_item_pause_request = _transition(
        "item_pause_request", ACT, "申请暂停: waiting on another authority (the lead unit)"
    )
    supervision_item_pause_approve = _transition("item_pause_approve", MANAGE, "批准暂停: clocks stop")
    supervision_item_pause_reject = _transition("item_pause_reject", MANAGE, "驳回暂停 (督查室)")
    supervision_item_resume = _transition("item_resume", MANAGE, "恢复办理 after a pause or escalation")
    supervision_item_withdraw = _transition("item_withdraw", MANAGE, "撤销 with a reason (督查室)")

    @strawberry.mutation(description="反馈进展 (13710: 3日反馈, 定期推进, 报告) by a responsible unit")
    async def supervision_item_feedback(
        self,
        info: Info[Context, None],
        input: SupervisionTransitionInput,
        stage: FeedbackStage | None = None,  # type: ignore[valid-type]
    ) -> SupervisionItemPayload:
        params = params_of(input)
        if stage is not None:
            params["stage"] = _plain(stage)
        return await run(info, ACT, "item_feedback", params)

    @strawberry.mutation(description="申请延期: the lead for the item, a cooperating unit for its part")
    async def supervision_item_extension_request(
        self, info: Info[Context, None], input: SupervisionTransitionInput, new_deadline: date
    ) -> SupervisionItemPayload:
        params = {**params_of(input), "new_deadline": new_deadline.isoformat()}
        return await run(info, ACT, "item_extension_request", params)

    @strawberry.mutation(description="批准延期 with the new deadline (the old one is kept)")
    async def supervision_item_extension_approve(
        self, info: Info[Context, None], input: SupervisionTransitionInput, new_deadline: date
    ) -> SupervisionItemPayload:
        params = {**params_of(input), "new_deadline": new_deadline.isoformat()}
        return await run(info, MANAGE, "item_extension_approve", params)

    @strawberry.mutation(description="重新办理 a closed item: a new cycle, earlier breaches kept")
    async def supervision_item_reopen(
        self, info: Info[Context, None], input: SupervisionTransitionInput, new_deadline: date
    ) -> SupervisionItemPayload:
        params = {**params_of(input), "new_deadline": new_deadline.isoformat()}
        return await run(info, MANAGE, "item_reopen", params)

    @strawberry.mutation(description="上报研究: not solvable at this level → an item of the higher office")
    async def supervision_item_escalate(
        self,
        info: Info[Context, None],
        input: SupervisionTransitionInput,
        higher_office_id: str | None = None,
    ) -> SupervisionItemPayload:
        params = {**params_of(input), "higher_office_id": higher_office_id}
        return await run(info, MANAGE, "item_escalate", {k: v for k, v in params.items() if v is not None})

    @strawberry.mutation(
        description="Run one sweep as of a time (development and tests; refused in production): reminders,"
        " breaches, cards and scores that fell due"
    )
    async def supervision_sweep_run(
        self, info: Info[Context, None], as_of: datetime | None = None
    ) -> SupervisionSweepResult:
        params = {"as_of": as_of.isoformat()} if as_of else {}
        return mk(SupervisionSweepResult, await call(info, MANAGE, "supervision", "sweep_run", params))
