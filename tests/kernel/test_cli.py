"""The `kaohe` command line where people trip: token arguments, dead letters listed, missing and replayed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from nats.js import JetStreamContext
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.cli import main
from kaohe.consumer import Consumer, Subscription
from kaohe.db import Database
from kaohe.events import CloudEvent, event_type, new_event
from tests.conftest import Infra, Namespace, eventually

ROOT = Path(__file__).resolve().parents[2]
APPROVED = event_type("indicators", "submission", "approved")


def kaohe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a person runs it: its own process, its exit code, its stdout and stderr."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "NATS_URL", "KAOHE_"))}
    base["KAOHE_DATA_DIR"] = str(ROOT / ".kaohe" / "no-such-stack")  # no credentials of a local stack
    return subprocess.run(
        [sys.executable, "-m", "kaohe.cli", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_token_with_a_path_and_roles_decodes_to_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--role", "department", "--org", "/14/1405/", "--indicator", "GDP"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert claims["roles"] == ["department"] and claims["org_path"] == "/14/1405/"
    assert claims["indicator_codes"] == ["GDP"]


@pytest.mark.parametrize("org", ["14", "/14", "14/1405/", "/14//1405/"])
def test_token_refuses_an_org_that_is_not_a_path(org: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--org", org]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no token to copy by mistake
    assert "--org must be an org subtree path" in captured.err and "/14/" in captured.err


def test_token_names_the_valid_roles_for_an_unknown_one() -> None:
    r = kaohe("token", "--role", "kaoheban")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "invalid choice: 'kaoheban'" in r.stderr
    for role in ("assessment_office", "department", "reporter", "leader", "integration"):
        assert role in r.stderr


def test_token_in_production_says_why_without_a_traceback() -> None:
    r = kaohe("token", env={"KAOHE_GATEWAY_ENVIRONMENT": "production"})
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert "development tokens are disabled in production" in r.stderr


def test_dlq_without_a_database_says_which_variable() -> None:
    r = kaohe("dlq", "scoring")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "DATABASE_URL" in r.stderr and "KAOHE_SCORING_DATABASE_URL" in r.stderr


def test_dlq_says_when_there_are_no_dead_letters(database_url: str) -> None:
    r = kaohe("dlq", "scoring", env={"DATABASE_URL": database_url})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[kaohe] no dead letters in scoring"


async def test_dlq_replay_hands_a_parked_event_to_its_consumer_once(
    infra: Infra, database_url: str, js: JetStreamContext, ns: Namespace
) -> None:
    db = Database(database_url, schema="scoring")
    async with db.engine.begin() as c:  # a table of this test's own, for observable side effects
        await c.execute(text("CREATE TABLE scoring.test_replayed (event_id text PRIMARY KEY, n int)"))
    broken = "cannot score this yet"  # the consumer's bug: the first fix does not work, the second does

    async def handler(s: AsyncSession, e: CloudEvent) -> None:
        if broken:
            raise ValueError(broken)
        await s.execute(
            text(
                "INSERT INTO scoring.test_replayed VALUES (:id, 1) "
                "ON CONFLICT (event_id) DO UPDATE SET n = scoring.test_replayed.n + 1"
            ),
            {"id": e.id},
        )

    consumer = Consumer(
        db,
        js,
        Subscription("replayable", [APPROVED], handler),
        component="scoring",
        stream=ns.stream,
        prefix=ns.prefix,
        max_deliver=2,
        backoff_s=[0.05],
    )
    admin = infra.identity()
    env = {
        "DATABASE_URL": database_url,
        "NATS_URL": infra.nats_url,
        "KAOHE_SCORING_EVENT_PREFIX": ns.prefix,
        "KAOHE_SCORING_EVENT_STREAM": ns.stream,
    }
    if admin is not None:
        env.update(KAOHE_ADMIN_NATS_USER=admin.user, KAOHE_ADMIN_NATS_PASSWORD=admin.password)

    async def rows(sql: str) -> list[tuple[object, ...]]:
        async with db.engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]

    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        event = new_event("indicators", "submission", "approved", subject="s1", data={"v": 1})
        subject = f"{ns.prefix}.indicators.submission.approved"
        await js.publish(subject, event.to_bytes(), headers={"Nats-Msg-Id": event.id})

        async def parked() -> bool:
            return bool(await rows("SELECT id FROM scoring.dead_letter"))

        await eventually(parked, what="the event parked after max_deliver")
        [(dead_id,)] = await rows("SELECT id FROM scoring.dead_letter")
        listed = await asyncio.to_thread(kaohe, "dlq", "scoring", env=env)
        assert event.id in listed.stdout and '"replayed_at": null' in listed.stdout

        broken = "still broken"
        failed = await asyncio.to_thread(kaohe, "dlq", "scoring", "--replay", str(dead_id), env=env)
        assert failed.returncode == 0, failed.stderr

        async def parked_anew() -> bool:  # the new failure recorded, and replayable without --force
            got = await rows("SELECT id, replayed_at, error FROM scoring.dead_letter")
            return len(got) == 1 and got[0][:2] == (dead_id, None) and "still broken" in str(got[0][2])

        await eventually(parked_anew, what="the replay parked anew")
        broken = ""
        first = await asyncio.to_thread(kaohe, "dlq", "scoring", "--replay", str(dead_id), env=env)
        assert first.returncode == 0, first.stderr
        assert f"replayed dead letter {dead_id}" in first.stdout and event.id in first.stdout
        assert "a duplicate" not in first.stdout  # a new message id: the stream does not drop it

        async def handled() -> bool:
            return await rows("SELECT event_id, n FROM scoring.test_replayed") == [(event.id, 1)]

        await eventually(handled, what="the replayed event handled")
        again = await asyncio.to_thread(kaohe, "dlq", "scoring", "--replay", event.id, env=env)
        assert again.returncode == 1 and "already replayed" in again.stderr
        forced = await asyncio.to_thread(kaohe, "dlq", "scoring", "--replay", event.id, "--force", env=env)
        assert forced.returncode == 0, forced.stderr  # published again: the consumer's inbox keeps it once
        # a replay published twice (e.g. the first run's acknowledgement was lost) reaches the inbox only
        await js.publish(subject, event.to_bytes(), headers={"Nats-Msg-Id": f"{event.id}:replay:again"})

        async def drained() -> bool:
            info = await js.consumer_info(ns.stream, consumer.durable)
            return info.num_pending == 0 and info.num_ack_pending == 0

        await eventually(drained, what="the duplicate consumed")
    finally:
        stop.set()
        await task
    assert await rows("SELECT event_id, n FROM scoring.test_replayed") == [(event.id, 1)]
    [(replayed_at,)] = await rows("SELECT replayed_at FROM scoring.dead_letter")
    assert replayed_at is not None
    await db.dispose()
