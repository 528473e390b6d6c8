"""Money in fen (分): exact rounding of Decimal amounts, and a largest-remainder split that conserves a total.

Amounts are Python ints of fen (exact and fast); factors (系数, 比例) are Decimals. A share of a pool is
computed from exact integer ratios, never floats, so `sum(allocate(total, …)) == total` to the fen.
Basis: 《事业单位奖励性绩效工资》 practice of a fixed unit total (奖励性绩效总额) divided among staff; the
remainder rule is the Hamilton (largest remainder) method, ties broken by a stable key so that the same
inputs always give the same fen to the same person.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

Fen = int  # an amount of money in fen (分)


def to_fen(amount: Decimal | int) -> Fen:
    """An exact amount of fen rounded half up (四舍五入, half away from zero) to a whole fen."""
    if isinstance(amount, int):
        return amount
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


def scale(amount: Fen, *factors: Decimal) -> Fen:
    """`amount × factor × …` rounded half up to a fen (one rounding, at the end)."""
    exact = Decimal(amount)
    for f in factors:
        exact *= f
    return to_fen(exact)


def share_of(amount: Fen, share: Decimal) -> Fen:
    """The share of an amount, rounded half up to a fen; `share` is a fraction such as 0.2."""
    return scale(amount, share)


def yuan(amount: Fen) -> Decimal:
    """Fen as yuan (元) for display: 12345 → Decimal('123.45')."""
    return Decimal(amount).scaleb(-2)


def integer_weights(weights: Sequence[int | Decimal]) -> list[int]:
    """Proportional non-negative integers for exact Decimal (or int) weights (common denominator)."""
    ratios = [w.as_integer_ratio() if isinstance(w, Decimal) else (w, 1) for w in weights]
    den = 1
    for _, d in ratios:
        if d != 1 and den % d:
            den = den * d // math.gcd(den, d)
    out = [n * (den // d) for n, d in ratios]
    if any(w < 0 for w in out):
        raise ValueError("weights must not be negative")
    return out


def allocate(total: Fen, weights: Sequence[int | Decimal], *, keys: Sequence[str]) -> list[Fen]:
    """Split `total` fen in proportion to `weights` by largest remainder; sum is exactly `total`.

    Each share is ⌊total × w / W⌋; the fen left over go one each to the largest remainders, ties to the
    smallest key. Raises ValueError for a negative total or weight, mismatched lengths, duplicate keys,
    or a positive total over weights that are all zero.
    """
    if len(weights) != len(keys):
        raise ValueError("one key per weight")
    if total < 0:
        raise ValueError("total must not be negative")
    ws = weights if all(type(w) is int for w in weights) else integer_weights(weights)
    if any(w < 0 for w in ws):
        raise ValueError("weights must not be negative")
    whole = sum(ws)
    if whole == 0:
        if total:
            raise ValueError("a positive total needs a positive weight")
        return [0] * len(ws)
    shares = []
    rems = []
    for w in ws:
        q, r = divmod(total * w, whole)
        shares.append(q)
        rems.append(r)
    left = total - sum(shares)
    if left:
        if len(set(keys)) != len(keys):
            raise ValueError("keys must be unique")
        order = sorted(range(len(ws)), key=lambda i: (-rems[i], keys[i]))
        for i in order[:left]:
            shares[i] += 1
    return shares
