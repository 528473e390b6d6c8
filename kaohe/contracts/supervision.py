"""Events the supervision service (督查督办) publishes, and the vocabulary and result shapes of its RPC.

The RPC params are in `kaohe.contracts.supervision_rpc` (docs/rpc/supervision.md); the events here
are `EventPayload`s (docs/contracts/events.md). Scoring consumes `result.scored`; the gateway relays item
and card events to webhooks and subscriptions. Changes after the first publication are additive only.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.events import EventPayload
from kaohe.contracts.periods import PATTERN as PERIOD


class ItemStatus(StrEnum):  # 办理状态 (same values as services/supervision/domain/lifecycle.Status)
    draft = "draft"  # 待交办 (an intake not yet assigned)
    assigned = "assigned"  # 待签收
    in_progress = "in_progress"  # 已签收/办理中
    extension_requested = "extension_requested"  # 申请延期
    pause_requested = "pause_requested"  # 申请暂停
    paused = "paused"  # 暂停
    escalated = "escalated"  # 上报研究
    closure_requested = "closure_requested"  # 申请销号
    closed = "closed"  # 已销号
    withdrawn = "withdrawn"  # 已撤销


class ItemSource(StrEnum):  # 线索来源
    superior = "superior"  # 上级交办
    leader = "leader"  # 领导批示
    department = "department"  # 部门反馈
    assessment = "assessment"  # 考核发现 (scoring warning)
    rectification = "rectification"  # 考核整改 (graded 较差 / 末位)
    window = "window"  # 办不成事窗口
    hotline = "hotline"  # 12345热线
    other = "other"


class ItemPriority(StrEnum):  # 缓急
    urgent = "urgent"
    high = "high"
    normal = "normal"


class CardColour(StrEnum):  # 牌色
    yellow = "yellow"
    red = "red"


class UnitRole(StrEnum):  # 责任角色
    lead = "lead"  # 牵头单位
    cooperating = "cooperating"  # 配合单位


class FeedbackStage(StrEnum):  # 13710 反馈阶段: 1日签收部署、3日反馈、7日见效、10日报结
    feedback = "feedback"  # 3日反馈 (first feedback)
    progress = "progress"  # 7日/定期推进
    report = "report"  # 10日报告 (periodic report)


class ResultDeduction(BaseModel):
    """One item's deduction in a supervision result."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    item_id: str
    deduction: float
    reason: str


# -- results ------------------------------------------------------------------------------------------
class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MilestonePublic(_Out):
    title: str
    due: date


class OverridePublic(_Out):  # 地方调整
    day: date
    workday: bool
    reason: str


class TaskPublic(_Out):
    unit_id: str
    unit_path: str
    unit_name: str | None = None
    role: UnitRole
    task: str
    deadline: date
    done_at: datetime | None = None  # part submitted
    late: bool = False


class ItemPublic(_Out):
    id: str
    number: str
    title: str
    problem: str
    source: ItemSource
    source_zh: str
    source_ref: str
    source_note: str = ""
    office_id: str
    office_path: str
    lead: TaskPublic
    cooperating: list[TaskPublic]
    deadline: date
    deadlines: list[date]  # every deadline it had (延期 keeps the old ones)
    measures: list[str]
    milestones: list[MilestonePublic] = Field(default_factory=list)
    priority: ItemPriority
    indicator_code: str | None = None
    attachments: list[str] = Field(default_factory=list)
    status: ItemStatus
    status_zh: str
    cycle: int
    version: int  # the compare-and-set version (`expected_version`)
    next_due: datetime | None = None
    overdue: bool = False
    provisional: bool = False  # a running deadline lies in a year the calendar does not cover yet
    calendar_version: str = ""
    yellow_cards: int = 0
    red_cards: int = 0
    cleared_by_data: bool = False  # the warning that opened it was cleared: for the office to verify
    escalated_to: str | None = None  # the higher-level item an escalation opened
    parent_id: str | None = None  # the lower-level item this one was escalated from
    channel: str | None = None  # intake: window | hotline
    category: str | None = None
    contact_phone: str | None = None  # masked (138****5678) except for the office
    available_actions: list[str] = Field(default_factory=list)  # for this caller
    created_at: datetime
    updated_at: datetime


class EntryPublic(_Out):  # 办理记录
    seq: int
    cycle: int
    action: str
    actor: str
    by: str
    at: datetime
    from_status: ItemStatus
    to_status: ItemStatus
    unit_id: str | None = None
    reason: str
    evidence: list[str]
    new_deadline: date | None = None
    stage: FeedbackStage | None = None
    hash: str


class ClockPublic(_Out):
    kind: Literal["accept", "first_feedback", "progress", "deadline", "part"]
    cycle: int
    seq: int
    unit_id: str
    state: Literal["running", "met", "missed", "suspended", "held", "cancelled"]
    started_at: datetime
    due_at: datetime | None = None
    provisional: bool = False
    met_at: datetime | None = None
    missed_at: datetime | None = None


class BreachPublic(_Out):  # 超时记录 (permanent)
    key: str
    item_id: str
    kind: str
    cycle: int
    unit_id: str
    role: UnitRole
    at: datetime
    due: datetime
    reason: str
    carded: bool
    overdue_workdays: int = 0


class CardPublic(_Out):  # 红黄牌
    key: str
    colour: CardColour
    item_id: str
    item_number: str
    unit_id: str
    unit_path: str
    role: UnitRole  # the attribution: charged as lead or as cooperating unit
    at: datetime
    reason: str
    breach_key: str


class ItemDetail(ItemPublic):
    timeline: list[EntryPublic]
    clocks: list[ClockPublic]
    breaches: list[BreachPublic]
    cards: list[CardPublic]


class TimelineVerify(_Out):
    item_id: str
    ok: bool
    entries: int
    broken_at: int | None = None  # seq of the first entry that does not match its hash
    reason: str | None = None


class UnitStats(_Out):
    unit_id: str
    unit_path: str
    unit_name: str | None = None
    items: int
    lead_items: int
    closed: int
    overdue: int  # items with a running clock of this unit past due now
    on_time_rate: float | None  # closed without a breach charged to this unit / closed
    yellow_cards: int
    red_cards: int
    sent_back: int
    avg_workdays_to_close: float | None


class BoardColumn(_Out):
    status: ItemStatus
    status_zh: str
    count: int
    items: list[ItemPublic]


class Board(_Out):
    columns: list[BoardColumn]


class ScorePublic(_Out):  # 督查得分
    unit_id: str
    unit_path: str
    period: str
    score: float
    items: int
    revision: int
    details: list[ResultDeduction]


class IntakeResult(_Out):
    item_id: str
    number: str
    status: ItemStatus
    duplicate: bool


class ImportProblem(_Out):
    row: int  # 1-based spreadsheet row
    column: str  # header text (中文列名)
    field: str
    message: str


class ImportReport(_Out):
    dry_run: bool
    rows: int
    valid: int
    problems: list[ImportProblem]
    created: list[str] = Field(default_factory=list)  # item ids (commit only)


class ExportFile(_Out):
    filename: str
    content_base64: str
    rows: int


class SweepResult(_Out):
    as_of: datetime
    items: int
    breaches: int
    cards: int
    scores: int


class CalendarPublic(_Out):
    version: str
    source: str
    covered_years: list[int]
    overrides: list[OverridePublic]
    created_at: datetime
    recomputed_items: int = 0  # after a change: items whose deadlines moved or became final


# -- events --------------------------------------------------------------------------------------------
class SupervisionResultScored(EventPayload):
    """督查结果单独核算: the supervision part of a unit's score, 0–100; subject: `<unit_id>:<period>`."""

    TYPE = "kaohe.supervision.result.scored"

    unit_id: str
    unit_path: str = ""
    period: str = Field(pattern=PERIOD)
    score: float = Field(ge=0, le=100)
    items: int = 0
    revision: int = 0  # apply only newer ones
    details: list[ResultDeduction] = Field(default_factory=list)


class _ItemEvent(EventPayload):
    item_id: str
    number: str
    status: ItemStatus
    version: int
    office_id: str
    office_path: str
    unit_ids: list[str]  # lead first
    unit_paths: list[str]
    source: ItemSource
    at: datetime
    # each unit's own due day, parallel to unit_ids: the lead's is the item's deadline, a cooperating
    # unit's its 分项时限 (after approved extensions); empty in events published before it existed
    unit_deadlines: list[date] = Field(default_factory=list)


class ItemOpened(_ItemEvent):
    """An item was created (draft/intake or assigned); subject: item id."""

    TYPE = "kaohe.supervision.item.opened"

    title: str
    deadline: date
    priority: ItemPriority
    indicator_code: str | None = None


class ItemChanged(_ItemEvent):
    """A transition other than closing (签收, 反馈, 延期, 暂停, 上报, 退回, 重新办理 …); subject: item id."""

    TYPE = "kaohe.supervision.item.changed"

    action: str
    from_status: ItemStatus
    actor: str
    unit_id: str | None = None  # the acting unit
    deadline: date


class ItemClosed(_ItemEvent):
    """销号 (verified) or 撤销; `callback_url` of an intake item to tell the complainant; subject: item id."""

    TYPE = "kaohe.supervision.item.closed"

    outcome: Literal["closed", "withdrawn"]
    reason: str
    callback_url: str | None = None


class CardIssued(EventPayload):
    """A 黄牌/红牌 charged to a unit (lead or cooperating); subject: `<unit_id>:<item_id>`."""

    TYPE = "kaohe.supervision.card.issued"

    key: str
    colour: CardColour
    item_id: str
    number: str
    unit_id: str
    unit_path: str
    role: UnitRole
    at: datetime
    reason: str
    breach_key: str


class BreachRecorded(EventPayload):
    """A missed clock charged to a unit (permanent); subject: `<unit_id>:<item_id>`."""

    TYPE = "kaohe.supervision.breach.recorded"

    key: str
    item_id: str
    number: str
    kind: str
    unit_id: str
    unit_path: str
    role: UnitRole
    at: datetime
    due: datetime
    reason: str
    carded: bool
