"""What-if (模拟测算): draft rules against a stored snapshot, beside the active rules — writing nothing.

Runs in a read-only transaction (SET TRANSACTION READ ONLY): the same inputs as the real application,
both proposal lists computed in memory, compared by the domain (who gains, who loses, pools).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from kaohe.contracts.rewards import WhatIfRun
from kaohe.errors import NotFound
from kaohe.identity import Caller
from services.rewards.domain.apply import apply, group_staff
from services.rewards.domain.rules import RuleSet
from services.rewards.domain.whatif import Change, compare
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import rulesets
from services.rewards.service import access
from services.rewards.service.application import active_rules, depth, inputs_of
from services.rewards.service.rulesets import checked, of_record


def _change(c: Change) -> dict[str, Any]:
    return {
        "holder": c.holder,
        "unit_id": c.unit_id,
        "person_key": c.person_key,
        "before_fen": c.before_fen,
        "after_fen": c.after_fen,
        "delta_fen": c.delta_fen,
        "gained": list(c.gained),
        "lost": list(c.lost),
    }


async def run(conn: asyncpg.Connection, caller: Caller, p: WhatIfRun) -> dict[str, Any]:
    access.require(caller, *access.MANAGERS)
    inp = await inputs_of(conn, p.snapshot_id)
    if not await access.covers_assessing(conn, caller, inp.assessing_unit):
        raise NotFound(f"snapshot {p.snapshot_id} not found", field="snapshot_id", code=E.NOT_FOUND)
    if p.version is not None:
        row = await rulesets.get(conn, inp.assessing_unit, inp.year, p.version)
        if row is None:
            raise NotFound(
                f"rule set {inp.assessing_unit}/{inp.year}/v{p.version} not found",
                field="version",
                code=E.NOT_FOUND,
            )
        draft = of_record(row)
    else:
        assert p.rules is not None
        draft = checked(inp.assessing_unit, inp.year, 1, p.rules)
    current = await active_rules(conn, inp.assessing_unit, inp.year)
    base = current or RuleSet(assessing_unit=inp.assessing_unit, year=inp.year, version=1, rules=())
    history = await inp.history(conn, _deeper(base, draft))
    snap, roster, pools = inp.snapshot, inp.roster, inp.pools
    grouped = group_staff(roster, units={r.unit_id for r in snap.rows})  # once for both rule sets
    before = apply(snap, rules=base, roster=roster, history=history, pools=pools, grouped=grouped)
    after = apply(snap, rules=draft, roster=roster, history=history, pools=pools, grouped=grouped)
    diff = compare(before, after)
    unbalanced = sorted(u for u, b in after.pools.items() if not b.balanced)
    return {
        "snapshot_id": p.snapshot_id,
        "current_ref": current.ref if current else None,
        "draft_ref": draft.ref if p.version is not None else f"{draft.assessing_unit}/{draft.year}/inline",
        "gainers": [_change(c) for c in diff.gainers[: p.top]],
        "losers": [_change(c) for c in diff.losers[: p.top]],
        "gainers_count": len(diff.gainers),
        "losers_count": len(diff.losers),
        "changes_count": len(diff.changes),
        "paid_before_fen": diff.paid_before_fen,
        "paid_after_fen": diff.paid_after_fen,
        "pool_before_fen": sum(b.pool_fen for b in before.pools.values()),
        "pool_after_fen": sum(b.pool_fen for b in after.pools.values()),
        "pool_error_fen": after.pool_error_fen(),
        "unbalanced_units": unbalanced,
        "problems_before": diff.problems_before,
        "problems_after": diff.problems_after,
    }


def _deeper(a: RuleSet, b: RuleSet) -> RuleSet:
    """The rule set whose consecutive-period rules look further back (history enough for both)."""
    return a if depth(a) >= depth(b) else b
