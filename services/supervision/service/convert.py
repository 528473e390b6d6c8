"""Rows ↔ the pure domain and the contract: a stored item as a domain item, entries as commands, Publics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from kaohe.contracts.supervision import (
    BreachPublic,
    CardPublic,
    ClockPublic,
    EntryPublic,
    ItemPublic,
)
from kaohe.identity import Caller
from services.supervision.domain import (
    SOURCE_ZH,
    Action,
    Actor,
    Board,
    Command,
    Entry,
    ItemNumber,
    Milestone,
    Priority,
    Role,
    Source,
    SourceRef,
    Status,
    SupervisionItem,
    UnitTask,
    allowed_actions,
)
from services.supervision.repository.scope import acting_units, is_office
from services.supervision.service.context import Ctx, mask_phone

Row = Mapping[str, Any]

STATUS_ZH = {
    "draft": "待交办",
    "assigned": "待签收",
    "in_progress": "办理中",
    "extension_requested": "申请延期",
    "pause_requested": "申请暂停",
    "paused": "暂停",
    "escalated": "上报研究",
    "closure_requested": "申请销号",
    "closed": "已销号",
    "withdrawn": "已撤销",
}
# domain action → the RPC method's verb (item_<verb>)
VERB = {
    Action.ASSIGN: "assign",
    Action.ACCEPT: "accept",
    Action.REPORT_PROGRESS: "feedback",
    Action.SUBMIT_PART: "part_submit",
    Action.REQUEST_EXTENSION: "extension_request",
    Action.APPROVE_EXTENSION: "extension_approve",
    Action.REJECT_EXTENSION: "extension_reject",
    Action.REQUEST_PAUSE: "pause_request",
    Action.APPROVE_PAUSE: "pause_approve",
    Action.REJECT_PAUSE: "pause_reject",
    Action.RESUME: "resume",
    Action.ESCALATE: "escalate",
    Action.REQUEST_CLOSURE: "closure_request",
    Action.VERIFY_CLOSURE: "close",
    Action.SEND_BACK: "send_back",
    Action.WITHDRAW: "withdraw",
    Action.REOPEN: "reopen",
}


def task_dict(t: UnitTask) -> dict[str, Any]:
    return {"unit_id": t.unit_id, "role": str(t.role), "task": t.task, "deadline": t.deadline.isoformat()}


def body_of(item: SupervisionItem) -> dict[str, Any]:
    """What is stored of the item as assigned (its tasks, measures, milestones, attachments)."""
    return {
        "number": str(item.number),
        "deadline": item.deadline.isoformat(),
        "tasks": [task_dict(t) for t in item.tasks],
        "measures": list(item.measures),
        "milestones": [{"title": m.title, "due": m.due.isoformat()} for m in item.milestones],
        "attachments": list(item.attachments),
    }


# value → member, built once: `Enum(value)` costs a microsecond a call, ten calls an item in a sweep
_ACTION = {m.value: m for m in Action}
_ACTOR = {m.value: m for m in Actor}
_STATUS = {m.value: m for m in Status}
_ROLE = {m.value: m for m in Role}
_SOURCE = {m.value: m for m in Source}
_PRIORITY = {m.value: m for m in Priority}


def domain_item(row: Row) -> SupervisionItem:
    b = row["body"]
    tasks = [
        UnitTask(t["unit_id"], _ROLE[t["role"]], t["task"], date.fromisoformat(t["deadline"]))
        for t in b["tasks"]
    ]
    return SupervisionItem(
        id=row["id"],
        number=ItemNumber.parse(b["number"]),
        title=row["title"],
        problem=row["problem"],
        source=SourceRef(_SOURCE[row["source"]], row["source_ref"], row["source_note"]),
        office_id=row["office_id"],
        lead=tasks[0],
        deadline=date.fromisoformat(b["deadline"]),
        cooperating=tuple(tasks[1:]),
        measures=tuple(b["measures"]),
        milestones=tuple(Milestone(m["title"], date.fromisoformat(m["due"])) for m in b["milestones"]),
        priority=_PRIORITY[row["priority"]],
        indicator_code=row["indicator_code"],
        attachments=tuple(b["attachments"]),
    )


def _dt(v: Any) -> datetime:
    return v if isinstance(v, datetime) else datetime.fromisoformat(v)


def domain_entry(p: Mapping[str, Any]) -> Entry:
    nd = p["new_deadline"]
    return Entry(
        seq=p["seq"],
        cycle=p["cycle"],
        action=_ACTION[p["action"]],
        actor=_ACTOR[p["actor"]],
        by=p["by"],
        at=_dt(p["at"]),
        from_status=_STATUS[p["from"]],
        to_status=_STATUS[p["to"]],
        unit_id=p["unit_id"],
        reason=p["reason"],
        evidence=tuple(p["evidence"]),
        new_deadline=date.fromisoformat(nd) if nd else None,
    )


def command_of(e: Entry) -> Command:
    return Command(e.action, e.actor, e.by, e.at, e.unit_id, e.reason, e.evidence, e.new_deadline)


def entries_of(rows: Sequence[Row]) -> list[Entry]:
    return [domain_entry(r["payload"]) for r in rows]


def entry_public(r: Row) -> EntryPublic:
    p = r["payload"]
    return EntryPublic(
        seq=p["seq"],
        cycle=p["cycle"],
        action=p["action"],
        actor=p["actor"],
        by=p["by"],
        at=_dt(p["at"]),
        from_status=p["from"],
        to_status=p["to"],
        unit_id=p["unit_id"],
        reason=p["reason"],
        evidence=p["evidence"],
        new_deadline=p["new_deadline"],
        stage=r["stage"],
        hash=r["hash"],
    )


# (status, actors) → the RPC verbs: a list page asks the same few questions of the domain's table
_VERBS: dict[tuple[str, tuple[Actor, ...]], tuple[str, ...]] = {}


def _verbs(status: str, actors: tuple[Actor, ...]) -> tuple[str, ...]:
    key = (status, actors)
    got = _VERBS.get(key)
    if got is None:
        out: list[str] = []
        for actor in actors:
            for a in allowed_actions(Status(status), actor=actor):
                v = VERB.get(a)
                if v and v not in out:
                    out.append(v)
        got = _VERBS[key] = tuple(out)
    return got


def available(caller: Caller, row: Row, units: Sequence[Row]) -> list[str]:
    """The transitions this caller may take now (RPC verbs), from the domain's table."""
    mine = set(acting_units(caller, [(u["unit_id"], u["unit_path"]) for u in units]))
    actors: list[Actor] = []
    if is_office(caller, row["office_path"]):
        actors.append(Actor.OFFICE)
    if row["lead_unit"] in mine:
        actors.append(Actor.LEAD)
    if mine - {row["lead_unit"]}:
        actors.append(Actor.COOPERATING)
    return list(_verbs(row["status"], tuple(actors)))


def item_public(ctx: Ctx, caller: Caller, row: Row, units: Sequence[Row]) -> dict[str, Any]:
    """The fields of `ItemPublic` (a dict, so `ItemDetail` can add to it); nested parts as plain dicts,
    validated once with the whole (`to_item_public`, `ItemDetail`)."""
    tasks = [
        {
            "unit_id": u["unit_id"],
            "unit_path": u["unit_path"],
            "unit_name": u.get("unit_name"),
            "role": u["role"],
            "task": u["task"],
            "deadline": u["deadline"],
            "done_at": u["done_at"],
        }
        for u in units
    ]
    b = row["body"]
    office = is_office(caller, row["office_path"])
    phone = ctx.unseal(row["contact_phone"])
    return dict(
        id=row["id"],
        number=row["number"],
        title=row["title"],
        problem=row["problem"],
        source=row["source"],
        source_zh=SOURCE_ZH[Source(row["source"])],
        source_ref=row["source_ref"],
        source_note=row["source_note"],
        office_id=row["office_id"],
        office_path=row["office_path"],
        lead=tasks[0],
        cooperating=tasks[1:],
        deadline=row["deadline"],
        deadlines=row["deadlines"],
        measures=b["measures"],
        milestones=b["milestones"],
        priority=row["priority"],
        indicator_code=row["indicator_code"],
        attachments=b["attachments"],
        status=row["status"],
        status_zh=STATUS_ZH[row["status"]],
        cycle=row["cycle"],
        version=row["version"],
        next_due=row["next_due"],
        overdue=row["overdue"],
        provisional=row["provisional"],
        calendar_version=row["calendar_version"],
        yellow_cards=row["yellow_cards"],
        red_cards=row["red_cards"],
        cleared_by_data=row["cleared_by_data"],
        escalated_to=row["escalated_to"],
        parent_id=row["parent_id"],
        channel=row["channel"],
        category=row["category"],
        contact_phone=phone if office else mask_phone(phone),
        available_actions=available(caller, row, units),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def to_item_public(ctx: Ctx, caller: Caller, row: Row, units: Sequence[Row]) -> ItemPublic:
    return ItemPublic.model_validate(item_public(ctx, caller, row, units))


def clocks_public(board: Board | None) -> list[ClockPublic]:
    if board is None:
        return []
    return [
        ClockPublic(
            kind=str(c.kind),  # type: ignore[arg-type]
            cycle=c.cycle,
            seq=c.seq,
            unit_id=c.unit_id,
            state=str(c.state),  # type: ignore[arg-type]
            started_at=c.started_at,
            due_at=c.due.at if c.due else None,
            provisional=c.due.provisional if c.due else False,
            met_at=c.met_at,
            missed_at=c.missed_at,
        )
        for c in board.clocks
    ]


def breach_public(r: Row) -> BreachPublic:
    return BreachPublic(**{k: r[k] for k in BreachPublic.model_fields if k != "overdue_workdays"})


def card_public(r: Row, number: str) -> CardPublic:
    return CardPublic(item_number=number, **{k: r[k] for k in CardPublic.model_fields if k != "item_number"})
