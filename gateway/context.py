"""The per-request GraphQL context: the verified caller, service calls and fresh DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.fastapi import BaseContext

from gateway.config import GatewayConfig
from gateway.loaders import Loaders
from gateway.upstream import Upstream
from kaohe.errors import Unauthenticated
from kaohe.identity import Caller

WsAuth = Callable[[Any], Awaitable[Caller]]


class Context(BaseContext):
    """HTTP: the caller is known when the context is built. WebSocket: from `connection_init`'s payload."""

    def __init__(
        self,
        caller: Caller | None,
        rpc: Upstream,
        config: GatewayConfig,
        services: Any,
        ws_auth: WsAuth | None = None,
    ) -> None:
        super().__init__()
        self._caller = caller
        self.rpc = rpc
        self.config = config
        self.services = services  # gateway-local services: API keys, webhooks, live events
        self.ws_auth = ws_auth
        self.loaders: Loaders | None = None  # made on first use: many requests need none
        self.active_subscriptions = 0

    @property
    def caller(self) -> Caller:
        if self._caller is None:
            raise Unauthenticated("not authenticated: send Authorization in connection_init")
        return self._caller

    async def authenticate_ws(self) -> Caller:
        """Authenticate a WebSocket connection once, from the graphql-transport-ws init payload."""
        if self._caller is None and self.ws_auth is not None:
            self._caller = await self.ws_auth(self.connection_params or {})
        return self.caller

    def fresh_loaders(self) -> Loaders:
        """New loaders (no stale cache): per event on subscriptions."""
        return Loaders(self.rpc, self.caller)

    @property
    def l(self) -> Loaders:  # noqa: E743
        if self.loaders is None:
            self.loaders = Loaders(self.rpc, self.caller)
        return self.loaders
