"""The 实绩档案: hash-chained entries per holder, reversals on re-publication, tamper detection."""

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rewards.domain.apply import apply
from services.rewards.domain.ledger import LedgerEntry, heads_of, record, standing, verify_holder
from tests.rewards.unit.factory import QPAY, cadre, pk, row, ruleset, snap

T1 = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)
HONOUR = {
    "kind": "honour",
    "id": "praise",
    "basis": "通报表扬办法",
    "honour": "通报表扬",
    "period_kind": "quarter",
}
RULES = ruleset(QPAY, {**HONOUR, "condition": {"grades": ["优秀"]}})
ROSTER = [cadre("a", "u1", grade="优秀"), cadre("b", "u1"), cadre("c", "u2")]


def proposals(u1: str, u2: str, digest: str):
    rows = [row("u1", u1, 1, 2), row("u2", u2, 2, 2)]
    return apply(snap(rows, digest=digest), rules=RULES, roster=ROSTER)


def first_and_second():
    before = proposals("优秀", "良好", "1" * 64)
    entries = record([], before.lines, scope="jc", period="2026-Q1", ruleset_ref="jc/2026/v1", recorded_at=T1)
    # objection upheld: u2 is re-graded 优秀, u1 stays 优秀 (its staff's pay does not change)
    after = proposals("优秀", "优秀", "2" * 64)
    more = record(
        entries,
        after.lines,
        scope="jc",
        period="2026-Q1",
        ruleset_ref="jc/2026/v1",
        recorded_at=T2,
        reason="异议成立，重新发布",
    )
    return before, after, entries, more


def chains(entries: list[LedgerEntry]) -> dict[str, list[LedgerEntry]]:
    out: dict[str, list[LedgerEntry]] = {}
    for e in sorted(entries, key=lambda e: (e.holder, e.seq)):
        out.setdefault(e.holder, []).append(e)
    return out


def test_applied_lines_become_chained_entries_per_holder() -> None:
    before, _, entries, _ = first_and_second()
    assert len(entries) == len(before.lines)
    by = chains(entries)
    assert set(by) == {"unit:u1", "unit:u2", f"person:{pk('a')}", f"person:{pk('b')}", f"person:{pk('c')}"}
    assert [e.payload["kind"] for e in by["unit:u1"]] == ["pool", "honour"]
    assert all(verify_holder(c).ok for c in by.values())
    e = by[f"person:{pk('a')}"][0]  # 6000 × 11/21 = 3142.86 → 3143 (b: 2857.14 → 2857)
    assert e.payload["amount_fen"] == 3143 and e.payload["snapshot_digest"] == "1" * 64
    assert e.payload["basis"] == QPAY["basis"] and e.payload["ruleset_ref"] == "jc/2026/v1"


def test_a_republished_result_appends_reversals_and_new_entries_never_edits() -> None:
    _, after, entries, more = first_and_second()
    # u2's pool is unchanged in size (its one person gets it all) but its inputs changed (grade), so its
    # pool entry is reversed and re-entered; c's pay line changed inputs too; u2 gains an honour
    got = [(e.holder, e.payload["entry"], e.payload["kind"], e.payload["amount_fen"]) for e in more]
    assert got == [
        ("unit:u2", "reversal", "pool", -3000),
        (f"person:{pk('c')}", "reversal", "pay", -3000),
        ("unit:u2", "applied", "pool", 3000),
        (f"person:{pk('c')}", "applied", "pay", 3000),
        ("unit:u2", "applied", "honour", None),
    ]
    rev = more[0]
    assert rev.payload["reverses"] == next(e.hash for e in entries if e.holder == "unit:u2")
    assert rev.payload["reason"] == "异议成立，重新发布" and rev.payload["snapshot_digest"] == "2" * 64
    everything = entries + more
    assert all(verify_holder(c).ok for c in chains(everything).values())  # the old entries are untouched
    now = standing(everything, scope="jc", period="2026-Q1")
    assert sorted((e.holder, e.payload["kind"], e.payload["amount_fen"]) for e in now) == sorted(
        (ln.holder, ln.kind, ln.amount_fen) for ln in after.lines
    )
    # recording the same proposals again appends nothing
    again = record(
        everything, after.lines, scope="jc", period="2026-Q1", ruleset_ref="jc/2026/v1", recorded_at=T2
    )
    assert again == []


def test_a_vanished_consequence_is_reversed() -> None:
    _, _, entries, more = first_and_second()
    everything = entries + more
    worse = proposals("良好", "优秀", "3" * 64)  # u1 loses its honour
    out = record(
        everything, worse.lines, scope="jc", period="2026-Q1", ruleset_ref="jc/2026/v1", recorded_at=T2
    )
    rev = [e for e in out if e.payload["entry"] == "reversal" and e.payload["kind"] == "honour"]
    assert [e.holder for e in rev] == ["unit:u1"]
    assert not [e for e in out if e.payload["entry"] == "applied" and e.payload["kind"] == "honour"]
    assert "unit:u1" not in {
        e.holder
        for e in standing(everything + out, scope="jc", period="2026-Q1")
        if e.payload["kind"] == "honour"
    }


def test_entries_read_back_from_json_compare_equal() -> None:
    before, _, entries, _ = first_and_second()
    stored = [replace(e, payload=json.loads(json.dumps(e.payload))) for e in entries]
    assert all(verify_holder(c).ok for c in chains(stored).values())
    assert (
        record(stored, before.lines, scope="jc", period="2026-Q1", ruleset_ref="jc/2026/v1", recorded_at=T2)
        == []
    )


def test_other_scopes_and_periods_are_left_alone() -> None:
    before, _, entries, _ = first_and_second()
    out = record(
        entries, before.lines[:0], scope="county", period="2026-Q1", ruleset_ref="x/2026/v1", recorded_at=T2
    )
    assert out == []
    with pytest.raises(ValueError):
        record([], before.lines, scope="jc", period="2026-Q2", ruleset_ref="jc/2026/v1", recorded_at=T2)
    with pytest.raises(ValueError):
        record(
            [], before.lines, scope="jc", period="2026-Q1", ruleset_ref="v", recorded_at=datetime(2026, 1, 1)
        )


def _long_chain() -> list[LedgerEntry]:
    out: list[LedgerEntry] = []
    for i, d in enumerate("123456"):
        lines = proposals("优秀" if i % 2 else "良好", "良好", d * 64).lines
        out += record(out, lines, scope="jc", period="2026-Q1", ruleset_ref="jc/2026/v1", recorded_at=T2)
    return chains(out)["unit:u1"]


CHAIN = _long_chain()


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_tampering_is_found_where_it_happened(data: st.DataObject) -> None:
    c = list(CHAIN)
    assert len(c) >= 6 and verify_holder(c).ok
    i = data.draw(st.integers(0, len(c) - 1))
    how = data.draw(st.sampled_from(["amount", "delete", "swap", "truncate"]))
    if how == "amount":
        c[i] = replace(c[i], payload={**c[i].payload, "amount_fen": 1})
        if CHAIN[i].payload["amount_fen"] == 1:
            return
        v = verify_holder(c)
        assert (v.ok, v.broken_at, v.reason) == (False, i, "modified")
    elif how == "delete":
        if i == len(c) - 1:
            return
        del c[i]
        v = verify_holder(c)
        assert not v.ok and v.broken_at == i
    elif how == "swap":
        j = data.draw(st.integers(0, len(c) - 1).filter(lambda j: j != i))
        c[i], c[j] = c[j], c[i]
        v = verify_holder(c)
        assert not v.ok and v.broken_at == min(i, j)
    else:
        head = heads_of(CHAIN)["unit:u1"]
        v = verify_holder(c[:i], head=head)  # cut short at the end: only the anchored head shows it
        assert (v.ok, v.reason) == (False, "truncated")
        assert verify_holder(c, head=head).ok
