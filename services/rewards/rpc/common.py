"""Shared by the rewards RPC handlers: the runtime's database and its session's connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from kaohe.db import Database
from kaohe.runtime import Runtime
from services.rewards.repository.connection import raw, read_only


def db(rt: Runtime) -> Database:
    assert rt.db is not None, "the runtime is not started"
    return rt.db


@asynccontextmanager
async def conn(rt: Runtime, *, readonly: bool = False) -> AsyncIterator[asyncpg.Connection]:
    """A unit of work's asyncpg connection: committed when the block ends, rolled back when it raises."""
    async with db(rt).uow() as s:
        yield await (read_only(s) if readonly else raw(s))
