"""Cadre registry RPC (干部名册): persons, posts, imports, grades, unit profiles and pools."""

from __future__ import annotations

from typing import Any

from kaohe.contracts import rewards as c
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.rewards.rpc.common import conn
from services.rewards.service import imports, registry
from services.rewards.settings import RewardsSettings


def register(rt: Runtime, settings: RewardsSettings) -> None:
    server = rt.rpc_server()
    key = settings.id_hmac_key.get_secret_value().encode()

    @server.method("person_upsert", c.PersonUpsert)
    async def person_upsert(caller: Caller, p: c.PersonUpsert) -> c.PersonPublic:
        async with conn(rt) as cx:
            return c.PersonPublic.model_validate(await registry.upsert_person(cx, caller, p, key=key))

    @server.method("person_get", c.PersonGet)
    async def person_get(caller: Caller, p: c.PersonGet) -> c.PersonPublic:
        async with conn(rt, readonly=True) as cx:
            return c.PersonPublic.model_validate(await registry.get_person(cx, caller, p.person_key))

    @server.method("post_upsert", c.PostUpsert)
    async def post_upsert(caller: Caller, p: c.PostUpsert) -> c.PostPublic:
        async with conn(rt) as cx:
            return c.PostPublic.model_validate(await registry.upsert_post(cx, caller, p))

    @server.method("post_end", c.PostEnd)
    async def post_end(caller: Caller, p: c.PostEnd) -> c.PostPublic:
        async with conn(rt) as cx:
            return c.PostPublic.model_validate(await registry.end_post(cx, caller, p))

    @server.method("cadres_list", c.CadresList)
    async def cadres_list(caller: Caller, p: c.CadresList) -> dict[str, Any]:
        async with conn(rt, readonly=True) as cx:
            got = await registry.cadres(cx, caller, p)
        return {"items": [c.CadreRow.model_validate(i) for i in got["items"]], "next": got["next"]}

    @server.method("cadre_import_dry_run", c.ImportFile)
    async def cadre_import_dry_run(caller: Caller, p: c.ImportFile) -> c.ImportReport:
        async with conn(rt, readonly=True) as cx:
            return c.ImportReport.model_validate(
                await imports.dry_run(cx, caller, p, store=rt.store, hmac_key=key)
            )

    @server.method("cadre_import_commit", c.ImportCommit)
    async def cadre_import_commit(caller: Caller, p: c.ImportCommit) -> c.ImportReport:
        async with conn(rt) as cx:
            return c.ImportReport.model_validate(
                await imports.commit(cx, caller, p, store=rt.store, hmac_key=key)
            )

    @server.method("person_grades_set", c.PersonGradesSet)
    async def person_grades_set(caller: Caller, p: c.PersonGradesSet) -> c.Count:
        async with conn(rt) as cx:
            return c.Count.model_validate(await registry.set_grades(cx, caller, p))

    @server.method("unit_profiles_set", c.UnitProfilesSet)
    async def unit_profiles_set(caller: Caller, p: c.UnitProfilesSet) -> c.Count:
        async with conn(rt) as cx:
            return c.Count.model_validate(await registry.set_profiles(cx, caller, p))

    @server.method("unit_pools_set", c.UnitPoolsSet)
    async def unit_pools_set(caller: Caller, p: c.UnitPoolsSet) -> c.Count:
        async with conn(rt) as cx:
            return c.Count.model_validate(await registry.set_pools(cx, caller, p))
