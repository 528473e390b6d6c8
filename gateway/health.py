"""The gateway's view of its upstream services for /readyz: a cheap `ping` RPC each, cached briefly."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kaohe.identity import Caller
from kaohe.settings import SERVICES

PROBE = Caller(user_id="gateway-readyz", roles=frozenset(), org_path="/")  # ping needs no role


class UpstreamHealth:
    """`check()` pings every service in parallel with a short deadline; results live `ttl_s` seconds,
    so frequent probes (kubelet, load balancers) do not turn into a stream of RPCs."""

    def __init__(self, rt: Any, *, ttl_s: float, timeout_s: float) -> None:
        self.rt = rt
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._at = -float("inf")
        self._last: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def check(self) -> dict[str, str]:
        async with self._lock:  # concurrent probes share one round of pings
            if time.monotonic() - self._at < self.ttl_s:
                return self._last
            results = await asyncio.gather(*(self._ping(s) for s in SERVICES))
            self._last = dict(zip(SERVICES, results, strict=True))
            self._at = time.monotonic()
            return self._last

    async def _ping(self, service: str) -> str:
        client = self.rt.client
        if client is None:
            return "fail: starting"
        try:
            await client.call(service, "ping", {}, PROBE, timeout_s=self.timeout_s)
            return "ok"
        except Exception as e:  # the reason's kind only: timeout, no responders, …
            code = getattr(e, "code", None) or type(e).__name__
            return f"fail: {code}"
