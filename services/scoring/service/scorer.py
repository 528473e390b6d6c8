"""The scorer (计分): one code path for incremental updates and full recomputes of a results book.

`score_span` recomputes a quarter (its months and the quarter itself; then the year) for some units or
for all: values → leaf fractions → roll-ups → quarter and year composition → category rankings and
grades → 序时进度 warnings, and announces what changed (`score.updated`, `warning.raised|cleared`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.scoring.domain.batch import ResultRow, quarter_end_values, score_period
from services.scoring.domain.book import BookModel
from services.scoring.domain.calendar import kind_of, months_of
from services.scoring.domain.rows import (
    PaceCheck,
    compose_quarter_rows,
    compose_year_rows,
    pace_checks,
    rank_rows,
)
from services.scoring.repository import results, values
from services.scoring.service.events import BulkEvent, score_updated, warning_event
from services.scoring.service.standings import PeriodStandings, Standings

Progress = Callable[[str, int], Awaitable[None]]


@dataclass
class Outcome:
    units: int = 0
    rows: int = 0
    events: list[BulkEvent] = field(default_factory=list)
    raised: int = 0
    cleared: int = 0
    # incremental: (period, changed rows, dropped unit nos, standings) for one write at the span's end
    writes: list[tuple[str, list[ResultRow], list[int], PeriodStandings]] = field(default_factory=list)
    # incremental: (period, changed checks, gone keys) likewise
    warning_writes: list[tuple[str, list[PaceCheck], list[tuple[int, int]]]] = field(default_factory=list)


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
    places: Standings | None = None,
    dirty: set[str] | None = None,
) -> Outcome:
    """Recompute `span` (a quarter, or a period outside quarters) for these units (None: all).

    `dirty`: the periods whose inputs changed (None: all). A quarter's months that did not change are
    not rescored: a month's score depends on that month's inputs only, so their stored rows (kept in
    memory with the standings) go into the quarter's composition as they are.
    """
    causes = causes or {}
    places = places or Standings()
    full = unit_nos is None
    units = sorted(model.units) if full else sorted(n for n in set(unit_nos or ()) if n in model.units)
    out = Outcome(units=len(units))
    periods = _spans(span)
    months_kept: list[str] = []
    if not full and dirty is not None and kind_of(span) == "quarter" and span not in dirty:
        months_kept = [m for m in periods[:-1] if m not in dirty]
    # incremental: the standings (with rows) and exemptions of every period touched, read at once
    sts: dict[str, PeriodStandings] = {}
    exempts: dict[str, set[int]] = {}
    if not full:
        touched = periods + (
            [span[:4], *(f"{span[:4]}-Q{q}" for q in range(1, 5) if f"{span[:4]}-Q{q}" != span)]
            if kind_of(span) == "quarter"
            else []
        )
        sts = await places.get_many(c, model, touched, rows=True)
        exempts = await results.exemptions_many(c, model.book, touched)
    note = progress or _quiet
    await note("loading", 0)
    vals = await values.load_values(c, model, periods, None if full else units, dsn=dsn)
    sup = await values.supervision(c, model, periods)
    await note("scoring", 0)
    fresh: dict[str, list[ResultRow]] = {}
    checks: dict[str, list[PaceCheck]] = {}
    before: dict[str, dict[tuple[int, int], str]] = {}
    greens: dict[str, dict[tuple[int, int], PaceCheck | None]] = {}
    # incremental: the units' stored warnings of every rescored period in one read, whole (level,
    # expected, actual, lag), so that only the checks that differ are written back
    stored: dict[str, dict[tuple[int, int], tuple[str, float, float, float]]] | None = None
    if not full and kind_of(span) == "quarter":
        stored = await results.warning_rows(
            c, model.book, [p for p in periods if p not in months_kept], units
        )
        for p, got in stored.items():
            before[p] = {k: v[0] for k, v in got.items()}
    if kind_of(span) == "quarter":
        months = periods[:-1]
        by_unit: dict[int, list[ResultRow | None]] = {no: [None, None, None] for no in units}
        for i, m in enumerate(months):
            if m in months_kept:
                kept = sts[m].rows or {}
                for no in units:
                    by_unit[no][i] = kept.get(no)
                continue
            s_m = {**sup[span], **sup[m]}
            rows = score_period(model, vals, m, units, s_m)
            if m not in before:
                before[m] = await results.warnings(c, model.book, m, None if full else units)
            greens[m] = dict.fromkeys(before[m])  # filled in where the check is now green
            found, colours = pace_checks(model, vals, m, [r.unit_no for r in rows], greens[m])
            checks[m] = found
            for r in rows:
                r.colour, r.checks = colours.get(r.unit_no, (None, 0))
                by_unit[r.unit_no][i] = r
            fresh[m] = rows
            await note("scoring", len(units) * (i + 1) // 4)
        # 季末累计: the quarter scored directly on its quarter-level values, else each leaf's latest
        # month; its 序时进度 checks are made at the quarter's end on the same values.
        qv = quarter_end_values(vals, span)
        ends = {r.unit_no: r for r in score_period(model, qv, span, units, sup[span])}
        if span not in before:
            before[span] = await results.warnings(c, model.book, span, None if full else units)
        greens[span] = dict.fromkeys(before[span])
        checks[span], colours = pace_checks(model, qv, span, list(ends), greens[span])
        for r in ends.values():
            r.colour, r.checks = colours.get(r.unit_no, (None, 0))
        direct = await values.aspect_scores(c, model.book, span)
        composed = compose_quarter_rows(model, list(by_unit.values()), list(by_unit), sup[span], direct, ends)
        done = {r.unit_no for r in composed}
        rest = [ends[no] for no in units if no not in done and no in ends]  # mean|last: no month yet
        fresh[span] = composed + rest
    else:
        fresh[span] = score_period(model, vals, span, units, sup[span])
    await note("ranking", len(units))
    run = Run(c, model, units, full, out, causes, announce, places, sts, exempts)
    scored = [p for p in periods if p not in months_kept]
    for p in scored:
        await _write(run, p, fresh[p])
    if kind_of(span) == "quarter":
        await _year(run, span, fresh[span])
        await note("warnings", len(units))
        for p in scored:  # the months, then the quarter (checked at its end)
            kept = None if stored is None else stored[p]
            await _warnings(run, p, checks[p], before[p], greens[p], kept)
    await note("writing", len(units))
    if out.warning_writes:
        await results.merge_warnings(c, model.book, out.warning_writes)
    if out.writes:
        await results.upsert_results_many(c, model.book, [(p, ch, dr) for p, ch, dr, _ in out.writes])
        await places.advance_many(c, model.book, {p: st for p, _, _, st in out.writes})
    await results.emit_many(c, prefix, out.events)
    return out


async def _quiet(stage: str, done: int) -> None:
    return None


@dataclass
class Run:
    """What one `score_span` call shares with the steps that write its periods."""

    c: asyncpg.Connection
    model: BookModel
    units: list[int]
    full: bool  # all units of the book (a recompute), else an incremental batch
    out: Outcome
    causes: dict[int, str]  # unit_no → the event that made it dirty
    announce: set[str] | None
    places: Standings
    sts: dict[str, PeriodStandings] | None = None  # incremental: the standings of every touched period
    exempts: dict[str, set[int]] | None = None


async def _write(run: Run, period: str, rows: list[ResultRow]) -> None:
    """Store a period's new rows, re-rank the categories they belong to, announce what changed."""
    c, model, units, full, out, places = run.c, run.model, run.units, run.full, run.out, run.places
    causes, announce, sts, exempts = run.causes, run.announce, run.sts, run.exempts
    if exempts is not None and period in exempts:
        exempt = exempts[period]
    else:
        exempt = await values.exemptions(c, model.book, period)
    if full:
        old = await results.result_keys(c, model.book, period)
        by_cat: dict[str, list[ResultRow]] = {}
        for r in rows:
            by_cat.setdefault(r.category, []).append(r)
        for cat_rows in by_cat.values():
            rank_rows(model, cat_rows, exempt)
        for r in rows:
            prev = old.get(r.unit_no)
            r.version = 1 if prev is None else prev.version + (_key(prev) != _key(r))
        await results.replace_results(c, model.book, period, rows)
        await places.invalidate(c, model.book, period)
        final = {r.unit_no: r for r in rows}
    else:
        # Only the batch's rows are written; the category's places come from the in-memory standings
        # (see places.py), so neighbours whose rank shifted are not rewritten.
        st = sts[period] if sts and period in sts else await places.get(c, model, period, rows=True)
        stored = st.rows if st.rows is not None else {}
        old = {no: stored[no] for no in units if no in stored}
        st.set_exempt(exempt)
        kept = {r.unit_no for r in rows}
        dropped = [no for no in old if no not in kept]
        for no in dropped:
            st.drop(no)
        for r in rows:
            st.put(model, r.unit_no, r.category, r.total, r.veto_grade)
        for r in rows:
            pl = st.place(r.unit_no)
            if pl is not None:
                r.rank, r.of, r.grade, r.threshold_grade = pl.rank, pl.of, pl.grade, pl.threshold_grade
                r.in_quota, r.exempt, r.last_place = pl.in_quota, pl.exempt, pl.last_place
            prev = old.get(r.unit_no)
            r.version = 1 if prev is None else prev.version + (_key(prev) != _key(r))
        changed = [r for r in rows if not _same(old.get(r.unit_no), r)]
        for no in dropped:
            stored.pop(no, None)
        for r in rows:
            stored[r.unit_no] = r
        st.rows = stored
        out.writes.append((period, changed, dropped, st))  # written with the span's other periods
        final = {r.unit_no: r for r in rows}
    out.rows += len(rows)
    if announce is not None and period not in announce:
        return
    for no, r in final.items():
        prev = old.get(no)
        if prev is not None and _key(prev) == _key(r):
            continue
        out.events.append(score_updated(model, period, r, causes.get(no)))


_STORED = [f for f in ResultRow.__slots__ if f != "version"]  # type: ignore[attr-defined]


def _same(prev: ResultRow | None, r: ResultRow) -> bool:
    """The stored row already says exactly this (the batch's other periods are often unchanged)."""
    return prev is not None and all(getattr(prev, f) == getattr(r, f) for f in _STORED)


async def _year(run: Run, span: str, span_rows: list[ResultRow]) -> None:
    """年度: composed from the quarters held so far (stored), for the same units."""
    c, model, units, full, places, sts = run.c, run.model, run.units, run.full, run.places, run.sts
    year = span[:4]
    quarters: dict[int, list[ResultRow]] = {no: [] for no in units}
    for q in range(1, 5):
        period = f"{year}-Q{q}"
        if period == span:  # just computed: no need to read it back
            got = {r.unit_no: r for r in span_rows}
        elif full:
            got = await results.results(c, model.book, period)
        else:  # the scorer's memory of the stored rows
            st = sts[period] if sts and period in sts else await places.get(c, model, period, rows=True)
            got = st.rows or {}
        for no in units:
            r = got.get(no)
            if r is not None:
                quarters[no].append(r)
    direct = await values.aspect_scores(c, model.book, year)
    # the year's own 平时督查 only matters to a book whose annual shares name it (else: the last quarter's)
    annual = any(sh.code == "supervision" for sh in model.config.shares())
    sup = (await values.supervision(c, model, [year]))[year] if annual else {}
    rows = compose_year_rows(model, quarters, direct, sup)
    await _write(run, year, rows)


async def _warnings(
    run: Run,
    period: str,
    found: list[PaceCheck],
    old: dict[tuple[int, int], str],
    greens: dict[tuple[int, int], PaceCheck | None],
    stored: dict[tuple[int, int], tuple[str, float, float, float]] | None = None,
) -> None:
    """Store the period's active warnings; raise or clear events only where the level changed.

    A cleared warning carries the check that is now green (expected, actual, lag); when the leaf is no
    longer checked at all (value withdrawn, target gone) they are 0. With `stored` (the units' stored
    warnings, whole), only the checks that differ from them are written.
    """
    c, model, out, units = run.c, run.model, run.out, None if run.full else run.units
    new = {(w.unit_no, w.code_no): w for w in found}
    codes = {no: code for code, no in model.code_no.items()}
    same = {k for k, w in new.items() if old.get(k) == w.level}
    for k, w in new.items():
        if k not in same:
            out.events.append(warning_event(model, period, w, codes, "raised", old.get(k, "green")))
            out.raised += 1
    for k, level in old.items():
        if k not in new:
            gone = greens.get(k) or _gone(k)
            out.events.append(warning_event(model, period, gone, codes, "cleared", level))
            out.cleared += 1
    gone = [k for k in old if k not in new]
    if stored is not None:  # written with the span's other periods
        found = [
            w for w in found if stored.get((w.unit_no, w.code_no)) != (w.level, w.expected, w.actual, w.lag)
        ]
        out.warning_writes.append((period, found, gone))
        return
    await results.write_warnings(c, model.book, period, units, found, same, gone)


def _gone(k: tuple[int, int]) -> PaceCheck:
    return PaceCheck(k[0], k[1], "green", 0.0, 0.0, 0.0)
