"""The walking skeleton end to end: five processes, GraphQL over HTTP, real PostgreSQL, NATS and S3."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from demo import act1 as demo
from kaohe.settings import COMPONENTS
from kaohe.stack import Ports, Stack
from tests.conftest import Infra, Namespace


@pytest.fixture
def stack(infra: Infra, database_url: str, ns: Namespace, tmp_path: Path) -> Iterator[Stack]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "NATS_URL": infra.nats_url,
            "S3_ENDPOINT": infra.s3_endpoint,
            "S3_ACCESS_KEY": infra.s3_access_key,
            "S3_SECRET_KEY": infra.s3_secret_key,
            **ns.component_env(COMPONENTS),
        }
    )
    s = Stack(tmp_path, Ports.free(), env=env)
    s.start_infra()  # uses the URLs above, starts nothing
    assert s.infra == []
    s.start_components()
    yield s
    s.stop()


def test_walking_skeleton_through_the_gateway(stack: Stack) -> None:
    unit = demo.run(stack.gateway_url, progress=lambda _: None)

    # Scored by the scoring service from the approved value of the one-leaf scheme: 5.4 against what is due
    # by 30 September (序时进度: 273 of 365 days of the target 8), on the 100-point scale.
    assert unit["score"]["total"] == pytest.approx(100 * 5.4 / (8 * 273 / 365), abs=1e-4)
    assert unit["score"]["period"] == "2026-Q3"
    [ev] = unit["evidence"]
    assert ev["status"] == "verified" and ev["locked"] is True
    with httpx.Client() as http:
        body = http.get(ev["downloadUrl"]).content
    assert hashlib.sha256(body).hexdigest() == ev["sha256"]
    assert body.startswith(b"%PDF-1.4")
    # Supervision consumed kaohe.scoring.score.updated and persisted a record.
    # (a quarter's score also updates the year's, so each keeps one record per period)
    quarter = [s["total"] for s in unit["supervisionSignals"] if s["period"] == "2026-Q3"]
    assert quarter == [unit["score"]["total"]], unit["supervisionSignals"]
    # Rewards applies published, approved results only: a preliminary score is never in the 实绩档案.
    assert unit["resultRecords"] == []


def test_every_component_answers_health_ready_and_metrics(stack: Stack) -> None:
    with httpx.Client() as http:
        for c in COMPONENTS:
            base = f"http://127.0.0.1:{stack.ports.components[c]}"
            assert http.get(f"{base}/healthz").json()["status"] == "ok"
            ready = http.get(f"{base}/readyz")
            assert ready.status_code == 200, ready.text
            checks = ready.json()["checks"]
            assert checks["database"] == "ok" and checks["nats"] == "ok"
            if c == "indicators":
                assert checks["s3"] == "ok"
            metrics = http.get(f"{base}/metrics")
            assert metrics.status_code == 200
            assert "kaohe_http_seconds" in metrics.text


def test_gateway_rejects_missing_and_forged_tokens(stack: Stack) -> None:
    q = {"query": '{ unit(id: "x") { id } }'}
    with httpx.Client() as http:
        r = http.post(f"{stack.gateway_url}/graphql", json=q)
        assert r.status_code == 401 and r.json()["errors"][0]["extensions"]["code"] == "unauthenticated"
        forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4Iiwicm9sZXMiOlsiYXNzZXNzbWVudF9vZmZpY2UiXX0.c2lnbmF0dXJl"
        r = http.post(f"{stack.gateway_url}/graphql", json=q, headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401
