"""督办 clocks → the lead and cooperating units: 时限临近提醒 before each unit's own due day (on the
working-day calendar, once across restarts, again after an extension) and the changes they must act on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe.contracts.supervision import ItemChanged, ItemClosed, ItemOpened
from kaohe.identity import Role
from kaohe.workdays import CHINA_TZ
from services.notices.repository.connection import raw
from services.notices.service import items
from tests.conftest import Infra, Namespace, eventually
from tests.notices.harness import Clock, Notices, SmtpInbox, caller, recipient, running

OFFICE = caller("office-1405", Role.assessment_office, "/14/1405/")
LEAD, COOP, OTHER = "140501", "140502", "140503"
PEOPLE = [
    recipient("lead-head", LEAD, f"/14/1405/{LEAD}/", ["leader"]),
    recipient("lead-rep", LEAD, f"/14/1405/{LEAD}/", ["reporter"]),
    recipient("coop-rep", COOP, f"/14/1405/{COOP}/", ["reporter"]),
    recipient("other-rep", OTHER, f"/14/1405/{OTHER}/", ["reporter"]),
]
# 国庆 2026: 1–7 Oct off. The cooperating unit's part is due Thursday 8 Oct, the first working day after;
# one working day before it is Wednesday 30 Sep, not Wednesday 7 Oct (a holiday, one calendar day before).
TUESDAY = datetime(2026, 9, 29, 10, 0, tzinfo=CHINA_TZ)
WEDNESDAY = datetime(2026, 9, 30, 10, 0, tzinfo=CHINA_TZ)
HOLIDAY = datetime(2026, 10, 7, 10, 0, tzinfo=CHINA_TZ)
ITEM: dict[str, Any] = {
    "item_id": "item-12",
    "number": "督〔2026〕12号",
    "office_id": "1405",
    "office_path": "/14/1405/",
    "unit_ids": [LEAD, COOP],
    "unit_paths": [f"/14/1405/{LEAD}/", f"/14/1405/{COOP}/"],
    "source": "leader",
    "at": "2026-09-29T09:00:00+08:00",
}


def opened(**kw: Any) -> ItemOpened:
    return ItemOpened.model_validate(
        ITEM
        | {
            "status": "assigned",
            "version": 1,
            "title": "背街小巷整治",
            "deadline": "2026-10-30",
            "priority": "normal",
            "unit_deadlines": ["2026-10-30", "2026-10-08"],
        }
        | kw
    )


def changed(action: str, version: int, **kw: Any) -> ItemChanged:
    return ItemChanged.model_validate(
        ITEM
        | {
            "status": "in_progress",
            "version": version,
            "action": action,
            "from_status": "in_progress",
            "actor": "office",
            "deadline": "2026-10-30",
            "unit_deadlines": ["2026-10-30", "2026-10-08"],
        }
        | kw
    )


async def tracked(n: Notices, version: int) -> None:
    async def applied() -> bool:
        rows = await n.sql("SELECT version FROM item_watch WHERE item_id = 'item-12'")
        return bool(rows) and rows[0]["version"] >= version

    await eventually(applied, what=f"item event v{version} applied")


async def sweep(n: Notices, clock: Clock) -> list[str]:
    """The worker's own 督办 step, run here on the same database: the users it reminded."""
    assert n.rt.db is not None
    async with n.rt.db.uow() as s:
        pushed = await items.sweep(await raw(s), now=clock(), timing=n.rt.state["timing"], remind_workdays=1)
    return sorted(p.user_id for p in pushed)


async def dues(n: Notices) -> list[Any]:
    return await n.sql(
        "SELECT user_id, source, title, body FROM notice WHERE source LIKE 'due:%' ORDER BY source, user_id"
    )


async def test_a_part_due_after_a_holiday_is_reminded_the_working_day_before_to_its_unit_once(
    infra: Infra,
    database_url: str,
    ns: Namespace,
    nc: NATS,
    js: JetStreamContext,
    smtp: tuple[SmtpInbox, int],
) -> None:
    inbox, port = smtp
    clock = Clock(TUESDAY)
    async with running(infra, database_url, ns, nc, js, clock, port) as n:
        await n.call("recipients_import", {"recipients": PEOPLE}, OFFICE)
        await n.send(opened(), "item-12")
        await tracked(n, 1)
        # Tuesday: the 交办 notice, and no reminder yet (the worker's sweeps and this one find nothing)
        assert await sweep(n, clock) == []
        assert await dues(n) == []
        # Wednesday 30 Sep: the cooperating unit hears its part is due on 8 Oct; nobody else does
        clock.set(WEDNESDAY)

        async def reminded() -> bool:
            return len(await dues(n)) == 1

        await eventually(reminded, what="the cooperating unit's reminder")
        (row,) = await dues(n)
        assert row["user_id"] == "coop-rep" and row["source"] == "due:item-12:140502:2026-10-08"
        assert row["title"] == "时限临近：督办事项 督〔2026〕12号 10月8日到期"
        assert row["body"] == (
            "督办事项 督〔2026〕12号「背街小巷整治」贵单位（配合单位）的分项任务时限将于 "
            "2026年10月8日（星期四）到期，请抓紧办理并按时报送办理情况。"
        )

        async def mailed() -> bool:
            return any("时限临近" in m.subject for m in inbox.to("coop-rep@example.gov.cn"))

        await eventually(mailed, what="the reminder's email")
    # a restart on the holiday, still inside the reminder's window: nothing is written or sent again
    clock.set(HOLIDAY)
    async with running(infra, database_url, ns, nc, js, clock, port) as n:
        assert await sweep(n, clock) == []
        assert len(await dues(n)) == 1
    reminders = [m for m in inbox.mails if "时限临近" in m.subject]
    assert [m.to for m in reminders] == [["coop-rep@example.gov.cn"]]


@pytest_asyncio.fixture
async def quiet(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext, clock: Clock, smtp: Any
) -> AsyncIterator[Notices]:
    """Notices whose worker sweeps once at its start only: the sweeps below are the test's own."""
    clock.set(TUESDAY)
    async with running(infra, database_url, ns, nc, js, clock, smtp[1], remind_poll_s=3600) as n:
        yield n


async def test_an_extension_makes_a_new_due_day_and_a_closed_item_reminds_nobody(
    quiet: Notices, clock: Clock
) -> None:
    n = quiet
    await n.call("recipients_import", {"recipients": PEOPLE}, OFFICE)
    await n.send(opened(), "item-12")
    await tracked(n, 1)
    clock.set(WEDNESDAY)
    assert await sweep(n, clock) == ["coop-rep"]
    # 批准延期 of the part to Friday 16 Oct: every unit hears it, each with its own due day
    ext = await n.send(
        changed("approve_extension", 2, unit_deadlines=["2026-10-30", "2026-10-16"]), "item-12"
    )
    await tracked(n, 2)

    async def told() -> bool:
        return len(await n.sql("SELECT 1 FROM notice WHERE source = $1", ext.id)) == 3

    await eventually(told, what="the extension told to both units")
    rows = await n.sql("SELECT user_id, title, body FROM notice WHERE source = $1 ORDER BY user_id", ext.id)
    assert [r["user_id"] for r in rows] == ["coop-rep", "lead-head", "lead-rep"]
    assert {r["title"] for r in rows} == {"督办事项 督〔2026〕12号：延期已批准"}
    assert "贵单位（配合单位）办理时限：2026年10月16日（星期五）" in rows[0]["body"]
    assert "贵单位（牵头单位）办理时限：2026年10月30日（星期五）" in rows[1]["body"]
    assert "背街小巷整治" in rows[1]["body"]  # the title kept from item.opened
    # a progress report is no news to the other units
    progress = await n.send(changed("report_progress", 3, unit_deadlines=["2026-10-30", "2026-10-16"]), "x")
    await tracked(n, 3)
    assert await n.sql("SELECT 1 FROM notice WHERE source = $1", progress.id) == []
    # Thursday 15 Oct: the new due day's reminder (the old day's stays one)
    clock.set(datetime(2026, 10, 15, 10, 0, tzinfo=CHINA_TZ))
    assert await sweep(n, clock) == ["coop-rep"]
    assert [r["source"] for r in await dues(n)] == [
        "due:item-12:140502:2026-10-08",
        "due:item-12:140502:2026-10-16",
    ]
    # 销号 on 20 Oct: both units told; on 29 Oct, the day before the item's deadline, no reminder to the
    # lead — not even after an older event arrives late
    closing = ItemClosed.model_validate(
        ITEM | {"status": "closed", "version": 4, "outcome": "closed", "reason": "经核查已整改到位"}
    )
    shut = await n.send(closing, "item-12")
    await tracked(n, 4)

    async def ended() -> bool:
        return len(await n.sql("SELECT 1 FROM notice WHERE source = $1", shut.id)) == 3

    await eventually(ended, what="the closing told to both units")
    body = (await n.sql("SELECT body FROM notice WHERE source = $1 LIMIT 1", shut.id))[0]["body"]
    assert body == "督办事项 督〔2026〕12号「背街小巷整治」已销号（经核查已整改到位），无需继续办理。"
    late = await n.send(changed("report_progress", 3), "late-copy")
    await eventually(lambda: _consumed(n, late.id), what="the late event consumed")
    clock.set(datetime(2026, 10, 29, 10, 0, tzinfo=CHINA_TZ))
    assert await sweep(n, clock) == []
    assert [tuple(r) for r in await n.sql("SELECT open, version FROM item_watch")] == [(False, 4)]


async def test_a_part_handed_in_is_not_reminded_and_the_lead_hears_of_the_items_own_deadline(
    quiet: Notices, clock: Clock
) -> None:
    n = quiet
    await n.call("recipients_import", {"recipients": PEOPLE}, OFFICE)
    await n.send(opened(unit_deadlines=["2026-10-08", "2026-10-08"], deadline=date(2026, 10, 8)), "item-12")
    await n.send(
        changed(
            "submit_part",
            2,
            actor="cooperating",
            unit_id=COOP,
            deadline="2026-10-08",
            unit_deadlines=["2026-10-08", "2026-10-08"],
        ),
        "item-12",
    )
    await tracked(n, 2)
    clock.set(WEDNESDAY)
    assert await sweep(n, clock) == ["lead-head", "lead-rep"]
    (row, _) = await dues(n)
    assert "贵单位（牵头单位）的办理时限将于 2026年10月8日（星期四）到期" in row["body"]


async def _consumed(n: Notices, event_id: str) -> bool:
    return bool(await n.sql("SELECT 1 FROM inbox WHERE event_id = $1", event_id))


async def test_a_draft_assigned_to_new_units_tells_them_once_and_a_created_item_is_not_told_twice(
    quiet: Notices,
) -> None:
    n = quiet
    await n.call("recipients_import", {"recipients": PEOPLE}, OFFICE)
    office = {"unit_ids": ["1405"], "unit_paths": ["/14/1405/"], "unit_deadlines": ["2026-10-30"]}
    # a 12345 intake: opened as a draft held by the office, 交办 later to the lead and cooperating unit
    await n.send(opened(status="draft", version=0, **office), "item-12")
    assigned = await n.send(changed("assign", 1, status="assigned", from_status="draft"), "item-12")
    await tracked(n, 1)

    async def told() -> bool:
        return len(await n.sql("SELECT 1 FROM notice WHERE source = $1", assigned.id)) == 3

    await eventually(told, what="the 交办 told to both units")
    query = "SELECT user_id, title, body FROM notice WHERE source = $1 ORDER BY user_id"
    rows = await n.sql(query, assigned.id)
    assert [r["user_id"] for r in rows] == ["coop-rep", "lead-head", "lead-rep"]
    assert rows[0]["title"] == "督办事项 督〔2026〕12号：背街小巷整治"
    assert "（配合单位），分项任务时限 2026-10-08" in rows[0]["body"]
    assert "已交办贵单位，办理时限 2026-10-30" in rows[1]["body"]
    # an item created and assigned at once: item.opened named its units, so the assign adds nothing
    other = {"item_id": "item-13", "number": "督〔2026〕13号"}
    await n.send(opened(status="draft", version=0, **other), "item-13")
    again = await n.send(changed("assign", 1, status="assigned", from_status="draft", **other), "item-13")

    async def both_applied() -> bool:
        return bool(await n.sql("SELECT 1 FROM item_watch WHERE item_id = 'item-13' AND version = 1"))

    await eventually(both_applied, what="item-13 assigned")
    assert await n.sql("SELECT 1 FROM notice WHERE source = $1", again.id) == []
    assert len(await n.sql("SELECT 1 FROM notice WHERE title LIKE '%13号%'")) == 3  # item.opened's only
