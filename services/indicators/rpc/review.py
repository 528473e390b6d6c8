"""Bulk review RPC (批量审核): a thin handler over service.review_bulk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from kaohe.contracts.pages import Request
from kaohe.errors import KaoheError
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain.access import REVIEWERS
from services.indicators.rpc.common import uow
from services.indicators.schemas import SubmissionPublic
from services.indicators.service import review, review_bulk

MAX_BATCH = 500


class BulkApprove(Request):
    ids: list[str] = Field(min_length=1, max_length=MAX_BATCH)
    reason: str | None = Field(None, max_length=2000)


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()

    @rpc.method("submission_bulk_approve", BulkApprove)
    async def submission_bulk_approve(caller: Caller, p: BulkApprove) -> dict[str, Any]:
        """Approve many submissions; `items` in input order, each `{id, ok, submission | error}`."""
        caller.require(*REVIEWERS)
        ids = list(dict.fromkeys(p.ids))
        async with uow(rt) as s:
            batch = await review_bulk.decide(s, caller=caller, ids=ids, reason=p.reason)
        for sid, plan in list(batch.plans.items()):  # stored bytes re-hashed outside any transaction
            try:
                await review.check_evidence(rt, plan.sub, plan.target, plan.evidence, final=plan.final)
            except KaoheError as e:
                batch.errors[sid] = e
                del batch.plans[sid]
        if batch.plans:
            async with uow(rt) as s:
                await review_bulk.record(
                    s, caller=caller, outbox=rt.outbox, batch=batch, reason=p.reason, now=datetime.now(UTC)
                )
            assert rt.store is not None
            for plan in batch.plans.values():
                if plan.final:
                    for e in plan.evidence:
                        await rt.store.lock(e.key, version_id=e.version_id)
        out = []
        for sid in ids:
            if sid in batch.errors:
                out.append({"id": sid, "ok": False, "submission": None, "error": batch.errors[sid].to_dict()})
            else:
                done = batch.repeats[sid] if sid in batch.repeats else batch.plans[sid].sub
                sub = SubmissionPublic.model_validate(done, from_attributes=True)
                out.append({"id": sid, "ok": True, "submission": sub.model_dump(mode="json"), "error": None})
        return {"items": out}
