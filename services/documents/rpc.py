"""Thin RPC handlers of the documents service: check the role → gather → unit of work → DocumentPublic."""

from __future__ import annotations

from typing import Any

from kaohe.contracts.documents import (
    BulletinIssue,
    DocumentRef,
    DocumentsQuery,
    LetterIssue,
    LetterTemplateRef,
    LetterTemplateSet,
    SlipIssue,
    SupervisionBulletinIssue,
)
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.documents.repository import documents as repo
from services.documents.service import gather
from services.documents.service.issue import Issuer, get, letter_template, letter_template_set


def register(rt: Runtime, issuer: Any) -> None:
    """The documents methods on the runtime's RPC server; `issuer()` is the started Issuer."""
    rpc = rt.rpc_server()

    def reader(caller: Caller) -> gather.Reader:
        assert rt.client is not None
        return gather.Reader(rt.client, caller, rt.settings.upstream_timeout_s)  # type: ignore[attr-defined]

    @rpc.method("bulletin_issue", BulletinIssue)
    async def bulletin_issue(caller: Caller, p: BulletinIssue) -> dict[str, Any]:
        iss: Issuer = issuer()
        return await iss.bulletin(reader(caller), p)

    @rpc.method("slip_issue", SlipIssue)
    async def slip_issue(caller: Caller, p: SlipIssue) -> dict[str, Any]:
        iss: Issuer = issuer()
        return await iss.slip(reader(caller), p)

    @rpc.method("supervision_bulletin_issue", SupervisionBulletinIssue)
    async def supervision_bulletin_issue(caller: Caller, p: SupervisionBulletinIssue) -> dict[str, Any]:
        iss: Issuer = issuer()
        return await iss.supervision(reader(caller), p)

    @rpc.method("letter_issue", LetterIssue)
    async def letter_issue(caller: Caller, p: LetterIssue) -> dict[str, Any]:
        iss: Issuer = issuer()
        return await iss.letter(reader(caller), p)

    @rpc.method("letter_template_get", LetterTemplateRef)
    async def letter_template_get(caller: Caller, p: LetterTemplateRef) -> dict[str, Any]:
        async with issuer().db.uow() as s:
            return await letter_template(s, p.office_code)

    @rpc.method("letter_template_set", LetterTemplateSet)
    async def letter_template_put(caller: Caller, p: LetterTemplateSet) -> dict[str, Any]:
        async with issuer().db.uow() as s:
            return await letter_template_set(s, caller, p.office_code, p.body)

    @rpc.method("document_get", DocumentRef)
    async def document_get(caller: Caller, p: DocumentRef) -> dict[str, Any]:
        iss: Issuer = issuer()
        async with iss.db.uow() as s:
            return await get(iss, s, caller, p.document_id)

    @rpc.method("documents", DocumentsQuery)
    async def documents(caller: Caller, p: DocumentsQuery) -> dict[str, Any]:
        iss: Issuer = issuer()
        async with iss.db.uow() as s:
            rows, nxt = await repo.page(
                s, caller, kind=p.kind, scheme_id=p.scheme_id, unit_id=p.unit_id, after=p.after, first=p.first
            )
        return {"items": [iss.public(r) for r in rows], "next": nxt}
