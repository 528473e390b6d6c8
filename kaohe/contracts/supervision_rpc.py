"""RPC params of the supervision service (督查督办): one model per method; results in `supervision`.

Methods are `<rpc_prefix>.supervision.<method>` (docs/rpc/supervision.md lists them with roles and errors);
params are strict (`kaohe.contracts.pages.Request`), results the `*Public` models of
`kaohe.contracts.supervision`. The old
`signals_by_units` method (score signals by unit ids) stays. Additive changes only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from kaohe.contracts.pages import PageRequest, Request
from kaohe.contracts.periods import PATTERN as PERIOD
from kaohe.contracts.supervision import (
    CardColour,
    FeedbackStage,
    ItemPriority,
    ItemSource,
    ItemStatus,
)

ID = Field(min_length=1, max_length=64)
TEXT = 4000


# -- params: items ------------------------------------------------------------------------------------
class TaskIn(Request):
    """A responsible unit's own task and sub-deadline (inclusive)."""

    unit_id: str = ID
    task: str = Field(min_length=1, max_length=TEXT)
    deadline: date


class MilestoneIn(Request):
    title: str = Field(min_length=1, max_length=200)
    due: date


class ItemCreateParams(Request):
    """`item_create` (督查室/system). `number` defaults to the office's next 督〔year〕n号; `assign=False`
    keeps it a draft. `at` backdates the creation and 交办 (system role only: imports, demo, tests)."""

    title: str = Field(min_length=1, max_length=200)
    problem: str = Field(min_length=1, max_length=TEXT)
    source: ItemSource
    source_ref: str = Field(min_length=1, max_length=200)
    source_note: str = Field("", max_length=TEXT)
    office_id: str = ID  # the supervising office's unit (督查室 of that level)
    lead: TaskIn
    cooperating: list[TaskIn] = Field(default_factory=list, max_length=50)
    deadline: date
    measures: list[str] = Field(default_factory=list, max_length=50)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=50)
    priority: ItemPriority = ItemPriority.normal
    indicator_code: str | None = Field(None, max_length=64)
    attachments: list[str] = Field(default_factory=list, max_length=50)  # storage keys
    number: str | None = Field(None, max_length=40)
    assign: bool = True
    at: datetime | None = None


class ItemRef(Request):
    item_id: str = ID


class TransitionParams(ItemRef):
    """Base of every transition: compare-and-set on `expected_version` (the item's `version`; a stale one
    → `stale_state`). `unit_id` names the acting unit when the caller's subtree covers several of the item's
    units (default: the one it covers). `at` backdates (system role only)."""

    expected_version: int = Field(ge=0)
    reason: str = Field("", max_length=TEXT)
    evidence: list[str] = Field(default_factory=list, max_length=50)  # storage keys of 佐证材料
    unit_id: str | None = Field(None, max_length=64)
    at: datetime | None = None


class ItemAcceptParams(TransitionParams):  # item_accept 签收 (lead)
    pass


class ItemFeedbackParams(TransitionParams):  # item_feedback 反馈进展 (lead or cooperating), 13710 stage
    stage: FeedbackStage = FeedbackStage.progress


class ItemPartSubmitParams(TransitionParams):  # item_part_submit 报送分项 (evidence required)
    pass


class ItemClosureRequestParams(TransitionParams):  # item_closure_request 申请销号 (lead; reason+evidence)
    pass


class ItemCloseParams(TransitionParams):  # item_close 审核销号 (office)
    pass


class ItemSendBackParams(TransitionParams):  # item_send_back 退回 (office)
    pass


class ItemExtensionRequestParams(TransitionParams):  # item_extension_request (lead: the item; coop: part)
    new_deadline: date


class ItemExtensionApproveParams(TransitionParams):  # item_extension_approve (office)
    new_deadline: date


class ItemExtensionRejectParams(TransitionParams):  # item_extension_reject (office)
    pass


class ItemPauseRequestParams(TransitionParams):  # item_pause_request (lead)
    pass


class ItemPauseApproveParams(TransitionParams):  # item_pause_approve (office)
    pass


class ItemPauseRejectParams(TransitionParams):  # item_pause_reject (office)
    pass


class ItemResumeParams(TransitionParams):  # item_resume (office)
    pass


class ItemEscalateParams(TransitionParams):  # item_escalate 上报研究 (office): opens an item at the parent
    higher_office_id: str | None = Field(None, max_length=64)  # default: the office's parent unit


class ItemWithdrawParams(TransitionParams):  # item_withdraw 撤销 (office)
    pass


class ItemReopenParams(TransitionParams):  # item_reopen 重新办理 (office): a new cycle
    new_deadline: date


class ItemAssignParams(TransitionParams):  # item_assign 交办 a pending (draft/intake) item (office)
    office_id: str | None = Field(None, max_length=64)
    title: str | None = Field(None, max_length=200)
    lead: TaskIn
    cooperating: list[TaskIn] = Field(default_factory=list, max_length=50)
    deadline: date
    measures: list[str] = Field(default_factory=list, max_length=50)
    priority: ItemPriority | None = None


class ItemListParams(PageRequest):
    """`item_list`: items in the caller's scope, newest first, keyset by (created_at, id)."""

    status: list[ItemStatus] = Field(default_factory=list, max_length=10)
    source: list[ItemSource] = Field(default_factory=list, max_length=10)
    unit_path: str | None = Field(None, max_length=1000)  # lead or cooperating unit in this subtree
    unit_role: Literal["lead", "cooperating", "any"] = "any"
    overdue: bool | None = None  # a running deadline or part past due
    card: CardColour | None = None  # has at least one card of this colour
    period: str | None = Field(None, pattern=PERIOD)  # open at some time in the period
    office_id: str | None = Field(None, max_length=64)
    indicator_code: str | None = Field(None, max_length=64)


class StatsParams(PageRequest):
    """`unit_stats`: per unit in `root_path` (default: the caller's root), for items active in `period`."""

    root_path: str | None = Field(None, max_length=1000)
    period: str | None = Field(None, pattern=PERIOD)


class BoardParams(Request):
    """`board` 督办清单: columns by status, each with its count and first `per_column` items."""

    root_path: str | None = Field(None, max_length=1000)
    period: str | None = Field(None, pattern=PERIOD)
    source: list[ItemSource] = Field(default_factory=list, max_length=10)
    per_column: int = Field(20, ge=1, le=200)


class ScoresParams(Request):
    """`scores_list`: supervision scores (督查得分) of units for a period."""

    unit_ids: list[str] = Field(max_length=1000)
    period: str = Field(pattern=PERIOD)


class IntakeCreateParams(Request):
    """`intake_create` (integration with scope `supervision:intake`, office): a 办不成事 / 12345 complaint
    becomes a draft item for the office to assign. Same `client_key` again → the same item, `duplicate`."""

    channel: Literal["window", "hotline"]
    text: str = Field(min_length=1, max_length=TEXT)
    category: str = Field(min_length=1, max_length=100)
    office_id: str = ID
    contact_phone: str | None = Field(None, max_length=32)
    contact_name: str | None = Field(None, max_length=50)
    attachments: list[str] = Field(default_factory=list, max_length=20)
    client_key: str = Field(min_length=8, max_length=128)
    callback_url: str | None = Field(None, max_length=1000)


class ImportParams(Request):
    """`items_import`: an XLSX 督办清单; `dry_run` lists every problem and changes nothing."""

    office_id: str = ID
    content_base64: str = Field(min_length=1, max_length=12_000_000)
    dry_run: bool = True


class ExportParams(ItemListParams):
    """`items_export`: the filtered list as XLSX (formula-leading cells escaped)."""

    first: int = Field(5000, ge=1, le=50_000)


class SweepParams(Request):
    """`sweep_run` (system/supervisor; refused when `environment == production`): one sweep as of `as_of`."""

    as_of: datetime | None = None
    batch: int = Field(500, ge=1, le=10_000)


class OverrideIn(Request):
    day: date
    workday: bool
    reason: str = Field(min_length=1, max_length=200)


class CalendarOverrideParams(Request):
    """`calendar_override_set` (supervisor/system): add or replace local days; deadlines that cross a changed
    day are recomputed; `remove` drops overrides of those days."""

    overrides: list[OverrideIn] = Field(default_factory=list, max_length=366)
    remove: list[date] = Field(default_factory=list, max_length=366)


class CalendarYearParams(Request):
    """`calendar_year_set`: the State Council notice of a year the package lacks (no longer provisional)."""

    year: int = Field(ge=2000, le=2099)
    days_off: list[date] = Field(max_length=60)
    extra_workdays: list[date] = Field(default_factory=list, max_length=30)
    source: str = Field(min_length=1, max_length=200)


class CalendarVersionsQuery(Request):
    """`calendar_versions`: every calendar version the service has used, newest first — each deadline records
    the version it was computed on, so an office can tell which holidays and overrides it followed."""

    first: int = Field(20, ge=1, le=200)


class CalendarQuery(Request):
    """`calendar_get`: the current calendar version, its coverage and local overrides."""

    year: int | None = Field(None, ge=2000, le=2099)
