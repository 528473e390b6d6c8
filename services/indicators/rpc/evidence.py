"""Evidence RPC (佐证材料): presigned upload, SHA-256 verification, pinned versions, presigned download.

The verification itself (re-hashing stored bytes, pinning versions) is service/evidence.py.

What is served is what was verified: confirm reads back the one object version the upload created, checks
its size, type and SHA-256 against the declaration, and pins that version id; downloads and re-checks name
that version only. A later PUT to the same key (the upload URL refuses it anyway, see
`EvidenceStore.presign_upload`) makes a new version that nothing reads.
"""

from __future__ import annotations

from typing import Any

from kaohe.errors import Conflict, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain import access
from services.indicators.domain.access import REPORTERS, REVIEWERS
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.models import Evidence
from services.indicators.repository import evidence as evidence_repo
from services.indicators.repository import targets
from services.indicators.rpc.common import uow
from services.indicators.schemas import EvidencePublic, EvidenceRef, EvidenceRequest, EvidenceUpload, Ids
from services.indicators.service import evidence as verification
from services.indicators.service.evidence import pub
from services.indicators.settings import IndicatorsSettings


def register(rt: Runtime, settings: IndicatorsSettings) -> None:
    rpc = rt.rpc_server()

    async def load(caller: Caller, evidence_id: str) -> tuple[Evidence, targets.Target]:
        async with uow(rt) as s:
            return await verification.readable(s, caller=caller, evidence_id=evidence_id)

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
            ev = await verification.declare(s, caller=caller, p=p)
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
        version = await verification.uploaded(rt, ev)
        await verification.set_fields(rt, [ev.id], status="verified", version_id=version)
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
                await verification.reverify(rt, [ev])
            except ValidationFailed:
                return pub(ev)
            await verification.set_fields(rt, [ev.id], status="verified")
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
                await verification.reverify(
                    rt, [ev]
                )  # nothing pinned yet: hashed now, and pinned when it matches
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
            allowed, rows = await evidence_repo.of_units(s, caller, p.ids)
        out: dict[str, list[Any]] = {i: [] for i in allowed}
        for e in rows:
            item = pub(e)
            if e.status == "verified" and e.version_id is not None:  # after the scope check above
                item.download_url = url(e)
            out[e.unit_id].append(item)
        return out
