"""Item use cases (督办事项): create and 交办, assign a pending (draft/intake) item, escalate (上报研究).

Units come from the service's own copy of the indicators service's tree (`unit.changed`): an unknown or
closed unit is refused naming the field. A number is the office's next 晋督〔year〕n号 (its own prefix) unless
one is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.supervision import ItemOpened
from kaohe.contracts.supervision_rpc import (
    ItemAssignParams,
    ItemCreateParams,
    ItemEscalateParams,
    TaskIn,
)
from kaohe.errors import Forbidden
from kaohe.identity import Caller, Role
from kaohe.workdays import CHINA_TZ
from services.supervision.domain import (
    Action,
    ItemNumber,
    Milestone,
    Priority,
    Source,
    SourceRef,
    SupervisionItem,
    UnitTask,
    office_prefix,
)
from services.supervision.domain import (
    Role as UnitRole,
)
from services.supervision.errors import NumberTaken, UnitUnknown
from services.supervision.repository import items as item_repo
from services.supervision.repository import units as unit_repo
from services.supervision.repository.scope import is_office
from services.supervision.service.context import Ctx
from services.supervision.service.convert import body_of
from services.supervision.service.transitions import Move, load, moment, transition

Row = Mapping[str, Any]


async def unit_rows(s: AsyncSession, wanted: dict[str, str]) -> dict[str, Row]:
    """field → unit row for each unit id asked for (field names the first unknown one)."""
    found = await unit_repo.get_many(s, list(set(wanted.values())))
    out: dict[str, Row] = {}
    for fld, uid in wanted.items():
        r = found.get(uid)
        if r is None or r["closed"]:
            raise UnitUnknown(f"{fld}: unit {uid} is not known to supervision", field=fld)
        out[fld] = r
    return out


def require_office(caller: Caller, office_path: str) -> None:
    if not caller.has(Role.supervisor, Role.system):
        raise Forbidden("this operation needs one of the roles: supervisor", code="forbidden_role")
    if not is_office(caller, office_path):
        raise Forbidden(
            "the office is outside your organisation subtree", field="office_id", code="forbidden_scope"
        )


def tasks_of(lead: TaskIn, cooperating: Sequence[TaskIn]) -> tuple[UnitTask, tuple[UnitTask, ...]]:
    return (
        UnitTask(lead.unit_id, UnitRole.LEAD, lead.task, lead.deadline),
        tuple(UnitTask(t.unit_id, UnitRole.COOPERATING, t.task, t.deadline) for t in cooperating),
    )


def unit_fields(lead: TaskIn, cooperating: Sequence[TaskIn]) -> dict[str, str]:
    return {"lead.unit_id": lead.unit_id} | {
        f"cooperating[{i}].unit_id": t.unit_id for i, t in enumerate(cooperating)
    }


def task_rows(item: SupervisionItem, paths: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {"unit_id": t.unit_id, "unit_path": paths[t.unit_id], "role": str(t.role), "task": t.task}
        | {"deadline": t.deadline}
        for t in item.tasks
    ]


async def number_for(
    s: AsyncSession,
    given: str | None,
    office_id: str,
    at: datetime,
    *,
    prefixes: Mapping[str, str] | None = None,
) -> ItemNumber:
    """The given number (if free in the office), else the office's next 晋督〔year〕n号: its prefix from
    `prefixes` (the setting `KAOHE_SUPERVISION_NUMBER_PREFIXES`) or derived from its name (`office_prefix`).
    A sequence already used by hand or under the bare 督 of earlier numbers is skipped, so n stays unique
    in the office whatever the prefix."""
    if given:
        n = ItemNumber.parse(given)
        if await item_repo.number_taken(s, office_id, str(n)):
            raise NumberTaken(f"number: {n} is taken", field="number")
        return n
    prefix = (prefixes or {}).get(office_id)
    if prefix is None:
        office = (await unit_repo.get_many(s, [office_id])).get(office_id)
        prefix = office_prefix(office["name"] if office else "")
    year = at.astimezone(CHINA_TZ).year
    while True:
        n = ItemNumber(year, await item_repo.next_number(s, office_id, year), prefix)
        forms = {str(n), str(replace(n, prefix="督"))}
        if not any([await item_repo.number_taken(s, office_id, f) for f in sorted(forms)]):
            return n


async def open_item(
    s: AsyncSession,
    ctx: Ctx,
    caller: Caller,
    item: SupervisionItem,
    *,
    office: Row,
    paths: Mapping[str, str],
    at: datetime,
    assign: bool,
    extra: dict[str, Any] | None = None,
) -> str:
    """Store a new item (a draft), emit `item.opened`, and 交办 it when `assign`."""
    lead_path = paths[item.lead.unit_id]
    row = {
        "id": item.id,
        "number": str(item.number),
        "title": item.title,
        "problem": item.problem,
        "source": str(item.source.source),
        "source_ref": item.source.ref,
        "source_note": item.source.note,
        "office_id": office["id"],
        "office_path": office["path"],
        "lead_unit": item.lead.unit_id,
        "lead_path": lead_path,
        "deadline": item.deadline,
        "deadlines": [item.deadline.isoformat()],
        "priority": str(item.priority),
        "indicator_code": item.indicator_code,
        "body": body_of(item),
        "status": "draft",
        "open": True,
        "created_at": at,
        "updated_at": at,
        **(extra or {}),
    }
    await item_repo.insert(s, row)
    tasks = task_rows(item, paths)
    await item_repo.replace_units(s, item.id, tasks)
    ev = ItemOpened(
        item_id=item.id,
        number=str(item.number),
        status="draft",  # type: ignore[arg-type]
        version=0,
        office_id=office["id"],
        office_path=office["path"],
        unit_ids=[t["unit_id"] for t in tasks],
        unit_paths=[t["unit_path"] for t in tasks],
        unit_deadlines=[item.deadline if t["role"] == "lead" else t["deadline"] for t in tasks],
        source=str(item.source.source),  # type: ignore[arg-type]
        at=at,
        title=item.title,
        deadline=item.deadline,
        priority=str(item.priority),  # type: ignore[arg-type]
        indicator_code=item.indicator_code,
    )
    await ctx.outbox.emit(s, ev.event(subject=item.id))
    if assign:
        when = at if caller.has(Role.system) else None
        await transition(s, ctx, caller, Move(item.id, Action.ASSIGN, 0, reason="交办", at=when))
    return item.id


async def create(s: AsyncSession, ctx: Ctx, caller: Caller, p: ItemCreateParams) -> str:
    """`item_create`: the office's new item, 交办 unless `assign=False`."""
    at = moment(ctx, caller, p.at)
    rows = await unit_rows(s, {"office_id": p.office_id} | unit_fields(p.lead, p.cooperating))
    office = rows["office_id"]
    require_office(caller, office["path"])
    number = await number_for(s, p.number, p.office_id, at, prefixes=ctx.settings.number_prefixes)
    lead, coop = tasks_of(p.lead, p.cooperating)
    item = SupervisionItem(
        id=str(uuid.uuid4()),
        number=number,
        title=p.title,
        problem=p.problem,
        source=SourceRef(Source(p.source), p.source_ref, p.source_note),
        office_id=p.office_id,
        lead=lead,
        deadline=p.deadline,
        cooperating=coop,
        measures=tuple(p.measures),
        milestones=tuple(Milestone(m.title, m.due) for m in p.milestones),
        priority=Priority(p.priority),
        indicator_code=p.indicator_code,
        attachments=tuple(p.attachments),
    )
    paths = {r["id"]: r["path"] for r in rows.values()}
    return await open_item(s, ctx, caller, item, office=office, paths=paths, at=at, assign=p.assign)


async def assign(s: AsyncSession, ctx: Ctx, caller: Caller, p: ItemAssignParams) -> str:
    """`item_assign`: a draft (an intake, an escalation) gets its units and deadline, then 交办."""
    row, _ = await load(s, caller, p.item_id, lock=True)
    office_id = p.office_id or row["office_id"]
    rows = await unit_rows(s, {"office_id": office_id} | unit_fields(p.lead, p.cooperating))
    require_office(caller, row["office_path"])
    require_office(caller, rows["office_id"]["path"])
    lead, coop = tasks_of(p.lead, p.cooperating)
    b = row["body"]
    item = SupervisionItem(
        id=row["id"],
        number=ItemNumber.parse(row["number"]),
        title=p.title or row["title"],
        problem=row["problem"],
        source=SourceRef(Source(row["source"]), row["source_ref"], row["source_note"]),
        office_id=office_id,
        lead=lead,
        deadline=p.deadline,
        cooperating=coop,
        measures=tuple(p.measures) or tuple(b["measures"]),
        priority=Priority(p.priority or row["priority"]),
        indicator_code=row["indicator_code"],
        attachments=tuple(b["attachments"]),
    )
    paths = {r["id"]: r["path"] for r in rows.values()}
    if row["status"] == "draft":  # the tasks may change only before 交办
        await item_repo.replace_units(s, item.id, task_rows(item, paths))
        await item_repo.update(
            s,
            item.id,
            {
                "title": item.title,
                "office_id": office_id,
                "office_path": rows["office_id"]["path"],
                "lead_unit": lead.unit_id,
                "lead_path": paths[lead.unit_id],
                "deadline": item.deadline,
                "deadlines": [item.deadline.isoformat()],
                "priority": str(item.priority),
                "body": body_of(item),
            },
        )
    await transition(
        s,
        ctx,
        caller,
        Move(p.item_id, Action.ASSIGN, p.expected_version, reason=p.reason or "交办", at=p.at),
    )
    return item.id


async def escalate(s: AsyncSession, ctx: Ctx, caller: Caller, p: ItemEscalateParams) -> str:
    """`item_escalate` (上报研究): the item pauses and a draft item opens at the higher office."""
    row, units = await load(s, caller, p.item_id, lock=True)
    higher_id = p.higher_office_id
    if higher_id is None:
        office = (await unit_repo.get_many(s, [row["office_id"]])).get(row["office_id"])
        higher_id = office["parent_id"] if office else None
    if not higher_id:
        raise UnitUnknown("higher_office_id: the office has no higher level known", field="higher_office_id")
    higher = (await unit_rows(s, {"higher_office_id": higher_id}))["higher_office_id"]
    at = moment(ctx, caller, p.at)
    b = row["body"]
    lead = b["tasks"][0]
    deadline = max(date.fromisoformat(b["deadline"]), at.astimezone(CHINA_TZ).date())
    item = SupervisionItem(
        id=str(uuid.uuid4()),
        number=await number_for(s, None, higher_id, at, prefixes=ctx.settings.number_prefixes),
        title=f"[上报] {row['title']}",
        problem=f"{row['problem']}\n上报理由: {p.reason}",
        source=SourceRef(Source(row["source"]), row["number"], "上报研究"),
        office_id=higher_id,
        lead=UnitTask(lead["unit_id"], UnitRole.LEAD, lead["task"], deadline),
        deadline=deadline,
        indicator_code=row["indicator_code"],
    )
    paths = {u["unit_id"]: u["unit_path"] for u in units}
    new_id = await open_item(
        s,
        ctx,
        Caller.system(),
        item,
        office=higher,
        paths=paths,
        at=at,
        assign=False,
        extra={"parent_id": row["id"]},
    )
    await transition(
        s,
        ctx,
        caller,
        Move(
            p.item_id,
            Action.ESCALATE,
            p.expected_version,
            reason=p.reason,
            at=p.at,
            extra={"escalated_to": new_id},
        ),
    )
    return p.item_id
