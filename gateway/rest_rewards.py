"""结果运用 REST for HR and payroll systems: 干部名册 import (dry run, then commit) and payroll export.

HR systems send the roster file (CSV or XLSX with the Chinese headers of the rewards contract) with an API
key holding `registry:write`; the dry run lists every bad cell and returns the file's digest, the commit
names that digest and writes all rows or none. Payroll systems (`payroll:read`) fetch the approved pay lines
of an approved proposal set: the rewards service renders the file into S3 and the answer carries a
short-lived presigned URL (the bytes never pass through the gateway).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, ValidationError

from gateway.policy import Op, authorize
from gateway.rest import CurrentCaller
from gateway.rest_models import ERRORS
from kaohe.contracts import rewards as c
from kaohe.errors import KaoheError, ValidationFailed

router = APIRouter(prefix="/api/v1/rewards", tags=["rewards"])
COLUMNS = (
    "身份证号, 姓名, 单位代码, 职务类别, 职级, 月绩效基数(元), 任职日期; optional 登录账号, 期间, 个人等次"
)


class RegistryImport(BaseModel):
    """干部名册导入: a CSV or XLSX roster, inline (base64, ≤ 5 MB) or an uploaded object; dry run first."""

    filename: str = Field(min_length=1, max_length=200, description=".csv or .xlsx")
    content_base64: str | None = Field(None, max_length=7_000_000, description=f"the file; columns {COLUMNS}")
    object_key: str | None = Field(None, max_length=500, description="a large file PUT to an upload URL")
    dry_run: bool = True
    expected_digest: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="the dry run's `digest`; required to commit"
    )


class RegistryImportReport(BaseModel):
    """What a dry run found (nothing written) or what a commit wrote (all rows or none)."""

    digest: str = Field(description="SHA-256 of the file: a commit names the dry run's")
    rows: int
    valid: int
    problems: list[c.ImportProblem] = Field(description="row (1-based data row), field (the header), message")
    new_persons: int
    new_posts: int = Field(description="posts opened (a move ends the person's open post: history is kept)")
    unchanged: int
    grades: int = Field(description="个人等次 rows")
    committed: bool


class PayrollFile(BaseModel):
    """工资发放文件: a short-lived presigned GET of the approved pay lines, and what it holds."""

    url: str = Field(description="presigned GET, valid until expires_at")
    expires_at: str
    filename: str
    format: str
    rows: int
    bytes: int
    sha256: str = Field(description="of the file's bytes")


def _params(model: type[BaseModel], **given: Any) -> dict[str, Any]:
    try:
        m = model(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        raise ValidationFailed(f"{loc or 'body'}: {err['msg']}", field=loc) from None
    return m.model_dump(mode="json", exclude_unset=True)


# The rewards service's own codes arrive without an HTTP status: the one each means for a REST client.
STATUS = {
    "forbidden_role": 403,
    "forbidden_scope": 403,
    "set_closed": 409,
    "import_changed": 409,
    "version_conflict": 409,
    "import_invalid": 422,
    "unit_unknown": 422,
}


async def _call(request: Request, caller: Any, op: Op, method: str, params: dict[str, Any]) -> Any:
    authorize(caller, op)
    services = request.app.state.services
    timeout = services.cfg.bulk_timeout_s  # a whole roster or payroll file
    try:
        return await services.upstream.call("rewards", method, params, caller, timeout_s=timeout)
    except KaoheError as e:
        e.status = STATUS.get(e.code, e.status)
        raise


@router.post(
    "/registry/import",
    responses=ERRORS,
    response_model=RegistryImportReport,
    summary="干部名册导入 (cadre roster, CSV/XLSX): dry run, then commit with the dry run's digest",
)
async def registry_import(body: RegistryImport, request: Request, caller: CurrentCaller) -> dict[str, Any]:
    authorize(caller, Op.rewards_registry)
    file = {"filename": body.filename, "content_b64": body.content_base64, "object_key": body.object_key}
    if body.content_base64 is None and body.object_key is None:
        raise ValidationFailed("give content_base64 or object_key", field="content_base64", code="one_of")
    if body.dry_run:
        p = _params(c.ImportFile, **file)
        r = await _call(request, caller, Op.rewards_registry, "cadre_import_dry_run", p)
    else:
        if body.expected_digest is None:
            raise ValidationFailed("a commit names the dry run's digest", field="expected_digest")
        p = _params(c.ImportCommit, **file, expected_digest=body.expected_digest)
        r = await _call(request, caller, Op.rewards_registry, "cadre_import_commit", p)
    return c.ImportReport.model_validate(r).model_dump(mode="json")


@router.get(
    "/payroll",
    responses=ERRORS,
    response_model=PayrollFile,
    summary="工资发放导出: approved pay lines of an approved proposal set as CSV or XLSX (presigned URL)",
)
async def payroll_export(
    request: Request,
    caller: CurrentCaller,
    set_id: Annotated[int, Query(ge=1, le=2**31 - 1, description="an approved proposal set")],
    format: Literal["csv", "xlsx"] = "csv",
    unit_id: Annotated[str | None, Query(max_length=40, description="one unit and its subtree only")] = None,
) -> dict[str, Any]:
    authorize(caller, Op.rewards_payroll)
    p = _params(c.PayrollExport, set_id=set_id, format=format, unit_id=unit_id)
    e = c.ExportPublic.model_validate(await _call(request, caller, Op.rewards_payroll, "payroll_export", p))
    return {**e.model_dump(mode="json", exclude={"object_key"})}
