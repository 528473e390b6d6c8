"""督查结果单独核算: hand-computed scores, caps, floor, rounding, and the facts an item yields per period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.supervision.domain import (
    Action,
    CardPolicy,
    Colour,
    ConfigInvalid,
    Fact,
    FactKind,
    ScoreRules,
    assess,
    evaluate,
    facts_from,
    replay,
    score_unit,
    score_units,
)

from .builders import BASE, CAL, COOP, LATE_PART, LEAD, at, closing, lead, make_item, office

T = at(date(2026, 3, 10))
RULES = ScoreRules()  # yellow 2, red 5, 0.5 per overdue day (≤ 10 per item), 1 per send-back, +1 early (≤ 5)


def fact(kind: FactKind, item: str = "i1", **kw: object) -> Fact:
    return Fact(kind, "u", item, T, f"{item}/{kind}", **kw)  # type: ignore[arg-type]


def test_hand_computed_score_with_its_explanation() -> None:
    facts = [
        fact(FactKind.ITEM, "i1"),
        fact(FactKind.ITEM, "i2"),
        fact(FactKind.CARD, colour=Colour.YELLOW, note="未按期推进反馈"),
        fact(FactKind.CARD, colour=Colour.RED),
        fact(FactKind.OVERDUE, "i1", workdays=5),
        fact(FactKind.OVERDUE, "i1", workdays=3),
        fact(FactKind.OVERDUE, "i2", workdays=30),
        fact(FactKind.SENT_BACK),
        fact(FactKind.SENT_BACK),
        *[fact(FactKind.EARLY_CLOSURE, f"e{i}") for i in range(7)],
        Fact(FactKind.CARD, "someone-else", "i1", T, "x", colour=Colour.RED),
    ]
    s = score_unit("u", period="2026-Q1", facts=facts, rules=RULES)
    # 100 − 2 − 5 − 8×0.5 − min(30×0.5, 10) − 2×1 + min(7×1, 5) = 82
    assert s.score == Decimal("82.00") and s.items == 2
    assert sum(x.points for x in s.lines) == Decimal(-18)
    reasons = [x.reason for x in s.lines]
    assert (
        "黄牌: 未按期推进反馈" in reasons
        and "超期8个工作日" in reasons
        and "超期30个工作日（封顶）" in reasons
    )
    assert sum(1 for x in s.lines if x.points > 0) == 5  # the bonus cap stops the sixth and seventh
    details = s.details()
    assert {"item_id": "i2", "deduction": 10.0, "reason": "超期30个工作日（封顶）"} in details
    assert any(d["deduction"] == -1.0 for d in details)  # a bonus is a negative deduction


def test_floor_cap_and_half_up_rounding() -> None:
    many_reds = [fact(FactKind.CARD, f"i{i}", colour=Colour.RED) for i in range(30)]
    assert score_unit("u", period="p", facts=many_reds, rules=RULES).score == Decimal("0.00")
    bonus_only = [fact(FactKind.EARLY_CLOSURE, f"i{i}") for i in range(3)]
    assert score_unit("u", period="p", facts=bonus_only, rules=RULES).score == Decimal("100.00")
    odd = ScoreRules(per_overdue_workday=Decimal("0.015"), overdue_cap_per_item=None)
    assert score_unit(
        "u", period="p", facts=[fact(FactKind.OVERDUE, workdays=1)], rules=odd
    ).score == Decimal("99.99")  # 99.985 rounds half up, not to even
    assert score_unit("u", period="p", facts=[], rules=RULES).score == Decimal("100.00")


def test_rules_are_checked() -> None:
    with pytest.raises(ConfigInvalid):
        ScoreRules(floor=Decimal(60), cap=Decimal(50))
    with pytest.raises(ConfigInvalid):
        ScoreRules(per_card={Colour.YELLOW: Decimal(-1)})
    with pytest.raises(ConfigInvalid):
        CardPolicy(red_after_yellows=0)


kinds = st.sampled_from([FactKind.CARD, FactKind.OVERDUE, FactKind.SENT_BACK, FactKind.EARLY_CLOSURE])
facts_st = st.lists(
    st.builds(
        lambda k, item, colour, days: fact(
            k, item, colour=colour if k is FactKind.CARD else None, workdays=days
        ),
        kinds,
        st.sampled_from(["i1", "i2", "i3"]),
        st.sampled_from(list(Colour)),
        st.integers(min_value=0, max_value=40),
    ),
    max_size=30,
)


@given(facts_st, st.sampled_from(list(Colour)))
def test_score_is_clamped_explained_and_a_card_never_raises_it(facts: list[Fact], colour: Colour) -> None:
    s = score_unit("u", period="p", facts=facts, rules=RULES)
    assert RULES.floor <= s.score <= RULES.cap
    raw = RULES.base + sum((x.points for x in s.lines), Decimal(0))
    assert s.score == min(max(raw, RULES.floor), RULES.cap).quantize(Decimal("0.01"))
    worse = score_unit("u", period="p", facts=[*facts, fact(FactKind.CARD, colour=colour)], rules=RULES)
    assert worse.score <= s.score
    assert score_units(facts, period="p", rules=RULES).get("u", s).score == s.score


def item_facts(cmds, start, end, now):
    item = make_item()
    _, entries = replay(item, commands=sorted(cmds, key=lambda c: c.at))
    board = evaluate(item, entries=entries, calendar=CAL, now=now)
    a = assess(item, board=board, calendar=CAL, policy=CardPolicy(), now=now)
    return facts_from(item, assessment=a, entries=entries, calendar=CAL, start=start, end=end, rules=RULES)


def test_a_late_partner_loses_points_in_the_period_the_days_elapsed() -> None:
    cmds = [*BASE, LATE_PART, *closing(date(2026, 4, 3), date(2026, 4, 7))]
    now = at(date(2026, 7, 1))
    q1 = item_facts(cmds, at(date(2026, 1, 1), 0), at(date(2026, 4, 1), 0), now)
    q2 = item_facts(cmds, at(date(2026, 4, 1), 0), at(date(2026, 7, 1), 0), now)
    overdue = {(f.unit_id, f.workdays) for f in q1 if f.kind is FactKind.OVERDUE}
    assert overdue == {(COOP, 7)}  # Mar 23–27, 30, 31; the lead, not late on its part, is not charged
    assert {(f.unit_id, f.workdays) for f in q2 if f.kind is FactKind.OVERDUE} == {(COOP, 1)}  # Apr 1
    scores = score_units(q1, period="2026-Q1", rules=RULES)
    assert scores[LEAD].score == Decimal("100.00") and scores[LEAD].items == 1
    assert scores[COOP].score == Decimal("89.50")  # − 2 (yellow) − 5 (red: 5 days overdue) − 3.5 (7 days)
    assert score_units(q2, period="2026-Q2", rules=RULES)[COOP].score == Decimal("99.50")


def test_sent_back_and_early_verified_closure_go_to_the_lead() -> None:
    on_time = [  # BASE without the Mar 30 report: the item is closed by then
        *BASE[:5],
        lead(Action.REQUEST_CLOSURE, at(date(2026, 3, 18)), reason="完成", evidence=("s3://e/1",)),
        office(Action.SEND_BACK, at(date(2026, 3, 18), 16), reason="佐证不足"),
        lead(Action.REQUEST_CLOSURE, at(date(2026, 3, 20)), reason="补充佐证", evidence=("s3://e/2",)),
        office(Action.VERIFY_CLOSURE, at(date(2026, 3, 23)), reason="核验属实"),
    ]
    facts = item_facts(on_time, at(date(2026, 1, 1), 0), at(date(2026, 4, 1), 0), at(date(2026, 4, 1)))
    mine = sorted(f.kind for f in facts if f.unit_id == LEAD)
    assert mine == [FactKind.EARLY_CLOSURE, FactKind.ITEM, FactKind.SENT_BACK]  # 7 working days early
    assert score_units(facts, period="2026-Q1", rules=RULES)[LEAD].score == Decimal("100.00")  # −1 +1
