"""Periods, standings and schedule checks of a book (季度/年度, 排名等次, 序时进度) over batch results.

Pure: quarter and year composition of stored or fresh rows, category rankings with the engine's
rank_columns, and vectorised 序时进度 checks of one month's values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from kaohe.contracts.standards import Banded, CompletionRatio
from services.scoring.domain.batch import SUPERVISION_DEFAULT, ResultRow, Values, _worst, gather
from services.scoring.domain.book import BookModel, target_matrix
from services.scoring.domain.calendar import period_end
from services.scoring.domain.pace import expected_fraction
from services.scoring.domain.ranking import rank_columns

LEVEL_CODE = {"green": 0, "yellow": 1, "orange": 2, "red": 3}
LEVELS = ("green", "yellow", "orange", "red")
COLOURS = np.array(["green", "yellow", "red", "red"], dtype=object)  # 三色榜 by worst level: 橙 counts as 红


# ---------------------------------------------------------------- quarter and year


def compose_quarter_rows(
    model: BookModel,
    months: list[list[ResultRow | None]],  # per unit: its month rows in month order (None = none)
    unit_nos: list[int],
    supervision: Mapping[int, float],
    direct: Mapping[tuple[int, str], float],
    ends: Mapping[int, ResultRow] | None = None,
) -> list[ResultRow]:
    """季度: Σ aspect weight × aspect value; `supervision` fed by the supervision service, the other
    aspects set directly (missing: 0); `indicators` is the quarter scored on its 季末累计 values (`ends`,
    from_months quarter_end) or the mean / last of the month totals.

    quarter_end: a row for every unit with a quarter-end roll-up; its breakdown (indicators, bonus,
    penalty, level-1 scores) is that roll-up's. A 一票否决 in any month also caps the quarter.
    mean / last: a row for every unit with month rows (units with quarter values only are scored
    directly by the caller). The 三色榜 colour is the quarter-end check's when `ends` has the unit.
    """
    out = []
    ends = ends or {}
    aspects = [(a.code, a.weight) for a in model.config.aspects()]
    rule = next(a.from_months for a in model.config.aspects() if a.code == "indicators")
    at_end = rule == "quarter_end"
    fsum = math.fsum
    for no, ms in zip(unit_nos, months, strict=True):
        got = [m for m in ms if m is not None]
        end = ends.get(no)
        if (at_end and end is None) or (not at_end and not got):
            continue
        if at_end:
            assert end is not None
            ind = end.total
        elif rule == "last":
            ind = got[-1].total
        else:
            ind = fsum([m.total for m in got]) / len(got)
        sup = supervision.get(no, SUPERVISION_DEFAULT)
        parts, score = [], 0.0
        for code, weight in aspects:
            if code == "indicators":
                v = ind
            elif code == "supervision":
                v = sup
            else:
                v = direct.get((no, code), 0.0)
            parts.append(v)
            score += weight * v  # the order and operations of engine.periods.compose_quarter
        veto = end.veto_grade if at_end and end is not None else None
        for m in got:
            if m.veto_grade is not None:
                veto = _worst(veto, m.veto_grade)
        if at_end and end is not None:
            base, l1, leaves = end, list(end.l1), end.leaves
            ind_v, bonus, penalty = end.indicators, end.bonus, end.penalty
        else:
            base = got[-1]
            if all(len(m.l1) == len(base.l1) for m in got):
                l1 = [fsum(col) / len(got) for col in zip(*(m.l1 for m in got), strict=True)]
            else:
                l1 = base.l1
            leaves, ind_v, bonus, penalty = sum(m.leaves for m in got), ind, 0.0, 0.0
        shown = end if end is not None else base
        out.append(
            ResultRow(
                no,
                base.category,
                base.grp,
                "quarter",
                score,
                ind_v,
                sup,
                bonus,
                penalty,
                base.coefficient,
                leaves,
                veto,
                l1,
                parts,
                shown.colour,
                shown.checks,
            )
        )
    return out


def compose_year_rows(
    model: BookModel,
    quarters: Mapping[int, list[ResultRow]],
    direct: Mapping[tuple[int, str], float],
    supervision: Mapping[int, float] | None = None,
) -> list[ResultRow]:
    """年度: Σ share weight × value; quarters_mean shares take the mean of the quarters held so far; a
    `supervision` share is the year's 平时督查 (the service's, else the manual one, else 100)."""
    supervision = supervision or {}
    out = []
    shares = [(sh.code, sh.weight, sh.source == "quarters_mean") for sh in model.config.shares()]
    for no, qs in sorted(quarters.items()):
        if not qs:
            continue
        mean_q = math.fsum([q.total for q in qs]) / len(qs)
        parts, score = [], 0.0
        last = qs[-1]
        sup = last.supervision  # the latest quarter's, unless the year has a 平时督查 share of its own
        for code, weight, from_quarters in shares:
            if from_quarters:
                v = mean_q
            elif code == "supervision":
                v = sup = supervision.get(no, SUPERVISION_DEFAULT)
            else:
                v = direct.get((no, code), 0.0)
            parts.append(v)
            score += weight * v
        veto = None
        for q in qs:
            if q.veto_grade is not None:
                veto = _worst(veto, q.veto_grade)
        out.append(
            ResultRow(
                no,
                last.category,
                last.grp,
                "year",
                score,
                mean_q,
                sup,
                0.0,
                0.0,
                last.coefficient,
                sum(q.leaves for q in qs),
                veto,
                last.l1,
                parts,
                last.colour,
                last.checks,
            )
        )
    return out


# ---------------------------------------------------------------- ranking and grades


def rank_rows(model: BookModel, rows: list[ResultRow], exempt: set[int]) -> None:
    """Rank one category's rows (同类比较) and grade them with quota, exemptions, veto caps and 末位."""
    if not rows:
        return
    ids = model.roster.unit_id
    nos = [r.unit_no for r in rows]
    codes = [ids[no] if 0 <= no < len(ids) and ids[no] is not None else str(no) for no in nos]
    ex = [no in exempt for no in nos] if exempt else [False] * len(nos)
    places = rank_columns(
        codes, [r.total for r in rows], ex, [r.veto_grade for r in rows], model.config.grades.rules()
    )
    n = len(rows)
    for i, rank, grade, threshold_grade, in_quota, last in places:
        r = rows[i]
        r.rank, r.of, r.grade, r.threshold_grade = rank, n, grade, threshold_grade
        r.in_quota, r.last_place, r.exempt = in_quota, last, ex[i]


# ---------------------------------------------------------------- 序时进度 warnings


@dataclass
class PaceCheck:
    unit_no: int
    code_no: int
    level: str
    expected: float
    actual: float
    lag: float


def pace_checks(
    model: BookModel,
    vals: Values,
    period: str,
    unit_nos: Iterable[int],
    greens: dict[tuple[int, int], PaceCheck | None] | None = None,
    on: date | None = None,
) -> tuple[list[PaceCheck], dict[int, tuple[str | None, int]]]:
    """Non-green schedule checks of a period and each unit's 三色榜 colour and number of checks.

    A month is checked at its end on its values; a quarter at its end (`on`, default the period's end)
    on its 季末累计 values (compute.quarter_end_values).

    `greens`: keys (unit no, code no) filled in with their check when it is now green (so a cleared
    warning can carry the expected and actual progress that cleared it).

    A leaf is checked when it is a counted completion/banded leaf with a positive annual target, higher
    is better, and the unit reported a (cumulative) value for the period.
    """
    p = vals.periods.index(period)
    on = on or period_end(period)
    cfg = model.config.warnings.engine()
    out: list[PaceCheck] = []
    colours: dict[int, tuple[str | None, int]] = {}
    for key, nos in model.group_rows(unit_nos).items():
        group = model.groups[key]
        js = [
            j
            for j, leaf in enumerate(group.leaves)
            if leaf.counted
            and isinstance(leaf.standard, CompletionRatio | Banded)
            and leaf.direction == "higher_better"
        ]
        if not js:
            continue
        rows = vals.rows_of(nos)
        targets = target_matrix(model, group, nos)[:, js]
        codes = np.array([group.leaves[j].code_no for j in js])
        expected = np.array([expected_fraction(group.leaves[j].schedule, on) for j in js])
        v = gather(vals.value[p], rows, codes, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            actual = v / targets
        checked = np.isfinite(actual) & (targets > 0)
        lag = expected[None, :] - actual
        basis = lag / expected[None, :] if cfg.basis == "relative" else lag
        if cfg.basis == "relative":
            basis = np.where(expected[None, :] > 0, basis, -np.inf)
        level = np.zeros(lag.shape, dtype=np.int8)
        for lv, threshold in cfg.thresholds:
            level = np.where(basis >= threshold, LEVEL_CODE[lv], level)
        level = np.where(checked, level, 0)
        n_checks = checked.sum(axis=1)
        worst = level.max(axis=1) if len(js) else np.zeros(len(nos), dtype=np.int8)
        shown = np.flatnonzero(n_checks)
        colours.update(
            zip(
                np.asarray(nos)[shown].tolist(),
                zip(COLOURS[worst[shown]].tolist(), n_checks[shown].tolist(), strict=True),
                strict=True,
            )
        )
        if greens:
            col = {int(code): jj for jj, code in enumerate(codes)}
            pos = {no: i for i, no in enumerate(nos)}
            for no, code_no in list(greens):
                i, jj = pos.get(no), col.get(code_no)
                if i is not None and jj is not None and checked[i, jj] and level[i, jj] == 0:
                    greens[(no, code_no)] = PaceCheck(
                        no, code_no, "green", float(expected[jj]), float(actual[i, jj]), float(lag[i, jj])
                    )
        for i, jj in zip(*np.nonzero(level), strict=True):
            out.append(
                PaceCheck(
                    nos[i],
                    int(codes[jj]),
                    LEVELS[level[i, jj]],
                    float(expected[jj]),
                    float(actual[i, jj]),
                    float(lag[i, jj]),
                )
            )
    return out, colours
