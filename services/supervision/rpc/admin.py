"""Office methods: XLSX import and export of the 督办清单, the sweep "as of", the working-day calendar."""

from __future__ import annotations

from kaohe.contracts.supervision import CalendarPublic, ExportFile, ImportReport, SweepResult
from kaohe.contracts.supervision_rpc import (
    CalendarOverrideParams,
    CalendarQuery,
    CalendarVersionsQuery,
    CalendarYearParams,
    ExportParams,
    ImportParams,
    SweepParams,
)
from kaohe.db import Database
from kaohe.identity import Caller, Role
from kaohe.runtime import Runtime
from services.supervision.errors import SweepForbidden
from services.supervision.repository.scope import READERS
from services.supervision.service import calendar, sheets
from services.supervision.service.context import Ctx
from services.supervision.service.sweep import sweep_once


def register(rt: Runtime, ctx: Ctx) -> None:
    rpc = rt.rpc_server()

    def db() -> Database:
        assert rt.db is not None
        return rt.db

    @rpc.method("items_import", ImportParams)
    async def items_import(caller: Caller, p: ImportParams) -> ImportReport:
        caller.require(Role.supervisor, Role.system)
        async with db().uow() as s:
            return await sheets.import_items(s, ctx, caller, p)

    @rpc.method("items_export", ExportParams)
    async def items_export(caller: Caller, p: ExportParams) -> ExportFile:
        async with db().uow() as s:
            return await sheets.export(s, ctx, caller, p)

    @rpc.method("sweep_run", SweepParams)
    async def sweep_run(caller: Caller, p: SweepParams) -> SweepResult:
        caller.require(Role.supervisor, Role.system)
        if ctx.settings.environment == "production":
            raise SweepForbidden("sweep_run is refused in production: the sweep runs on its own")
        now = p.as_of or ctx.now()
        got = await sweep_once(db(), ctx, now=now, batch=p.batch)
        return SweepResult(
            as_of=now, items=got.items, breaches=got.breaches, cards=got.cards, scores=got.scores
        )

    @rpc.method("calendar_get", CalendarQuery)
    async def calendar_get(caller: Caller, p: CalendarQuery) -> CalendarPublic:
        caller.require(*READERS, Role.system, Role.integration)
        async with db().uow() as s:
            return await calendar.current(s, ctx)

    @rpc.method("calendar_versions", CalendarVersionsQuery)
    async def calendar_versions(caller: Caller, p: CalendarVersionsQuery) -> list[CalendarPublic]:
        caller.require(*READERS, Role.system, Role.integration)
        async with db().uow() as s:
            return await calendar.versions(s, p.first)

    @rpc.method("calendar_override_set", CalendarOverrideParams)
    async def calendar_override_set(caller: Caller, p: CalendarOverrideParams) -> CalendarPublic:
        async with db().uow() as s:
            return await calendar.set_overrides(s, ctx, caller, p)

    @rpc.method("calendar_year_set", CalendarYearParams)
    async def calendar_year_set(caller: Caller, p: CalendarYearParams) -> CalendarPublic:
        async with db().uow() as s:
            return await calendar.set_year(s, ctx, caller, p)
