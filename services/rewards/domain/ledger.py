"""The results record (实绩档案): append-only, hash-chained entries per unit and per person.

An approved line becomes an `applied` entry in its holder's chain (`unit:<id>` or `person:<key>`), linked
by `kaohe.chain.link` to the entry before it. Nothing is ever edited: when a period is re-published (an
objection upheld) and its proposals recomputed, `record` returns what to append — a `reversal` of each
standing entry whose line changed or vanished (amount negated, naming the hash it reverses and the
reason), then an `applied` entry for each line that is new or changed. Unchanged lines append nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kaohe.chain import GENESIS, Entry, Verdict, canonical, link, verify
from services.rewards.domain.proposal import Line

# what makes two entries say the same thing (recorded_at, snapshot and rule-set version do not)
_CONTENT = ("unit_id", "person_key", "kind", "consequence", "rule_id", "basis", "amount_fen", "inputs")


@dataclass(frozen=True, slots=True)
class LedgerEntry:  # 实绩档案条目
    """One stored entry: its holder's chain, position, payload and the hashes beside it."""

    holder: str  # unit:<id> | person:<key>
    seq: int  # 0-based position in the holder's chain
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


def payload_of(line: Line, *, scope: str, ruleset_ref: str, recorded_at: datetime) -> dict[str, Any]:
    """The stored content of an applied line (what is hashed, with holder, seq and entry added)."""
    return {
        "entry": "applied",
        "scope": scope,
        "period": line.period,
        "unit_id": line.unit_id,
        "person_key": line.person_key,
        "kind": line.kind,
        "consequence": line.consequence,
        "rule_id": line.rule_id,
        "basis": line.basis,
        "amount_fen": line.amount_fen,
        "inputs": dict(line.inputs),
        "snapshot_digest": line.snapshot_digest,
        "ruleset_ref": ruleset_ref,
        "recorded_at": recorded_at.isoformat(),
    }


def record(
    existing: Iterable[LedgerEntry],
    lines: Sequence[Line],
    *,
    scope: str,
    period: str,
    ruleset_ref: str,
    recorded_at: datetime,
    reason: str | None = None,
) -> list[LedgerEntry]:
    """Entries to append so that the standing entries of `scope` (the assessing unit) for `period` say
    what `lines` say: reversals of changed or vanished entries, then new ones. Pure; appends nothing."""
    if recorded_at.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware")
    if any(line.period != period for line in lines):
        raise ValueError(f"every line must be of period {period}")
    heads: dict[str, tuple[int, str]] = {}
    standing: dict[tuple[Any, ...], LedgerEntry] = {}
    reversed_: set[str] = set()
    for e in existing:
        if e.holder not in heads or e.seq > heads[e.holder][0]:
            heads[e.holder] = (e.seq, e.hash)
        p = e.payload
        if p.get("scope") != scope or p.get("period") != period:
            continue
        if p["entry"] == "reversal":
            reversed_.add(p["reverses"])
        else:
            standing[_key(e.holder, p)] = e
    live = {k: e for k, e in standing.items() if e.hash not in reversed_}

    new: list[tuple[str, dict[str, Any]]] = []
    wanted: set[tuple[Any, ...]] = set()
    replaced: set[tuple[Any, ...]] = set()
    for line in lines:
        p = payload_of(line, scope=scope, ruleset_ref=ruleset_ref, recorded_at=recorded_at)
        k = _key(line.holder, p)
        if k in wanted:
            raise ValueError(f"two lines for {line.holder} say {line.rule_id}/{line.consequence}")
        wanted.add(k)
        old = live.get(k)
        if old is not None:
            if _same(old.payload, p):
                continue
            replaced.add(k)
        new.append((line.holder, p))
    out: list[LedgerEntry] = []
    for k, e in live.items():
        if k not in wanted or k in replaced:
            out.append(_append(heads, e.holder, _reversal(e, reason, recorded_at, lines)))
    for holder, p in new:
        out.append(_append(heads, holder, p))
    return out


def _reversal(e: LedgerEntry, reason: str | None, at: datetime, lines: Sequence[Line]) -> dict[str, Any]:
    p = dict(e.payload)
    p.pop("holder", None)
    p.pop("seq", None)
    amount = p.get("amount_fen")
    return {
        **p,
        "entry": "reversal",
        "amount_fen": -amount if amount is not None else None,
        "reverses": e.hash,
        "reason": reason or "re-published result",
        "snapshot_digest": lines[0].snapshot_digest if lines else p["snapshot_digest"],
        "recorded_at": at.isoformat(),
    }


def _append(heads: dict[str, tuple[int, str]], holder: str, p: dict[str, Any]) -> LedgerEntry:
    seq, prev = heads.get(holder, (-1, GENESIS))
    payload = {**p, "holder": holder, "seq": seq + 1}
    h = link(prev, payload)
    heads[holder] = (seq + 1, h)
    return LedgerEntry(holder, seq + 1, payload, prev, h)


def _key(holder: str, p: Mapping[str, Any]) -> tuple[Any, ...]:
    return (holder, p["unit_id"], p["rule_id"], p["consequence"])


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Same content in canonical form (a payload read back from JSON has lists where lines had tuples)."""
    if all(a.get(f) == b.get(f) for f in _CONTENT):
        return True
    return canonical({f: a.get(f) for f in _CONTENT}) == canonical({f: b.get(f) for f in _CONTENT})


def standing(entries: Iterable[LedgerEntry], *, scope: str, period: str) -> list[LedgerEntry]:
    """The applied entries of a scope and period that no later reversal cancelled, in chain order."""
    mine = [e for e in entries if e.payload.get("scope") == scope and e.payload.get("period") == period]
    gone = {e.payload["reverses"] for e in mine if e.payload["entry"] == "reversal"}
    return [e for e in mine if e.payload["entry"] == "applied" and e.hash not in gone]


def verify_holder(entries: Sequence[LedgerEntry], *, head: str | None = None) -> Verdict:
    """Check one holder's chain in seq order; with `head` (the last hash stored elsewhere) a chain cut
    short at the end is caught too."""
    holder = entries[0].holder if entries else None
    for n, e in enumerate(entries):
        if e.holder != holder or e.seq != n or e.payload.get("holder") != holder or e.payload.get("seq") != n:
            return Verdict(False, n, n, "unlinked")
    v = verify(Entry(e.payload, e.prev_hash, e.hash) for e in entries)
    if v.ok and head is not None and (entries[-1].hash if entries else GENESIS) != head:
        return Verdict(False, len(entries), len(entries), "truncated")
    return v


def heads_of(entries: Iterable[LedgerEntry]) -> dict[str, str]:
    """The last hash of each holder's chain (to anchor elsewhere: a table, a signed export)."""
    last: dict[str, LedgerEntry] = {}
    for e in entries:
        if e.holder not in last or e.seq > last[e.holder].seq:
            last[e.holder] = e
    return {h: e.hash for h, e in last.items()}
