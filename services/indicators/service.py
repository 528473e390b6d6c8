"""Indicators service: units, indicators, submissions with evidence, review. RPC methods and wiring."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.events import new_event
from kaohe.identity import Caller, Role
from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, IndicatorsSettings, InfraSettings
from services.indicators.models import Evidence, Indicator, Submission, Unit
from services.indicators.schemas import (
    EvidencePublic,
    EvidenceRef,
    EvidenceRequest,
    EvidenceUpload,
    Ids,
    IndicatorCreate,
    IndicatorPublic,
    SubmissionCreate,
    SubmissionPublic,
    SubmissionReview,
    UnitCreate,
    UnitPublic,
)

SERVICE = "indicators"
WRITERS = (Role.assessment_office,)
REPORTERS = (Role.reporter, Role.department, Role.integration, Role.assessment_office)
REVIEWERS = (Role.department, Role.assessment_office)
READERS = tuple(Role)


def _pub(model: type, row: Any) -> Any:
    return model.model_validate(row, from_attributes=True)


async def _unit_in_scope(s: AsyncSession, caller: Caller, unit_id: str, field: str = "unit_id") -> Unit:
    unit = await s.get(Unit, unit_id)
    if unit is None or not caller.covers(unit.path):
        # Out-of-scope units are reported as missing: existence itself is not disclosed.
        raise NotFound(f"unit {unit_id} not found", field=field)
    return unit


def setup(settings: ComponentSettings, infra: InfraSettings, app: FastAPI | None = None) -> Runtime:
    assert isinstance(settings, IndicatorsSettings)
    rt = Runtime(settings, infra, uses_s3=True)
    rpc = rt.rpc_server()

    def db():  # type: ignore[no-untyped-def]
        assert rt.db is not None
        return rt.db.uow()

    @rpc.method("unit_create", UnitCreate)
    async def unit_create(caller: Caller, p: UnitCreate) -> UnitPublic:
        caller.require(*WRITERS, Role.system)
        async with db() as s:
            if await s.get(Unit, p.id) is not None:
                raise Conflict(f"unit {p.id} already exists", field="id", code="unit_exists")
            if p.parent_id:
                parent = await _unit_in_scope(s, caller, p.parent_id, "parent_id")
                path = f"{parent.path}{p.id}/"
            else:
                if caller.org_path != "/":
                    raise ValidationFailed(
                        "only a root-scoped caller may create a top-level unit", field="parent_id"
                    )
                path = f"/{p.id}/"
            unit = Unit(
                id=p.id,
                name=p.name,
                kind=p.kind,
                parent_id=p.parent_id,
                path=path,
                valid_from=p.valid_from or date.today(),
            )
            s.add(unit)
            await rt.outbox.emit(
                s,
                new_event(
                    SERVICE,
                    "unit",
                    "changed",
                    subject=unit.id,
                    trace_id=caller.trace_id,
                    data={
                        "unit_id": unit.id,
                        "name": unit.name,
                        "kind": unit.kind,
                        "parent_id": unit.parent_id,
                        "path": path,
                        "change": "created",
                    },
                ),
            )
            await s.flush()
            return _pub(UnitPublic, unit)

    @rpc.method("units_by_ids", Ids)
    async def units_by_ids(caller: Caller, p: Ids) -> list[UnitPublic | None]:
        async with db() as s:
            rows = (await s.exec(select(Unit).where(col(Unit.id).in_(p.ids)))).all()
        by_id = {u.id: u for u in rows if caller.covers(u.path)}
        return [_pub(UnitPublic, by_id[i]) if i in by_id else None for i in p.ids]

    @rpc.method("indicator_create", IndicatorCreate)
    async def indicator_create(caller: Caller, p: IndicatorCreate) -> IndicatorPublic:
        caller.require(*WRITERS, Role.system)
        async with db() as s:
            if (await s.exec(select(Indicator).where(Indicator.code == p.code))).first() is not None:
                raise Conflict(f"indicator {p.code} already exists", field="code", code="indicator_exists")
            ind = Indicator(
                id=uuid.uuid4().hex,
                code=p.code,
                name=p.name,
                unit_of_measure=p.unit_of_measure,
                direction=p.direction,
                weight=p.weight,
                target=p.target,
                standard=p.standard.model_dump(mode="json"),
            )
            s.add(ind)
            await s.flush()
            return _pub(IndicatorPublic, ind)

    @rpc.method("submission_create", SubmissionCreate)
    async def submission_create(caller: Caller, p: SubmissionCreate) -> SubmissionPublic:
        caller.require(*REPORTERS)
        async with db() as s:
            await _unit_in_scope(s, caller, p.unit_id)
            ind = (await s.exec(select(Indicator).where(Indicator.code == p.indicator_code))).first()
            if ind is None:
                raise NotFound(f"indicator {p.indicator_code} not found", field="indicator_code")
            dup = (
                await s.exec(
                    select(Submission).where(
                        Submission.unit_id == p.unit_id,
                        Submission.indicator_id == ind.id,
                        Submission.period == p.period,
                    )
                )
            ).first()
            if dup is not None:
                raise Conflict(
                    "a submission for this unit, indicator and period exists",
                    field="period",
                    code="submission_exists",
                )
            sub = Submission(
                id=uuid.uuid4().hex,
                unit_id=p.unit_id,
                indicator_id=ind.id,
                period=p.period,
                value=p.value,
                narrative=p.narrative,
                submitted_by=caller.user_id,
            )
            s.add(sub)
            await rt.outbox.emit(
                s,
                new_event(
                    SERVICE,
                    "submission",
                    "submitted",
                    subject=sub.id,
                    trace_id=caller.trace_id,
                    data={
                        "submission_id": sub.id,
                        "unit_id": sub.unit_id,
                        "indicator_code": ind.code,
                        "period": sub.period,
                        "value": sub.value,
                    },
                ),
            )
            await s.flush()
            return _pub(SubmissionPublic, sub)

    @rpc.method("evidence_upload_url", EvidenceRequest)
    async def evidence_upload_url(caller: Caller, p: EvidenceRequest) -> EvidenceUpload:
        caller.require(*REPORTERS)
        assert rt.store is not None
        if p.size > settings.evidence_max_bytes:
            raise ValidationFailed(
                f"file larger than {settings.evidence_max_bytes} bytes",
                field="size",
                code="evidence_too_large",
            )
        async with db() as s:
            sub = await s.get(Submission, p.submission_id)
            if sub is None:
                raise NotFound("submission not found", field="submission_id")
            await _unit_in_scope(s, caller, sub.unit_id, "submission_id")
            if sub.status == "approved":
                raise Conflict(
                    "approved submissions are locked", field="submission_id", code="submission_locked"
                )
            ev = Evidence(
                id=uuid.uuid4().hex,
                submission_id=sub.id,
                unit_id=sub.unit_id,
                filename=p.filename,
                content_type=p.content_type,
                size=p.size,
                sha256=p.sha256,
                key="",
            )
            ev.key = f"evidence/{sub.unit_id}/{sub.period}/{ev.id}"
            s.add(ev)
        return EvidenceUpload(
            evidence_id=ev.id,
            upload_url=rt.store.presign_put(ev.key, ttl_s=settings.presign_ttl_s),
            expires_in_s=settings.presign_ttl_s,
        )

    @rpc.method("evidence_confirm", EvidenceRef)
    async def evidence_confirm(caller: Caller, p: EvidenceRef) -> EvidencePublic:
        caller.require(*REPORTERS)
        assert rt.store is not None
        async with db() as s:
            ev = await s.get(Evidence, p.evidence_id)
            if ev is None:
                raise NotFound("evidence not found", field="evidence_id")
            await _unit_in_scope(s, caller, ev.unit_id, "evidence_id")
        size = await rt.store.size_of(ev.key)
        if size is None:
            raise ValidationFailed(
                "the file has not been uploaded yet", field="evidence_id", code="evidence_missing"
            )
        ok = size == ev.size and await rt.store.verify(ev.key, ev.sha256)
        async with db() as s:
            await s.exec(
                update(Evidence)
                .where(col(Evidence.id) == ev.id)  # type: ignore[call-overload]
                .values(status="verified" if ok else "mismatch")
            )
        if not ok:
            raise ValidationFailed(
                "uploaded bytes do not match the declared SHA-256 and size",
                field="sha256",
                code="evidence_digest_mismatch",
            )
        ev.status = "verified"
        return _pub(EvidencePublic, ev)

    @rpc.method("submission_approve", SubmissionReview)
    async def submission_approve(caller: Caller, p: SubmissionReview) -> SubmissionPublic:
        caller.require(*REVIEWERS)
        assert rt.store is not None
        async with db() as s:
            sub = await s.get(Submission, p.submission_id)
            if sub is None:
                raise NotFound("submission not found", field="submission_id")
            unit = await _unit_in_scope(s, caller, sub.unit_id, "submission_id")
            evidence = (await s.exec(select(Evidence).where(Evidence.submission_id == sub.id))).all()
            if any(e.status != "verified" for e in evidence):
                raise ValidationFailed(
                    "all evidence must be verified before approval",
                    field="evidence",
                    code="evidence_unverified",
                )
            now = datetime.now(UTC)
            # Compare-and-set on status and version: of two concurrent reviews exactly one wins.
            cond = [col(Submission.id) == sub.id, col(Submission.status) == "submitted"]
            if p.expected_version is not None:
                cond.append(col(Submission.version) == p.expected_version)
            res = await s.exec(
                update(Submission)
                .where(*cond)  # type: ignore[call-overload]
                .values(
                    status="approved",
                    reviewed_by=caller.user_id,
                    reviewed_at=now,
                    version=Submission.version + 1,
                )
                .returning(Submission.version)
            )
            row = res.first()
            if row is None:
                raise Conflict(
                    "the submission was reviewed or changed by someone else",
                    field="submission_id",
                    code="review_conflict",
                )
            ind = await s.get(Indicator, sub.indicator_id)
            assert ind is not None
            await s.exec(
                update(Evidence)
                .where(col(Evidence.submission_id) == sub.id)  # type: ignore[call-overload]
                .values(locked=True)
            )
            sub.status, sub.reviewed_by, sub.reviewed_at, sub.version = (
                "approved",
                caller.user_id,
                now,
                row[0],
            )
            await rt.outbox.emit(
                s,
                new_event(
                    SERVICE,
                    "submission",
                    "approved",
                    subject=sub.id,
                    trace_id=caller.trace_id,
                    data={
                        "submission_id": sub.id,
                        "unit_id": sub.unit_id,
                        "unit_path": unit.path,
                        "unit_name": unit.name,
                        "period": sub.period,
                        "value": sub.value,
                        "indicator": {
                            "id": ind.id,
                            "code": ind.code,
                            "name": ind.name,
                            "weight": ind.weight,
                            "target": ind.target,
                            "direction": ind.direction,
                            "standard": ind.standard,
                        },
                        "evidence": [{"id": e.id, "sha256": e.sha256} for e in evidence],
                        "approved_by": caller.user_id,
                        "approved_at": now.isoformat(),
                    },
                ),
            )
        for e in evidence:
            await rt.store.lock(e.key)
        return _pub(SubmissionPublic, sub)

    @rpc.method("evidence_by_units", Ids)
    async def evidence_by_units(caller: Caller, p: Ids) -> dict[str, list[EvidencePublic]]:
        assert rt.store is not None
        async with db() as s:
            units = (await s.exec(select(Unit).where(col(Unit.id).in_(p.ids)))).all()
            allowed = [u.id for u in units if caller.covers(u.path)]
            rows = (
                await s.exec(
                    select(Evidence)
                    .where(col(Evidence.unit_id).in_(allowed))
                    .order_by(col(Evidence.created_at))
                )
            ).all()
        out: dict[str, list[EvidencePublic]] = {i: [] for i in allowed}
        for e in rows:
            pub = _pub(EvidencePublic, e)
            if e.status == "verified":  # presigned only after the scope check above
                pub.download_url = rt.store.presign_get(
                    e.key, ttl_s=settings.presign_ttl_s, filename=e.filename
                )
            out[e.unit_id].append(pub)
        return out

    return rt
