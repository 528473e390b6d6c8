"""Item methods (督办事项): create, 交办 a pending item, every transition, intake; thin handlers.

Every transition answers the item as it is after the change (`ItemDetail`), read in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kaohe.contracts.supervision import IntakeResult, ItemDetail
from kaohe.contracts.supervision_rpc import (
    IntakeCreateParams,
    ItemAcceptParams,
    ItemAssignParams,
    ItemCloseParams,
    ItemClosureRequestParams,
    ItemCreateParams,
    ItemEscalateParams,
    ItemExtensionApproveParams,
    ItemExtensionRejectParams,
    ItemExtensionRequestParams,
    ItemFeedbackParams,
    ItemPartSubmitParams,
    ItemPauseApproveParams,
    ItemPauseRejectParams,
    ItemPauseRequestParams,
    ItemReopenParams,
    ItemResumeParams,
    ItemSendBackParams,
    ItemWithdrawParams,
    TransitionParams,
)
from kaohe.db import Database
from kaohe.identity import Caller, Role
from kaohe.runtime import Runtime
from services.supervision.domain import Action
from services.supervision.service import intake, items, reads
from services.supervision.service.context import Ctx
from services.supervision.service.transitions import Move, transition

ACTORS = (Role.supervisor, Role.reporter, Role.department, Role.system)
OFFICE = (Role.supervisor, Role.system)

TRANSITIONS: dict[str, tuple[type[TransitionParams], Action]] = {
    "item_accept": (ItemAcceptParams, Action.ACCEPT),
    "item_feedback": (ItemFeedbackParams, Action.REPORT_PROGRESS),
    "item_part_submit": (ItemPartSubmitParams, Action.SUBMIT_PART),
    "item_closure_request": (ItemClosureRequestParams, Action.REQUEST_CLOSURE),
    "item_close": (ItemCloseParams, Action.VERIFY_CLOSURE),
    "item_send_back": (ItemSendBackParams, Action.SEND_BACK),
    "item_extension_request": (ItemExtensionRequestParams, Action.REQUEST_EXTENSION),
    "item_extension_approve": (ItemExtensionApproveParams, Action.APPROVE_EXTENSION),
    "item_extension_reject": (ItemExtensionRejectParams, Action.REJECT_EXTENSION),
    "item_pause_request": (ItemPauseRequestParams, Action.REQUEST_PAUSE),
    "item_pause_approve": (ItemPauseApproveParams, Action.APPROVE_PAUSE),
    "item_pause_reject": (ItemPauseRejectParams, Action.REJECT_PAUSE),
    "item_resume": (ItemResumeParams, Action.RESUME),
    "item_withdraw": (ItemWithdrawParams, Action.WITHDRAW),
    "item_reopen": (ItemReopenParams, Action.REOPEN),
}


def move_of(p: TransitionParams, action: Action) -> Move:
    return Move(
        p.item_id,
        action,
        p.expected_version,
        reason=p.reason,
        evidence=tuple(p.evidence),
        unit_id=p.unit_id,
        new_deadline=getattr(p, "new_deadline", None),
        at=p.at,
        stage=str(p.stage) if isinstance(p, ItemFeedbackParams) else None,
    )


def register(rt: Runtime, ctx: Ctx) -> None:
    rpc = rt.rpc_server()

    def db() -> Database:
        assert rt.db is not None
        return rt.db

    def handler(action: Action) -> Callable[[Caller, Any], Any]:
        async def run(caller: Caller, p: TransitionParams) -> ItemDetail:
            caller.require(*ACTORS)
            async with db().uow() as s:
                await transition(s, ctx, caller, move_of(p, action))
                return await reads.detail(s, ctx, caller, p.item_id)

        return run

    for name, (params, action) in TRANSITIONS.items():
        rpc.method(name, params)(handler(action))

    @rpc.method("item_create", ItemCreateParams)
    async def item_create(caller: Caller, p: ItemCreateParams) -> ItemDetail:
        caller.require(*OFFICE)
        async with db().uow() as s:
            item_id = await items.create(s, ctx, caller, p)
            return await reads.detail(s, ctx, caller, item_id)

    @rpc.method("item_assign", ItemAssignParams)
    async def item_assign(caller: Caller, p: ItemAssignParams) -> ItemDetail:
        caller.require(*OFFICE)
        async with db().uow() as s:
            item_id = await items.assign(s, ctx, caller, p)
            return await reads.detail(s, ctx, caller, item_id)

    @rpc.method("item_escalate", ItemEscalateParams)
    async def item_escalate(caller: Caller, p: ItemEscalateParams) -> ItemDetail:
        caller.require(*OFFICE)
        async with db().uow() as s:
            item_id = await items.escalate(s, ctx, caller, p)
            return await reads.detail(s, ctx, caller, item_id)

    @rpc.method("intake_create", IntakeCreateParams)
    async def intake_create(caller: Caller, p: IntakeCreateParams) -> IntakeResult:
        async with db().uow() as s:
            return await intake.create(s, ctx, caller, p)
