"""督查督办 REST for integrators: the 办不成事/12345 intake, 13710-style feedback stages, XLSX import/export.

`POST /api/v1/supervision/intake` (API key with scope `supervision:intake`, or a 督查室 token): a complaint
becomes a pending item (待交办) for the office; it is size-limited (`INTAKE_MAX_BYTES`), rate-limited per
client (`INTAKE_RATE_RPS`, burst `INTAKE_BURST`, on top of the gateway's limit) and deduplicated by
`client_key` (the same key again answers the same item, `duplicate: true`, and creates nothing). With a
`callback_url` the complainant's system is told the outcome when the item is closed or withdrawn, signed
like a webhook (gateway/callbacks.py); the signing secret is in the first answer only. The contact phone
is passed to the service, which stores it encrypted and shows it masked to everyone but the office; it is
never logged here.
"""

from __future__ import annotations

import base64
import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from gateway.callbacks import register_callback
from gateway.limits import BodyTooLarge, RateLimiter
from gateway.policy import Op, authorize
from gateway.rest import CurrentCaller, _call
from gateway.rest_models import ERRORS
from kaohe.contracts import supervision as c
from kaohe.contracts.supervision_rpc import TEXT
from kaohe.errors import KaoheError
from kaohe.identity import Caller

INTAKE_MAX_BYTES = 64 * 1024
INTAKE_RATE_RPS = 2.0
INTAKE_BURST = 20
_limiter = RateLimiter(INTAKE_RATE_RPS, INTAKE_BURST)


async def small_body(request: Request) -> None:
    """413 for an intake body above INTAKE_MAX_BYTES (the whole gateway's limit is far larger)."""
    length = request.headers.get("content-length")
    if (length and length.isdigit() and int(length) > INTAKE_MAX_BYTES) or len(
        await request.body()
    ) > INTAKE_MAX_BYTES:
        raise BodyTooLarge(f"an intake body may hold at most {INTAKE_MAX_BYTES} bytes", field="body")


router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])

# HTTP status of the supervision service's own codes (an RPC error carries the code, not the status)
STATUS = {
    "stale_state": 409,
    "transition_refused": 409,
    "number_taken": 409,
    "actor_not_allowed": 403,
    "forbidden_scope": 403,
    "sweep_forbidden": 403,
    "requirement_missing": 422,
    "item_invalid": 422,
    "number_invalid": 422,
    "unit_unknown": 422,
    "import_invalid": 422,
    "config_invalid": 422,
}


async def call(
    request: Request, caller: Caller, op: Op, method: str, params: dict[str, Any], **kw: Any
) -> Any:
    """`_call` to the supervision service, its error codes answered with their HTTP status."""
    try:
        return await _call(request, caller, op, "supervision", method, params, **kw)
    except KaoheError as e:
        e.status = STATUS.get(e.code, e.status)
        raise


class IntakeCreate(BaseModel):
    """A complaint from the 办不成事 window or the 12345 hotline (诉求)."""

    client_key: str = Field(
        min_length=8, max_length=128, description="your idempotency key: resend with it, never twice"
    )
    channel: Literal["window", "hotline"] = Field(description="window: 办不成事窗口; hotline: 12345热线")
    office_id: str = Field(min_length=1, max_length=64, description="the supervising office's unit (督查室)")
    text: str = Field(min_length=1, max_length=TEXT, description="诉求内容")
    category: str = Field(min_length=1, max_length=100, description="诉求类别")
    contact_phone: str | None = Field(
        None, max_length=32, pattern=r"^[0-9+\- ]{3,32}$", description="联系电话 (stored encrypted)"
    )
    contact_name: str | None = Field(None, max_length=50, description="联系人")
    attachments: list[str] = Field(
        default_factory=list, max_length=20, description="storage keys of uploaded files"
    )
    callback_url: str | None = Field(
        None, max_length=1000, description="https URL told the outcome (销号/撤销), signed like webhooks"
    )


class IntakeCreated(BaseModel):
    item_id: str
    number: str = Field(description="督办编号")
    status: str = Field(description="draft (待交办) until the office assigns it")
    duplicate: bool = Field(description="true: this client_key was sent before; nothing new was created")
    callback_secret: str | None = Field(
        None, description="HMAC secret of the outcome callback (Kaohe-Signature), in the first answer only"
    )


@router.post(
    "/intake",
    status_code=201,
    responses={
        **ERRORS,
        200: {"model": IntakeCreated, "description": "a replayed client_key: the item it created before"},
    },
    response_model=IntakeCreated,
    summary="办不成事/12345 intake: a complaint becomes a pending 督办 item",
    dependencies=[Depends(small_body)],
)
async def intake_create(
    body: IntakeCreate, request: Request, response: Response, caller: CurrentCaller
) -> dict[str, Any]:
    authorize(caller, Op.supervision_intake)
    _limiter.check(f"intake:{caller.user_id}")
    services = request.app.state.services
    if body.callback_url:  # a bad target changes nothing: checked before the item exists
        await services.webhooks.check_url(body.callback_url, field="callback_url")
    params = body.model_dump(exclude_none=True)
    r = await call(request, caller, Op.supervision_intake, "intake_create", params)
    out = {**r, "callback_secret": None}
    if r["duplicate"]:
        response.status_code = 200
    elif body.callback_url:
        async with services.webhooks.db.uow() as s:
            out["callback_secret"] = await register_callback(
                s, caller, item_id=r["item_id"], url=body.callback_url
            )
    return out


class Feedback(BaseModel):
    """One 13710 stage: 1日签收 (accept), 3日反馈 (feedback), 7日推进 (progress), 10日报告 (report), and
    报结 (close: 申请销号 with results and evidence)."""

    stage: Literal["accept", "feedback", "progress", "report", "close"]
    expected_version: int = Field(ge=0, description="the item's `version` as last read")
    reason: str = Field("", max_length=TEXT, description="what was done (required except for accept)")
    evidence: list[str] = Field(default_factory=list, max_length=50, description="佐证材料 storage keys")
    unit_id: str | None = Field(None, max_length=64, description="the acting unit, when you act for several")


class ItemOut(BaseModel):
    """A 督办 item as integrators read it (GraphQL `supervisionItem` has every field)."""

    id: str
    number: str
    title: str
    status: str
    status_zh: str
    version: int
    deadline: date
    overdue: bool
    yellow_cards: int
    red_cards: int
    available_actions: list[str]


def _item_out(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d.get(k) for k in ItemOut.model_fields}


@router.get("/items/{item_id}", responses=ERRORS, response_model=ItemOut, summary="One 督办 item's status")
async def item_get(item_id: str, request: Request, caller: CurrentCaller) -> dict[str, Any]:
    params = {"item_id": item_id}
    return _item_out(await call(request, caller, Op.supervision_read, "item_get", params))


@router.post(
    "/items/{item_id}/feedback",
    responses=ERRORS,
    response_model=ItemOut,
    summary="13710 反馈: 签收, 反馈, 推进, 报告 or 报结 (申请销号) on an item of your unit",
)
async def item_feedback(
    item_id: str, body: Feedback, request: Request, caller: CurrentCaller
) -> dict[str, Any]:
    params: dict[str, Any] = {"item_id": item_id, **body.model_dump(exclude_none=True, exclude={"stage"})}
    if body.stage == "accept":
        method = "item_accept"
    elif body.stage == "close":
        method = "item_closure_request"
    else:
        method = "item_feedback"
        params["stage"] = "progress" if body.stage == "progress" else body.stage
    return _item_out(await call(request, caller, Op.supervision_act, method, params))


class ImportBody(BaseModel):
    """An XLSX 督办清单: dry run first (every problem listed, nothing changed), then commit."""

    office_id: str = Field(min_length=1, max_length=64, description="the supervising office's unit")
    content_base64: str = Field(min_length=1, max_length=12_000_000, description="the .xlsx file's bytes")
    dry_run: bool = True


class ImportProblem(BaseModel):
    row: int
    column: str
    field: str
    message: str


class ImportReport(BaseModel):
    dry_run: bool
    rows: int
    valid: int
    problems: list[ImportProblem]
    created: list[str] = Field(default_factory=list, description="item ids (commit only)")


@router.post(
    "/import",
    responses=ERRORS,
    response_model=ImportReport,
    summary="XLSX import of a 督办清单: dry run, then commit",
)
async def items_import(body: ImportBody, request: Request, caller: CurrentCaller) -> dict[str, Any]:
    params = body.model_dump()
    return await call(request, caller, Op.supervision_manage, "items_import", params, batch=True)  # type: ignore[no-any-return]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/export",
    responses={
        200: {
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            "description": "督办清单 as .xlsx (row count in X-Rows)",
        },
        **ERRORS,
    },
    response_class=Response,
    summary="XLSX export of a 督办清单 (cells starting with = + - @ are text)",
)
async def items_export(
    request: Request,
    caller: CurrentCaller,
    status: Annotated[list[c.ItemStatus] | None, Query()] = None,
    source: Annotated[list[c.ItemSource] | None, Query()] = None,
    office_id: str | None = None,
    period: str | None = None,
    overdue: bool | None = None,
    card: c.CardColour | None = None,
    first: Annotated[int, Query(ge=1, le=50_000)] = 5000,
) -> Response:
    params: dict[str, Any] = {
        "status": [s.value for s in status or []],
        "source": [s.value for s in source or []],
        "office_id": office_id,
        "period": period,
        "overdue": overdue,
        "card": card.value if card else None,
        "first": first,
    }
    params = {k: v for k, v in params.items() if v is not None and v != []}
    f = await call(request, caller, Op.supervision_export, "items_export", params, batch=True)
    name = f["filename"] if re.fullmatch(r"[\w.\-]{1,100}", f["filename"], re.ASCII) else "supervision.xlsx"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Rows": str(f["rows"])}
    return Response(base64.b64decode(f["content_base64"]), media_type=XLSX, headers=headers)
