"""红黄牌: breaches from missed clocks, who answers for each, and the cards a configurable policy issues.

Basis: the seeds' 红黄牌 for lateness and "落后责任属于哪个主体" (which body is behind must be decidable);
issue 12 §4. Attribution (归责):
- the lead answers for 签收, first feedback, periodic progress, its own part and the item's deadline;
- a cooperating unit answers for its part's sub-deadline;
- a missed item deadline while cooperating parts were still outstanding (blockers) is recorded against
  each blocker (without a second card: the part's breach already carries it) and **not** against the lead,
  unless the lead's own part was outstanding too. Once the last blocker delivers, the lead has
  `lead_grace_workdays` to finish: still unmet after that, the lead is charged from that moment on.
Determinism: a breach's key is its clock's key plus the charged unit, a card's key its breach's key plus
the rule; cards are derived in (time, key) order, so evaluating twice — or on two replicas — yields the
same keys and colours, and `new_cards` against the keys already issued gives each card exactly once.
Next check: besides the next clock due and red threshold, a late deadline or part whose lateness still counts
is checked again at the end of each working day (`next_overdue_day`), when its overdue days — and so the
charged unit's score — go up, with no transition needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from kaohe.workdays import WorkdayCalendar

from .clocks import Board, Clock, ClockKind, late_until, overdue_workdays, threshold_at
from .errors import ConfigInvalid
from .items import Role, SupervisionItem


class Colour(StrEnum):  # 牌色
    YELLOW = "yellow"  # 黄牌
    RED = "red"  # 红牌


REASON_ZH: dict[ClockKind, str] = {
    ClockKind.ACCEPT: "超时未签收",
    ClockKind.FIRST_FEEDBACK: "超时未首次反馈",
    ClockKind.PROGRESS: "未按期推进反馈",
    ClockKind.DEADLINE: "超期未办结",
    ClockKind.PART: "分项任务超期",
}


@dataclass(frozen=True, slots=True)
class CardPolicy:  # 红黄牌规则
    """Yellow for the listed missed clocks; red for the Nth yellow on one item or N working days overdue."""

    yellow_for: frozenset[ClockKind] = frozenset({ClockKind.PROGRESS, ClockKind.DEADLINE, ClockKind.PART})
    red_after_yellows: int | None = 2  # a unit's 2nd card-worthy breach on one item is issued red
    red_overdue_workdays: int | None = 5  # a deadline or part this many working days overdue: red
    lead_grace_workdays: int = 1  # after the last late cooperating part arrives

    def __post_init__(self) -> None:
        for k in ("red_after_yellows", "red_overdue_workdays"):
            v = getattr(self, k)
            if v is not None and v < 1:
                raise ConfigInvalid(f"{k} must be at least 1 or None", field=k)
        if self.lead_grace_workdays < 0:
            raise ConfigInvalid("lead_grace_workdays may not be negative", field="lead_grace_workdays")


@dataclass(frozen=True, slots=True)
class Breach:  # 超时记录 (permanent once it happened)
    key: str
    item_id: str
    clock_key: str
    kind: ClockKind
    cycle: int
    unit_id: str  # who is charged
    role: Role
    at: datetime  # when it happened
    due: datetime  # the due time charged (for a lead after blockers: the end of its grace)
    reason: str
    carded: bool = True  # False: recorded for attribution only (the blocker's part breach has the card)
    overdue_workdays: int = 0  # as of the assessment (deadline and part clocks)
    clock: Clock | None = None  # the clock as charged to this unit (for thresholds)


@dataclass(frozen=True, slots=True)
class Card:  # 红黄牌
    key: str
    colour: Colour
    item_id: str
    unit_id: str
    at: datetime
    breach_key: str
    reason: str


@dataclass(frozen=True, slots=True)
class Assessment:  # 研判结果
    board: Board
    breaches: tuple[Breach, ...]
    cards: tuple[Card, ...]
    # min(next clock due, next red threshold, next overdue working day of a late clock): the sweep's index
    next_check: datetime | None
    # next_check split by how a calendar correction moves it (`domain.recalc`): counted from a past
    # moment, or a deadline date's first working day; False when neither rule holds (a shifted deadline)
    next_counted: datetime | None = None
    next_anchor: date | None = None
    recomputable: bool = True


def _unmet_at(c: Clock | None, m: datetime) -> bool:
    return c is not None and (c.met_at is None or c.met_at > m) and (c.ended_at is None or c.ended_at > m)


def _latest(clocks: Iterable[Clock], m: datetime) -> Clock | None:
    found = [c for c in clocks if c.started_at <= m]
    return found[-1] if found else None


def attribute(
    item: SupervisionItem, *, board: Board, calendar: WorkdayCalendar, policy: CardPolicy, now: datetime
) -> tuple[list[Breach], list[datetime]]:
    """Every breach as of `now`, charged to the unit that answers for it; and future lead-grace ends."""
    lead = item.lead.unit_id
    out: list[Breach] = []
    later: list[datetime] = []

    def add(clock: Clock, unit: str, *, at: datetime, reason: str, carded: bool = True) -> None:
        ck = clock.key(item.id)
        role = Role.LEAD if unit == lead else Role.COOPERATING
        od = overdue_workdays(clock, calendar=calendar, now=now) if clock.kind in _OVERDUE else 0
        due = clock.due.at if clock.due else at
        out.append(
            Breach(
                f"{ck}/{unit}",
                item.id,
                ck,
                clock.kind,
                clock.cycle,
                unit,
                role,
                at,
                due,
                reason,
                carded,
                od,
                clock,
            )
        )

    for c in board.clocks:
        if c.missed_at is None or c.missed_at > now:
            continue
        if c.kind is not ClockKind.DEADLINE:
            label = REASON_ZH[c.kind] + (f" (第{c.seq}期)" if c.kind is ClockKind.PROGRESS else "")
            add(c, c.unit_id, at=c.missed_at, reason=label)
            continue
        m = c.missed_at
        parts = [x for x in board.clocks if x.kind is ClockKind.PART and x.cycle == c.cycle]
        by_unit: dict[str, list[Clock]] = {}
        for p in parts:
            by_unit.setdefault(p.unit_id, []).append(p)
        blockers = {u: _latest(cs, m) for u, cs in by_unit.items() if u != lead}
        blockers = {u: p for u, p in blockers.items() if _unmet_at(p, m)}
        if not blockers:
            add(c, lead, at=m, reason=REASON_ZH[c.kind])
            continue
        for u in sorted(blockers):
            add(c, u, at=m, reason=f"{REASON_ZH[c.kind]} (配合单位分项未完成)", carded=False)
        own = _latest(by_unit.get(lead, []), m)
        own_done = [t for cy, u, t in board.submitted if cy == c.cycle and u == lead and t <= m]
        if (own is not None and _unmet_at(own, m)) or (own is None and not own_done):
            add(c, lead, at=m, reason=f"{REASON_ZH[c.kind]} (牵头单位自身部分未完成)")
            continue
        arrivals = [p.met_at for p in blockers.values()]
        if any(t is None for t in arrivals):
            continue  # still blocked: the lead is not charged yet
        grace = calendar.add_workdays(max(arrivals), policy.lead_grace_workdays)  # type: ignore[type-var]
        if grace.at <= c.due.at or not _unmet_at(c, grace.at):  # type: ignore[union-attr]
            continue
        if grace.at < now:
            charged = replace(c, due=grace, missed_at=grace.at)
            add(charged, lead, at=grace.at, reason=f"{REASON_ZH[c.kind]} (配合单位交付后仍未办结)")
        else:
            later.append(grace.at)
    return out, later


_OVERDUE = frozenset({ClockKind.DEADLINE, ClockKind.PART})


def next_overdue_day(clock: Clock, *, calendar: WorkdayCalendar, now: datetime) -> datetime | None:
    """When a late clock's overdue working days next go up after `now` (the next working day's end, moved
    on by approved pauses); None when its lateness no longer counts (met, ended, under review, paused)."""
    if clock.missed_at is None or late_until(clock, now=now) != now:
        return None
    n = overdue_workdays(clock, calendar=calendar, now=now)
    for k in range(n + 1, n + 64):  # thresholds inside a sent-back review show at the send-back: skip those
        t = threshold_at(clock, n=k, calendar=calendar)
        if t is None or t > now:
            return t
    return None


def assess(
    item: SupervisionItem, *, board: Board, calendar: WorkdayCalendar, policy: CardPolicy, now: datetime
) -> Assessment:
    """Breaches, cards and the next moment anything can change, for one item's board as of `now`."""
    found, pending = attribute(item, board=board, calendar=calendar, policy=policy, now=now)
    breaches = sorted(found, key=lambda b: (b.at, b.key))
    cards: list[Card] = []
    counts: dict[str, int] = {}
    for b in breaches:
        if not b.carded:
            continue
        if b.kind in policy.yellow_for:
            counts[b.unit_id] = counts.get(b.unit_id, 0) + 1
            red = policy.red_after_yellows is not None and counts[b.unit_id] >= policy.red_after_yellows
            colour, why = (
                (Colour.RED, f"{b.reason}; 第{counts[b.unit_id]}次黄牌升红牌")
                if red
                else (Colour.YELLOW, b.reason)
            )
            cards.append(Card(f"{b.key}/card", colour, item.id, b.unit_id, b.at, b.key, why))
        n = policy.red_overdue_workdays
        if n is not None and b.kind in _OVERDUE and b.clock is not None:
            t = threshold_at(b.clock, n=n, calendar=calendar)
            if t is not None and t <= now:
                reason = f"{b.reason}; 超期{n}个工作日"
                cards.append(Card(f"{b.key}/overdue{n}", Colour.RED, item.id, b.unit_id, t, b.key, reason))
            elif t is not None:
                pending.append(t)
        if b.kind in _OVERDUE and b.clock is not None:  # its overdue days move the charged unit's score
            step = next_overdue_day(b.clock, calendar=calendar, now=now)
            if step is not None:
                pending.append(step)
    cards.sort(key=lambda c: (c.at, c.key))
    candidates = [t for t in (board.next_due, *pending) if t is not None]
    counted = [t for t in (board.next_counted, *pending) if t is not None]
    return Assessment(
        board,
        tuple(breaches),
        tuple(cards),
        min(candidates, default=None),
        min(counted, default=None),
        board.next_anchor,
        board.recomputable,
    )


def new_cards(assessment: Assessment, *, issued: Iterable[str]) -> list[Card]:
    """The cards not issued yet (by key): what a sweep emits; a second run emits nothing."""
    seen = set(issued)
    return [c for c in assessment.cards if c.key not in seen]


def new_breaches(assessment: Assessment, *, recorded: Iterable[str]) -> list[Breach]:
    """Breaches not recorded yet (by key); recorded ones are kept even if a later recompute lacks them."""
    seen = set(recorded)
    return [b for b in assessment.breaches if b.key not in seen]
