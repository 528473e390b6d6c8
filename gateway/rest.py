"""Integration REST beside GraphQL (OpenAPI 3.1 at /openapi.json): bulk data in, results out, webhooks."""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Security
from fastapi.responses import Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, model_validator

from gateway.policy import ALL_SCOPES, Op, authorize
from gateway.rest_models import (
    ERRORS,
    RESULT_COLUMNS,
    ApiKey,
    ApiKeyCreated,
    DeliveriesPage,
    ImportReport,
    ResultsPage,
    Webhook,
    WebhookCreated,
)
from gateway.webhooks import EVENT_TYPES
from kaohe.exports import safe_dict
from kaohe.identity import Caller

router = APIRouter(prefix="/api/v1", tags=["integration"])
ROW_KEYS = (
    "Each row is an object keyed `unit_id`, `indicator_code`, `period`, `value` and optionally `note`, "
    "`unit_name`, `indicator_name` (or the template's Chinese headers 单位代码, 指标代码, 期间, 数值, 说明); "
    '`value` is a number, or a grade name for graded indicators. Example: `{"unit_id": "140502", '
    '"indicator_code": "K0101", "period": "2026-Q1", "value": 6.5}`.'
)
ROW_SCHEMA = {
    "items": {
        "type": "object",
        "properties": {
            "unit_id": {"type": "string", "description": "单位代码"},
            "indicator_code": {"type": "string", "description": "指标代码"},
            "period": {"type": "string", "description": "期间, e.g. 2026-Q1"},
            "value": {"type": ["number", "string", "null"], "description": "数值, or a grade name"},
            "note": {"type": "string", "description": "说明"},
        },
        "additionalProperties": True,  # the template's Chinese headers are accepted as keys too
    }
}


# Declared for the OpenAPI document (Swagger's Authorize offers both); the check itself reads the headers.
BEARER = HTTPBearer(
    scheme_name="bearer", bearerFormat="JWT", auto_error=False, description="`kaohe token` or your IdP"
)
API_KEY = APIKeyHeader(
    name="X-Api-Key", scheme_name="apiKey", auto_error=False, description="an integration key (考核办)"
)


async def current_caller(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    _key: Annotated[str | None, Security(API_KEY)],
) -> Caller:
    """The authenticated caller (bearer token or API key), rate limited."""
    services = request.app.state.services
    trace_id = request.headers.get("x-trace-id") or uuid.uuid4().hex
    caller: Caller = await services.authenticate(request.headers, trace_id)
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def _call(
    request: Request,
    caller: Caller,
    op: Op,
    service: str,
    method: str,
    params: dict[str, Any],
    *,
    batch: bool = False,
) -> Any:
    authorize(caller, op)
    services = request.app.state.services
    timeout = services.cfg.bulk_timeout_s if batch else None
    return await services.upstream.call(service, method, params, caller, timeout_s=timeout)


class ImportScope(BaseModel):
    """Whose values: one assessed unit (`unit_id`, 按单位) or one department (`department`, 按责任部门)."""

    scheme_id: str = Field(max_length=64)
    period: str = Field(max_length=20, description="2026-Q1, 2026-05, 2026-H1 or 2026")
    unit_id: str | None = Field(None, max_length=40, description="the assessed unit (按单位); or department")
    department: str | None = Field(
        None, max_length=40, description="the responsible department's unit id (按责任部门); or unit_id"
    )

    @model_validator(mode="after")
    def _one_scope(self) -> ImportScope:
        if (self.unit_id is None) == (self.department is None):
            raise ValueError("give exactly one of unit_id (按单位) or department (按责任部门)")
        return self


class BulkSubmission(ImportScope):
    """批量填报: one file or JSON rows for a scheme and period; dry run first, then commit with a key."""

    filename: str = Field("rows.json", min_length=1, max_length=200, description=".csv, .xlsx or .json")
    content_base64: str | None = Field(None, description="the file's bytes (CSV/XLSX template or JSON)")
    object_key: str | None = Field(None, description="a large file PUT to a bulk upload URL first")
    rows: list[dict[str, Any]] | None = Field(
        None, max_length=100_000, description=ROW_KEYS, json_schema_extra=ROW_SCHEMA
    )
    dry_run: bool = True
    client_key: str | None = Field(
        None, min_length=8, max_length=100, description="idempotency key; required to commit"
    )


class StatisticsImport(ImportScope):
    """统计数据导入 (GDP 增速, 固定资产投资 …) from a statistics bureau, as rows for its department scope."""

    rows: list[dict[str, Any]] = Field(
        min_length=1, max_length=100_000, description=ROW_KEYS, json_schema_extra=ROW_SCHEMA
    )
    dry_run: bool = True
    client_key: str | None = Field(
        None, min_length=8, max_length=100, description="idempotency key; required to commit"
    )


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@router.post(
    "/submissions/bulk",
    responses=ERRORS,
    response_model=ImportReport,
    summary="Bulk submission (批量填报), dry run or commit",
)
async def bulk_submission(body: BulkSubmission, request: Request, caller: CurrentCaller) -> dict[str, Any]:
    params = _drop_none(body.model_dump())
    return await _call(request, caller, Op.submission_write, "indicators", "bulk_import", params, batch=True)  # type: ignore[no-any-return]


@router.post(
    "/statistics",
    responses=ERRORS,
    response_model=ImportReport,
    summary="Statistics import (统计数据导入): a department's rows, dry run then commit with client_key",
)
async def statistics_import(
    body: StatisticsImport, request: Request, caller: CurrentCaller
) -> dict[str, Any]:
    params = _drop_none({**body.model_dump(), "filename": "statistics.json"})
    return await _call(request, caller, Op.statistics_import, "indicators", "bulk_import", params, batch=True)  # type: ignore[no-any-return]


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "a page of results; with format=csv a UTF-8 CSV (BOM) with the columns "
        f"{', '.join(RESULT_COLUMNS)}, the next cursor in X-Next-Cursor",
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "headers": {"X-Next-Cursor": {"schema": {"type": "string"}, "description": "empty on the last page"}},
    },
    **ERRORS,
}


@router.get(
    "/results",
    responses=CSV_RESPONSE,
    response_model=ResultsPage,
    summary="Results export (考核结果导出) for a subtree, by keyset pages: the published figures by default",
)
async def results_export(
    request: Request,
    caller: CurrentCaller,
    root_id: str,
    period: str | None = None,
    first: Annotated[int, Query(ge=1, le=500)] = 100,
    after: str | None = None,
    format: Literal["json", "csv"] = "json",
    source: Annotated[
        Literal["published", "live"],
        Query(
            description="published (default): the figures of published snapshots only (status says why a row"
            " has none); live: the current figures, preliminary until published and moving after"
        ),
    ] = "published",
) -> Any:
    authorize(caller, Op.results_export)  # the export covers the unit list and the scores it needs
    upstream = request.app.state.services.upstream
    params = _drop_none({"root_id": root_id, "first": first, "after": after})
    page = await upstream.call("indicators", "unit_subtree", params, caller)
    units = page["items"]
    ids = [u["id"] for u in units]
    query = _drop_none({"ids": ids, "period": period, "source": source})
    scores = await upstream.call("scoring", "scores_by_units", query, caller)
    rows = []
    for u in units:
        s = scores.get(u["id"]) or {}
        rows.append(
            {
                "unit_id": u["id"],
                "name": u["name"],
                "path": u["path"],
                "period": s.get("period"),
                "status": s.get("status"),  # published | objection_window | preliminary
                "source": source,
                "total": s.get("total"),
                "rank": s.get("rank"),
                "grade": s.get("grade"),
                "version": s.get("version"),
            }
        )
    if format == "csv":
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=RESULT_COLUMNS)
        w.writeheader()
        w.writerows(safe_dict(r) for r in rows)  # names like =HYPERLINK(…) are text, not formulas
        label = period if period and re.fullmatch(r"[0-9A-Za-z-]{1,12}", period) else "latest"
        headers = {
            "X-Next-Cursor": page.get("next") or "",
            "Content-Disposition": f'attachment; filename="results-{label}-{source}.csv"',
        }
        return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    return {"items": rows, "next": page.get("next")}


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(
        min_length=1,
        max_length=20,
        description=f"of {', '.join(ALL_SCOPES)} or *",
        json_schema_extra={"items": {"type": "string", "enum": [*ALL_SCOPES, "*"]}},
    )
    org_path: str | None = Field(None, description="subtree of the key; default: yours")


@router.post(
    "/api-keys",
    status_code=201,
    responses=ERRORS,
    response_model=ApiKeyCreated,
    summary="Create an API key (考核办)",
)
async def api_key_create(body: ApiKeyCreate, request: Request, caller: CurrentCaller) -> dict[str, Any]:
    authorize(caller, Op.apikey_manage)
    keys = request.app.state.services.apikeys
    return await keys.create(
        caller, name=body.name, scopes=body.scopes, org_path=body.org_path or caller.org_path
    )  # type: ignore[no-any-return]


@router.get("/api-keys", responses=ERRORS, response_model=list[ApiKey], summary="API keys in your subtree")
async def api_key_list(request: Request, caller: CurrentCaller) -> list[dict[str, Any]]:
    authorize(caller, Op.apikey_manage)
    return await request.app.state.services.apikeys.list(caller)  # type: ignore[no-any-return]


@router.delete("/api-keys/{key_id}", responses=ERRORS, response_model=ApiKey, summary="Revoke an API key")
async def api_key_revoke(key_id: str, request: Request, caller: CurrentCaller) -> dict[str, Any]:
    authorize(caller, Op.apikey_manage)
    return await request.app.state.services.apikeys.revoke(caller, key_id)  # type: ignore[no-any-return]


class WebhookCreate(BaseModel):
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(
        min_length=1,
        max_length=len(EVENT_TYPES),
        description=", ".join(EVENT_TYPES),
        json_schema_extra={"items": {"type": "string", "enum": list(EVENT_TYPES)}},
    )


@router.post(
    "/webhooks",
    status_code=201,
    responses=ERRORS,
    response_model=WebhookCreated,
    summary="Register a webhook (secret shown once)",
)
async def webhook_create(body: WebhookCreate, request: Request, caller: CurrentCaller) -> dict[str, Any]:
    authorize(caller, Op.webhook_manage)
    return await request.app.state.services.webhooks.create(
        caller, url=body.url, event_types=body.event_types
    )  # type: ignore[no-any-return]


@router.get("/webhooks", responses=ERRORS, response_model=list[Webhook], summary="Webhooks in your subtree")
async def webhook_list(request: Request, caller: CurrentCaller) -> list[dict[str, Any]]:
    authorize(caller, Op.webhook_manage)
    return await request.app.state.services.webhooks.list(caller)  # type: ignore[no-any-return]


@router.delete(
    "/webhooks/{webhook_id}", responses=ERRORS, response_model=Webhook, summary="Deactivate a webhook"
)
async def webhook_delete(webhook_id: str, request: Request, caller: CurrentCaller) -> dict[str, Any]:
    authorize(caller, Op.webhook_manage)
    return await request.app.state.services.webhooks.delete(caller, webhook_id)  # type: ignore[no-any-return]


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    responses=ERRORS,
    response_model=DeliveriesPage,
    summary="Delivery history, newest first",
)
async def webhook_deliveries(
    webhook_id: str,
    request: Request,
    caller: CurrentCaller,
    first: Annotated[int, Query(ge=1, le=200)] = 50,
    after: int | None = None,
) -> dict[str, Any]:
    authorize(caller, Op.webhook_manage)
    items, nxt = await request.app.state.services.webhooks.deliveries(
        caller, webhook_id, first=first, after=after
    )
    return {"items": items, "next": nxt}
