"""Reads of proposal sets (拟运用清单): sets with problems and reviews, lines with their explanations.

Sets belong to an assessing unit: readers covering it see them. A unit's own people (and readers who
cover the unit but not the assessing unit) see the lines of units in their subtree, asking by `unit_id`.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from kaohe.contracts.pages import decode_cursor, encode_cursor
from kaohe.contracts.rewards import ProposalLines, ProposalsCompute, ProposalSetsList, SnapshotsList
from kaohe.errors import Forbidden, NotFound
from kaohe.identity import Caller
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import proposals as repo
from services.rewards.repository import snapshots
from services.rewards.repository.connection import js
from services.rewards.service import access
from services.rewards.service.explain import explain


async def set_public(conn: asyncpg.Connection, row: asyncpg.Record) -> dict[str, Any]:
    d = dict(row)
    d["pool_error_fen"] = abs(d["pool_fen"] - d["paid_fen"] - d["withheld_fen"])
    d["problems"] = [{**dict(p), "data": js(p["data"])} for p in await repo.problems(conn, row["set_id"])]
    d["reviews"] = [
        {
            "level": r["level"],
            "decision": r["decision"],
            "by": r["by_user"],
            "at": r["at"],
            "comment": r["comment"],
        }
        for r in await repo.reviews(conn, row["set_id"])
    ]
    return d


async def readable_set(conn: asyncpg.Connection, caller: Caller, set_id: int) -> asyncpg.Record:
    row = await repo.get_set(conn, set_id)
    if row is None or not await access.covers_assessing(conn, caller, row["assessing_unit"]):
        raise NotFound(f"proposal set {set_id} not found", field="set_id", code=E.NOT_FOUND)
    return row


async def get(conn: asyncpg.Connection, caller: Caller, set_id: int) -> dict[str, Any]:
    access.require(caller, *access.READERS)
    return await set_public(conn, await readable_set(conn, caller, set_id))


async def sets(conn: asyncpg.Connection, caller: Caller, p: ProposalSetsList) -> dict[str, Any]:
    access.require(caller, *access.READERS)
    key = decode_cursor(p.after, 1)
    before = int(key[0]) if key else None
    items: list[dict[str, Any]] = []
    while len(items) <= p.first:
        rows = await repo.sets_page(
            conn, assessing_unit=p.assessing_unit, period=p.period, status=p.status, before=before, limit=200
        )
        for r in rows:
            before = r["set_id"]
            if not await access.covers_assessing(conn, caller, r["assessing_unit"]):
                continue
            if p.awaiting_me and not (
                r["status"] in ("pending", "reviewed") and caller.has(*access.MANAGERS)
            ):
                continue
            items.append(await set_public(conn, r))
            if len(items) > p.first:
                break
        if len(rows) < 200:
            break
    more = len(items) > p.first
    items = items[: p.first]
    return {"items": items, "next": encode_cursor(items[-1]["set_id"]) if more else None}


async def lines(conn: asyncpg.Connection, caller: Caller, p: ProposalLines) -> dict[str, Any]:
    row = await repo.get_set(conn, p.set_id)
    if row is None:
        raise NotFound(f"proposal set {p.set_id} not found", field="set_id", code=E.NOT_FOUND)
    whole = caller.has(*access.READERS) and await access.covers_assessing(conn, caller, row["assessing_unit"])
    if not whole:
        if not access.reads_units(caller):
            raise Forbidden("reading proposal lines needs a reader role", code=E.FORBIDDEN_ROLE)
        if p.unit_id is None:
            raise NotFound(f"proposal set {p.set_id} not found", field="set_id", code=E.NOT_FOUND)
        await access.unit_path(conn, caller, p.unit_id)
    key = decode_cursor(p.after, 1)
    got = await repo.lines_page(
        conn,
        p.set_id,
        unit_id=p.unit_id,
        person_key=p.person_key,
        kind=p.kind,
        after=int(key[0]) if key else 0,
        limit=p.first + 1,
    )
    items = [line_public(r, row) for r in got[: p.first]]
    more = len(got) > p.first
    return {"items": items, "next": encode_cursor(items[-1]["line_id"]) if more and items else None}


def line_public(r: asyncpg.Record, s: asyncpg.Record) -> dict[str, Any]:
    d = dict(r)
    d["inputs"] = js(d["inputs"])
    d["line_id"] = d.pop("line_no")
    d["period"] = s["period"]
    d["snapshot_digest"] = s["snapshot_digest"]
    d["explanation"] = explain(d)
    return d


async def snapshot_page(conn: asyncpg.Connection, caller: Caller, p: SnapshotsList) -> dict[str, Any]:
    access.require(caller, *access.READERS)
    key = decode_cursor(p.after, 1)
    rows = await snapshots.page(
        conn, scheme_id=p.scheme_id, period=p.period, after=key[0] if key else None, limit=p.first + 1
    )
    items = []
    for r in rows[: p.first]:
        au = r["assessing_unit"]
        if au is None and caller.org_path != "/":
            continue
        if au is not None and not await access.covers_assessing(conn, caller, au):
            continue
        items.append(dict(r))
    more = len(rows) > p.first
    return {"items": items, "next": encode_cursor(rows[p.first - 1]["snapshot_id"]) if more else None}


async def require_compute(conn: asyncpg.Connection, caller: Caller, p: ProposalsCompute) -> None:
    access.require(caller, *access.MANAGERS)
    rec = await snapshots.get(conn, p.snapshot_id)
    if rec is None or (
        rec["assessing_unit"] and not await access.covers_assessing(conn, caller, rec["assessing_unit"])
    ):
        raise NotFound(f"snapshot {p.snapshot_id} not found", field="snapshot_id", code=E.NOT_FOUND)
