"""The item's lifecycle (办理流程) as one explicit table: (state, action) → next state, who, what it needs.

Basis: issue 12 §2 and the seeds — 交办 → 签收 → 办理/定期反馈 → 申请销号 with results and evidence → 督查室
审核销号 or 退回; 申请延期 approved with a new deadline (the old one kept); problems that cannot be solved at
this level 上报研究; withdrawal with a reason; a closed item reopened as a new cycle (earlier breaches stay).
A clock stops only in an approved state (暂停 after the office approved the request, or 上报研究): a unit
cannot stop its own clocks. Every accepted command yields one timeline entry (who, when, what, why,
evidence) whose `payload()` is what `kaohe.chain` hashes; a refused one raises a typed error and changes
nothing. `seq` is the compare-and-set version: of two concurrent commands on the same version one wins.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from .errors import ActorNotAllowed, RequirementMissing, StaleState, TransitionRefused
from .items import SupervisionItem


class Status(StrEnum):  # 办理状态
    DRAFT = "draft"  # 待交办 (an intake not yet assigned)
    ASSIGNED = "assigned"  # 待签收
    IN_PROGRESS = "in_progress"  # 已签收/办理中
    EXTENSION_REQUESTED = "extension_requested"  # 申请延期
    PAUSE_REQUESTED = "pause_requested"  # 申请暂停
    PAUSED = "paused"  # 暂停 (approved: waiting on another authority)
    ESCALATED = "escalated"  # 上报研究
    CLOSURE_REQUESTED = "closure_requested"  # 申请销号
    CLOSED = "closed"  # 已销号
    WITHDRAWN = "withdrawn"  # 已撤销


class Action(StrEnum):  # 操作
    ASSIGN = "assign"  # 交办
    ACCEPT = "accept"  # 签收
    REPORT_PROGRESS = "report_progress"  # 反馈进展
    SUBMIT_PART = "submit_part"  # 报送分项完成情况
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    APPROVE_EXTENSION = "approve_extension"  # 批准延期
    REJECT_EXTENSION = "reject_extension"  # 驳回延期
    REQUEST_PAUSE = "request_pause"  # 申请暂停
    APPROVE_PAUSE = "approve_pause"  # 批准暂停
    REJECT_PAUSE = "reject_pause"  # 驳回暂停
    RESUME = "resume"  # 恢复办理
    ESCALATE = "escalate"  # 上报研究
    REQUEST_CLOSURE = "request_closure"  # 申请销号
    VERIFY_CLOSURE = "verify_closure"  # 审核销号
    SEND_BACK = "send_back"  # 退回
    WITHDRAW = "withdraw"  # 撤销
    REOPEN = "reopen"  # 重新办理
    RECORD_SIGNAL = "record_signal"  # 记录线索 (a warning raised again, or cleared by data)


class Actor(StrEnum):  # 操作主体
    OFFICE = "office"  # 督查室
    LEAD = "lead"  # 牵头单位
    COOPERATING = "cooperating"  # 配合单位
    SYSTEM = "system"  # 系统 (consumers and sweeps)


class Need(StrEnum):  # 必备要素
    REASON = "reason"  # the entry's text: why, or what was done
    EVIDENCE = "evidence"  # 佐证材料 (storage keys)
    NEW_DEADLINE = "new_deadline"


@dataclass(frozen=True, slots=True)
class Rule:
    to: Status  # the next state (the same state for progress, parts and signals)
    actors: frozenset[Actor]
    needs: frozenset[Need] = frozenset()


S, A, R = Status, Action, Need
OPEN: frozenset[Status] = frozenset(set(Status) - {S.CLOSED, S.WITHDRAWN})
WORKING: tuple[Status, ...] = (S.IN_PROGRESS, S.EXTENSION_REQUESTED, S.PAUSE_REQUESTED)  # clocks run
SUSPENDED: frozenset[Status] = frozenset({S.PAUSED, S.ESCALATED})  # approved states that stop clocks
_OFFICE, _LEAD, _UNITS = (
    frozenset({Actor.OFFICE}),
    frozenset({Actor.LEAD}),
    frozenset({Actor.LEAD, Actor.COOPERATING}),
)


def _table() -> dict[tuple[Status, Action], Rule]:
    t: dict[tuple[Status, Action], Rule] = {
        (S.DRAFT, A.ASSIGN): Rule(S.ASSIGNED, _OFFICE),
        (S.ASSIGNED, A.ACCEPT): Rule(S.IN_PROGRESS, _LEAD),
        (S.IN_PROGRESS, A.REQUEST_EXTENSION): Rule(
            S.EXTENSION_REQUESTED, _UNITS, frozenset({R.REASON, R.NEW_DEADLINE})
        ),
        (S.EXTENSION_REQUESTED, A.APPROVE_EXTENSION): Rule(
            S.IN_PROGRESS, _OFFICE, frozenset({R.NEW_DEADLINE})
        ),
        (S.EXTENSION_REQUESTED, A.REJECT_EXTENSION): Rule(S.IN_PROGRESS, _OFFICE, frozenset({R.REASON})),
        (S.IN_PROGRESS, A.REQUEST_PAUSE): Rule(S.PAUSE_REQUESTED, _LEAD, frozenset({R.REASON})),
        (S.PAUSE_REQUESTED, A.APPROVE_PAUSE): Rule(S.PAUSED, _OFFICE, frozenset({R.REASON})),
        (S.PAUSE_REQUESTED, A.REJECT_PAUSE): Rule(S.IN_PROGRESS, _OFFICE, frozenset({R.REASON})),
        (S.PAUSED, A.RESUME): Rule(S.IN_PROGRESS, _OFFICE, frozenset({R.REASON})),
        (S.ESCALATED, A.RESUME): Rule(S.IN_PROGRESS, _OFFICE, frozenset({R.REASON})),
        (S.IN_PROGRESS, A.REQUEST_CLOSURE): Rule(
            S.CLOSURE_REQUESTED, _LEAD, frozenset({R.REASON, R.EVIDENCE})
        ),
        (S.CLOSURE_REQUESTED, A.VERIFY_CLOSURE): Rule(S.CLOSED, _OFFICE, frozenset({R.REASON})),
        (S.CLOSURE_REQUESTED, A.SEND_BACK): Rule(S.IN_PROGRESS, _OFFICE, frozenset({R.REASON})),
        (S.CLOSED, A.REOPEN): Rule(S.IN_PROGRESS, _OFFICE, frozenset({R.REASON, R.NEW_DEADLINE})),
    }
    for s in (S.ASSIGNED, S.IN_PROGRESS, S.PAUSED):
        t[s, A.ESCALATE] = Rule(S.ESCALATED, _OFFICE, frozenset({R.REASON}))
    for s in WORKING:
        t[s, A.REPORT_PROGRESS] = Rule(s, _UNITS, frozenset({R.REASON}))
        t[s, A.SUBMIT_PART] = Rule(s, _UNITS, frozenset({R.EVIDENCE}))
    for s in OPEN:
        t[s, A.WITHDRAW] = Rule(S.WITHDRAWN, _OFFICE, frozenset({R.REASON}))
        t[s, A.RECORD_SIGNAL] = Rule(s, frozenset({Actor.SYSTEM}), frozenset({R.REASON}))
    return t


TABLE: dict[tuple[Status, Action], Rule] = _table()


@dataclass(frozen=True, slots=True)
class Command:  # 操作指令
    """One requested transition; `unit_id` names the acting unit (a cooperating unit's part or extension)."""

    action: Action
    actor: Actor
    by: str  # the person or system that acts
    at: datetime
    unit_id: str | None = None
    reason: str = ""
    evidence: tuple[str, ...] = ()
    new_deadline: date | None = None


@dataclass(frozen=True, slots=True)
class Entry:  # 办理记录 (one row of the append-only timeline)
    seq: int
    cycle: int
    action: Action
    actor: Actor
    by: str
    at: datetime
    from_status: Status
    to_status: Status
    unit_id: str | None = None
    reason: str = ""
    evidence: tuple[str, ...] = ()
    new_deadline: date | None = None

    def payload(self) -> dict[str, Any]:
        """The canonical content `kaohe.chain.link` hashes (plain JSON types, dates as ISO strings)."""
        return {
            "seq": self.seq,
            "cycle": self.cycle,
            "action": str(self.action),
            "actor": str(self.actor),
            "by": self.by,
            "at": self.at.isoformat(),
            "from": str(self.from_status),
            "to": str(self.to_status),
            "unit_id": self.unit_id,
            "reason": self.reason,
            "evidence": list(self.evidence),
            "new_deadline": self.new_deadline.isoformat() if self.new_deadline else None,
        }


@dataclass(frozen=True, slots=True)
class ItemState:  # 事项状态
    """What the timeline adds up to; `seq` is the number of entries (the compare-and-set version)."""

    status: Status
    cycle: int
    deadline: date
    deadlines: tuple[date, ...]  # every deadline the item has had, oldest first (延期 keeps the old one)
    lead_id: str
    parts: tuple[tuple[str, date], ...]  # (cooperating unit, sub-deadline) in the item's order
    pending_extension: tuple[str | None, date] | None = None  # (unit whose part, or None: the item)
    sent_back: int = 0
    seq: int = 0
    last_at: datetime | None = None

    @classmethod
    def start(cls, item: SupervisionItem, *, status: Status = Status.DRAFT) -> ItemState:
        """The state before the first entry (a draft; DRAFT → ASSIGNED is the office's 交办)."""
        parts = tuple((t.unit_id, t.deadline) for t in item.cooperating)
        return cls(status, 1, item.deadline, (item.deadline,), item.lead.unit_id, parts)

    def part_deadline(self, unit_id: str) -> date | None:
        return next((d for u, d in self.parts if u == unit_id), None)


def rule_for(state: Status, *, action: Action) -> Rule | None:
    """The table's rule, or None when the action is undefined in that state."""
    return TABLE.get((state, action))


def allowed_actions(state: Status, *, actor: Actor) -> list[Action]:
    """What this role may do now, for menus and the API's `availableActions`."""
    return [a for (s, a), r in TABLE.items() if s is state and actor in r.actors]


def apply(state: ItemState, *, command: Command, expected_seq: int | None = None) -> tuple[ItemState, Entry]:
    """The next state and its timeline entry; refusals raise typed errors (see `errors`)."""
    if expected_seq is not None and expected_seq != state.seq:
        raise StaleState(expected_seq, state.seq)
    action, where = command.action, state.status
    rule = TABLE.get((where, action))
    if rule is None:
        raise TransitionRefused(action, where)
    if command.actor not in rule.actors:
        raise ActorNotAllowed(action, where, command.actor)
    _check_needs(state, command, rule)
    unit_id = _acting_unit(state, command)
    nxt = replace(state, status=rule.to, seq=state.seq + 1, last_at=command.at)
    if action is A.REQUEST_EXTENSION:
        nxt = replace(nxt, pending_extension=(_part_unit(state, unit_id), command.new_deadline))  # type: ignore[arg-type]
    elif action is A.APPROVE_EXTENSION:
        nxt = _extend(nxt, command.new_deadline)  # type: ignore[arg-type]
    elif action is A.REJECT_EXTENSION:
        nxt = replace(nxt, pending_extension=None)
    elif action is A.SEND_BACK:
        nxt = replace(nxt, sent_back=state.sent_back + 1)
    elif action is A.REOPEN:
        d = command.new_deadline
        nxt = replace(nxt, cycle=state.cycle + 1, deadline=d, deadlines=(*state.deadlines, d))  # type: ignore[arg-type]
    entry = Entry(
        seq=nxt.seq,
        cycle=nxt.cycle,
        action=action,
        actor=command.actor,
        by=command.by,
        at=command.at,
        from_status=where,
        to_status=rule.to,
        unit_id=unit_id,
        reason=command.reason.strip(),
        evidence=command.evidence,
        new_deadline=command.new_deadline,
    )
    return nxt, entry


def replay(item: SupervisionItem, *, commands: list[Command]) -> tuple[ItemState, list[Entry]]:
    """Fold commands from the start; the same checks as `apply`, so a stored timeline is re-validated."""
    state, entries = ItemState.start(item), []
    for c in commands:
        state, e = apply(state, command=c)
        entries.append(e)
    return state, entries


def _check_needs(state: ItemState, c: Command, rule: Rule) -> None:
    a, s = c.action, state.status
    if state.last_at is not None and c.at < state.last_at:
        raise RequirementMissing(a, s, "at", f"{a} at {c.at.isoformat()} is earlier than the last entry")
    if R.REASON in rule.needs and not c.reason.strip():
        raise RequirementMissing(a, s, "reason")
    if R.EVIDENCE in rule.needs and not any(e.strip() for e in c.evidence):
        raise RequirementMissing(a, s, "evidence")
    if R.NEW_DEADLINE not in rule.needs:
        return
    if c.new_deadline is None:
        raise RequirementMissing(a, s, "new_deadline")
    if a is A.REOPEN:
        if c.new_deadline < c.at.date():
            raise RequirementMissing(a, s, "new_deadline", "a reopened item needs a deadline not in the past")
        return
    unit = state.pending_extension[0] if a is A.APPROVE_EXTENSION and state.pending_extension else None
    if a is A.REQUEST_EXTENSION:
        unit = _part_unit(state, _acting_unit(state, c))
    current = state.deadline if unit is None else state.part_deadline(unit)
    if current is not None and c.new_deadline <= current:
        raise RequirementMissing(
            a, s, "new_deadline", f"the new deadline must be after {current.isoformat()}"
        )
    if unit is not None and c.new_deadline > state.deadline:
        raise RequirementMissing(a, s, "new_deadline", "a part's deadline may not pass the item's deadline")


def _acting_unit(state: ItemState, c: Command) -> str | None:
    if c.actor is Actor.LEAD:
        if c.unit_id not in (None, state.lead_id):
            raise RequirementMissing(c.action, state.status, "unit_id", "the lead acts as the lead unit")
        return state.lead_id
    if c.actor is Actor.COOPERATING:
        if c.unit_id is None or state.part_deadline(c.unit_id) is None:
            raise RequirementMissing(
                c.action, state.status, "unit_id", "name a cooperating unit of this item"
            )
        return c.unit_id
    return c.unit_id


def _part_unit(state: ItemState, unit_id: str | None) -> str | None:
    """The unit whose sub-deadline an extension concerns: None for the lead (the item's own deadline)."""
    return None if unit_id in (None, state.lead_id) else unit_id


def _extend(state: ItemState, new_deadline: date) -> ItemState:
    unit = state.pending_extension[0] if state.pending_extension else None
    state = replace(state, pending_extension=None)
    if unit is None:
        return replace(state, deadline=new_deadline, deadlines=(*state.deadlines, new_deadline))
    return replace(state, parts=tuple((u, new_deadline if u == unit else d) for u, d in state.parts))
