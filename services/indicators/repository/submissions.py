"""Submissions (填报), their review log and evidence lists: every SQL statement about them.

Scoping by the caller happens here, in `load` and `page_ids`: a submission of a unit outside the caller's
subtree is reported exactly like a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts import paths
from kaohe.errors import NotFound
from kaohe.identity import Caller
from services.indicators.models import Evidence, Submission, SubmissionLog


async def load(s: AsyncSession, caller: Caller, submission_id: str) -> tuple[Submission, str, str]:
    """(submission, its unit's path, its unit's name) when the caller covers the unit."""
    sub = await s.get(Submission, submission_id)
    if sub is None:
        raise NotFound("submission not found", field="submission_id")
    unit = (await s.execute(text("SELECT path, name FROM unit WHERE id = :i"), {"i": sub.unit_id})).first()
    if unit is None or not caller.covers(unit[0]):
        raise NotFound("submission not found", field="submission_id")
    return sub, str(unit[0]), str(unit[1])


async def evidence_of(s: AsyncSession, sub_id: str) -> list[Evidence]:
    """The submission's evidence, oldest first."""
    q = select(Evidence).where(Evidence.submission_id == sub_id).order_by(col(Evidence.created_at))
    return list((await s.exec(q)).all())


async def exists(s: AsyncSession, *, unit_id: str, assessing_unit: str, code: str, period: str) -> bool:
    """Whether the unit already has a submission for this scheme owner, code and period."""
    found = await s.execute(
        text(
            "SELECT 1 FROM submission"
            " WHERE unit_id = :u AND assessing_unit = :a AND code = :c AND period = :p"
        ),
        {"u": unit_id, "a": assessing_unit, "c": code, "p": period},
    )
    return found.first() is not None


def log(s: AsyncSession, sub: Submission, action: str, actor: str, reason: str | None = None) -> None:
    """One entry of the review log (填报审核记录) for the submission as it is now."""
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


async def log_of(s: AsyncSession, sub_id: str) -> list[SubmissionLog]:
    """The submission's review log, in order."""
    q = select(SubmissionLog).where(SubmissionLog.submission_id == sub_id).order_by(col(SubmissionLog.seq))
    return list((await s.exec(q)).all())


async def set_values(
    s: AsyncSession, sub: Submission, *, expected: int, old_version: int, editable: tuple[str, ...]
) -> int | None:
    """Compare-and-set the submission's value back to `submitted`; the new version, or None if it moved."""
    res = await s.exec(
        update(Submission)
        .where(
            col(Submission.id) == sub.id,
            col(Submission.version) == expected,
            col(Submission.version) == old_version,
            col(Submission.status).in_(editable),
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
    row = res.first()
    return None if row is None else int(row[0])


async def set_review(
    s: AsyncSession,
    sub: Submission,
    *,
    expected: int | None,
    status: str,
    level: int,
    final: bool,
    reviewer: str,
    at: datetime,
    reason: str | None,
) -> int | None:
    """Compare-and-set a review decision on the status and version read; the new version, or None."""
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
            reviewed_by=reviewer,
            reviewed_at=at,
            reason=reason,
            version=Submission.version + 1,
        )
        .returning(Submission.version)  # type: ignore[call-overload]
    )
    row = res.first()
    return None if row is None else int(row[0])


async def lock_evidence(s: AsyncSession, sub_id: str) -> None:
    """Approved evidence becomes immutable."""
    await s.exec(update(Evidence).where(col(Evidence.submission_id) == sub_id).values(locked=True))  # type: ignore[call-overload]


async def page_of(
    s: AsyncSession, *, root: str, filters: dict[str, Any], after: str | None, n: int
) -> list[Submission]:
    """Up to `n` submissions of units in the subtree `root`, by id after `after`, matching `filters`."""
    lo, hi = paths.bounds(root)
    sql = "SELECT s.id FROM submission s JOIN unit u ON u.id = s.unit_id WHERE " + paths.sql(
        "u.path", ":lo", ":hi"
    )
    params: dict[str, Any] = {"lo": lo, "hi": hi, "n": n}
    for name, v in filters.items():
        sql += f" AND s.{name} = :{name}"
        params[name] = v
    if after:
        sql += " AND s.id > :after"
        params["after"] = after
    ids = [r[0] for r in await s.execute(text(sql + " ORDER BY s.id LIMIT :n"), params)]
    q = select(Submission).where(col(Submission.id).in_(ids)).order_by(col(Submission.id))
    return list((await s.exec(q)).all())


CAS_REVIEWS = """
UPDATE submission AS t
SET status = v.status, review_level = v.level, final = v.final, reviewed_by = :actor, reviewed_at = :now,
    reason = :reason, version = t.version + 1
FROM unnest(CAST(:ids AS text[]), CAST(:statuses AS text[]), CAST(:levels AS int[]),
            CAST(:finals AS bool[]), CAST(:olds AS text[]), CAST(:versions AS int[]))
     AS v(id, status, level, final, old_status, old_version)
WHERE t.id = v.id AND t.status = v.old_status AND t.version = v.old_version
RETURNING t.id, t.version
"""


async def many_with_units(
    s: AsyncSession, ids: list[str]
) -> tuple[dict[str, Submission], dict[str, tuple[str, str]]]:
    """({id: submission}, {unit id: (path, name)}) for the ids that exist (scope is the caller's check)."""
    subs = {x.id: x for x in (await s.exec(select(Submission).where(col(Submission.id).in_(ids)))).all()}
    rows = await s.execute(
        text("SELECT id, path, name FROM unit WHERE id = ANY(:i)"),
        {"i": list({x.unit_id for x in subs.values()})},
    )
    return subs, {r[0]: (r[1], r[2]) for r in rows}


async def evidence_of_many(s: AsyncSession, ids: list[str]) -> list[Evidence]:
    """The evidence of several submissions, oldest first."""
    q = select(Evidence).where(col(Evidence.submission_id).in_(ids)).order_by(col(Evidence.created_at))
    return list((await s.exec(q)).all())


async def set_reviews(
    s: AsyncSession,
    decided: list[tuple[Submission, str, int, bool]],
    *,
    reviewer: str,
    at: datetime,
    reason: str | None,
) -> dict[str, int]:
    """One compare-and-set UPDATE for (submission as read, status, level, final): {id: new version} won."""
    res = await s.execute(
        text(CAS_REVIEWS),
        {
            "actor": reviewer,
            "now": at,
            "reason": reason,
            "ids": [x[0].id for x in decided],
            "statuses": [x[1] for x in decided],
            "levels": [x[2] for x in decided],
            "finals": [x[3] for x in decided],
            "olds": [x[0].status for x in decided],
            "versions": [x[0].version for x in decided],
        },
    )
    return {str(k): int(v) for k, v in res.all()}


async def lock_evidence_of(s: AsyncSession, ids: list[str]) -> None:
    """Approved evidence of several submissions becomes immutable."""
    if ids:
        await s.execute(text("UPDATE evidence SET locked = true WHERE submission_id = ANY(:i)"), {"i": ids})
