"""Review decisions (审核) shared by single and bulk review: who may decide what, and evidence checks."""

from __future__ import annotations

from kaohe.errors import Conflict, Forbidden, ValidationFailed
from kaohe.identity import Caller, Role
from kaohe.runtime import Runtime
from services.indicators import targets
from services.indicators.common import OFFICE
from services.indicators.evidence import reverify
from services.indicators.models import Evidence, Submission

APPROVABLE = ("submitted", "reopened", "reviewed")


def decide(
    sub: Submission, caller: Caller, t: targets.Target, *, verb: str, allowed: tuple[str, ...]
) -> tuple[str, int, bool]:
    """(status, review_level, final) after `verb`; raises what submission_<verb> reports when not allowed."""
    if (
        caller.has(Role.department)
        and not caller.has(*OFFICE)
        and caller.indicator_codes
        and sub.code not in caller.indicator_codes
    ):
        raise Forbidden(
            f"indicator {sub.code} is not one of your department's",
            field="submission_id",
            code="forbidden_indicator",
        )
    if verb == "approved":
        if sub.status == "approved" or (sub.status == "reviewed" and not caller.has(*OFFICE)):
            raise Conflict(
                f"the submission is already {sub.status}", field="submission_id", code="review_conflict"
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
        code = "review_conflict" if decided else "invalid_transition"
        raise Conflict(f"a {sub.status} submission cannot be {verb}", field="submission_id", code=code)
    return status, level, final


async def check_evidence(
    rt: Runtime, sub: Submission, t: targets.Target, evidence: list[Evidence], *, final: bool
) -> None:
    """Before an approval: stored bytes re-hashed, all evidence verified, required evidence present."""
    await reverify(rt, evidence)
    if any(e.status != "verified" for e in evidence):
        raise ValidationFailed(
            "all evidence must be verified before approval", field="evidence", code="evidence_unverified"
        )
    if final and t.spec.evidence_required and not evidence:
        raise ValidationFailed(
            f"{sub.code}（{t.spec.name}）须上传佐证材料", field="evidence", code="evidence_missing"
        )
