"""A webhook receiver on a real loopback port, for tests of signed deliveries (webhooks, intake callbacks)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from kaohe import devstack
from tests.conftest import eventually


class Receiver:
    """Records every request (`at`, `type`, `headers`, `body`); answers 500 to the first `fail_first`
    attempts of each event id, then 200."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.hits: list[dict[str, Any]] = []
        self.port = devstack.free_port()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        event = headers.get("kaohe-event-id", "")
        n = sum(1 for h in self.hits if h["headers"].get("kaohe-event-id") == event)
        self.hits.append(
            {
                "at": time.monotonic(),
                "type": headers.get("kaohe-event-type"),
                "headers": headers,
                "body": body,
            }
        )
        status = 500 if n < self.fail_first else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@contextlib.asynccontextmanager
async def serving(rec: Receiver) -> AsyncIterator[Receiver]:
    """The receiver served on its port for the block."""
    server = uvicorn.Server(
        uvicorn.Config(rec, host="127.0.0.1", port=rec.port, log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve())

    async def up() -> bool:
        return bool(server.started)

    await eventually(up, what="webhook receiver up")
    try:
        yield rec
    finally:
        server.should_exit = True
        await task
