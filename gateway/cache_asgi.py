"""The response cache in front of strawberry: a hit never reaches GraphQL execution or a service.

The caller is authenticated here (rate limit included) and handed to the GraphQL context through the ASGI
scope, so a miss does not authenticate twice. `Cache-Control: no-cache` (or `no-store`) on a request skips
the cache both ways (the benchmark's uncached figures use it). Responses carry `X-Kaohe-Cache: hit|miss`.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.cache import Key, ResponseCache, scope_of
from kaohe.errors import KaoheError

CALLER = "kaohe.caller"  # ASGI scope keys read by the GraphQL context getter
AUTH_ERROR = "kaohe.auth_error"
HIT = [(b"x-kaohe-cache", b"hit")]
MISS = (b"x-kaohe-cache", b"miss")


class ResponseCacheMiddleware:
    def __init__(self, app: ASGIApp, cache: ResponseCache, services: Any) -> None:
        self.app = app
        self.cache = cache
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"].rstrip("/") != "/graphql"
            or not self.cache.usable
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cc = headers.get("cache-control", "").lower()
        if "no-cache" in cc or "no-store" in cc:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        replay = replay_body(body, receive)
        doc_vars = self._document(body)
        if doc_vars is None:
            await self.app(scope, replay, send)
            return
        trace_id = headers.get("x-trace-id") or uuid.uuid4().hex
        try:
            caller = await self.services.authenticate(headers, trace_id)
        except KaoheError as e:  # answered by the GraphQL endpoint, as without the cache
            scope[AUTH_ERROR] = e
            await self.app(scope, replay, send)
            return
        scope[CALLER] = caller
        key: Key = (*doc_vars, scope_of(caller))
        hit = self.cache.get(key)
        if hit is not None:
            await send({"type": "http.response.start", "status": hit.status, "headers": hit.headers + HIT})
            await send({"type": "http.response.body", "body": hit.body})
            return
        generation = self.cache.generation  # read before any service is asked
        status = 0
        out_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, out_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                out_headers = list(message.get("headers") or [])
                message = {**message, "headers": [*out_headers, MISS]}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and status == 200:
                    data = b"".join(chunks)
                    if b'"errors"' not in data:  # conservative: a value spelled "errors" is just not cached
                        self.cache.put(key, generation, status, out_headers, data)
            await send(message)

        await self.app(scope, replay, capture)

    def _document(self, body: bytes) -> tuple[str, str | None, bytes] | None:
        """(normalized document, operation name, canonical variables) of a cacheable request, else None."""
        try:
            req = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(req, dict):
            return None
        query, op, variables = req.get("query"), req.get("operationName"), req.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict) or not isinstance(op, str | None):
            return None
        doc = self.cache.document(query, op)
        if doc is None:
            return None
        return doc, op, orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)


async def read_body(receive: Receive) -> bytes:
    """The whole request body (its size is capped by BodyLimit, outside this middleware)."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(parts)
        elif message["type"] == "http.disconnect":
            return b"".join(parts)


def replay_body(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
