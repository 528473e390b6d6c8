"""Shared by the indicators RPC handlers: the unit of work (cursors and pages: kaohe.contracts.pages)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.runtime import Runtime


def uow(rt: Runtime) -> AbstractAsyncContextManager[AsyncSession]:
    assert rt.db is not None
    return rt.db.uow()
