"""Service calls from the gateway: a deadline on every call and a per-service request count."""

from __future__ import annotations

from collections import Counter
from typing import Any

from kaohe.errors import KaoheError
from kaohe.identity import Caller
from kaohe.rpc import RpcClient


class Upstream:
    """Wraps the runtime's RpcClient; `calls[service]` counts NATS requests (tests prove batching)."""

    def __init__(self, client: RpcClient, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.calls: Counter[str] = Counter()

    async def call(self, service: str, method: str, params: dict[str, Any], caller: Caller) -> Any:
        self.calls[service] += 1
        try:
            return await self.client.call(service, method, params, caller, timeout_s=self.timeout_s)
        except KaoheError as e:
            if e.code == "unknown_method":  # a service that does not offer this yet: say so clearly
                raise KaoheError(
                    f"{service}.{method} is not available yet", code="not_available", field=e.field
                ) from None
            raise
