"""批量: fill-in templates (填报模板), large-file upload slots, bulk import and bulk approval (批量审核)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import UserError, call, mk
from gateway.graphql.submissions import Submission, _sub
from gateway.policy import Op
from kaohe.errors import KaoheError, ValidationFailed

MAX_APPROVE = 500  # the service's batch limit (批量审核 of a whole county's quarter in one call)


@strawberry.enum(description="Spreadsheet format of a template")
class SheetFormat(Enum):
    XLSX = "xlsx"
    CSV = "csv"


@strawberry.type(
    description="填报模板: a unit's (or a 责任部门's) fill-in sheet for a period; small ones come inline as "
    "base64, large ones as a short-lived download URL"
)
class BulkTemplate:
    filename: str
    format: str
    rows: int = strawberry.field(description="rows to fill in")
    content_base64: str | None = None
    download_url: str | None = strawberry.field(default=None, description="presigned GET, valid for minutes")


@strawberry.type(description="An upload slot for a large file: PUT the bytes, then import by objectKey")
class BulkUploadSlot:
    object_key: str
    upload_url: str
    expires_in_s: int


@strawberry.input(description="批量填报: a file (base64 or an uploaded objectKey) or JSON rows for a period")
class SubmissionBulkImportInput:
    scheme_id: strawberry.ID
    period: str
    unit_id: str | None = strawberry.field(default=None, description="a unit's sheet (or department)")
    department: str | None = strawberry.field(default=None, description="a 责任部门's sheet (or unitId)")
    filename: str = strawberry.field(default="rows.json", description=".csv, .xlsx or .json")
    content_base64: str | None = None
    object_key: str | None = strawberry.field(default=None, description="from bulkUploadSlot")
    rows: list[JSON] | None = strawberry.field(default=None, description="JSON rows, keys as in the template")
    dry_run: bool = strawberry.field(default=True, description="check only; commit with dryRun false")
    client_key: str | None = strawberry.field(default=None, description="idempotency key, required to commit")


@strawberry.type(description="One row problem of an import: row, column, code and a Chinese message")
class ImportProblem:
    row: int | None
    column: str | None
    code: str
    message: str


@strawberry.type(description="The outcome of a bulk import (dry run or commit; a commit is all rows or none)")
class BulkImportResult:
    ok: bool
    dry_run: bool
    rows_read: int
    accepted: int
    problem_count: int
    truncated: bool
    committed: bool
    replayed: bool = strawberry.field(description="a commit repeated with the same clientKey")
    import_id: str | None
    problems: list[ImportProblem]
    flags: JSON | None = strawberry.field(description="plausibility flags of accepted rows")


@strawberry.type
class BulkImportPayload:
    result: BulkImportResult | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="One submission of a bulk approval: approved, or the error that stopped it")
class BulkApproveItem:
    id: strawberry.ID
    ok: bool
    submission: Submission | None
    error: UserError | None


@strawberry.type
class SubmissionBulkApprovePayload:
    items: list[BulkApproveItem] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def _params(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if k == "scheme_id" else v) for k, v in d.items() if v is not None}


def _result(d: dict[str, Any]) -> BulkImportResult:
    problems = [mk(ImportProblem, p) for p in d.get("problems") or []]
    return mk(BulkImportResult, {**d, "problems": problems})


def _item(d: dict[str, Any]) -> BulkApproveItem:
    err = d.get("error")
    return BulkApproveItem(
        id=d["id"],
        ok=bool(d["ok"]),
        submission=_sub(d["submission"]) if d.get("submission") else None,
        error=UserError.of(KaoheError.from_dict(err)) if err else None,
    )


@strawberry.type
class BulkQuery:
    @strawberry.field(description="填报模板 of a unit (unitId) or a 责任部门 (department) for a period")
    async def bulk_template(
        self,
        info: Info[Context, None],
        scheme_id: strawberry.ID,
        period: str,
        unit_id: str | None = None,
        department: str | None = None,
        format: SheetFormat = SheetFormat.XLSX,
    ) -> BulkTemplate:
        params = _params(
            {
                "scheme_id": scheme_id,
                "period": period,
                "unit_id": unit_id,
                "department": department,
                "format": format.value,
            }
        )
        return mk(BulkTemplate, await call(info, Op.submission_write, "indicators", "bulk_template", params))


@strawberry.type
class BulkMutation:
    @strawberry.mutation(description="An upload slot for a large file (PUT it, then import by objectKey)")
    async def bulk_upload_slot(self, info: Info[Context, None], filename: str) -> BulkUploadSlot:
        r = await call(info, Op.submission_write, "indicators", "bulk_upload_url", {"filename": filename})
        return mk(BulkUploadSlot, r)

    @strawberry.mutation(description="批量填报: dry run (default) or commit a file or rows for a period")
    async def submission_bulk_import(
        self, info: Info[Context, None], input: SubmissionBulkImportInput
    ) -> BulkImportPayload:
        params = _params({k: v for k, v in vars(input).items() if v is not strawberry.UNSET})
        try:
            r = await call(info, Op.submission_write, "indicators", "bulk_import", params, batch=True)
        except KaoheError as e:
            return BulkImportPayload(errors=[UserError.of(e)])
        return BulkImportPayload(result=_result(r))

    @strawberry.mutation(
        description="批量审核: approve up to 500 submissions, each decided on its own (items in input order)"
    )
    async def submission_bulk_approve(
        self, info: Info[Context, None], ids: list[strawberry.ID], reason: str | None = None
    ) -> SubmissionBulkApprovePayload:
        if not 1 <= len(ids) <= MAX_APPROVE:
            e = ValidationFailed(f"ids: 1 to {MAX_APPROVE} submissions", field="ids", code="too_many")
            return SubmissionBulkApprovePayload(errors=[UserError.of(e)])
        params = _params({"ids": [str(i) for i in ids], "reason": reason})
        try:
            method = "submission_bulk_approve"
            r = await call(info, Op.submission_review, "indicators", method, params, batch=True)
        except KaoheError as e:
            return SubmissionBulkApprovePayload(errors=[UserError.of(e)])
        return SubmissionBulkApprovePayload(items=[_item(d) for d in r["items"]])
