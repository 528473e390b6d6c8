"""Batch scoring of a results book (批量计分): values matrix → leaf fractions → roll-ups → periods → ranks.

Pure and vectorised (numpy) over the engine's batch path; the incremental scorer and the full recompute
both call these functions, on a few units or on all of them, so their results are the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from kaohe.contracts.standards import (
    GRADES,
    Banded,
    Bonus,
    CompletionRatio,
    Deduction,
    Formula,
    Qualitative,
    RankAmongPeers,
    Veto,
)
from kaohe.expr import ExprError, Ref
from services.scoring.domain.book import BookModel, Group, LeafSpec, target_matrix
from services.scoring.domain.calendar import due_on, kind_of, months_of
from services.scoring.domain.pace import expected_fraction
from services.scoring.domain.rollup import RollupConfig, rollup_batch
from services.scoring.domain.rules import formula_expr, score_batch

SUPERVISION_DEFAULT = (
    100.0  # no 平时督查 result yet: no deduction recorded (the component is deduction-based)
)


def due_fraction(model: BookModel, leaf: LeafSpec, period: str) -> float | None:
    """年度目标按序时进度分解: the share of a ratio-type leaf's annual target due by the period's end.

    None when the target is not prorated: a year (or unrecognised period), `prorate_targets` off, a
    standard other than completion_ratio / banded, or a lower_better leaf (a ceiling does not scale).
    The scorer and the explanation both multiply the annual target by this share, so they agree exactly.
    """
    if not model.config.prorate_targets or leaf.direction == "lower_better":
        return None
    if not isinstance(leaf.standard, CompletionRatio | Banded):
        return None
    on = due_on(period)
    return None if on is None else expected_fraction(leaf.schedule, on)


def due_fractions(model: BookModel, group: Group, period: str) -> np.ndarray:
    """due_fraction of every leaf of the group, 1.0 where the target is not prorated."""
    fr = (due_fraction(model, leaf, period) for leaf in group.leaves)
    return np.array([1.0 if f is None else f for f in fr], dtype=np.float64)


# ---------------------------------------------------------------- values


@dataclass
class Values:
    """Dense values of some units in some periods: value[period, row, code_no], NaN where none."""

    periods: list[str]
    unit_nos: np.ndarray
    row: np.ndarray  # unit_no → row, −1 when not loaded
    value: np.ndarray
    present: np.ndarray
    grades: dict[tuple[int, int, int], str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        periods: list[str],
        n_codes: int,
        unit: np.ndarray,
        code: np.ndarray,
        pidx: np.ndarray,
        value: np.ndarray,
        grades: Iterable[tuple[int, int, int, str]] = (),
    ) -> Values:
        """From parallel arrays (unit_no, code_no, period index, value); rows are the distinct units."""
        unit_nos = np.unique(unit)
        row = np.full(int(unit_nos.max()) + 1 if len(unit_nos) else 1, -1, dtype=np.int64)
        row[unit_nos] = np.arange(len(unit_nos))
        shape = (len(periods), len(unit_nos), max(n_codes, 1))
        v = np.full(shape, np.nan)
        present = np.zeros(shape, dtype=bool)
        r = row[unit]
        ok = code < shape[2]
        v[pidx[ok], r[ok], code[ok]] = value[ok]
        present[pidx[ok], r[ok], code[ok]] = True
        g = {(p, int(row[u]), c): grade for u, c, p, grade in grades if c < shape[2]}
        return cls(periods, unit_nos, row, v, present, g)

    @classmethod
    def build_parts(
        cls,
        periods: list[str],
        n_codes: int,
        parts: list[np.ndarray],
        grades: Iterable[tuple[int, int, int, str]] = (),
    ) -> Values:
        """From one record array per period (fields u, c, v) as read by binary COPY."""
        top = max((int(p["u"].max()) for p in parts if len(p)), default=-1)
        seen = np.zeros(top + 1, dtype=bool)
        for p in parts:
            seen[p["u"]] = True
        unit_nos = np.nonzero(seen)[0]
        row = np.full(top + 1 if top >= 0 else 1, -1, dtype=np.int64)
        row[unit_nos] = np.arange(len(unit_nos))
        shape = (len(periods), len(unit_nos), max(n_codes, 1))
        v = np.full(shape, np.nan)
        present = np.zeros(shape, dtype=bool)
        width = shape[2]
        for i, p in enumerate(parts):
            if not len(p):
                continue
            u, c, val = p["u"].astype(np.int64), p["c"].astype(np.int64), p["v"]
            if int(c.max()) >= width:
                ok = c < width
                u, c, val = u[ok], c[ok], val[ok]
            flat = row[u] * width + c  # one scatter into the period's contiguous (units × codes) plane
            v[i].reshape(-1)[flat] = val
            present[i].reshape(-1)[flat] = True
        g = {(p, int(row[u]), c): grade for u, c, p, grade in grades if c < shape[2]}
        return cls(periods, unit_nos, row, v, present, g)

    def rows_of(self, unit_nos: Iterable[int]) -> np.ndarray:
        nos = np.fromiter(unit_nos, dtype=np.int64)
        ok = nos < len(self.row)
        out = np.full(len(nos), -1, dtype=np.int64)
        out[ok] = self.row[nos[ok]]
        return out


def quarter_end_values(vals: Values, quarter: str) -> Values:
    """季末累计: the quarter as one period, each (unit, leaf) taking the quarter-level value if one was
    reported, else the latest month of the quarter that has one (cumulative reporting), else none.

    Presence is a stored, not withdrawn row (a grade-only row counts); its grade comes with it.
    """
    q = vals.periods.index(quarter)
    value, present = vals.value[q].copy(), vals.present[q].copy()
    pick = np.full(present.shape, q, dtype=np.int64)
    for m in reversed(months_of(quarter)):
        if m not in vals.periods:
            continue
        i = vals.periods.index(m)
        take = vals.present[i] & ~present
        value[take] = vals.value[i][take]
        present |= take
        pick[take] = i
    grades = {(0, r, c): g for (p, r, c), g in vals.grades.items() if present[r, c] and int(pick[r, c]) == p}
    return Values([quarter], vals.unit_nos, vals.row, value[None], present[None], grades)


@dataclass(slots=True)
class ResultRow:  # 单位得分 (one unit, one period)
    unit_no: int
    category: str
    grp: str
    kind: str
    total: float
    indicators: float
    supervision: float
    bonus: float
    penalty: float
    coefficient: float
    leaves: int
    veto_grade: str | None
    l1: list[float]
    parts: list[float] | None = None
    colour: str | None = None
    checks: int = 0
    rank: int | None = None
    of: int | None = None
    grade: str | None = None
    threshold_grade: str | None = None
    in_quota: bool = False
    exempt: bool = False
    last_place: bool = False
    version: int = 1


# ---------------------------------------------------------------- leaf fractions


def gather(matrix: np.ndarray, rows: np.ndarray, cols: list[int] | np.ndarray, fill: object) -> np.ndarray:
    """matrix[rows][:, cols] as a (rows, cols) block, `fill` where a row is −1 (not loaded).

    Whole rows first, then the columns: much faster than one fancy index over both axes."""
    ok = rows >= 0
    if ok.all():
        return matrix.take(rows, axis=0).take(cols, axis=1)
    out = np.full((len(rows), len(cols)), fill, dtype=matrix.dtype)
    out[ok] = matrix.take(rows[ok], axis=0).take(cols, axis=1)
    return out


def _column(vals: Values, p: int, rows: np.ndarray, code_no: int) -> np.ndarray:
    out = np.full(len(rows), np.nan)
    ok = rows >= 0
    out[ok] = vals.value[p, rows[ok], code_no]
    return out


def _rank_peers(model: BookModel, vals: Values, p: int, category: str, leaf: LeafSpec) -> np.ndarray:
    """Fraction of every loaded row on a rank leaf, ranked among the category's units that reported."""
    std = leaf.standard
    assert isinstance(std, RankAmongPeers)
    cats = np.array(
        [model.units[int(u)].category == category if int(u) in model.units else False for u in vals.unit_nos]
    )
    col = np.where(cats & vals.present[p, :, leaf.code_no], vals.value[p, :, leaf.code_no], np.nan)
    return score_batch(std, values=col, full=1.0, direction=leaf.direction).fraction  # type: ignore[arg-type]


def leaf_fractions(
    model: BookModel, group: Group, vals: Values, p: int, unit_nos: list[int]
) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """(fractions, leaf bonus, veto grade) of the group's units in period p, leaves in tree order.

    Completion and banded leaves are scored against the target due by the period's end (due_fraction);
    formulas see the annual target."""
    rows = vals.rows_of(unit_nos)
    n, nl = len(unit_nos), len(group.leaves)
    fr, lb = np.zeros((n, nl)), np.zeros((n, nl))
    veto: list[str | None] = [None] * n
    annual: np.ndarray | None = None
    targets: np.ndarray | None = None
    rank_cache: dict[int, np.ndarray] = {}
    if group.buckets:
        # One gather of the group's columns; leaves sharing a numeric standard (and direction) are then
        # scored together: the batch rules are elementwise, so one call over an (n, k) block gives the
        # same numbers as k calls over columns.
        gathered = gather(vals.value[p], rows, [leaf.code_no for leaf in group.leaves], np.nan)
    for js in group.buckets:
        leaf = group.leaves[js[0]]
        std = leaf.standard
        block = gathered[:, js]
        if isinstance(std, CompletionRatio | Banded):
            if targets is None:
                annual = target_matrix(model, group, unit_nos)
                targets = annual * due_fractions(model, group, vals.periods[p])[None, :]
            bs = score_batch(std, values=block, full=1.0, targets=targets[:, js], direction=leaf.direction)  # type: ignore[arg-type]
            fr[:, js] = bs.fraction
        elif isinstance(std, Deduction):
            full = np.array([group.leaves[j].full for j in js], dtype=np.float64)
            fr[:, js] = score_batch(std, values=block, full=full).fraction
        elif isinstance(std, Bonus):
            lb[:, js] = score_batch(std, values=block, full=0.0).bonus
    for j, leaf in enumerate(group.leaves):
        std = leaf.standard
        if isinstance(std, CompletionRatio | Banded | Deduction | Bonus):
            continue
        col = _column(vals, p, rows, leaf.code_no)
        if isinstance(std, RankAmongPeers):
            cat = model.units[unit_nos[0]].category
            if leaf.code_no not in rank_cache:
                rank_cache[leaf.code_no] = _rank_peers(model, vals, p, cat, leaf)
            all_fr = rank_cache[leaf.code_no]
            fr[:, j] = np.where(rows >= 0, all_fr[np.maximum(rows, 0)], 0.0)
        elif isinstance(std, Veto):
            for i in np.nonzero(col > 0)[0]:
                veto[i] = _worst(veto[i], std.cap_grade)
        elif isinstance(std, Qualitative):
            for i, r in enumerate(rows):
                grade = vals.grades.get((p, int(r), leaf.code_no)) if r >= 0 else None
                fr[i, j] = std.grades.get(grade, 0.0) if grade is not None else 0.0
        elif isinstance(std, Formula):
            fr[:, j] = _formula_column(model, group, vals, p, unit_nos, rows, j, leaf, annual)
    return fr, lb, veto


def _formula_column(
    model: BookModel,
    group: Group,
    vals: Values,
    p: int,
    unit_nos: list[int],
    rows: np.ndarray,
    j: int,
    leaf: LeafSpec,
    targets: np.ndarray | None,
) -> np.ndarray:
    """公式: evaluated unit by unit (lag 0 elements only; earlier periods are not loaded in batch)."""
    from services.scoring.domain.rules import LeafInput, RuleError, score_leaf

    std = leaf.standard
    assert isinstance(std, Formula)
    refs = formula_expr(std.expression).references()
    if targets is None:
        targets = target_matrix(model, group, unit_nos)
    out = np.zeros(len(unit_nos))
    for i, r in enumerate(rows):
        env: dict[Ref, float] = {}
        for ref in refs:
            no = model.code_no.get(ref.name)
            if ref.lag == 0 and no is not None and r >= 0 and vals.present[p, r, no]:
                env[ref] = float(vals.value[p, r, no])
        t = targets[i, j]
        inp = LeafInput(
            full=leaf.full, target=None if math.isnan(t) else float(t), direction=leaf.direction, elements=env
        )  # type: ignore[arg-type]
        try:
            out[i] = score_leaf(std, inp).fraction
        except (RuleError, ExprError):
            out[i] = 0.0
    return out


def _worst(a: str | None, b: str) -> str:
    return b if a is None or GRADES.index(b) > GRADES.index(a) else a


# ---------------------------------------------------------------- one period


def score_period(
    model: BookModel,
    vals: Values,
    period: str,
    unit_nos: Iterable[int],
    supervision: Mapping[int, float],
) -> list[ResultRow]:
    """Roll up every given unit with values in `period` (a month, or a quarter scored directly)."""
    p = vals.periods.index(period)
    cfg = model.config
    rc = RollupConfig(supervision_weight=cfg.supervision_weight, bonus_cap=cfg.bonus_cap)
    out: list[ResultRow] = []
    kind = "month" if kind_of(period) == "month" else "rollup"
    present = vals.present[p]
    any_value = present.any(axis=1)
    coefficients = model.roster.coefficient
    units = model.units
    for key, nos in model.group_rows(unit_nos).items():
        rows = vals.rows_of(nos)
        has = rows >= 0  # loaded (a period with no values at all loads no unit) and with a value here
        has[has] = any_value[rows[has]]
        if not has.all():
            nos = np.asarray(nos)[has].tolist()
            rows = rows[has]
        if not nos:
            continue
        group = model.groups[key]
        fr, lb, veto = leaf_fractions(model, group, vals, p, nos)
        coef = coefficients[nos]
        if supervision:
            sup = np.array([supervision.get(no, SUPERVISION_DEFAULT) for no in nos])
        else:
            sup = np.full(len(nos), SUPERVISION_DEFAULT)
        res = rollup_batch(
            group.compiled, fr, config=rc, coefficients=coef, supervision_scores=sup, leaf_bonus=lb
        )
        cols = [l1.node for l1 in group.level1]
        l1 = res.node_scores[:, cols]
        leaf_cols = [leaf.code_no for leaf in group.leaves]
        counts = gather(present, rows, leaf_cols, False).sum(axis=1)
        cols_out = zip(
            nos,
            res.total.tolist(),
            res.indicators.tolist(),
            sup.tolist(),
            res.bonus.tolist(),
            res.penalty.tolist(),
            coef.tolist(),
            counts.tolist(),
            veto,
            l1.tolist(),
            strict=True,
        )
        out.extend(
            ResultRow(no, units[no].category, units[no].group, kind, t, ind, su, b, pe, co, n, ve, l1_row)
            for no, t, ind, su, b, pe, co, n, ve, l1_row in cols_out
        )
    return out
