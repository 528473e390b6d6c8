"""Clocks of a stored item (时限研判): evaluate, record new breaches and cards once, set the sweep's index.

One function serves the transitions and the sweep: `refresh` replays the item's timeline on the calendar
in force (`domain.evaluate` and `domain.assess`), inserts the breaches and cards whose stable keys are new
(a second run or a second replica inserts nothing), emits `breach.recorded` / `card.issued` for exactly
those, stores `next_due` (the earliest moment anything can change: the sweep's index), the overdue and
provisional flags, the calendar version used and the card counts, and queues the supervision scores of
the units concerned for recomputation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.periods import Period
from kaohe.contracts.supervision import BreachRecorded, CardIssued
from services.supervision.domain import Assessment, Board, ClockKind, assess, evaluate
from services.supervision.repository import items as item_repo
from services.supervision.repository import records
from services.supervision.repository import scores as score_repo
from services.supervision.service.context import Ctx
from services.supervision.service.convert import domain_item, entries_of

Row = Mapping[str, Any]
LATE = (ClockKind.DEADLINE, ClockKind.PART)


@dataclass(frozen=True)
class Refreshed:
    board: Board
    assessment: Assessment
    breaches: int
    cards: int


def periods_of(cal_day: Any) -> list[str]:
    """The month and quarter a moment's day falls in (the periods scoring reads 平时督查 for)."""
    month = Period(cal_day.year, "month", cal_day.month)
    quarter = month.within("quarter")
    return [str(month), str(quarter)]


async def refresh(s: AsyncSession, ctx: Ctx, row: Row, *, now: datetime, units: list[Row]) -> Refreshed:
    """Evaluate one item (its row locked by the caller) as of `now` and store what follows."""
    cal = await ctx.calendar(s)
    item = domain_item(row)
    entries = entries_of(await records.entries(s, row["id"]))
    board = evaluate(item, entries=entries, calendar=cal, ladder=ctx.ladders, now=now)
    a = assess(item, board=board, calendar=cal, policy=ctx.cards, now=now)
    paths = {u["unit_id"]: u["unit_path"] for u in units}
    breach_rows = [
        {
            "key": b.key,
            "item_id": b.item_id,
            "unit_id": b.unit_id,
            "unit_path": paths.get(b.unit_id, ""),
            "kind": str(b.kind),
            "cycle": b.cycle,
            "role": str(b.role),
            "at": b.at,
            "due": b.due,
            "reason": b.reason,
            "carded": b.carded,
        }
        for b in a.breaches
    ]
    new_b = await records.insert_breaches(s, breach_rows)
    roles = {b.key: str(b.role) for b in a.breaches}
    card_rows = [
        {
            "key": c.key,
            "item_id": c.item_id,
            "unit_id": c.unit_id,
            "unit_path": paths.get(c.unit_id, ""),
            "colour": str(c.colour),
            "role": roles.get(c.breach_key, "lead"),
            "at": c.at,
            "reason": c.reason,
            "breach_key": c.breach_key,
        }
        for c in a.cards
    ]
    new_c = await records.insert_cards(s, card_rows)
    number = row["number"]
    dirty: set[tuple[str, str]] = set()
    for r in breach_rows:
        if r["key"] in new_b:
            ev = BreachRecorded(number=number, **{k: v for k, v in r.items() if k != "cycle"})
            await ctx.outbox.emit(s, ev.event(subject=f"{r['unit_id']}:{r['item_id']}"))
    for r in card_rows:
        if r["key"] in new_c:
            ev = CardIssued(number=number, **r)
            await ctx.outbox.emit(s, ev.event(subject=f"{r['unit_id']}:{r['item_id']}"))
            dirty |= {(r["unit_id"], p) for p in periods_of(cal.local_day(r["at"]))}
    late = [
        c
        for c in board.clocks
        if c.kind in LATE and c.missed_at is not None and c.met_at is None and c.ended_at is None
    ]
    if late or new_b:  # overdue working days move the charged units' scores of the current period
        dirty |= {
            (b.unit_id, p) for b in a.breaches if b.kind in LATE for p in periods_of(cal.local_day(now))
        }
    yellow, red = await records.card_counts(s, row["id"])
    await item_repo.update(
        s,
        row["id"],
        {
            "next_due": a.next_check,
            "overdue": bool(late),
            "provisional": board.provisional,
            "calendar_version": cal.version,
            "yellow_cards": yellow,
            "red_cards": red,
        },
    )
    done = {u: at for cy, u, at in board.submitted if cy == board.cycle}
    if done:
        await item_repo.set_done(s, row["id"], done)
    await score_repo.queue(s, dirty)
    return Refreshed(board, a, len(new_b), len(new_c))
