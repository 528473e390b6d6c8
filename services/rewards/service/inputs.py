"""Inputs from other services (输入): units and schemes from indicators, published snapshots from scoring.

A snapshot is stored once (a duplicate event, or the same scheme, period and digest again, changes
nothing); a re-published period (same scheme and period, a new digest after an upheld objection)
supersedes the earlier snapshot and is applied anew — its approval then reverses and re-enters the ledger.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe import logs
from kaohe.contracts.indicators import SchemePublished, UnitChanged
from kaohe.contracts.rewards import ProposalAwaiting
from kaohe.contracts.scoring import ResultsPublished
from kaohe.events import Outbox
from services.rewards.repository import proposals, snapshots, units
from services.rewards.repository.connection import raw
from services.rewards.service import application

log = logs.get("rewards.inputs")


async def unit_changed(s: AsyncSession, e: UnitChanged) -> None:
    conn = await raw(s)
    v = e.version
    if await units.upsert(conn, e.unit_id, v.path, v.name, e.revision) and e.previous is not None:
        await units.move_subtree(conn, e.previous.path, v.path)


async def scheme_published(
    s: AsyncSession, e: SchemePublished, *, outbox: Outbox, levels: int, apply_now: bool
) -> None:
    conn = await raw(s)
    await units.upsert_scheme(conn, e.scheme_id, e.assessing_unit, e.year)
    await units.seen(conn, [(u.unit_id, u.path, u.name) for u in e.units])
    marker = f"/{e.assessing_unit}/"
    for u in e.units:  # the assessing unit's own path, when no unit.changed named it
        if marker in u.path:
            await units.seen(conn, [(e.assessing_unit, u.path[: u.path.index(marker) + len(marker)], None)])
            break
    if apply_now:
        for snapshot_id in await snapshots.waiting_for_scheme(conn, e.scheme_id):
            await apply(s, snapshot_id, outbox=outbox, levels=levels)


async def results_published(
    s: AsyncSession, e: ResultsPublished, *, outbox: Outbox, levels: int, apply_now: bool
) -> None:
    conn = await raw(s)
    rows = [u.model_dump(mode="json") for u in e.units]
    if not await snapshots.insert(
        conn, snapshot_id=e.snapshot_id, scheme_id=e.scheme_id, period=e.period, digest=e.digest, rows=rows
    ):
        log.info("rewards.snapshot.duplicate", snapshot_id=e.snapshot_id)
        return
    await units.seen(conn, [(u.unit_id, u.unit_path, None) for u in e.units])
    replaced = await snapshots.supersede_others(conn, e.snapshot_id, e.scheme_id, e.period)
    log.info("rewards.snapshot.stored", snapshot_id=e.snapshot_id, units=len(rows), supersedes=replaced)
    if apply_now and await units.scheme_of(conn, e.scheme_id) is not None:
        await apply(s, e.snapshot_id, outbox=outbox, levels=levels, rows=rows)


async def apply(
    s: AsyncSession,
    snapshot_id: str,
    *,
    outbox: Outbox,
    levels: int,
    rows: list[dict[str, Any]] | None = None,
) -> int | None:
    """Compute and store a snapshot's proposals and announce the set awaiting review; None: no rules."""
    conn = await raw(s)
    got = await application.compute(conn, snapshot_id, levels=levels, rows=rows)
    if got is None:
        return None
    set_id, result = got
    await announce(s, conn, outbox, set_id, problems=len(result.problems))
    return set_id


async def announce(
    s: AsyncSession, conn: asyncpg.Connection, outbox: Outbox, set_id: int, *, problems: int
) -> None:
    """`proposal.awaiting` for the level a set now waits for."""
    row = await proposals.get_set(conn, set_id)
    assert row is not None
    path = await units.path_of(conn, row["assessing_unit"])
    payload = ProposalAwaiting(
        set_id=set_id,
        assessing_unit=row["assessing_unit"],
        assessing_path=path,
        scheme_id=row["scheme_id"],
        period=row["period"],
        level=row["level"] + 1,
        levels=row["levels"],
        lines=row["lines"],
        problems=problems,
    )
    await outbox.emit(s, payload.event(subject=f"{row['assessing_unit']}:{row['period']}"))
