"""指标分解: splitting a parent target and checking a split against its rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.indicators.domain.decompose import Decomposition, check_decomposition, split_by_base, split_even
from services.indicators.errors import IndicatorsErrorCode as ErrorCode


def test_even_split_gives_the_rounding_cent_to_the_first_child() -> None:
    # 100 / 3 = 33.333…: floors 33.33 × 3 = 99.99, one cent left, ties go to the first
    assert split_even(100, ["城区", "泽州县", "高平市"]) == {"城区": 33.34, "泽州县": 33.33, "高平市": 33.33}


def test_split_by_base_follows_last_years_actuals() -> None:
    assert split_by_base(1000, {"a": 500, "b": 300, "c": 200}) == {"a": 500.0, "b": 300.0, "c": 200.0}
    # 10 by 1:2 = 3.33 / 6.67 → floors 3 / 6, the leftover unit goes to the larger remainder (b)
    assert split_by_base(10, {"a": 1, "b": 2}, decimals=0) == {"a": 3.0, "b": 7.0}


def test_split_by_base_rejects_bases_it_cannot_use() -> None:
    with pytest.raises(ValueError):
        split_by_base(10, {"a": 0, "b": 0})
    with pytest.raises(ValueError):
        split_by_base(10, {"a": -1, "b": 2})
    assert split_by_base(10, {}) == {}


@given(
    target=st.decimals(min_value=0, max_value=10**7, places=2),
    bases=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(any),
)
def test_split_by_base_always_adds_up_exactly(target: Decimal, bases: list[int]) -> None:
    shares = split_by_base(float(target), {f"u{i}": b for i, b in enumerate(bases)})
    assert sum(Decimal(str(v)) for v in shares.values()) == target
    assert all(v >= 0 for v in shares.values())


def test_a_sum_short_by_half_is_reported_with_the_gap() -> None:
    d = Decomposition(indicator_code="K0101", parent_target=100, shares={"a": 60, "b": 39.5})
    problems = check_decomposition(d, where="方案 2026")
    assert [p.message for p in problems] == [
        "方案 2026 / 指标 K0101 / 分解: 分解合计 99.5，应为 100（少 0.5）"
    ]
    assert problems[0].code == ErrorCode.SPLIT_SUM


def test_tolerance_absorbs_a_small_gap() -> None:
    d = Decomposition(indicator_code="K0101", parent_target=100, tolerance=0.5, shares={"a": 60, "b": 39.5})
    assert check_decomposition(d) == []
    # float noise (0.1 + 0.2 ≠ 0.3) is never a discrepancy
    assert (
        check_decomposition(Decomposition(indicator_code="x", parent_target=0.3, shares={"a": 0.1, "b": 0.2}))
        == []
    )


def test_sum_at_least_allows_overshoot_only() -> None:
    over = Decomposition(
        indicator_code="x", parent_target=100, rule="sum_at_least", shares={"a": 70, "b": 40}
    )
    under = Decomposition(
        indicator_code="x", parent_target=100, rule="sum_at_least", shares={"a": 50, "b": 40}
    )
    assert check_decomposition(over) == []
    assert [p.message for p in check_decomposition(under)] == ["指标 x / 分解: 分解合计 90，低于上级目标 100"]


def test_average_equals_for_rates() -> None:
    # growth rates 6, 7, 8 average to 7
    ok = Decomposition(
        indicator_code="g", parent_target=7, rule="average_equals", shares={"a": 6, "b": 7, "c": 8}
    )
    bad = Decomposition(
        indicator_code="g", parent_target=7, rule="average_equals", shares={"a": 6, "b": 6, "c": 6}
    )
    assert check_decomposition(ok) == []
    assert [p.code for p in check_decomposition(bad)] == [ErrorCode.SPLIT_AVERAGE]


def test_each_at_least_names_every_child_below() -> None:
    d = Decomposition(
        indicator_code="r", parent_target=95, rule="each_at_least", shares={"a": 96, "b": 94, "c": 90}
    )
    assert [p.message for p in check_decomposition(d)] == [
        "指标 r / 分解: 单位 b 的目标值 94 低于上级目标 95",
        "指标 r / 分解: 单位 c 的目标值 90 低于上级目标 95",
    ]


def test_each_at_most_for_lower_better_indicators() -> None:
    d = Decomposition(indicator_code="pm25", parent_target=35, rule="each_at_most", shares={"a": 34, "b": 36})
    assert [p.code for p in check_decomposition(d)] == [ErrorCode.SPLIT_EACH]


def test_children_missing_or_unknown() -> None:
    d = Decomposition(indicator_code="x", parent_target=10, shares={"a": 5, "z": 5})
    problems = check_decomposition(d, children=["a", "b"])
    assert [(p.code, p.message) for p in problems] == [
        (ErrorCode.SPLIT_MISSING_CHILD, "指标 x / 分解: 下级单位 b 未分配目标值"),
        (ErrorCode.SPLIT_UNKNOWN_CHILD, "指标 x / 分解: 单位 z 不是下级单位，不应分配目标值"),
    ]
