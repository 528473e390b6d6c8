"""Email delivery over a real SMTP server: once across a restart and two replicas, quiet hours, retries."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe.contracts.scoring import WarningRaised
from kaohe.identity import Role
from kaohe.workdays import CHINA_TZ
from tests.conftest import Infra, Namespace, eventually
from tests.notices.harness import Clock, Notices, SmtpInbox, caller, recipient, running

GANG = "/14/1405/140501/"
OFFICE = caller("office-1405", Role.assessment_office, "/14/1405/")


def warn(level: str, code: str = "GDP") -> WarningRaised:
    return WarningRaised(
        unit_id="140501",
        unit_path=GANG,
        unit_name="甲镇",
        code=code,
        period="2026-11",
        level=level,
        level_zh={"yellow": "黄", "red": "红"}[level],
        expected=0.9,
        actual=0.6,
        lag=0.3,
    )


async def test_every_email_is_sent_once_across_a_restart_mid_delivery_and_two_replicas(
    infra: Infra,
    database_url: str,
    ns: Namespace,
    nc: NATS,
    js: JetStreamContext,
    clock: Clock,
    smtp: tuple[SmtpInbox, int],
) -> None:
    inbox, port = smtp
    inbox.delay_s = 0.03  # a slow server: the stop below lands while deliveries are still due
    people = [recipient(f"r{i:02d}", "140501", GANG, ["reporter"]) for i in range(40)]
    async with running(infra, database_url, ns, nc, js, clock, port, deliver_batch=4) as n:
        await n.call("recipients_import", {"recipients": people}, OFFICE)
        await n.send(warn("red"), "140501:GDP:2026-11")

        async def some() -> bool:
            return len(inbox.mails) >= 6

        await eventually(some, what="the first emails")
    # stopped mid-delivery: some sent, the rest still due
    sent_before = len(inbox.mails)
    assert 6 <= sent_before < 40
    async with (
        running(infra, database_url, ns, nc, js, clock, port, deliver_batch=4) as a,
        running(infra, database_url, ns, nc, js, clock, port, deliver_batch=4),
    ):

        async def all_sent() -> bool:
            return len(await a.sql("SELECT 1 FROM delivery WHERE status = 'sent'")) == 40

        await eventually(all_sent, within=60, what="every delivery sent")
        rows = await a.sql("SELECT attempts FROM delivery")
        tries = await a.sql("SELECT count(*) AS n FROM delivery_attempt WHERE ok")
    by_person = Counter(to for m in inbox.mails for to in m.to)
    assert by_person == {p["email"]: 1 for p in people}
    assert len({m.message_id for m in inbox.mails}) == 40
    assert {r["attempts"] for r in rows} == {1} and tries[0]["n"] == 40


async def test_quiet_hours_hold_a_non_urgent_email_but_not_an_urgent_one(
    notices: Notices, clock: Clock, smtp: tuple[SmtpInbox, int]
) -> None:
    inbox, _ = smtp
    me = caller("q1", Role.reporter, GANG)
    await notices.call(
        "preferences_set",
        {
            "channels": ["email"],
            "email": "q1@example.gov.cn",
            "quiet_hours": {"start": "09:30", "end": "11:00"},
        },
        me,
    )
    # Wednesday 10:00, inside q1's quiet hours
    await notices.send(warn("yellow", "FAI"), "140501:FAI:2026-11")

    async def queued() -> bool:
        return bool(await notices.sql("SELECT 1 FROM delivery"))

    await eventually(queued, what="the yellow warning's delivery")
    await notices.send(warn("red"), "140501:GDP:2026-11")

    async def urgent_sent() -> bool:
        return any("红色预警" in m.subject for m in inbox.to("q1@example.gov.cn"))

    await eventually(urgent_sent, what="the red warning's email, quiet hours or not")
    held = await notices.sql(
        "SELECT d.status, d.not_before FROM delivery d JOIN notice n ON n.id = d.notice_id WHERE NOT n.urgent"
    )
    assert held[0]["status"] == "pending"
    assert held[0]["not_before"] == datetime(2026, 12, 9, 11, 0, tzinfo=CHINA_TZ)
    assert not any("黄色预警" in m.subject for m in inbox.mails)
    # the inbox row itself is there at once: only the email waits
    assert (await notices.call("unread_count", {}, me))["unread"] == 2
    clock.set(datetime(2026, 12, 9, 11, 1, tzinfo=CHINA_TZ))

    async def yellow_sent() -> bool:
        return any("黄色预警" in m.subject for m in inbox.to("q1@example.gov.cn"))

    await eventually(yellow_sent, what="the yellow warning's email after the quiet hours")


async def test_an_smtp_failure_is_retried_with_backoff_and_every_attempt_recorded(
    infra: Infra,
    database_url: str,
    ns: Namespace,
    nc: NATS,
    js: JetStreamContext,
    clock: Clock,
    smtp: tuple[SmtpInbox, int],
) -> None:
    inbox, port = smtp
    async with running(infra, database_url, ns, nc, js, clock, port, max_attempts=3) as n:
        await n.call(
            "recipients_import", {"recipients": [recipient("r1", "140501", GANG, ["reporter"])]}, OFFICE
        )
        inbox.fail = 2  # two refusals, then accepted
        await n.send(warn("red"), "140501:GDP:2026-11")

        async def delivered() -> bool:
            return len(inbox.to("r1@example.gov.cn")) == 1

        await eventually(delivered, what="the email after two refusals")

        async def recorded() -> bool:
            rows = await n.sql("SELECT status FROM delivery")
            return rows[0]["status"] == "sent"

        await eventually(recorded, what="the delivery recorded as sent")
        log = (await n.call("deliveries", {"first": 10}, OFFICE))["items"]
        assert len(log) == 1 and log[0]["status"] == "sent" and log[0]["attempts"] == 3
        assert [t["ok"] for t in log[0]["tries"]] == [False, False, True]
        assert all("451" in t["error"] for t in log[0]["tries"][:2])
        assert inbox.refused == 2
        # a server that keeps refusing: given up after max_attempts, the last error kept
        inbox.fail = 100
        await n.send(warn("red", "FAI"), "140501:FAI:2026-11")

        async def gave_up() -> bool:
            rows = await n.sql("SELECT status, attempts, last_error FROM delivery WHERE status = 'failed'")
            return bool(rows)

        await eventually(gave_up, what="the delivery marked failed")
        row = (await n.sql("SELECT attempts, last_error FROM delivery WHERE status = 'failed'"))[0]
        assert row["attempts"] == 3 and "451" in row["last_error"]
        assert len(inbox.to("r1@example.gov.cn")) == 1
