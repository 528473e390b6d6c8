"""Ledger use cases (实绩档案): a unit's or a person's entries in chain order, and verification.

A unit's ledger is read by readers and the unit's own people covering it; a person's by readers covering
a unit they held a post in, and by the person. `verify` re-hashes each chain and compares its end with
the stored head, so an edited, removed or cut-off entry is reported.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from kaohe.contracts.pages import decode_cursor, encode_cursor
from kaohe.contracts.paths import bounds
from kaohe.contracts.rewards import LedgerByUnits, LedgerPerson, LedgerUnit, LedgerVerify
from kaohe.errors import NotFound
from kaohe.identity import Caller
from services.rewards.domain.ledger import verify_holder
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import ledger as repo
from services.rewards.repository import units
from services.rewards.service import access
from services.rewards.service.registry import may_read_person


async def _page(
    conn: asyncpg.Connection, holder: str, period: str | None, after: str | None, first: int
) -> dict[str, Any]:
    key = decode_cursor(after, 1)
    rows = await repo.page(conn, holder, period=period, after=int(key[0]) if key else -1, limit=first + 1)
    items = [repo.public(r) for r in rows[:first]]
    more = len(rows) > first
    return {"items": items, "next": encode_cursor(items[-1]["seq"]) if more and items else None}


async def unit_page(conn: asyncpg.Connection, caller: Caller, p: LedgerUnit) -> dict[str, Any]:
    if not access.reads_units(caller):
        caller.require(*access.READERS)
    await access.unit_path(conn, caller, p.unit_id)
    return await _page(conn, f"unit:{p.unit_id}", p.period, p.after, p.first)


async def person_page(conn: asyncpg.Connection, caller: Caller, p: LedgerPerson) -> dict[str, Any]:
    if not await may_read_person(conn, caller, p.person_key):
        raise NotFound(f"person {p.person_key} not found", field="person_key", code=E.NOT_FOUND)
    return await _page(conn, f"person:{p.person_key}", p.period, p.after, p.first)


async def by_units(
    conn: asyncpg.Connection, caller: Caller, p: LedgerByUnits
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in p.ids}
    if not access.reads_units(caller):
        return out
    paths = await units.paths_of(conn, p.ids)
    mine = [i for i in p.ids if i in paths and caller.covers(paths[i])]
    for r in await repo.newest(conn, [f"unit:{i}" for i in mine], p.last):
        out[r["holder"][5:]].append(repo.public(r))
    for v in out.values():
        v.sort(key=lambda e: -e["seq"])
    return out


async def verify(conn: asyncpg.Connection, caller: Caller, p: LedgerVerify) -> dict[str, Any]:
    access.require(caller, *access.MANAGERS)
    if p.unit_id is not None:
        await access.unit_path(conn, caller, p.unit_id)
        holders = [f"unit:{p.unit_id}"]
    elif p.person_key is not None:
        if not await may_read_person(conn, caller, p.person_key):
            raise NotFound(f"person {p.person_key} not found", field="person_key", code=E.NOT_FOUND)
        holders = [f"person:{p.person_key}"]
    else:
        holders = await repo.holders_under(conn, *bounds(caller.org_path))
    faults: list[dict[str, Any]] = []
    entries = 0
    for h in holders:
        chain, head = await repo.chain(conn, h)
        entries += len(chain)
        v = verify_holder(chain, head=head)
        if v.ok and head is None and chain:
            faults.append({"holder": h, "at": len(chain) - 1, "reason": "head"})
        elif not v.ok:
            faults.append(
                {
                    "holder": h,
                    "at": v.broken_at if v.broken_at is not None else 0,
                    "reason": v.reason or "modified",
                }
            )
    return {"ok": not faults, "holders": len(holders), "entries": entries, "faults": faults}
