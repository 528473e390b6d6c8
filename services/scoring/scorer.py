"""The scorer (计分): one code path for incremental updates and full recomputes of a results book.

`score_span` recomputes a quarter (its months and the quarter itself; then the year) for some units or
for all: values → leaf fractions → roll-ups → quarter and year composition → category rankings and
grades → 序时进度 warnings, and announces what changed (`score.updated`, `warning.raised|cleared`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson

from kaohe.events import event_type
from kaohe.standards import WARNING_LEVEL_ZH
from services.scoring import store
from services.scoring.compute import ResultRow, kind_of, months_of, score_period
from services.scoring.model import BookModel
from services.scoring.standings import (
    PaceCheck,
    compose_quarter_rows,
    compose_year_rows,
    pace_checks,
    rank_rows,
)

SERVICE = "scoring"
Progress = Callable[[str, int], Awaitable[None]]


@dataclass
class Outcome:
    units: int = 0
    rows: int = 0
    events: list[BulkEvent] = field(default_factory=list)
    raised: int = 0
    cleared: int = 0


@dataclass(frozen=True)
class BulkEvent:
    """An event serialised straight to its CloudEvents JSON (the bulk path skips model validation)."""

    id: str
    type: str
    subject: str
    data: dict[str, Any]
    time: str

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "specversion": "1.0",
                "id": self.id,
                "source": f"/kaohe/{SERVICE}",
                "type": self.type,
                "subject": self.subject,
                "time": self.time,
                "datacontenttype": "application/json",
                "data": self.data,
            }
        )


def bulk_event(entity: str, verb: str, subject: str, data: dict[str, Any]) -> BulkEvent:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return BulkEvent(str(uuid.uuid4()), event_type(SERVICE, entity, verb), subject, data, now)


def _key(r: ResultRow | None) -> tuple[Any, ...] | None:
    return None if r is None else (round(r.total, 6), r.rank, r.of, r.grade)


def _spans(period: str) -> list[str]:
    """The periods a span recomputes together: a quarter's months and itself, or one other period."""
    return [*months_of(period), period] if kind_of(period) == "quarter" else [period]


async def score_span(
    c: asyncpg.Connection,
    model: BookModel,
    span: str,
    unit_nos: Sequence[int] | None,
    *,
    prefix: str,
    causes: dict[int, str] | None = None,
    announce: set[str] | None = None,
    progress: Progress | None = None,
    dsn: str | None = None,
) -> Outcome:
    """Recompute `span` (a quarter, or a period outside quarters) for these units (None: all)."""
    causes = causes or {}
    full = unit_nos is None
    units = sorted(model.units) if full else sorted(n for n in set(unit_nos or ()) if n in model.units)
    out = Outcome(units=len(units))
    periods = _spans(span)
    note = progress or _quiet
    await note("loading", 0)
    vals = await store.load_values(c, model, periods, None if full else units, dsn=dsn)
    sup = await store.supervision(c, model, periods)
    await note("scoring", 0)
    fresh: dict[str, list[ResultRow]] = {}
    checks: dict[str, list[PaceCheck]] = {}
    if kind_of(span) == "quarter":
        months = periods[:-1]
        by_unit: dict[int, list[ResultRow | None]] = {no: [None, None, None] for no in units}
        for i, m in enumerate(months):
            s_m = {**sup[span], **sup[m]}
            rows = score_period(model, vals, m, units, s_m)
            found, colours = pace_checks(model, vals, m, [r.unit_no for r in rows])
            checks[m] = found
            for r in rows:
                r.colour, r.checks = colours.get(r.unit_no, (None, 0))
                by_unit[r.unit_no][i] = r
            fresh[m] = rows
            await note("scoring", len(units) * (i + 1) // 4)
        direct = await store.aspect_scores(c, model.book, span)
        composed = compose_quarter_rows(model, list(by_unit.values()), list(by_unit), sup[span], direct)
        done = {r.unit_no for r in composed}
        rest = [no for no in units if no not in done]
        fresh[span] = composed + score_period(model, vals, span, rest, sup[span]) if rest else composed
    else:
        fresh[span] = score_period(model, vals, span, units, sup[span])
    await note("ranking", len(units))
    for p in periods:
        await _write(c, model, p, fresh[p], units, full, out, causes, announce, prefix)
    if kind_of(span) == "quarter":
        await _year(c, model, span, fresh[span], units, full, out, causes, announce, prefix)
        await note("warnings", len(units))
        for m in periods[:-1]:
            await _warnings(c, model, m, checks[m], None if full else units, out, prefix)
    await note("writing", len(units))
    await store.emit_many(c, prefix, out.events)
    return out


async def _quiet(stage: str, done: int) -> None:
    return None


async def _write(
    c: asyncpg.Connection,
    model: BookModel,
    period: str,
    rows: list[ResultRow],
    units: list[int],
    full: bool,
    out: Outcome,
    causes: dict[int, str],
    announce: set[str] | None,
    prefix: str,
) -> None:
    """Store a period's new rows, re-rank the categories they belong to, announce what changed."""
    exempt = await store.exemptions(c, model.book, period)
    if full:
        old = await store.result_keys(c, model.book, period)
        by_cat: dict[str, list[ResultRow]] = {}
        for r in rows:
            by_cat.setdefault(r.category, []).append(r)
        for cat_rows in by_cat.values():
            rank_rows(model, cat_rows, exempt)
        for r in rows:
            prev = old.get(r.unit_no)
            r.version = 1 if prev is None else prev.version + (_key(prev) != _key(r))
        await store.replace_results(c, model.book, period, rows)
        final = {r.unit_no: r for r in rows}
    else:
        old = await store.results(c, model.book, period, unit_nos=units)
        for r in rows:
            prev = old.get(r.unit_no)
            if prev is not None:
                r.rank, r.of, r.grade, r.threshold_grade = (
                    prev.rank,
                    prev.of,
                    prev.grade,
                    prev.threshold_grade,
                )
                r.in_quota, r.exempt, r.last_place = prev.in_quota, prev.exempt, prev.last_place
                r.version = prev.version + (round(prev.total, 6) != round(r.total, 6))
        kept = {r.unit_no for r in rows}
        dropped = [no for no in old if no not in kept]
        await store.upsert_results(c, model.book, period, rows, dropped)
        cats = sorted({r.category for r in rows} | {old[no].category for no in dropped})
        current = await store.rank_inputs(c, model.book, period, cats)
        before = {no: _key(r) for no, r in current.items()}
        by_cat = {}
        for r in current.values():
            by_cat.setdefault(r.category, []).append(r)
        for cat_rows in by_cat.values():
            rank_rows(model, cat_rows, exempt)
        moved = [r for no, r in current.items() if _key(r) != before[no]]
        await store.update_ranks(c, model.book, period, moved)
        for r in moved:
            r.version += 1
        final = {}
        for r in rows:  # the fresh row, with the place, grade and version the re-ranking left it
            cur = current.get(r.unit_no)
            if cur is not None:
                r.rank, r.of, r.grade, r.threshold_grade = cur.rank, cur.of, cur.grade, cur.threshold_grade
                r.in_quota, r.exempt, r.last_place, r.version = (
                    cur.in_quota,
                    cur.exempt,
                    cur.last_place,
                    cur.version,
                )
                final[r.unit_no] = r
    out.rows += len(rows)
    if announce is not None and period not in announce:
        return
    for no, r in final.items():
        prev = old.get(no)
        if prev is not None and _key(prev) == _key(r):
            continue
        out.events.append(_updated(model, period, r, causes.get(no)))


def _updated(model: BookModel, period: str, r: ResultRow, cause: str | None) -> BulkEvent:
    u = model.units[r.unit_no]
    data = {
        "unit_id": u.unit_id,
        "unit_path": u.path,
        "unit_name": u.name,
        "scheme_id": model.scheme_id,
        "period": period,
        "category": u.category,
        "total": round(r.total, 6),
        "rank": r.rank,
        "of": r.of,
        "grade": r.grade,
        "version": r.version,
        "leaves": r.leaves,
        "cause_event": cause or "recompute",
    }
    return bulk_event("score", "updated", f"{u.unit_id}:{period}", data)


async def _year(
    c: asyncpg.Connection,
    model: BookModel,
    span: str,
    span_rows: list[ResultRow],
    units: list[int],
    full: bool,
    out: Outcome,
    causes: dict[int, str],
    announce: set[str] | None,
    prefix: str,
) -> None:
    """年度: composed from the quarters held so far (stored), for the same units."""
    year = span[:4]
    quarters: dict[int, list[ResultRow]] = {no: [] for no in units}
    for q in range(1, 5):
        period = f"{year}-Q{q}"
        if period == span:  # just computed: no need to read it back
            got = {r.unit_no: r for r in span_rows}
        else:
            got = await store.results(c, model.book, period, unit_nos=None if full else units)
        for no, r in got.items():
            if no in quarters:
                quarters[no].append(r)
    direct = await store.aspect_scores(c, model.book, year)
    rows = compose_year_rows(model, quarters, direct)
    await _write(c, model, year, rows, units, full, out, causes, announce, prefix)


async def _warnings(
    c: asyncpg.Connection,
    model: BookModel,
    month: str,
    found: list[PaceCheck],
    units: list[int] | None,
    out: Outcome,
    prefix: str,
) -> None:
    """Store the month's active warnings; raise or clear events only where the level changed."""
    old = await store.warnings(c, model.book, month, units)
    new = {(w.unit_no, w.code_no): w for w in found}
    codes = {no: code for code, no in model.code_no.items()}
    same = {k for k, w in new.items() if old.get(k) == w.level}
    for k, w in new.items():
        if k not in same:
            out.events.append(_warning(model, month, w, codes, "raised", old.get(k, "green")))
            out.raised += 1
    for k, level in old.items():
        if k not in new:
            gone = PaceCheck(k[0], k[1], "green", 0.0, 0.0, 0.0)
            out.events.append(_warning(model, month, gone, codes, "cleared", level))
            out.cleared += 1
    await store.write_warnings(c, model.book, month, units, found, same)


def _warning(
    model: BookModel, month: str, w: PaceCheck, codes: dict[int, str], verb: str, previous: str
) -> BulkEvent:
    u = model.units[w.unit_no]
    code = codes.get(w.code_no, str(w.code_no))
    data = {
        "unit_id": u.unit_id,
        "unit_path": u.path,
        "unit_name": u.name,
        "scheme_id": model.scheme_id,
        "code": code,
        "period": month,
        "level": w.level,
        "level_zh": WARNING_LEVEL_ZH[w.level],
        "expected": round(w.expected, 6),
        "actual": round(w.actual, 6),
        "lag": round(w.lag, 6),
        "previous_level": previous,
    }
    return bulk_event("warning", verb, f"{u.unit_id}:{code}:{month}", data)
