"""What-if (模拟测算) writes nothing and shows who gains and who loses; payroll files of approved pay."""

from __future__ import annotations

import csv
import io

import asyncpg
import httpx
from openpyxl import load_workbook

from kaohe.db import asyncpg_dsn
from tests.rewards.scenario import HOLD, Q1, QPAY, RULES, activate, registry
from tests.support.rewards import HR, OFFICE, ORG, Rewards

TABLES = ("ruleset", "snapshot", "proposal_set", "proposal_line", "proposal_review", "ledger", "outbox")


async def _counts(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        return {t: await conn.fetchval(f"SELECT count(*) FROM rewards.{t}") for t in TABLES}
    finally:
        await conn.close()


async def test_whatif_compares_draft_rules_and_writes_nothing(rewards: Rewards, database_url: str) -> None:
    rw = rewards
    sid = await rw.scheme()
    keys = await registry(rw)
    await activate(rw)
    snap = await rw.publish(sid, "2026-Q1", Q1)
    await rw.current_set(snap.snapshot_id)
    # the draft: 优秀 +20% instead of +10%, and no 末位零绩效
    draft = [{**QPAY, "adjust": {"优秀": "0.20", "较差": "-0.10"}}] + [
        r for r in RULES if r["id"] not in ("qpay", "zero")
    ]
    stored = await rw.call("ruleset_create", {"assessing_unit": "1405", "year": 2026, "rules": draft}, ORG)
    before = await _counts(database_url)
    got = await rw.call("whatif_run", {"snapshot_id": snap.snapshot_id, "version": stored["version"]}, ORG)
    assert await _counts(database_url) == before
    assert (got["current_ref"], got["draft_ref"]) == ("1405/2026/v1", "1405/2026/v2")
    delta = {c["holder"]: c["delta_fen"] for c in got["gainers"] + got["losers"]}
    # 丙镇 no longer zeroed: C gets its pool less 20% withheld and not released (较差): 720,000
    assert delta[f"person:{keys['C']}"] == 720_000
    # 甲镇: A's weight 1,500,000 × 1.2 = 1,800,000 against B's 900,000 → 1,920,000 / 960,000
    assert delta[f"person:{keys['A']}"] == 1_920_000 - 1_863_529
    assert delta[f"person:{keys['B']}"] == 960_000 - 1_016_471
    assert [c["holder"] for c in got["gainers"]][:1] == [f"person:{keys['C']}"]
    assert f"person:{keys['B']}" in [c["holder"] for c in got["losers"]]
    assert got["pool_error_fen"] == 0 and got["unbalanced_units"] == []
    assert (
        got["paid_after_fen"] - got["paid_before_fen"] == 720_000 - 180_000 * 0
    )  # 甲镇 and 乙镇 unchanged totals
    inline = await rw.call("whatif_run", {"snapshot_id": snap.snapshot_id, "rules": [HOLD], "top": 1}, ORG)
    assert inline["draft_ref"] == "1405/2026/inline" and len(inline["gainers"]) <= 1
    assert await _counts(database_url) == before


async def test_payroll_export_of_approved_pay(rewards: Rewards) -> None:
    rw = rewards
    sid = await rw.scheme()
    keys = await registry(rw)
    # a name a spreadsheet would run as a formula is written as text
    await rw.call("person_upsert", {"id_number": "110101199001011234", "name": "=HYPERLINK(1)"}, HR)
    await activate(rw)
    snap = await rw.publish(sid, "2026-Q1", Q1)
    s = await rw.current_set(snap.snapshot_id)
    err = await rw.error("payroll_export", {"set_id": s["set_id"]}, ORG)
    assert err.code == "set_closed"  # not approved yet
    one = await rw.call(
        "proposal_set_approve", {"set_id": s["set_id"], "expected_version": 1, "level": 1}, OFFICE
    )
    await rw.call(
        "proposal_set_approve", {"set_id": s["set_id"], "expected_version": one["version"], "level": 2}, ORG
    )
    got = await rw.call("payroll_export", {"set_id": s["set_id"], "format": "csv"}, ORG)
    assert got["rows"] == 4
    async with httpx.AsyncClient() as http:
        body = (await http.get(got["url"])).content
    assert body.startswith("\ufeff".encode()) and len(body) == got["bytes"]
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {r["人员编码"]: int(r["金额(分)"]) for r in rows}[keys["A"]] == 1_863_529
    a = next(r for r in rows if r["人员编码"] == keys["A"])
    assert (a["姓名"], a["金额(元)"], a["期间"]) == ("'=HYPERLINK(1)", "18635.29", "2026-Q1")
    one_unit = await rw.call(
        "payroll_export", {"set_id": s["set_id"], "format": "xlsx", "unit_id": "140501"}, ORG
    )
    async with httpx.AsyncClient() as http:
        xlsx = (await http.get(one_unit["url"])).content
    sheet = load_workbook(io.BytesIO(xlsx)).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "人员编码" and len(values) == 3  # header + A and B of 甲镇
    assert {v[0]: v[6] for v in values[1:]} == {keys["A"]: 1_863_529, keys["B"]: 1_016_471}
