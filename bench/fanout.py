"""Notification fan-out benchmark: a wave of 序时进度 warnings reaching 10,000 inboxes.

    python -m bench.fanout [--quick]

The notices component runs in this process against the real stack (PostgreSQL, NATS JetStream); 10,000
recipients (reporters and heads of 1,000 units, each with the email channel) are imported, then 1,000
`kaohe.scoring.warning.raised` events go onto the stream at once. Timed from the first publish until every
inbox row has been pushed on core NATS (a row is pushed only after its transaction committed, with its
email delivery row): `fanout_per_s` = notices / seconds, publishing included (`fanout_publish_s` is that
part). `--quick`: 2,000 inboxes. `measure(quick)` is what bench.documents imports; the last line printed
is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from datetime import datetime
from typing import Any

from bench._stack import peak_rss_mb, report, start_infra
from kaohe import bus
from kaohe.contracts.notices import PUSH_TYPE, InboxPush
from kaohe.contracts.scoring import WarningRaised
from kaohe.events import CloudEvent, nats_subject
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.settings import InfraSettings
from kaohe.stack import Stack
from kaohe.workdays import CHINA_TZ

PER_UNIT = 10  # 9 reporters (填报员) and the head (领导) of each unit
WEDNESDAY_10 = datetime(2026, 12, 9, 10, 0, tzinfo=CHINA_TZ)


def say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _people(units: int) -> list[dict[str, Any]]:
    out = []
    for u in range(units):
        unit = f"9{u:05d}"
        path = f"/90/{unit}/"
        for k in range(PER_UNIT):
            out.append(
                {
                    "user_id": f"u{unit}-{k}",
                    "unit_id": unit,
                    "org_path": path,
                    "roles": ["leader"] if k == 0 else ["reporter"],
                    "email": f"u{unit}-{k}@example.gov.cn",
                }
            )
    return out


async def _wave(stack: Stack, units: int) -> dict[str, Any]:
    from services.notices import app
    from services.notices.settings import NoticesSettings

    tag = uuid.uuid4().hex[:8]
    prefix, stream, rpc_prefix = f"f{tag}", f"F{tag}", f"f{tag}-rpc"
    settings = NoticesSettings(
        event_prefix=prefix, event_stream=stream, rpc_prefix=rpc_prefix, db_pool_size=5
    )
    infra = InfraSettings(database_url=stack.urls["database"], nats_url=stack.urls["nats"])
    rt = app.setup(settings, infra, clock=lambda: WEDNESDAY_10)
    nc = await bus.connect(stack.urls["nats"], name="bench-fanout", identity=stack.identity())
    await rt.start()
    try:
        js = nc.jetstream()
        client = RpcClient(nc, prefix=rpc_prefix, timeout_s=120)
        office = Caller(user_id="bench", roles=frozenset({Role.assessment_office}), org_path="/90/")
        people = _people(units)
        for i in range(0, len(people), 5000):
            await client.call("notices", "recipients_import", {"recipients": people[i : i + 5000]}, office)
        pushed = 0
        done = asyncio.Event()
        total = len(people)

        async def on_push(msg: Any) -> None:
            nonlocal pushed
            pushed += len(InboxPush.model_validate(CloudEvent.from_bytes(msg.data).data).items)
            if pushed >= total:
                done.set()

        sub = await nc.subscribe(nats_subject(prefix, PUSH_TYPE), cb=on_push)
        events = []
        for u in range(units):
            unit = f"9{u:05d}"
            w = WarningRaised(
                unit_id=unit,
                unit_path=f"/90/{unit}/",
                unit_name=f"第{u}镇",
                code="GDP",
                period="2026-11",
                level="yellow",
                level_zh="黄",
                expected=0.9,
                actual=0.6,
                lag=0.3,
            )
            ev = CloudEvent(
                source="/kaohe/scoring", type=w.TYPE, subject=f"{unit}:GDP:2026-11", data=w.data()
            )
            events.append(ev.to_bytes())
        subject = nats_subject(prefix, WarningRaised.TYPE)
        started = time.perf_counter()
        await asyncio.gather(*(js.publish(subject, e) for e in events))
        published = time.perf_counter()
        # rows are pushed only after their transaction commits: every row pushed is every row stored
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
        await sub.unsubscribe()
        assert rt.db is not None
        from sqlalchemy import text

        async with rt.db.engine.connect() as c:
            stored = (await c.execute(text("SELECT count(*) FROM notices.notice"))).scalar_one()
            emails = (await c.execute(text("SELECT count(*) FROM notices.delivery"))).scalar_one()
        if stored != total or pushed != total:
            raise AssertionError(f"{stored} notices stored and {pushed} pushed, expected {total} each")
        return {
            "fanout_per_s": round(total / elapsed, 1),
            "fanout_notices": total,
            "fanout_warnings": units,
            "fanout_emails_queued": emails,
            "fanout_s": round(elapsed, 3),
            "fanout_publish_s": round(
                published - started, 3
            ),  # the wave onto JetStream (the producer's part)
        }
    finally:
        await rt.stop()
        await nc.close()


def measure(quick: bool, stack: Stack | None = None) -> dict[str, Any]:
    """The fan-out figures; starts (and stops) its own stack unless given one."""
    units = 200 if quick else 1000
    own = stack is None
    stack = stack or start_infra()
    try:
        say(f"fan-out: {units} warnings to {units * PER_UNIT} inboxes")
        return asyncio.run(_wave(stack, units))
    finally:
        if own:
            stack.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    figures = measure(args.quick)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    report(figures)


if __name__ == "__main__":
    main()
