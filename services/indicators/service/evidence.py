"""Evidence verification (佐证材料核验): what is served is what was verified.

Confirm reads back the one object version the upload created, checks its size, type and SHA-256 against
the declaration, and pins that version id; downloads and re-checks name that version only. A later PUT to
the same key (the upload URL refuses it anyway, see `EvidenceStore.presign_upload`) makes a new version
that nothing reads.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.db import Database
from kaohe.errors import Conflict, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import Evidence
from services.indicators.repository import evidence as repo
from services.indicators.repository import targets
from services.indicators.schemas import EvidencePublic, EvidenceRequest


def pub(e: Evidence) -> EvidencePublic:
    return EvidencePublic.model_validate(e, from_attributes=True)


async def set_fields(rt: Runtime, ids: list[str], **values: Any) -> None:
    """Record a verification outcome in its own transaction: it stands whatever the caller does next."""
    async with _db(rt).uow() as s:
        await repo.set_fields(s, ids, **values)


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
        await set_fields(rt, [e.id], version_id=info.version_id)
    return True


async def reverify(rt: Runtime, evidence: list[Evidence]) -> None:
    """Re-hash stored bytes (the digest check runs always, object lock or not); changed ones → tampered."""
    bad = [e for e in evidence if e.status == "verified" and not await intact(rt, e)]
    if bad:
        await set_fields(rt, [e.id for e in bad], status="tampered")
        for e in bad:
            e.status = "tampered"
        raise ValidationFailed(
            f"evidence {bad[0].filename} no longer matches its SHA-256: the stored file was changed",
            field="evidence",
            code=IndicatorsErrorCode.EVIDENCE_DIGEST_MISMATCH,
        )


async def uploaded(rt: Runtime, ev: Evidence) -> str | None:
    """The uploaded object's version id if it is exactly the declared file; else it is deleted, and raises."""
    assert rt.store is not None
    info = await rt.store.stat(ev.key)
    if info is None:
        raise ValidationFailed(
            "the file has not been uploaded yet",
            field="evidence_id",
            code=IndicatorsErrorCode.EVIDENCE_MISSING,
        )
    wrong: tuple[str, IndicatorsErrorCode, str] | None = None
    if info.size != ev.size:
        wrong = (
            "size",
            IndicatorsErrorCode.EVIDENCE_SIZE_MISMATCH,
            f"uploaded {info.size} bytes, declared {ev.size}",
        )
    elif info.content_type.split(";")[0].strip() != ev.content_type:
        wrong = (
            "content_type",
            IndicatorsErrorCode.EVIDENCE_TYPE_MISMATCH,
            f"uploaded as {info.content_type}",
        )
    elif not await rt.store.verify(ev.key, ev.sha256, info.version_id):
        wrong = (
            "sha256",
            IndicatorsErrorCode.EVIDENCE_DIGEST_MISMATCH,
            "uploaded bytes do not match the declared SHA-256",
        )
    if wrong is None:
        return info.version_id
    await rt.store.remove_version(ev.key, info.version_id)  # refused bytes do not stay in the bucket
    await set_fields(rt, [ev.id], status="mismatch")
    field, code, message = wrong
    raise ValidationFailed(message, field=field, code=code)


async def declare(s: AsyncSession, *, caller: Caller, p: EvidenceRequest) -> Evidence:
    """A pending evidence row for a file about to be uploaded to a submission the caller may write."""
    sub, path = await repo.submission_of(s, caller, p.submission_id)
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
    return ev


async def readable(s: AsyncSession, *, caller: Caller, evidence_id: str) -> tuple[Evidence, targets.Target]:
    """The evidence and its submission's target; out of scope looks exactly like missing."""
    ev, sub, path = await repo.readable(s, caller, evidence_id)
    return ev, await targets.resolve_existing(s, sub, path)


def _db(rt: Runtime) -> Database:
    assert rt.db is not None
    return rt.db
