"""A warning wave: many warnings at once reach every inbox once, each row pushed once, emails queued."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from nats.aio.client import Client as NATS

from kaohe.contracts.notices import PUSH_TYPE, InboxPush
from kaohe.contracts.scoring import WarningRaised
from kaohe.contracts.supervision import BreachRecorded, CardIssued
from kaohe.events import CloudEvent, nats_subject
from kaohe.identity import Role
from tests.conftest import Namespace, eventually
from tests.notices.harness import Notices, caller, recipient

UNITS, PER_UNIT = 60, 5


async def test_a_wave_of_warnings_reaches_every_inbox_once_and_pushes_each_row_once(
    notices: Notices, nc: NATS, ns: Namespace
) -> None:
    office = caller("office-90", Role.assessment_office, "/90/")
    people = [
        recipient(f"u{u}-{k}", f"9{u:04d}", f"/90/9{u:04d}/", ["leader" if k == 0 else "reporter"])
        for u in range(UNITS)
        for k in range(PER_UNIT)
    ]
    people.append(recipient("dept", "90", "/90/", ["department"]))  # not a warning's audience
    await notices.call("recipients_import", {"recipients": people}, office)
    pushed: Counter[str] = Counter()

    async def on(msg: object) -> None:
        for item in InboxPush.model_validate(CloudEvent.from_bytes(msg.data).data).items:  # type: ignore[attr-defined]
            pushed[item.user_id] += 1

    sub = await nc.subscribe(nats_subject(ns.prefix, PUSH_TYPE), cb=on)
    try:
        waves = []
        for u in range(UNITS):
            w = WarningRaised(
                unit_id=f"9{u:04d}",
                unit_path=f"/90/9{u:04d}/",
                code="GDP",
                period="2026-11",
                level="yellow",
                level_zh="黄",
                expected=0.9,
                actual=0.6,
                lag=0.3,
            )
            waves.append(notices.send(w, f"9{u:04d}:GDP:2026-11"))
        await asyncio.gather(*waves)
        total = UNITS * PER_UNIT

        async def all_pushed() -> bool:
            return sum(pushed.values()) >= total

        await eventually(all_pushed, within=60, what=f"{total} pushed rows")
    finally:
        await sub.unsubscribe()
    assert set(pushed.values()) == {1} and len(pushed) == total and "dept" not in pushed
    rows = await notices.sql("SELECT count(*) AS n, count(DISTINCT user_id) AS u FROM notice")
    assert (rows[0]["n"], rows[0]["u"]) == (total, total)
    emails = await notices.sql("SELECT count(*) AS n FROM delivery")
    assert emails[0]["n"] == total


async def test_a_sweeps_burst_of_breaches_and_cards_reaches_each_charged_unit_once(notices: Notices) -> None:
    """A sweep publishes thousands of breaches and cards at once: the consumer takes a batch of them
    together (one fan-out) and each charged unit's leaders and reporters get each one once."""
    office = caller("office-91", Role.assessment_office, "/91/")
    units = [f"9{u:04d}" for u in range(20)]
    people = [recipient(f"{u}-{r}", u, f"/91/{u}/", [r]) for u in units for r in ("leader", "reporter")]
    people.append(recipient("dept-91", "91", "/91/", ["department"]))  # no supervision audience
    await notices.call("recipients_import", {"recipients": people}, office)
    at = datetime(2026, 12, 7, 9, tzinfo=UTC)
    sends = []
    for n, u in enumerate(units):
        common = {
            "item_id": f"i{n}",
            "number": f"督〔2026〕{n + 1}号",
            "unit_id": u,
            "unit_path": f"/91/{u}/",
        }
        for kind in ("accept", "feedback"):
            b = BreachRecorded(
                key=f"b{n}{kind}",
                kind=kind,
                role="lead",
                at=at,
                due=at,
                reason="逾期",
                carded=False,
                **common,
            )
            sends.append(notices.send(b, f"{u}:i{n}"))
        colour = "red" if n < 3 else "yellow"
        c = CardIssued(
            key=f"c{n}",
            colour=colour,
            role="cooperating",
            at=at,
            reason="逾期",
            breach_key=f"b{n}accept",
            **common,
        )
        sends.append(notices.send(c, f"{u}:i{n}"))
    await asyncio.gather(*sends)
    want = len(units) * 3 * 2

    async def stored() -> bool:
        return (await notices.sql("SELECT count(*) AS n FROM notice"))[0]["n"] >= want

    await eventually(stored, within=60, what=f"{want} supervision notices")
    rows = await notices.sql(
        "SELECT user_id, count(*) AS n, count(*) FILTER (WHERE urgent) AS urgent,"
        " count(*) FILTER (WHERE title LIKE '督办超时%') AS late FROM notice GROUP BY user_id"
    )
    by = {r["user_id"]: (r["n"], r["urgent"], r["late"]) for r in rows}
    assert "dept-91" not in by and len(by) == len(units) * 2
    for n, u in enumerate(units):
        for r in ("leader", "reporter"):
            assert by[f"{u}-{r}"] == (3, 1 if n < 3 else 0, 2), (u, r)
    emails = await notices.sql("SELECT count(*) AS n FROM delivery")
    assert emails[0]["n"] == want
