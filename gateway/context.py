"""The per-request GraphQL context: the verified caller, an RPC client and fresh DataLoaders."""

from __future__ import annotations

from strawberry.fastapi import BaseContext

from gateway.loaders import Loaders
from kaohe.identity import Caller
from kaohe.rpc import RpcClient


class Context(BaseContext):
    def __init__(self, caller: Caller, client: RpcClient, loaders: Loaders) -> None:
        super().__init__()
        self.caller = caller
        self.client = client
        self.loaders = loaders
