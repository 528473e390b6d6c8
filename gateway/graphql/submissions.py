"""Submissions (填报) and their review (审核): create, update, approve, reject, reopen; lists by keyset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import Connection, UserError, call, connection, decode_cursor, inp, mk, page_size
from gateway.graphql.evidence import Evidence
from gateway.policy import Op
from kaohe.errors import KaoheError


@strawberry.type(description="填报: one value of a unit for an indicator in a period, and its review state")
class Submission:
    id: strawberry.ID
    unit_id: str
    code: str | None = strawberry.field(description="indicator leaf code or data element")
    scheme_id: str | None = strawberry.field(description="考核方案 (null: a standalone indicator)")
    scheme_version: int | None
    assessing_unit: str | None = strawberry.field(description="考核主体: the unit whose scheme asks for it")
    period: str
    value: float | None
    grade: str | None = strawberry.field(description="qualitative grade, e.g. 较好 (领导评议)")
    narrative: str | None
    status: str = strawberry.field(description="submitted | reviewed | approved | rejected | reopened")
    version: int
    review_level: int | None = strawberry.field(description="1 = 责任部门 passed, 2 = 考核办")
    final: bool | None = strawberry.field(description="no further review level pending")
    flags: JSON | None = strawberry.field(description="plausibility flags (outliers), accepted but marked")
    submitted_by: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    reason: str | None
    evidence: list[Evidence] | None = None


def _sub(d: dict[str, Any]) -> Submission:
    s = mk(Submission, {k: v for k, v in d.items() if k != "evidence"})
    if "evidence" in d:
        s.evidence = [mk(Evidence, e) for e in d["evidence"]]
    return s


@strawberry.type
class SubmissionQuery:
    @strawberry.field(description="One submission with its evidence, if its unit is in your subtree")
    async def submission(self, info: Info[Context, None], id: strawberry.ID) -> Submission:
        return _sub(
            await call(info, Op.submission_read, "indicators", "submission_get", {"submission_id": id})
        )

    @strawberry.field(description="Submissions under a unit (default: your whole subtree), by id")
    async def submissions(
        self,
        info: Info[Context, None],
        unit_id: str | None = None,
        period: str | None = None,
        status: str | None = None,
        code: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Submission]:
        params = {"unit_id": unit_id, "period": period, "status": status, "code": code}
        params = {k: v for k, v in params.items() if v is not None}
        params.update(first=page_size(info, first), after=decode_cursor(after))
        r = await call(info, Op.submission_read, "indicators", "submissions_list", params)
        return connection(r["items"], r.get("next"), _sub)


@strawberry.input
class SubmissionCreateInput:
    unit_id: str
    indicator_code: str
    period: str
    value: float | None = None
    grade: str | None = None
    narrative: str = ""


@strawberry.type(description="The changed submission (`node`) or typed errors")
class SubmissionPayload:
    submission: JSON | None = strawberry.field(
        default=None, description="the raw service object (walking-skeleton clients); prefer `node`"
    )
    node: Submission | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _run(info: Info[Context, None], op: Op, method: str, params: dict[str, Any]) -> SubmissionPayload:
    try:
        r = await call(info, op, "indicators", method, params)
        return SubmissionPayload(submission=r, node=_sub(r))
    except KaoheError as e:
        return SubmissionPayload(errors=[UserError.of(e)])


@strawberry.type
class SubmissionMutation:
    @strawberry.mutation(description="填报一个值 for a unit in your subtree")
    async def submission_create(
        self, info: Info[Context, None], input: SubmissionCreateInput
    ) -> SubmissionPayload:
        # which indicators a 责任部门 or a reporter may write is decided by the service
        # (services/indicators/domain/access.py), the one place that knows each indicator's data source
        return await _run(info, Op.submission_write, "submission_create", inp(input))

    @strawberry.mutation(description="修改填报 (submitted, rejected or reopened), compare-and-set on version")
    async def submission_update(
        self,
        info: Info[Context, None],
        submission_id: str,
        expected_version: int,
        value: float | None = UNSET,
        grade: str | None = UNSET,
        narrative: str | None = UNSET,
    ) -> SubmissionPayload:
        params: dict[str, Any] = {"submission_id": submission_id, "expected_version": expected_version}
        # given arguments pass through even when falsy: a deduction count of 0 and an emptied narrative
        # are values; only arguments left out keep the stored ones
        given = (("value", value), ("grade", grade), ("narrative", narrative))
        params.update({k: v for k, v in given if v is not UNSET})
        return await _run(info, Op.submission_write, "submission_update", params)

    @strawberry.mutation(description="审核通过: approved data is locked")
    async def submission_approve(
        self, info: Info[Context, None], submission_id: str, expected_version: int | None = None
    ) -> SubmissionPayload:
        params = {"submission_id": submission_id, "expected_version": expected_version}
        return await _run(info, Op.submission_review, "submission_approve", params)

    @strawberry.mutation(description="退回: reject with a reason")
    async def submission_reject(
        self, info: Info[Context, None], submission_id: str, reason: str, expected_version: int | None = None
    ) -> SubmissionPayload:
        params = {"submission_id": submission_id, "reason": reason, "expected_version": expected_version}
        return await _run(info, Op.submission_review, "submission_reject", params)

    @strawberry.mutation(description="重新打开: 考核办 reopens approved data with a recorded reason")
    async def submission_reopen(
        self, info: Info[Context, None], submission_id: str, reason: str, expected_version: int | None = None
    ) -> SubmissionPayload:
        params = {"submission_id": submission_id, "reason": reason, "expected_version": expected_version}
        return await _run(info, Op.submission_reopen, "submission_reopen", params)
