"""The response cache: hits skip the services, events invalidate at once, scopes never share entries.

The TTL is an hour here, so only the invalidation by events can make a fresh answer appear.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio

from tests.conftest import Infra
from tests.support.gateway import Harness, Scored, harness, scored_world
from tests.support.seed import SYSTEM, Book, approve_values, wait_ranked

PAGE = """query($s: ID!, $p: String!, $c: String!) {
  ranking(schemeId: $s, period: $p, category: $c, first: 100) {
    nodes { unitId unitName unitPath rank of total grade warningColour level1 { code score contribution } }
    pageInfo { hasNextPage endCursor } } }"""
WITH_UNIT = """query($s: ID!, $p: String!, $c: String!) {
  ranking(schemeId: $s, period: $p, category: $c, first: 100) { nodes { unitId unit { name } } } }"""
SCORE = "kaohe.scoring.score.updated"


@pytest_asyncio.fixture(scope="module")
async def gw(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    async with harness(infra, template_db, response_cache_ttl_s=3600) as h:
        yield h


@pytest_asyncio.fixture(scope="module")
async def world(gw: Harness) -> Scored:
    async with httpx.AsyncClient(timeout=60) as http:
        return await scored_world(gw, http, uuid.uuid4().hex[:6])


async def _post(
    gw: Harness, http: httpx.AsyncClient, query: str, v: dict[str, Any], hdr: dict[str, str]
) -> tuple[str | None, dict[str, Any]]:
    r = await http.post(f"{gw.url}/graphql", json={"query": query, "variables": v}, headers=hdr)
    assert r.status_code == 200, r.text
    return r.headers.get("x-kaohe-cache"), r.json()


def _vars(b: Book, period: str) -> dict[str, Any]:
    return {"s": b.scheme_id, "p": period, "c": b.category}


async def test_second_identical_request_is_served_from_cache(gw: Harness, world: Scored) -> None:
    office = gw.headers(["assessment_office"], world.tree["A"]["path"])
    v = _vars(world.city, world.period)
    async with httpx.AsyncClient(timeout=30) as http:
        first, body = await _post(gw, http, PAGE, v, office)
        calls = dict(gw.gw.upstream.calls)
        second, again = await _post(gw, http, PAGE, v, office)
        # the same document with other whitespace and the same variables: the same entry
        third, _ = await _post(gw, http, " ".join(PAGE.split()), v, office)
    assert (first, second, third) == ("miss", "hit", "hit")
    assert again == body and len(body["data"]["ranking"]["nodes"]) == len(world.city.members)
    assert dict(gw.gw.upstream.calls) == calls, "a hit must not call any service"


async def test_uncacheable_requests_always_execute(gw: Harness, world: Scored) -> None:
    office = gw.headers(["assessment_office"], "/")
    v = _vars(world.province, world.period)
    async with httpx.AsyncClient(timeout=30) as http:
        # the unit join reads data that the invalidating events do not cover: never cached
        for _ in range(2):
            state, body = await _post(gw, http, WITH_UNIT, v, office)
            assert state is None and body["data"]["ranking"]["nodes"][0]["unit"]["name"], body
        # Cache-Control: no-cache bypasses the cache both ways
        bypass = {**office, "Cache-Control": "no-cache"}
        for _ in range(2):
            state, _ = await _post(gw, http, PAGE, v, bypass)
            assert state is None
        q = """mutation($i: ExemptionSetInput!) { exemptionSet(input: $i) { exemption { exempt } } }"""
        i = {
            "schemeId": world.province.scheme_id,
            "period": world.other_period,
            "unitId": "none",
            "exempt": False,
        }
        state, _ = await _post(gw, http, q, {"i": i}, office)
        assert state is None


async def test_an_approval_invalidates_before_the_next_request(gw: Harness, world: Scored) -> None:
    b = world.city
    period = "2026-09"
    upstream = gw.gw.upstream

    async def call(service: str, method: str, params: dict[str, Any]) -> Any:
        return await upstream.call(service, method, params, SYSTEM)

    one_leaf = Book(b.scheme_id, b.assessing_unit, b.category, b.members, b.leaves[:1])
    await approve_values(call, one_leaf, [period])
    await wait_ranked(call, one_leaf, period)
    office = gw.headers(["assessment_office"], world.tree["A"]["path"])
    v = _vars(b, period)
    unit = b.members[0]
    async with httpx.AsyncClient(timeout=30) as http:
        await _post(gw, http, PAGE, v, office)
        state, before = await _post(gw, http, PAGE, v, office)
        assert state == "hit"
        old = {n["unitId"]: n["total"] for n in before["data"]["ranking"]["nodes"]}[unit]
        events = gw.gw.live.stream({SCORE})  # registered now: no event of this approval can be missed
        try:
            more = Book(b.scheme_id, b.assessing_unit, b.category, [unit], b.leaves[1:2])
            await approve_values(call, more, [period])
            while True:
                ev = await asyncio.wait_for(anext(events), 30)
                d = ev.data
                if d["unit_id"] == unit and d["period"] == period and d["total"] != old:
                    break
        finally:
            await events.aclose()  # type: ignore[attr-defined]
        # the event has reached the gateway: the very next request must show the new score
        state, after = await _post(gw, http, PAGE, v, office)
    assert state == "miss"
    new = {n["unitId"]: n["total"] for n in after["data"]["ranking"]["nodes"]}[unit]
    assert new == d["total"] and new != old, (old, new, d)


async def test_callers_of_other_scopes_never_share_an_entry(gw: Harness, world: Scored) -> None:
    b = world.province  # A's and B's counties in one category
    v = _vars(b, world.other_period)
    a_path, b_path = world.tree["A"]["path"], world.tree["B"]["path"]
    a_ids = {world.tree[k]["id"] for k in world.tree if k.startswith("A") and len(k) > 1}
    b_ids = {world.tree["B1"]["id"]}
    callers = [
        (gw.headers(["leader"], a_path), a_ids),
        (gw.headers(["leader"], b_path), b_ids),
        (gw.headers(["assessment_office"], a_path), a_ids),  # same subtree, other role
        (gw.headers(["department"], a_path, indicator_codes=[b.leaves[0]]), a_ids),  # other indicators
        (gw.headers(["leader"], "/"), a_ids | b_ids),
    ]
    async with httpx.AsyncClient(timeout=30) as http:
        for hdr, ids in callers:
            state, body = await _post(gw, http, PAGE, v, hdr)
            assert state == "miss", "a new scope must never be answered from another scope's entry"
            assert {n["unitId"] for n in body["data"]["ranking"]["nodes"]} == ids, body
        for hdr, ids in callers:  # each scope now has its own entry, with its own units only
            state, body = await _post(gw, http, PAGE, v, hdr)
            assert state == "hit" and {n["unitId"] for n in body["data"]["ranking"]["nodes"]} == ids
        # another user with the same scope shares the entry (no per-user data on these fields)
        state, body = await _post(gw, http, PAGE, v, gw.headers(["leader"], b_path, user="someone-else"))
        assert state == "hit" and {n["unitId"] for n in body["data"]["ranking"]["nodes"]} == b_ids
