"""The cadre registry (干部名册): posts over time, imports checked then committed, names for the entitled."""

from __future__ import annotations

import base64
import io
import logging

import asyncpg
import pytest
from openpyxl import Workbook

from kaohe.db import asyncpg_dsn
from kaohe.identity import Caller, Role
from tests.rewards.scenario import PEOPLE, Q1, activate, registry
from tests.support.rewards import HR, OFFICE, ORG, REPORTER, Rewards

HEAD = "身份证号,姓名,单位代码,职务类别,职级,月绩效基数(元),任职日期,登录账号,期间,个人等次"


def b64(text: str) -> str:
    return base64.b64encode(("\ufeff" + text).encode()).decode()


async def test_a_move_keeps_the_history_and_the_roster_follows_the_date(rewards: Rewards) -> None:
    rw = rewards
    await rw.scheme()
    keys = await registry(rw)
    moved = await rw.call(
        "post_upsert",
        {"person_key": keys["B"], "unit_id": "140502", "post": "班子成员", "rank": "副科",
         "monthly_pay_fen": 350000, "valid_from": "2026-04-01"},
        HR,
    )  # fmt: skip
    assert moved["unit_path"] == "/14/1405/140502/"
    person = await rw.call("person_get", {"person_key": keys["B"]}, ORG)
    assert [(p["unit_id"], p["valid_from"], p["valid_to"]) for p in person["posts"]] == [
        ("140501", "2025-01-01", "2026-04-01"),
        ("140502", "2026-04-01", None),
    ]
    march = await rw.call("cadres_list", {"unit_id": "140501", "as_of": "2026-03-31"}, ORG)
    april = await rw.call("cadres_list", {"unit_id": "140501", "as_of": "2026-04-01"}, ORG)
    assert keys["B"] in {c["person_key"] for c in march["items"]}
    assert keys["B"] not in {c["person_key"] for c in april["items"]}
    # names: 组织部 sees them; a unit's reporter sees the roster without names; the person sees their own
    assert {c["name"] for c in april["items"]} == {"张三丰"}
    rep = await rw.call("cadres_list", {"unit_id": "140501"}, REPORTER)
    assert rep["items"] and {c["name"] for c in rep["items"]} == {None}
    me = Caller(user_id="acct-B", roles=frozenset({Role.reporter}), org_path="/14/1405/140599/")
    assert (await rw.call("person_get", {"person_key": keys["B"]}, me))["name"] == "李四"
    err = await rw.error("person_get", {"person_key": keys["A"]}, me)
    assert err.code == "not_found"
    # the same ID number again is the same person (matched by its keyed hash)
    again = await rw.call("person_upsert", {"id_number": PEOPLE["B"][0], "name": "李四"}, HR)
    assert (again["person_key"], again["created"]) == (keys["B"], False)


async def test_import_dry_run_names_each_bad_cell_then_commits_all(rewards: Rewards) -> None:
    rw = rewards
    await rw.scheme()
    keys = await registry(rw)
    bad = "\n".join([
        HEAD,
        "110101199505055678,孙七,140504,一般干部,科员,2800.50,2026-01-01,,2026-Q1,优秀",
        "12345,周八,140599,副职,科员,abc,2026-13-01,,,",
        f"{PEOPLE['D'][0]},赵六,140503,主要负责人,正科,4200,2026-04-01,,,",
    ])  # fmt: skip
    report = await rw.call("cadre_import_dry_run", {"filename": "名册.csv", "content_b64": b64(bad)}, HR)
    assert (report["rows"], report["valid"], report["committed"]) == (3, 2, False)
    assert [(p["row"], p["field"]) for p in report["problems"]] == [
        (2, "任职日期"),
        (2, "单位代码"),
        (2, "月绩效基数(元)"),
        (2, "职务类别"),
        (2, "身份证号"),
    ]
    assert not any("12345" in p["message"] or "周八" in p["message"] for p in report["problems"])
    err = await rw.error(
        "cadre_import_commit",
        {"filename": "名册.csv", "content_b64": b64(bad), "expected_digest": report["digest"]},
        HR,
    )
    assert err.code == "import_invalid"
    good = "\n".join(bad.splitlines()[:2] + bad.splitlines()[3:])
    report = await rw.call("cadre_import_dry_run", {"filename": "名册.csv", "content_b64": b64(good)}, HR)
    assert (report["problems"], report["new_persons"], report["new_posts"], report["grades"]) == ([], 1, 2, 1)
    err = await rw.error(
        "cadre_import_commit",
        {"filename": "名册.csv", "content_b64": b64(bad), "expected_digest": report["digest"]},
        HR,
    )
    assert err.code == "import_changed"
    done = await rw.call(
        "cadre_import_commit",
        {"filename": "名册.csv", "content_b64": b64(good), "expected_digest": report["digest"]},
        HR,
    )
    assert done["committed"]
    d = await rw.call("person_get", {"person_key": keys["D"]}, ORG)
    assert [(p["unit_id"], p["post"], p["valid_to"]) for p in d["posts"]] == [
        ("140502", "一般干部", "2026-04-01"),
        ("140503", "主要负责人", None),
    ]
    new = await rw.call("cadres_list", {"unit_id": "140504"}, ORG)
    assert [(c["name"], c["monthly_pay_fen"]) for c in new["items"]] == [("孙七", 280050)]


async def test_an_xlsx_roster_reads_like_the_csv(rewards: Rewards) -> None:
    rw = rewards
    await rw.scheme()
    wb = Workbook()
    ws = wb.active
    ws.append(HEAD.split(","))
    ws.append(["110101199505055678", "孙七", "140504", "一般干部", "科员", 2800.5, "2026-01-01"])
    buf = io.BytesIO()
    wb.save(buf)
    content = base64.b64encode(buf.getvalue()).decode()
    report = await rw.call("cadre_import_dry_run", {"filename": "名册.xlsx", "content_b64": content}, HR)
    assert (report["rows"], report["valid"], report["new_persons"]) == (1, 1, 1)


async def test_identifiers_never_reach_events_or_logs(
    rewards: Rewards, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rw = rewards
    sid = await rw.scheme()
    await registry(rw)
    await activate(rw)
    snap = await rw.publish(sid, "2026-Q1", Q1)
    s = await rw.current_set(snap.snapshot_id)
    one = await rw.call(
        "proposal_set_approve", {"set_id": s["set_id"], "expected_version": 1, "level": 1}, OFFICE
    )
    await rw.call(
        "proposal_set_approve", {"set_id": s["set_id"], "expected_version": one["version"], "level": 2}, ORG
    )
    await rw.error("person_upsert", {"id_number": "not-a-number", "name": "钱九"}, HR)
    secrets = [v for p in PEOPLE.values() for v in (p[0], p[1])] + ["钱九", "acct-A"]
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        outbox = [
            bytes(r["envelope"]).decode() for r in await conn.fetch("SELECT envelope FROM rewards.outbox")
        ]
        ledger = [r["payload"] for r in await conn.fetch("SELECT payload::text FROM rewards.ledger")]
    finally:
        await conn.close()
    assert any("kaohe.rewards.pay.approved" in e for e in outbox)
    logs = [f"{r.getMessage()} {r.__dict__.get('kv')}" for r in caplog.records]
    assert any("rewards.apply.stored" in line for line in logs)
    for text in outbox + ledger + logs:
        assert not [x for x in secrets if x in text], text[:200]
