"""Shared GraphQL building blocks: typed errors, Relay connections with keyset cursors, conversions."""

from __future__ import annotations

import functools
import typing
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.policy import Op, authorize
from kaohe.contracts import pages
from kaohe.errors import KaoheError, ValidationFailed

T = TypeVar("T")


@strawberry.type(description="A typed error of a mutation: machine code, the input field, a human message")
class UserError:
    code: str
    field: str | None
    message: str

    @staticmethod
    def of(e: KaoheError) -> UserError:
        return UserError(code=e.code, field=input_field(e.field), message=e.message)


def input_field(field: str | None) -> str | None:
    """A service's field path in the caller's spelling: the argument name in camelCase (`unit_id` →
    `unitId`); deeper segments stay as sent (JSON keys, list indices), so `scheme.trunk.0.weight` keeps its
    inner keys and `members.1.unitId` its index."""
    if not field:
        return field
    head, dot, rest = field.partition(".")
    first, *more = head.split("_")
    return first + "".join(w[:1].upper() + w[1:] for w in more) + dot + rest


@strawberry.type(description="Relay page information")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of results (keyset pagination: pass `pageInfo.endCursor` as `after`)")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of this page, without edges")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def encode_cursor(service_cursor: str) -> str:
    """Wrap a service's opaque keyset cursor (clients must not parse it)."""
    return pages.encode_cursor(service_cursor)


def decode_cursor(cursor: str | None) -> str | None:
    """The service's cursor inside a client's `after` (bad_cursor naming `after` when it is not one)."""
    key = pages.decode_cursor(cursor, 1)
    return None if key is None else str(key[0])


def page_size(info: Info[Context, None], first: int | None) -> int:
    """`first`, defaulted and capped (max_results): too large is an error, never silently cut."""
    cfg = info.context.config
    n = cfg.default_page if first is None else first
    if n < 1 or n > cfg.max_page:
        raise ValidationFailed(
            f"first must be between 1 and {cfg.max_page}", field="first", code="page_size_out_of_range"
        )
    return n


def capped(info: Info[Context, None], items: list[Any], field: str) -> list[Any]:
    """Reject input lists longer than the configured cap."""
    if len(items) > info.context.config.max_list:
        raise ValidationFailed(
            f"at most {info.context.config.max_list} items in {field}", field=field, code="too_many"
        )
    return items


def connection(
    items: list[Any], next_cursor: str | None, build: Callable[[dict[str, Any]], T], key: str = "id"
) -> Connection[T]:
    """A Connection from a service page `{items, next}`; each edge's cursor is the last keyset position."""
    edges = [Edge(cursor=encode_cursor(f"@{d.get(key)}"), node=build(d)) for d in items]
    end = encode_cursor(next_cursor) if next_cursor else (edges[-1].cursor if edges else None)
    return Connection(edges=edges, page_info=PageInfo(has_next_page=next_cursor is not None, end_cursor=end))


@functools.cache
def _fields(cls: Any) -> dict[str, Any]:
    return {k: v for k, v in typing.get_type_hints(cls).items() if not k.startswith("_")}


def _convert(tp: Any, v: Any) -> Any:
    if isinstance(v, str):
        if tp in (datetime, datetime | None):
            return datetime.fromisoformat(v)
        if tp in (date, date | None):
            return date.fromisoformat(v)
    return v


def mk(cls: type[T], d: dict[str, Any]) -> T:
    """Build a GraphQL object from an RPC result dict (JSON dates back to date objects)."""
    fields = _fields(cls)
    kwargs = {k: _convert(fields[k], v) for k, v in d.items() if k in fields}
    for k, tp in fields.items():  # optional fields a service does not send yet default to null
        if k not in kwargs and (type(None) in typing.get_args(tp)):
            kwargs[k] = None
    return cls(**kwargs)


def mk_opt(cls: type[T], d: dict[str, Any] | None) -> T | None:
    return mk(cls, d) if d else None


async def call(
    info: Info[Context, None],
    op: Op,
    service: str,
    method: str,
    params: dict[str, Any],
    *,
    batch: bool = False,
) -> Any:
    """Authorize `op` for the caller, then call the service with the caller's scope; `batch` operations
    (bulk import and approval) get the longer `bulk_timeout_s` deadline."""
    ctx = info.context
    authorize(ctx.caller, op)
    timeout = ctx.config.bulk_timeout_s if batch else None
    return await ctx.rpc.call(service, method, params, ctx.caller, timeout_s=timeout)


def inp(obj: Any) -> dict[str, Any]:
    """A strawberry input as RPC params (unset optional fields left out)."""
    return {k: v for k, v in vars(obj).items() if v is not None and v is not strawberry.UNSET}


async def payload(cls: type[T], field: str, fn: Awaitable[Any]) -> T:
    """Run a mutation: the changed object on success, typed `errors` for domain errors."""
    try:
        return cls(**{field: await fn})  # type: ignore[call-arg]
    except KaoheError as e:
        return cls(errors=[UserError.of(e)])  # type: ignore[call-arg]
