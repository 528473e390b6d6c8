"""Thin RPC handlers of the notices service: the caller's inbox, preferences, the office's 通讯录 and log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from kaohe.contracts.notices import (
    DeliveriesQuery,
    Empty,
    MarkRead,
    NotificationsQuery,
    PreferencesSet,
    RecipientsImport,
)
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.notices.repository.connection import raw
from services.notices.service import inbox


def register(rt: Runtime, clock: Callable[[], datetime]) -> None:
    rpc = rt.rpc_server()

    def db() -> Any:
        assert rt.db is not None
        return rt.db

    @rpc.method("notifications", NotificationsQuery)
    async def notifications(caller: Caller, p: NotificationsQuery) -> dict[str, Any]:
        async with db().uow() as s:
            return await inbox.page(await raw(s), caller=caller, p=p)

    @rpc.method("unread_count", Empty)
    async def unread_count(caller: Caller, p: Empty) -> dict[str, Any]:
        async with db().uow() as s:
            return await inbox.unread(await raw(s), caller=caller)

    @rpc.method("notification_mark_read", MarkRead)
    async def mark_read(caller: Caller, p: MarkRead) -> dict[str, Any]:
        async with db().uow() as s:
            return await inbox.mark_read(await raw(s), caller=caller, p=p, now=clock())

    @rpc.method("preferences_get", Empty)
    async def preferences_get(caller: Caller, p: Empty) -> dict[str, Any]:
        async with db().uow() as s:
            return await inbox.get_preferences(await raw(s), caller=caller)

    @rpc.method("preferences_set", PreferencesSet)
    async def preferences_set(caller: Caller, p: PreferencesSet) -> dict[str, Any]:
        async with db().uow() as s:
            return await inbox.set_preferences(await raw(s), caller=caller, p=p, now=clock())

    @rpc.method("recipients_import", RecipientsImport)
    async def recipients_import(caller: Caller, p: RecipientsImport) -> dict[str, Any]:
        async with db().uow() as s:
            return await inbox.import_recipients(await raw(s), caller=caller, p=p, now=clock())

    @rpc.method("deliveries", DeliveriesQuery)
    async def deliveries(caller: Caller, p: DeliveriesQuery) -> dict[str, Any]:
        async with db().uow() as s:
            return await inbox.delivery_log(await raw(s), caller=caller, p=p)
