"""Bulk review (批量审核): a responsible department approves a page of submissions in one call.

Each submission is decided exactly as `submission_approve` decides it (roles, indicator codes, two levels,
evidence re-hashed and required evidence present, the reviewer's own approval retried answered as done) and
fails or succeeds on its own; the successful ones are written set-based in one transaction: one
compare-and-set UPDATE, one log insert, one evidence lock, and one `submission.approved` event each. A
submission changed concurrently comes back as `review_conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.indicators import IndicatorBlock, SubmissionApproved
from kaohe.errors import Conflict, KaoheError, NotFound
from kaohe.events import Outbox
from kaohe.identity import Caller
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import Evidence, Submission
from services.indicators.repository import submissions as repo
from services.indicators.repository import targets
from services.indicators.service import review
from services.indicators.service.submissions import event_data


@dataclass
class Plan:
    """One submission's approval as decided on what was read."""

    sub: Submission
    unit_path: str
    unit_name: str
    target: targets.Target
    status: str = ""
    level: int = 0
    final: bool = False
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class Batch:
    """The decisions of one bulk approval: plans to write, refusals, and retries answered as done."""

    plans: dict[str, Plan] = field(default_factory=dict)
    errors: dict[str, KaoheError] = field(default_factory=dict)
    repeats: dict[str, Submission] = field(default_factory=dict)


async def decide(s: AsyncSession, *, caller: Caller, ids: list[str], reason: str | None) -> Batch:
    """Decide every submission on its own; out-of-scope ones look missing."""
    out = Batch()
    subs, units = await repo.many_with_units(s, ids)
    memo: targets.Memo = {}
    for sid in ids:
        sub = subs.get(sid)
        unit = units.get(sub.unit_id) if sub is not None else None
        if sub is None or unit is None or not caller.covers(unit[0]):
            out.errors[sid] = NotFound("submission not found", field="submission_id")
            continue
        try:
            plan = Plan(sub, unit[0], unit[1], await targets.resolve_existing(s, sub, unit[0], memo))
            plan.status, plan.level, plan.final = review.decide(
                sub, caller, plan.target, verb="approved", allowed=review.APPROVABLE
            )
        except KaoheError as e:
            out.errors[sid] = e
            continue
        out.plans[sid] = plan
    conflicted = [subs[i] for i, e in out.errors.items() if e.code == IndicatorsErrorCode.REVIEW_CONFLICT]
    for sid in await review.repeated(s, conflicted, caller, verb="approved", reason=reason):
        del out.errors[sid]  # this reviewer's own approval, retried: answered as it was
        out.repeats[sid] = subs[sid]
    for e in await repo.evidence_of_many(s, list(out.plans)):
        out.plans[e.submission_id].evidence.append(e)
    return out


async def record(
    s: AsyncSession, *, caller: Caller, outbox: Outbox, batch: Batch, reason: str | None, now: datetime
) -> None:
    """Write all decided submissions at once; those changed meanwhile become conflicts."""
    plans = batch.plans
    decided = [(x.sub, x.status, x.level, x.final) for x in plans.values()]
    won = await repo.set_reviews(s, decided, reviewer=caller.user_id, at=now, reason=reason)
    for sid in [k for k in plans if k not in won]:
        batch.errors[sid] = Conflict(
            "the submission was reviewed or changed by someone else",
            field="submission_id",
            code=IndicatorsErrorCode.REVIEW_CONFLICT,
        )
        del plans[sid]
    for sid, plan in plans.items():
        sub = plan.sub
        sub.status, sub.review_level, sub.final = plan.status, plan.level, plan.final
        sub.reviewed_by, sub.reviewed_at, sub.reason, sub.version = caller.user_id, now, reason, won[sid]
        repo.log(s, sub, "reviewed" if sub.status == "reviewed" else "approved", caller.user_id, reason)
    await repo.lock_evidence_of(s, [sid for sid, x in plans.items() if x.final and x.evidence])
    for sid, plan in plans.items():
        data = submission_event(plan, actor=caller.user_id, at=now)
        await outbox.emit(s, data.event(subject=sid, trace_id=caller.trace_id))


def submission_event(plan: Plan, *, actor: str, at: datetime) -> SubmissionApproved:
    """The submission.approved payload, as submission_approve writes it."""
    block = plan.target.indicator_block()
    return event_data(
        SubmissionApproved,
        plan.sub,
        plan.unit_path,
        plan.evidence,
        actor=actor,
        at=at,
        unit_name=plan.unit_name,
        approved_by=actor,
        approved_at=at,
        indicator=None if block is None else IndicatorBlock.model_validate(block),
    )
