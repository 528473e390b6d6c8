"""Submission use cases (填报): create, change, review decisions and reads.

Plain functions of a session and a caller: they never commit (the RPC handler's unit of work does) and
emit their events through the outbox, so an event is sent only if its change commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.events import EventPayload
from kaohe.contracts.indicators import (
    EvidenceRef,
    Flag,
    IndicatorBlock,
    SubmissionApproved,
    SubmissionEvent,
    SubmissionRejected,
    SubmissionReopened,
    SubmissionSubmitted,
)
from kaohe.errors import Conflict, ValidationFailed
from kaohe.events import Outbox
from kaohe.identity import Caller
from services.indicators.domain import Reported, access, validate_submission
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import Evidence, Submission
from services.indicators.repository import bulk as bulk_repo
from services.indicators.repository import submissions as repo
from services.indicators.repository import targets
from services.indicators.repository.units import require_unit
from services.indicators.schemas import SubmissionCreate, SubmissionPublic, SubmissionUpdate
from services.indicators.service import review

EDITABLE = ("submitted", "rejected", "reopened")
MODELS: dict[str, type[SubmissionEvent]] = {
    "approved": SubmissionApproved,
    "rejected": SubmissionRejected,
    "reopened": SubmissionReopened,
}
E = TypeVar("E", bound=SubmissionEvent)


def pub(sub: Submission) -> SubmissionPublic:
    return SubmissionPublic.model_validate(sub, from_attributes=True)


def event_data(
    model: type[E],
    sub: Submission,
    unit_path: str,
    evidence: list[Evidence],
    *,
    actor: str,
    at: datetime,
    **extra: Any,
) -> E:
    """A submission.* payload (kaohe.contracts.indicators) of the submission as it is now."""
    return model(
        submission_id=sub.id,
        unit_id=sub.unit_id,
        unit_path=unit_path,
        scheme_id=sub.scheme_id,
        scheme_version=sub.scheme_version,
        assessing_unit=sub.assessing_unit or None,
        year=int(sub.period[:4]),
        code=sub.code,
        period=sub.period,
        value=sub.value,
        grade=sub.grade,
        revision=sub.version,
        evidence=[EvidenceRef(id=e.id, sha256=e.sha256) for e in evidence],
        actor=actor,
        at=at,
        review_level=sub.review_level,
        final=sub.final,
        reason=sub.reason or None,
        flags=[Flag.model_validate(f) for f in sub.flags] if sub.flags else None,
        **extra,
    )


async def _emit(s: AsyncSession, outbox: Outbox, caller: Caller, payload: EventPayload, subject: str) -> None:
    await outbox.emit(s, payload.event(subject=subject, trace_id=caller.trace_id))


async def check_value(s: AsyncSession, target: targets.Target, sub: Submission) -> list[dict[str, Any]]:
    """Type and range errors raise; plausibility against earlier periods comes back as flags."""
    raw = sub.grade if target.spec.value.kind == "grade" else sub.value
    past = await targets.history(
        s, unit_id=sub.unit_id, assessing_unit=sub.assessing_unit, code=sub.code, period=sub.period
    )
    spec = target.spec.model_copy(update={"evidence_required": False})  # evidence follows the value
    res = validate_submission(
        {sub.code: spec},
        {sub.code: Reported(value=raw)},
        previous={sub.code: past[0]} if past else {},
        history={sub.code: past[::-1]},
    )
    if res.errors:
        first = res.errors[0]
        raise ValidationFailed(
            first.message,
            field="value",
            code=first.code.value,
            details=[e.model_dump(mode="json") for e in res.errors],
        )
    got = res.values[sub.code]
    if isinstance(got, str):
        sub.grade, sub.value = got, None
    else:
        sub.value, sub.grade = got, None
    return [{"code": f.code.value, "message": f.message} for f in res.flags]


async def create(
    s: AsyncSession, *, caller: Caller, outbox: Outbox, p: SubmissionCreate, now: datetime
) -> Submission:
    """A new value of a unit for a leaf or data element of the nearest published scheme asking for it."""
    path = await require_unit(s, caller, p.unit_id)
    t = await targets.resolve(
        s,
        unit_id=p.unit_id,
        unit_path=path,
        code=p.indicator_code,
        period=p.period,
        assessing_unit=p.assessing_unit,
    )
    t.require_write(caller, "indicator_code")
    sub = Submission(
        id=uuid.uuid4().hex,
        unit_id=p.unit_id,
        scheme_id=t.row.id if t.row else None,
        scheme_version=t.row.version if t.row else None,
        assessing_unit=t.assessing_unit,
        code=p.indicator_code,
        period=p.period,
        value=p.value,
        grade=p.grade,
        narrative=p.narrative,
        submitted_by=caller.user_id,
    )
    sub.flags = await check_value(s, t, sub)
    if await repo.exists(
        s, unit_id=sub.unit_id, assessing_unit=sub.assessing_unit, code=sub.code, period=sub.period
    ):
        raise Conflict(
            "a submission for this unit, indicator and period exists; update it instead",
            field="period",
            code=IndicatorsErrorCode.SUBMISSION_EXISTS,
        )
    s.add(sub)
    repo.log(s, sub, "submitted", caller.user_id)
    data = event_data(SubmissionSubmitted, sub, path, [], actor=caller.user_id, at=now)
    await _emit(s, outbox, caller, data, sub.id)
    await s.flush()
    return sub


async def change(
    s: AsyncSession, *, caller: Caller, outbox: Outbox, p: SubmissionUpdate, now: datetime
) -> Submission:
    """Change a submitted, rejected or reopened value (compare-and-set on its version); submitted again."""
    sub, path, _ = await repo.load(s, caller, p.submission_id)
    if sub.status not in EDITABLE:
        code = (
            IndicatorsErrorCode.SUBMISSION_LOCKED
            if sub.status == "approved"
            else IndicatorsErrorCode.INVALID_TRANSITION
        )
        raise Conflict(f"a {sub.status} submission cannot be changed", field="submission_id", code=code)
    t = await targets.resolve_existing(s, sub, path)
    t.require_write(caller, "submission_id")
    old_version = sub.version
    if p.value is not None:
        sub.value = p.value
    if p.grade is not None:
        sub.grade = p.grade
    if p.narrative is not None:
        sub.narrative = p.narrative
    sub.flags = await check_value(s, t, sub)
    version = await repo.set_values(
        s, sub, expected=p.expected_version, old_version=old_version, editable=EDITABLE
    )
    if version is None:
        raise Conflict(
            "the submission was changed by someone else",
            field="expected_version",
            code=IndicatorsErrorCode.REVIEW_CONFLICT,
        )
    sub.version, sub.status, sub.reason = version, "submitted", None
    repo.log(s, sub, "updated", caller.user_id)
    ev = await repo.evidence_of(s, sub.id)
    data = event_data(SubmissionSubmitted, sub, path, ev, actor=caller.user_id, at=now)
    await _emit(s, outbox, caller, data, sub.id)
    return sub


@dataclass
class Decision:
    """A review decision taken on the submission as read: what it becomes, and the evidence it carries."""

    sub: Submission
    path: str
    unit_name: str
    target: targets.Target | None = None
    status: str = ""
    level: int = 0
    final: bool = False
    evidence: list[Evidence] | None = None
    repeated: bool = False  # the reviewer's own decision again (a retry): answer with the submission


async def decide(
    s: AsyncSession,
    *,
    caller: Caller,
    submission_id: str,
    expected: int | None,
    verb: str,
    allowed: tuple[str, ...],
    reason: str | None,
) -> Decision:
    """Who may decide, what the decision leads to; a retry of the caller's latest decision is marked."""
    sub, path, unit_name = await repo.load(s, caller, submission_id)
    access.require_review(caller, sub.code, field="submission_id")
    if await review.repeated(s, [sub], caller, verb=verb, reason=reason, expected={sub.id: expected}):
        return Decision(sub, path, unit_name, repeated=True)
    t = await targets.resolve_existing(s, sub, path)
    status, level, final = review.decide(sub, caller, t, verb=verb, allowed=allowed)
    evidence = await repo.evidence_of(s, sub.id)
    return Decision(sub, path, unit_name, t, status, level, final, evidence)


async def record(
    s: AsyncSession,
    *,
    caller: Caller,
    outbox: Outbox,
    d: Decision,
    verb: str,
    expected: int | None,
    reason: str | None,
    now: datetime,
) -> Submission:
    """Compare-and-set the decision; of two concurrent reviews exactly one matches.

    The same reviewer repeating the decision that is already the submission's latest change (a retry
    after a timeout) gets the current submission back instead of review_conflict."""
    sub, t, evidence = d.sub, d.target, d.evidence or []
    assert t is not None
    version = await repo.set_review(
        s,
        sub,
        expected=expected,
        status=d.status,
        level=d.level,
        final=d.final,
        reviewer=caller.user_id,
        at=now,
        reason=reason,
    )
    if version is None:
        now_sub = await s.get(Submission, sub.id, populate_existing=True)
        if now_sub is not None and await review.repeated(
            s, [now_sub], caller, verb=verb, reason=reason, expected={sub.id: expected}
        ):  # the first attempt of this retry committed while we decided
            return now_sub
        raise Conflict(
            "the submission was reviewed or changed by someone else",
            field="submission_id",
            code=IndicatorsErrorCode.REVIEW_CONFLICT,
        )
    sub.status, sub.review_level, sub.final = d.status, d.level, d.final
    sub.reviewed_by, sub.reviewed_at, sub.reason, sub.version = caller.user_id, now, reason, version
    repo.log(s, sub, "reviewed" if d.status == "reviewed" else verb, caller.user_id, reason)
    if d.final and evidence:
        await repo.lock_evidence(s, sub.id)
    extra: dict[str, Any] = {}
    if verb == "approved":
        block = t.indicator_block()
        extra = dict(
            unit_name=d.unit_name,
            approved_by=caller.user_id,
            approved_at=now,
            indicator=None if block is None else IndicatorBlock.model_validate(block),
        )
    model = MODELS["approved" if d.status == "reviewed" else verb]
    data = event_data(model, sub, d.path, evidence, actor=caller.user_id, at=now, **extra)
    await _emit(s, outbox, caller, data, sub.id)
    return sub


async def detail(s: AsyncSession, *, caller: Caller, submission_id: str) -> dict[str, Any]:
    """The submission with its evidence and its whole history (hand changes, reviews and imports)."""
    sub, _, _ = await repo.load(s, caller, submission_id)
    evidence = await repo.evidence_of(s, sub.id)
    logs = await repo.log_of(s, sub.id)
    imported = await bulk_repo.import_history(
        s, unit_id=sub.unit_id, assessing_unit=sub.assessing_unit, code=sub.code, period=sub.period
    )
    entries = [
        {
            "action": x.action,
            "actor": x.actor,
            "at": x.at.isoformat(),
            "reason": x.reason,
            "version": x.version,
            "value": x.value,
            "grade": x.grade,
        }
        for x in logs
    ]
    # imports log once per import; what each wrote on this submission comes from bulk_import_value
    entries += [
        {"action": "submitted", "actor": actor, "at": at.isoformat(), "reason": None, "version": version,
         "value": value, "grade": grade, "via": "bulk_import"}
        for version, actor, at, value, grade in imported
    ]  # fmt: skip
    return {
        **pub(sub).model_dump(mode="json"),
        "evidence": [e.model_dump(mode="json", exclude={"key", "version_id"}) for e in evidence],
        "history": sorted(entries, key=lambda e: (e["version"], e["at"])),
    }


async def listed(
    s: AsyncSession,
    *,
    caller: Caller,
    unit_id: str | None,
    filters: dict[str, Any],
    after: str | None,
    n: int,
) -> list[Submission]:
    """Up to `n` submissions in the caller's subtree (or the unit's), by id after `after`."""
    root = await require_unit(s, caller, unit_id) if unit_id else caller.org_path
    return await repo.page_of(s, root=root, filters=filters, after=after, n=n)
