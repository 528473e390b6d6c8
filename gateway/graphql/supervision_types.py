"""督查督办 GraphQL types: items (督办事项) with tasks, timeline, clocks, breaches, cards; stats; board.

The shapes mirror the supervision service's contract (`kaohe/contracts/supervision.py`): items, their tasks
and milestones are built over the RPC result dict lazily (`supervision_rows`), the other types with `mk`;
enums are the contract's, published under `Supervision…` names.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from pydantic import BaseModel
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import UserError, mk
from gateway.graphql.supervision_rows import NESTED, lazy, lazy_field
from kaohe.contracts import supervision as c

ItemStatus = strawberry.enum(c.ItemStatus, name="SupervisionItemStatus", description="办理状态")
ItemSource = strawberry.enum(c.ItemSource, name="SupervisionItemSource", description="线索来源")
ItemPriority = strawberry.enum(c.ItemPriority, name="SupervisionItemPriority", description="缓急")
CardColour = strawberry.enum(c.CardColour, name="SupervisionCardColour", description="牌色: 黄牌 | 红牌")
UnitRole = strawberry.enum(c.UnitRole, name="SupervisionUnitRole", description="牵头单位 | 配合单位")
FeedbackStage = strawberry.enum(
    c.FeedbackStage, name="SupervisionFeedbackStage", description="13710 反馈阶段: 3日反馈、定期推进、报告"
)

# The codes the supervision service raises besides the kernel's (UserError.code / extensions.code).
SUPERVISION_CODES: dict[str, str] = {
    "item_invalid": "The item's fields contradict each other (a late sub-deadline, a unit twice).",
    "number_invalid": "Not a 督办 number such as 督〔2026〕12号.",
    "transition_refused": "The action is not allowed in the item's current status: read it again.",
    "actor_not_allowed": "Your part on this item (office, lead, cooperating unit) may not take this action.",
    "requirement_missing": "The action needs a reason, evidence or a new deadline (`field` names which).",
    "stale_state": "Another change won (compare-and-set on `expectedVersion`): reload the item and decide.",
    "config_invalid": "A clock ladder, card policy or score rule that does not make sense.",
    "number_taken": "The 督办 number is already used by the office: leave it out or pick another.",
    "unit_unknown": "A unit supervision has not learnt of (from indicators): check the unit id.",
    "sweep_forbidden": "Running a sweep by hand is refused in production.",
    "import_invalid": "The file is not a readable XLSX 督办清单.",
    "forbidden_scope": "The unit lies outside your organisation subtree.",
}
SupervisionErrorCode = strawberry.enum(
    Enum(  # type: ignore[misc]
        "SupervisionErrorCode",
        {k.upper(): strawberry.enum_value(k, description=v) for k, v in SUPERVISION_CODES.items()},
    ),
    description="Codes of the supervision service (督查督办) in `UserError.code`, beside the ErrorCode ones",
)


def enums(d: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """An RPC result dict read through its contract model: defaults filled, enums as members, dates typed."""
    return model.model_validate(d).model_dump()


@strawberry.type(description="责任分工: a responsible unit's own task and sub-deadline (分项时限)")
class SupervisionTask:
    unit_id: str
    unit_path: str
    unit_name: str | None
    role: UnitRole  # type: ignore[valid-type]
    task: str
    deadline: date
    done_at: datetime | None = strawberry.field(description="分项报送 (part submitted)")
    late: bool
    __getattr__ = lazy_field  # built over the service's row (`supervision_rows`)


@strawberry.type(description="节点目标")
class SupervisionMilestone:
    title: str
    due: date
    __getattr__ = lazy_field


@strawberry.type(description="办理记录: one entry of the append-only, hash-chained timeline")
class SupervisionEntry:
    seq: int
    cycle: int
    action: str
    actor: str = strawberry.field(description="office | lead | cooperating | system")
    by: str
    at: datetime
    from_status: ItemStatus  # type: ignore[valid-type]
    to_status: ItemStatus  # type: ignore[valid-type]
    unit_id: str | None
    reason: str
    evidence: list[str]
    new_deadline: date | None
    stage: FeedbackStage | None  # type: ignore[valid-type]
    hash: str


@strawberry.type(description="时钟: a working-day clock of the item (签收, 首次反馈, 定期推进, 时限, 分项)")
class SupervisionClock:
    kind: str = strawberry.field(description="accept | first_feedback | progress | deadline | part")
    cycle: int
    seq: int
    unit_id: str
    state: str = strawberry.field(description="running | met | missed | suspended | held | cancelled")
    started_at: datetime
    due_at: datetime | None
    provisional: bool = strawberry.field(description="due in a year the calendar does not cover yet")
    met_at: datetime | None
    missed_at: datetime | None


@strawberry.type(description="超时记录: a missed clock charged to a unit (permanent)")
class SupervisionBreach:
    key: str
    item_id: str
    kind: str
    cycle: int
    unit_id: str
    role: UnitRole  # type: ignore[valid-type]
    at: datetime
    due: datetime
    reason: str
    carded: bool
    overdue_workdays: int


@strawberry.type(description="红黄牌: a card charged to the unit whose part was late (lead or cooperating)")
class SupervisionCard:
    key: str
    colour: CardColour  # type: ignore[valid-type]
    item_id: str
    item_number: str
    unit_id: str
    unit_path: str
    role: UnitRole = strawberry.field(description="归责: charged as lead or as cooperating unit")  # type: ignore[valid-type]
    at: datetime
    reason: str
    breach_key: str


@strawberry.type(description="督办事项: 问题、责任、举措、时限 with its status, clocks and cards")
class SupervisionItem:
    id: strawberry.ID
    number: str = strawberry.field(description="督办编号, e.g. 督〔2026〕12号")
    title: str
    problem: str = strawberry.field(description="问题")
    source: ItemSource  # type: ignore[valid-type]
    source_zh: str
    source_ref: str = strawberry.field(description="what raised it: a warning, a 批示, a hotline ticket")
    source_note: str
    office_id: str = strawberry.field(description="督查室 (the supervising office's unit)")
    office_path: str
    lead: SupervisionTask = strawberry.field(description="牵头单位")
    cooperating: list[SupervisionTask] = strawberry.field(description="配合单位")
    deadline: date = strawberry.field(description="时限 (inclusive)")
    deadlines: list[date] = strawberry.field(description="every deadline it had: 延期 keeps the old ones")
    measures: list[str] = strawberry.field(description="举措")
    milestones: list[SupervisionMilestone]
    priority: ItemPriority  # type: ignore[valid-type]
    indicator_code: str | None = strawberry.field(description="考核发现: the indicator of the warning")
    attachments: list[str]
    status: ItemStatus  # type: ignore[valid-type]
    status_zh: str
    cycle: int
    version: int = strawberry.field(description="pass as `expectedVersion` to a transition")
    next_due: datetime | None
    overdue: bool
    provisional: bool = strawberry.field(description="a running deadline's year is not in the calendar yet")
    calendar_version: str
    yellow_cards: int
    red_cards: int
    cleared_by_data: bool = strawberry.field(description="the warning was cleared: for the office to verify")
    escalated_to: str | None
    parent_id: str | None
    channel: str | None = strawberry.field(description="intake: window (办不成事) | hotline (12345)")
    category: str | None
    contact_phone: str | None = strawberry.field(description="masked except for the office")
    available_actions: list[str] = strawberry.field(description="what you may do now")
    created_at: datetime
    updated_at: datetime
    _detail: strawberry.Private[dict[str, Any] | None] = None
    __getattr__ = lazy_field  # a list row types only the fields a query reads (`supervision_rows`)

    async def _full(self, info: Info[Context, None]) -> dict[str, Any]:
        if self._detail is None:
            ctx = info.context
            self._detail = await ctx.rpc.call("supervision", "item_get", {"item_id": self.id}, ctx.caller)
        return self._detail

    @strawberry.field(description="办理记录, oldest first (loaded with the item, or fetched for list rows)")
    async def timeline(self, info: Info[Context, None]) -> list[SupervisionEntry]:
        return [mk(SupervisionEntry, enums(e, c.EntryPublic)) for e in (await self._full(info))["timeline"]]

    @strawberry.field(description="The item's working-day clocks")
    async def clocks(self, info: Info[Context, None]) -> list[SupervisionClock]:
        return [mk(SupervisionClock, enums(e, c.ClockPublic)) for e in (await self._full(info))["clocks"]]

    @strawberry.field(description="超时记录 (permanent, kept across cycles)")
    async def breaches(self, info: Info[Context, None]) -> list[SupervisionBreach]:
        return [mk(SupervisionBreach, enums(e, c.BreachPublic)) for e in (await self._full(info))["breaches"]]

    @strawberry.field(description="红黄牌 with their attribution")
    async def cards(self, info: Info[Context, None]) -> list[SupervisionCard]:
        return [mk(SupervisionCard, enums(e, c.CardPublic)) for e in (await self._full(info))["cards"]]


def item(d: dict[str, Any], *, detail: bool = False) -> SupervisionItem:
    """A SupervisionItem over an `ItemPublic` (or `ItemDetail`, kept for the timeline fields) dict: its
    fields are typed as GraphQL reads them (`supervision_rows`)."""
    obj = lazy(SupervisionItem, c.ItemDetail if detail else c.ItemPublic, d)
    obj._detail = d if detail else None
    return obj


NESTED.update({c.TaskPublic: SupervisionTask, c.MilestonePublic: SupervisionMilestone})


@strawberry.type(
    description="督办统计 of a unit: on-time rate, overdue, cards, closed, working days to close"
)
class SupervisionUnitStats:
    unit_id: str
    unit_path: str
    unit_name: str | None
    items: int
    lead_items: int
    closed: int
    overdue: int
    on_time_rate: float | None = strawberry.field(description="closed without a breach of its own / closed")
    yellow_cards: int
    red_cards: int
    sent_back: int
    avg_workdays_to_close: float | None


@strawberry.type(description="One column of the 督办清单 board: a status with its count and first items")
class SupervisionBoardColumn:
    status: ItemStatus  # type: ignore[valid-type]
    status_zh: str
    count: int
    items: list[SupervisionItem]


@strawberry.type(description="督办清单 as a board, a column per status")
class SupervisionBoard:
    columns: list[SupervisionBoardColumn]


def board(d: dict[str, Any]) -> SupervisionBoard:
    cols = [
        SupervisionBoardColumn(
            status=c.ItemStatus(col["status"]),
            status_zh=col["status_zh"],
            count=col["count"],
            items=[item(i) for i in col["items"]],
        )
        for col in d["columns"]
    ]
    return SupervisionBoard(columns=cols)


@strawberry.type(description="扣分明细: one item's deduction")
class SupervisionDeduction:
    item_id: str
    deduction: float
    reason: str


@strawberry.type(description="督查得分 (督查结果单独核算): a unit's supervision score in a period")
class SupervisionScore:
    unit_id: str
    unit_path: str
    period: str
    score: float
    items: int
    revision: int
    details: list[SupervisionDeduction]


def score(d: dict[str, Any]) -> SupervisionScore:
    m = enums(d, c.ScorePublic)
    return mk(SupervisionScore, {**m, "details": [mk(SupervisionDeduction, x) for x in m["details"]]})


@strawberry.type(description="The hash chain of an item's timeline checked entry by entry")
class SupervisionTimelineVerification:
    item_id: str
    ok: bool
    entries: int
    broken_at: int | None = strawberry.field(description="seq of the first entry that does not match")
    reason: str | None


@strawberry.type(description="One sweep's counts (run as of a date: development and tests)")
class SupervisionSweepResult:
    as_of: datetime
    items: int
    breaches: int
    cards: int
    scores: int


@strawberry.type(description="The changed item (`node`) or typed errors (ErrorCode, SupervisionErrorCode)")
class SupervisionItemPayload:
    node: SupervisionItem | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
