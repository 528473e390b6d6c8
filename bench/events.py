"""Event pipeline benchmark: outbox → relay → JetStream → durable consumer, and approval → score in GraphQL.

    python -m bench.events [--quick]

Throughput: N events committed to the indicators outbox, then the relay and a scoring consumer (each
event's effect written in the consumer's transaction with its inbox row) drain them; events/s = N / time.
Latency: the five components run as processes; for each of K submissions the time from the approval
mutation's response until the new score version is readable through the gateway's GraphQL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid

import httpx
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from bench._stack import percentile, report, start_infra
from gateway.settings import GatewaySettings
from kaohe import bus
from kaohe.consumer import Consumer, Subscription
from kaohe.db import Database
from kaohe.events import CloudEvent, Outbox, event_type, new_event
from kaohe.relay import OutboxRelay
from kaohe.stack import Stack
from kaohe.tokens import issue_dev_token


def say(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


async def throughput(stack: Stack, n: int) -> float:
    db_a = Database(stack.urls["database"], schema="indicators")
    db_b = Database(stack.urls["database"], schema="scoring")
    prefix, stream = f"b{uuid.uuid4().hex[:8]}", f"B{uuid.uuid4().hex[:8]}"
    async with db_b.engine.begin() as c:
        await c.execute(
            text("CREATE TABLE IF NOT EXISTS scoring.bench_effect (event_id text PRIMARY KEY, i int)")
        )
    outbox = Outbox(prefix=prefix, schema="indicators")
    async with db_a.uow() as s:
        for i in range(n):
            await outbox.emit(
                s, new_event("indicators", "submission", "approved", subject=str(i), data={"i": i})
            )
    nc = await bus.connect(stack.urls["nats"], name="bench", identity=stack.identity())
    js = nc.jetstream()
    await bus.ensure_streams(js, stream=stream, prefix=prefix)

    async def handler(s: AsyncSession, e: CloudEvent) -> None:
        await s.execute(
            text("INSERT INTO scoring.bench_effect VALUES (:id, :i)"), {"id": e.id, "i": e.data["i"]}
        )

    relay = OutboxRelay(db_a, js, component="indicators", batch=500)
    consumer = Consumer(
        db_b,
        js,
        Subscription("bench", [event_type("indicators", "submission", "approved")], handler),
        component="scoring",
        stream=stream,
        prefix=prefix,
        batch=250,
    )
    stop = asyncio.Event()
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(consumer.run(stop))]
    while True:
        async with db_b.engine.connect() as c:
            done = (await c.execute(text("SELECT count(*) FROM scoring.bench_effect"))).scalar_one()
        if done >= n:
            break
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - t0
    stop.set()
    await asyncio.gather(*tasks)
    await nc.close()
    await db_a.dispose()
    await db_b.dispose()
    say(f"{n} events through outbox → JetStream → consumer in {elapsed:.2f}s")
    return n / elapsed


SAVE = "mutation($i: SchemeSaveInput!) { schemeSave(input: $i) { scheme { id } errors { code message } } }"
SUBMIT = (
    "mutation($i: SubmissionCreateInput!) { submissionCreate(input: $i) { node { id } errors { code } } }"
)
UNIT = "mutation($i: UnitCreateInput!) { unitCreate(input: $i) { errors { code message } } }"
PERIOD = "2026-05"


def _scheme(k: int) -> dict[str, object]:
    """晋城市's one-branch scheme for 城区: k completion-ratio leaves, each approved once by the benchmark."""
    leaves = [
        {
            "code": f"IND{j:03d}",
            "name": f"指标{j}",
            "level": 2,
            "weight": 100 / k,
            "target": 100.0,
            "standard": {"type": "completion_ratio"},
        }
        for j in range(k)
    ]
    trunk = [{"code": "L1", "name": "重点工作", "level": 1, "weight": 100.0, "children": leaves}]
    return {"assessing_unit": "1405", "year": 2026, "name": "bench", "categories": ["县区"], "trunk": trunk}


def latency(stack: Stack, k: int) -> list[float]:
    settings = GatewaySettings()
    token = issue_dev_token(settings, user_id="bench", roles=["assessment_office"], org_path="/")
    url = f"{stack.gateway_url}/graphql"
    samples: list[float] = []
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:

        def gql(q: str, v: dict[str, object]) -> dict[str, object]:
            r = http.post(url, json={"query": q, "variables": v}).json()
            if r.get("errors"):
                raise RuntimeError(r["errors"])
            data: dict[str, object] = r["data"]
            for payload in data.values():
                if isinstance(payload, dict) and payload.get("errors"):
                    raise RuntimeError(payload["errors"])
            return data

        tree = [
            ("14", "山西省", "province", None),
            ("1405", "晋城市", "city", "14"),
            ("140502", "城区", "county", "1405"),
        ]
        for uid, name, kind, parent in tree:
            node = {"id": uid, "name": name, "kind": kind}
            gql(UNIT, {"i": {**node, "parentId": parent} if parent else node})
        cats = {"assessingUnit": "1405", "year": 2026, "categories": [{"name": "县区"}]}
        cats["members"] = [{"unitId": "140502", "category": "县区"}]
        gql(
            "mutation($i: CategoriesSetInput!) { categoriesSet(input: $i) { errors { code message } } }",
            {"i": cats},
        )
        saved = gql(
            SAVE,
            {"i": {"assessingUnit": "1405", "year": 2026, "scheme": _scheme(k)}},
        )
        sid = saved["schemeSave"]["scheme"]["id"]  # type: ignore[index]
        gql("mutation($s: String!) { schemePublish(schemeId: $s) { errors { code message } } }", {"s": sid})
        read = f'query {{ unit(id: "140502") {{ score(period: "{PERIOD}") {{ version }} }} }}'
        seen = 0
        for j in range(k):
            value = {"unitId": "140502", "indicatorCode": f"IND{j:03d}", "period": PERIOD, "value": 90.0}
            sub = gql(SUBMIT, {"i": value})
            sid_j = sub["submissionCreate"]["node"]["id"]  # type: ignore[index]
            gql(
                "mutation($id: String!) { submissionApprove(submissionId: $id) { errors { code } } }",
                {"id": sid_j},
            )
            t0 = time.perf_counter()
            while True:  # the approval's rescore is visible as a new score version of the month
                score = gql(read, {})["unit"]["score"]  # type: ignore[index]
                if score and score["version"] > seen:
                    seen = score["version"]
                    break
                if time.perf_counter() - t0 > 10:
                    raise RuntimeError("score did not update within 10 s")
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small run (under a minute)")
    args = ap.parse_args()
    n, k = (2_000, 20) if args.quick else (50_000, 200)
    stack = start_infra()
    try:
        eps = asyncio.run(throughput(stack, n))
        stack.start_components()
        samples = latency(stack, k)
    finally:
        stack.stop()
    report(
        {
            "events_per_s": round(eps, 1),
            "e2e_p50_ms": round(percentile(samples, 50), 2),
            "e2e_p99_ms": round(percentile(samples, 99), 2),
            "events": n,
            "e2e_samples": k,
        }
    )


if __name__ == "__main__":
    main()
