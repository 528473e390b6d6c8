"""Request and response models of the indicators service (validated; the table models are not)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from kaohe.contracts import periods
from kaohe.contracts.pages import PageRequest, Request

UnitKind = Literal["province", "city", "county", "township", "street", "village", "community", "department"]
PERIOD_RE = re.compile(periods.PATTERN)  # 2026, 2026-03, 2026-Q1, 2026-H1
ALLOWED_TYPES = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/webp",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/zip",
    "application/x-7z-compressed",
}


# Characters a filename may not hold: path separators, and what would end or extend a quoted
# Content-Disposition parameter (`a"; filename*=UTF-8''evil.exe`) or trouble Windows when saved.
FILENAME_FORBIDDEN = set("/\\\"';:<>|?*")


def check_filename(name: str) -> str:
    """The name as given if it is safe to store and to hand back in a Content-Disposition, else ValueError.

    Refused: control and format characters (NUL, CR/LF, bidi overrides such as U+202E that make
    `exe.pdf` look like `fdp.exe`, zero-width characters), path separators and `..`, quotes, semicolons
    and other characters Windows forbids, and names starting with a dot."""
    bad = sorted(
        {f"U+{ord(c):04X}" for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co")}
    )
    if bad:
        raise ValueError(f"filename contains control or direction characters ({', '.join(bad)})")
    if FILENAME_FORBIDDEN.intersection(name):
        shown = " ".join(sorted(FILENAME_FORBIDDEN.intersection(name)))
        raise ValueError(f"filename may not contain {shown}")
    if ".." in name or name.startswith("."):
        raise ValueError("filename may not contain '..' or start with '.'")
    return name


class UnitCreate(Request):
    id: str = Field(min_length=2, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")
    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind
    parent_id: str | None = Field(None, max_length=40)
    valid_from: date | None = None


class UnitPublic(BaseModel):
    id: str
    name: str
    kind: str
    parent_id: str | None
    path: str
    valid_from: date
    valid_to: date | None


class Ids(Request):
    ids: list[str] = Field(max_length=1000)


class SubmissionCreate(Request):
    unit_id: str = Field(max_length=40)
    indicator_code: str = Field(max_length=64)
    period: str = Field(max_length=20)
    value: float | None = None
    grade: str | None = Field(None, max_length=40)  # 领导评议 等级 for qualitative leaves
    narrative: str = Field("", max_length=4000)
    assessing_unit: str | None = Field(None, max_length=40)

    @field_validator("period")
    @classmethod
    def _period(cls, v: str) -> str:
        if not PERIOD_RE.match(v):
            raise ValueError("period must look like 2026, 2026-03, 2026-Q1 or 2026-H1")
        return v


class SubmissionPublic(BaseModel):
    id: str
    unit_id: str
    scheme_id: str | None
    scheme_version: int | None
    assessing_unit: str
    code: str
    period: str
    value: float | None
    grade: str | None
    narrative: str
    status: str
    version: int
    review_level: int
    final: bool
    flags: list[dict[str, object]]
    submitted_by: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    reason: str | None


class SubmissionList(PageRequest):
    unit_id: str | None = Field(None, max_length=40)
    period: str | None = Field(None, max_length=20)
    status: Literal["submitted", "reviewed", "approved", "rejected", "reopened"] | None = None
    code: str | None = Field(None, max_length=64)
    assessing_unit: str | None = Field(None, max_length=40)


class SubmissionUpdate(Request):
    submission_id: str = Field(max_length=64)
    expected_version: int
    value: float | None = None
    grade: str | None = Field(None, max_length=40)
    narrative: str | None = Field(None, max_length=4000)


class SubmissionReview(Request):
    submission_id: str = Field(max_length=64)
    expected_version: int | None = None
    reason: str | None = Field(None, max_length=2000)


class SubmissionDecision(Request):  # reject / reopen: the reason is required
    submission_id: str = Field(max_length=64)
    expected_version: int | None = None
    reason: str = Field(min_length=1, max_length=2000)


class SubmissionRef(Request):
    submission_id: str = Field(max_length=64)


class EvidenceRequest(Request):
    submission_id: str = Field(max_length=64)
    filename: str = Field(min_length=1, max_length=300)
    content_type: str = Field(max_length=100)
    size: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("content_type")
    @classmethod
    def _type(cls, v: str) -> str:
        if v not in ALLOWED_TYPES:
            raise ValueError("file type not accepted; use PDF, images, Office documents or zip/7z archives")
        return v

    @field_validator("filename")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_filename(v)


class EvidenceUpload(BaseModel):
    evidence_id: str
    upload_url: str
    expires_in_s: int
    # headers the PUT must carry (signed into the URL); the body must be exactly the declared size
    upload_headers: dict[str, str] = {}


class EvidenceRef(Request):
    evidence_id: str = Field(max_length=64)


class EvidencePublic(BaseModel):
    id: str
    submission_id: str
    unit_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    status: str
    locked: bool
    download_url: str | None = None


# 批量填报 (bulk submission)
class Scope(Request):
    scheme_id: str = Field(max_length=64)
    period: str = Field(max_length=20)
    unit_id: str | None = Field(None, max_length=40)
    department: str | None = Field(None, max_length=40)

    @model_validator(mode="after")
    def _one(self) -> Scope:
        if (self.unit_id is None) == (self.department is None):
            raise ValueError("give exactly one of unit_id (按单位) or department (按责任部门)")
        if periods.normalize(self.period) is None:
            raise ValueError("period must look like 2026, 2026-03, 2026-Q1 or 2026-H1")
        return self


class TemplateReq(Scope):
    format: Literal["csv", "xlsx"] = "xlsx"
    inline: bool | None = None


class UploadReq(Request):
    filename: str = Field(min_length=1, max_length=200)


class ImportReq(Scope):
    filename: str = Field(min_length=1, max_length=200)
    content_base64: str | None = Field(None, max_length=12_000_000)
    object_key: str | None = Field(None, max_length=300)
    rows: list[dict[str, Any]] | None = Field(None, max_length=100_000)
    dry_run: bool = True
    client_key: str | None = Field(None, min_length=8, max_length=100)

    @model_validator(mode="after")
    def _source(self) -> ImportReq:
        if sum(x is not None for x in (self.content_base64, self.object_key, self.rows)) != 1:
            raise ValueError("give exactly one of content_base64, object_key or rows")
        return self


# 分类 (categories)
AU = Field(max_length=40)
YEAR = Field(ge=2000, le=2100)


class CategoryIn(Request):
    name: str = Field(min_length=1, max_length=60)
    description: str = Field("", max_length=500)


class CategoriesSet(Request):
    assessing_unit: str = AU
    year: int = YEAR
    categories: list[CategoryIn] = Field(max_length=50)
    members: dict[str, str] = Field(default_factory=dict, max_length=50_000)


class CategoriesRef(Request):
    assessing_unit: str = AU
    year: int = YEAR


# 组织 (units)
UNIT_ID = Field(min_length=2, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")


class UnitsByIds(Ids):
    as_of: date | None = None


class UnitRef(Request):
    unit_id: str = Field(max_length=40)
    as_of: date | None = None


class Children(PageRequest):
    parent_id: str = Field(max_length=40)
    as_of: date | None = None
    kinds: list[UnitKind] | None = None


class Subtree(PageRequest):
    root_id: str = Field(max_length=40)
    as_of: date | None = None
    search: str | None = Field(None, max_length=100)
    kinds: list[UnitKind] | None = None
    include_root: bool = True


class HistoryRef(Request):
    unit_id: str = Field(max_length=40)


class Rename(Request):
    unit_id: str = Field(max_length=40)
    name: str = Field(min_length=1, max_length=200)
    effective: date | None = None


class Move(Request):
    unit_id: str = Field(max_length=40)
    parent_id: str = Field(max_length=40)
    effective: date | None = None


class Merge(Request):
    sources: list[str] = Field(min_length=1, max_length=100)
    into: str = Field(max_length=40)
    effective: date | None = None


class NewUnit(Request):
    id: str = UNIT_ID
    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind | None = None


class Split(Request):
    unit_id: str = Field(max_length=40)
    into: list[NewUnit] = Field(min_length=2, max_length=50)
    children: dict[str, str] = Field(default_factory=dict)
    effective: date | None = None


class Close(Request):
    unit_id: str = Field(max_length=40)
    effective: date | None = None
