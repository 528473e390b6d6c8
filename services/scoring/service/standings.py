"""Category standings in memory (排名与等次): ranks, grades and quota places computed on read.

Stored result rows hold each unit's total, veto grade and category; a unit's place (rank, of, grade,
threshold grade, quota place, exemption, 末位) is a pure function of its category's totals, exemptions and
the grade rules. Keeping those inputs in memory per (book, period) — a sorted list keyed by
(−score, unit code) per category — lets the incremental scorer update a batch without re-reading or
rewriting whole categories, and lets readers derive places without stored ranks going stale.

Validity: a per-(book, period) sequence in `standing_seq` is bumped in every transaction that writes the
period's results. Memory is used while its sequence is at least the database's (the scorer applies a
batch to memory just before its commit) and the book's stamp (config, roster) is unchanged; otherwise
the period is reloaded from the database. The scorer drops a book's standings when a batch fails.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import asyncpg

from kaohe.contracts import paths
from kaohe.contracts.standards import GRADES
from services.scoring.domain.batch import ResultRow
from services.scoring.domain.book import BookModel
from services.scoring.domain.ranking import GradeRules, excellent_quota
from services.scoring.repository import results

EXCELLENT, GOOD = GRADES[0], GRADES[1]
_GRADE_NO = {g: i for i, g in enumerate(GRADES)}


class Place(NamedTuple):
    rank: int
    of: int
    grade: str
    threshold_grade: str
    in_quota: bool
    exempt: bool
    last_place: bool


def place_category(
    keys: list[tuple[float, str, int]],
    vetoes: dict[int, str | None],
    exempt: set[int],
    rules: GradeRules,
) -> dict[int, Place]:
    """Places of one category from its sorted keys (−round(score, 6), unit code, unit no).

    The same decisions as engine.ranking.rank_category (tested against it), without per-unit objects.
    """
    n = len(keys)
    quota = excellent_quota(n, rules)
    last_from = n - rules.last_place_count + 1 if n >= rules.last_place_min_units else n + 1
    thresholds = rules.thresholds
    worst = GRADES[-1]
    used = 0
    out: dict[int, Place] = {}
    for i, (neg, _code, no) in enumerate(keys):
        score = -neg
        tg = worst
        for g, t in thresholds:
            if score >= t:
                tg = g
                break
        grade = tg
        ex = no in exempt
        if ex:
            grade = EXCELLENT
        cap = vetoes.get(no)
        if cap is not None and _GRADE_NO[cap] > _GRADE_NO[grade]:
            grade = cap
        in_quota = False
        if grade == EXCELLENT and not ex:
            if used < quota:
                used += 1
                in_quota = True
            else:
                grade = GOOD
        out[no] = Place(i + 1, n, grade, tg, in_quota, ex, i + 1 >= last_from)
    return out


def _first_is_excellent(rules: GradeRules) -> bool:
    """Whether 优秀 by threshold means exactly `score >= the first threshold` (the usual rules)."""
    th = rules.thresholds
    return bool(th) and th[0][0] == EXCELLENT and all(g != EXCELLENT for g, _ in th[1:])


@dataclass
class Category:
    keys: list[tuple[float, str, int]] = field(default_factory=list)  # sorted
    key_of: dict[int, tuple[float, str, int]] = field(default_factory=dict)
    veto: dict[int, str | None] = field(default_factory=dict)
    capped: set[int] = field(default_factory=set)  # units with a veto grade
    placed: dict[int, Place] | None = None  # cache, dropped on change

    def put(self, no: int, key: tuple[float, str, int], veto: str | None) -> None:
        old = self.key_of.get(no)
        if old == key and self.veto.get(no) == veto:
            return
        if old is not None:
            del self.keys[bisect.bisect_left(self.keys, old)]
        bisect.insort(self.keys, key)
        self.key_of[no] = key
        self.veto[no] = veto
        if veto is None:
            self.capped.discard(no)
        else:
            self.capped.add(no)
        self.placed = None

    def drop(self, no: int) -> None:
        old = self.key_of.pop(no, None)
        if old is not None:
            del self.keys[bisect.bisect_left(self.keys, old)]
            self.veto.pop(no, None)
            self.capped.discard(no)
            self.placed = None

    def place_one(self, no: int, exempt: set[int], rules: GradeRules) -> Place:
        """One unit's place without placing the whole category: O(log n + exempt + vetoed units).

        The same decisions as place_category (tested against it). The quota places used above the unit
        are the units ranked above it that are 优秀 by threshold, neither exempt nor capped by a veto.
        """
        if self.placed is not None:
            return self.placed[no]
        if not _first_is_excellent(rules):
            return self.category_places(exempt, rules)[no]
        keys = self.keys
        key = self.key_of[no]
        i = bisect.bisect_left(keys, key)
        n = len(keys)
        score = -key[0]
        tg = GRADES[-1]
        for g, t in rules.thresholds:
            if score >= t:
                tg = g
                break
        ex = no in exempt
        grade = EXCELLENT if ex else tg
        cap = self.veto.get(no)
        if cap is not None and _GRADE_NO[cap] > _GRADE_NO[grade]:
            grade = cap
        in_quota = False
        if grade == EXCELLENT and not ex:
            top = rules.thresholds[0][1]
            prefix = min(i, _count_at_least(keys, top))  # ranked above it and 优秀 by threshold
            used = prefix
            for m in self.capped | (exempt & self.key_of.keys()):
                if m in exempt or _GRADE_NO[self.veto[m] or EXCELLENT] > 0:
                    if bisect.bisect_left(keys, self.key_of[m]) < prefix:
                        used -= 1
            if used < excellent_quota(n, rules):
                in_quota = True
            else:
                grade = GOOD
        last_from = n - rules.last_place_count + 1 if n >= rules.last_place_min_units else n + 1
        return Place(i + 1, n, grade, tg, in_quota, ex, i + 1 >= last_from)

    def category_places(self, exempt: set[int], rules: GradeRules) -> dict[int, Place]:
        if self.placed is None:
            self.placed = place_category(self.keys, self.veto, exempt, rules)
        return self.placed


def _count_at_least(keys: list[tuple[float, str, int]], score: float) -> int:
    """How many keys (−score, code, no), sorted, have score ≥ `score`."""
    return bisect.bisect_right(keys, -score, key=lambda k: k[0])


@dataclass
class PeriodStandings:
    seq: int
    stamp: int
    rules: GradeRules
    exempt: set[int] = field(default_factory=set)
    cats: dict[str, Category] = field(default_factory=dict)
    cat_of: dict[int, str] = field(default_factory=dict)
    # the stored result rows, for the scorer (loaded on its first use of the period, then kept current
    # by it); readers only need the standings above
    rows: dict[int, ResultRow] | None = None

    def put(self, model: BookModel, no: int, category: str, total: float, veto: str | None) -> None:
        prev = self.cat_of.get(no)
        if prev is not None and prev != category:
            self.cats[prev].drop(no)
        code = model.units[no].unit_id if no in model.units else str(no)
        self.cats.setdefault(category, Category()).put(no, (-round(total, 6), code, no), veto)
        self.cat_of[no] = category

    def drop(self, no: int) -> None:
        cat = self.cat_of.pop(no, None)
        if cat is not None:
            self.cats[cat].drop(no)

    def set_exempt(self, exempt: set[int]) -> None:
        if exempt != self.exempt:
            for no in exempt ^ self.exempt:
                cat = self.cat_of.get(no)
                if cat is not None:
                    self.cats[cat].placed = None
            self.exempt = set(exempt)

    def category(self, name: str) -> dict[int, Place]:
        cat = self.cats.get(name)
        return {} if cat is None else cat.category_places(self.exempt, self.rules)

    def place(self, no: int) -> Place | None:
        """One unit's place: from the category's cached places, else computed for it alone."""
        cat = self.cat_of.get(no)
        return None if cat is None else self.cats[cat].place_one(no, self.exempt, self.rules)

    def page(self, model: BookModel, name: str, root: str, after: int, limit: int) -> list[tuple[int, Place]]:
        """Up to `limit` units of the category under `root`, ranked after `after`, in rank order."""
        placed = self.category(name)
        out: list[tuple[int, Place]] = []
        for no in self.ordered(name)[after:]:
            u = model.units.get(no)
            if u is not None and paths.within(u.path, root):
                out.append((no, placed[no]))
                if len(out) >= limit:
                    break
        return out

    def ordered(self, name: str) -> list[int]:
        """The category's units in rank order."""
        cat = self.cats.get(name)
        return [] if cat is None else [k[2] for k in cat.keys]


class Models(Protocol):
    async def get(self, c: asyncpg.Connection, book: int) -> BookModel | None: ...


class Standings:
    """Per-process standings of every (book, period) read or scored, validated against the database."""

    def __init__(self) -> None:
        self._periods: dict[tuple[int, str], PeriodStandings] = {}

    def clear(self) -> None:
        self._periods.clear()

    def forget(self, book: int) -> None:
        for key in [k for k in self._periods if k[0] == book]:
            del self._periods[key]

    async def get(
        self, c: asyncpg.Connection, model: BookModel, period: str, *, rows: bool = False
    ) -> PeriodStandings:
        """The period's standings, reloaded when another writer (or a config change) moved it on;
        with `rows`, also its stored result rows."""
        return (await self.get_many(c, model, [period], rows=rows))[period]

    async def get_many(
        self, c: asyncpg.Connection, model: BookModel, periods: list[str], *, rows: bool = False
    ) -> dict[str, PeriodStandings]:
        """`get` for several periods of a book, validated with one query."""
        found = await c.fetch(
            "SELECT p.period, coalesce(b.stamp, 0), coalesce(s.seq, 0) FROM unnest($2::text[]) AS p(period)"
            " LEFT JOIN book b ON b.id = $1"
            " LEFT JOIN standing_seq s ON s.book = $1 AND s.period = p.period",
            model.book,
            periods,
        )
        rules = model.config.grades.rules()
        out: dict[str, PeriodStandings] = {}
        for period, stamp, seq in found:
            hit = self._periods.get((model.book, period))
            if hit is not None and hit.seq >= seq and hit.stamp == stamp and hit.rules == rules:
                if rows and hit.rows is None:
                    hit.rows = await _rows(c, model.book, period)
                out[period] = hit
            else:
                st = await _load(c, model, period, seq, stamp, rules, with_rows=rows)
                self._periods[(model.book, period)] = out[period] = st
        return out

    async def of_rows(
        self, c: asyncpg.Connection, models: Models, keys: Iterable[tuple[int, str, int]]
    ) -> dict[tuple[int, str, int], Place]:
        """Places of (book, period, unit no) triples."""
        out: dict[tuple[int, str, int], Place] = {}
        seen: dict[tuple[int, str], PeriodStandings | None] = {}
        for book, period, no in keys:
            if (book, period) not in seen:
                model = await models.get(c, book)
                seen[(book, period)] = None if model is None else await self.get(c, model, period)
            st = seen[(book, period)]
            pl = None if st is None else st.place(no)
            if pl is not None:
                out[(book, period, no)] = pl
        return out

    async def advance_many(
        self, c: asyncpg.Connection, book: int, written: dict[str, PeriodStandings]
    ) -> None:
        """Bump the written periods' sequences (in the writer's transaction, one statement) and mark memory
        as that far."""
        rows = await c.fetch(
            "INSERT INTO standing_seq AS s (book, period, seq) SELECT $1, p, 1 FROM unnest($2::text[]) AS p"
            " ON CONFLICT (book, period) DO UPDATE SET seq = s.seq + 1 RETURNING period, seq",
            book,
            list(written),
        )
        for period, seq in rows:
            st = written[period]
            st.seq = seq
            self._periods[(book, period)] = st

    async def invalidate(self, c: asyncpg.Connection, book: int, period: str) -> None:
        """A writer replaced the period wholesale: bump its sequence and let the next reader reload."""
        await c.execute(
            "INSERT INTO standing_seq AS s (book, period, seq) VALUES ($1, $2, 1) ON CONFLICT (book, period)"
            " DO UPDATE SET seq = s.seq + 1",
            book,
            period,
        )
        self._periods.pop((book, period), None)


async def _rows(c: asyncpg.Connection, book: int, period: str) -> dict[int, ResultRow]:
    return await results.results(c, book, period)


async def _load(
    c: asyncpg.Connection,
    model: BookModel,
    period: str,
    seq: int,
    stamp: int,
    rules: GradeRules,
    *,
    with_rows: bool = False,
) -> PeriodStandings:
    stored = await _rows(c, model.book, period) if with_rows else None
    if stored is not None:
        rows: Iterable[tuple[int, str, float, str | None]] = [
            (r.unit_no, r.category, r.total, r.veto_grade) for r in stored.values()
        ]
    else:
        rows = await c.fetch(
            "SELECT unit_no, category, total, veto_grade FROM result WHERE book = $1 AND period = $2",
            model.book,
            period,
        )
    exempt = await c.fetch(
        "SELECT unit_no FROM exemption WHERE book = $1 AND period = $2", model.book, period
    )
    st = PeriodStandings(seq=seq, stamp=stamp, rules=rules, exempt={r[0] for r in exempt}, rows=stored)
    by_cat: dict[str, list[tuple[float, str, int]]] = {}
    for no, cat, total, veto in rows:
        code = model.units[no].unit_id if no in model.units else str(no)
        by_cat.setdefault(cat, []).append((-round(total, 6), code, no))
        st.cat_of[no] = cat
        c_ = st.cats.setdefault(cat, Category())
        c_.veto[no] = veto
        if veto is not None:
            c_.capped.add(no)
    for cat, keys in by_cat.items():
        keys.sort()
        st.cats[cat].keys = keys
        st.cats[cat].key_of = {k[2]: k for k in keys}
    return st


def categories_of(st: PeriodStandings, nos: Iterable[int]) -> set[str]:
    return {st.cat_of[no] for no in nos if no in st.cat_of}
