"""Ledger RPC (实绩档案): pages per unit and person, the newest entries for DataLoaders, verify, export."""

from __future__ import annotations

from typing import Any

from kaohe.contracts import rewards as c
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.rewards.rpc.common import conn
from services.rewards.service import exports, ledger
from services.rewards.settings import RewardsSettings


def _page(got: dict[str, Any]) -> dict[str, Any]:
    return {"items": [c.LedgerEntryPublic.model_validate(i) for i in got["items"]], "next": got["next"]}


def register(rt: Runtime, settings: RewardsSettings) -> None:
    server = rt.rpc_server()

    @server.method("ledger_unit", c.LedgerUnit)
    async def ledger_unit(caller: Caller, p: c.LedgerUnit) -> dict[str, Any]:
        async with conn(rt, readonly=True) as cx:
            return _page(await ledger.unit_page(cx, caller, p))

    @server.method("ledger_person", c.LedgerPerson)
    async def ledger_person(caller: Caller, p: c.LedgerPerson) -> dict[str, Any]:
        async with conn(rt, readonly=True) as cx:
            return _page(await ledger.person_page(cx, caller, p))

    @server.method("ledger_by_units", c.LedgerByUnits)
    async def ledger_by_units(caller: Caller, p: c.LedgerByUnits) -> dict[str, list[c.LedgerEntryPublic]]:
        async with conn(rt, readonly=True) as cx:
            got = await ledger.by_units(cx, caller, p)
        return {u: [c.LedgerEntryPublic.model_validate(e) for e in es] for u, es in got.items()}

    @server.method("ledger_verify", c.LedgerVerify)
    async def ledger_verify(caller: Caller, p: c.LedgerVerify) -> c.LedgerVerdict:
        async with conn(rt, readonly=True) as cx:
            return c.LedgerVerdict.model_validate(await ledger.verify(cx, caller, p))

    @server.method("ledger_export", c.LedgerExport)
    async def ledger_export(caller: Caller, p: c.LedgerExport) -> c.ExportPublic:
        assert rt.store is not None
        async with conn(rt, readonly=True) as cx:
            got = await exports.ledger(cx, caller, p, store=rt.store, ttl_s=settings.export_ttl_s)
        return c.ExportPublic.model_validate(got)
