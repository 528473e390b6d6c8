"""Snapshot, proposal and approval RPC (拟运用清单、审批), what-if and payroll export; thin handlers."""

from __future__ import annotations

from typing import Any

from kaohe.contracts import rewards as c
from kaohe.errors import Conflict
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository.connection import raw, read_only
from services.rewards.rpc.common import conn, db
from services.rewards.service import approval, exports, inputs, proposals, whatif
from services.rewards.settings import RewardsSettings


def register(rt: Runtime, settings: RewardsSettings) -> None:
    server = rt.rpc_server()
    levels = settings.approval_levels

    async def set_after(set_id: int) -> c.ProposalSetPublic:
        async with db(rt).uow() as s:
            cx = await read_only(s)
            row = await proposals.readable_set(cx, Caller.system(), set_id)
            return c.ProposalSetPublic.model_validate(await proposals.set_public(cx, row))

    @server.method("snapshots_list", c.SnapshotsList)
    async def snapshots_list(caller: Caller, p: c.SnapshotsList) -> dict[str, Any]:
        async with conn(rt, readonly=True) as cx:
            got = await proposals.snapshot_page(cx, caller, p)
        return {"items": [c.SnapshotPublic.model_validate(i) for i in got["items"]], "next": got["next"]}

    @server.method("proposals_compute", c.ProposalsCompute)
    async def proposals_compute(caller: Caller, p: c.ProposalsCompute) -> c.ProposalSetPublic:
        async with db(rt).uow() as s:
            await proposals.require_compute(await raw(s), caller, p)
            set_id = await inputs.apply(s, p.snapshot_id, outbox=rt.outbox, levels=levels)
        if set_id is None:
            raise Conflict(
                "no active rule set for the snapshot's assessing unit and year",
                field="snapshot_id",
                code=E.RULESET_MISSING,
            )
        return await set_after(set_id)

    @server.method("proposal_sets_list", c.ProposalSetsList)
    async def proposal_sets_list(caller: Caller, p: c.ProposalSetsList) -> dict[str, Any]:
        async with conn(rt, readonly=True) as cx:
            got = await proposals.sets(cx, caller, p)
        return {"items": [c.ProposalSetPublic.model_validate(i) for i in got["items"]], "next": got["next"]}

    @server.method("proposal_set_get", c.SetRef)
    async def proposal_set_get(caller: Caller, p: c.SetRef) -> c.ProposalSetPublic:
        async with conn(rt, readonly=True) as cx:
            return c.ProposalSetPublic.model_validate(await proposals.get(cx, caller, p.set_id))

    @server.method("proposal_lines", c.ProposalLines)
    async def proposal_lines(caller: Caller, p: c.ProposalLines) -> dict[str, Any]:
        async with conn(rt, readonly=True) as cx:
            got = await proposals.lines(cx, caller, p)
        return {"items": [c.ProposalLinePublic.model_validate(i) for i in got["items"]], "next": got["next"]}

    @server.method("proposal_line_adjust", c.LineAdjust)
    async def proposal_line_adjust(caller: Caller, p: c.LineAdjust) -> c.ProposalSetPublic:
        async with db(rt).uow() as s:
            await approval.adjust(s, caller, p)
        return await set_after(p.set_id)

    @server.method("proposal_problem_resolve", c.ProblemResolve)
    async def proposal_problem_resolve(caller: Caller, p: c.ProblemResolve) -> c.ProposalSetPublic:
        async with db(rt).uow() as s:
            await approval.resolve(s, caller, p)
        return await set_after(p.set_id)

    @server.method("proposal_set_approve", c.SetApprove)
    async def proposal_set_approve(caller: Caller, p: c.SetApprove) -> c.ProposalSetPublic:
        async with db(rt).uow() as s:
            await approval.approve(s, caller, p, outbox=rt.outbox)
        return await set_after(p.set_id)

    @server.method("proposal_set_reject", c.SetReject)
    async def proposal_set_reject(caller: Caller, p: c.SetReject) -> c.ProposalSetPublic:
        async with db(rt).uow() as s:
            await approval.reject(s, caller, p)
        return await set_after(p.set_id)

    @server.method("whatif_run", c.WhatIfRun)
    async def whatif_run(caller: Caller, p: c.WhatIfRun) -> c.WhatIfPublic:
        async with conn(rt, readonly=True) as cx:
            return c.WhatIfPublic.model_validate(await whatif.run(cx, caller, p))

    @server.method("payroll_export", c.PayrollExport)
    async def payroll_export(caller: Caller, p: c.PayrollExport) -> c.ExportPublic:
        assert rt.store is not None
        async with conn(rt, readonly=True) as cx:
            got = await exports.payroll(cx, caller, p, store=rt.store, ttl_s=settings.export_ttl_s)
        return c.ExportPublic.model_validate(got)
