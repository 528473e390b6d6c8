"""红黄牌 and attribution: a late cooperating unit is charged, the lead only for its own part; stable keys."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.supervision.domain import (
    Action,
    Assessment,
    CardPolicy,
    ClockKind,
    Colour,
    Command,
    Role,
    assess,
    evaluate,
    new_breaches,
    new_cards,
    replay,
)

from .builders import BASE, CAL, COOP, LATE_PART, LEAD, at, closing, coop, make_item, steps, timeline

ITEM = make_item()  # deadline Tue 2026-03-31; COOP's part Fri 2026-03-20


def assessed(cmds: list[Command], now: datetime, policy: CardPolicy = CardPolicy()) -> Assessment:
    _, entries = replay(ITEM, commands=sorted(cmds, key=lambda c: c.at))
    board = evaluate(ITEM, entries=entries, calendar=CAL, now=now)
    return assess(ITEM, board=board, calendar=CAL, policy=policy, now=now)


def test_late_cooperating_part_is_charged_to_it_not_to_the_lead() -> None:
    a = assessed([*BASE, LATE_PART, *closing(date(2026, 4, 3), date(2026, 4, 7))], at(date(2026, 4, 10)))
    assert {(b.unit_id, b.kind, b.carded) for b in a.breaches} == {
        (COOP, ClockKind.PART, True),
        (COOP, ClockKind.DEADLINE, False),  # recorded against the blocker, carded on its part only
    }
    part = next(b for b in a.breaches if b.kind is ClockKind.PART)
    assert part.role is Role.COOPERATING and part.overdue_workdays == 8  # Mar 23–27, 30, 31, Apr 1
    assert [(c.colour, c.unit_id, c.at) for c in a.cards] == [
        (Colour.YELLOW, COOP, at(date(2026, 3, 20), 18)),
        (Colour.RED, COOP, at(date(2026, 3, 27), 18)),  # 5 working days overdue
    ]
    assert all(c.unit_id != LEAD for c in a.cards)
    gentle = assessed(
        [*BASE, LATE_PART, *closing(date(2026, 4, 3), date(2026, 4, 7))],
        at(date(2026, 4, 10)),
        CardPolicy(red_overdue_workdays=None),
    )
    assert [c.colour for c in gentle.cards] == [Colour.YELLOW]


def test_the_lead_is_charged_from_its_grace_when_it_dawdles_after_the_partner_delivered() -> None:
    a = assessed([*BASE, LATE_PART, *closing(date(2026, 4, 8), date(2026, 4, 9))], at(date(2026, 4, 10)))
    mine = [b for b in a.breaches if b.unit_id == LEAD]
    assert len(mine) == 1 and mine[0].kind is ClockKind.DEADLINE
    assert mine[0].at == at(date(2026, 4, 3), 18)  # one working day after the part arrived (Apr 2)
    assert mine[0].overdue_workdays == 1  # Apr 7 (Apr 6 is 清明); Apr 8 had not ended at the request
    assert [(c.colour, c.unit_id) for c in a.cards if c.unit_id == LEAD] == [(Colour.YELLOW, LEAD)]


def test_the_lead_is_charged_too_when_its_own_part_was_outstanding() -> None:
    no_own_part = [c for c in BASE if c.action is not Action.SUBMIT_PART]
    a = assessed(
        [*no_own_part, LATE_PART, *closing(date(2026, 4, 3), date(2026, 4, 7))], at(date(2026, 4, 10))
    )
    lead_deadline = [b for b in a.breaches if b.unit_id == LEAD and b.kind is ClockKind.DEADLINE]
    assert (
        len(lead_deadline) == 1
        and lead_deadline[0].at == at(date(2026, 3, 31), 18)
        and lead_deadline[0].carded
    )


def test_without_blockers_a_late_item_is_the_leads() -> None:
    on_time_part = coop(Action.SUBMIT_PART, at(date(2026, 3, 19)), evidence=("s3://e/coop.pdf",))
    a = assessed([*BASE, on_time_part, *closing(date(2026, 4, 3), date(2026, 4, 7))], at(date(2026, 4, 10)))
    assert [(b.unit_id, b.kind) for b in a.breaches] == [(LEAD, ClockKind.DEADLINE)]
    assert a.breaches[0].overdue_workdays == 2  # Apr 1, Apr 2: stops at the verified request (Apr 3, 10:00)


def test_second_yellow_on_one_item_is_red() -> None:
    silent = BASE[:2]  # accepted, then nothing: progress missed Mar 17, Mar 31 …
    a = assessed(silent, at(date(2026, 4, 1), 9), CardPolicy(red_overdue_workdays=None))
    lead_cards = [(c.colour, c.breach_key.split("/")[2]) for c in a.cards if c.unit_id == LEAD]
    # Mar 17 progress; at Mar 31 18:00 the deadline and the second progress period, in key order
    assert lead_cards == [(Colour.YELLOW, "progress"), (Colour.RED, "deadline"), (Colour.RED, "progress")]
    assert [c.colour for c in a.cards if c.unit_id == COOP] == [Colour.YELLOW]  # counted per unit


def test_sweeps_are_idempotent_and_next_check_includes_the_red_threshold() -> None:
    cmds = [*BASE, LATE_PART]
    early = assessed(cmds[:-1], at(date(2026, 3, 23), 9))
    assert [c.colour for c in early.cards] == [Colour.YELLOW]
    # COOP's first overdue working day ends (its score moves) before its red threshold (03-27 18:00)
    assert early.next_check == at(date(2026, 3, 23), 18)
    day4 = assessed(cmds[:-1], at(date(2026, 3, 26), 19))
    assert day4.next_check == at(date(2026, 3, 27), 18) and len(day4.cards) == 1  # the red threshold
    issued = {c.key for c in early.cards}
    again = assessed(cmds[:-1], at(date(2026, 3, 23), 9))
    assert again == early and new_cards(again, issued=issued) == []
    later = assessed(cmds[:-1], at(date(2026, 3, 28)))
    fresh = new_cards(later, issued=issued)
    assert [(c.colour, c.unit_id) for c in fresh] == [(Colour.RED, COOP)]
    assert new_breaches(later, recorded={b.key for b in early.breaches}) == []


@settings(max_examples=100, deadline=None)
@given(
    st.lists(steps, max_size=25),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=40),
)
def test_cards_only_accumulate_with_stable_keys_and_colours(raw, d1: int, d2: int) -> None:
    entries, last = timeline(raw)
    now1 = last + timedelta(days=d1)
    now2 = now1 + timedelta(days=d2)
    policy = CardPolicy()
    a1 = assess(
        ITEM,
        board=evaluate(ITEM, entries=entries, calendar=CAL, now=now1),
        calendar=CAL,
        policy=policy,
        now=now1,
    )
    a2 = assess(
        ITEM,
        board=evaluate(ITEM, entries=entries, calendar=CAL, now=now2),
        calendar=CAL,
        policy=policy,
        now=now2,
    )
    first = {c.key: (c.colour, c.at, c.unit_id) for c in a1.cards}
    second = {c.key: (c.colour, c.at, c.unit_id) for c in a2.cards}
    assert all(second.get(k) == v for k, v in first.items())
    assert len(set(second)) == len(a2.cards)  # one card per key
    assert all(c.at <= now2 for c in a2.cards)
    assert {b.key for b in a1.breaches} <= {b.key for b in a2.breaches}
    assert a1.next_check is None or a1.next_check >= now1
    assert all(c.unit_id in ITEM.unit_ids for c in a2.cards)
