"""The service's batch path agrees with the scalar engine: leaves, roll-up, quarter, ranks, 序时进度."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from kaohe.contracts.scheme import Scheme
from services.scoring.domain.batch import Values, leaf_fractions, quarter_end_values, score_period
from services.scoring.domain.book import build_model
from services.scoring.domain.composition import compose_quarter
from services.scoring.domain.config import AspectConfig, ScoringConfig
from services.scoring.domain.pace import assess_pace
from services.scoring.domain.ranking import Candidate, rank_category
from services.scoring.domain.rollup import RollupConfig, UnitInputs, rollup_unit
from services.scoring.domain.rows import compose_quarter_rows, pace_checks, rank_rows
from services.scoring.domain.rules import LeafInput, score_leaf
from tests.support.scoring import SCHEME, due

UNITS = [(i, f"U{i}", f"单位{i}", f"/1/U{i}/", "乡镇") for i in range(6)]
CODES = {c: i for i, c in enumerate(["ECO", "GDP", "FAI", "GOV", "SAFE", "REV", "HONOR", "VETO"])}


def model(config: ScoringConfig | None = None):  # type: ignore[no-untyped-def]
    scheme = Scheme.model_validate(
        {**SCHEME, "coefficients": [{"unit_id": "U2", "kind": "assessment", "value": 1.2}]}
    )
    return build_model(
        book=1, scheme_id="s", scheme=scheme, config=config or ScoringConfig(), units=UNITS, codes=CODES
    )


def values(rng: np.random.Generator, periods: list[str]) -> Values:
    unit, code, pidx, val = [], [], [], []
    for p in range(len(periods)):
        for u in range(6):
            for c, v in (
                ("GDP", rng.uniform(0, 130)),
                ("FAI", rng.uniform(0, 60)),
                ("SAFE", rng.integers(0, 12)),
                ("HONOR", rng.integers(0, 5)),
                ("VETO", rng.integers(0, 2) if u == 3 else 0),
            ):
                unit.append(u), code.append(CODES[c]), pidx.append(p), val.append(float(v))
    grades = [
        (u, CODES["REV"], p, ["好", "较好", "一般", "差"][u % 4])
        for p in range(len(periods))
        for u in range(6)
    ]
    return Values.build(
        periods, len(CODES), np.array(unit), np.array(code), np.array(pidx), np.array(val), grades
    )


@pytest.mark.parametrize("seed", range(5))
def test_batch_rollup_equals_scalar_engine(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = model(ScoringConfig(supervision_weight=0.1, bonus_cap=2.0))
    vals = values(rng, ["2026-01"])
    sup = {1: 70.0}
    rows = {r.unit_no: r for r in score_period(m, vals, "2026-01", range(6), sup)}
    group = m.groups["cat:乡镇"]
    for u in range(6):
        leaves = {}
        for leaf in group.leaves:
            r = int(vals.row[u])
            v = float(vals.value[0, r, leaf.code_no]) if vals.present[0, r, leaf.code_no] else None
            inp = LeafInput(
                full=leaf.full,
                value=v,
                # completion leaves: the annual target's share due by 31 January
                target=None if leaf.target is None else leaf.target * due("2026-01"),
                direction=leaf.direction,  # type: ignore[arg-type]
                grade=vals.grades.get((0, r, leaf.code_no)),
            )
            leaves[leaf.code] = score_leaf(leaf.standard, inp)  # type: ignore[arg-type]
        want = rollup_unit(
            group.root,
            leaves,
            UnitInputs(f"U{u}", coefficient=m.units[u].coefficient, supervision_score=sup.get(u, 100.0)),
            RollupConfig(supervision_weight=0.1, bonus_cap=2.0),
        )
        assert rows[u].total == pytest.approx(want.total, abs=1e-9)
        assert rows[u].veto_grade == want.veto_grade
        assert rows[u].l1 == pytest.approx([c.score for c in want.tree.children], abs=1e-9)


def test_quarter_rows_follow_compose_quarter_and_ranks_follow_rank_category() -> None:
    rng = np.random.default_rng(9)
    m = model(
        ScoringConfig(
            quarter_aspects=[AspectConfig(code="indicators", name="月度", weight=1.0, from_months="mean")]
        )
    )
    vals = values(rng, ["2026-01", "2026-02", "2026-03"])
    months = [score_period(m, vals, p, range(6), {}) for p in vals.periods]
    per_unit = [[next(r for r in ms if r.unit_no == u) for ms in months] for u in range(6)]
    quarter = compose_quarter_rows(m, per_unit, list(range(6)), {}, {})  # type: ignore[arg-type]
    assert len(quarter) == 6
    for u, q in enumerate(quarter):
        want = compose_quarter(m.config.aspects(), {"indicators": [r.total for r in per_unit[u]]})
        assert q.total == pytest.approx(want.score, abs=1e-9)
    rank_rows(m, quarter, exempt={4})
    ranked = rank_category(
        [Candidate(f"U{q.unit_no}", q.total, q.unit_no == 4, q.veto_grade) for q in quarter]
    )
    assert sorted((q.rank, q.grade, q.last_place) for q in quarter) == [
        (r.rank, r.grade, r.last_place) for r in ranked
    ]


def test_pace_checks_follow_assess_pace() -> None:
    m = model()
    vals = values(np.random.default_rng(2), ["2026-06"])
    found, colours = pace_checks(m, vals, "2026-06", range(6))
    gdp = next(leaf for leaf in m.groups["cat:乡镇"].leaves if leaf.code == "GDP")
    for u in range(6):
        v = float(vals.value[0, int(vals.row[u]), CODES["GDP"]])
        want = assess_pace(gdp.schedule, date(2026, 6, 30), value=v, target=100.0)
        got = next((w for w in found if w.unit_no == u and w.code_no == CODES["GDP"]), None)
        assert (got.level if got else "green") == want.level
        if got:
            assert got.lag == pytest.approx(want.lag)
    assert set(colours) == set(range(6))


def test_quarter_end_values_take_the_quarter_else_the_latest_month() -> None:
    periods = ["2026-01", "2026-02", "2026-03", "2026-Q1"]
    vals = values(np.random.default_rng(4), periods)
    gdp, fai, rev = CODES["GDP"], CODES["FAI"], CODES["REV"]
    r0, r1 = int(vals.row[0]), int(vals.row[1])
    vals.present[:, :, rev] = True  # a grade is a stored row (value NULL), as the store loads it
    for p in (1, 2, 3):  # unit 0: GDP only in January; FAI in February and the quarter
        vals.present[p, r0, gdp] = False
        vals.value[p, r0, gdp] = np.nan
    vals.present[2, r0, fai] = False
    vals.present[3, r1, :] = False  # unit 1: months only
    vals.grades = {k: g for k, g in vals.grades.items() if not (k[0] == 3 and k[1] == r1)}
    qv = quarter_end_values(vals, "2026-Q1")
    assert qv.periods == ["2026-Q1"]
    assert qv.value[0, r0, gdp] == vals.value[0, r0, gdp]  # January, the only month with a value
    assert qv.value[0, r0, fai] == vals.value[3, r0, fai]  # the quarter value wins
    assert np.array_equal(qv.value[0, r1], vals.value[2, r1], equal_nan=True)  # the latest month
    assert qv.grades[(0, r1, rev)] == vals.grades[(2, r1, rev)]
    m = model()
    rows = {r.unit_no: r for r in score_period(m, qv, "2026-Q1", range(6), {})}
    ends = compose_quarter_rows(m, [[None] * 3 for _ in range(6)], list(range(6)), {}, {}, rows)
    for q in ends:
        want = compose_quarter(m.config.aspects(), {"indicators": rows[q.unit_no].total})
        assert q.total == pytest.approx(want.score, abs=1e-12) and q.l1 == rows[q.unit_no].l1
    found, _ = pace_checks(m, qv, "2026-Q1", range(6))
    gdp_leaf = next(leaf for leaf in m.groups["cat:乡镇"].leaves if leaf.code == "GDP")
    for u in range(6):
        v = float(qv.value[0, int(qv.row[u]), gdp])
        want_level = assess_pace(gdp_leaf.schedule, date(2026, 3, 31), value=v, target=100.0).level
        got = next((w for w in found if w.unit_no == u and w.code_no == gdp), None)
        assert (got.level if got else "green") == want_level


@pytest.mark.parametrize("prorate", [True, False])
def test_on_schedule_at_quarter_end_scores_the_full_completion_points(prorate: bool) -> None:
    """年度目标按序时进度分解: on a linear schedule a unit at exactly the share due by 31 March (90 of
    365 days) completes the quarter's target; with prorate_targets off it is measured on the year."""
    m = model(ScoringConfig(prorate_targets=prorate))
    share = 90 / 365
    unit, code, val = [0, 0], [CODES["GDP"], CODES["FAI"]], [100 * share, 50 * share]
    pidx = np.zeros(2, dtype=np.int64)
    vals = Values.build(["2026-Q1"], len(CODES), np.array(unit), np.array(code), pidx, np.array(val))
    (row,) = score_period(m, vals, "2026-Q1", [0], {})
    group = m.groups["cat:乡镇"]
    gdp = next(j for j, leaf in enumerate(group.leaves) if leaf.code == "GDP")
    fr, _, _ = leaf_fractions(m, group, vals, 0, [0])
    want = 1.0 if prorate else share  # GDP full points (30) or the annual completion ratio
    assert fr[0, gdp] == pytest.approx(want, abs=1e-12)
    assert 30 * fr[0, gdp] == pytest.approx(30.0 if prorate else 30 * 90 / 365)
    # ECO = GDP 30/50 + FAI 20/50 (both on schedule); GOV has no values: SAFE full, REV 0
    assert row.l1[0] == pytest.approx(100 * want)
