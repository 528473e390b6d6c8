"""Bulk review (批量审核): a responsible department approves a page of submissions in one call.

Each submission is decided exactly as `submission_approve` decides it (roles, indicator codes, two levels,
evidence re-hashed and required evidence present, the reviewer's own approval retried answered as done) and
fails or succeeds on its own; the successful ones are
written set-based in one transaction: one compare-and-set UPDATE, one log insert, one evidence lock, and one
`submission.approved` event each. A submission changed concurrently comes back as `review_conflict`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field
from sqlalchemy import text
from sqlmodel import col, select

from kaohe.contracts.indicators import IndicatorBlock, SubmissionApproved
from kaohe.errors import Conflict, KaoheError, NotFound
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain.access import REVIEWERS
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import Evidence, Submission, SubmissionLog
from services.indicators.repository import targets
from services.indicators.rpc.common import emit, uow
from services.indicators.schemas import In, SubmissionPublic
from services.indicators.service import review
from services.indicators.service.submissions import event_data

MAX_BATCH = 500

CAS_UPDATE = """
UPDATE submission AS t
SET status = v.status, review_level = v.level, final = v.final, reviewed_by = :actor, reviewed_at = :now,
    reason = :reason, version = t.version + 1
FROM unnest(CAST(:ids AS text[]), CAST(:statuses AS text[]), CAST(:levels AS int[]),
            CAST(:finals AS bool[]), CAST(:olds AS text[]), CAST(:versions AS int[]))
     AS v(id, status, level, final, old_status, old_version)
WHERE t.id = v.id AND t.status = v.old_status AND t.version = v.old_version
RETURNING t.id, t.version
"""


class BulkApprove(In):
    ids: list[str] = Field(min_length=1, max_length=MAX_BATCH)
    reason: str | None = Field(None, max_length=2000)


class _Plan:
    __slots__ = ("evidence", "final", "level", "status", "sub", "target", "unit_name", "unit_path")

    def __init__(self, sub: Submission, path: str, name: str, t: targets.Target) -> None:
        self.sub, self.unit_path, self.unit_name, self.target = sub, path, name, t
        self.status, self.level, self.final = sub.status, sub.review_level, sub.final
        self.evidence: list[Evidence] = []


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()

    @rpc.method("submission_bulk_approve", BulkApprove)
    async def submission_bulk_approve(caller: Caller, p: BulkApprove) -> dict[str, Any]:
        """Approve many submissions; `items` in input order, each `{id, ok, submission | error}`."""
        caller.require(*REVIEWERS)
        ids = list(dict.fromkeys(p.ids))
        errors: dict[str, KaoheError] = {}
        plans: dict[str, _Plan] = {}
        repeats: dict[str, Submission] = {}
        async with uow(rt) as s:
            subs = {
                x.id: x for x in (await s.exec(select(Submission).where(col(Submission.id).in_(ids)))).all()
            }
            units = {
                r[0]: (r[1], r[2])
                for r in await s.execute(
                    text("SELECT id, path, name FROM unit WHERE id = ANY(:i)"),
                    {"i": list({x.unit_id for x in subs.values()})},
                )
            }
            memo: targets.Memo = {}
            for sid in ids:
                sub = subs.get(sid)
                unit = units.get(sub.unit_id) if sub is not None else None
                if sub is None or unit is None or not caller.covers(unit[0]):
                    errors[sid] = NotFound("submission not found", field="submission_id")
                    continue
                try:
                    plan = _Plan(sub, unit[0], unit[1], await targets.resolve_existing(s, sub, unit[0], memo))
                    plan.status, plan.level, plan.final = review.decide(
                        sub, caller, plan.target, verb="approved", allowed=review.APPROVABLE
                    )
                except KaoheError as e:
                    errors[sid] = e
                    continue
                plans[sid] = plan
            conflicted = [subs[i] for i, e in errors.items() if e.code == IndicatorsErrorCode.REVIEW_CONFLICT]
            for sid in await review.repeated(s, conflicted, caller, verb="approved", reason=p.reason):
                del errors[sid]  # this reviewer's own approval, retried: answered as it was
                repeats[sid] = subs[sid]
            found = select(Evidence).where(col(Evidence.submission_id).in_(list(plans)))
            for e in (await s.exec(found.order_by(col(Evidence.created_at)))).all():
                plans[e.submission_id].evidence.append(e)
        for sid, plan in list(plans.items()):
            try:
                await review.check_evidence(rt, plan.sub, plan.target, plan.evidence, final=plan.final)
            except KaoheError as e:
                errors[sid] = e
                del plans[sid]
        if plans:
            await _write(rt, caller, plans, errors, p.reason)
        out = []
        for sid in ids:
            if sid in errors:
                out.append({"id": sid, "ok": False, "submission": None, "error": errors[sid].to_dict()})
            else:
                done = repeats[sid] if sid in repeats else plans[sid].sub
                sub = SubmissionPublic.model_validate(done, from_attributes=True)
                out.append({"id": sid, "ok": True, "submission": sub.model_dump(mode="json"), "error": None})
        return {"items": out}


async def _write(
    rt: Runtime, caller: Caller, plans: dict[str, _Plan], errors: dict[str, KaoheError], reason: str | None
) -> None:
    """One transaction for all decided submissions; those changed meanwhile become conflicts."""
    now = datetime.now(UTC)
    todo = list(plans.values())
    async with uow(rt) as s:
        res = await s.execute(
            text(CAS_UPDATE),
            {
                "actor": caller.user_id,
                "now": now,
                "reason": reason,
                "ids": [x.sub.id for x in todo],
                "statuses": [x.status for x in todo],
                "levels": [x.level for x in todo],
                "finals": [x.final for x in todo],
                "olds": [x.sub.status for x in todo],
                "versions": [x.sub.version for x in todo],
            },
        )
        won = dict(res.all())
        for sid in [k for k in plans if k not in won]:
            errors[sid] = Conflict(
                "the submission was reviewed or changed by someone else",
                field="submission_id",
                code=IndicatorsErrorCode.REVIEW_CONFLICT,
            )
            del plans[sid]
        for sid, plan in plans.items():
            sub = plan.sub
            sub.status, sub.review_level, sub.final = plan.status, plan.level, plan.final
            sub.reviewed_by, sub.reviewed_at, sub.reason, sub.version = caller.user_id, now, reason, won[sid]
            s.add(
                SubmissionLog(
                    submission_id=sid,
                    version=sub.version,
                    action="reviewed" if sub.status == "reviewed" else "approved",
                    actor=caller.user_id,
                    reason=reason,
                    value=sub.value,
                    grade=sub.grade,
                )
            )
        locked = [sid for sid, x in plans.items() if x.final and x.evidence]
        if locked:
            await s.execute(
                text("UPDATE evidence SET locked = true WHERE submission_id = ANY(:i)"), {"i": locked}
            )
        for sid, plan in plans.items():
            data = submission_event(plan, actor=caller.user_id, at=now)
            await emit(rt, s, caller, data, subject=sid)
    assert rt.store is not None
    for plan in plans.values():
        if plan.final:
            for e in plan.evidence:
                await rt.store.lock(e.key, version_id=e.version_id)


def submission_event(plan: _Plan, *, actor: str, at: datetime) -> SubmissionApproved:
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
