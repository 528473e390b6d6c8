"""Read methods: an item with its timeline, lists, the 督办清单 board, statistics, scores, timeline verify."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kaohe.contracts.pages import Request
from kaohe.contracts.supervision import Board, ItemDetail, ScorePublic, TimelineVerify
from kaohe.contracts.supervision_rpc import BoardParams, ItemListParams, ItemRef, ScoresParams, StatsParams
from kaohe.db import Database, autocommit
from kaohe.identity import Caller, Role
from kaohe.runtime import Runtime
from services.supervision.repository import signals as sig_repo
from services.supervision.repository.scope import READERS
from services.supervision.service import reads, scores
from services.supervision.service.context import Ctx

ANY = (*READERS, Role.system)


class UnitIds(Request):
    ids: list[str] = Field(max_length=1000)


def register(rt: Runtime, ctx: Ctx) -> None:
    rpc = rt.rpc_server()

    def db() -> Database:
        assert rt.db is not None
        return rt.db

    @rpc.method("item_get", ItemRef)
    async def item_get(caller: Caller, p: ItemRef) -> ItemDetail:
        caller.require(*ANY)
        async with db().uow() as s:
            return await reads.detail(s, ctx, caller, p.item_id)

    @rpc.method("item_list", ItemListParams)
    async def item_list(caller: Caller, p: ItemListParams) -> dict[str, Any]:
        """One read-only statement: an autocommit connection spares the BEGIN and COMMIT round trips."""
        caller.require(*ANY)
        async with autocommit(db().engine) as conn:
            return await reads.page(conn, ctx, caller, p)

    @rpc.method("board", BoardParams)
    async def board(caller: Caller, p: BoardParams) -> Board:
        caller.require(*ANY)
        async with db().uow() as s:
            return await reads.board(s, ctx, caller, p)

    @rpc.method("unit_stats", StatsParams)
    async def unit_stats(caller: Caller, p: StatsParams) -> dict[str, Any]:
        async with db().uow() as s:
            return await reads.stats(s, ctx, caller, p)

    @rpc.method("scores_list", ScoresParams)
    async def scores_list(caller: Caller, p: ScoresParams) -> list[ScorePublic]:
        async with db().uow() as s:
            return await scores.listing(s, caller, p.unit_ids, p.period)

    @rpc.method("timeline_verify", ItemRef)
    async def timeline_verify(caller: Caller, p: ItemRef) -> TimelineVerify:
        async with db().uow() as s:
            return await reads.timeline_verify(s, caller, p.item_id)

    @rpc.method("signals_by_units", UnitIds)
    async def signals_by_units(caller: Caller, p: UnitIds) -> dict[str, list[dict[str, Any]]]:
        """Score changes seen (考核线索), kept for the gateway's `assessmentSignals`."""
        async with db().uow() as s:
            rows = await sig_repo.score_signals(s, p.ids)
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in p.ids}
        for r in rows:
            if caller.covers(r["unit_path"]):
                out[r["unit_id"]].append(
                    {k: r[k] for k in ("event_id", "unit_id", "period", "total")}
                    | {"received_at": r["received_at"].isoformat()}
                )
        return out
