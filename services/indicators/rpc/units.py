"""Org hierarchy RPC (组织): versioned units, as-of reads, restructuring; thin handlers over service.units."""

from __future__ import annotations

from datetime import date
from typing import Any

from kaohe.contracts.pages import decode_cursor, encode_cursor, page
from kaohe.errors import NotFound
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain.access import WRITERS
from services.indicators.repository import unit_tree as reads
from services.indicators.repository import units as repo
from services.indicators.rpc.common import uow
from services.indicators.schemas import (
    Children,
    Close,
    HistoryRef,
    Merge,
    Move,
    Rename,
    Split,
    Subtree,
    UnitCreate,
    UnitRef,
    UnitsByIds,
)
from services.indicators.service import units as service


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()

    @rpc.method("unit_create", UnitCreate)
    async def unit_create(caller: Caller, p: UnitCreate) -> dict[str, Any]:
        caller.require(*WRITERS)
        async with uow(rt) as s:
            row = await service.create(
                s,
                caller=caller,
                outbox=rt.outbox,
                unit_id=p.id,
                name=p.name,
                kind=p.kind,
                parent_id=p.parent_id,
                valid_from=p.valid_from or date.today(),
            )
            return repo.public(row)

    @rpc.method("units_by_ids", UnitsByIds)
    async def units_by_ids(caller: Caller, p: UnitsByIds) -> list[dict[str, Any] | None]:
        async with uow(rt) as s:
            if p.as_of is None:  # the current version, closed units included (their last version)
                rows = await repo.many_current(s, p.ids)
            else:
                rows = [(r, "active") for r in await repo.many_at(s, p.ids, p.as_of)]
        by_id = {r["unit_id"]: repo.public(r, status=st) for r, st in rows if caller.covers(r["path"])}
        return [by_id.get(i) for i in p.ids]

    @rpc.method("unit_get", UnitRef)
    async def unit_get(caller: Caller, p: UnitRef) -> dict[str, Any]:
        [found] = await units_by_ids(caller, UnitsByIds(ids=[p.unit_id], as_of=p.as_of))
        if found is None:
            raise NotFound(f"unit {p.unit_id} not found", field="unit_id")
        return found

    @rpc.method("unit_children", Children)
    async def unit_children(caller: Caller, p: Children) -> dict[str, Any]:
        d = p.as_of or date.today()
        after = decode_cursor(p.after)
        async with uow(rt) as s:
            await service.visible(s, caller, p.parent_id, d, "parent_id")
            rows = await repo.children(
                s, p.parent_id, d, kinds=p.kinds, after=after[0] if after else None, limit=p.first + 1
            )
        return page([repo.public(r) for r in rows], p.first, lambda u: (u["id"],))

    @rpc.method("unit_ancestors", UnitRef)
    async def unit_ancestors(caller: Caller, p: UnitRef) -> Any:
        assert rt.db is not None
        # ancestors above the caller's own root stay hidden: the scope rule holds for every read
        path, items = await reads.ancestors(
            rt.db.engine, p.unit_id, p.as_of or date.today(), org_path=caller.org_path
        )
        if path is None or not caller.covers(path):
            raise NotFound(f"unit {p.unit_id} not found on {p.as_of or date.today()}", field="unit_id")
        return items

    @rpc.method("unit_subtree", Subtree)
    async def unit_subtree(caller: Caller, p: Subtree) -> dict[str, Any]:
        assert rt.db is not None
        d = p.as_of or date.today()
        after = decode_cursor(p.after)
        root, items, last = await reads.subtree_page(
            rt.db.engine,
            p.root_id,
            d,
            search=p.search,
            kinds=p.kinds,
            include_root=p.include_root,
            after=after[0] if after else None,
            first=p.first,
        )
        if root is None or not caller.covers(root):
            raise NotFound(f"unit {p.root_id} not found on {d}", field="root_id")
        return {"items": items, "next": encode_cursor(last) if last is not None else None}

    @rpc.method("unit_history", HistoryRef)
    async def unit_history(caller: Caller, p: HistoryRef) -> list[dict[str, Any]]:
        async with uow(rt) as s:
            rows = await repo.history(s, p.unit_id)
        # a version is shown when the caller covers the path it had then
        out = [repo.version_public(r) for r in rows if caller.covers(r["path"])]
        if not out:
            raise NotFound(f"unit {p.unit_id} not found", field="unit_id")
        return out

    @rpc.method("unit_rename", Rename)
    async def unit_rename(caller: Caller, p: Rename) -> dict[str, Any]:
        async with uow(rt) as s:
            row = await service.rename(
                s,
                caller=caller,
                outbox=rt.outbox,
                unit_id=p.unit_id,
                name=p.name,
                effective=p.effective or date.today(),
            )
            return repo.public(row)

    @rpc.method("unit_move", Move)
    async def unit_move(caller: Caller, p: Move) -> dict[str, Any]:
        async with uow(rt) as s:
            row = await service.move(
                s,
                caller=caller,
                outbox=rt.outbox,
                unit_id=p.unit_id,
                parent_id=p.parent_id,
                effective=p.effective or date.today(),
            )
            return repo.public(row)

    @rpc.method("unit_merge", Merge)
    async def unit_merge(caller: Caller, p: Merge) -> dict[str, Any]:
        async with uow(rt) as s:
            row = await service.merge(
                s,
                caller=caller,
                outbox=rt.outbox,
                sources=p.sources,
                into=p.into,
                effective=p.effective or date.today(),
            )
            return repo.public(row)

    @rpc.method("unit_split", Split)
    async def unit_split(caller: Caller, p: Split) -> list[dict[str, Any]]:
        async with uow(rt) as s:
            rows = await service.split(
                s,
                caller=caller,
                outbox=rt.outbox,
                unit_id=p.unit_id,
                into=p.into,
                children=p.children,
                effective=p.effective or date.today(),
            )
            return [repo.public(r) for r in rows]

    @rpc.method("unit_close", Close)
    async def unit_close(caller: Caller, p: Close) -> dict[str, Any]:
        async with uow(rt) as s:
            row = await service.close(
                s, caller=caller, outbox=rt.outbox, unit_id=p.unit_id, effective=p.effective or date.today()
            )
            return repo.public(row, status="closed")
