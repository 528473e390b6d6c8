"""Evidence RPC (佐证材料): presigned upload, SHA-256 verification, tamper checks, presigned download."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from kaohe.settings import IndicatorsSettings
from services.indicators.common import REPORTERS, REVIEWERS, require_unit, uow
from services.indicators.models import Evidence, Submission, Unit
from services.indicators.schemas import EvidencePublic, EvidenceRef, EvidenceRequest, EvidenceUpload, Ids


def pub(e: Evidence) -> EvidencePublic:
    return EvidencePublic.model_validate(e, from_attributes=True)


async def _set_status(rt: Runtime, ids: list[str], status: str) -> None:
    async with uow(rt) as s:
        await s.exec(update(Evidence).where(col(Evidence.id).in_(ids)).values(status=status))  # type: ignore[call-overload]


async def reverify(rt: Runtime, evidence: list[Evidence]) -> None:
    """Re-hash stored bytes (the digest check runs always, object lock or not); changed ones → tampered."""
    assert rt.store is not None
    bad = [e for e in evidence if e.status == "verified" and not await rt.store.verify(e.key, e.sha256)]
    if bad:
        await _set_status(rt, [e.id for e in bad], "tampered")
        for e in bad:
            e.status = "tampered"
        raise ValidationFailed(
            f"evidence {bad[0].filename} no longer matches its SHA-256: the stored file was changed",
            field="evidence",
            code="evidence_digest_mismatch",
        )


def register(rt: Runtime, settings: IndicatorsSettings) -> None:
    rpc = rt.rpc_server()

    async def load(caller: Caller, evidence_id: str) -> Evidence:
        async with uow(rt) as s:
            ev = await s.get(Evidence, evidence_id)
            if ev is None:
                raise NotFound("evidence not found", field="evidence_id")
            await require_unit(s, caller, ev.unit_id, "evidence_id")
        return ev

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
        async with uow(rt) as s:
            sub = await s.get(Submission, p.submission_id)
            if sub is None:
                raise NotFound("submission not found", field="submission_id")
            await require_unit(s, caller, sub.unit_id, "submission_id")
            if sub.status in ("approved", "reviewed"):
                raise Conflict(
                    f"{sub.status} submissions are locked", field="submission_id", code="submission_locked"
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
        ev = await load(caller, p.evidence_id)
        if ev.locked:
            raise Conflict("approved evidence is immutable", field="evidence_id", code="submission_locked")
        size = await rt.store.size_of(ev.key)
        if size is None:
            raise ValidationFailed(
                "the file has not been uploaded yet", field="evidence_id", code="evidence_missing"
            )
        ok = size == ev.size and await rt.store.verify(ev.key, ev.sha256)
        await _set_status(rt, [ev.id], "verified" if ok else "mismatch")
        if not ok:
            raise ValidationFailed(
                "uploaded bytes do not match the declared SHA-256 and size",
                field="sha256",
                code="evidence_digest_mismatch",
            )
        ev.status = "verified"
        return pub(ev)

    @rpc.method("evidence_verify", EvidenceRef)
    async def evidence_verify(caller: Caller, p: EvidenceRef) -> EvidencePublic:
        caller.require(*REVIEWERS)
        ev = await load(caller, p.evidence_id)
        if ev.status in ("verified", "tampered"):
            ev.status = "verified"  # a tampered object that was restored verifies again
            try:
                await reverify(rt, [ev])
            except ValidationFailed:
                return pub(ev)
            await _set_status(rt, [ev.id], "verified")
        return pub(ev)

    @rpc.method("evidence_download_url", EvidenceRef)
    async def evidence_download_url(caller: Caller, p: EvidenceRef) -> EvidencePublic:
        assert rt.store is not None
        ev = await load(caller, p.evidence_id)  # the scope check comes before any URL is signed
        if ev.status != "verified":
            raise ValidationFailed(
                f"evidence is {ev.status}, not verified", field="evidence_id", code="evidence_unverified"
            )
        out = pub(ev)
        out.download_url = rt.store.presign_get(ev.key, ttl_s=settings.presign_ttl_s, filename=ev.filename)
        return out

    @rpc.method("evidence_by_units", Ids)
    async def evidence_by_units(caller: Caller, p: Ids) -> dict[str, list[Any]]:
        assert rt.store is not None
        async with uow(rt) as s:
            units = (await s.exec(select(Unit).where(col(Unit.id).in_(p.ids)))).all()
            allowed = [u.id for u in units if caller.covers(u.path)]
            rows = (
                await s.exec(
                    select(Evidence)
                    .where(col(Evidence.unit_id).in_(allowed))
                    .order_by(col(Evidence.created_at))
                )
            ).all()
        out: dict[str, list[Any]] = {i: [] for i in allowed}
        for e in rows:
            item = pub(e)
            if e.status == "verified":  # presigned only after the scope check above
                item.download_url = rt.store.presign_get(
                    e.key, ttl_s=settings.presign_ttl_s, filename=e.filename
                )
            out[e.unit_id].append(item)
        return out
