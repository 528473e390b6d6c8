"""Application (结果运用): a stored snapshot × the active rule set × the roster → a stored proposal set.

Inputs are read in a few set-based queries (snapshot rows, the roster on the period's last day with each
person's own grade, earlier periods' results for the consecutive-period rules, unit pools and 单位类型);
the pure domain computes every line; the lines go to PostgreSQL by binary COPY, all in the caller's
transaction. `inputs_of` is shared with the what-if, which writes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from kaohe import logs
from kaohe.contracts.periods import Period
from kaohe.errors import Conflict, NotFound
from services.rewards.domain.apply import apply
from services.rewards.domain.inputs import Cadre, History, PersonPast, Snapshot, SnapshotRow, UnitPast
from services.rewards.domain.proposal import Line, ProposalList
from services.rewards.domain.rules import CadreRule, RuleSet, StreakRule
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import proposals as repo
from services.rewards.repository import registry, rulesets, snapshots, units
from services.rewards.repository.connection import dumps
from services.rewards.service.rulesets import of_record

log = logs.get("rewards.application")


@dataclass
class Inputs:
    """What applying rules to a snapshot reads (the same for the real run and a what-if)."""

    record: asyncpg.Record
    assessing_unit: str
    year: int
    snapshot: Snapshot
    roster: list[Cadre]
    paths: dict[str, str]
    pools: dict[str, int]

    async def history(self, conn: asyncpg.Connection, rules: RuleSet) -> History:
        return await history_of(conn, self, rules)


def depth(rules: RuleSet) -> int:
    """How many earlier periods the consecutive-period rules look back."""
    n = 1
    for r in rules.rules:
        if isinstance(r, CadreRule):
            n = max(n, r.consecutive)
        elif isinstance(r, StreakRule):
            n = max(n, r.periods)
    return n - 1


async def inputs_of(
    conn: asyncpg.Connection, snapshot_id: str, rows: list[dict[str, Any]] | None = None
) -> Inputs:
    """What applying rules to a stored snapshot reads (`rows`: its rows, when the caller has them)."""
    rec = await snapshots.get(conn, snapshot_id, with_rows=rows is None)
    if rec is None:
        raise NotFound(f"snapshot {snapshot_id} not found", field="snapshot_id", code=E.NOT_FOUND)
    if rec["assessing_unit"] is None:
        raise Conflict(
            f"the assessing unit of scheme {rec['scheme_id']} is not known yet (scheme.published)",
            field="snapshot_id",
            code=E.RULESET_MISSING,
        )
    rows = rows if rows is not None else snapshots.rows_of(rec)
    ids = [r["unit_id"] for r in rows]
    kinds = await units.kinds_of(conn, ids)
    snap_rows = [
        SnapshotRow(
            unit_id=r["unit_id"],
            category=r.get("category") or "",
            grade=r.get("grade"),
            rank=r.get("rank"),
            of=r.get("of"),
            total=float(r.get("total") or 0.0),
            unit_kind=kinds.get(r["unit_id"], ""),
            last_place=bool(r.get("last_place")),
            vetoed=bool(r.get("vetoed")),
        )
        for r in rows
    ]
    period = rec["period"]
    snapshot = Snapshot(rec["scheme_id"], period, rec["snapshot_id"], rec["digest"], snap_rows)
    end = Period.parse(period).end
    roster = list(map(Cadre._make, await registry.roster(conn, ids, end, period)))
    paths = {r["unit_id"]: r["unit_path"] for r in rows}
    pools = await registry.pools(conn, ids, period)
    return Inputs(rec, rec["assessing_unit"], rec["year"], snapshot, roster, paths, pools)


async def history_of(conn: asyncpg.Connection, inp: Inputs, rules: RuleSet) -> History:
    back = depth(rules)
    if back == 0:
        return History()
    p = Period.parse(inp.snapshot.period)
    periods: list[str] = []
    for _ in range(back):
        p = p.previous()
        periods.append(str(p))
    by_unit: dict[str, list[UnitPast]] = {}
    for period, rows in await snapshots.past(conn, inp.assessing_unit, periods):
        for r in rows:
            by_unit.setdefault(r["unit_id"], []).append(
                UnitPast(period, r.get("grade"), r.get("rank"), r.get("of"), bool(r.get("last_place")))
            )
    by_person: dict[str, list[PersonPast]] = {}
    for r in await registry.person_grades(conn, [c.person_key for c in inp.roster], periods):
        by_person.setdefault(r["person_key"], []).append(PersonPast(r["period"], r["grade"]))
    return History(units=by_unit, persons=by_person)


async def active_rules(conn: asyncpg.Connection, assessing_unit: str, year: int) -> RuleSet | None:
    row = await rulesets.get(conn, assessing_unit, year, None)
    return of_record(row) if row is not None else None


async def compute(
    conn: asyncpg.Connection, snapshot_id: str, *, levels: int, rows: list[dict[str, Any]] | None = None
) -> tuple[int, ProposalList] | None:
    """Apply the active rule set to a stored snapshot and store the set; None when no rule set is active.
    `rows`: the snapshot's rows when the caller has them in hand (the consumer), not read back."""
    inp = await inputs_of(conn, snapshot_id, rows)
    rules = await active_rules(conn, inp.assessing_unit, inp.year)
    if rules is None:
        log.info("rewards.apply.no_ruleset", snapshot_id=snapshot_id, assessing_unit=inp.assessing_unit)
        return None
    history = await inp.history(conn, rules)
    result = apply(inp.snapshot, rules=rules, roster=inp.roster, history=history, pools=inp.pools)
    set_id = await store(conn, inp, rules, result, levels=levels)
    await rulesets.mark_used(conn, (rules.assessing_unit, rules.year, rules.version))
    log.info(
        "rewards.apply.stored",
        set_id=set_id,
        snapshot_id=snapshot_id,
        lines=len(result.lines),
        units=len(result.pools),
        problems=len(result.problems),
        pool_error_fen=result.pool_error_fen(),
    )
    return set_id, result


async def store(
    conn: asyncpg.Connection, inp: Inputs, rules: RuleSet, result: ProposalList, *, levels: int
) -> int:
    pools = result.pools.values()
    snap = inp.snapshot
    set_id = await repo.insert_set(
        conn,
        scheme_id=snap.scheme_id,
        assessing_unit=inp.assessing_unit,
        period=snap.period,
        snapshot_id=snap.snapshot_id,
        snapshot_digest=snap.digest,
        ruleset_year=rules.year,
        ruleset_version=rules.version,
        ruleset_ref=rules.ref,
        ruleset_digest=rules.digest,
        levels=levels,
        lines=len(result.lines),
        units=len(result.pools),
        pool_fen=sum(b.pool_fen for b in pools),
        paid_fen=sum(b.paid_fen for b in pools),
        withheld_fen=sum(b.withheld_fen for b in pools),
    )
    await repo.supersede_open(conn, inp.assessing_unit, snap.scheme_id, snap.period, set_id)
    await repo.copy_units(
        conn,
        [
            (set_id, b.unit_id, inp.paths.get(b.unit_id, "/"), b.pool_fen, b.paid_fen, b.withheld_fen)
            for b in pools
        ],
    )
    await repo.copy_lines(
        conn, _records(set_id, result)
    )  # an async iterable: encoded while PostgreSQL writes
    if result.problems:
        await repo.insert_problems(conn, set_id, result.problems)
    return set_id


CHUNK = 20_000


async def _records(set_id: int, result: ProposalList) -> AsyncIterator[tuple[Any, ...]]:
    """The lines as COPY records, a chunk at a time (the server ingests one while the next is built)."""
    lines = result.lines
    for start in range(0, len(lines), CHUNK):
        for r in _chunk(set_id, lines, start):
            yield r
        await asyncio.sleep(0)


def _chunk(set_id: int, lines: Sequence[Line], start: int) -> list[tuple[Any, ...]]:
    return [
        (
            set_id,
            n,
            x.subject,
            x.unit_id,
            x.person_key,
            x.kind,
            x.consequence,
            x.rule_id,
            x.basis,
            x.amount_fen,
            x.amount_fen,
            dumps(x.inputs),
            False,
        )
        for n, x in enumerate(lines[start : start + CHUNK], start + 1)
    ]
