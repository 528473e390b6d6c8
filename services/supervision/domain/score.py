"""督查结果单独核算: a supervision score per unit and period, with every deduction and bonus explained.

Basis: the seeds — supervision results are scored separately and carry weight in the final score (阳泉
"督查结果单独核算"; 恒口 平时督查 in the annual score) — and the `kaohe.supervision.result.scored` contract
(0–100, `details` of item, deduction, reason). The rules are configuration: points per card colour, per
overdue working day (capped per item), per sent-back closure; a bonus for a verified closure requested early
enough (capped); the result clamped to [floor, cap]. Points are `Decimal`, rounded half up to 0.01.

Facts are attributed as in `cards`: overdue days to the charged unit (a blocked lead is charged only from
the end of its grace), sent-backs and early closures to the lead. A card counts in the period it was issued;
overdue working days count in the period they elapsed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from kaohe.workdays import WorkdayCalendar

from .cards import Assessment, Colour
from .clocks import ClockKind, overdue_workdays
from .errors import ConfigInvalid
from .items import SupervisionItem
from .lifecycle import OPEN, Action, Entry

CENT = Decimal("0.01")


class FactKind(StrEnum):  # 核算事实
    ITEM = "item"  # the unit answered for this item in the period
    CARD = "card"
    OVERDUE = "overdue"  # working days overdue in the period
    SENT_BACK = "sent_back"  # 销号申请被退回
    EARLY_CLOSURE = "early_closure"  # 提前办结并经审核销号


@dataclass(frozen=True, slots=True)
class Fact:
    kind: FactKind
    unit_id: str
    item_id: str
    at: datetime
    ref: str  # card key, breach key or timeline seq: what the explanation points at
    colour: Colour | None = None
    workdays: int = 0
    note: str = ""  # the card's own reason


@dataclass(frozen=True)
class ScoreRules:  # 督查核算规则
    base: Decimal = Decimal(100)
    per_card: Mapping[Colour, Decimal] = field(
        default_factory=lambda: {Colour.YELLOW: Decimal(2), Colour.RED: Decimal(5)}
    )
    per_overdue_workday: Decimal = Decimal("0.5")
    overdue_cap_per_item: Decimal | None = Decimal(10)
    per_sent_back: Decimal = Decimal(1)
    early_bonus: Decimal = Decimal(1)
    early_workdays: int = 5  # a closure requested at least this many working days before its deadline
    bonus_cap: Decimal = Decimal(5)
    floor: Decimal = Decimal(0)
    cap: Decimal = Decimal(100)

    def __post_init__(self) -> None:
        if self.floor > self.cap:
            raise ConfigInvalid("floor above cap", field="floor")
        values = [self.per_overdue_workday, self.per_sent_back, self.early_bonus, self.bonus_cap]
        if any(v < 0 for v in [*values, *self.per_card.values()]):
            raise ConfigInvalid("points are given as non-negative magnitudes", field="per_card")
        if self.early_workdays < 1:
            raise ConfigInvalid("early_workdays must be at least 1", field="early_workdays")


@dataclass(frozen=True, slots=True)
class ScoreLine:  # 扣加分明细
    item_id: str
    points: Decimal  # negative: a deduction; positive: a bonus
    reason: str
    ref: str


@dataclass(frozen=True, slots=True)
class UnitScore:  # 督查得分
    unit_id: str
    period: str
    score: Decimal
    items: int
    lines: tuple[ScoreLine, ...]

    def details(self) -> list[dict[str, Any]]:
        """The contract's `details`: a deduction as a positive number, a bonus as a negative one."""
        return [{"item_id": x.item_id, "deduction": float(-x.points), "reason": x.reason} for x in self.lines]


def score_unit(unit_id: str, *, period: str, facts: Iterable[Fact], rules: ScoreRules) -> UnitScore:
    """One unit's supervision score for a period from its facts (facts of other units are ignored)."""
    mine = sorted((f for f in facts if f.unit_id == unit_id), key=lambda f: (f.at, f.item_id, f.ref))
    lines: list[ScoreLine] = []
    overdue: dict[str, int] = {}
    bonus = Decimal(0)
    for f in mine:
        if f.kind is FactKind.CARD and f.colour is not None:
            zh = "黄牌" if f.colour is Colour.YELLOW else "红牌"
            reason = f"{zh}: {f.note}" if f.note else zh
            lines.append(ScoreLine(f.item_id, -rules.per_card.get(f.colour, Decimal(0)), reason, f.ref))
        elif f.kind is FactKind.OVERDUE:
            overdue[f.item_id] = overdue.get(f.item_id, 0) + f.workdays
        elif f.kind is FactKind.SENT_BACK:
            lines.append(ScoreLine(f.item_id, -rules.per_sent_back, "销号申请被退回", f.ref))
        elif f.kind is FactKind.EARLY_CLOSURE:
            room = rules.bonus_cap - bonus
            if room > 0:
                got = min(rules.early_bonus, room)
                bonus += got
                lines.append(ScoreLine(f.item_id, got, "提前办结并经审核销号", f.ref))
    for item_id, days in sorted(overdue.items()):
        if days <= 0:
            continue
        points = rules.per_overdue_workday * days
        capped = rules.overdue_cap_per_item is not None and points > rules.overdue_cap_per_item
        points = rules.overdue_cap_per_item if capped else points  # type: ignore[assignment]
        reason = f"超期{days}个工作日" + ("（封顶）" if capped else "")
        lines.append(ScoreLine(item_id, -points, reason, f"{item_id}/overdue"))
    raw = rules.base + sum((x.points for x in lines), Decimal(0))
    score = min(max(raw, rules.floor), rules.cap).quantize(CENT, rounding=ROUND_HALF_UP)
    items = len({f.item_id for f in mine if f.kind is FactKind.ITEM})
    return UnitScore(unit_id, period, score, items, tuple(lines))


def score_units(facts: Iterable[Fact], *, period: str, rules: ScoreRules) -> dict[str, UnitScore]:
    """Every unit that has a fact in the period, scored in one pass over the facts."""
    by_unit: dict[str, list[Fact]] = {}
    for f in facts:
        by_unit.setdefault(f.unit_id, []).append(f)
    return {u: score_unit(u, period=period, facts=fs, rules=rules) for u, fs in sorted(by_unit.items())}


def facts_from(
    item: SupervisionItem,
    *,
    assessment: Assessment,
    entries: Iterable[Entry],
    calendar: WorkdayCalendar,
    start: datetime,
    end: datetime,
    rules: ScoreRules,
) -> list[Fact]:
    """One item's facts in [start, end), from its assessment (made at or after `end`) and its timeline."""
    timeline = sorted(entries, key=lambda e: e.seq)
    out: list[Fact] = []
    assigned = next((e.at for e in timeline if e.action is Action.ASSIGN), None)
    finished = next((e.at for e in reversed(timeline) if e.to_status not in OPEN), None)
    if assigned is not None and assigned < end and (finished is None or finished >= start):
        out += [Fact(FactKind.ITEM, u, item.id, max(assigned, start), item.id) for u in item.unit_ids]
    for c in assessment.cards:
        if start <= c.at < end:
            out.append(Fact(FactKind.CARD, c.unit_id, item.id, c.at, c.key, colour=c.colour, note=c.reason))
    for b in assessment.breaches:
        if b.clock is None or b.kind not in (ClockKind.DEADLINE, ClockKind.PART):
            continue
        if not b.carded and b.kind is ClockKind.DEADLINE:
            continue  # a blocker's lateness is counted on its own part
        days = overdue_workdays(b.clock, calendar=calendar, now=end) - overdue_workdays(
            b.clock, calendar=calendar, now=start
        )
        if days > 0:
            out.append(Fact(FactKind.OVERDUE, b.unit_id, item.id, max(b.at, start), b.key, workdays=days))
    lead = item.lead.unit_id
    deadlines = [c for c in assessment.board.clocks if c.kind is ClockKind.DEADLINE]
    for e in timeline:
        if not start <= e.at < end:
            continue
        if e.action is Action.SEND_BACK:
            out.append(Fact(FactKind.SENT_BACK, lead, item.id, e.at, f"{item.id}#{e.seq}"))
        elif e.action is Action.VERIFY_CLOSURE:
            clock = next((c for c in deadlines if c.cycle == e.cycle and c.met_at is not None), None)
            if clock is None or clock.due is None or clock.missed_at is not None:
                continue
            if calendar.workdays_between(clock.met_at, clock.due.day) >= rules.early_workdays:  # type: ignore[arg-type]
                out.append(Fact(FactKind.EARLY_CLOSURE, lead, item.id, e.at, f"{item.id}#{e.seq}"))
    return out
