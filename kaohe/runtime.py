"""A component process: its connections, RPC server, consumers and outbox relay, started and drained.

`Runtime` owns everything a service holds; `create_app` wraps it in FastAPI with `/healthz`, `/readyz`,
`/metrics` and a lifespan that connects on start and drains on shutdown. Nothing connects at import.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from kaohe import bus, logs, metrics, natsauth, registry
from kaohe.consumer import Consumer, Subscription
from kaohe.db import Database
from kaohe.events import Outbox
from kaohe.identity import Caller
from kaohe.relay import OutboxRelay
from kaohe.rpc import RpcClient, RpcServer
from kaohe.settings import ComponentSettings, InfraSettings, effective_database_url
from kaohe.storage import EvidenceStore

log = logs.get("kaohe.runtime")


class Runtime:
    def __init__(self, settings: ComponentSettings, infra: InfraSettings, *, uses_s3: bool = False) -> None:
        self.name = settings.component
        self.settings = settings
        self.infra = infra
        self.uses_s3 = uses_s3
        self.db: Database | None = None
        self.events_db: Database | None = None  # the consumers' and the relay's own pool (see start)
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.store: EvidenceStore | None = None
        self.rpc: RpcServer | None = None
        self.client: RpcClient | None = None
        self.outbox = Outbox(prefix=settings.event_prefix, schema=self.name)
        self.subscriptions: list[Subscription] = []
        self.on_start: list[Callable[[Runtime], Any]] = []
        self.on_stop: list[Callable[[Runtime], Any]] = []
        self.state: dict[str, Any] = {}  # per-component objects built in setup (caches, services)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.relay: OutboxRelay | None = None
        self.started = False
        self.api_docs = True  # /docs, /openapi.json (the gateway decides by its environment)
        # Reported by /readyz under "upstreams" (the gateway's services): named, without failing readiness.
        self.upstream_checks: Callable[[], Awaitable[dict[str, str]]] | None = None

    # The RPC server must exist before start() so that setup() can register methods on it.
    def rpc_server(self) -> RpcServer:
        if self.rpc is None:
            self.rpc = RpcServer(
                None,
                service=self.name,
                prefix=self.settings.rpc_prefix,  # type: ignore[arg-type]
                concurrency=self.settings.rpc_concurrency,
            )

            @self.rpc.method("ping", _Ping)
            async def ping(caller: Caller, p: _Ping) -> dict[str, Any]:
                """Liveness as callers see it (the gateway's /readyz): answering at all is the signal."""
                return {"component": self.name, "started": self.started}

        return self.rpc

    def hold_relay(self) -> contextlib.AbstractContextManager[None]:
        """`OutboxRelay.hold` of this process's relay, for a batch job (nothing to hold before start)."""
        return self.relay.hold() if self.relay is not None else contextlib.nullcontext()

    def subscribe(self, name: str, types: list[str], handler: Any, batch_handler: Any = None) -> None:
        if name not in natsauth.CONSUMERS.get(self.name, ()):  # its NATS permissions name it exactly
            raise ValueError(f"consumer {name!r} of {self.name} is not in its kaohe/registry.py entry")
        self.subscriptions.append(Subscription(name, types, handler, batch_handler))

    async def start(self) -> None:
        s = self.settings
        self.db = Database(effective_database_url(s, self.infra), schema=self.name, pool_size=s.db_pool_size)
        if not self.infra.nats_url:
            raise ValueError("NATS_URL is not set")
        self.nc = await bus.connect(
            self.infra.nats_url, name=f"kaohe-{self.name}", identity=natsauth.component_identity(s)
        )
        self.js = self.nc.jetstream()
        await bus.ensure_streams(
            self.js, stream=s.event_stream, prefix=s.event_prefix, replicas=s.event_stream_replicas
        )
        if self.uses_s3:
            if not self.infra.s3_endpoint:
                raise ValueError("S3_ENDPOINT is not set")
            self.store = EvidenceStore(
                endpoint=self.infra.s3_endpoint,
                public_endpoint=self.infra.s3_public_endpoint,
                access_key=self.infra.s3_access_key,
                secret_key=self.infra.s3_secret_key,
                region=self.infra.s3_region,
                bucket=self.infra.s3_bucket,
            )
            await self.store.ensure_bucket()
        self.client = RpcClient(self.nc, prefix=s.rpc_prefix, timeout_s=s.rpc_timeout_s)
        for hook in self.on_start:
            res = hook(self)
            if asyncio.iscoroutine(res):
                await res
        if self.rpc is not None:
            self.rpc.nc = self.nc
            await self.rpc.start()
        # Consumers and the relay draw from a small pool of their own: a burst of RPC reads (up to
        # rpc_concurrency, each holding a connection) cannot make the events wait for the main pool.
        self.events_db = Database(
            effective_database_url(s, self.infra), schema=self.name, pool_size=len(self.subscriptions) + 1
        )
        for sub in self.subscriptions:
            c = Consumer(
                self.events_db,
                self.js,
                sub,
                component=self.name,
                stream=s.event_stream,
                prefix=s.event_prefix,
                max_deliver=s.consumer_max_deliver,
                backoff_s=s.consumer_backoff_s,
            )
            await c.ensure()
            self._tasks.append(asyncio.create_task(c.run(self._stop), name=f"consumer:{c.durable}"))
        self.relay = OutboxRelay(
            self.events_db, self.js, component=self.name, batch=s.relay_batch, poll_s=s.relay_poll_s
        )
        self._tasks.append(asyncio.create_task(self.relay.run(self._stop), name="relay"))
        self.started = True
        log.info(
            "component.started",
            component=self.name,
            rpc=self.rpc.methods if self.rpc else [],
            consumers=[x.name for x in self.subscriptions],
        )

    async def stop(self) -> None:
        """Drain: stop taking RPCs and finish in-flight ones, finish the batches in hand, flush the outbox."""
        grace = self.settings.shutdown_grace_s
        if self.rpc is not None:
            await self.rpc.stop(grace)
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for t in pending:
                t.cancel()
        if self.relay is not None:  # publish what in-flight work committed during the drain
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.relay.relay_once(), 2)
        for hook in self.on_stop:
            with contextlib.suppress(Exception):
                res = hook(self)
                if asyncio.iscoroutine(res):
                    await res
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.drain(), 5)
        if self.store is not None:
            self.store.close()
        for db in (self.events_db, self.db):
            if db is not None:
                await db.dispose()
        self.started = False
        log.info("component.stopped", component=self.name)

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}

        async def check(name: str, fn: Callable[[], Any]) -> None:
            try:
                await asyncio.wait_for(fn(), 2.0)
                checks[name] = "ok"
            except Exception as e:
                checks[name] = f"fail: {type(e).__name__}"

        if self.db is not None:
            await check("database", self.db.ping)

        async def nats_ok() -> None:
            if self.nc is None or not self.nc.is_connected:
                raise ConnectionError("not connected")
            await self.nc.flush(timeout=1)

        await check("nats", nats_ok)
        if self.uses_s3 and self.store is not None:
            await check("s3", self.store.ping)
        if not self.started:
            checks["started"] = "fail: starting"
        return checks


class _Ping(BaseModel):
    pass


def load_setup(component: str) -> Callable[..., Any]:
    """The component's setup(settings, infra, app), named in kaohe.registry."""
    return registry.setup_of(component)


def create_app(settings: ComponentSettings, infra: InfraSettings) -> FastAPI:
    """The component's FastAPI app; its setup() wires RPC methods, subscriptions and extra routes."""
    setup = load_setup(settings.component)
    rt_holder: dict[str, Runtime] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        rt = rt_holder["rt"]
        await rt.start()
        # What start-up built (modules, schema, settings, connections) lives as long as the process: out of
        # the collector's full passes, which otherwise walk ~170,000 objects (100–230 ms, measured) in the
        # middle of a request every few seconds under load — the p99 of a page was one such pause.
        gc.collect()
        gc.freeze()
        try:
            yield {"runtime": rt}
        finally:
            await rt.stop()

    app = FastAPI(
        title=f"Kaohe {settings.component}",
        lifespan=lifespan,
        version="0.1.0",
        openapi_url=None,  # added below once setup() has said whether this component serves them
        docs_url=None,
        redoc_url=None,
    )
    rt = setup(settings, infra, app)
    rt_holder["rt"] = rt
    app.state.runtime = rt
    if rt.api_docs:
        # no /redoc: ReDoc loads its script from a CDN, blank without network; /docs is served locally
        app.openapi_url, app.docs_url = "/openapi.json", "/docs"
        app.setup()

    @app.middleware("http")
    async def timing(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "other")
        metrics.HTTP_SECONDS.labels(settings.component, path, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "component": settings.component}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        checks = await rt.readiness()
        ok = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {
            "status": "ready" if ok else "not_ready",
            "component": settings.component,
            "instance": os.environ.get("KAOHE_INSTANCE"),
            "checks": checks,
        }
        if rt.upstream_checks is not None and rt.started:
            # A silent upstream is named ("degraded") but keeps this instance in rotation: every replica
            # would drop out together, taking down what the other services still serve.
            upstreams = await rt.upstream_checks()
            body["upstreams"] = upstreams
            if ok and any(v != "ok" for v in upstreams.values()):
                body["status"] = "degraded"
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        if rt.relay is not None:
            with contextlib.suppress(Exception):
                await rt.relay.pending()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
