"""Shared by the indicators RPC handlers: the unit of work and event emission (cursors: contracts.pages)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.events import EventPayload
from kaohe.identity import Caller
from kaohe.runtime import Runtime

SERVICE = "indicators"


def uow(rt: Runtime) -> AbstractAsyncContextManager[AsyncSession]:
    assert rt.db is not None
    return rt.db.uow()


async def emit(rt: Runtime, s: AsyncSession, caller: Caller, payload: EventPayload, *, subject: str) -> None:
    """Write the event of `payload` to the outbox in the caller's unit of work (sent after commit)."""
    await rt.outbox.emit(s, payload.event(subject=subject, trace_id=caller.trace_id))
