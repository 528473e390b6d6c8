"""Results (结果): recompute jobs (全量重算), objections (申诉), publication and the immutable snapshot."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import (
    Connection,
    UserError,
    call,
    capped,
    connection,
    decode_cursor,
    mk,
    page_size,
    payload,
)
from gateway.policy import Op, authorize
from kaohe.errors import NotFound


@strawberry.type(description="全量重算 job: progress of a recompute of one scheme and period")
class RecomputeJob:
    job_id: strawberry.ID
    scheme_id: str
    period: str
    status: str = strawberry.field(description="queued | running | done | failed")
    stage: str | None = strawberry.field(
        description="loading | scoring | ranking | warnings | writing | done"
    )
    done_units: int
    total_units: int
    progress: float = strawberry.field(description="0..1")
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    requested_by: str | None


@strawberry.enum(description="申诉 decision")
class ObjectionDecision(Enum):
    UPHELD = "upheld"
    REJECTED = "rejected"


@strawberry.type(description="申诉: a unit's objection to its preliminary results, and the office's answer")
class Objection:
    objection_id: strawberry.ID
    scheme_id: str
    period: str
    unit_id: str
    unit_path: str
    codes: list[str] = strawberry.field(description="indicator codes objected to")
    reason: str
    status: str = strawberry.field(description="open | answered")
    answer: str | None
    decision: str | None = strawberry.field(description="upheld | rejected")
    created_by: str | None
    created_at: datetime | None
    answered_by: str | None
    answered_at: datetime | None


@strawberry.type(description="结果状态: preliminary → objection_window (申诉期) → published (snapshot)")
class ResultsState:
    scheme_id: str
    period: str
    status: str = strawberry.field(description="preliminary | objection_window | published")
    window_until: datetime | None = strawberry.field(description="申诉 accepted until")
    open_objections: int
    answered_objections: int
    snapshot_id: str | None
    digest: str | None = strawberry.field(description="sha256 over the published rows")
    published_at: datetime | None
    published_by: str | None


@strawberry.type(description="A period of a results book that has results, with their status")
class ResultPeriod:
    period: str = strawberry.field(description="2026-05 (month), 2026-Q2 (quarter), 2026-H1, 2026 (year)")
    kind: str = strawberry.field(description="month | quarter | half_year | year")
    status: str = strawberry.field(
        description="preliminary (live, moves with every approval) | objection_window (申诉期) | published"
    )
    window_until: datetime | None = strawberry.field(description="申诉 accepted until (objection_window)")
    snapshot_id: str | None = strawberry.field(description="the published snapshot (published)")
    published_at: datetime | None


@strawberry.type(description="A unit's published result (immutable)")
class SnapshotRow:
    unit_id: str
    unit_path: str
    category: str
    total: float
    rank: int | None
    of: int | None
    grade: str | None
    last_place: bool | None
    vetoed: bool | None


@strawberry.type(description="已发布结果: the immutable snapshot of a period's results, your subtree's rows")
class ResultsSnapshot:
    snapshot_id: str
    digest: str
    published_at: datetime
    rows: Connection[SnapshotRow]


async def require_book(info: Info[Context, None], scheme_id: str) -> None:
    """Office writes on a results book stay in the office's subtree: it must cover the assessing unit.

    Scoring checks only the role for book-wide writes, so the gateway checks the scope here; a scheme
    above or beside the caller looks exactly like a missing one.
    """
    ctx = info.context
    missing = NotFound(f"no published scheme {scheme_id!r} in your subtree", field="scheme_id")
    try:
        scheme = await ctx.rpc.call("indicators", "scheme_get", {"scheme_id": scheme_id}, ctx.caller)
    except NotFound:
        raise missing from None
    if await ctx.l.unit_by_id.load(str(scheme["assessing_unit"])) is None:
        raise missing


async def _office(info: Info[Context, None], method: str, params: dict[str, Any]) -> Any:
    authorize(info.context.caller, Op.results_manage)
    await require_book(info, params["scheme_id"])
    return await call(info, Op.results_manage, "scoring", method, params)


async def _job(info: Info[Context, None], job_id: str) -> RecomputeJob:
    d = await call(info, Op.results_manage, "scoring", "recompute_status", {"job_id": job_id})
    try:
        await require_book(info, d["scheme_id"])
    except NotFound:
        raise NotFound(f"no recompute job {job_id!r}", field="job_id") from None
    return mk(RecomputeJob, d)


@strawberry.type
class ResultsQuery:
    @strawberry.field(description="结果状态 of a scheme's period (申诉期, published snapshot)")
    async def results_state(
        self, info: Info[Context, None], scheme_id: strawberry.ID, period: str
    ) -> ResultsState:
        params = {"scheme_id": str(scheme_id), "period": period}
        return mk(ResultsState, await call(info, Op.score_read, "scoring", "results_state", params))

    @strawberry.field(
        description="Which periods of a results book have results, and their status: months, then"
        " quarters, half-years and the year, per year. Ask ranking, board or resultsSnapshot for one of them"
    )
    async def result_periods(self, info: Info[Context, None], scheme_id: strawberry.ID) -> list[ResultPeriod]:
        rows = await call(info, Op.score_read, "scoring", "result_periods", {"scheme_id": str(scheme_id)})
        return [mk(ResultPeriod, d) for d in rows]

    @strawberry.field(description="已发布结果: the published snapshot (rows of your subtree)")
    async def results_snapshot(
        self,
        info: Info[Context, None],
        scheme_id: strawberry.ID,
        period: str,
        first: int | None = None,
        after: str | None = None,
    ) -> ResultsSnapshot:
        params = {
            "scheme_id": str(scheme_id),
            "period": period,
            "first": page_size(info, first),
            "after": decode_cursor(after),
        }
        r = await call(info, Op.score_read, "scoring", "results_snapshot", params)
        rows = connection(r["items"], r.get("next"), lambda d: mk(SnapshotRow, d), key="unit_id")
        return ResultsSnapshot(
            snapshot_id=r["snapshot_id"],
            digest=r["digest"],
            published_at=datetime.fromisoformat(r["published_at"]),
            rows=rows,
        )

    @strawberry.field(description="申诉 of a scheme's period, by creation (units of your subtree)")
    async def objections(
        self,
        info: Info[Context, None],
        scheme_id: strawberry.ID,
        period: str,
        status: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Objection]:
        params = {
            "scheme_id": str(scheme_id),
            "period": period,
            "status": status,
            "first": page_size(info, first),
            "after": decode_cursor(after),
        }
        r = await call(info, Op.objection_read, "scoring", "objections", params)
        return connection(r["items"], r.get("next"), lambda d: mk(Objection, d), key="objection_id")

    @strawberry.field(description="全量重算 progress (考核办)")
    async def recompute_job(self, info: Info[Context, None], job_id: strawberry.ID) -> RecomputeJob:
        return await _job(info, str(job_id))


@strawberry.input(description="申诉: object to a unit's preliminary results while the window is open")
class ObjectionCreateInput:
    scheme_id: str
    period: str
    unit_id: str
    reason: str = strawberry.field(description="1..2000 characters")
    codes: list[str] | None = strawberry.field(default=None, description="indicator codes concerned")


@strawberry.type
class ObjectionPayload:
    objection: Objection | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ResultsStatePayload:
    state: ResultsState | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RecomputeJobPayload:
    job: RecomputeJob | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _objection(info: Info[Context, None], op: Op, method: str, params: dict[str, Any]) -> Objection:
    return mk(Objection, await call(info, op, "scoring", method, params))


async def _state(info: Info[Context, None], method: str, params: dict[str, Any]) -> ResultsState:
    return mk(ResultsState, await _office(info, method, params))


async def _start(info: Info[Context, None], scheme_id: str, period: str) -> RecomputeJob:
    d = await _office(info, "recompute_start", {"scheme_id": scheme_id, "period": period})
    return mk(RecomputeJob, d)


@strawberry.type
class ResultsMutation:
    @strawberry.mutation(description="全量重算: recompute a scheme's period in the background (考核办)")
    async def recompute_start(
        self, info: Info[Context, None], scheme_id: str, period: str
    ) -> RecomputeJobPayload:
        return await payload(RecomputeJobPayload, "job", _start(info, scheme_id, period))

    @strawberry.mutation(description="开启申诉期: objections accepted until a future time (考核办)")
    async def objection_window_open(
        self, info: Info[Context, None], scheme_id: str, period: str, until: datetime
    ) -> ResultsStatePayload:
        params = {"scheme_id": scheme_id, "period": period, "until": until.isoformat()}
        return await payload(ResultsStatePayload, "state", _state(info, "objection_window_open", params))

    @strawberry.mutation(description="提出申诉 for a unit of your subtree while the window is open")
    async def objection_create(
        self, info: Info[Context, None], input: ObjectionCreateInput
    ) -> ObjectionPayload:
        params: dict[str, Any] = {
            "scheme_id": input.scheme_id,
            "period": input.period,
            "unit_id": input.unit_id,
            "reason": input.reason,
        }
        if input.codes:
            params["codes"] = capped(info, input.codes, "codes")
        return await payload(
            ObjectionPayload, "objection", _objection(info, Op.objection_write, "objection_create", params)
        )

    @strawberry.mutation(description="答复申诉: upheld or rejected, with an answer (考核办)")
    async def objection_answer(
        self, info: Info[Context, None], objection_id: str, answer: str, decision: ObjectionDecision
    ) -> ObjectionPayload:
        params = {"objection_id": objection_id, "answer": answer, "decision": decision.value}
        return await payload(
            ObjectionPayload, "objection", _objection(info, Op.results_manage, "objection_answer", params)
        )

    @strawberry.mutation(description="发布结果: freeze the period's results as a snapshot (考核办)")
    async def results_publish(
        self, info: Info[Context, None], scheme_id: str, period: str, force_close_window: bool = False
    ) -> ResultsStatePayload:
        params = {"scheme_id": scheme_id, "period": period, "force_close_window": force_close_window}
        return await payload(ResultsStatePayload, "state", _state(info, "results_publish", params))
