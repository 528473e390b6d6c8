"""scorer_faults (list) and scorer_retry (requeue a quarantined book) over service.quarantine."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.scoring.repository import connection
from services.scoring.schemas import _P, SchemeRef
from services.scoring.service import quarantine


class FaultsQuery(_P):
    scheme_id: str | None = Field(None, min_length=1, max_length=64)


def register(rt: Runtime) -> None:
    """The quarantine's RPC methods on the runtime's server."""
    rpc = rt.rpc_server()

    @rpc.method("scorer_faults", FaultsQuery)
    async def scorer_faults(caller: Caller, p: FaultsQuery) -> list[dict[str, Any]]:
        assert rt.db is not None
        async with rt.db.uow() as s:
            return await quarantine.list_faults(await connection.raw(s), caller=caller, scheme_id=p.scheme_id)

    @rpc.method("scorer_retry", SchemeRef)
    async def scorer_retry(caller: Caller, p: SchemeRef) -> dict[str, Any]:
        assert rt.db is not None
        async with rt.db.uow() as s:
            return await quarantine.retry_book(await connection.raw(s), caller=caller, scheme_id=p.scheme_id)
