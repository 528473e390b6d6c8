"""Tamper-evident records: each entry is chained by SHA-256 to the one before it.

Records that decide careers and pay (a supervision item's timeline, a cadre's 实绩档案) are append-only.
Storing `hash = sha256(prev_hash ‖ canonical(payload))` beside every row makes any later edit, deletion
or reordering visible: `verify` recomputes the chain and names the first entry that no longer fits.
Canonical form: JSON with sorted keys, no whitespace, UTF-8; Decimal, dates and UUIDs as strings, so the
same payload hashes the same on every machine and in every language.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

GENESIS = "0" * 64  # prev_hash of a chain's first entry


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    raise TypeError(f"not canonicalisable: {type(value).__name__}")


def canonical(payload: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, compact separators, UTF-8."""
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)
    return text.encode()


def link(prev_hash: str, payload: Mapping[str, Any]) -> str:
    """The hash of an entry that follows `prev_hash`."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(payload)).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One stored entry as read back: its payload and the hashes stored beside it."""

    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    broken_at: int | None = None  # index of the first entry that does not fit
    reason: str | None = None  # "modified" | "unlinked" (deleted, inserted or reordered)


def verify(entries: Iterable[Entry], *, start: str = GENESIS) -> Verdict:
    """Walk the chain from `start`; the first entry whose link or content does not fit breaks it."""
    prev = start
    count = 0
    for n, e in enumerate(entries):
        if e.prev_hash != prev:
            return Verdict(False, n, n, "unlinked")
        if link(prev, e.payload) != e.hash:
            return Verdict(False, n, n, "modified")
        prev = e.hash
        count = n + 1
    return Verdict(True, count)
