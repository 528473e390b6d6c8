"""Read methods: thin handlers over service.reads (scores, rankings, 三色榜, warnings, explanations)."""

from __future__ import annotations

from typing import Any

from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.scoring.repository import connection
from services.scoring.schemas import (
    BoardQuery,
    ExplainQuery,
    GradesQuery,
    PeriodsQuery,
    RankingQuery,
    ScoresQuery,
    WarningsQuery,
)
from services.scoring.service import reads
from services.scoring.service.standings import Models, Standings


def register(rt: Runtime, models: Models, places: Standings | None = None) -> None:
    """The read methods on the runtime's RPC server."""
    places = places or Standings()
    rpc = rt.rpc_server()

    def db() -> Any:
        assert rt.db is not None
        return rt.db

    @rpc.method("scores_by_units", ScoresQuery)
    async def scores_by_units(caller: Caller, p: ScoresQuery) -> dict[str, Any]:
        async with connection.reader(db()) as c:  # the hottest read (every unit's score in GraphQL)
            return await reads.scores_by_units(c, caller=caller, p=p, models=models, places=places)

    @rpc.method("ranking", RankingQuery)
    async def ranking(caller: Caller, p: RankingQuery) -> dict[str, Any]:
        async with db().uow() as s:
            return await reads.ranking(
                await connection.raw(s), caller=caller, p=p, models=models, places=places
            )

    @rpc.method("grades", GradesQuery)
    async def grades(caller: Caller, p: GradesQuery) -> list[dict[str, Any]]:
        async with db().uow() as s:
            return await reads.grades(
                await connection.raw(s), caller=caller, p=p, models=models, places=places
            )

    @rpc.method("board", BoardQuery)
    async def board(caller: Caller, p: BoardQuery) -> dict[str, Any]:
        async with db().uow() as s:
            return await reads.board(await connection.raw(s), caller=caller, p=p, models=models)

    @rpc.method("warnings", WarningsQuery)
    async def warnings(caller: Caller, p: WarningsQuery) -> dict[str, Any]:
        async with db().uow() as s:
            return await reads.warnings(await connection.raw(s), caller=caller, p=p)

    @rpc.method("explanation", ExplainQuery)
    async def explanation(caller: Caller, p: ExplainQuery) -> dict[str, Any]:
        async with db().uow() as s:
            return await reads.explanation(await connection.raw(s), caller=caller, p=p, models=models)

    @rpc.method("periods", PeriodsQuery)
    async def periods(caller: Caller, p: PeriodsQuery) -> list[dict[str, Any]]:
        async with db().uow() as s:
            return await reads.periods(await connection.raw(s), caller=caller, p=p, models=models)
