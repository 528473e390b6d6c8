"""Office methods: thin handlers over service.admin (configuration, exemptions, aspect scores, recompute)."""

from __future__ import annotations

import asyncio
from typing import Any

from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.scoring.repository import connection
from services.scoring.schemas import AspectScoresSet, BookPeriod, ConfigSet, ExemptionSet, JobRef, SchemeRef
from services.scoring.service import admin
from services.scoring.service.recompute import run_recompute


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()
    tasks: set[asyncio.Task[Any]] = rt.state.setdefault("jobs", set())

    def db() -> Any:
        assert rt.db is not None
        return rt.db

    @rpc.method("config_get", SchemeRef)
    async def config_get(caller: Caller, p: SchemeRef) -> dict[str, Any]:
        async with db().uow() as s:
            return await admin.config_get(await connection.raw(s), caller=caller, p=p)

    @rpc.method("config_set", ConfigSet)
    async def config_set(caller: Caller, p: ConfigSet) -> dict[str, Any]:
        async with db().uow() as s:
            return await admin.config_set(await connection.raw(s), caller=caller, p=p)

    @rpc.method("exemption_set", ExemptionSet)
    async def exemption_set(caller: Caller, p: ExemptionSet) -> dict[str, Any]:
        async with db().uow() as s:
            return await admin.exemption_set(await connection.raw(s), caller=caller, p=p)

    @rpc.method("aspect_scores_set", AspectScoresSet)
    async def aspect_scores_set(caller: Caller, p: AspectScoresSet) -> dict[str, Any]:
        async with db().uow() as s:
            return await admin.aspect_scores_set(await connection.raw(s), caller=caller, p=p)

    @rpc.method("recompute_start", BookPeriod)
    async def recompute_start(caller: Caller, p: BookPeriod) -> dict[str, Any]:
        async with db().uow() as s:
            job, book = await admin.queue_recompute(await connection.raw(s), caller=caller, p=p)
        # the job runs after commit, outside the request (recompute_status follows it)
        prefix = rt.settings.event_prefix
        task = asyncio.create_task(run_recompute(db(), prefix, job["job_id"], book, p.period))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return job

    @rpc.method("recompute_status", JobRef)
    async def recompute_status(caller: Caller, p: JobRef) -> dict[str, Any]:
        async with db().uow() as s:
            return await admin.recompute_status(await connection.raw(s), caller=caller, p=p)
