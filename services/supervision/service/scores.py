"""督查结果单独核算: recompute queued (unit, period) supervision scores and publish the changed ones.

A score is the domain's `score_unit` over the facts (`facts_from`) of every item the unit answered for in
the period, evaluated as of the period's end or `now`, whichever is first. A changed score is stored with
the next revision and published as `kaohe.supervision.result.scored` (scoring applies only newer
revisions), in the same transaction: nothing is published that was not stored.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.supervision import ResultDeduction, ScorePublic, SupervisionResultScored
from kaohe.identity import Caller, Role
from services.supervision.domain import assess, evaluate, facts_from, score_unit
from services.supervision.repository import items as item_repo
from services.supervision.repository import records
from services.supervision.repository import scores as score_repo
from services.supervision.service.context import Ctx
from services.supervision.service.convert import domain_item, entries_of

SCORE_READERS = (Role.supervisor, Role.leader, Role.assessment_office, Role.system)


async def recompute_queued(s: AsyncSession, ctx: Ctx, *, batch: int, now: datetime) -> tuple[int, int]:
    """Claim up to `batch` queued (unit, period) pairs and rescore them; (pairs taken, scores changed).

    Set-based, in few round trips: the claim reads each pair's stored score and unit path with it, the
    items of all the pairs (every period) come in one query and their timelines in one, the changed scores
    are written in one statement and their events in one insert; each item is evaluated once per "as of"
    however many of the batch's pairs it concerns."""
    claimed = await score_repo.claim(s, batch)
    if not claimed:
        return 0, 0
    cal = await ctx.calendar(s)
    pairs = [(r["unit_id"], r["period"]) for r in claimed]
    bounds = {p: item_repo.period_bounds(p) for p in {p for _, p in pairs}}
    by_pair: dict[tuple[str, str], list[Any]] = {pair: [] for pair in pairs}
    rows = await score_repo.items_of(s, pairs, bounds)
    for row in rows:
        by_pair[row["for_unit"], row["for_period"]].append(row)
    stored = await records.entries_of(s, sorted({r["id"] for r in rows}))
    seen: dict[tuple[str, datetime], tuple[Any, Any, Any]] = {}  # (item, as of) → item, entries, assessment
    puts: list[dict[str, Any]] = []
    events = []
    for old in claimed:
        unit, period = old["unit_id"], old["period"]
        start, end = bounds[period]
        as_of = min(now, end)
        facts = []
        for row in by_pair[unit, period]:
            hit = seen.get((row["id"], as_of))
            if hit is None:
                item, entries = domain_item(row), entries_of(stored[row["id"]])
                board = evaluate(item, entries=entries, calendar=cal, ladder=ctx.ladders, now=as_of)
                hit = seen[row["id"], as_of] = (
                    item,
                    entries,
                    assess(item, board=board, calendar=cal, policy=ctx.cards, now=as_of),
                )
            item, entries, a = hit
            facts += facts_from(
                item, assessment=a, entries=entries, calendar=cal, start=start, end=as_of, rules=ctx.rules
            )
        got = score_unit(unit, period=period, facts=facts, rules=ctx.rules)
        details = got.details()
        known = old["revision"] is not None
        if known and Decimal(old["score"]) == got.score and old["details"] == details:
            continue
        if not known and not facts:
            continue  # nothing to say about this unit yet: scoring keeps its default
        revision = (old["revision"] if known else 0) + 1
        path = old["unit_path_now"] or (old["unit_path"] if known else "")
        puts.append(
            {"unit_id": unit, "period": period, "path": path, "score": got.score, "items": got.items}
            | {"revision": revision, "details": details}
        )
        ev = SupervisionResultScored(
            unit_id=unit,
            unit_path=path,
            period=period,
            score=float(got.score),
            items=got.items,
            revision=revision,
            details=[ResultDeduction(**d) for d in details],
        )
        events.append(ev.event(subject=f"{unit}:{period}"))
    await score_repo.put_many(s, puts)
    await records.emit_many(s, ctx.outbox, events)
    return len(claimed), len(puts)


async def listing(s: AsyncSession, caller: Caller, ids: list[str], period: str) -> list[ScorePublic]:
    caller.require(*SCORE_READERS)
    rows = await score_repo.of_units(s, ids, period)
    return [
        ScorePublic(
            unit_id=r["unit_id"],
            unit_path=r["unit_path"],
            period=r["period"],
            score=float(r["score"]),
            items=r["items"],
            revision=r["revision"],
            details=[ResultDeduction(**d) for d in r["details"]],
        )
        for r in rows
        if caller.covers(r["unit_path"]) or caller.has(Role.system)
    ]
