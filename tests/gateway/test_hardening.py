"""Hardening: query limits, capped lists, masked errors, introspection, body size, rate limit, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import BaseModel

from kaohe import bus
from kaohe.identity import Caller
from kaohe.rpc import RpcServer
from tests.conftest import Infra
from tests.support.gateway import Harness, harness


class ScoresQ(BaseModel):
    ids: list[str]
    period: str | None = None


class Explain(BaseModel):
    unit_id: str
    period: str


@pytest_asyncio.fixture(scope="module")
async def hg(infra: Infra, template_db: str) -> AsyncIterator[Harness]:
    """The gateway alone with a stub scoring service (slow, broken or fine on demand), tight limits."""
    async with harness(
        infra,
        template_db,
        services=(),
        upstream_timeout_s=0.3,
        rate_limit_rps=2,
        rate_limit_burst=5,
        max_body_bytes=20_000,
        max_list=10,
    ) as h:
        # Stand-ins connect as the service they play: only it may serve its RPC subjects.
        nc = await bus.connect(infra.nats_url, name="stub-scoring", identity=infra.identity("scoring"))
        h.extra["infra"] = infra
        rpc = RpcServer(nc, service="scoring", prefix=h.ns.rpc_prefix)

        @rpc.method("explanation", Explain)
        async def explanation(caller: Caller, p: Explain) -> Any:
            if p.unit_id == "slow":
                await asyncio.sleep(1.0)
            if p.unit_id == "gone":
                from kaohe.errors import NotFound

                raise NotFound("unit gone not found", field="unit_id")
            trace = {"code": None, "name": "总分", "kind": "total", "children": []}
            explained = {"unit_id": p.unit_id, "period": p.period, "adds_up": True, "trace": trace}
            return {**explained, "digest": caller.user_id}  # the stub echoes the caller here

        @rpc.method("scores_by_units", ScoresQ)
        async def broken(caller: Caller, p: ScoresQ) -> Any:
            return ["not", "a", "mapping"]  # the gateway must mask what this does to it

        await rpc.start()
        h.extra["rpc"] = rpc
        yield h
        await rpc.stop(1)
        await nc.close()


def _hdr(h: Harness, user: str) -> dict[str, str]:
    return h.headers(["assessment_office"], "/", user=user)


EXPLAIN = 'query($u: String!) { scoreExplanation(unitId: $u, period: "2026-Q1") { digest } }'


async def test_upstream_timeout_is_a_clear_error(hg: Harness, http: httpx.AsyncClient) -> None:
    r = await hg.gql(http, EXPLAIN, {"u": "slow"}, headers=_hdr(hg, "t1"))
    err = r["errors"][0]
    assert err["extensions"]["code"] == "upstream_timeout"
    assert "scoring.explanation" in err["message"]
    ok = await hg.gql(http, EXPLAIN, {"u": "u1"}, headers=_hdr(hg, "t1"))
    assert ok["data"]["scoreExplanation"]["digest"] == "t1"  # the caller travels with the RPC


async def test_domain_errors_pass_with_codes_unexpected_ones_are_masked(
    hg: Harness,
    http: httpx.AsyncClient,
) -> None:
    r = await hg.gql(http, EXPLAIN, {"u": "gone"}, headers=_hdr(hg, "t2"))
    assert r["errors"][0]["extensions"]["code"] == "not_found"
    assert r["errors"][0]["extensions"]["field"] == "unitId"  # the argument as the caller spells it
    # A stub indicators answer so that unit(...) resolves, then a broken scoring reply inside the gateway.
    infra = hg.extra["infra"]
    nc = await bus.connect(infra.nats_url, name="stub-indicators", identity=infra.identity("indicators"))
    rpc = RpcServer(nc, service="indicators", prefix=hg.ns.rpc_prefix)

    class Ids(BaseModel):
        ids: list[str]

    @rpc.method("units_by_ids", Ids)
    async def units(caller: Caller, p: Ids) -> Any:
        return [
            {
                "id": i,
                "name": "x",
                "kind": "county",
                "parent_id": None,
                "path": f"/{i}/",
                "valid_from": "2026-01-01",
            }
            for i in p.ids
        ]

    await rpc.start()
    try:
        r = await hg.gql(http, '{ unit(id: "u9") { id score { total } } }', headers=_hdr(hg, "t2"))
    finally:
        await rpc.stop(1)
        await nc.close()
    assert r["data"]["unit"]["id"] == "u9"
    [err] = r["errors"]
    assert err["message"] == "internal error"
    assert "mapping" not in str(r) and "AttributeError" not in str(r) and "Traceback" not in str(r)


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        (
            "{ " + 'unit(id: "x") { parent { ' * 7 + "id" + " } }" * 7 + " }",
            "exceeds maximum operation depth",
        ),
        ("{ " + " ".join(f'a{i}: unit(id: "x") {{ id }}' for i in range(40)) + " }", "aliases"),
        ('{ unit(id: "x") { ' + "id " * 5000 + "} }", "token"),
    ],
    ids=["depth", "aliases", "tokens"],
)
async def test_query_limits(hg: Harness, http: httpx.AsyncClient, query: str, needle: str) -> None:
    r = await hg.gql(http, query, headers=_hdr(hg, f"lim-{needle[:5]}"))
    assert r.get("data") is None
    assert needle in r["errors"][0]["message"].lower() or needle in r["errors"][0]["message"]


async def test_input_lists_are_capped(hg: Harness, http: httpx.AsyncClient) -> None:
    ids = [f"u{i}" for i in range(11)]
    r = await hg.gql(
        http, "query($ids: [ID!]!) { units(ids: $ids) { id } }", {"ids": ids}, headers=_hdr(hg, "cap")
    )
    assert r["errors"][0]["extensions"]["code"] == "too_many"


async def test_page_size_is_capped(hg: Harness, http: httpx.AsyncClient) -> None:
    r = await hg.gql(
        http, '{ unitSubtree(rootId: "x", first: 100000) { edges { cursor } } }', headers=_hdr(hg, "pg")
    )
    assert r["errors"][0]["extensions"]["code"] == "page_size_out_of_range"


async def test_body_size_limit(hg: Harness, http: httpx.AsyncClient) -> None:
    big = {"query": "{ __typename }", "variables": {"pad": "x" * 30_000}}
    r = await http.post(f"{hg.url}/graphql", json=big, headers=_hdr(hg, "body"))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "body_too_large"


async def test_rate_limit_per_client(hg: Harness, http: httpx.AsyncClient) -> None:
    hdr = _hdr(hg, "hammer")
    codes = [
        (await http.post(f"{hg.url}/graphql", json={"query": "{ __typename }"}, headers=hdr)).status_code
        for _ in range(8)
    ]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]
    r = await http.post(f"{hg.url}/graphql", json={"query": "{ __typename }"}, headers=hdr)
    assert r.status_code == 429 and r.json()["errors"][0]["extensions"]["code"] == "rate_limited"
    assert int(r.headers["retry-after"]) >= 1
    # Another client is not affected.
    other = await http.post(f"{hg.url}/graphql", json={"query": "{ __typename }"}, headers=_hdr(hg, "calm"))
    assert other.status_code == 200
    await asyncio.sleep(0.6)  # refills at 2/s
    again = await http.post(f"{hg.url}/graphql", json={"query": "{ __typename }"}, headers=hdr)
    assert again.status_code == 200


async def test_introspection_on_in_development_off_in_production(
    hg: Harness,
    http: httpx.AsyncClient,
    infra: Infra,
    template_db: str,
) -> None:
    q = {"query": "{ __schema { queryType { name } } }"}
    r = await http.post(f"{hg.url}/graphql", json=q, headers=_hdr(hg, "intro"))
    assert r.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    from gateway.config import GatewayConfig
    from gateway.graphql.schema import build_schema

    prod = build_schema(GatewayConfig(environment="production"))
    res = await prod.execute("{ __schema { queryType { name } } }")
    assert res.errors and "introspection" in res.errors[0].message.lower()
    assert (await prod.execute("{ __typename }")).errors is None


async def test_unauthenticated_requests(hg: Harness, http: httpx.AsyncClient) -> None:
    r = await http.post(f"{hg.url}/graphql", json={"query": "{ __typename }"})
    assert r.status_code == 401 and r.json()["errors"][0]["extensions"]["code"] == "unauthenticated"
    r = await http.get(f"{hg.url}/api/v1/webhooks")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
