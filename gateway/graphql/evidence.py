"""Evidence (佐证材料): presigned upload, confirmation by SHA-256, short-lived download URLs."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import UserError, call, inp, mk, payload
from gateway.policy import Op
from kaohe.errors import KaoheError


@strawberry.type(description="佐证材料: an evidence file; downloadUrl is a short-lived presigned URL")
class Evidence:
    id: strawberry.ID
    submission_id: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    status: str = strawberry.field(description="pending | verified | mismatch | tampered")
    locked: bool
    download_url: str | None


@strawberry.input(description="Declare a file before uploading it (size and SHA-256 are checked on confirm)")
class EvidenceUploadInput:
    submission_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


@strawberry.type
class EvidenceUploadPayload:
    evidence_id: str | None = None
    upload_url: str | None = None
    upload_headers: JSON | None = strawberry.field(
        default=None,
        description="headers the PUT must send as given (signed into the URL: Content-Type, the SHA-256"
        " checksum, If-None-Match); the body must be exactly the declared size. The URL works once.",
    )
    expires_in_s: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EvidencePayload:
    evidence: Evidence | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _evidence(info: Info[Context, None], op: Op, method: str, evidence_id: str) -> Evidence:
    return mk(Evidence, await call(info, op, "indicators", method, {"evidence_id": evidence_id}))


@strawberry.type
class EvidenceQuery:
    @strawberry.field(description="One evidence file with a fresh download URL (after a scope check)")
    async def evidence_download(self, info: Info[Context, None], id: strawberry.ID) -> Evidence:
        return await _evidence(info, Op.evidence_read, "evidence_download_url", str(id))


@strawberry.type
class EvidenceMutation:
    @strawberry.mutation(
        description="Returns a presigned URL to PUT the file to (with uploadHeaders); confirm it afterwards"
    )
    async def evidence_upload_request(
        self, info: Info[Context, None], input: EvidenceUploadInput
    ) -> EvidenceUploadPayload:
        try:
            r = await call(info, Op.evidence_write, "indicators", "evidence_upload_url", inp(input))
            return EvidenceUploadPayload(
                evidence_id=r["evidence_id"],
                upload_url=r["upload_url"],
                upload_headers=r.get("upload_headers") or {},
                expires_in_s=r["expires_in_s"],
            )
        except KaoheError as e:
            return EvidenceUploadPayload(errors=[UserError.of(e)])

    @strawberry.mutation(description="Verifies the uploaded bytes' SHA-256 and size")
    async def evidence_confirm(self, info: Info[Context, None], evidence_id: str) -> EvidencePayload:
        return await payload(
            EvidencePayload, "evidence", _evidence(info, Op.evidence_write, "evidence_confirm", evidence_id)
        )

    @strawberry.mutation(description="Re-hashes the stored bytes (tamper check) — reviewers")
    async def evidence_verify(self, info: Info[Context, None], evidence_id: str) -> EvidencePayload:
        return await payload(
            EvidencePayload, "evidence", _evidence(info, Op.submission_review, "evidence_verify", evidence_id)
        )
