from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rewards.domain.money import allocate, integer_weights, scale, share_of, to_fen, yuan


def test_rounding_is_half_up_to_the_fen() -> None:
    assert to_fen(Decimal("2.5")) == 3
    assert to_fen(Decimal("2.4999")) == 2
    assert to_fen(Decimal("-2.5")) == -3
    assert scale(1000, Decimal("1.2"), Decimal("1.1")) == 1320
    assert scale(333, Decimal("0.5")) == 167  # 166.5 → 167
    assert share_of(2700, Decimal("0.8")) == 2160
    assert yuan(12345) == Decimal("123.45")


def test_largest_remainder_by_hand() -> None:
    # 100 fen in thirds: 33 each and one fen left; equal remainders go to the smallest key
    assert allocate(100, [1, 1, 1], keys=["b", "a", "c"]) == [33, 34, 33]
    # 10 fen over 3:3:4 → 3, 3, 4 exactly
    assert allocate(10, [3, 3, 4], keys=["x", "y", "z"]) == [3, 3, 4]
    # 7 fen over 1:2 → quotas 2.33, 4.67: the larger remainder (0.67) takes the spare fen
    assert allocate(7, [1, 2], keys=["p", "q"]) == [2, 5]
    # Decimal weights are exact: 1.1 : 1.0 : 0.9 of 9000
    assert allocate(9000, [Decimal("1.1"), Decimal("1.0"), Decimal("0.9")], keys=["a", "b", "c"]) == [
        3300,
        3000,
        2700,
    ]
    assert integer_weights([Decimal("1.10"), Decimal("0.9"), 2]) == [11, 9, 20]


def test_allocation_refuses_what_cannot_be_split() -> None:
    with pytest.raises(ValueError):
        allocate(-1, [1], keys=["a"])
    with pytest.raises(ValueError):
        allocate(5, [0, 0], keys=["a", "b"])
    with pytest.raises(ValueError):
        allocate(5, [1, -1], keys=["a", "b"])
    with pytest.raises(ValueError):
        allocate(5, [1, 2], keys=["a"])
    with pytest.raises(ValueError):
        allocate(5, [1, 1, 1], keys=["a", "a", "b"])  # duplicate keys cannot break ties
    assert allocate(0, [0, 0], keys=["a", "b"]) == [0, 0]


weights = st.lists(
    st.one_of(st.integers(0, 10**7), st.decimals(0, 100, places=3, allow_nan=False)), min_size=1, max_size=40
)


@given(st.integers(0, 10**10), weights, st.data())
def test_a_pool_is_conserved_to_the_fen(total: int, ws: list, data: st.DataObject) -> None:
    ints = integer_weights(ws)
    if total and not any(ints):
        ws = [*ws, 1]
        ints = [*ints, 1]
    keys = [f"k{i:03d}" for i in range(len(ws))]
    shares = allocate(total, ws, keys=keys)
    assert sum(shares) == total
    whole = sum(ints)
    for s, w in zip(shares, ints, strict=True):
        exact_floor = total * w // whole if whole else 0
        assert exact_floor <= s <= exact_floor + 1  # never more than a fen away from the exact share
        if w == 0:
            assert s == 0
    # the same people get the same fen whatever order they are listed in
    order = data.draw(st.permutations(range(len(ws))))
    again = allocate(total, [ws[i] for i in order], keys=[keys[i] for i in order])
    assert {keys[i]: a for i, a in zip(order, again, strict=True)} == dict(zip(keys, shares, strict=True))


@given(st.integers(1, 10**9), st.integers(1, 200))
def test_equal_weights_differ_by_at_most_a_fen(total: int, n: int) -> None:
    shares = allocate(total, [7] * n, keys=[f"{i:04d}" for i in range(n)])
    assert max(shares) - min(shares) <= 1 and sum(shares) == total
    # the spare fen go to the smallest keys first
    assert shares == sorted(shares, reverse=True)
