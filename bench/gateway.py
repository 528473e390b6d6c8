"""Gateway benchmark: a ranking-style page of 100 units fetched over HTTP through GraphQL.

    python -m bench.gateway [--quick]

The page: 100 units of a subtree with score (total, rank, grade) and evidence — what the services offer
today; scoring has no ranking RPC with level-1 breakdown and warning colour yet, so the page is the unit
subtree joined with scores. Measured: p50/p99 at an offered open-loop load of 25 req/s; the peak offered
rate whose p99 stays ≤ 250 ms (stepped); and the overhead: the gateway's p50 over the p50 of fetching the
same data with direct NATS requests (the same RPC calls, concurrently where the gateway batches them).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from typing import Any

import httpx

from bench._stack import percentile, report, start_infra
from gateway.auth import issue_dev_token
from kaohe import bus
from kaohe.identity import Caller, Role
from kaohe.rpc import RpcClient
from kaohe.settings import GatewaySettings

PAGE = """query($root: ID!) { unitSubtree(rootId: $root, first: 100, includeRoot: false) {
  edges { node { id name path score { total rank grade } evidence { id status } } } } }"""


def say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


async def seed(url: str, token: str, n: int) -> str:
    """A county with n villages, each with an approved value (hence a score)."""
    tag = uuid.uuid4().hex[:6]
    hdr = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30, headers=hdr) as http:

        async def gql(q: str, v: dict[str, Any]) -> dict[str, Any]:
            r = (await http.post(f"{url}/graphql", json={"query": q, "variables": v})).json()
            if r.get("errors"):
                raise RuntimeError(str(r["errors"]))
            return r["data"]  # type: ignore[no-any-return]

        mk = "mutation($i: UnitCreateInput!) { unitCreate(input: $i) { errors { message } } }"
        await gql(mk, {"i": {"id": f"P{tag}", "name": "省", "kind": "province"}})
        await gql(mk, {"i": {"id": f"C{tag}", "name": "县", "kind": "county", "parentId": f"P{tag}"}})
        code = f"B-{tag}"
        await gql(
            "mutation($i: IndicatorCreateInput!) { indicatorCreate(input: $i) { errors { message } } }",
            {"i": {"code": code, "name": "指标", "weight": 10, "target": 8}},
        )
        sub = "mutation($i: SubmissionCreateInput!) { submissionCreate(input: $i) { node { id } } }"
        ok = "mutation($s: String!) { submissionApprove(submissionId: $s) { errors { message } } }"
        for i in range(n):
            uid = f"V{tag}{i:03d}"
            await gql(mk, {"i": {"id": uid, "name": f"村{i}", "kind": "village", "parentId": f"C{tag}"}})
            v = {"i": {"unitId": uid, "indicatorCode": code, "period": "2026-Q1", "value": 4 + i % 5}}
            s = (await gql(sub, v))["submissionCreate"]["node"]["id"]
            await gql(ok, {"s": s})
        root = f"C{tag}"
        for _ in range(200):  # wait until scoring caught up
            d = await gql(PAGE, {"root": root})
            if sum(1 for e in d["unitSubtree"]["edges"] if e["node"]["score"]) == n:
                return root
            await asyncio.sleep(0.1)
    raise RuntimeError("scores did not appear")


async def direct_nats(nats_url: str, root: str, k: int) -> list[float]:
    """The same data with direct requests: subtree page, then scores and evidence concurrently."""
    nc = await bus.connect(nats_url, name="bench-direct")
    client = RpcClient(nc)
    caller = Caller(user_id="bench", roles=frozenset({Role.assessment_office}), org_path="/")
    out = []
    try:
        for _ in range(k):
            t0 = time.perf_counter()
            page = await client.call(
                "indicators", "unit_subtree", {"root_id": root, "first": 100, "include_root": False}, caller
            )
            ids = [u["id"] for u in page["items"]]
            await asyncio.gather(
                client.call("scoring", "scores_by_units", {"ids": ids, "period": None}, caller),
                client.call("indicators", "evidence_by_units", {"ids": ids}, caller),
            )
            out.append((time.perf_counter() - t0) * 1000)
    finally:
        await nc.close()
    return out


async def open_loop(url: str, token: str, root: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Offer `rate` requests/s regardless of responses; returns latencies and the number of failures."""
    lat: list[float] = []
    failed = 0
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(
        timeout=10, limits=limits, headers={"Authorization": f"Bearer {token}"}
    ) as http:

        async def one() -> None:
            nonlocal failed
            t0 = time.perf_counter()
            try:
                r = await http.post(f"{url}/graphql", json={"query": PAGE, "variables": {"root": root}})
                if r.status_code != 200 or r.json().get("errors"):
                    failed += 1
            except httpx.HTTPError:
                failed += 1
            lat.append((time.perf_counter() - t0) * 1000)

        tasks = []
        start = time.perf_counter()
        n = int(rate * seconds)
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return lat, failed


async def measure(url: str, token: str, nats_url: str, root: str, quick: bool) -> dict[str, Any]:
    await open_loop(url, token, root, 10, 1)  # warm up caches and connections
    secs = 4 if quick else 20
    lat, failed = await open_loop(url, token, root, 25, secs)
    say(
        f"25 req/s for {secs}s: p50 {percentile(lat, 50):.1f} ms, "
        f"p99 {percentile(lat, 99):.1f} ms, failed {failed}"
    )
    direct = await direct_nats(nats_url, root, 50 if quick else 200)
    gw_seq, _ = await open_loop(url, token, root, 5, 4 if quick else 10)  # light load, like the direct run
    peak = 0.0
    for rate in (25, 50, 75, 100, 125, 150, 200, 250, 300):
        step, bad = await open_loop(url, token, root, rate, 2 if quick else 5)
        p99 = percentile(step, 99)
        say(f"offered {rate} req/s: p99 {p99:.1f} ms, failed {bad}")
        if p99 > 250 or bad:
            break
        peak = rate
    return {
        "p50_ms": round(percentile(lat, 50), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "peak_rps": peak,
        "overhead_ratio": round(percentile(gw_seq, 50) / percentile(direct, 50), 2),
        "direct_nats_p50_ms": round(percentile(direct, 50), 2),
        "failed": failed,
        "page_units": 100,
        "page": "unitSubtree + score + evidence (no scoring ranking RPC yet)",
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="short run (about a minute)")
    args = ap.parse_args()
    stack = start_infra()
    try:
        stack.env["KAOHE_GATEWAY_RATE_LIMIT_RPS"] = "1000000"  # one client drives the load
        stack.env["KAOHE_GATEWAY_RATE_LIMIT_BURST"] = "1000000"
        stack.env.setdefault("KAOHE_GATEWAY_LOG_LEVEL", "WARNING")
        stack.start_components()
        token = issue_dev_token(GatewaySettings(), user_id="bench", roles=["assessment_office"], org_path="/")
        say("seeding 100 units with approved values")
        root = asyncio.run(seed(stack.gateway_url, token, 100))
        figures = asyncio.run(measure(stack.gateway_url, token, stack.urls["nats"], root, args.quick))
    finally:
        stack.stop()
    report(figures)


if __name__ == "__main__":
    main()
