"""Categories (分类) RPC: thin handlers over service.categories."""

from __future__ import annotations

from typing import Any

from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain.access import OFFICE
from services.indicators.rpc.common import uow
from services.indicators.schemas import CategoriesRef, CategoriesSet
from services.indicators.service import categories


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()

    @rpc.method("categories_set", CategoriesSet)
    async def categories_set(caller: Caller, p: CategoriesSet) -> dict[str, Any]:
        caller.require(*OFFICE)
        async with uow(rt) as s:
            return await categories.set_categories(
                s,
                caller=caller,
                assessing_unit=p.assessing_unit,
                year=p.year,
                categories=[(c.name, c.description) for c in p.categories],
                members=p.members,
            )

    @rpc.method("categories_get", CategoriesRef)
    async def categories_get(caller: Caller, p: CategoriesRef) -> dict[str, Any]:
        async with uow(rt) as s:
            return await categories.get_categories(
                s, caller=caller, assessing_unit=p.assessing_unit, year=p.year
            )
