"""Shared by the indicators RPC handlers: the unit of work, keyset cursors and pages, event emission."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.events import EventPayload
from kaohe.errors import KaoheError
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.errors import IndicatorsErrorCode

SERVICE = "indicators"
Uow = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def encode_cursor(*parts: object) -> str:
    """An opaque keyset cursor from the sort key of the last item."""
    raw = "\x1f".join(str(p) for p in parts)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, n: int = 1) -> list[str] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise KaoheError(
            "malformed cursor", field="after", code=IndicatorsErrorCode.VALIDATION_FAILED
        ) from None
    parts = raw.split("\x1f")
    if len(parts) != n:
        raise KaoheError("malformed cursor", field="after", code=IndicatorsErrorCode.VALIDATION_FAILED)
    return parts


def page(items: list[Any], first: int, key: Callable[[Any], tuple[object, ...]]) -> dict[str, Any]:
    """Items fetched with LIMIT first+1 → {items, next}."""
    more = len(items) > first
    items = items[:first]
    return {"items": items, "next": encode_cursor(*key(items[-1])) if more and items else None}


def uow(rt: Runtime) -> AbstractAsyncContextManager[AsyncSession]:
    assert rt.db is not None
    return rt.db.uow()


async def emit(rt: Runtime, s: AsyncSession, caller: Caller, payload: EventPayload, *, subject: str) -> None:
    """Write the event of `payload` to the outbox in the caller's unit of work (sent after commit)."""
    await rt.outbox.emit(s, payload.event(subject=subject, trace_id=caller.trace_id))


async def aiter_rows(s: AsyncSession, sql: str, params: dict[str, Any]) -> AsyncIterator[Any]:
    for row in (await s.execute(text(sql), params)).mappings():
        yield row
