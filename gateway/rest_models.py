"""Typed REST responses: what `/openapi.json` promises every route returns, errors included."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """An RFC 9457 problem document: `code` for programs, `detail` for people, `field` the input at fault."""

    type: str = Field(description="https://kaohe.dev/problems/<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="machine code (the GraphQL ErrorCode values, lower case)")
    field: str | None = Field(None, description="the input that caused it, as sent (body key or parameter)")
    details: list[dict[str, Any]] | None = Field(None, description="every validation failure: field, code")


PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
ERROR_TEXT = {
    400: "malformed request (bad JSON, NUL character, nesting too deep)",
    401: "no or invalid bearer token / API key",
    403: "your role, scope or subtree does not allow it",
    404: "not found in your subtree",
    409: "conflicts with the current state (e.g. client_key reused for another file)",
    413: "request body too large",
    422: "a parameter or body field is invalid (`field` names it)",
    429: "rate limited (see Retry-After)",
    502: "an upstream service failed",
    503: "an upstream service is unavailable",
    504: "an upstream service did not answer in time",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": PROBLEM_CONTENT} for code, text in ERROR_TEXT.items()
}


class RowProblem(BaseModel):
    """A problem of one uploaded row (message in Chinese for the person fixing the file)."""

    row: int = Field(description="1-based row (header = 1 for CSV/XLSX; the list position for JSON rows)")
    column: str = Field(description="the Chinese column header: 单位代码, 指标代码, 期间, 数值 …")
    code: str
    message: str


class ImportReport(BaseModel):
    """试导入报告: a dry run's findings, or a commit's result (all rows or none)."""

    ok: bool
    dry_run: bool
    rows_read: int
    accepted: int = Field(description="rows that would be (dry run) or were (commit) written")
    problem_count: int
    truncated: bool = Field(description="more problems than listed")
    problems: list[RowProblem]
    flags: list[RowProblem] = Field(description="accepted but worth a review (outliers)")
    committed: bool
    import_id: str | None
    replayed: bool = Field(description="the same client_key was committed before: its stored result")


class ResultRow(BaseModel):
    """One unit of the results export; the CSV has these columns in this order."""

    unit_id: str
    name: str
    path: str
    period: str | None
    status: str | None = Field(
        description="published, objection_window (published soon, objections open) or preliminary"
    )
    source: Literal["published", "live"]
    total: float | None
    rank: int | None
    grade: str | None
    version: int | None


RESULT_COLUMNS = list(ResultRow.model_fields)


class ResultsPage(BaseModel):
    items: list[ResultRow]
    next: str | None = Field(description="cursor for `after`; null on the last page")


class ApiKey(BaseModel):
    id: str
    name: str
    scopes: list[str]
    org_path: str
    created_by: str
    created_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="the secret key, shown once: send it as X-Api-Key")


class Webhook(BaseModel):
    id: str
    url: str
    event_types: list[str]
    org_path: str
    owner: str
    active: bool
    created_at: datetime | None = None


class WebhookCreated(Webhook):
    secret: str = Field(description="the HMAC-SHA256 signing secret, shown once")


class DeliveryAttempt(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None = Field(description="a category: connect_failed, timeout, http_<status> …")
    duration_ms: int


class Delivery(BaseModel):
    id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[DeliveryAttempt]


class DeliveriesPage(BaseModel):
    items: list[Delivery]
    next: int | None = Field(description="pass as `after` for the next (older) page")
