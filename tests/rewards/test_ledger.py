"""The ledger (实绩档案) is append-only and tamper-evident, and exports for 备案 carry its chain."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from kaohe.db import asyncpg_dsn
from tests.rewards.scenario import Q1, activate, registry
from tests.support.rewards import OFFICE, ORG, Rewards


async def _approved(rw: Rewards) -> dict[str, str]:
    sid = await rw.scheme()
    keys = await registry(rw)
    await activate(rw)
    snap = await rw.publish(sid, "2026-Q1", Q1)
    s = await rw.current_set(snap.snapshot_id)
    one = await rw.call(
        "proposal_set_approve", {"set_id": s["set_id"], "expected_version": 1, "level": 1}, OFFICE
    )
    await rw.call(
        "proposal_set_approve", {"set_id": s["set_id"], "expected_version": one["version"], "level": 2}, ORG
    )
    return keys


async def test_updates_and_deletes_are_refused_and_tampering_is_found(
    rewards: Rewards, database_url: str
) -> None:
    rw = rewards
    keys = await _approved(rw)
    assert (await rw.call("ledger_verify", {}, ORG))["ok"]
    holder = f"person:{keys['A']}"
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("UPDATE rewards.ledger SET payload = payload WHERE holder = $1", holder)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("DELETE FROM rewards.ledger WHERE holder = $1", holder)
        # someone with the power to switch the trigger off edits an amount in place
        await conn.execute("ALTER TABLE rewards.ledger DISABLE TRIGGER ledger_append_only")
        await conn.execute(
            "UPDATE rewards.ledger SET payload = jsonb_set(payload, '{amount_fen}', '9999999')"
            " WHERE holder = $1",
            holder,
        )
        await conn.execute("ALTER TABLE rewards.ledger ENABLE TRIGGER ledger_append_only")
    finally:
        await conn.close()
    one = await rw.call("ledger_verify", {"person_key": keys["A"]}, ORG)
    assert (one["ok"], one["faults"]) == (False, [{"holder": holder, "at": 0, "reason": "modified"}])
    every = await rw.call("ledger_verify", {}, ORG)
    assert not every["ok"] and [f["holder"] for f in every["faults"]] == [holder]
    b = await rw.call("ledger_verify", {"person_key": keys["B"]}, ORG)
    assert b["ok"] and b["entries"] == 1


async def test_a_cut_off_chain_is_found_against_its_head(rewards: Rewards, database_url: str) -> None:
    rw = rewards
    keys = await _approved(rw)
    holder = f"person:{keys['C']}"  # pay 0 and 提醒谈话: two entries
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute("ALTER TABLE rewards.ledger DISABLE TRIGGER ledger_append_only")
        await conn.execute("DELETE FROM rewards.ledger WHERE holder = $1 AND seq = 1", holder)
        await conn.execute("ALTER TABLE rewards.ledger ENABLE TRIGGER ledger_append_only")
    finally:
        await conn.close()
    got = await rw.call("ledger_verify", {"person_key": keys["C"]}, ORG)
    assert (got["ok"], got["faults"][0]["reason"]) == (False, "truncated")


@pytest.mark.parametrize(("fmt", "magic"), [("xlsx", b"PK"), ("pdf", b"%PDF")])
async def test_ledger_export_for_filing(rewards: Rewards, fmt: str, magic: bytes) -> None:
    rw = rewards
    await _approved(rw)
    got = await rw.call("ledger_export", {"unit_id": "140501", "format": fmt}, ORG)
    # 甲镇: its pool, withheld, released, and 先进单位
    assert got["rows"] == 4 and got["filename"].endswith(f".{fmt}")
    async with httpx.AsyncClient() as http:
        body = (await http.get(got["url"])).content
    assert body.startswith(magic) and len(body) == got["bytes"]
