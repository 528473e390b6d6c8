"""Submissions (填报) and review (审核) RPC: thin handlers over service.submissions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kaohe.contracts.pages import decode_cursor, page
from kaohe.errors import ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain.access import OFFICE, REPORTERS, REVIEWERS
from services.indicators.rpc.common import uow
from services.indicators.schemas import (
    PERIOD_RE,
    SubmissionCreate,
    SubmissionDecision,
    SubmissionList,
    SubmissionPublic,
    SubmissionRef,
    SubmissionReview,
    SubmissionUpdate,
)
from services.indicators.service import review
from services.indicators.service import submissions as service
from services.indicators.service.submissions import pub

REVIEWABLE = ("submitted", "reopened", "reviewed")


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()

    @rpc.method("submission_create", SubmissionCreate)
    async def submission_create(caller: Caller, p: SubmissionCreate) -> SubmissionPublic:
        caller.require(*REPORTERS)
        async with uow(rt) as s:
            sub = await service.create(s, caller=caller, outbox=rt.outbox, p=p, now=datetime.now(UTC))
            return pub(sub)

    @rpc.method("submission_update", SubmissionUpdate)
    async def submission_update(caller: Caller, p: SubmissionUpdate) -> SubmissionPublic:
        caller.require(*REPORTERS)
        async with uow(rt) as s:
            sub = await service.change(s, caller=caller, outbox=rt.outbox, p=p, now=datetime.now(UTC))
            return pub(sub)

    async def transition(
        caller: Caller,
        submission_id: str,
        expected: int | None,
        *,
        verb: str,
        allowed: tuple[str, ...],
        reason: str | None,
    ) -> SubmissionPublic:
        """Decide on what was read, check stored evidence (S3, outside any transaction), then record."""
        async with uow(rt) as s:
            d = await service.decide(
                s,
                caller=caller,
                submission_id=submission_id,
                expected=expected,
                verb=verb,
                allowed=allowed,
                reason=reason,
            )
        if d.repeated:
            return pub(d.sub)
        assert d.target is not None
        if verb == "approved":
            await review.check_evidence(rt, d.sub, d.target, d.evidence or [], final=d.final)
        async with uow(rt) as s:
            sub = await service.record(
                s,
                caller=caller,
                outbox=rt.outbox,
                d=d,
                verb=verb,
                expected=expected,
                reason=reason,
                now=datetime.now(UTC),
            )
        if d.final and sub is d.sub:  # recorded now (not a retry answered with the stored state)
            assert rt.store is not None
            for e in d.evidence or []:
                await rt.store.lock(e.key, version_id=e.version_id)
        return pub(sub)

    @rpc.method("submission_approve", SubmissionReview)
    async def submission_approve(caller: Caller, p: SubmissionReview) -> SubmissionPublic:
        caller.require(*REVIEWERS)
        return await transition(
            caller, p.submission_id, p.expected_version, verb="approved", allowed=REVIEWABLE, reason=p.reason
        )

    @rpc.method("submission_reject", SubmissionDecision)
    async def submission_reject(caller: Caller, p: SubmissionDecision) -> SubmissionPublic:
        caller.require(*REVIEWERS)
        return await transition(
            caller, p.submission_id, p.expected_version, verb="rejected", allowed=REVIEWABLE, reason=p.reason
        )

    @rpc.method("submission_reopen", SubmissionDecision)
    async def submission_reopen(caller: Caller, p: SubmissionDecision) -> SubmissionPublic:
        caller.require(*OFFICE)
        return await transition(
            caller,
            p.submission_id,
            p.expected_version,
            verb="reopened",
            allowed=("approved", "reviewed"),
            reason=p.reason,
        )

    @rpc.method("submission_get", SubmissionRef)
    async def submission_get(caller: Caller, p: SubmissionRef) -> dict[str, Any]:
        async with uow(rt) as s:
            return await service.detail(s, caller=caller, submission_id=p.submission_id)

    @rpc.method("submissions_list", SubmissionList)
    async def submissions_list(caller: Caller, p: SubmissionList) -> dict[str, Any]:
        if p.period is not None and not PERIOD_RE.match(p.period):
            raise ValidationFailed("period must look like 2026, 2026-03, 2026-Q1 or 2026-H1", field="period")
        after = decode_cursor(p.after)
        names = ("period", "status", "code", "assessing_unit")
        filters = {n: v for n in names if (v := getattr(p, n)) is not None}
        async with uow(rt) as s:
            rows = await service.listed(
                s,
                caller=caller,
                unit_id=p.unit_id,
                filters=filters,
                after=after[0] if after else None,
                n=p.first + 1,
            )
        return page([pub(r).model_dump(mode="json") for r in rows], p.first, lambda x: (x["id"],))
