"""Request limits: body size and well-formed input (ASGI middleware), a token-bucket rate limit per client."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.cache_asgi import read_body, replay_body
from kaohe.errors import KaoheError
from kaohe.rpc import nul_path


class RateLimited(KaoheError):
    code, status = "rate_limited", 429

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BodyTooLarge(KaoheError):
    code, status = "body_too_large", 413


class RateLimiter:
    """One token bucket per client key (user id or API key id) in this process."""

    MAX_CLIENTS = 100_000

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def check(self, key: str) -> None:
        """Take a token for `key` or raise RateLimited with the wait until the next one."""
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
            raise RateLimited(f"too many requests; retry in {wait:.2f}s", retry_after_s=wait)
        if len(self._buckets) >= self.MAX_CLIENTS and key not in self._buckets:
            self._evict(now)
        self._buckets[key] = (tokens - 1.0, now)

    def _evict(self, now: float) -> None:
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for k in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[k]


class BodyLimit:
    """Reject request bodies above `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _too_large(send, self.max_bytes)
            return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise _Overflow
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited, tracking_send)
        except _Overflow:
            if not started:
                await _too_large(send, self.max_bytes)


class _Overflow(Exception):
    pass


async def _too_large(send: Send, max_bytes: int) -> None:
    body: Any = orjson.dumps(
        {
            "type": "about:blank",
            "title": "Payload Too Large",
            "status": 413,
            "detail": f"request body larger than {max_bytes} bytes",
            "code": "body_too_large",
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- well-formed input ----------------------------------------------------------------------------
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')  # a JSON string literal (possessive: no backtracking)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]++")
_INNERMOST = re.compile(rb"\[\]|\{\}")


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether a JSON document nests arrays/objects deeper than `limit`, without parsing it recursively.

    Strings are blanked, everything but brackets dropped, then each pass removes the innermost pairs: a
    document of depth d is empty after d passes. Bodies with at most `limit` brackets cannot be too deep.
    """
    if body.count(b"{") + body.count(b"[") <= limit:
        return False
    s = _NOT_BRACKET.sub(b"", _STRING.sub(b"", body))
    for _ in range(limit):
        s = _INNERMOST.sub(b"", s)
        if not s:
            return False
    try:  # left over: deeper than the limit, or malformed (then the endpoint's own parser answers)
        orjson.loads(body)
    except orjson.JSONDecodeError as e:
        return "depth" in str(e)
    return True


class InputGuard:
    """Refuse, before any handler runs, input no handler should see: NUL (U+0000) in the path, a query
    parameter or a JSON string (PostgreSQL text cannot hold it), and JSON nested deeper than `max_depth`
    (deep recursion in parsers and validators). GraphQL gets a GraphQL error, REST a problem document;
    both 400 with a code and the field.
    """

    def __init__(self, app: ASGIApp, max_depth: int = 64) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        graphql = scope["path"].startswith("/graphql")
        if "\x00" in scope["path"]:
            await _bad_input(send, graphql, "path", "the URL path contains the NUL character (U+0000)")
            return
        qs: bytes = scope.get("query_string") or b""
        if b"%00" in qs or b"\x00" in qs:
            for name, value in parse_qsl(qs.decode("latin-1"), keep_blank_values=True, encoding="utf-8"):
                if "\x00" in name or "\x00" in value:
                    field = name.replace("\x00", "") or "query"
                    await _bad_input(send, graphql, field, f"{field}: contains the NUL character (U+0000)")
                    return
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        if scope["method"] not in ("POST", "PUT", "PATCH") or b"json" not in content_type:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if json_too_deep(body, self.max_depth):
            msg = f"JSON nested deeper than {self.max_depth} levels"
            await _bad_input(send, graphql, "body", msg, code="too_deep")
            return
        if b"\\u0000" in body:
            try:
                field = nul_path(orjson.loads(body))
            except orjson.JSONDecodeError:
                field = None
            if field is not None:
                msg = f"{field}: text must not contain the NUL character (U+0000)"
                await _bad_input(send, graphql, field, msg)
                return
        await self.app(scope, replay_body(body, receive), send)


async def _bad_input(
    send: Send, graphql: bool, field: str, message: str, code: str = "invalid_character"
) -> None:
    if graphql:
        doc: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code, "field": field}}]}
        ctype = b"application/json"
    else:
        doc = {
            "type": f"https://kaohe.dev/problems/{code}",
            "title": code.replace("_", " "),
            "status": 400,
            "detail": message,
            "code": code,
            "field": field,
        }
        ctype = b"application/problem+json"
    body = orjson.dumps(doc)
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})
