"""What-if (模拟测算): compare the proposals of draft rules with those of the current rules, on the same
published snapshot, without writing anything — who gains, who loses, and each unit's pool balance.

A holder (a unit or a person) gains when its pay rises, or, with pay unchanged, when it gains a
favourable consequence (an honour, 干部库, 记功) or loses an adverse one (提醒谈话, 调整建议); the
opposite is a loss. Pay is the sum of a holder's `pay` lines; pools compare per unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kaohe.gcpause import paused
from services.rewards.domain.proposal import Line, PoolBalance, ProposalList

ADVERSE = frozenset({"提醒谈话", "调整建议", "末位零绩效"})
_CONSEQUENCES = ("honour", "cadre", "streak", "zeroed")


@dataclass(frozen=True, slots=True)
class Change:  # 变化
    """What the draft changes for one holder: pay before and after, consequences gained and lost."""

    holder: str
    unit_id: str
    person_key: str | None
    before_fen: int
    after_fen: int
    gained: tuple[str, ...]
    lost: tuple[str, ...]

    @property
    def delta_fen(self) -> int:
        """Pay after minus pay before."""
        return self.after_fen - self.before_fen

    @property
    def direction(self) -> int:
        """+1 better off, −1 worse off, 0 neither (pay first, then consequences)."""
        if self.delta_fen:
            return 1 if self.delta_fen > 0 else -1
        score = sum(-1 if c in ADVERSE else 1 for c in self.gained)
        score -= sum(-1 if c in ADVERSE else 1 for c in self.lost)
        return (score > 0) - (score < 0)


@dataclass(frozen=True, slots=True)
class PoolDiff:  # 总额对比
    unit_id: str
    before: PoolBalance | None
    after: PoolBalance | None

    @property
    def balanced(self) -> bool:
        """Whether both sides conserve the pool to the fen."""
        return all(b is None or b.balanced for b in (self.before, self.after))


@dataclass(frozen=True, slots=True)
class WhatIf:  # 模拟测算结果
    """Gainers (largest gain first), losers (largest loss first), every change and every unit's pools."""

    gainers: tuple[Change, ...]
    losers: tuple[Change, ...]
    changes: tuple[Change, ...]
    pools: tuple[PoolDiff, ...]
    paid_before_fen: int
    paid_after_fen: int
    problems_before: int
    problems_after: int


def compare(current: ProposalList, draft: ProposalList) -> WhatIf:
    """The difference the draft proposals make to the current ones (same snapshot expected)."""
    if current.snapshot_digest != draft.snapshot_digest:
        raise ValueError("a what-if compares two rule sets on the same snapshot")
    with paused():  # many small acyclic objects: keep the cyclic collector from rescanning the heap
        return _compare(current, draft)


def _compare(current: ProposalList, draft: ProposalList) -> WhatIf:
    a, b = _Tally(current.lines), _Tally(draft.lines)
    # walk the dicts in insertion order (lines are in snapshot order): lookups stay cache-friendly
    persons = {k for k, x in a.pay.items() if b.pay.get(k, 0) != x}
    persons.update(k for k, y in b.pay.items() if y and k not in a.pay)
    persons.update(k for k, c in a.person_has.items() if b.person_has.get(k, _NONE) != c)
    persons.update(k for k, c in b.person_has.items() if c and k not in a.person_has)
    units = {k for k, c in a.unit_has.items() if b.unit_has.get(k, _NONE) != c}
    units.update(k for k, c in b.unit_has.items() if c and k not in a.unit_has)
    changes = [
        _change(f"person:{k}", a.unit_of.get(k) or b.unit_of[k], k, a, b, a.person_has, b.person_has)
        for k in persons
    ]
    changes.extend(_change(f"unit:{u}", u, None, a, b, a.unit_has, b.unit_has) for u in units)
    changes.sort(key=_by_holder)
    gainers = sorted((c for c in changes if c.direction > 0), key=lambda c: (-c.delta_fen, c.holder))
    losers = sorted((c for c in changes if c.direction < 0), key=lambda c: (c.delta_fen, c.holder))
    pool_units = list(current.pools) + [u for u in draft.pools if u not in current.pools]
    pools = tuple(PoolDiff(u, current.pools.get(u), draft.pools.get(u)) for u in pool_units)
    return WhatIf(
        gainers=tuple(gainers),
        losers=tuple(losers),
        changes=tuple(changes),
        pools=pools,
        paid_before_fen=sum(a.pay.values()),
        paid_after_fen=sum(b.pay.values()),
        problems_before=len(current.problems),
        problems_after=len(draft.problems),
    )


_NONE: frozenset[str] = frozenset()


def _by_holder(c: Change) -> str:
    return c.holder


def _change(
    holder: str,
    unit_id: str,
    person: str | None,
    a: _Tally,
    b: _Tally,
    has_a: dict[str, set[str]],
    has_b: dict[str, set[str]],
) -> Change:
    key = person if person is not None else unit_id
    before = a.pay.get(person, 0) if person is not None else 0
    after = b.pay.get(person, 0) if person is not None else 0
    ca, cb = has_a.get(key, _NONE), has_b.get(key, _NONE)
    return Change(holder, unit_id, person, before, after, tuple(sorted(cb - ca)), tuple(sorted(ca - cb)))


class _Tally:
    """Pay by person key, consequences by person key and by unit id, and each paid person's unit."""

    def __init__(self, lines: Iterable[Line]) -> None:
        self.pay: dict[str, int] = {}
        self.unit_of: dict[str, str] = {}
        self.person_has: dict[str, set[str]] = {}
        self.unit_has: dict[str, set[str]] = {}
        pay, unit_of, get = self.pay, self.unit_of, self.pay.get
        for line in lines:
            kind = line.kind
            if kind == "pay" and line.person_key is not None:
                k = line.person_key
                pay[k] = get(k, 0) + (line.amount_fen or 0)
                unit_of[k] = line.unit_id
            elif kind in _CONSEQUENCES:
                if line.person_key is not None:
                    self.person_has.setdefault(line.person_key, set()).add(line.consequence)
                    unit_of.setdefault(line.person_key, line.unit_id)
                else:
                    self.unit_has.setdefault(line.unit_id, set()).add(line.consequence)
