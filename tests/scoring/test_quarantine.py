"""The scorer's own queue: an empty period is not an error; a book that keeps failing is quarantined."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from kaohe.db import asyncpg_dsn
from kaohe.errors import KaoheError
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.settings import InfraSettings
from services.scoring import app
from services.scoring.settings import QueueSettings, ScoringSettings
from tests.conftest import Infra, Namespace, eventually
from tests.support.scoring import SCHEME, Scoring, fill, totals

pytestmark = pytest.mark.asyncio


async def test_aspect_score_of_a_quarter_without_values_is_scored(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    await sc.call(
        "aspect_scores_set",
        {"scheme_id": sid, "unit_id": "140501", "period": "2026-Q2", "scores": {"key_work": 80.0}},
    )
    await fill(sc, sid, "140502", "2026-01", 100, 50, 0, "好")

    async def scored() -> bool:
        return (await totals(sc, ["140502"], "2026-01"))["140502"] is not None

    await eventually(scored, what="a later approval scored", within=10)


async def test_recompute_of_a_quarter_without_values_is_done(scoring: Scoring) -> None:
    sc = scoring
    sid = await sc.scheme()
    job = await sc.call("recompute_start", {"scheme_id": sid, "period": "2026-Q3"})

    async def finished() -> bool:
        got = await sc.call("recompute_status", {"job_id": job["job_id"]})
        return got["status"] in ("done", "failed")

    await eventually(finished, what="recompute finished")
    got = await sc.call("recompute_status", {"job_id": job["job_id"]})
    assert (got["status"], got["error"]) == ("done", None)


@pytest_asyncio.fixture
async def fragile(
    infra: Infra, database_url: str, ns: Namespace, nc: NATS, js: JetStreamContext
) -> AsyncIterator[Scoring]:
    """Scoring whose scorer quarantines a book after 3 failed attempts, 50 ms apart at first."""
    settings = ScoringSettings(
        event_prefix=ns.prefix, event_stream=ns.stream, rpc_prefix=ns.rpc_prefix, shutdown_grace_s=3
    )
    infra_settings = InfraSettings(database_url=database_url, nats_url=infra.nats_url)
    queue = QueueSettings(max_attempts=3, retry_base_s=0.05)
    rt = app.setup(settings, infra_settings, queue=queue)
    await rt.start()
    try:
        yield Scoring(rt, js, RpcClient(nc, prefix=ns.rpc_prefix, timeout_s=10), ns)
    finally:
        await rt.stop()


async def _poison(database_url: str, scheme_id: str) -> None:
    """A stored configuration the scorer cannot load (as a bad migration or hand edit would leave it)."""
    c = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await c.execute(
            "UPDATE scoring.book SET config = $2, stamp = stamp + 1 WHERE scheme_id = $1",
            scheme_id,
            '{"supervision_weight": "most"}',
        )
    finally:
        await c.close()


async def test_a_failing_book_is_quarantined_while_the_others_are_scored(
    fragile: Scoring, database_url: str
) -> None:
    sc = fragile
    healthy = await sc.scheme()
    poisoned = await sc.scheme({**SCHEME, "year": 2027})
    await _poison(database_url, poisoned)
    await fill(sc, poisoned, "140501", "2027-01", 90, 60, 1, "较好")
    await fill(sc, healthy, "140501", "2026-01", 100, 50, 0, "好")

    async def quarantined() -> list[dict[str, Any]]:
        return [f for f in await sc.call("scorer_faults", {}) if f["status"] == "quarantined"]

    async def healthy_scored(unit: str) -> bool:
        return (await totals(sc, [unit], "2026-01"))[unit] is not None

    await eventually(lambda: healthy_scored("140501"), what="the healthy book scored")
    await eventually(lambda: _nonempty(quarantined()), what="the poisoned book quarantined")
    [fault] = await quarantined()
    assert fault["scheme_id"] == poisoned and fault["attempts"] == 3
    assert fault["error"].startswith("ValidationError") and "supervision_weight" in fault["error"]
    assert fault["held"] >= 1
    # the operator's command line lists it too
    listed = [json.loads(line) for line in (await _cli(database_url, "list")).splitlines()]
    assert [(f["scheme_id"], f["status"]) for f in listed] == [(poisoned, "quarantined")]
    # while it is held, the healthy book keeps flowing and new work for the poisoned one waits with it
    await fill(sc, healthy, "140502", "2026-01", 90, 40, 1, "一般")
    await fill(sc, poisoned, "140502", "2027-01", 90, 40, 1, "一般")
    await eventually(lambda: healthy_scored("140502"), what="a later approval in the healthy book")
    assert (await totals(sc, ["140501", "140502"], "2027-01")) == {"140501": None, "140502": None}

    # only the book's own office (or the platform) may retry it
    elsewhere = Caller(user_id="o2", roles=frozenset({Role.assessment_office}), org_path="/14/1406/")
    with pytest.raises(KaoheError) as err:
        await sc.call("scorer_retry", {"scheme_id": poisoned}, elsewhere)
    assert err.value.code == "forbidden_scope"
    assert await sc.call("scorer_faults", {}, elsewhere) == []

    # the operator repairs the configuration and retries: the held work is scored
    await sc.call("config_set", {"scheme_id": poisoned, "config": {}})
    got = await sc.call("scorer_retry", {"scheme_id": poisoned})
    assert got["requeued"] >= 2

    async def repaired() -> bool:
        t = await totals(sc, ["140501", "140502"], "2027-01")
        return None not in t.values()

    await eventually(repaired, what="the retried book scored")
    assert await sc.call("scorer_faults", {}) == []


async def _cli(database_url: str, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.scoring.service.quarantine",
        *args,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    return out.decode()


async def _nonempty(items: Any) -> bool:
    return bool(await items)
