"""Results publication methods: thin handlers over service.publication (申诉, 结果发布, snapshots)."""

from __future__ import annotations

from typing import Any

from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.scoring.repository import connection
from services.scoring.schemas import (
    BookPeriod,
    ObjectionAnswer,
    ObjectionCreate,
    ObjectionsQuery,
    Publish,
    SchemeRef,
    SnapshotQuery,
    WindowOpen,
)
from services.scoring.service import publication
from services.scoring.service.standings import Models, Standings
from services.scoring.workers import ModelCache


def register(rt: Runtime, models: Models | None = None, places: Standings | None = None) -> None:
    models = models or ModelCache()
    places = places or Standings()
    rpc = rt.rpc_server()

    def db() -> Any:
        assert rt.db is not None
        return rt.db

    @rpc.method("results_state", BookPeriod)
    async def results_state(caller: Caller, p: BookPeriod) -> dict[str, Any]:
        async with db().uow() as s:
            return await publication.results_state(await connection.raw(s), caller=caller, p=p)

    @rpc.method("result_periods", SchemeRef)
    async def result_periods(caller: Caller, p: SchemeRef) -> list[dict[str, Any]]:
        async with db().uow() as s:
            return await publication.result_periods(await connection.raw(s), caller=caller, p=p)

    @rpc.method("objection_window_open", WindowOpen)
    async def objection_window_open(caller: Caller, p: WindowOpen) -> dict[str, Any]:
        async with db().uow() as s:
            return await publication.objection_window_open(await connection.raw(s), caller=caller, p=p)

    @rpc.method("objection_create", ObjectionCreate)
    async def objection_create(caller: Caller, p: ObjectionCreate) -> dict[str, Any]:
        async with db().uow() as s:
            return await publication.objection_create(
                await connection.raw(s), caller=caller, p=p, prefix=rt.settings.event_prefix
            )

    @rpc.method("objection_answer", ObjectionAnswer)
    async def objection_answer(caller: Caller, p: ObjectionAnswer) -> dict[str, Any]:
        async with db().uow() as s:
            return await publication.objection_answer(
                await connection.raw(s), caller=caller, p=p, prefix=rt.settings.event_prefix
            )

    @rpc.method("objections", ObjectionsQuery)
    async def objections(caller: Caller, p: ObjectionsQuery) -> dict[str, Any]:
        async with db().uow() as s:
            return await publication.objections(await connection.raw(s), caller=caller, p=p)

    @rpc.method("results_publish", Publish)
    async def results_publish(caller: Caller, p: Publish) -> dict[str, Any]:
        async with db().uow() as s:
            return await publication.results_publish(
                await connection.raw(s),
                caller=caller,
                p=p,
                models=models,
                places=places,
                prefix=rt.settings.event_prefix,
            )

    @rpc.method("results_snapshot", SnapshotQuery)
    async def results_snapshot(caller: Caller, p: SnapshotQuery) -> dict[str, Any]:
        async with db().uow() as s:
            return await publication.results_snapshot(await connection.raw(s), caller=caller, p=p)
