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

    async def call(
        self,
        service: str,
        method: str,
        params: dict[str, Any],
        caller: Caller,
        *,
        timeout_s: float | None = None,
    ) -> Any:
        """One request with the gateway's deadline (`timeout_s` for the few batch operations)."""
        self.calls[service] += 1
        try:
            deadline = timeout_s or self.timeout_s
            return await self.client.call(service, method, params, caller, timeout_s=deadline)
        except KaoheError as e:
            if e.code == "unknown_method":  # a service that does not offer this yet: say so clearly
                raise KaoheError(
                    f"{service}.{method} is not available yet", code="not_available", field=e.field
                ) from None
            raise
