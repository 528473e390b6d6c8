"""Properties of the scoring engine that must hold for any input (hypothesis)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaohe.contracts.standards import (
    Band,
    Banded,
    CompletionRatio,
    Deduction,
    Direction,
    RankAmongPeers,
)
from services.scoring.domain.ranking import Candidate, GradeRules, excellent_quota, rank_category
from services.scoring.domain.rollup import (
    Adjustment,
    RollupConfig,
    ScoreNode,
    UnitInputs,
    compile_scheme,
    rollup_batch,
    rollup_unit,
)
from services.scoring.domain.rules import LeafInput, LeafResult, score_batch, score_leaf
from services.scoring.domain.trace import build_trace, canonical_bytes, check_trace

SETTINGS = settings(database=None, deadline=None, max_examples=200)

numbers = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
fulls = st.floats(0, 100, allow_nan=False)
directions: st.SearchStrategy[Direction] = st.sampled_from(["higher_better", "lower_better"])
completions = st.builds(
    CompletionRatio, cap=st.floats(0.1, 2.0), floor=st.floats(0.0, 1.0, allow_subnormal=False)
)


@st.composite
def bandeds(draw: st.DrawFn) -> Banded:
    mins = sorted(draw(st.sets(st.floats(0, 2, allow_subnormal=False), min_size=1, max_size=6)))
    fracs = sorted(draw(st.lists(st.floats(0, 1), min_size=len(mins), max_size=len(mins))))
    return Banded(bands=[Band(min_ratio=m, fraction=f) for m, f in zip(mins, fracs, strict=True)])


ratio_rules = completions | bandeds()


def _bound(std: CompletionRatio | Banded, full: float) -> float:
    return full * (std.cap if isinstance(std, CompletionRatio) else max(b.fraction for b in std.bands))


# ---------------------------------------------------------------- bounds and monotonicity


@SETTINGS
@given(ratio_rules, numbers, numbers, fulls, directions)
def test_ratio_scores_stay_within_bounds(
    std: CompletionRatio | Banded, value: float, target: float, full: float, direction: Direction
) -> None:
    r = score_leaf(std, LeafInput(full=full, value=value, target=target, direction=direction))
    assert 0.0 <= r.score <= _bound(std, full) + 1e-9
    assert math.isfinite(r.score) and r.bonus == 0.0


@SETTINGS
@given(ratio_rules, numbers, numbers, numbers, fulls, directions)
def test_ratio_scores_are_monotone_in_the_value(
    std: CompletionRatio | Banded, a: float, b: float, target: float, full: float, direction: Direction
) -> None:
    lo, hi = min(a, b), max(a, b)
    s_lo = score_leaf(std, LeafInput(full=full, value=lo, target=target, direction=direction)).score
    s_hi = score_leaf(std, LeafInput(full=full, value=hi, target=target, direction=direction)).score
    assert s_lo <= s_hi if direction == "higher_better" else s_lo >= s_hi


@SETTINGS
@given(st.lists(numbers, max_size=20), numbers, numbers, st.floats(0, 1), fulls, directions)
def test_rank_scores_bounded_and_monotone(
    peers: list[float], a: float, b: float, last: float, full: float, direction: Direction
) -> None:
    std = RankAmongPeers(last_fraction=last)
    lo, hi = min(a, b), max(a, b)
    s_lo = score_leaf(std, LeafInput(full=full, value=lo, peers=tuple(peers), direction=direction)).score
    s_hi = score_leaf(std, LeafInput(full=full, value=hi, peers=tuple(peers), direction=direction)).score
    for s in (s_lo, s_hi):
        assert 0.0 <= s <= full + 1e-9
    assert s_lo <= s_hi if direction == "higher_better" else s_lo >= s_hi


@SETTINGS
@given(st.floats(0.1, 10), st.none() | st.floats(0.1, 50), fulls, st.integers(0, 50), st.integers(0, 50))
def test_deduction_bounded_and_monotone(per: float, cap: float | None, full: float, m: int, n: int) -> None:
    std = Deduction(per_occurrence=per, max_deduction=cap)
    few, many = (score_leaf(std, LeafInput(full=full, occurrences=k)).score for k in (min(m, n), max(m, n)))
    assert 0.0 <= many <= few <= full


@SETTINGS
@given(ratio_rules, st.lists(numbers | st.just(math.nan), min_size=1, max_size=30), numbers, directions)
def test_batch_equals_scalar(
    std: CompletionRatio | Banded, values: list[float], target: float, direction: Direction
) -> None:
    batch = score_batch(std, values=values, targets=target, full=10.0, direction=direction)
    for i, v in enumerate(values):
        assert batch.score[i] == score_leaf(std, LeafInput(10.0, v, target, direction)).score


# ---------------------------------------------------------------- ranking


candidates = st.lists(
    st.builds(
        Candidate,
        unit_code=st.text("abcdefgh", min_size=1, max_size=3),
        score=st.floats(0, 100) | st.sampled_from([90.0, 80.0, 60.0]),
        exempt=st.booleans() | st.just(False),
        veto_cap=st.none() | st.none() | st.sampled_from(["良好", "一般", "较差"]),
    ),
    max_size=40,
    unique_by=lambda c: c.unit_code,
)
rules = st.builds(GradeRules, excellent_share=st.floats(0, 1), excellent_min=st.integers(0, 5))


@SETTINGS
@given(candidates, rules)
def test_ranks_form_a_permutation_in_score_order(cands: list[Candidate], rule: GradeRules) -> None:
    out = rank_category(cands, rule)
    assert sorted(r.rank for r in out) == list(range(1, len(cands) + 1))
    scores = [round(r.score, 6) for r in out]
    assert scores == sorted(scores, reverse=True)
    assert rank_category(list(reversed(cands)), rule) == out  # input order never matters


@SETTINGS
@given(candidates, rules)
def test_quota_only_exceeded_by_exemptions_and_vetoes_respected(
    cands: list[Candidate], rule: GradeRules
) -> None:
    out = rank_category(cands, rule)
    by_code = {c.unit_code: c for c in cands}
    counted = [r for r in out if r.grade == "优秀" and not by_code[r.unit_code].exempt]
    assert len(counted) <= excellent_quota(len(cands), rule)
    grades = ("优秀", "良好", "一般", "较差")
    for r in out:
        c = by_code[r.unit_code]
        if c.veto_cap is not None:
            assert grades.index(r.grade) >= grades.index(c.veto_cap)
        elif c.exempt:
            assert r.grade == "优秀"


# ---------------------------------------------------------------- roll-up and trace


@st.composite
def schemes(draw: st.DrawFn) -> ScoreNode:
    """Level-1 nodes holding leaves or level-2 nodes; weights are integer points over their sum."""
    counter = iter(range(1000))

    def group(depth: int) -> tuple[ScoreNode, ...]:
        points = draw(st.lists(st.integers(1, 40), min_size=1, max_size=4))
        total = sum(points)
        out = []
        for p in points:
            code = f"n{next(counter)}"
            deeper = depth < 2 and draw(st.booleans())
            out.append(ScoreNode(code, code, p / total, group(depth + 1) if deeper else ()))
        return tuple(out)

    return ScoreNode("root", "总", children=group(1))


def _leaf_codes(node: ScoreNode) -> list[str]:
    return [node.code] if not node.children else [c for k in node.children for c in _leaf_codes(k)]


@st.composite
def units(draw: st.DrawFn) -> tuple[ScoreNode, dict[str, LeafResult], UnitInputs, RollupConfig]:
    scheme = draw(schemes())
    fracs = st.floats(0, 1.5, allow_subnormal=False)
    leaves = {}
    for code in _leaf_codes(scheme):
        f = draw(fracs)
        leaves[code] = LeafResult(10 * f, f, bonus=draw(st.sampled_from([0.0, 0.5])))
    adjustments = tuple(
        Adjustment(f"adj{i}", "调整", draw(st.floats(0, 5)), draw(st.sampled_from(["bonus", "penalty"])))
        for i in range(draw(st.integers(0, 3)))
    )
    unit = UnitInputs(
        "u1",
        coefficient=draw(st.floats(0.5, 1.5)),
        supervision_score=draw(st.floats(0, 100)),
        adjustments=adjustments,
    )
    config = RollupConfig(draw(st.sampled_from([0.0, 0.1, 0.2])), draw(st.none() | st.floats(0, 3)))
    return scheme, leaves, unit, config


@SETTINGS
@given(units())
def test_trace_adds_up_to_the_total(
    case: tuple[ScoreNode, dict[str, LeafResult], UnitInputs, RollupConfig],
) -> None:
    scheme, leaves, unit, config = case
    r = rollup_unit(scheme, leaves, unit, config)
    trace = build_trace(r)
    assert check_trace(trace)
    assert trace.value == r.total
    assert math.fsum(c.contribution for c in trace.children) == pytest.approx(r.total, abs=1e-9)
    # the batch path agrees with the unit path
    compiled = compile_scheme(scheme)
    fr = [[leaves[c].fraction for c in compiled.leaf_codes]]
    lb = [[leaves[c].bonus for c in compiled.leaf_codes]]
    pen = [sum(a.points for a in unit.adjustments if a.kind == "penalty")]
    bon = [sum(a.points for a in unit.adjustments if a.kind == "bonus")]
    batch = rollup_batch(
        compiled,
        fr,
        config=config,
        coefficients=unit.coefficient,
        supervision_scores=[unit.supervision_score],
        leaf_bonus=lb,
        bonus=bon,
        penalty=pen,
    )
    assert batch.indicators[0] == r.indicators
    assert abs(batch.total[0] - r.total) < 1e-9


@SETTINGS
@given(units())
def test_trace_digest_is_stable_across_recomputation(
    case: tuple[ScoreNode, dict[str, LeafResult], UnitInputs, RollupConfig],
) -> None:
    scheme, leaves, unit, config = case
    first = build_trace(rollup_unit(scheme, dict(leaves), unit, config))
    again = build_trace(rollup_unit(scheme, dict(reversed(list(leaves.items()))), unit, config))
    assert canonical_bytes(first) == canonical_bytes(again)
    assert first.digest() == again.digest() and len(first.digest()) == 64
    decoded = json.loads(canonical_bytes(first))
    assert abs(decoded["value"] - first.value) <= 1e-6  # written with six decimals
