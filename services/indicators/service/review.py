"""Review decisions (审核) shared by single and bulk review: who may decide what, and evidence checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.errors import Conflict, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain import access
from services.indicators.domain.access import OFFICE
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import Evidence, Submission
from services.indicators.repository import targets
from services.indicators.service.evidence import reverify

APPROVABLE = ("submitted", "reopened", "reviewed")
# what a decision leaves as the submission's status (and its log action)
OUTCOMES: dict[str, tuple[str, ...]] = {
    "approved": ("approved", "reviewed"),
    "rejected": ("rejected",),
    "reopened": ("reopened",),
}
LAST_LOG = """
SELECT DISTINCT ON (submission_id) submission_id, action, actor, reason, version FROM submission_log
WHERE submission_id = ANY(:ids) ORDER BY submission_id, seq DESC
"""


async def repeated(
    s: AsyncSession,
    subs: list[Submission],
    caller: Caller,
    *,
    verb: str,
    reason: str | None,
    expected: dict[str, int | None] | None = None,
) -> set[str]:
    """Ids whose latest change is this very decision by this very reviewer: a retry (e.g. after an
    upstream_timeout whose first attempt committed), answered with the current state instead of
    review_conflict. Nothing may have happened since (the log entry carries the current version); with
    `expected_version` the decision must have been made on that version. A different decision, another
    reviewer's, or the same one after any change still conflicts."""
    outcome = OUTCOMES[verb]
    maybe = {
        x.id: x
        for x in subs
        if x.reviewed_by == caller.user_id
        and x.status in outcome
        and (expected is None or expected.get(x.id) in (None, x.version - 1))
    }
    if not maybe:
        return set()
    rows: Any = await s.execute(text(LAST_LOG), {"ids": list(maybe)})
    return {
        r.submission_id
        for r in rows
        if r.actor == caller.user_id
        and r.action in outcome
        and r.version == maybe[r.submission_id].version
        and (r.reason or None) == (reason or None)
    }


def decide(
    sub: Submission, caller: Caller, t: targets.Target, *, verb: str, allowed: tuple[str, ...]
) -> tuple[str, int, bool]:
    """(status, review_level, final) after `verb`; raises what submission_<verb> reports when not allowed."""
    access.require_review(caller, sub.code, field="submission_id")
    if verb == "approved":
        if sub.status == "approved" or (sub.status == "reviewed" and not caller.has(*OFFICE)):
            raise Conflict(
                f"the submission is already {sub.status}",
                field="submission_id",
                code=IndicatorsErrorCode.REVIEW_CONFLICT,
            )
        second = bool(t.row and t.row.second_review)
        if sub.status == "reviewed" or caller.has(*OFFICE) or not second:
            status, level, final = "approved", 2 if second else 1, True
        else:
            status, level, final = "reviewed", 1, False
    else:
        status, level, final = verb, 0, False
    if sub.status not in allowed:
        decided = sub.status in ("approved", "rejected") and verb in ("approved", "rejected")
        code = IndicatorsErrorCode.REVIEW_CONFLICT if decided else IndicatorsErrorCode.INVALID_TRANSITION
        raise Conflict(f"a {sub.status} submission cannot be {verb}", field="submission_id", code=code)
    return status, level, final


async def check_evidence(
    rt: Runtime, sub: Submission, t: targets.Target, evidence: list[Evidence], *, final: bool
) -> None:
    """Before an approval: stored bytes re-hashed, all evidence verified, required evidence present."""
    await reverify(rt, evidence)
    if any(e.status != "verified" for e in evidence):
        raise ValidationFailed(
            "all evidence must be verified before approval",
            field="evidence",
            code=IndicatorsErrorCode.EVIDENCE_UNVERIFIED,
        )
    if final and t.spec.evidence_required and not evidence:
        raise ValidationFailed(
            f"{sub.code}（{t.spec.name}）须上传佐证材料",
            field="evidence",
            code=IndicatorsErrorCode.EVIDENCE_MISSING,
        )
