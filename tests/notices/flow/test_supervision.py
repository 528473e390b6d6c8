"""督办 → notices on real servers: supervision's item events carry each unit's own due day
(`unit_deadlines`), an approved extension of a cooperating part reaches both units with their own days, and
the 时限临近提醒 goes to the cooperating unit before its new sub-deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time
from typing import Any

import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe.identity import Role
from kaohe.workdays import CHINA_TZ
from services.notices.domain.deadlines import day_zh, remind_on
from services.notices.repository.connection import raw
from services.notices.service import items
from tests.conftest import Infra, Namespace, eventually
from tests.notices.harness import Clock, Notices, SmtpInbox, caller, recipient
from tests.notices.harness import running as notices_running
from tests.supervision.harness import COOP, LEAD, OFFICE, Sup, future
from tests.supervision.harness import running as supervision_running

pytestmark = pytest.mark.asyncio

PEOPLE = [
    recipient("jia-head", "140501", "/14/1405/140501/", ["leader"]),
    recipient("yi-rep", "140502", "/14/1405/140502/", ["reporter"]),
    recipient("bing-rep", "140503", "/14/1405/140503/", ["reporter"]),
]
BOOK = caller("office-1405", Role.assessment_office, "/14/1405/")


@pytest_asyncio.fixture
async def both(
    infra: Infra,
    database_url: str,
    ns: Namespace,
    nc: NATS,
    js: JetStreamContext,
    clock: Clock,
    smtp: tuple[SmtpInbox, int],
) -> AsyncIterator[tuple[Sup, Notices]]:
    async with (
        supervision_running(infra, database_url, ns, nc, js) as sup,
        notices_running(infra, database_url, ns, nc, js, clock, smtp[1], remind_poll_s=3600) as n,
    ):
        await sup.seed_units()
        await n.call("recipients_import", {"recipients": PEOPLE}, BOOK)
        yield sup, n


async def step(sup: Sup, method: str, item: dict[str, Any], who: Any, **p: Any) -> dict[str, Any]:
    return await sup.call(method, {"item_id": item["id"], "expected_version": item["version"], **p}, who)  # type: ignore[no-any-return]


async def test_an_approved_part_extension_reaches_both_units_and_the_new_sub_deadline_is_reminded(
    both: tuple[Sup, Notices],
) -> None:
    sup, n = both
    it = await sup.create(
        lead={"unit_id": "140501", "task": "牵头整改", "deadline": future(60)},
        cooperating=[{"unit_id": "140502", "task": "配合", "deadline": future(30)}],
        deadline=future(60),
    )
    it = await step(sup, "item_accept", it, LEAD)
    it = await step(sup, "item_extension_request", it, COOP, reason="材料未到", new_deadline=future(40))
    it = await step(sup, "item_extension_approve", it, OFFICE, new_deadline=future(45))

    async def relayed() -> bool:
        return bool(sup.of("kaohe.supervision.item.changed", item_id=it["id"], action="approve_extension"))

    await eventually(relayed, what="item.changed (approve_extension) relayed")
    (opened,) = sup.of("kaohe.supervision.item.opened", item_id=it["id"])
    assert opened.data["unit_ids"] == ["140501", "140502"]
    assert opened.data["unit_deadlines"] == [future(60), future(30)]
    (approved,) = sup.of("kaohe.supervision.item.changed", item_id=it["id"], action="approve_extension")
    assert approved.data["unit_deadlines"] == [future(60), future(45)]  # the part's new day, the item's own

    async def told() -> bool:
        return len(await n.sql("SELECT 1 FROM notice WHERE source = $1", approved.id)) == 2

    await eventually(told, what="the extension told to the lead's head and the cooperating reporter")
    rows = await n.sql("SELECT user_id, body FROM notice WHERE source = $1 ORDER BY user_id", approved.id)
    assert [r["user_id"] for r in rows] == ["jia-head", "yi-rep"]
    cal = n.rt.state["timing"].cal
    due = date.fromisoformat(future(45))
    assert f"贵单位（配合单位）办理时限：{day_zh(due, cal)}" in rows[1]["body"]
    assert it["title"] in rows[1]["body"] and it["number"] in rows[1]["body"]
    # on the working day before the new sub-deadline, the cooperating unit alone is reminded of it
    day = remind_on(due, cal, 1)
    assert n.rt.db is not None
    async with n.rt.db.uow() as s:
        now = datetime.combine(day, time(10), CHINA_TZ)
        pushed = await items.sweep(await raw(s), now=now, timing=n.rt.state["timing"], remind_workdays=1)
    assert [p.user_id for p in pushed] == ["yi-rep"]
    (body,) = [r["body"] for r in await n.sql("SELECT body FROM notice WHERE source LIKE 'due:%'")]
    assert f"分项任务时限将于 {day_zh(due, cal)}到期" in body
