"""Documents service (公文): wiring only — the RPC methods, the store and the HTTP client for its writes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from kaohe.runtime import Runtime
from kaohe.settings import ComponentSettings, InfraSettings
from services.documents import rpc
from services.documents.service.issue import Issuer


def setup(settings: ComponentSettings, infra: InfraSettings, app: FastAPI | None = None) -> Runtime:
    """Build the documents runtime; nothing connects until `rt.start()`."""
    rt = Runtime(settings, infra, uses_s3=True)
    rpc.register(rt, lambda: rt.state["issuer"])

    async def start(rt: Runtime) -> None:
        assert rt.db is not None and rt.store is not None
        http = httpx.AsyncClient(timeout=60)
        rt.state["http"] = http
        rt.state["issuer"] = Issuer(rt.db, rt.store, http, settings.download_ttl_s)  # type: ignore[attr-defined]

    async def stop(rt: Runtime) -> None:
        http = rt.state.pop("http", None)
        if http is not None:
            await http.aclose()

    rt.on_start.append(start)
    rt.on_stop.append(stop)
    return rt
