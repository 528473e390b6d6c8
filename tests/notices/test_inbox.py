"""Warnings and submissions reach the right inboxes once; the inbox is the caller's own (authz matrix)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nats.aio.client import Client as NATS

from kaohe.contracts.indicators import SubmissionSubmitted
from kaohe.contracts.notices import PUSH_TYPE, InboxPush
from kaohe.contracts.scoring import WarningRaised
from kaohe.errors import KaoheError, NotFound, ValidationFailed
from kaohe.events import CloudEvent, nats_subject
from kaohe.identity import Role
from tests.conftest import Namespace, eventually
from tests.notices.harness import OFFICE, Clock, Notices, caller, recipient

GANG = "/14/1405/140501/"
YI = "/14/1405/140502/"
R1 = caller("r1", Role.reporter, GANG)
R2 = caller("r2", Role.reporter, YI)


def warn(level: str = "yellow", unit: str = "140501", path: str = GANG) -> WarningRaised:
    return WarningRaised(
        unit_id=unit,
        unit_path=path,
        unit_name="甲镇",
        code="GDP",
        period="2026-11",
        level=level,
        level_zh={"yellow": "黄", "red": "红"}[level],
        expected=0.9,
        actual=0.6,
        lag=0.3,
    )


PROVINCE = caller("office-14", Role.assessment_office, "/14/")


async def roster(n: Notices) -> None:
    await n.call(
        "recipients_import",
        {
            "recipients": [
                recipient("r1", "140501", GANG, ["reporter"]),
                recipient("h1", "140501", GANG, ["leader"]),
                recipient("r2", "140502", YI, ["reporter"]),
                recipient("d-gdp", "1405", "/14/1405/", ["department"], indicator_codes=["GDP"]),
                recipient("d-fai", "1405", "/14/1405/", ["department"], indicator_codes=["FAI"]),
                recipient("d-other", "1406", "/14/1406/", ["department"], indicator_codes=["GDP"]),
            ]
        },
        PROVINCE,
    )


async def inbox_of(n: Notices, who: object) -> list[dict]:
    page = await n.call("notifications", {"first": 50}, who)  # type: ignore[arg-type]
    return page["items"]


async def test_a_warning_reaches_the_units_reporters_and_head_once_and_is_pushed(
    notices: Notices, nc: NATS, ns: Namespace
) -> None:
    await roster(notices)
    pushed: list[InboxPush] = []

    async def on(msg: object) -> None:
        pushed.append(InboxPush.model_validate(CloudEvent.from_bytes(msg.data).data))  # type: ignore[attr-defined]

    sub = await nc.subscribe(nats_subject(ns.prefix, PUSH_TYPE), cb=on)
    try:
        ev = await notices.send(warn(), "140501:GDP:2026-11")
        await notices.send(warn(), "140501:GDP:2026-11", event_id=ev.id)  # the same event, redelivered

        async def both() -> bool:
            rows = await notices.sql("SELECT user_id FROM notice WHERE rule = 'warning'")
            return {r["user_id"] for r in rows} == {"r1", "h1"}

        await eventually(both, what="the warning in r1's and h1's inboxes")

        async def pushed_both() -> bool:
            return sorted(i.user_id for p in pushed for i in p.items) == ["h1", "r1"]

        await eventually(pushed_both, what="one push of the two new rows")
    finally:
        await sub.unsubscribe()
    # a second event id for the same warning would be a new notice; the redelivery was not
    rows = await notices.sql("SELECT user_id, count(*) AS n FROM notice GROUP BY user_id")
    assert {r["user_id"]: r["n"] for r in rows} == {"r1": 1, "h1": 1}
    mine = await inbox_of(notices, R1)
    assert len(mine) == 1 and "黄色预警" in mine[0]["title"] and not mine[0]["urgent"]
    assert await inbox_of(notices, R2) == []


async def test_a_submission_waits_for_the_department_responsible_for_its_code(notices: Notices) -> None:
    await roster(notices)
    s = SubmissionSubmitted(
        submission_id="s1",
        unit_id="140501",
        unit_path=GANG,
        scheme_id="S1",
        year=2026,
        code="GDP",
        period="2026-11",
        revision=1,
        actor="r1",
        at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    await notices.send(s, "s1")

    async def arrived() -> bool:
        return bool(await notices.sql("SELECT 1 FROM notice WHERE rule = 'review'"))

    await eventually(arrived, what="the review notice")
    rows = await notices.sql("SELECT user_id FROM notice WHERE rule = 'review'")
    assert [r["user_id"] for r in rows] == ["d-gdp"]  # not FAI's department, not another county's


async def test_the_inbox_is_the_callers_own(notices: Notices) -> None:
    await roster(notices)
    await notices.send(warn(), "w1")
    await notices.send(warn(unit="140502", path=YI), "w2")

    async def stored() -> bool:
        return len(await notices.sql("SELECT 1 FROM notice")) == 3

    await eventually(stored, what="three notices")
    mine = await inbox_of(notices, R1)
    theirs = await inbox_of(notices, R2)
    assert len(mine) == 1 and len(theirs) == 1
    assert (await notices.call("unread_count", {}, R1))["unread"] == 1
    # inside: mark own read
    out = await notices.call("notification_mark_read", {"notice_ids": [mine[0]["notice_id"]]}, R1)
    assert out == {"marked": [mine[0]["notice_id"]], "unread": 0}
    assert (await inbox_of(notices, R1))[0]["read_at"] is not None
    # outside: another user's notice is not found, and stays unread
    with pytest.raises(NotFound):
        await notices.call("notification_mark_read", {"notice_ids": [theirs[0]["notice_id"]]}, R1)
    assert (await notices.call("unread_count", {}, R2))["unread"] == 1
    # nonexistent, and not an id at all
    with pytest.raises(NotFound):
        await notices.call("notification_mark_read", {"notice_ids": ["999999"]}, R1)
    with pytest.raises(ValidationFailed):
        await notices.call("notification_mark_read", {"notice_ids": ["x'1"]}, R1)
    with pytest.raises(ValidationFailed) as v:
        await notices.call("notification_mark_read", {}, R1)
    assert v.value.field == "notice_ids"


async def test_recipients_and_the_delivery_log_stay_in_the_offices_subtree(notices: Notices) -> None:
    with pytest.raises(KaoheError) as e:
        await notices.call(
            "recipients_import", {"recipients": [recipient("x", "1406", "/14/1406/", ["leader"])]}
        )
    assert e.value.code == "forbidden_scope" and e.value.field == "recipients.0.org_path"
    with pytest.raises(KaoheError) as e:
        await notices.call(
            "recipients_import", {"recipients": [recipient("x", "140501", GANG, ["leader"])]}, R1
        )
    assert e.value.code == "forbidden_role"
    with pytest.raises(ValidationFailed) as v:
        await notices.call("recipients_import", {"recipients": [recipient("x", "140501", GANG, ["boss"])]})
    assert v.value.field == "recipients.0.roles"
    await roster(notices)
    await notices.send(warn(), "w1")

    async def queued() -> bool:
        return len(await notices.sql("SELECT 1 FROM delivery")) == 2

    await eventually(queued, what="two email deliveries")
    log = await notices.call("deliveries", {"first": 10})
    assert len(log["items"]) == 2
    other = caller("office-1406", Role.assessment_office, "/14/1406/")
    assert (await notices.call("deliveries", {"first": 10}, other))["items"] == []
    with pytest.raises(KaoheError) as e:
        await notices.call("deliveries", {"first": 10}, R1)
    assert e.value.code == "forbidden_role"


async def test_preferences_are_the_callers_own_and_checked(notices: Notices) -> None:
    with pytest.raises(ValidationFailed) as v:
        await notices.call("preferences_set", {"channels": ["email"]}, R1)
    assert v.value.field == "email"
    out = await notices.call(
        "preferences_set",
        {
            "channels": ["email"],
            "email": "r1@example.gov.cn",
            "quiet_hours": {"start": "22:00", "end": "07:30"},
        },
        R1,
    )
    assert out == {
        "channels": ["email", "inbox"],
        "email": "r1@example.gov.cn",
        "quiet_hours": {"start": "22:00", "end": "07:30"},
    }
    assert (await notices.call("preferences_get", {}, R2))["email"] is None
    row = (await notices.sql("SELECT unit_id, org_path, roles FROM recipient WHERE user_id = 'r1'"))[0]
    assert (row["unit_id"], row["org_path"], list(row["roles"])) == ("140501", GANG, ["reporter"])
    assert OFFICE.user_id not in [r["user_id"] for r in await notices.sql("SELECT user_id FROM recipient")]


async def test_an_old_event_replayed_on_a_first_start_notifies_nobody(notices: Notices, clock: Clock) -> None:
    await roster(notices)
    stale = clock() - timedelta(days=30)  # last month's warning, replayed from the stream's start
    await notices.send(warn(), "w-old", at=stale)
    await notices.send(warn(unit="140502", path=YI), "w-new")

    async def fresh_one() -> bool:
        return bool(await notices.sql("SELECT 1 FROM notice WHERE unit_id = '140502'"))

    await eventually(fresh_one, what="the fresh warning's notice")
    await eventually(lambda: _consumed(notices, 2), what="both events consumed")
    assert await notices.sql("SELECT 1 FROM notice WHERE unit_id = '140501'") == []


async def _consumed(n: Notices, k: int) -> bool:
    return len(await n.sql("SELECT 1 FROM inbox WHERE consumer = 'notices-rules'")) >= k
