"""The schema as a contract: schema.graphql matches the code; every example in docs/graphql.md runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from gateway.graphql.schema import export_sdl
from tests.gateway_fixtures import Harness, gw  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


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


async def test_every_documented_example_runs(gw: Harness) -> None:  # noqa: F811
    examples = _examples()
    assert len(examples) >= 12
    office = gw.headers(["assessment_office"], "/")
    submission_id = ""
    async with httpx.AsyncClient(timeout=30) as http:
        for query, variables in examples:
            raw = json.dumps(variables).replace("$SUBMISSION_ID", submission_id)
            body = await gw.gql(http, query, json.loads(raw), headers=office)
            assert body["_status"] == 200 and not body.get("errors"), (query, body)
            for payload in (body["data"] or {}).values():
                if isinstance(payload, dict) and "errors" in payload:
                    assert payload["errors"] == [], (query, payload)
            subs = (body["data"] or {}).get("submissions")
            if subs and subs["edges"]:
                submission_id = subs["edges"][0]["node"]["id"]
