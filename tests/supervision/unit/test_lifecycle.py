"""The lifecycle table: every defined transition, every refused one, requirements, CAS, random sequences."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaohe.chain import GENESIS, link, verify
from kaohe.chain import Entry as ChainEntry
from kaohe.errors import KaoheError
from services.supervision.domain import (
    TABLE,
    Action,
    Actor,
    ActorNotAllowed,
    Command,
    ItemState,
    Need,
    RequirementMissing,
    StaleState,
    Status,
    TransitionRefused,
    allowed_actions,
    apply,
    replay,
)

from .builders import COOP, LEAD, at, coop, lead, make_item, office

ITEM = make_item()
T0 = at(date(2026, 3, 2))


def in_state(status: Status) -> ItemState:
    s = replace(ItemState.start(ITEM), status=status, seq=5)
    return (
        replace(s, pending_extension=(None, date(2026, 4, 30))) if status is Status.EXTENSION_REQUESTED else s
    )


def complete(action: Action, actor: Actor, status: Status) -> Command:
    """A command that meets every requirement the table lists for (status, action)."""
    needs = TABLE[status, action].needs
    unit = COOP if actor is Actor.COOPERATING else None
    new = date(2026, 4, 30) if action is not Action.APPROVE_EXTENSION else date(2026, 5, 15)
    if actor is Actor.COOPERATING and Need.NEW_DEADLINE in needs:
        new = date(2026, 3, 25)  # a part's extension stays within the item's deadline
    return Command(
        action,
        actor,
        "someone",
        T0,
        unit_id=unit,
        reason="依据" if Need.REASON in needs else "",
        evidence=("s3://evidence/1.pdf",) if Need.EVIDENCE in needs else (),
        new_deadline=new if Need.NEW_DEADLINE in needs else None,
    )


@pytest.mark.parametrize(("status", "action"), sorted(TABLE, key=str))
def test_every_defined_transition_goes_where_the_table_says(status: Status, action: Action) -> None:
    rule = TABLE[status, action]
    for actor in rule.actors:
        state, entry = apply(in_state(status), command=complete(action, actor, status))
        assert state.status is rule.to and entry.from_status is status and entry.to_status is rule.to
        assert state.seq == 6 and entry.seq == 6
    for actor in set(Actor) - rule.actors:
        with pytest.raises(ActorNotAllowed) as err:
            apply(
                in_state(status),
                command=replace(complete(action, next(iter(rule.actors)), status), actor=actor),
            )
        assert err.value.code == "actor_not_allowed" and err.value.status == 403


UNDEFINED = sorted(((s, a) for s in Status for a in Action if (s, a) not in TABLE), key=str)


@pytest.mark.parametrize(("status", "action"), UNDEFINED)
def test_every_undefined_transition_is_refused_by_name(status: Status, action: Action) -> None:
    with pytest.raises(TransitionRefused) as err:
        apply(in_state(status), command=Command(action, Actor.OFFICE, "o", T0, reason="r", evidence=("e",)))
    assert err.value.code == "transition_refused" and err.value.status == 409
    assert str(action) in err.value.message and str(status) in err.value.message


def test_closed_and_withdrawn_accept_almost_nothing() -> None:
    assert allowed_actions(Status.CLOSED, actor=Actor.OFFICE) == [Action.REOPEN]
    assert allowed_actions(Status.WITHDRAWN, actor=Actor.OFFICE) == []
    assert allowed_actions(Status.CLOSED, actor=Actor.LEAD) == []
    assert set(allowed_actions(Status.IN_PROGRESS, actor=Actor.COOPERATING)) == {
        Action.REPORT_PROGRESS,
        Action.SUBMIT_PART,
        Action.REQUEST_EXTENSION,
    }


@pytest.mark.parametrize(
    ("status", "command", "field"),
    [
        (Status.IN_PROGRESS, lead(Action.REQUEST_CLOSURE, T0, reason="done"), "evidence"),
        (Status.IN_PROGRESS, lead(Action.REQUEST_CLOSURE, T0, evidence=("e",)), "reason"),
        (Status.CLOSURE_REQUESTED, office(Action.SEND_BACK, T0, reason="  "), "reason"),
        (Status.IN_PROGRESS, lead(Action.REQUEST_EXTENSION, T0, reason="r"), "new_deadline"),
        (
            Status.IN_PROGRESS,
            lead(Action.REQUEST_EXTENSION, T0, reason="r", new_deadline=date(2026, 3, 31)),
            "new_deadline",
        ),
        (
            Status.IN_PROGRESS,
            coop(Action.REQUEST_EXTENSION, T0, reason="r", new_deadline=date(2026, 4, 2)),
            "new_deadline",
        ),
        (Status.IN_PROGRESS, coop(Action.SUBMIT_PART, T0, unit="stranger", evidence=("e",)), "unit_id"),
        (Status.CLOSED, office(Action.REOPEN, T0, reason="反弹"), "new_deadline"),
        (
            Status.CLOSED,
            office(Action.REOPEN, T0, reason="反弹", new_deadline=date(2026, 3, 1)),
            "new_deadline",
        ),
        (Status.PAUSE_REQUESTED, office(Action.APPROVE_PAUSE, T0), "reason"),
        (Status.ASSIGNED, office(Action.WITHDRAW, T0), "reason"),
    ],
)
def test_requirements_are_named(status: Status, command: Command, field: str) -> None:
    with pytest.raises(RequirementMissing) as err:
        apply(in_state(status), command=command)
    assert err.value.field == field and err.value.status == 422


def test_entries_may_not_go_back_in_time() -> None:
    state, _ = apply(in_state(Status.ASSIGNED), command=lead(Action.ACCEPT, T0))
    with pytest.raises(RequirementMissing) as err:
        apply(state, command=lead(Action.REPORT_PROGRESS, T0 - timedelta(minutes=1), reason="r"))
    assert err.value.field == "at"


def test_compare_and_set_one_of_two_concurrent_commands_wins() -> None:
    state = in_state(Status.ASSIGNED)
    won, _ = apply(state, command=lead(Action.ACCEPT, T0), expected_seq=state.seq)
    with pytest.raises(StaleState) as err:
        apply(won, command=office(Action.WITHDRAW, T0, reason="重复交办"), expected_seq=state.seq)
    assert err.value.code == "stale_state" and err.value.status == 409


def test_extension_keeps_the_old_deadline_and_a_part_extension_moves_only_that_part() -> None:
    s, _ = replay(ITEM, commands=[office(Action.ASSIGN, T0), lead(Action.ACCEPT, T0)])
    s, _ = apply(
        s, command=lead(Action.REQUEST_EXTENSION, T0, reason="汛期施工受限", new_deadline=date(2026, 4, 30))
    )
    s, e = apply(s, command=office(Action.APPROVE_EXTENSION, T0, new_deadline=date(2026, 4, 20)))
    assert s.deadline == date(2026, 4, 20) and s.deadlines == (date(2026, 3, 31), date(2026, 4, 20))
    assert e.new_deadline == date(2026, 4, 20) and s.pending_extension is None
    s, _ = apply(
        s, command=coop(Action.REQUEST_EXTENSION, T0, reason="设备未到", new_deadline=date(2026, 4, 10))
    )
    assert s.pending_extension == (COOP, date(2026, 4, 10))
    s, _ = apply(s, command=office(Action.APPROVE_EXTENSION, T0, new_deadline=date(2026, 4, 10)))
    assert s.part_deadline(COOP) == date(2026, 4, 10) and s.deadline == date(2026, 4, 20)


def test_reopen_starts_a_new_cycle_and_timeline_chains() -> None:
    cmds = [
        office(Action.ASSIGN, T0),
        lead(Action.ACCEPT, T0 + timedelta(hours=1)),
        lead(Action.REQUEST_CLOSURE, T0 + timedelta(days=3), reason="已整改", evidence=("s3://e/1",)),
        office(Action.VERIFY_CLOSURE, T0 + timedelta(days=4), reason="现场核验属实"),
        office(Action.REOPEN, T0 + timedelta(days=20), reason="问题反弹", new_deadline=date(2026, 4, 30)),
    ]
    s, entries = replay(ITEM, commands=cmds)
    assert s.status is Status.IN_PROGRESS and s.cycle == 2 and entries[-1].cycle == 2
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5] and s.deadlines[-1] == date(2026, 4, 30)
    prev, chain = GENESIS, []
    for e in entries:
        h = link(prev, e.payload())
        chain.append(ChainEntry(e.payload(), prev, h))
        prev = h
    assert verify(chain).ok


# -- random sequences ---------------------------------------------------------------------------------
commands = st.builds(
    lambda a, actor, unit, reason, ev, nd, minutes: Command(
        a,
        actor,
        "x",
        T0 + timedelta(minutes=minutes),
        unit_id=unit,
        reason=reason,
        evidence=ev,
        new_deadline=nd,
    ),
    st.sampled_from(list(Action)),
    st.sampled_from(list(Actor)),
    st.sampled_from([None, LEAD, COOP, "stranger"]),
    st.sampled_from(["", "理由"]),
    st.sampled_from([(), ("s3://e/1",)]),
    st.sampled_from([None, date(2026, 3, 15), date(2026, 3, 25), date(2026, 4, 30), date(2026, 6, 30)]),
    st.integers(min_value=0, max_value=30),
)


@settings(max_examples=300)
@given(st.lists(commands, max_size=40))
def test_random_sequences_stay_in_the_table_and_close_only_through_verification(cmds: list[Command]) -> None:
    state, entries, minute = ItemState.start(ITEM), [], 0
    for c in cmds:
        minute += 1
        c = replace(c, at=T0 + timedelta(minutes=minute))
        before = state
        try:
            state, e = apply(state, command=c)
        except KaoheError:
            assert state is before
            continue
        assert state.status in Status and TABLE[e.from_status, e.action].to is e.to_status is state.status
        assert state.deadlines[: len(before.deadlines)] == before.deadlines
        assert state.cycle == before.cycle + (e.action is Action.REOPEN)
        entries.append(e)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    for i, e in enumerate(entries):
        if e.to_status is Status.CLOSED:
            assert e.action is Action.VERIFY_CLOSURE and e.actor is Actor.OFFICE and e.reason
            j = max(k for k in range(i) if entries[k].from_status is not Status.CLOSURE_REQUESTED)
            request = entries[j]  # what led into review; everything after it stayed under review
            assert (
                request.action is Action.REQUEST_CLOSURE and request.evidence and request.actor is Actor.LEAD
            )
            assert all(x.to_status is Status.CLOSURE_REQUESTED for x in entries[j:i])
