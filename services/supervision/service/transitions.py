"""Transitions (办理流程) of a stored item: who acts as what, compare-and-set, the chained entry, the event.

`transition` loads the item under its row lock, replays the stored timeline through the domain's table
(`domain.replay`, so a stored timeline is re-validated), applies the command with `expected_version` as
the compare-and-set version (a stale one raises `StaleState`; of two concurrent commands the second waits
for the lock and then finds the version moved), appends the hash-chained entry, updates the item row,
emits `item.changed` or `item.closed` through the outbox and re-evaluates the clocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.supervision import ItemChanged, ItemClosed
from kaohe.errors import NotFound, ValidationFailed
from kaohe.identity import Caller, Role
from services.supervision.domain import (
    OPEN,
    Action,
    Actor,
    ActorNotAllowed,
    Command,
    StaleState,
    Status,
    TransitionRefused,
    apply,
    replay,
    rule_for,
)
from services.supervision.repository import items as item_repo
from services.supervision.repository import records
from services.supervision.repository.scope import acting_units, can_read, is_office
from services.supervision.service.clocks import Refreshed, refresh
from services.supervision.service.context import Ctx
from services.supervision.service.convert import command_of, domain_item, entries_of

Row = Mapping[str, Any]


@dataclass
class Move:
    """One requested transition as the RPC layer hands it over."""

    item_id: str
    action: Action
    expected: int | None
    reason: str = ""
    evidence: Sequence[str] = ()
    unit_id: str | None = None
    new_deadline: date | None = None
    at: datetime | None = None
    stage: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def not_found(item_id: str) -> NotFound:
    return NotFound(f"item {item_id} not found", field="item_id")


async def load(s: AsyncSession, caller: Caller, item_id: str, *, lock: bool = False) -> tuple[Row, list[Row]]:
    """The item and its units if the caller may read it; otherwise not found (existence not disclosed)."""
    row = await item_repo.get(s, item_id, lock=lock)
    if row is None:
        raise not_found(item_id)
    units = (await item_repo.units_of(s, [item_id]))[item_id]
    if not can_read(caller, row["office_path"], [u["unit_path"] for u in units]):
        raise not_found(item_id)
    return row, units


def moment(ctx: Ctx, caller: Caller, at: datetime | None) -> datetime:
    """`at` is honoured for the system only (imports, demo, tests)."""
    if at is None:
        return ctx.now()
    if not caller.has(Role.system):
        raise ValidationFailed("at: only the system may backdate an action", field="at")
    if at.tzinfo is None:
        raise ValidationFailed("at: give a time zone", field="at")
    return at


def choose_actor(
    caller: Caller, row: Row, units: list[Row], action: Action, unit_id: str | None
) -> tuple[Actor, str | None]:
    """The role the caller takes for this action on this item, and the acting unit."""
    status = Status(row["status"])
    rule = rule_for(status, action=action)
    if rule is None:
        raise TransitionRefused(str(action), str(status))
    lead = row["lead_unit"]
    mine = acting_units(caller, [(u["unit_id"], u["unit_path"]) for u in units])
    if unit_id is not None and unit_id not in mine:
        raise ValidationFailed(f"unit_id: you do not act for unit {unit_id} on this item", field="unit_id")
    coops = [u for u in mine if u != lead]
    if Actor.SYSTEM in rule.actors and caller.has(Role.system):
        return Actor.SYSTEM, None
    wants_coop = unit_id is not None and unit_id != lead
    if Actor.COOPERATING in rule.actors and wants_coop:
        return Actor.COOPERATING, unit_id
    if Actor.OFFICE in rule.actors and is_office(caller, row["office_path"]) and unit_id is None:
        return Actor.OFFICE, None
    if Actor.LEAD in rule.actors and lead in mine and unit_id in (None, lead):
        return Actor.LEAD, lead
    if Actor.COOPERATING in rule.actors and coops and unit_id is None:
        return Actor.COOPERATING, coops[0]
    if Actor.OFFICE in rule.actors and is_office(caller, row["office_path"]):
        return Actor.OFFICE, None
    best = (
        Actor.OFFICE
        if is_office(caller, row["office_path"])
        else Actor.LEAD
        if lead in mine
        else Actor.COOPERATING
        if coops
        else None
    )
    raise ActorNotAllowed(str(action), str(status), str(best or "reader"))


async def transition(s: AsyncSession, ctx: Ctx, caller: Caller, m: Move) -> Refreshed:
    """Apply one command to a stored item (see the module docstring)."""
    row, units = await load(s, caller, m.item_id, lock=True)
    if m.expected is not None and m.expected != row["version"]:
        raise StaleState(m.expected, row["version"])  # compare-and-set first: the other one won
    at = moment(ctx, caller, m.at)
    actor, unit = choose_actor(caller, row, units, m.action, m.unit_id)
    item = domain_item(row)
    stored = await records.entries(s, m.item_id)
    state, _ = replay(item, commands=[command_of(e) for e in entries_of(stored)])
    cmd = Command(m.action, actor, caller.user_id, at, unit, m.reason, tuple(m.evidence), m.new_deadline)
    nxt, entry = apply(state, command=cmd, expected_seq=m.expected)
    await records.append(s, m.item_id, entry.payload(), at=at, stage=m.stage)
    fields: dict[str, Any] = {
        "status": str(nxt.status),
        "open": nxt.status in OPEN,
        "cycle": nxt.cycle,
        "version": nxt.seq,
        "deadline": nxt.deadline,
        "deadlines": [d.isoformat() for d in nxt.deadlines],
        "updated_at": at,
        **m.extra,
    }
    if m.action is Action.ASSIGN:
        fields["assigned_at"] = at
    if nxt.status not in OPEN:
        fields["finished_at"] = at
    elif row["finished_at"] is not None:
        fields["finished_at"] = None
    if m.action is Action.WITHDRAW or m.action is Action.REOPEN:
        fields["cleared_by_data"] = False
    await item_repo.update(s, m.item_id, fields, expected=state.seq)
    fresh = {**row, **fields}
    await emit_change(
        s,
        ctx,
        fresh,
        units,
        action=m.action,
        actor=actor,
        unit=unit,
        at=at,
        reason=m.reason,
        before=state.status,
        parts=dict(nxt.parts),
    )
    # a backdated action (system: imports, demo, tests) is evaluated as of its own moment; later moments
    # are the sweep's (`sweep_run(as_of=…)`)
    return await refresh(s, ctx, fresh, now=at, units=units)


async def emit_change(
    s: AsyncSession,
    ctx: Ctx,
    row: Row,
    units: list[Row],
    *,
    action: Action,
    actor: Actor,
    unit: str | None,
    at: datetime,
    reason: str,
    before: Status,
    parts: Mapping[str, date] | None = None,
) -> None:
    """`item.changed` or `item.closed`; `parts`: the cooperating units' current sub-deadlines."""
    due = parts or {}
    common = dict(
        item_id=row["id"],
        number=row["number"],
        status=row["status"],
        version=row["version"],
        office_id=row["office_id"],
        office_path=row["office_path"],
        unit_ids=[u["unit_id"] for u in units],
        unit_paths=[u["unit_path"] for u in units],
        unit_deadlines=[
            row["deadline"] if u["role"] == "lead" else due.get(u["unit_id"], u["deadline"]) for u in units
        ],
        source=row["source"],
        at=at,
    )
    if row["status"] in ("closed", "withdrawn"):
        outcome = "closed" if row["status"] == "closed" else "withdrawn"
        ev = ItemClosed(outcome=outcome, reason=reason, callback_url=row["callback_url"], **common)  # type: ignore[arg-type]
    else:
        ev = ItemChanged(
            action=str(action),
            from_status=str(before),
            actor=str(actor),
            unit_id=unit,
            deadline=row["deadline"],
            **common,  # type: ignore[arg-type]
        )
    await ctx.outbox.emit(s, ev.event(subject=row["id"]))
