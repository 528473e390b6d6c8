"""Request-reply RPC over core NATS: typed params, the caller's scope on every call, errors as codes.

Subjects are `<rpc_prefix>.<service>.<method>`; servers join a queue group per service so replicas share
the load. nats-py runs a subscription's callbacks one at a time, so each request is handled in its own
task behind a semaphore (backpressure when full). Unexpected exceptions never leave the process: the
caller gets `internal` with a reference id that is also in the server's log.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import nats.errors
import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import BaseModel, ValidationError

from kaohe import logs, metrics
from kaohe.errors import InternalError, KaoheError, UpstreamTimeout, UpstreamUnavailable, ValidationFailed
from kaohe.identity import Caller

log = logs.get("kaohe.rpc")

P = TypeVar("P", bound=BaseModel)
MethodFn = Callable[[Caller, Any], Awaitable[Any]]


@dataclass
class _Method:
    params: type[BaseModel]
    fn: MethodFn


def _dump(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [_dump(r) for r in result]
    if isinstance(result, dict):
        return {k: _dump(v) for k, v in result.items()}
    return result


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) holding U+0000 in a JSON value, else None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if "\x00" in str(k):
                return sub
            found = nul_path(v, sub)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = nul_path(v, f"{path}.{i}" if path else str(i))
            if found is not None:
                return found
    return None


def reject_nul(raw: bytes, req: dict[str, Any]) -> None:
    """Refuse U+0000 anywhere in a request (PostgreSQL text cannot hold it): ValidationFailed naming it.

    JSON can carry U+0000 only as the escape `\\u0000`, so one byte search keeps the common case cheap;
    the walk that names the field runs only when the escape is there (or a literal `\\\\u0000` text).
    """
    if b"\\u0000" not in raw:
        return
    field = nul_path(req.get("params"))
    if field is None and nul_path(req.get("caller")) is not None:
        field = "caller"
    if field is not None:
        raise ValidationFailed(
            f"{field}: text must not contain the NUL character (U+0000)",
            field=field,
            code="invalid_character",
        )


def validation_error(e: ValidationError, prefix: str = "") -> ValidationFailed:
    """A pydantic error as our ValidationFailed, naming the first field and listing all problems."""
    details = [
        {"field": prefix + ".".join(str(p) for p in err["loc"]), "code": err["type"], "message": err["msg"]}
        for err in e.errors()
    ]
    first = details[0] if details else {"field": None, "message": "invalid input"}
    return ValidationFailed(f"{first['field']}: {first['message']}", field=first["field"], details=details)


class RpcServer:
    """Serves one service's methods on `<prefix>.<service>.*`."""

    def __init__(self, nc: NATS, *, service: str, prefix: str = "kaohe-rpc", concurrency: int = 64) -> None:
        self.nc = nc
        self.service = service
        self.prefix = prefix
        self._methods: dict[str, _Method] = {}
        self._sem = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sub: Subscription | None = None

    def method(self, name: str, params: type[P]) -> Callable[[Callable[[Caller, P], Awaitable[Any]]], Any]:
        """Register `fn(caller, params)` as `<service>.<name>`."""

        def deco(fn: Callable[[Caller, P], Awaitable[Any]]) -> Any:
            self._methods[name] = _Method(params, fn)  # type: ignore[arg-type]
            return fn

        return deco

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(
            f"{self.prefix}.{self.service}.*", queue=self.service, cb=self._on_msg
        )
        await self.nc.flush()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop taking requests, then let in-flight ones finish."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace_s)

    async def _on_msg(self, msg: Msg) -> None:
        await self._sem.acquire()
        task = asyncio.create_task(self._serve(msg))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._sem.release()

    async def _serve(self, msg: Msg) -> None:
        name = msg.subject.rsplit(".", 1)[-1]
        started = time.perf_counter()
        outcome = "ok"
        try:
            body = await self.dispatch(name, msg.data)
        except KaoheError as e:
            outcome = e.code
            body = {"ok": False, "error": e.to_dict()}
        except Exception:
            outcome = "internal"
            ref = uuid.uuid4().hex[:12]
            log.exception("rpc.internal_error", service=self.service, method=name, ref=ref)
            body = {"ok": False, "error": InternalError(f"internal error (ref {ref})").to_dict()}
        metrics.RPC_SECONDS.labels(self.service, name, outcome).observe(time.perf_counter() - started)
        if msg.reply:
            try:
                await msg.respond(orjson.dumps(body))
            except nats.errors.Error as e:
                log.warning("rpc.respond_failed", service=self.service, method=name, error=repr(e))

    async def dispatch(self, name: str, raw: bytes) -> dict[str, Any]:
        m = self._methods.get(name)
        if m is None:
            raise KaoheError(f"unknown method {self.service}.{name}", code="unknown_method")
        try:
            req = orjson.loads(raw)
            caller = Caller.model_validate(req["caller"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValidationError) as e:
            raise KaoheError("malformed request envelope", code="bad_request") from e
        reject_nul(raw, req)
        try:
            params = m.params.model_validate(req.get("params") or {})
        except ValidationError as e:
            raise validation_error(e) from None
        result = await m.fn(caller, params)
        return {"ok": True, "result": _dump(result)}


class RpcClient:
    """Calls service methods; maps timeouts, missing responders and remote errors to KaoheError."""

    def __init__(self, nc: NATS, *, prefix: str = "kaohe-rpc", timeout_s: float = 5.0) -> None:
        self.nc = nc
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.calls = 0  # requests sent; tests use it to prove batching

    async def call(
        self,
        service: str,
        method: str,
        params: BaseModel | dict[str, Any] | None,
        caller: Caller,
        *,
        timeout_s: float | None = None,
    ) -> Any:
        payload = params.model_dump(mode="json") if isinstance(params, BaseModel) else (params or {})
        body = orjson.dumps({"caller": caller.model_dump(mode="json"), "params": payload})
        self.calls += 1
        try:
            msg = await self.nc.request(
                f"{self.prefix}.{service}.{method}", body, timeout=timeout_s or self.timeout_s
            )
        except nats.errors.NoRespondersError:
            raise UpstreamUnavailable(
                f"service {service} is not running", code="upstream_unavailable"
            ) from None
        except (nats.errors.TimeoutError, TimeoutError):
            raise UpstreamTimeout(
                f"{service}.{method} did not answer in {timeout_s or self.timeout_s}s"
            ) from None
        reply = orjson.loads(msg.data)
        if not reply.get("ok"):
            raise KaoheError.from_dict(reply.get("error") or {})
        return reply.get("result")
