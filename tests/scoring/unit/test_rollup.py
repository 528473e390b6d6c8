"""Roll-up (leaf → level → total), period composition and the explanation trace, computed by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kaohe.contracts.standards import Bonus, CompletionRatio, Veto
from services.scoring.domain.composition import (
    HENGKOU_ANNUAL,
    HENGKOU_QUARTER,
    AnnualShare,
    Aspect,
    PeriodError,
    compose_annual,
    compose_quarter,
)
from services.scoring.domain.ranking import Candidate, rank_category
from services.scoring.domain.rollup import (
    Adjustment,
    RollupConfig,
    RollupError,
    ScoreNode,
    UnitInputs,
    compile_scheme,
    from_points,
    rollup_batch,
    rollup_unit,
)
from services.scoring.domain.rules import LeafInput, LeafResult, score_leaf
from services.scoring.domain.trace import build_trace, canonical_bytes, check_trace, trace_period

SCHEME = ScoreNode(
    "scheme",
    "乡镇考核",
    children=(
        ScoreNode(
            "econ",
            "经济发展",
            0.6,
            (ScoreNode("gdp", "地区生产总值", 0.5), ScoreNode("invest", "固定资产投资", 0.5)),
        ),
        ScoreNode(
            "party",
            "党的建设",
            0.4,
            (ScoreNode("build", "基层党建", 1.0), ScoreNode("award", "争先创优", 0.0)),
        ),
    ),
)


def leaves(award_bonus: float = 0.0) -> dict[str, LeafResult]:
    return {
        "gdp": LeafResult(score=8.0, fraction=0.8),
        "invest": LeafResult(score=6.0, fraction=0.6),
        "build": LeafResult(score=9.0, fraction=0.9),
        "award": LeafResult(score=0.0, fraction=0.0, bonus=award_bonus, role="bonus"),
    }


def test_weighted_levels() -> None:
    r = rollup_unit(SCHEME, leaves(), UnitInputs("t1"))
    econ, party = r.tree.children
    assert econ.score == pytest.approx(70.0)  # 0.5 × 80 + 0.5 × 60
    assert party.score == pytest.approx(90.0)  # 1.0 × 90 + 0 × award
    assert r.indicators == pytest.approx(78.0)  # 0.6 × 70 + 0.4 × 90
    assert r.total == pytest.approx(78.0)


def test_supervision_coefficient_bonus_and_penalty() -> None:
    unit = UnitInputs(
        "t1",
        coefficient=1.1,
        supervision_score=50.0,
        adjustments=(
            Adjustment("flag", "省级表彰", 1.0),
            Adjustment("late", "督办超期", 0.5, "penalty"),
        ),
    )
    config = RollupConfig(supervision_weight=0.1, bonus_cap=2.0)
    r = rollup_unit(SCHEME, leaves(award_bonus=1.5), unit, config)
    # assessed = 1.1 × (0.9 × 78 + 0.1 × 50) = 1.1 × 75.2 = 82.72
    assert r.assessed == pytest.approx(82.72)
    assert r.bonus_raw == pytest.approx(2.5)  # 1.5 from the award leaf + 1.0 adjustment
    assert r.bonus == 2.0  # capped
    assert r.total == pytest.approx(82.72 + 2.0 - 0.5)


def test_per_unit_weight_override() -> None:
    r = rollup_unit(SCHEME, leaves(), UnitInputs("城区", weight_overrides={"econ": 0.3, "party": 0.7}))
    assert r.indicators == pytest.approx(84.0)  # 0.3 × 70 + 0.7 × 90
    assert r.tree.children[0].overridden and r.tree.children[0].weight == 0.3


def test_points_scheme_converts_to_shares() -> None:
    points = ScoreNode(
        "s",
        "百分制方案",
        100,
        (
            ScoreNode("econ", "经济", 40, (ScoreNode("gdp", "gdp", 10), ScoreNode("invest", "投资", 30))),
            ScoreNode("party", "党建", 60, (ScoreNode("build", "党建", 60), ScoreNode("award", "加分", 0))),
        ),
    )
    shares = from_points(points)
    econ = shares.children[0]
    assert (econ.weight, econ.children[0].weight, econ.children[1].weight) == (0.4, 0.25, 0.75)
    r = rollup_unit(shares, leaves(), UnitInputs("t1"))
    # in points: 10 × 0.8 + 30 × 0.6 + 60 × 0.9 = 8 + 18 + 54 = 80 of 100
    assert r.total == pytest.approx(80.0)


def test_weights_must_sum_to_one_with_a_precise_message() -> None:
    with pytest.raises(RollupError, match=r"weights under 'scheme' \(乡镇考核\) sum to 0.9, expected 1"):
        rollup_unit(SCHEME, leaves(), UnitInputs("t1", weight_overrides={"econ": 0.5}))
    with pytest.raises(RollupError, match="no indicator"):
        rollup_unit(SCHEME, leaves(), UnitInputs("t1", weight_overrides={"nope": 0.5}))


def test_rejects_missing_leaves_weighted_bonus_and_bad_supervision() -> None:
    partial = leaves()
    del partial["gdp"]
    with pytest.raises(RollupError, match="no leaf result for 'gdp'"):
        rollup_unit(SCHEME, partial, UnitInputs("t1"))
    wrong = leaves()
    wrong["build"] = LeafResult(0.0, 0.0, bonus=1.0, role="bonus")
    with pytest.raises(RollupError, match="bonus leaf 'build' carries weight"):
        rollup_unit(SCHEME, wrong, UnitInputs("t1"))
    with pytest.raises(RollupError, match="平时督查"):
        rollup_unit(SCHEME, leaves(), UnitInputs("t1"), RollupConfig(supervision_weight=0.1))


def test_veto_takes_the_worst_cap() -> None:
    scheme = ScoreNode(
        "s",
        "s",
        children=(ScoreNode("a", "a", 1.0), ScoreNode("v1", "安全生产", 0.0), ScoreNode("v2", "信访", 0.0)),
    )
    results = {
        "a": LeafResult(10.0, 1.0),
        "v1": score_leaf(Veto(cap_grade="良好"), LeafInput(full=0, occurrences=1)),
        "v2": score_leaf(Veto(cap_grade="一般"), LeafInput(full=0, occurrences=2)),
    }
    r = rollup_unit(scheme, results, UnitInputs("u"))
    assert r.veto_grade == "一般" and r.veto_codes == ("v1", "v2")


def test_batch_rollup_matches_unit_rollup() -> None:
    rng = np.random.default_rng(7)
    compiled = compile_scheme(SCHEME)
    assert compiled.leaf_codes == ("gdp", "invest", "build", "award")
    n = 50
    fr = rng.uniform(0, 1.2, size=(n, 4))
    fr[:, 3] = 0.0
    coef = rng.uniform(0.9, 1.2, size=n)
    sup = rng.uniform(0, 100, size=n)
    leaf_bonus = np.zeros((n, 4))
    leaf_bonus[:, 3] = rng.uniform(0, 3, size=n)
    pen = rng.uniform(0, 1, size=n)
    overrides = {3: {"econ": 0.2, "party": 0.8}, 9: {"gdp": 0.9, "invest": 0.1}}
    config = RollupConfig(supervision_weight=0.1, bonus_cap=2.0)
    batch = rollup_batch(
        compiled,
        fr,
        config=config,
        coefficients=coef,
        supervision_scores=sup,
        leaf_bonus=leaf_bonus,
        penalty=pen,
        weight_overrides=overrides,
    )
    for u in range(n):
        results = {code: LeafResult(10 * fr[u, i], fr[u, i]) for i, code in enumerate(compiled.leaf_codes)}
        results["award"] = LeafResult(0.0, 0.0, bonus=float(leaf_bonus[u, 3]), role="bonus")
        unit = UnitInputs(
            f"u{u}",
            weight_overrides=overrides.get(u, {}),
            coefficient=float(coef[u]),
            supervision_score=float(sup[u]),
            adjustments=(Adjustment("p", "扣分", float(pen[u]), "penalty"),),
        )
        one = rollup_unit(SCHEME, results, unit, config)
        assert batch.indicators[u] == one.indicators  # same operations in the same order
        assert batch.assessed[u] == one.assessed
        assert batch.total[u] == pytest.approx(one.total, abs=1e-12)
        econ = compiled.codes.index("econ")
        assert batch.node_scores[u, econ] == one.tree.children[0].score


def test_batch_rollup_validates_overrides() -> None:
    compiled = compile_scheme(SCHEME)
    with pytest.raises(RollupError, match="sum to"):
        rollup_batch(compiled, np.zeros((2, 4)), weight_overrides={1: {"econ": 0.7}})


# ---------------------------------------------------------------- trace


def _traced(supervision: float = 50.0) -> tuple[bytes, bool]:
    std = CompletionRatio(cap=1.2)
    inputs = {
        "gdp": LeafInput(full=10, value=80, target=100, evidence_ids=("ev-1",)),
        "invest": LeafInput(full=10, value=60, target=100),
        "build": LeafInput(full=10, value=90, target=100),
        "award": LeafInput(full=0, value=3),
    }
    standards = {"gdp": std, "invest": std, "build": std, "award": Bonus(per_unit=0.5, cap=2)}
    results = {code: score_leaf(standards[code], inp) for code, inp in inputs.items()}
    unit = UnitInputs(
        "t1",
        coefficient=1.1,
        supervision_score=supervision,
        adjustments=(Adjustment("flag", "省级表彰", 1.0), Adjustment("late", "督办超期", 0.5, "penalty")),
    )
    r = rollup_unit(SCHEME, results, unit, RollupConfig(supervision_weight=0.1, bonus_cap=2.0))
    ranked = rank_category([Candidate("t1", r.total), Candidate("t2", 60.0)])[0]
    trace = build_trace(r, standards=standards, inputs=inputs, ranking=ranked, category="乡镇")
    return canonical_bytes(trace), check_trace(trace)


def test_trace_adds_up_and_is_canonical() -> None:
    data, ok = _traced()
    assert ok
    assert data == _traced()[0]  # recomputed from scratch: the same bytes
    assert data != _traced(supervision=51.0)[0]
    text = data.decode()
    assert '"evidence_ids":["ev-1"]' in text
    assert '"coefficient":1.100000' in text
    assert "NaN" not in text and ": " not in text
    assert '"code":"bonus_cap"' in text  # 1.5 + 1.0 = 2.5 bonus capped at 2


def test_trace_check_catches_a_broken_sum() -> None:
    r = rollup_unit(SCHEME, leaves(), UnitInputs("t1"))
    trace = build_trace(r)
    assert check_trace(trace)
    econ, party = r.tree.children
    tampered = replace(econ, score=71.0)  # its leaves still add up to 70
    broken = replace(r, tree=replace(r.tree, children=(tampered, party)))
    assert not check_trace(build_trace(broken))


# ---------------------------------------------------------------- periods


def test_quarter_from_hengkou_aspects() -> None:
    inputs = {
        "annual_progress": [80.0, 90.0, 100.0],  # mean 90
        "pledges": 80.0,
        "stage_priorities": 70.0,
        "key_projects": 60.0,
        "supervision": [100.0, 80.0],  # mean 90
        "leader_review": 100.0,
    }
    q = compose_quarter(HENGKOU_QUARTER, inputs)
    # 0.30×90 + 0.15×80 + 0.15×70 + 0.15×60 + 0.15×90 + 0.10×100 = 27+12+10.5+9+13.5+10 = 82
    assert q.score == pytest.approx(82.0)
    assert check_trace(trace_period(q, code="2024Q1", name="一季度"))


def test_last_month_rule() -> None:
    q = compose_quarter([Aspect("a", "a", 1.0, "last")], {"a": [10.0, 20.0, 30.0]})
    assert q.score == 30.0


def test_annual_from_quarters_supervision_and_year_end() -> None:
    a = compose_annual(HENGKOU_ANNUAL, [80.0, 84.0, 88.0, 92.0], {"supervision": 70.0, "year_end": 95.0})
    # 0.5 × 86 + 0.1 × 70 + 0.4 × 95 = 43 + 7 + 38 = 88
    assert a.score == pytest.approx(88.0)


def test_period_weights_are_validated_precisely() -> None:
    bad = [AnnualShare("q", "季度考核", 0.5, "quarters_mean"), AnnualShare("y", "年度考核", 0.45)]
    with pytest.raises(PeriodError, match=r"sum to 0.95, expected 1 \(季度考核 0.5 \+ 年度考核 0.45\)"):
        compose_annual(bad, [80.0], {"y": 90.0})
    with pytest.raises(PeriodError, match="without a score: leader_review"):
        compose_quarter(HENGKOU_QUARTER, {a.code: 1.0 for a in HENGKOU_QUARTER[:-1]})
    with pytest.raises(PeriodError, match="more than once"):
        compose_quarter([Aspect("a", "a", 0.5), Aspect("a", "b", 0.5)], {"a": 1.0})
    with pytest.raises(PeriodError, match="1 to 3 monthly scores"):
        compose_quarter([Aspect("a", "a", 1.0, "mean")], {"a": 5.0})
