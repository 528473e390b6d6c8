"""Evidence RPC (佐证材料): presigned upload, SHA-256 verification, pinned versions, presigned download.

What is served is what was verified: confirm reads back the one object version the upload created, checks
its size, type and SHA-256 against the declaration, and pins that version id; downloads and re-checks name
that version only. A later PUT to the same key (the upload URL refuses it anyway, see
`EvidenceStore.presign_upload`) makes a new version that nothing reads.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain import access
from services.indicators.domain.access import REPORTERS, REVIEWERS
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import Evidence, Submission, Unit
from services.indicators.repository import targets
from services.indicators.repository.units import unit_path
from services.indicators.rpc.common import uow
from services.indicators.schemas import EvidencePublic, EvidenceRef, EvidenceRequest, EvidenceUpload, Ids
from services.indicators.settings import IndicatorsSettings


def pub(e: Evidence) -> EvidencePublic:
    return EvidencePublic.model_validate(e, from_attributes=True)


async def _set(rt: Runtime, ids: list[str], **values: Any) -> None:
    async with uow(rt) as s:
        await s.exec(update(Evidence).where(col(Evidence.id).in_(ids)).values(**values))  # type: ignore[call-overload]


async def intact(rt: Runtime, e: Evidence) -> bool:
    """True when the evidence's bytes still hash to its SHA-256; pins the version if none is pinned yet.

    Evidence confirmed before versions were pinned (or on a store without versioning) has no version id:
    the current version is hashed, and pinned when it matches."""
    assert rt.store is not None
    if e.version_id is not None:
        return await rt.store.verify(e.key, e.sha256, e.version_id)
    info = await rt.store.stat(e.key)
    if info is None or not await rt.store.verify(e.key, e.sha256, info.version_id):
        return False
    if info.version_id is not None:
        e.version_id = info.version_id
        await _set(rt, [e.id], version_id=info.version_id)
    return True


async def reverify(rt: Runtime, evidence: list[Evidence]) -> None:
    """Re-hash stored bytes (the digest check runs always, object lock or not); changed ones → tampered."""
    bad = [e for e in evidence if e.status == "verified" and not await intact(rt, e)]
    if bad:
        await _set(rt, [e.id for e in bad], status="tampered")
        for e in bad:
            e.status = "tampered"
        raise ValidationFailed(
            f"evidence {bad[0].filename} no longer matches its SHA-256: the stored file was changed",
            field="evidence",
            code=IndicatorsErrorCode.EVIDENCE_DIGEST_MISMATCH,
        )


async def _uploaded(rt: Runtime, ev: Evidence) -> str | None:
    """The uploaded object's version id if it is exactly the declared file; else it is deleted, and raises."""
    assert rt.store is not None
    info = await rt.store.stat(ev.key)
    if info is None:
        raise ValidationFailed(
            "the file has not been uploaded yet",
            field="evidence_id",
            code=IndicatorsErrorCode.EVIDENCE_MISSING,
        )
    wrong: tuple[str, str, str] | None = None
    if info.size != ev.size:
        wrong = ("size", "evidence_size_mismatch", f"uploaded {info.size} bytes, declared {ev.size}")
    elif info.content_type.split(";")[0].strip() != ev.content_type:
        wrong = ("content_type", "evidence_type_mismatch", f"uploaded as {info.content_type}")
    elif not await rt.store.verify(ev.key, ev.sha256, info.version_id):
        wrong = ("sha256", "evidence_digest_mismatch", "uploaded bytes do not match the declared SHA-256")
    if wrong is None:
        return info.version_id
    await rt.store.remove_version(ev.key, info.version_id)  # refused bytes do not stay in the bucket
    await _set(rt, [ev.id], status="mismatch")
    field, code, message = wrong
    raise ValidationFailed(message, field=field, code=code)


def register(rt: Runtime, settings: IndicatorsSettings) -> None:
    rpc = rt.rpc_server()

    async def load(caller: Caller, evidence_id: str) -> tuple[Evidence, targets.Target]:
        """The evidence and its submission's target; out of scope looks exactly like missing."""
        async with uow(rt) as s:
            ev = await s.get(Evidence, evidence_id)
            path = None if ev is None else await unit_path(s, ev.unit_id)
            sub = None if ev is None else await s.get(Submission, ev.submission_id)
            if ev is None or sub is None or path is None or not caller.covers(path):
                raise NotFound("evidence not found", field="evidence_id")
            return ev, await targets.resolve_existing(s, sub, path)

    @rpc.method("evidence_upload_url", EvidenceRequest)
    async def evidence_upload_url(caller: Caller, p: EvidenceRequest) -> EvidenceUpload:
        caller.require(*REPORTERS)
        assert rt.store is not None
        if p.size > settings.evidence_max_bytes:
            raise ValidationFailed(
                f"file larger than {settings.evidence_max_bytes} bytes",
                field="size",
                code=IndicatorsErrorCode.EVIDENCE_TOO_LARGE,
            )
        async with uow(rt) as s:
            sub = await s.get(Submission, p.submission_id)
            path = None if sub is None else await unit_path(s, sub.unit_id)
            if sub is None or path is None or not caller.covers(path):
                raise NotFound("submission not found", field="submission_id")
            (await targets.resolve_existing(s, sub, path)).require_write(caller, "submission_id")
            if sub.status in ("approved", "reviewed"):
                raise Conflict(
                    f"{sub.status} submissions are locked",
                    field="submission_id",
                    code=IndicatorsErrorCode.SUBMISSION_LOCKED,
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
        put = rt.store.presign_upload(
            ev.key, size=p.size, content_type=p.content_type, sha256=p.sha256, ttl_s=settings.presign_ttl_s
        )
        return EvidenceUpload(
            evidence_id=ev.id,
            upload_url=put.url,
            upload_headers=put.headers,
            expires_in_s=settings.presign_ttl_s,
        )

    @rpc.method("evidence_confirm", EvidenceRef)
    async def evidence_confirm(caller: Caller, p: EvidenceRef) -> EvidencePublic:
        caller.require(*REPORTERS)
        ev, t = await load(caller, p.evidence_id)
        t.require_write(caller, "evidence_id")
        if ev.status == "verified" and ev.version_id is not None:
            return pub(ev)  # confirmed already: the pinned version stays, nothing is read again
        if ev.locked:
            raise Conflict(
                "approved evidence is immutable",
                field="evidence_id",
                code=IndicatorsErrorCode.SUBMISSION_LOCKED,
            )
        version = await _uploaded(rt, ev)
        await _set(rt, [ev.id], status="verified", version_id=version)
        ev.status, ev.version_id = "verified", version
        return pub(ev)

    @rpc.method("evidence_verify", EvidenceRef)
    async def evidence_verify(caller: Caller, p: EvidenceRef) -> EvidencePublic:
        caller.require(*REVIEWERS)
        ev, t = await load(caller, p.evidence_id)
        access.require_review(caller, t.code, field="evidence_id")
        if ev.status in ("verified", "tampered"):
            ev.status = "verified"  # a tampered object that was restored verifies again
            try:
                await reverify(rt, [ev])
            except ValidationFailed:
                return pub(ev)
            await _set(rt, [ev.id], status="verified")
        return pub(ev)

    def url(ev: Evidence) -> str:
        """A download of the pinned version, as an attachment with the declared type.

        Serving the pinned version is the digest guarantee: an S3 version's bytes never change (a new PUT
        makes a new version; the pinned one can only be deleted, and object lock keeps approved ones), so
        the version whose SHA-256 confirm verified is the file served, without re-hashing per download."""
        assert rt.store is not None
        return rt.store.presign_get(
            ev.key,
            ttl_s=settings.presign_ttl_s,
            filename=ev.filename,
            content_type=ev.content_type,
            version_id=ev.version_id,
        )

    @rpc.method("evidence_download_url", EvidenceRef)
    async def evidence_download_url(caller: Caller, p: EvidenceRef) -> EvidencePublic:
        ev, _ = await load(caller, p.evidence_id)  # the scope check comes before any URL is signed
        if ev.status == "verified" and ev.version_id is None:
            try:
                await reverify(rt, [ev])  # nothing pinned yet: hashed now, and pinned when it matches
            except ValidationFailed:
                pass  # now tampered: refused below like any unverified evidence
        if ev.status != "verified":
            raise ValidationFailed(
                f"evidence is {ev.status}, not verified",
                field="evidence_id",
                code=IndicatorsErrorCode.EVIDENCE_UNVERIFIED,
            )
        out = pub(ev)
        out.download_url = url(ev)
        return out

    @rpc.method("evidence_by_units", Ids)
    async def evidence_by_units(caller: Caller, p: Ids) -> dict[str, list[Any]]:
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
            if e.status == "verified" and e.version_id is not None:  # after the scope check above
                item.download_url = url(e)
            out[e.unit_id].append(item)
        return out
