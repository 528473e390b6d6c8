"""What-if: draft rules against the current ones on one snapshot — who gains, who loses, pool balances."""

import pytest

from services.rewards.domain.apply import apply
from services.rewards.domain.whatif import compare
from tests.rewards.unit.factory import QPAY, WITHHOLD, cadre, pk, row, ruleset, snap

ROWS = [row("u1", "良好", 1, 2), row("u2", "一般", 2, 2)]
ROSTER = [
    cadre("a", "u1", grade="优秀"),
    cadre("b", "u1", grade="良好"),
    cadre("c", "u2", grade="良好", post="主要负责人"),
]
TALK = {
    "kind": "cadre",
    "id": "talk",
    "basis": "提醒谈话办法",
    "consequence": "提醒谈话",
    "period_kind": "quarter",
    "condition": {"grades": ["一般", "较差"]},
}


def run(*rules: dict, version: int = 1):
    return apply(snap(ROWS), rules=ruleset(*rules, version=version), roster=ROSTER)


def test_a_bigger_excellent_bonus_moves_pay_inside_the_same_pool() -> None:
    current = run(QPAY)  # u1: 6000 over 1.1 : 1.0 → 3143, 2857
    draft = run({**QPAY, "adjust": {"优秀": "0.20", "较差": "-0.10"}}, version=2)  # 1.2 : 1.0 → 3273, 2727
    w = compare(current, draft)
    assert [(c.person_key, c.before_fen, c.after_fen, c.delta_fen) for c in w.gainers] == [
        (pk("a"), 3143, 3273, 130)
    ]
    assert [(c.person_key, c.delta_fen) for c in w.losers] == [(pk("b"), -130)]
    assert w.paid_before_fen == w.paid_after_fen == 9000  # the pools did not change, only their split
    assert all(p.balanced for p in w.pools) and [p.unit_id for p in w.pools] == ["u1", "u2"]


def test_withholding_and_a_new_talk_make_losers() -> None:
    current = run(QPAY)
    draft = run(QPAY, WITHHOLD, TALK, version=2)  # u2 (一般) keeps 80% of a 30% hold; its head gets a talk
    w = compare(current, draft)
    lost = {c.holder: (c.delta_fen, c.gained) for c in w.losers}
    assert lost == {f"person:{pk('c')}": (-180, ("提醒谈话",))}  # 3000 → 2820 (900 held, 720 back)
    u2 = next(p for p in w.pools if p.unit_id == "u2")
    assert u2.before and u2.after
    assert (u2.before.withheld_fen, u2.after.withheld_fen, u2.after.pool_fen) == (0, 180, 3000)
    assert u2.balanced
    assert w.paid_before_fen - w.paid_after_fen == 180


def test_a_consequence_alone_decides_the_direction() -> None:
    current = run(QPAY, TALK)
    draft = run(QPAY, version=2)  # the talk is dropped, pay unchanged
    w = compare(current, draft)
    assert [(c.person_key, c.delta_fen, c.lost) for c in w.gainers] == [(pk("c"), 0, ("提醒谈话",))]
    assert w.losers == ()


def test_same_rules_change_nothing_and_other_snapshots_are_refused() -> None:
    w = compare(run(QPAY), run(QPAY, version=2))
    assert w.changes == () and w.gainers == () and w.losers == ()
    other = apply(snap(ROWS, digest="b" * 64), rules=ruleset(QPAY), roster=ROSTER)
    with pytest.raises(ValueError):
        compare(run(QPAY), other)


def test_a_grouped_roster_gives_the_same_proposals() -> None:
    from services.rewards.domain.apply import apply, group_staff
    from tests.rewards.unit.factory import QPAY, cadre, row, ruleset, snap

    s = snap([row("u1", "优秀", 1, 2), row("u2", "较差", 2, 2)])
    roster = [cadre("a", "u1", grade="优秀"), cadre("b", "u1"), cadre("c", "u2", grade="较差")]
    rules = ruleset(QPAY)
    grouped = group_staff(roster, units={"u1", "u2"})
    assert apply(s, rules=rules, roster=roster, grouped=grouped) == apply(s, rules=rules, roster=roster)
