"""The schema as a contract: schema.graphql matches the code; every example in docs/graphql.md runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from gateway.graphql.schema import export_sdl
from tests.support.gateway import UNIT_CREATE, Harness
from tests.support.seed import SYSTEM, approve_values, publish_book, wait_ranked

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


async def _seed_scheme(gw: Harness, http: httpx.AsyncClient) -> str:
    """晋城市's scheme for 城区 (from example 1), 泽州县 and 高平市, with May and June approved and ranked."""
    office = gw.headers(["assessment_office"], "/")
    for uid, name in (("140525", "泽州县"), ("140581", "高平市")):
        inp = {"id": uid, "name": name, "kind": "county", "parentId": "1405"}
        r = await gw.gql(http, UNIT_CREATE, {"i": inp}, headers=office)
        assert not r["data"]["unitCreate"]["errors"], r

    async def call(service: str, method: str, params: dict[str, object]) -> object:
        return await gw.gw.upstream.call(service, method, params, SYSTEM)

    book = await publish_book(call, assessing_unit="1405", members=["140502", "140525", "140581"], tag="JC")
    await approve_values(call, book, ["2026-05", "2026-06"])
    for month in ("2026-05", "2026-06"):
        await wait_ranked(call, book, month)
    return book.scheme_id


async def test_every_documented_example_runs(gw: Harness) -> None:
    examples = _examples()
    assert len(examples) >= 20
    office = gw.headers(["assessment_office"], "/")
    found = {"$SUBMISSION_ID": "", "$SCHEME_ID": "", "$OBJECTION_ID": "", "$DRAFT_ID": ""}
    async with httpx.AsyncClient(timeout=30) as http:
        for query, variables in examples:
            raw = json.dumps(variables, ensure_ascii=False)
            if "$SCHEME_ID" in raw and not found["$SCHEME_ID"]:
                found["$SCHEME_ID"] = await _seed_scheme(gw, http)
            for k, v in found.items():
                raw = raw.replace(k, v)
            body = await gw.gql(http, query, json.loads(raw), headers=office)
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
            if "ranking" in data:
                assert len(data["ranking"]["nodes"]) == 3 and data["ranking"]["nodes"][0]["level1"]
