"""Documents (公文): issue a 考核结果通报 or a 预警单/提醒单, list them, and fetch short-lived download URLs.

The documents service renders, numbers (文号) and stores them; this module only maps its contract
(`kaohe/contracts/documents.py`) onto GraphQL. Download URLs are presigned for a few minutes and appear
only on `document` and the issuing mutations, after the service has checked the caller's scope.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import Connection, UserError, call, connection, decode_cursor, inp, page_size
from gateway.policy import Op
from kaohe.contracts.documents import DocumentPublic
from kaohe.errors import KaoheError

DOCUMENTS_CODES = {
    "no_results": "Scoring has no ranked results for the scheme and period.",
    "storage_conflict": "The store refused to overwrite an issued document's file.",
    "forbidden_scope": "The bulletin needs every ranked unit, or the unit is outside your subtree.",
    "bad_template": "A 提示函 template names an unknown ${placeholder} or holds a stray $.",
}
DocumentsErrorCode = strawberry.enum(
    Enum(  # type: ignore[misc]
        "DocumentsErrorCode",
        {k.upper(): strawberry.enum_value(k, description=v) for k, v in DOCUMENTS_CODES.items()},
    ),
    description="Codes of the documents service (公文) in `UserError.code`, beside the ErrorCode ones",
)

DocumentKind = strawberry.enum(
    Enum(  # type: ignore[misc]
        "DocumentKind",
        {
            "BULLETIN": strawberry.enum_value("bulletin", description="考核结果通报"),
            "WARNING_SLIP": strawberry.enum_value("warning_slip", description="预警单"),
            "REMINDER_SLIP": strawberry.enum_value("reminder_slip", description="提醒单"),
            "LETTER": strawberry.enum_value("letter", description="提示函"),
            "SUPERVISION_BULLETIN": strawberry.enum_value("supervision_bulletin", description="督办通报"),
        },
    ),
    description="Kind of an issued document (公文种类)",
)
SlipKind = strawberry.enum(
    Enum(  # type: ignore[misc]
        "SlipKind",
        {
            "WARNING": strawberry.enum_value("warning", description="预警单"),
            "REMINDER": strawberry.enum_value("reminder", description="提醒单"),
        },
    ),
    description="预警单 or 提醒单",
)


@strawberry.type(description="One stored file of a document: its format, SHA-256, size and download URL")
class DocumentFile:
    format: str = strawberry.field(description="pdf | xlsx")
    sha256: str = strawberry.field(description="SHA-256 of the bytes as issued (hex)")
    size: int
    url: str | None = strawberry.field(
        description="presigned GET of the issued version, valid a few minutes; null in lists (ask `document`)"
    )


@strawberry.type(description="An issued document (公文): numbered, immutable, scoped like its subject")
class Document:
    document_id: strawberry.ID
    kind: DocumentKind  # type: ignore[valid-type]
    kind_zh: str = strawberry.field(description="考核结果通报 | 预警单 | 提醒单 | 提示函")
    number: str = strawberry.field(
        description="文号, e.g. 晋城考办〔2026〕3号 (gap-free per office and year)"
    )
    office_code: str = strawberry.field(description="发文机关代字")
    year: int
    seq: int
    title: str
    scheme_id: str | None
    period: str | None
    unit_id: str | None = strawberry.field(description="the unit of a 预警单/提醒单; null for a bulletin")
    subject_path: str
    status: str = strawberry.field(
        description="preliminary (watermarked 初步结果) | published (from the published snapshot)"
    )
    snapshot_id: str | None
    pages: int
    files: list[DocumentFile]
    issued_by: str
    issued_at: datetime


def document_of(d: dict[str, Any]) -> Document:
    p = DocumentPublic.model_validate(d)
    return Document(
        document_id=strawberry.ID(p.document_id),
        kind=DocumentKind(p.kind),
        kind_zh=p.kind_zh,
        number=p.number,
        office_code=p.office_code,
        year=p.year,
        seq=p.seq,
        title=p.title,
        scheme_id=p.scheme_id,
        period=p.period,
        unit_id=p.unit_id,
        subject_path=p.subject_path,
        status=p.status,
        snapshot_id=p.snapshot_id,
        pages=p.pages,
        files=[DocumentFile(format=f.format, sha256=f.sha256, size=f.size, url=f.url) for f in p.files],
        issued_by=p.issued_by,
        issued_at=datetime.fromisoformat(p.issued_at),
    )


@strawberry.input(description="Issue the 考核结果通报 of a scheme and period (every category of its book)")
class DocumentIssueBulletinInput:
    scheme_id: str
    period: str = strawberry.field(description="2026-03, 2026-Q1, 2026-H1 or 2026")
    office: str = strawberry.field(description="发文机关, printed in red at the head")
    office_code: str = strawberry.field(description="发文机关代字 of the 文号, e.g. 晋城考办")
    recipients: str | None = strawberry.field(default=None, description="主送 (default 各被考核单位)")
    title: str | None = None


@strawberry.input(description="Issue a 预警单 or 提醒单 to one unit for a period")
class DocumentIssueSlipInput:
    scheme_id: str
    period: str
    unit_id: str
    office: str
    office_code: str
    kind: SlipKind = strawberry.field(default=SlipKind("warning"))  # type: ignore[valid-type]
    recipients: str | None = None
    request: str | None = strawberry.field(default=None, description="the office's demand of the unit")


@strawberry.input(description="Issue the 督办通报 of a month: supervision items by unit under one unit")
class DocumentIssueSupervisionBulletinInput:
    unit_id: str = strawberry.field(description="the unit whose subtree is reported (a city, a county)")
    period: str = strawberry.field(description="a month (2026-05), or a quarter or year")
    office: str
    office_code: str
    recipients: str | None = None
    title: str | None = None


@strawberry.input(description="Issue a 提示函 to one unit's head from the office's template")
class DocumentIssueLetterInput:
    scheme_id: str
    period: str
    unit_id: str
    office: str
    office_code: str = strawberry.field(
        description="发文机关代字; its template is used (default text until set)"
    )
    title: str | None = None


@strawberry.type(
    description="An office's 提示函 template: `${field}` placeholders, paragraphs split by blank lines"
)
class LetterTemplate:
    office_code: str
    body: str
    custom: bool = strawberry.field(description="false: the built-in text (the office has not saved its own)")
    fields: JSON = strawberry.field(description="the placeholders a template may use, with their meaning")
    updated_by: str | None
    updated_at: datetime | None


def template_of(d: dict[str, Any]) -> LetterTemplate:
    at = d.get("updated_at")
    return LetterTemplate(
        office_code=d["office_code"],
        body=d["body"],
        custom=bool(d["custom"]),
        fields=d["fields"],
        updated_by=d.get("updated_by"),
        updated_at=datetime.fromisoformat(at) if at else None,
    )


@strawberry.type
class LetterTemplatePayload:
    template: LetterTemplate | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DocumentIssuePayload:
    document: Document | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _params(obj: Any) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in inp(obj).items()}


async def _issue(info: Info[Context, None], method: str, params: dict[str, Any]) -> DocumentIssuePayload:
    try:
        d = await call(info, Op.document_issue, "documents", method, params, batch=True)
    except KaoheError as e:
        return DocumentIssuePayload(errors=[UserError.of(e)])
    return DocumentIssuePayload(document=document_of(d))


@strawberry.type
class DocumentQuery:
    @strawberry.field(
        description="Issued documents you may see, newest first (bulletins of your units' books, "
        "slips of your subtree)"
    )
    async def documents(
        self,
        info: Info[Context, None],
        kind: DocumentKind | None = None,  # type: ignore[valid-type]
        scheme_id: str | None = None,
        unit_id: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Document]:
        params: dict[str, Any] = {"first": page_size(info, first), "after": decode_cursor(after)}
        if kind is not None:
            params["kind"] = kind.value
        params |= {k: v for k, v in (("scheme_id", scheme_id), ("unit_id", unit_id)) if v is not None}
        res = await call(info, Op.document_read, "documents", "documents", params)
        return connection(res["items"], res["next"], document_of, key="document_id")

    @strawberry.field(description="The office's 提示函 template (the built-in text until it saves its own)")
    async def letter_template(self, info: Info[Context, None], office_code: str) -> LetterTemplate:
        d = await call(
            info, Op.document_issue, "documents", "letter_template_get", {"office_code": office_code}
        )
        return template_of(d)

    @strawberry.field(description="One document with short-lived download URLs of its files")
    async def document(self, info: Info[Context, None], document_id: strawberry.ID) -> Document:
        d = await call(info, Op.document_read, "documents", "document_get", {"document_id": str(document_id)})
        return document_of(d)


@strawberry.type
class DocumentMutation:
    @strawberry.mutation(description="考核结果通报: rendered, numbered (文号) and stored; 考核办 only")
    async def document_issue_bulletin(
        self, info: Info[Context, None], input: DocumentIssueBulletinInput
    ) -> DocumentIssuePayload:
        return await _issue(info, "bulletin_issue", _params(input))

    @strawberry.mutation(
        description="预警单 / 提醒单 of one unit: lagging indicators and pace curves; 考核办 only"
    )
    async def document_issue_slip(
        self, info: Info[Context, None], input: DocumentIssueSlipInput
    ) -> DocumentIssuePayload:
        return await _issue(info, "slip_issue", _params(input))

    @strawberry.mutation(description="提示函 to a unit's head from the office's template; 考核办 only")
    async def document_issue_letter(
        self, info: Info[Context, None], input: DocumentIssueLetterInput
    ) -> DocumentIssuePayload:
        return await _issue(info, "letter_issue", _params(input))

    @strawberry.mutation(description="Save the office's 提示函 template (checked: known placeholders only)")
    async def letter_template_set(
        self, info: Info[Context, None], office_code: str, body: str
    ) -> LetterTemplatePayload:
        try:
            d = await call(
                info,
                Op.document_issue,
                "documents",
                "letter_template_set",
                {"office_code": office_code, "body": body},
            )
        except KaoheError as e:
            return LetterTemplatePayload(errors=[UserError.of(e)])
        return LetterTemplatePayload(template=template_of(d))

    @strawberry.mutation(
        description="督办通报: items, closed, overdue and cards by unit (supervision's records); 考核办 only"
    )
    async def document_issue_supervision_bulletin(
        self, info: Info[Context, None], input: DocumentIssueSupervisionBulletinInput
    ) -> DocumentIssuePayload:
        return await _issue(info, "supervision_bulletin_issue", _params(input))
