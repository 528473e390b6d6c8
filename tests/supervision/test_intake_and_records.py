"""Intake (办不成事 / 12345): dedupe by client key, the phone encrypted at rest and masked except for the
office, assignment of the pending item; the timeline's tamper evidence; XLSX import and export."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from kaohe.errors import KaoheError
from kaohe.identity import Caller, Role
from tests.supervision.harness import LEAD, LEADER, OFFICE, SYSTEM, Sup, future

KIOSK = Caller(
    user_id="kiosk",
    roles=frozenset({Role.integration}),
    org_path="/",
    scopes=frozenset({"supervision:intake"}),
)
NO_SCOPE = Caller(user_id="kiosk2", roles=frozenset({Role.integration}), org_path="/")


def complaint(**over: Any) -> dict[str, Any]:
    p = {
        "channel": "window",
        "text": "营业执照变更跑了三趟没办成",
        "category": "营商环境",
        "office_id": "1405",
        "contact_phone": "13812345678",
        "contact_name": "张三",
        "client_key": "kiosk-0001-abcdef",
        "callback_url": "https://kiosk.example/callback/1",
    }
    return p | over


async def test_intake_is_deduplicated_encrypted_masked_and_assignable(sup: Sup) -> None:
    first = await sup.call("intake_create", complaint(), KIOSK)
    again = await sup.call("intake_create", complaint(text="重复提交"), KIOSK)
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert again["item_id"] == first["item_id"] and first["status"] == "draft"
    (row,) = await sup.sql("SELECT contact_phone FROM item WHERE id = :i", i=first["item_id"])
    assert b"13812345678" not in bytes(row["contact_phone"])  # encrypted at rest
    office = await sup.call("item_get", {"item_id": first["item_id"]}, OFFICE)
    assert office["contact_phone"] == "13812345678" and office["source"] == "window"
    it = await sup.call(
        "item_assign",
        {
            "item_id": first["item_id"],
            "expected_version": office["version"],
            "lead": {"unit_id": "140501", "task": "协调办理", "deadline": future(20)},
            "deadline": future(20),
        },
        OFFICE,
    )
    assert it["status"] == "assigned" and it["lead"]["unit_id"] == "140501"
    unit = await sup.call("item_get", {"item_id": it["id"]}, LEAD)
    assert unit["contact_phone"] == "138****5678"
    leader = await sup.call("item_get", {"item_id": it["id"]}, LEADER)
    assert leader["contact_phone"] == "138****5678"
    assert all("13812345678" not in e.to_bytes().decode() for e in sup.events)  # never in an event
    with pytest.raises(KaoheError) as e:
        await sup.call("intake_create", complaint(client_key="kiosk-0002-abcdef"), NO_SCOPE)
    assert e.value.code == "forbidden_scope"
    other_city = KIOSK.model_copy(update={"org_path": "/14/1406/"})
    with pytest.raises(KaoheError) as e:
        await sup.call("intake_create", complaint(client_key="kiosk-0003-abcdef"), other_city)
    assert (e.value.code, e.value.field) == ("forbidden_scope", "office_id")


async def test_timeline_verify_detects_a_modified_row_and_the_table_refuses_updates(sup: Sup) -> None:
    it = await sup.create(
        deadline=future(30), lead={"unit_id": "140501", "task": "t", "deadline": future(30)}, cooperating=[]
    )
    it = await sup.call("item_accept", {"item_id": it["id"], "expected_version": 1}, LEAD)
    ok = await sup.call("timeline_verify", {"item_id": it["id"]})
    assert ok["ok"] is True and ok["entries"] == 2
    with pytest.raises(Exception, match="append-only"):
        await sup.sql("UPDATE entry SET payload = payload WHERE item_id = :i", i=it["id"])
    # someone with the database owner's rights switches the trigger off and rewrites who accepted
    await sup.sql("ALTER TABLE entry DISABLE TRIGGER entry_append_only")
    await sup.sql(
        "UPDATE entry SET payload = jsonb_set(payload, '{by}', '\"someone-else\"')"
        " WHERE item_id = :i AND seq = 2",
        i=it["id"],
    )
    bad = await sup.call("timeline_verify", {"item_id": it["id"]})
    assert (bad["ok"], bad["broken_at"], bad["reason"]) == (False, 2, "modified")


def sheet(rows: list[list[Any]]) -> str:
    wb = Workbook()
    ws = wb.active
    ws.append(
        [
            "编号",
            "标题",
            "问题",
            "来源",
            "来源依据",
            "牵头单位",
            "牵头任务",
            "配合单位",
            "配合任务",
            "时限",
            "举措",
            "缓急",
        ]
    )
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return base64.b64encode(buf.getvalue()).decode()


async def test_xlsx_dry_run_lists_every_problem_and_changes_nothing_then_round_trips(sup: Sup) -> None:
    d = future(40)
    good = [
        "督〔2026〕901号",
        "+积水治理",
        "问题一",
        "领导批示",
        "批示1",
        "140501",
        "牵头",
        "140502",
        "配合",
        d,
        "措施一;措施二",
        "特急",
    ]
    bad = [
        None,
        "",
        "问题二",
        "不知道",
        "批示2",
        "nope",
        "牵头",
        "140502、140503",
        "只有一条",
        "明天",
        None,
        None,
    ]
    report = await sup.call(
        "items_import", {"office_id": "1405", "content_base64": sheet([good, bad]), "dry_run": True}
    )
    assert report["rows"] == 2 and report["valid"] == 1, report["problems"]
    problems = {(p["row"], p["column"]) for p in report["problems"]}
    assert {(3, "标题"), (3, "来源"), (3, "时限"), (3, "配合任务")} <= problems
    committed = await sup.call(
        "items_import", {"office_id": "1405", "content_base64": sheet([good, bad]), "dry_run": False}
    )
    assert committed["created"] == []  # a file with problems commits nothing
    assert (await sup.call("item_list", {}, SYSTEM))["items"] == []
    ok = await sup.call(
        "items_import", {"office_id": "1405", "content_base64": sheet([good]), "dry_run": False}
    )
    assert len(ok["created"]) == 1
    out = await sup.call("items_export", {}, OFFICE)
    ws = load_workbook(io.BytesIO(base64.b64decode(out["content_base64"]))).active
    header, row = [c.value for c in ws[1]], [c.value for c in ws[2]]
    assert header[:3] == ["编号", "标题", "问题"] and row[0] == "督〔2026〕901号"
    assert row[1] == "'+积水治理"  # escaped: the spreadsheet shows text, runs nothing
    assert row[7] == "140502" and row[11] == "特急" and row[12] == "待签收"
