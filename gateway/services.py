"""The gateway's own collaborators, built in setup and connected when the runtime starts."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from gateway.apikeys import ApiKeys
from gateway.auth import VerifiedTokens, credentials
from gateway.cache import ResponseCache
from gateway.config import GatewayConfig
from gateway.limits import RateLimiter
from gateway.live import LiveEvents
from gateway.upstream import Upstream
from gateway.webhooks import Webhooks
from kaohe.identity import Caller
from kaohe.runtime import Runtime


@dataclass
class GatewayServices:
    cfg: GatewayConfig
    limiter: RateLimiter
    live: LiveEvents
    upstream: Upstream | None = None
    apikeys: ApiKeys | None = None
    webhooks: Webhooks | None = None
    tokens: VerifiedTokens = field(default_factory=VerifiedTokens)
    cache: ResponseCache | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self, rt: Runtime) -> None:
        assert rt.client is not None and rt.db is not None and rt.nc is not None
        self.upstream = Upstream(rt.client, self.cfg.upstream_timeout_s)
        self.apikeys = ApiKeys(rt.db)
        assert self.webhooks is not None
        self.webhooks.db = rt.db
        if self.cache is not None:
            nc = rt.nc
            self.cache.attach(lambda: int(nc.stats["reconnects"]), lambda: bool(nc.is_connected))
        await self.live.start(rt.nc)
        self._stop = asyncio.Event()
        self._tasks.append(asyncio.create_task(self.webhooks.run(self._stop), name="webhook-deliveries"))

    async def stop(self, rt: Runtime) -> None:
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=5)
            for t in pending:
                t.cancel()
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.live.stop()

    async def authenticate(self, headers: Any, trace_id: str) -> Caller:
        """The verified caller from a bearer token or an API key; counts against its rate limit."""
        kind, secret = credentials(headers)
        if kind == "bearer":
            caller = await self.tokens.caller(self.cfg, secret, trace_id)
        else:
            assert self.apikeys is not None
            caller = await self.apikeys.verify(secret, trace_id)
        self.limiter.check(caller.user_id)
        return caller
