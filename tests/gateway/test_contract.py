"""The schema as a contract: schema.graphql matches the code; every example in docs/graphql.md runs on the
demo's data (the 晋城 “1+4” city of `kaohe demo`, seeded through the public APIs)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from demo.act2 import settled
from demo.client import Api, Who
from demo.seed import seed
from gateway.graphql.schema import export_sdl
from tests.conftest import eventually
from tests.support.gateway import Harness

ROOT = Path(__file__).resolve().parents[2]
SMALL: dict[str, Any] = {"departments": 15, "towns_per_county": 1, "villages_per_town": 1}


def test_schema_file_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == export_sdl(), "schema drift: run `python -m gateway.graphql.export > schema.graphql`"


def _examples() -> list[tuple[str, dict[str, object]]]:
    """(query, variables) for every ```graphql block; a ```json block right after holds the variables."""
    text = (ROOT / "docs" / "graphql.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(graphql subscription|graphql|json)\n(.*?)```", text, flags=re.S)
    out: list[tuple[str, dict[str, object]]] = []
    for kind, body in blocks:
        if kind == "graphql":
            out.append((body, {}))
        elif kind == "json" and out:
            out[-1] = (out[-1][0], json.loads(body))
    return out


async def _demo_data(gw: Harness, http: httpx.AsyncClient) -> str:
    """The demo's city, scheme and reviewed 2026-Q1, as `kaohe demo` seeds them (smaller), scored."""

    def sign(who: Who) -> str:
        codes = sorted(who.codes) or None
        return gw.token([who.role], who.org_path, user=who.user_id, indicator_codes=codes)

    api = Api(gw.url, http, sign=sign)
    summary = await seed(api, progress=lambda _: None, **SMALL)
    await settled(api, summary, lambda _: None, timeout_s=120)
    return str(summary["scheme_id"])


async def test_every_documented_example_runs_on_the_demo_data(gw: Harness) -> None:
    examples = _examples()
    assert len(examples) >= 20
    office = gw.headers(["assessment_office"], "/")
    found = {"$SUBMISSION_ID": "", "$SCHEME_ID": "", "$OBJECTION_ID": "", "$DRAFT_ID": ""}
    async with httpx.AsyncClient(timeout=120) as http:
        found["$SCHEME_ID"] = await _demo_data(gw, http)
        for query, variables in examples:
            raw = json.dumps(variables, ensure_ascii=False)
            for k, v in found.items():
                raw = raw.replace(k, v)

            async def run(q: str = query, v: str = raw) -> dict[str, Any]:
                return await gw.gql(http, q, json.loads(v), headers=office)

            body = await run()
            if "resultsPublish" in query:  # publishing waits until scoring has settled: retry, as documented

                async def published() -> bool:
                    nonlocal body
                    body = await run()
                    errors = body["data"]["resultsPublish"]["errors"]
                    assert not errors or errors[0]["code"] == "scoring_pending", errors
                    return not errors

                if body["data"]["resultsPublish"]["errors"]:
                    await eventually(published, what="the quarter published once scoring settled")
            assert body["_status"] == 200 and not body.get("errors"), (query, body)
            for payload in (body["data"] or {}).values():
                if isinstance(payload, dict) and "errors" in payload:
                    assert payload["errors"] == [], (query, payload)
            data = body["data"] or {}
            subs = data.get("submissions")
            if subs and subs.get("edges"):
                found["$SUBMISSION_ID"] = subs["edges"][0]["node"]["id"]
            if (data.get("schemeSave") or {}).get("scheme") and not found["$DRAFT_ID"]:
                found["$DRAFT_ID"] = data["schemeSave"]["scheme"]["id"]
            if (data.get("objectionCreate") or {}).get("objection"):
                found["$OBJECTION_ID"] = data["objectionCreate"]["objection"]["objectionId"]
            if "ranking" in data:  # the six counties of the demo, each with its 一级指标
                nodes = data["ranking"]["nodes"]
                assert len(nodes) == 6 and all(n["level1"] for n in nodes), nodes
            if "board" in data:
                assert len(data["board"]["nodes"]) >= 6
            if "resultsSnapshot" in data:
                assert data["resultsSnapshot"]["rows"]["nodes"]
