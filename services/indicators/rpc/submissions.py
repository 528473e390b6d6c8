"""Submissions (填报) and review (审核) RPC: value checks with plausibility flags, compare-and-set reviews."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import Field
from sqlalchemy import text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts import paths
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
from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain import Reported, access, validate_submission
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import Evidence, Submission, SubmissionLog
from services.indicators.repository import bulk as bulk_store
from services.indicators.repository import targets
from services.indicators.rpc.common import (
    OFFICE,
    REPORTERS,
    REVIEWERS,
    Page,
    decode_cursor,
    emit,
    page,
    require_unit,
    uow,
)
from services.indicators.schemas import (
    PERIOD_RE,
    SubmissionCreate,
    SubmissionDecision,
    SubmissionPublic,
    SubmissionRef,
    SubmissionReview,
    SubmissionUpdate,
)
from services.indicators.service import review

EDITABLE = ("submitted", "rejected", "reopened")
MODELS: dict[str, type[SubmissionEvent]] = {
    "approved": SubmissionApproved,
    "rejected": SubmissionRejected,
    "reopened": SubmissionReopened,
}
E = TypeVar("E", bound=SubmissionEvent)


class SubmissionList(Page):
    unit_id: str | None = Field(None, max_length=40)
    period: str | None = Field(None, max_length=20)
    status: Literal["submitted", "reviewed", "approved", "rejected", "reopened"] | None = None
    code: str | None = Field(None, max_length=64)
    assessing_unit: str | None = Field(None, max_length=40)


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


def log(s: AsyncSession, sub: Submission, action: str, actor: str, reason: str | None = None) -> None:
    s.add(
        SubmissionLog(
            submission_id=sub.id,
            version=sub.version,
            action=action,
            actor=actor,
            reason=reason,
            value=sub.value,
            grade=sub.grade,
        )
    )


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()

    async def load(s: AsyncSession, caller: Caller, submission_id: str) -> tuple[Submission, str, str]:
        """(submission, its unit's path, its unit's name) when the caller covers the unit."""
        sub = await s.get(Submission, submission_id)
        if sub is None:
            raise NotFound("submission not found", field="submission_id")
        unit = (
            await s.execute(text("SELECT path, name FROM unit WHERE id = :i"), {"i": sub.unit_id})
        ).first()
        if unit is None or not caller.covers(unit[0]):
            raise NotFound("submission not found", field="submission_id")
        return sub, str(unit[0]), str(unit[1])

    async def evidence_of(s: AsyncSession, sub_id: str) -> list[Evidence]:
        q = select(Evidence).where(Evidence.submission_id == sub_id).order_by(col(Evidence.created_at))
        return list((await s.exec(q)).all())

    @rpc.method("submission_create", SubmissionCreate)
    async def submission_create(caller: Caller, p: SubmissionCreate) -> SubmissionPublic:
        caller.require(*REPORTERS)
        async with uow(rt) as s:
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
            dup = await s.execute(
                text(
                    "SELECT 1 FROM submission WHERE unit_id = :u AND assessing_unit = :a AND code = :c"
                    " AND period = :p"
                ),
                {"u": sub.unit_id, "a": sub.assessing_unit, "c": sub.code, "p": sub.period},
            )
            if dup.first() is not None:
                raise Conflict(
                    "a submission for this unit, indicator and period exists; update it instead",
                    field="period",
                    code=IndicatorsErrorCode.SUBMISSION_EXISTS,
                )
            s.add(sub)
            log(s, sub, "submitted", caller.user_id)
            now = datetime.now(UTC)
            data = event_data(SubmissionSubmitted, sub, path, [], actor=caller.user_id, at=now)
            await emit(rt, s, caller, data, subject=sub.id)
            await s.flush()
            return pub(sub)

    @rpc.method("submission_update", SubmissionUpdate)
    async def submission_update(caller: Caller, p: SubmissionUpdate) -> SubmissionPublic:
        caller.require(*REPORTERS)
        async with uow(rt) as s:
            sub, path, _ = await load(s, caller, p.submission_id)
            if sub.status not in EDITABLE:
                code = "submission_locked" if sub.status == "approved" else "invalid_transition"
                raise Conflict(
                    f"a {sub.status} submission cannot be changed", field="submission_id", code=code
                )
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
            res = await s.exec(
                update(Submission)
                .where(
                    col(Submission.id) == sub.id,
                    col(Submission.version) == p.expected_version,
                    col(Submission.version) == old_version,
                    col(Submission.status).in_(EDITABLE),
                )
                .values(
                    value=sub.value,
                    grade=sub.grade,
                    narrative=sub.narrative,
                    flags=sub.flags,
                    status="submitted",
                    version=old_version + 1,
                    reason=None,
                )
                .returning(Submission.version)  # type: ignore[call-overload]
            )
            if res.first() is None:
                raise Conflict(
                    "the submission was changed by someone else",
                    field="expected_version",
                    code=IndicatorsErrorCode.REVIEW_CONFLICT,
                )
            sub.version, sub.status, sub.reason = old_version + 1, "submitted", None
            log(s, sub, "updated", caller.user_id)
            ev = await evidence_of(s, sub.id)
            data = event_data(SubmissionSubmitted, sub, path, ev, actor=caller.user_id, at=datetime.now(UTC))
            await emit(rt, s, caller, data, subject=sub.id)
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
        """Compare-and-set a review decision; of two concurrent reviews exactly one matches.

        The same reviewer repeating the decision that is already the submission's latest change (a retry
        after a timeout) gets the current submission back instead of review_conflict."""
        async with uow(rt) as s:
            sub, path, unit_name = await load(s, caller, submission_id)
            access.require_review(caller, sub.code, field="submission_id")
            retry = {sub.id: expected}
            if await review.repeated(s, [sub], caller, verb=verb, reason=reason, expected=retry):
                return pub(sub)
            t = await targets.resolve_existing(s, sub, path)
            status, level, final = review.decide(sub, caller, t, verb=verb, allowed=allowed)
            evidence = await evidence_of(s, sub.id)
        if verb == "approved":
            await review.check_evidence(rt, sub, t, evidence, final=final)
        now = datetime.now(UTC)
        async with uow(rt) as s:
            cond = [
                col(Submission.id) == sub.id,
                col(Submission.status) == sub.status,
                col(Submission.version) == sub.version,
            ]
            if expected is not None:
                cond.append(col(Submission.version) == expected)
            res = await s.exec(
                update(Submission)
                .where(*cond)
                .values(
                    status=status,
                    review_level=level,
                    final=final,
                    reviewed_by=caller.user_id,
                    reviewed_at=now,
                    reason=reason,
                    version=Submission.version + 1,
                )
                .returning(Submission.version)  # type: ignore[call-overload]
            )
            row = res.first()
            if row is None:
                now_sub = await s.get(Submission, sub.id, populate_existing=True)
                if now_sub is not None and await review.repeated(
                    s, [now_sub], caller, verb=verb, reason=reason, expected={sub.id: expected}
                ):  # the first attempt of this retry committed while we decided
                    return pub(now_sub)
                raise Conflict(
                    "the submission was reviewed or changed by someone else",
                    field="submission_id",
                    code=IndicatorsErrorCode.REVIEW_CONFLICT,
                )
            (
                sub.status,
                sub.review_level,
                sub.final,
                sub.reviewed_by,
                sub.reviewed_at,
                sub.reason,
                sub.version,
            ) = (status, level, final, caller.user_id, now, reason, row[0])
            log(s, sub, "reviewed" if status == "reviewed" else verb, caller.user_id, reason)
            if final and evidence:
                await s.exec(
                    update(Evidence).where(col(Evidence.submission_id) == sub.id).values(locked=True)
                )  # type: ignore[call-overload]
            model = MODELS["approved" if status == "reviewed" else verb]
            extra: dict[str, Any] = {}
            if verb == "approved":
                block = t.indicator_block()
                extra = dict(
                    unit_name=unit_name,
                    approved_by=caller.user_id,
                    approved_at=now,
                    indicator=None if block is None else IndicatorBlock.model_validate(block),
                )
            data = event_data(model, sub, path, evidence, actor=caller.user_id, at=now, **extra)
            await emit(rt, s, caller, data, subject=sub.id)
        if final:
            assert rt.store is not None
            for e in evidence:
                await rt.store.lock(e.key, version_id=e.version_id)
        return pub(sub)

    @rpc.method("submission_approve", SubmissionReview)
    async def submission_approve(caller: Caller, p: SubmissionReview) -> SubmissionPublic:
        caller.require(*REVIEWERS)
        return await transition(
            caller,
            p.submission_id,
            p.expected_version,
            verb="approved",
            allowed=("submitted", "reopened", "reviewed"),
            reason=p.reason,
        )

    @rpc.method("submission_reject", SubmissionDecision)
    async def submission_reject(caller: Caller, p: SubmissionDecision) -> SubmissionPublic:
        caller.require(*REVIEWERS)
        return await transition(
            caller,
            p.submission_id,
            p.expected_version,
            verb="rejected",
            allowed=("submitted", "reopened", "reviewed"),
            reason=p.reason,
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
            sub, _, _ = await load(s, caller, p.submission_id)
            evidence = await evidence_of(s, sub.id)
            logs = (
                await s.exec(
                    select(SubmissionLog)
                    .where(SubmissionLog.submission_id == sub.id)
                    .order_by(col(SubmissionLog.seq))
                )
            ).all()
            imported = await bulk_store.import_history(
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

    @rpc.method("submissions_list", SubmissionList)
    async def submissions_list(caller: Caller, p: SubmissionList) -> dict[str, Any]:
        if p.period is not None and not PERIOD_RE.match(p.period):
            raise ValidationFailed("period must look like 2026, 2026-03, 2026-Q1 or 2026-H1", field="period")
        after = decode_cursor(p.after)
        async with uow(rt) as s:
            root = await require_unit(s, caller, p.unit_id) if p.unit_id else caller.org_path
            lo, hi = paths.bounds(root)
            sql = "SELECT s.id FROM submission s JOIN unit u ON u.id = s.unit_id WHERE " + paths.sql(
                "u.path", ":lo", ":hi"
            )
            params: dict[str, Any] = {"lo": lo, "hi": hi, "n": p.first + 1}
            for name in ("period", "status", "code", "assessing_unit"):
                if (v := getattr(p, name)) is not None:
                    sql += f" AND s.{name} = :{name}"
                    params[name] = v
            if after:
                sql += " AND s.id > :after"
                params["after"] = after[0]
            ids = [r[0] for r in await s.execute(text(sql + " ORDER BY s.id LIMIT :n"), params)]
            rows = (
                await s.exec(
                    select(Submission).where(col(Submission.id).in_(ids)).order_by(col(Submission.id))
                )
            ).all()
        return page([pub(r).model_dump(mode="json") for r in rows], p.first, lambda x: (x["id"],))
