"""Clocks of stored items (时限研判): evaluate, record new breaches and cards once, set the sweep's index.

One code path serves the transitions (one item) and the sweep (a batch): `assess_items` replays each item's
timeline on the calendar in force (`domain.evaluate` and `domain.assess`), inserts the breaches and cards
whose stable keys are new (the item rows are locked by the caller, so a second run or a second replica
finds them recorded and inserts nothing), emits `breach.recorded` / `card.issued` for exactly those,
stores `next_due` (the earliest moment anything can change: the sweep's index), the overdue and
provisional flags, the calendar version used and the card counts, and queues the supervision scores of
the units concerned. A batch costs a fixed number of round trips plus one per new event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
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


def periods_of(day: date) -> list[str]:
    """The month and quarter a day falls in (the periods scoring reads 平时督查 for)."""
    month = Period(day.year, "month", day.month)
    return [str(month), str(month.within("quarter"))]


async def assess_items(
    s: AsyncSession, ctx: Ctx, rows: Sequence[Row], *, now: datetime, units: Mapping[str, list[Row]]
) -> dict[str, Refreshed]:
    """Evaluate locked items as of `now` and store what follows (see the module docstring)."""
    ids = [r["id"] for r in rows]
    cal = await ctx.calendar(s)
    stored = await records.entries_of(s, ids)
    seen_b = await records.known_keys(s, "breach", ids)
    seen_c = await records.known_keys(s, "card", ids)
    new_b: list[dict[str, Any]] = []
    new_c: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    dirty: set[tuple[str, str]] = set()
    out: dict[str, Refreshed] = {}
    done: list[tuple[str, str, datetime]] = []  # (item, unit, when its part was submitted)
    for row in rows:
        i = row["id"]
        item = domain_item(row)
        board = evaluate(item, entries=entries_of(stored[i]), calendar=cal, ladder=ctx.ladders, now=now)
        a = assess(item, board=board, calendar=cal, policy=ctx.cards, now=now)
        paths = {u["unit_id"]: u["unit_path"] for u in units[i]}
        roles = {b.key: str(b.role) for b in a.breaches}
        nb = [
            {"key": b.key, "item_id": i, "unit_id": b.unit_id, "unit_path": paths.get(b.unit_id, "")}
            | {"kind": str(b.kind), "cycle": b.cycle, "role": str(b.role), "at": b.at, "due": b.due}
            | {"reason": b.reason, "carded": b.carded, "number": row["number"]}
            for b in a.breaches
            if b.key not in seen_b[i]
        ]
        nc = [
            {"key": c.key, "item_id": i, "unit_id": c.unit_id, "unit_path": paths.get(c.unit_id, "")}
            | {"colour": str(c.colour), "role": roles.get(c.breach_key, "lead"), "at": c.at}
            | {"reason": c.reason, "breach_key": c.breach_key, "number": row["number"]}
            for c in a.cards
            if c.key not in seen_c[i]
        ]
        new_b += nb
        new_c += nc
        for c in nc:
            dirty |= {(c["unit_id"], p) for p in periods_of(cal.local_day(c["at"]))}
        late = [c for c in board.clocks if c.kind in LATE and c.missed_at and not c.met_at and not c.ended_at]
        if late or nb or row["overdue"]:
            # overdue working days move the charged units' scores: those of today's periods, of the day the
            # item fell due (a sweep past midnight at a month's end), and when its lateness has just ended
            days = {cal.local_day(now)}
            if row["next_due"] is not None and row["next_due"] <= now:
                days.add(cal.local_day(row["next_due"]))
            dirty |= {
                (b.unit_id, p) for b in a.breaches if b.kind in LATE for d in days for p in periods_of(d)
            }
        updates.append(
            {
                "id": i,
                "next_due": a.next_check,
                "overdue": bool(late),
                "provisional": board.provisional,
                "calendar_version": cal.version,
                "yellow_cards": row["yellow_cards"] + sum(c["colour"] == "yellow" for c in nc),
                "red_cards": row["red_cards"] + sum(c["colour"] == "red" for c in nc),
                "next_counted": a.next_counted,
                "next_anchor": a.next_anchor,
                "recomputable": a.recomputable,
            }
        )
        done += [(i, u, t) for u, t in {u: t for cy, u, t in board.submitted if cy == board.cycle}.items()]
        out[i] = Refreshed(board, a, len(nb), len(nc))
    await item_repo.set_done(s, done)
    await records.insert_breaches(s, new_b)
    await records.insert_cards(s, new_c)
    events = [
        BreachRecorded(**{k: v for k, v in r.items() if k != "cycle"}).event(
            subject=f"{r['unit_id']}:{r['item_id']}"
        )
        for r in new_b
    ] + [CardIssued(**r).event(subject=f"{r['unit_id']}:{r['item_id']}") for r in new_c]
    await records.emit_many(s, ctx.outbox, events)
    await item_repo.update_many(s, updates)
    await score_repo.queue(s, dirty)
    return out


async def refresh(s: AsyncSession, ctx: Ctx, row: Row, *, now: datetime, units: list[Row]) -> Refreshed:
    """One item (its row locked by the caller), after a transition."""
    return (await assess_items(s, ctx, [row], now=now, units={row["id"]: units}))[row["id"]]
