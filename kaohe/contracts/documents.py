"""RPC contract of the documents service (公文): what the gateway sends to issue, list and fetch documents.

Documents are issued by an assessment office and numbered per office and year (文号 `晋城考办〔2026〕3号`,
gap-free); their bytes are immutable once issued. See docs/rpc/documents.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.pages import PageRequest, Request
from kaohe.contracts.periods import PATTERN as PERIOD

DocumentKind = Literal["bulletin", "warning_slip", "reminder_slip", "letter", "supervision_bulletin"]
KIND_ZH: dict[str, str] = {
    "bulletin": "考核结果通报",
    "warning_slip": "预警单",
    "reminder_slip": "提醒单",
    "letter": "提示函",
    "supervision_bulletin": "督办通报",
}
# 发文机关代字: what precedes 〔year〕 in a 文号 (晋城考办, 恒口考办预); no brackets, digits or spaces
OFFICE_CODE = r"^[\u4e00-\u9fffA-Za-z]{2,16}$"


class _Issue(Request):
    office: str = Field(
        min_length=2, max_length=40, description="发文机关, e.g. 晋城市考核工作领导小组办公室"
    )
    office_code: str = Field(pattern=OFFICE_CODE, description="发文机关代字 of the 文号, e.g. 晋城考办")
    recipients: str | None = Field(None, max_length=200, description="主送; a default per kind otherwise")


class BulletinIssue(_Issue):
    """考核结果通报 of a scheme and period: every category of the results book."""

    scheme_id: str = Field(min_length=1, max_length=64)
    period: str = Field(pattern=PERIOD)
    title: str | None = Field(None, max_length=100)


class SlipIssue(_Issue):
    """预警单 (`warning`) or 提醒单 (`reminder`) of one unit for a period."""

    scheme_id: str = Field(min_length=1, max_length=64)
    period: str = Field(pattern=PERIOD)
    unit_id: str = Field(min_length=1, max_length=40)
    kind: Literal["warning", "reminder"] = "warning"
    request: str | None = Field(None, max_length=1000, description="the office's demand; a default otherwise")


class LetterIssue(_Issue):
    """提示函 to one unit's head: the office's template filled with the unit's standing for the period."""

    scheme_id: str = Field(min_length=1, max_length=64)
    period: str = Field(pattern=PERIOD)
    unit_id: str = Field(min_length=1, max_length=40)
    title: str | None = Field(None, max_length=100)


class SupervisionBulletinIssue(_Issue):
    """督办通报: a month's supervision items by unit (opened, closed, overdue, cards) under one unit."""

    unit_id: str = Field(min_length=1, max_length=40, description="the unit whose subtree is reported")
    period: str = Field(pattern=PERIOD)
    title: str | None = Field(None, max_length=100)


class LetterTemplateRef(Request):
    office_code: str = Field(pattern=OFFICE_CODE)


class LetterTemplateSet(LetterTemplateRef):
    """The office's 提示函 text: `${field}` placeholders (`fields` of letter_template_get), paragraphs
    separated by blank lines."""

    body: str = Field(min_length=1, max_length=5000)


class DocumentsQuery(PageRequest):
    kind: DocumentKind | None = None
    scheme_id: str | None = Field(None, max_length=64)
    unit_id: str | None = Field(None, max_length=40)


class DocumentRef(Request):
    document_id: str = Field(min_length=1, max_length=40)


class DocumentFile(BaseModel):
    """One stored file of a document (the PDF, and for a bulletin its XLSX)."""

    model_config = ConfigDict(frozen=True)

    format: Literal["pdf", "xlsx"]
    sha256: str
    size: int
    url: str | None = None  # presigned GET, short-lived; only in document_get / document_issue answers


class DocumentPublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    document_id: str
    kind: DocumentKind
    kind_zh: str
    number: str  # 文号
    office_code: str
    year: int
    seq: int
    title: str
    scheme_id: str | None
    period: str | None
    unit_id: str | None
    subject_path: str  # the unit (slips) or the assessing unit (bulletins) the document is about
    status: Literal["preliminary", "published"]  # the results' status when it was issued
    snapshot_id: str | None
    pages: int
    files: list[DocumentFile]
    issued_by: str
    issued_at: str
