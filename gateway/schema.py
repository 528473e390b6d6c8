"""The GraphQL schema: units joined across services, and the walking skeleton's mutations."""

from __future__ import annotations

import functools
import typing
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from kaohe.errors import KaoheError


@strawberry.type(description="A field-level error: machine code, the input field, a human message")
class UserError:
    code: str
    field: str | None
    message: str

    @staticmethod
    def of(e: KaoheError) -> UserError:
        return UserError(code=e.code, field=e.field, message=e.message)


@strawberry.type(description="Score of a unit in a period (单位得分)")
class Score:
    period: str
    total: float
    leaves: int
    version: int
    updated_at: datetime


@strawberry.type(description="Evidence file (佐证材料); downloadUrl is a short-lived presigned URL")
class Evidence:
    id: strawberry.ID
    filename: str
    content_type: str
    size: int
    sha256: str
    status: str
    locked: bool
    download_url: str | None


@strawberry.type(description="A score change seen by supervision (考核线索)")
class SupervisionSignal:
    period: str
    total: float
    received_at: datetime


@strawberry.type(description="An entry of the results record (实绩档案)")
class ResultRecord:
    period: str
    total: float
    score_version: int
    recorded_at: datetime


@functools.cache
def _fields(cls: Any) -> dict[str, Any]:
    return {k: v for k, v in typing.get_type_hints(cls).items() if not k.startswith("_")}


def _convert(tp: Any, v: Any) -> Any:
    if isinstance(v, str):
        if tp in (datetime, datetime | None):
            return datetime.fromisoformat(v)
        if tp in (date, date | None):
            return date.fromisoformat(v)
    return v


def _mk(cls: Any, d: dict[str, Any]) -> Any:
    """Build a GraphQL object from an RPC result dict (JSON dates back to date objects)."""
    fields = _fields(cls)
    return cls(**{k: _convert(fields[k], v) for k, v in d.items() if k in fields})


@strawberry.type(description="An assessed unit (被考核单位) in the hierarchy")
class Unit:
    id: strawberry.ID
    name: str
    kind: str
    parent_id: str | None
    path: str
    valid_from: date

    @strawberry.field(description="Score for a period; the latest period when none is given")
    async def score(self, info: Info[Context, None], period: str | None = None) -> Score | None:
        d = await info.context.loaders.score_by_unit.load((str(self.id), period))
        return _mk(Score, d) if d else None

    @strawberry.field
    async def evidence(self, info: Info[Context, None]) -> list[Evidence]:
        rows = await info.context.loaders.evidence_by_unit.load(str(self.id))
        return [_mk(Evidence, r) for r in rows]

    @strawberry.field
    async def supervision_signals(self, info: Info[Context, None]) -> list[SupervisionSignal]:
        rows = await info.context.loaders.signals_by_unit.load(str(self.id))
        return [_mk(SupervisionSignal, r) for r in rows]

    @strawberry.field
    async def result_records(self, info: Info[Context, None]) -> list[ResultRecord]:
        rows = await info.context.loaders.records_by_unit.load(str(self.id))
        return [_mk(ResultRecord, r) for r in rows]


def _unit(d: dict[str, Any] | None) -> Unit | None:
    return _mk(Unit, d) if d else None


@strawberry.type
class Query:
    @strawberry.field(description="One unit, if it lies in your subtree")
    async def unit(self, info: Info[Context, None], id: strawberry.ID) -> Unit | None:
        return _unit(await info.context.loaders.unit_by_id.load(str(id)))

    @strawberry.field(description="Several units by id (at most 100), null for those outside your subtree")
    async def units(self, info: Info[Context, None], ids: list[strawberry.ID]) -> list[Unit | None]:
        if len(ids) > 100:
            raise KaoheError("at most 100 ids", field="ids", code="too_many")
        return [_unit(d) for d in await info.context.loaders.unit_by_id.load_many([str(i) for i in ids])]


@strawberry.input
class UnitCreateInput:
    id: str
    name: str
    kind: str
    parent_id: str | None = None


@strawberry.input
class IndicatorCreateInput:
    code: str
    name: str
    weight: float
    target: float | None = None
    unit_of_measure: str = ""
    direction: str = "higher_better"
    standard: JSON = strawberry.field(default_factory=lambda: {"type": "completion_ratio"})


@strawberry.input
class SubmissionCreateInput:
    unit_id: str
    indicator_code: str
    period: str
    value: float
    narrative: str = ""


@strawberry.input
class EvidenceUploadInput:
    submission_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


@strawberry.type
class UnitPayload:
    unit: Unit | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class IndicatorPayload:
    indicator: JSON | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SubmissionPayload:
    submission: JSON | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EvidenceUploadPayload:
    evidence_id: str | None = None
    upload_url: str | None = None
    expires_in_s: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EvidencePayload:
    evidence: Evidence | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _call(info: Info[Context, None], service: str, method: str, params: dict[str, Any]) -> Any:
    ctx = info.context
    return await ctx.client.call(service, method, params, ctx.caller)


def _inp(obj: Any) -> dict[str, Any]:
    return dict(vars(obj))


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def unit_create(self, info: Info[Context, None], input: UnitCreateInput) -> UnitPayload:
        try:
            return UnitPayload(unit=_unit(await _call(info, "indicators", "unit_create", _inp(input))))
        except KaoheError as e:
            return UnitPayload(errors=[UserError.of(e)])

    @strawberry.mutation
    async def indicator_create(
        self, info: Info[Context, None], input: IndicatorCreateInput
    ) -> IndicatorPayload:
        try:
            return IndicatorPayload(
                indicator=await _call(info, "indicators", "indicator_create", _inp(input))
            )
        except KaoheError as e:
            return IndicatorPayload(errors=[UserError.of(e)])

    @strawberry.mutation
    async def submission_create(
        self, info: Info[Context, None], input: SubmissionCreateInput
    ) -> SubmissionPayload:
        try:
            return SubmissionPayload(
                submission=await _call(info, "indicators", "submission_create", _inp(input))
            )
        except KaoheError as e:
            return SubmissionPayload(errors=[UserError.of(e)])

    @strawberry.mutation(description="Returns a presigned URL to PUT the file to; confirm it afterwards")
    async def evidence_upload_request(
        self, info: Info[Context, None], input: EvidenceUploadInput
    ) -> EvidenceUploadPayload:
        try:
            r = await _call(info, "indicators", "evidence_upload_url", _inp(input))
            return EvidenceUploadPayload(
                evidence_id=r["evidence_id"], upload_url=r["upload_url"], expires_in_s=r["expires_in_s"]
            )
        except KaoheError as e:
            return EvidenceUploadPayload(errors=[UserError.of(e)])

    @strawberry.mutation(description="Verifies the uploaded bytes' SHA-256 and size")
    async def evidence_confirm(self, info: Info[Context, None], evidence_id: str) -> EvidencePayload:
        try:
            r = await _call(info, "indicators", "evidence_confirm", {"evidence_id": evidence_id})
            return EvidencePayload(evidence=_mk(Evidence, r))
        except KaoheError as e:
            return EvidencePayload(errors=[UserError.of(e)])

    @strawberry.mutation
    async def submission_approve(
        self, info: Info[Context, None], submission_id: str, expected_version: int | None = None
    ) -> SubmissionPayload:
        try:
            r = await _call(
                info,
                "indicators",
                "submission_approve",
                {"submission_id": submission_id, "expected_version": expected_version},
            )
            return SubmissionPayload(submission=r)
        except KaoheError as e:
            return SubmissionPayload(errors=[UserError.of(e)])


schema_types = (Query, Mutation)
