"""The integration REST's OpenAPI document: security schemes, typed responses, problem+json everywhere,
and a bounded schemathesis run with response-schema checks against the real harness."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.gateway import Harness

PROBLEM = "application/problem+json"


async def test_openapi_declares_bearer_and_api_key_and_types_every_response(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    spec = (await http.get(f"{gw.url}/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["bearer"]["description"],
    }
    assert (schemes["apiKey"]["type"], schemes["apiKey"]["in"], schemes["apiKey"]["name"]) == (
        "apiKey",
        "header",
        "X-Api-Key",
    )
    assert "Problem" in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert {"bearer": []} in op["security"] and {"apiKey": []} in op["security"], where
            for status, resp in op["responses"].items():
                content = resp.get("content") or {}
                assert content, f"{where} {status} has no typed body"
                if status.startswith(("4", "5")):
                    assert list(content) == [PROBLEM], f"{where} {status}"
                for media in content.values():
                    assert media.get("schema"), f"{where} {status}"
    results = spec["paths"]["/api/v1/results"]["get"]["responses"]["200"]
    assert set(results["content"]) == {"application/json", "text/csv"}
    columns = "unit_id, name, path, period, status, source, total, rank, grade, version"
    assert columns in results["description"]
    bulk = spec["components"]["schemas"]["BulkSubmission"]["properties"]["rows"]
    assert "indicator_code" in str(bulk)


async def test_unknown_paths_wrong_methods_and_options_answer_problem_json(
    gw: Harness,
    http: httpx.AsyncClient,
) -> None:
    office = gw.headers(["assessment_office"], "/")
    r = await http.get(f"{gw.url}/api/v1/nope", headers=office)
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM and r.json()["code"] == "not_found"
    for method in ("OPTIONS", "DELETE", "PUT"):
        r = await http.request(method, f"{gw.url}/api/v1/results", headers=office)
        assert r.status_code == 405 and r.headers["content-type"] == PROBLEM, (method, r.text)
        assert r.headers["allow"] == "GET" and r.json()["code"] == "method_not_allowed"
    r = await http.get(f"{gw.url}/api/v1/results", params={"root_id": "x", "first": 0}, headers=office)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM and r.json()["field"] == "first"
    r = await http.get(f"{gw.url}/api/v1/webhooks")
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM


def _st() -> str:
    found = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    assert found, "schemathesis (dev dependency) provides the st command"
    return found


async def test_schemathesis_bounded_run_with_response_checks(gw: Harness) -> None:
    """Every operation, a few generated cases each, fixed seed: status codes, content types, headers and
    bodies must match the document; as an office so calls get past authentication."""
    token = gw.token(["assessment_office"], "/")
    report = Path(os.environ.get("TMPDIR", "/tmp")) / f"schemathesis-{gw.ns.prefix}.txt"
    proc = await asyncio.create_subprocess_exec(
        _st(),
        "run",
        f"{gw.url}/openapi.json",
        "--checks",
        "all",
        # a request valid by the schema may still be refused by the domain (422 naming the field): exactly
        # one of unit_id/department, opaque cursors, reachable webhook URLs; every response is still checked
        "--exclude-checks",
        "positive_data_acceptance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "8",
        "--seed",
        "20260101",
        "--generation-deterministic",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--header",
        f"Authorization: Bearer {token}",
        "--suppress-health-check",
        "all",
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false"},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 240)
    text = out.decode(errors="replace")
    report.write_text(text)
    assert proc.returncode == 0, text[-6000:]


async def test_an_unexpected_failure_is_problem_json_with_a_reference(
    gw: Harness,
    http: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(owner: object) -> list[dict[str, object]]:
        raise RuntimeError("secret detail from a bug")

    monkeypatch.setattr(gw.gw.webhooks, "list", broken)
    r = await http.get(f"{gw.url}/api/v1/webhooks", headers=gw.headers(["assessment_office"], "/"))
    assert r.status_code == 500 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "internal" and "reference" in r.json()["detail"]
    assert "secret detail" not in r.text
