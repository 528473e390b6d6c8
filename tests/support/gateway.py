"""Gateway test harness: the four services in-process, the gateway served by uvicorn on a free port.

`harness` starts one; tests/gateway/conftest.py makes it the module-scoped `gw` fixture (one database and
namespace per test module, so each module pays the start-up once).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import uvicorn

from gateway.config import GatewayConfig
from kaohe import bus, devstack
from kaohe.db import asyncpg_dsn
from kaohe.runtime import Runtime, create_app, load_setup
from kaohe.settings import SERVICES, SETTINGS_BY_COMPONENT, InfraSettings
from kaohe.tokens import issue_dev_token
from tests.conftest import Infra, Namespace
from tests.support.seed import SYSTEM, Book, approve_values, publish_book, value_of, wait_ranked


@dataclass
class Harness:
    url: str
    ns: Namespace
    infra: InfraSettings
    cfg: GatewayConfig
    services: dict[str, Runtime]
    gateway: Runtime
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gw(self) -> Any:
        """The gateway's own collaborators (upstream call counts, webhooks, API keys)."""
        return self.gateway.state["services"]

    def token(self, roles: list[str], org_path: str = "/", user: str | None = None, **kw: Any) -> str:
        return issue_dev_token(
            self.cfg, user_id=user or f"u-{uuid.uuid4().hex[:6]}", roles=roles, org_path=org_path, **kw
        )

    def headers(self, roles: list[str], org_path: str = "/", **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(roles, org_path, **kw)}"}

    async def gql(
        self,
        http: httpx.AsyncClient,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str],
    ) -> dict[str, Any]:
        r = await http.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = r.json()
        body["_status"] = r.status_code
        return body


async def _create_db(infra: Infra, template: str) -> str:
    name = f"g_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(asyncpg_dsn(infra.pg_server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return name


async def _drop_db(infra: Infra, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(infra.pg_server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def harness(
    infra: Infra, template_db: str, *, services: tuple[str, ...] = SERVICES, **gateway_overrides: Any
) -> AsyncIterator[Harness]:
    """Start the given services and the gateway against a fresh database and NATS namespace."""
    tag = uuid.uuid4().hex[:10]
    ns = Namespace(prefix=f"t{tag}", stream=f"T{tag}", rpc_prefix=f"t{tag}-rpc", bucket=f"kaohe-t{tag}")
    db = await _create_db(infra, template_db)
    url = infra.pg_server_url.rsplit("/", 1)[0] + f"/{db}"
    inf = InfraSettings(
        database_url=url,
        nats_url=infra.nats_url,
        s3_endpoint=infra.s3_endpoint,
        s3_access_key=infra.s3_access_key,
        s3_secret_key=infra.s3_secret_key,
        s3_bucket=ns.bucket,
    )
    common = dict(
        event_prefix=ns.prefix,
        event_stream=ns.stream,
        rpc_prefix=ns.rpc_prefix,
        shutdown_grace_s=2,
        relay_poll_s=0.1,
    )
    started: dict[str, Runtime] = {}
    port = devstack.free_port()
    defaults: dict[str, Any] = dict(
        webhook_backoff_s=0.2, webhook_poll_s=0.1, rate_limit_rps=1000, rate_limit_burst=1000
    )
    cfg = GatewayConfig(**common, http_port=port, **{**defaults, **gateway_overrides})
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    try:
        for c in services:
            rt = load_setup(c)(SETTINGS_BY_COMPONENT[c](**common), inf, None)
            await rt.start()
            started[c] = rt
        app = create_app(cfg, inf)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
        )
        task = asyncio.create_task(server.serve())
        for _ in range(300):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield Harness(f"http://127.0.0.1:{port}", ns, inf, cfg, started, app.state.runtime)
    finally:
        if server is not None and task is not None:
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 15)
        for rt in reversed(list(started.values())):
            with contextlib.suppress(Exception):
                await rt.stop()
        nc = await bus.connect(infra.nats_url, name="kaohe-test-cleanup", identity=infra.identity())
        js = nc.jetstream()
        for name in (ns.stream, f"{ns.stream}_DLQ"):
            with contextlib.suppress(Exception):
                await js.delete_stream(name)
        await nc.close()
        await _drop_db(infra, db)


UNIT_CREATE = """mutation($i: UnitCreateInput!) {
  unitCreate(input: $i) { unit { id path } errors { code field message } }
}"""


async def make_tree(h: Harness, http: httpx.AsyncClient, tag: str) -> dict[str, dict[str, Any]]:
    """A small tree: province P → cities A and B → counties A1, A2 and B1."""
    office = h.headers(["assessment_office"], "/")
    spec = [
        ("P", None, "province"),
        ("A", "P", "city"),
        ("B", "P", "city"),
        ("A1", "A", "county"),
        ("A2", "A", "county"),
        ("B1", "B", "county"),
    ]
    out: dict[str, dict[str, Any]] = {}
    for key, parent, kind in spec:
        inp = {"id": f"{key}{tag}", "name": f"单位{key}", "kind": kind}
        if parent:
            inp["parentId"] = f"{parent}{tag}"
        r = await h.gql(http, UNIT_CREATE, {"i": inp}, headers=office)
        payload = r["data"]["unitCreate"]
        assert not payload["errors"], payload
        out[key] = payload["unit"]
    return out


@dataclass
class Scored:
    """A tree with two published schemes scored by the real services (see tests/support/seed.py)."""

    tree: dict[str, dict[str, Any]]
    province: Book  # assessed by P: every county (A1..An under city A, B1 under city B)
    city: Book  # assessed by city A: its counties only
    period: str  # a month with values, rankings, colours and warnings
    other_period: str  # a second month (publication tests)


async def scored_world(
    h: Harness,
    http: httpx.AsyncClient,
    tag: str,
    extra: int = 0,
    value: Callable[[int, str], float] = value_of,
) -> Scored:
    """make_tree plus `extra` counties under A, two schemes, and approved values for two months."""
    tree = await make_tree(h, http, tag)
    office = h.headers(["assessment_office"], "/")
    for i in range(extra):
        key = f"A{i + 3}"
        inp = {"id": f"{key}{tag}", "name": f"单位{key}", "kind": "county", "parentId": f"A{tag}"}
        r = await h.gql(http, UNIT_CREATE, {"i": inp}, headers=office)
        assert not r["data"]["unitCreate"]["errors"], r
        tree[key] = r["data"]["unitCreate"]["unit"]
    upstream = h.gw.upstream

    async def call(service: str, method: str, params: dict[str, Any]) -> Any:
        return await upstream.call(service, method, params, SYSTEM)

    counties = [k for k in tree if k[0] in "AB" and len(k) > 1]
    province = await publish_book(
        call, assessing_unit=tree["P"]["id"], members=[tree[k]["id"] for k in counties], tag=f"P{tag}".upper()
    )
    city = await publish_book(
        call,
        assessing_unit=tree["A"]["id"],
        members=[tree[k]["id"] for k in counties if k.startswith("A")],
        tag=f"C{tag}".upper(),
    )
    months = ["2026-05", "2026-06"]
    for book in (province, city):
        await approve_values(call, book, months, value=value)
        for m in months:
            await wait_ranked(call, book, m)
    return Scored(tree, province, city, months[1], months[0])
