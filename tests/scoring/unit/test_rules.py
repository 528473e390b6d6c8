"""Leaf evaluation standards (评价标准): each expected value is worked out by hand from the rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kaohe.contracts.standards import (
    Band,
    Banded,
    Bonus,
    CompletionRatio,
    Deduction,
    Direction,
    Formula,
    Qualitative,
    RankAmongPeers,
    Veto,
)
from kaohe.expr import Ref
from services.scoring.domain.rules import LeafInput, RuleError, score_batch, score_leaf

BANDS = Banded(
    bands=[
        Band(min_ratio=0.6, fraction=0.5),
        Band(min_ratio=0.8, fraction=0.8),
        Band(min_ratio=1.0, fraction=1.0),
    ]
)


# ---------------------------------------------------------------- 完成率


def test_completion_ratio_proportional() -> None:
    r = score_leaf(CompletionRatio(), LeafInput(full=10, value=80, target=100))
    assert r.score == 8.0  # 80 / 100 × 10
    assert r.fraction == 0.8 and r.ratio == 0.8 and r.notes == ()


def test_completion_ratio_cap_credits_over_fulfilment_up_to_cap() -> None:
    r = score_leaf(CompletionRatio(cap=1.2), LeafInput(full=10, value=130, target=100))
    assert r.score == 12.0  # ratio 1.3 capped at 1.2 → 1.2 × 10
    assert r.notes == ("capped",)
    r = score_leaf(CompletionRatio(), LeafInput(full=10, value=130, target=100))
    assert r.score == 10.0  # default cap 1.0


def test_completion_ratio_floor() -> None:
    std = CompletionRatio(floor=0.6)
    below = score_leaf(std, LeafInput(full=10, value=50, target=100))
    assert below.score == 0.0 and below.notes == ("below_floor",)  # 0.5 < 0.6
    at = score_leaf(std, LeafInput(full=10, value=60, target=100))
    assert at.score == pytest.approx(6.0)  # 0.6 ≥ floor → 0.6 × 10


def test_completion_ratio_lower_better_inverts() -> None:
    r = score_leaf(CompletionRatio(), LeafInput(full=10, value=100, target=80, direction="lower_better"))
    assert r.score == 8.0  # 80 / 100 × 10
    zero = score_leaf(
        CompletionRatio(cap=1.1), LeafInput(full=10, value=0, target=80, direction="lower_better")
    )
    assert zero.score == pytest.approx(11.0)  # nothing at all is the best result: cap 1.1 × 10
    assert zero.ratio is None and "ratio_unbounded" in zero.notes


def test_completion_ratio_zero_target_is_met_or_not() -> None:
    accidents = LeafInput(full=10, value=0, target=0, direction="lower_better")
    assert score_leaf(CompletionRatio(), accidents).score == 10.0  # 0 ≤ 0: met
    one = LeafInput(full=10, value=1, target=0, direction="lower_better")
    assert score_leaf(CompletionRatio(), one).score == 0.0  # 1 > 0: not met
    up = score_leaf(CompletionRatio(), LeafInput(full=10, value=5, target=0))
    assert up.score == 10.0 and up.notes == ("non_positive_target",)


def test_completion_ratio_missing_value_scores_zero_and_missing_target_raises() -> None:
    r = score_leaf(CompletionRatio(), LeafInput(full=10, target=100))
    assert r.score == 0.0 and r.notes == ("missing_value",)
    assert score_leaf(CompletionRatio(), LeafInput(full=10, value=math.nan, target=100)).score == 0.0
    with pytest.raises(RuleError, match="missing_target"):
        score_leaf(CompletionRatio(), LeafInput(full=10, value=5))


# ---------------------------------------------------------------- 分档


@pytest.mark.parametrize(
    ("value", "expected", "notes"),
    [(85, 16.0, ()), (59, 0.0, ("no_band",)), (60, 10.0, ()), (100, 20.0, ()), (150, 20.0, ())],
)
def test_banded(value: float, expected: float, notes: tuple[str, ...]) -> None:
    # bands: ≥0.6 → 0.5, ≥0.8 → 0.8, ≥1.0 → 1.0 of a full 20
    r = score_leaf(BANDS, LeafInput(full=20, value=value, target=100))
    assert r.score == expected and r.notes == notes


# ---------------------------------------------------------------- 排名进位


def test_rank_among_peers_linear_from_first_to_last() -> None:
    std = RankAmongPeers(last_fraction=0.6)
    peers = (90.0, 80.0, 80.0, 70.0)  # five units in all with this one
    r = score_leaf(std, LeafInput(full=10, value=80, peers=peers))
    # one better (90) → rank 2 of 5, fraction 1 − (2−1)/(5−1) × (1 − 0.6) = 0.9
    assert (r.rank, r.rank_of) == (2, 5)
    assert r.score == pytest.approx(9.0)
    assert score_leaf(std, LeafInput(full=10, value=95, peers=peers)).score == 10.0
    assert score_leaf(std, LeafInput(full=10, value=60, peers=peers)).score == pytest.approx(6.0)


def test_rank_ties_share_the_better_rank_and_direction_counts() -> None:
    std = RankAmongPeers()
    tied = score_leaf(std, LeafInput(full=10, value=80, peers=(80.0, 90.0)))
    assert tied.rank == 2  # 90 is better; the other 80 ties and does not push this one down
    low = score_leaf(std, LeafInput(full=10, value=80, peers=(90.0, 80.0, 70.0), direction="lower_better"))
    assert low.rank == 2  # only 70 is better when lower is better


def test_rank_progress_bonus_outside_the_score() -> None:
    std = RankAmongPeers(progress_bonus_per_place=0.5, progress_bonus_cap=1.0)
    r = score_leaf(std, LeafInput(full=10, value=85, peers=(90.0, 80.0, 70.0, 60.0), previous_rank=3))
    assert r.rank == 2 and r.bonus == 0.5  # up one place × 0.5
    capped = score_leaf(std, LeafInput(full=10, value=85, peers=(90.0, 80.0, 70.0, 60.0), previous_rank=5))
    assert capped.bonus == 1.0  # three places × 0.5 = 1.5, capped at 1.0
    assert capped.score == r.score  # the bonus never enters the leaf score
    worse = score_leaf(std, LeafInput(full=10, value=85, peers=(90.0,), previous_rank=1))
    assert worse.bonus == 0.0


# ---------------------------------------------------------------- 扣分 / 评议 / 加分 / 否决


def test_deduction_per_occurrence_and_cap() -> None:
    std = Deduction(per_occurrence=2, max_deduction=6)
    assert score_leaf(std, LeafInput(full=10, occurrences=0)).score == 10.0
    assert score_leaf(std, LeafInput(full=10, occurrences=2)).score == 6.0  # 10 − 2 × 2
    capped = score_leaf(std, LeafInput(full=10, occurrences=5))
    assert capped.score == 4.0 and capped.notes == ("deduction_capped",)  # at most 6 lost
    uncapped = Deduction(per_occurrence=2)
    assert score_leaf(uncapped, LeafInput(full=10, occurrences=7)).score == 0.0  # 14 > 10: all of it


def test_qualitative_grades() -> None:
    assert score_leaf(Qualitative(), LeafInput(full=5, grade="较好")).score == 4.0  # 0.8 × 5
    assert score_leaf(Qualitative(grades={"A": 1.0, "B": 0.5}), LeafInput(full=8, grade="B")).score == 4.0
    missing = score_leaf(Qualitative(), LeafInput(full=5))
    assert missing.score == 0.0 and missing.notes == ("missing_grade",)
    with pytest.raises(RuleError, match="unknown_grade"):
        score_leaf(Qualitative(), LeafInput(full=5, grade="优"))
    with pytest.raises(RuleError, match="out_of_range"):
        # The model refuses such a mapping; the engine still guards against unvalidated input.
        score_leaf(Qualitative.model_construct(grades={"A": 1.5}), LeafInput(full=5, grade="A"))


def test_bonus_is_capped_and_outside_the_weighted_score() -> None:
    std = Bonus(per_unit=0.5, cap=2)
    r = score_leaf(std, LeafInput(full=0, value=3))
    assert (r.score, r.bonus, r.role) == (0.0, 1.5, "bonus")  # 3 × 0.5
    capped = score_leaf(std, LeafInput(full=0, value=10))
    assert capped.bonus == 2.0 and capped.notes == ("bonus_capped",)


def test_veto_flags_the_cap_grade() -> None:
    hit = score_leaf(Veto(cap_grade="一般"), LeafInput(full=0, occurrences=1))
    assert hit.veto_grade == "一般" and hit.role == "veto" and hit.notes == ("veto_triggered",)
    assert score_leaf(Veto(), LeafInput(full=0, occurrences=1)).veto_grade == "较差"
    assert score_leaf(Veto(), LeafInput(full=0, occurrences=0)).veto_grade is None


# ---------------------------------------------------------------- 公式


def test_formula_then_completion() -> None:
    std = Formula(expression="growth(gdp) * 100", then=CompletionRatio(cap=1.5))
    inp = LeafInput(full=10, target=8, elements={Ref("gdp", 0): 110.0, Ref("gdp", 1): 100.0})
    r = score_leaf(std, inp)
    # growth 10 %, target 8 % → ratio 1.25 → 12.5 of 10 (cap 1.5)
    assert r.value == pytest.approx(10.0)
    assert r.score == pytest.approx(12.5)


def test_formula_then_deduction_and_errors() -> None:
    std = Formula(expression="late + missed", then=Deduction(per_occurrence=1.5))
    inp = LeafInput(full=10, elements={Ref("late", 0): 2.0, Ref("missed", 0): 1.0})
    assert score_leaf(std, inp).score == 5.5  # 10 − 3 × 1.5
    gap = score_leaf(std, LeafInput(full=10, elements={Ref("late", 0): 2.0}))
    assert gap.score == 0.0 and gap.notes == ("formula_missing_value",) and "missed" in gap.detail
    div = Formula(expression="a / b")
    zero = score_leaf(div, LeafInput(full=10, target=1, elements={Ref("a", 0): 1.0, Ref("b", 0): 0.0}))
    assert zero.notes == ("formula_division_by_zero",)
    with pytest.raises(RuleError, match="formula_syntax"):
        score_leaf(
            Formula.model_construct(expression="a +", then=CompletionRatio()), LeafInput(full=10, target=1)
        )


# ---------------------------------------------------------------- batch path agrees with score_leaf

VALUES = [-20.0, 0.0, 1.0, 50.0, 59.9, 60.0, 80.0, 99.9, 100.0, 120.0, 1e6, math.nan]
TARGETS = [100.0, 0.0, -5.0, 80.0]


@pytest.mark.parametrize("direction", ["higher_better", "lower_better"])
@pytest.mark.parametrize(
    "std",
    [CompletionRatio(), CompletionRatio(cap=1.2, floor=0.5), BANDS],
    ids=["plain", "cap-floor", "bands"],
)
def test_batch_matches_scalar_ratio_rules(std: CompletionRatio | Banded, direction: Direction) -> None:
    for target in TARGETS:
        batch = score_batch(std, values=VALUES, targets=target, full=10.0, direction=direction)
        for i, v in enumerate(VALUES):
            one = score_leaf(std, LeafInput(full=10.0, value=v, target=target, direction=direction))
            assert batch.score[i] == one.score, (v, target)
            assert batch.fraction[i] == one.fraction


@pytest.mark.parametrize("direction", ["higher_better", "lower_better"])
def test_batch_rank_matches_scalar(direction: Direction) -> None:
    std = RankAmongPeers(last_fraction=0.5, progress_bonus_per_place=0.2, progress_bonus_cap=0.5)
    values = [70.0, 90.0, 80.0, 80.0, math.nan, 60.0, 90.0]
    previous = [1, 7, 2, 6, 3, 1, 4]
    batch = score_batch(std, values=values, full=10.0, direction=direction, previous_ranks=previous)
    for i, v in enumerate(values):
        peers = tuple(p for j, p in enumerate(values) if j != i and not math.isnan(p))
        one = score_leaf(
            std, LeafInput(full=10.0, value=v, peers=peers, direction=direction, previous_rank=previous[i])
        )
        assert batch.score[i] == one.score
        assert batch.bonus[i] == pytest.approx(one.bonus)


def test_batch_deduction_and_bonus() -> None:
    d = score_batch(Deduction(per_occurrence=2, max_deduction=6), values=[0, 2, 5, math.nan], full=10.0)
    assert d.score.tolist() == [10.0, 6.0, 4.0, 10.0]  # a missing count deducts nothing
    b = score_batch(Bonus(per_unit=0.5, cap=2), values=[0, 3, 10], full=0.0)
    assert b.bonus.tolist() == [0.0, 1.5, 2.0] and not b.score.any()


def test_batch_refuses_non_numeric_standards() -> None:
    with pytest.raises(RuleError, match="no_batch_path"):
        score_batch(Qualitative(), values=np.zeros(3), full=10.0)
