"""申诉 → 考核办 on real servers: an objection filed through scoring's RPC reaches the assessing office's
inbox (and no one else's), its answer reaches the unit, and the events carry no free text or address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe.contracts.notices import NoticeCreated
from kaohe.contracts.scoring import ObjectionAnswered, ObjectionFiled
from kaohe.identity import Role
from tests.conftest import Infra, Namespace, eventually
from tests.notices.harness import Notices, caller, recipient
from tests.support.scoring import Events, Scoring, fill, running, totals

pytestmark = pytest.mark.asyncio

REASON = "GDP数据与统计局口径不一致，联系人张三 13800000000"
PEOPLE = [
    recipient("office-1405", "1405", "/14/1405/", ["assessment_office"]),  # the book's office
    recipient("office-14", "14", "/14/", ["assessment_office"]),  # the province's office covers it too
    recipient("office-1406", "1406", "/14/1406/", ["assessment_office"]),  # a sibling city's: not its unit
    recipient("dept-1405", "1405", "/14/1405/", ["department"]),  # covers the unit, not the office
    recipient("rep-140501", "140501", "/14/1405/140501/", ["reporter"]),
    recipient("head-140501", "140501", "/14/1405/140501/", ["leader"]),
    recipient("rep-140502", "140502", "/14/1405/140502/", ["reporter"]),
]
EVERYONE = [p["user_id"] for p in PEOPLE]
PROVINCE = caller("office-14", Role.assessment_office, "/14/")
FILED_1 = "申诉待处理：甲镇 2026-Q1 考核结果"
FILED_2 = "申诉待处理：乙镇 2026-Q1 考核结果"
ANSWERED = "申诉已答复：甲镇 2026-Q1（申诉不成立）"


@pytest_asyncio.fixture
async def scoring(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> AsyncIterator[Scoring]:
    async with running(infra, database_url, ns, nc, js) as sc:
        yield sc


@pytest_asyncio.fixture
async def events(nc: NATS, ns: Namespace) -> AsyncIterator[Events]:
    ev = Events()
    subjects = (f"{ns.prefix}.scoring.>", f"{ns.prefix}.notices.notice.>")  # not the push: no contract event
    subs = [await nc.subscribe(s, cb=ev.on) for s in subjects]
    yield ev
    for s in subs:
        await s.unsubscribe()


async def inbox(n: Notices, user: str) -> list[dict[str, Any]]:
    who = next(p for p in PEOPLE if p["user_id"] == user)
    c = caller(user, Role(who["roles"][0]), who["org_path"])
    return list((await n.call("notifications", {"first": 50}, c))["items"])


async def objection_rows(n: Notices) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {}
    for u in EVERYONE:
        got[u] = [i["title"] for i in await inbox(n, u) if i["rule"] == "objection"]
    return got


async def test_an_objection_reaches_the_office_covering_the_unit_and_its_answer_the_unit(
    scoring: Scoring, notices: Notices, events: Events
) -> None:
    sc, n = scoring, notices
    await n.call("recipients_import", {"recipients": PEOPLE}, PROVINCE)
    sid = await sc.scheme()
    await fill(sc, sid, "140501", "2026-01", 90, 60, 1, "较好")

    async def scored() -> bool:
        return (await totals(sc, ["140501"], "2026-Q1"))["140501"] is not None

    await eventually(scored, what="results")
    args = {"scheme_id": sid, "period": "2026-Q1"}
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await sc.call("objection_window_open", {**args, "until": until})
    reporter = caller("rep-140501", Role.reporter, "/14/1405/140501/")
    obj = await sc.call(
        "objection_create", {**args, "unit_id": "140501", "reason": REASON, "codes": ["GDP"]}, reporter
    )

    async def office_told() -> bool:
        rows = await objection_rows(n)
        return bool(rows["office-1405"]) and bool(rows["office-14"])

    await eventually(office_told, what="the office's 申诉 notice")
    rows = await objection_rows(n)
    assert rows["office-1405"] == rows["office-14"] == [FILED_1]
    assert all(not rows[u] for u in EVERYONE if u not in ("office-1405", "office-14")), rows
    [item] = [i for i in await inbox(n, "office-1405") if i["rule"] == "objection"]
    assert item["unit_id"] == "140501" and not item["urgent"] and item["read_at"] is None
    assert "GDP" in item["body"] and "张三" not in item["body"]  # the reason stays in scoring

    [filed] = events.of(ObjectionFiled.TYPE)
    payload = ObjectionFiled.from_event(filed)
    assert filed.subject == f"{sid}:2026-Q1"
    assert (payload.objection_id, payload.unit_id, payload.codes) == (obj["objection_id"], "140501", ["GDP"])
    assert payload.unit_path == "/14/1405/140501/" and payload.unit_name == "甲镇"
    assert "张三" not in filed.to_bytes().decode() and "rep-140501" not in filed.to_bytes().decode()

    # the office answers: the unit's reporter and head hear the decision; the office hears nothing more
    answer = {"objection_id": obj["objection_id"], "answer": "经核实，维持原结果", "decision": "rejected"}
    await sc.call("objection_answer", answer)

    async def unit_told() -> bool:
        rows = await objection_rows(n)
        return bool(rows["rep-140501"]) and bool(rows["head-140501"])

    await eventually(unit_told, what="the unit's 申诉答复 notice")
    rows = await objection_rows(n)
    assert rows["rep-140501"] == rows["head-140501"] == [ANSWERED]
    assert rows["office-1405"] == [FILED_1]
    assert not rows["rep-140502"] and not rows["office-1406"] and not rows["dept-1405"]
    [answered] = events.of(ObjectionAnswered.TYPE)
    assert ObjectionAnswered.from_event(answered).decision == "rejected"
    assert "维持原结果" not in answered.to_bytes().decode()

    # notices announced both fan-outs durably: recipients by user id, never an address
    def objection_groups() -> int:
        created = [NoticeCreated.from_event(e) for e in events.of(NoticeCreated.TYPE)]
        return sum(g.rule == "objection" for c in created for g in c.units)

    async def announced() -> bool:
        return objection_groups() >= 2

    await eventually(announced, what="notice.created events")
    groups = [g for e in events.of(NoticeCreated.TYPE) for g in NoticeCreated.from_event(e).units]
    created = [g for g in groups if g.rule == "objection"]  # (the wall clock may also bring 填报 reminders)
    by_title = {c.title: c for c in created}
    assert len(created) == 2  # one group per fan-out: the filing's and the answer's
    office = by_title[FILED_1]
    assert sorted(office.user_ids) == ["office-14", "office-1405"] and office.rule == "objection"
    assert office.unit_path == "/14/1405/140501/" and office.rule_zh == "申诉提醒"
    assert sorted(by_title[ANSWERED].user_ids) == ["head-140501", "rep-140501"]
    assert all("@" not in e.to_bytes().decode() for e in events.of(NoticeCreated.TYPE))


async def test_a_redelivered_objection_event_notifies_nobody_twice(notices: Notices, events: Events) -> None:
    """The same objection.filed delivered twice (a relay retry) writes one notice and announces it once."""
    n = notices
    await n.call("recipients_import", {"recipients": PEOPLE}, PROVINCE)
    payload = ObjectionFiled(
        scheme_id="S1",
        period="2026-Q1",
        objection_id="o1",
        unit_id="140502",
        unit_path="/14/1405/140502/",
        unit_name="乙镇",
    )
    for _ in range(2):
        await n.send(payload, "S1:2026-Q1", event_id="objection-ev-1")

    def titles_announced() -> list[str]:
        return [g.title for e in events.of(NoticeCreated.TYPE) for g in NoticeCreated.from_event(e).units]

    async def told() -> bool:
        return bool((await objection_rows(n))["office-1405"])

    await eventually(told, what="the office's notice")
    second = ObjectionFiled(
        scheme_id="S1",
        period="2026-Q1",
        objection_id="o2",
        unit_id="140501",
        unit_path="/14/1405/140501/",
        unit_name="甲镇",
    )
    await n.send(second, "S1:2026-Q1", event_id="objection-ev-2")  # behind the duplicate, same consumer

    async def both() -> bool:
        return len((await objection_rows(n))["office-1405"]) == 2

    await eventually(both, what="the second objection's notice")
    rows = await objection_rows(n)
    assert sorted(rows["office-1405"]) == [FILED_2, FILED_1]
    assert rows["office-1406"] == [] and rows["rep-140502"] == []

    async def announced() -> bool:  # the relay publishes in commit order: a duplicate's would be earlier
        return any("甲镇" in title for title in titles_announced())

    await eventually(announced, what="notice.created events")
    assert sorted(titles_announced()) == [FILED_2, FILED_1]
