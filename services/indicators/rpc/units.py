"""Org hierarchy RPC (组织): versioned units, as-of reads, restructuring (rename/move/merge/split/close)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from kaohe.contracts.indicators import Lineage, UnitBefore, UnitChanged, UnitVersion
from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.identity import Caller
from kaohe.runtime import Runtime
from services.indicators.domain.access import WRITERS
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.repository import unit_tree as reads
from services.indicators.repository import units as repo
from services.indicators.rpc.common import decode_cursor, emit, encode_cursor, page, uow
from services.indicators.schemas import Ids, In, Page, UnitCreate, UnitKind

ID = Field(min_length=2, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")


class UnitsByIds(Ids):
    as_of: date | None = None


class UnitRef(In):
    unit_id: str = Field(max_length=40)
    as_of: date | None = None


class Children(Page):
    parent_id: str = Field(max_length=40)
    as_of: date | None = None
    kinds: list[UnitKind] | None = None


class Subtree(Page):
    root_id: str = Field(max_length=40)
    as_of: date | None = None
    search: str | None = Field(None, max_length=100)
    kinds: list[UnitKind] | None = None
    include_root: bool = True


class HistoryRef(In):
    unit_id: str = Field(max_length=40)


class Rename(In):
    unit_id: str = Field(max_length=40)
    name: str = Field(min_length=1, max_length=200)
    effective: date | None = None


class Move(In):
    unit_id: str = Field(max_length=40)
    parent_id: str = Field(max_length=40)
    effective: date | None = None


class Merge(In):
    sources: list[str] = Field(min_length=1, max_length=100)
    into: str = Field(max_length=40)
    effective: date | None = None


class NewUnit(In):
    id: str = ID
    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind | None = None


class Split(In):
    unit_id: str = Field(max_length=40)
    into: list[NewUnit] = Field(min_length=2, max_length=50)
    children: dict[str, str] = Field(default_factory=dict)
    effective: date | None = None


class Close(In):
    unit_id: str = Field(max_length=40)
    effective: date | None = None


def _event(
    row: Any,
    change: str,
    *,
    previous: Any = None,
    lineage: dict[str, Any] | None = None,
    moved: int | None = None,
) -> UnitChanged:
    """The unit.changed payload (kaohe.contracts.indicators)."""
    version = {k: v for k, v in repo.public(row).items() if k not in ("id", "status")}
    return UnitChanged(
        unit_id=row["unit_id"],
        change=change,  # type: ignore[arg-type]
        version=UnitVersion.model_validate(version),
        revision=row["version"],
        previous=None if previous is None else UnitBefore.model_validate(dict(previous)),
        lineage=Lineage.model_validate(lineage) if lineage else None,
        descendants_moved=moved or None,
    )


def register(rt: Runtime) -> None:
    rpc = rt.rpc_server()

    async def changed(s: Any, caller: Caller, row: Any, change: str, **kw: Any) -> None:
        await emit(rt, s, caller, _event(row, change, **kw), subject=row["unit_id"])

    async def visible(s: Any, caller: Caller, unit_id: str, d: date, field: str = "unit_id") -> Any:
        row = await repo.at(s, unit_id, d)
        if row is None or not caller.covers(row["path"]):
            raise NotFound(f"unit {unit_id} not found on {d}", field=field)
        return row

    async def writable(s: Any, caller: Caller, unit_id: str, field: str = "unit_id") -> Any:
        caller.require(*WRITERS)
        row = await repo.open_version(s, unit_id, field)
        if not caller.covers(row["path"]):
            raise NotFound(f"unit {unit_id} not found", field=field)
        return row

    @rpc.method("unit_create", UnitCreate)
    async def unit_create(caller: Caller, p: UnitCreate) -> dict[str, Any]:
        caller.require(*WRITERS)
        d = p.valid_from or date.today()
        async with uow(rt) as s:
            if await repo.history(s, p.id):
                raise Conflict(
                    f"unit {p.id} already exists", field="id", code=IndicatorsErrorCode.UNIT_EXISTS
                )
            if p.parent_id:
                parent = await writable(s, caller, p.parent_id, "parent_id")
                path = f"{parent['path']}{p.id}/"
            else:
                if caller.org_path != "/":
                    raise ValidationFailed(
                        "only a root-scoped caller may create a top-level unit", field="parent_id"
                    )
                path = f"/{p.id}/"
            row = await repo.insert_first(
                s, unit_id=p.id, name=p.name, kind=p.kind, parent_id=p.parent_id, path=path, valid_from=d
            )
            await changed(s, caller, row, "created")
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
            await visible(s, caller, p.parent_id, d, "parent_id")
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
            old = await writable(s, caller, p.unit_id)
            row = await repo.next_version(s, old, p.effective or date.today(), "renamed", name=p.name)
            await changed(s, caller, row, "renamed", previous=old)
            return repo.public(row)

    @rpc.method("unit_move", Move)
    async def unit_move(caller: Caller, p: Move) -> dict[str, Any]:
        async with uow(rt) as s:
            old = await writable(s, caller, p.unit_id)
            parent = await writable(s, caller, p.parent_id, "parent_id")
            row, moved = await repo.move(s, old, parent, p.effective or date.today(), "moved")
            await changed(s, caller, row, "moved", previous=old, moved=moved)
            return repo.public(row)

    @rpc.method("unit_merge", Merge)
    async def unit_merge(caller: Caller, p: Merge) -> dict[str, Any]:
        d = p.effective or date.today()
        if p.into in p.sources:
            raise ValidationFailed("a unit cannot be merged into itself", field="into")
        async with uow(rt) as s:
            target = await writable(s, caller, p.into, "into")
            for sid in p.sources:
                src = await writable(s, caller, sid, "sources")
                repo.check_effective(src, d)
                for kid in await repo.children(s, sid, d, kinds=None, after=None, limit=100_000):
                    if kid["valid_to"] is None:
                        kid_old = await repo.open_version(s, kid["unit_id"])
                        row, moved = await repo.move(s, kid_old, target, d, "moved", {"merged_from": sid})
                        await changed(s, caller, row, "moved", previous=kid_old, moved=moved)
                closed = await repo.close(
                    s, await repo.open_version(s, sid), d, "merged", {"merged_into": p.into}
                )
                await changed(s, caller, closed, "merged", lineage={"merged_into": p.into})
            await changed(s, caller, target, "merged", lineage={"merged_from": p.sources})
            return repo.public(target)

    @rpc.method("unit_split", Split)
    async def unit_split(caller: Caller, p: Split) -> list[dict[str, Any]]:
        d = p.effective or date.today()
        new_ids = [u.id for u in p.into]
        if bad := [t for t in p.children.values() if t not in new_ids]:
            raise ValidationFailed(f"children may only go to the new units, not {bad[0]}", field="children")
        async with uow(rt) as s:
            src = await writable(s, caller, p.unit_id)
            repo.check_effective(src, d)
            parent_path = src["path"][: -len(p.unit_id) - 1]
            created = []
            for u in p.into:
                if await repo.history(s, u.id):
                    raise Conflict(
                        f"unit {u.id} already exists", field="into", code=IndicatorsErrorCode.UNIT_EXISTS
                    )
                row = await repo.insert_first(
                    s,
                    unit_id=u.id,
                    name=u.name,
                    kind=u.kind or src["kind"],
                    parent_id=src["parent_id"],
                    path=f"{parent_path}{u.id}/",
                    valid_from=d,
                    lineage={"split_from": p.unit_id},
                )
                await changed(s, caller, row, "created", lineage={"split_from": p.unit_id})
                created.append(row)
            by_id = {r["unit_id"]: r for r in created}
            for kid in await repo.children(s, p.unit_id, d, kinds=None, after=None, limit=100_000):
                if kid["valid_to"] is None:
                    kid_old = await repo.open_version(s, kid["unit_id"])
                    target = {**by_id[p.children.get(kid["unit_id"], new_ids[0])]}
                    row, moved = await repo.move(s, kid_old, target, d, "moved", {"split_from": p.unit_id})
                    await changed(s, caller, row, "moved", previous=kid_old, moved=moved)
            closed = await repo.close(
                s, await repo.open_version(s, p.unit_id), d, "split", {"split_into": new_ids}
            )
            await changed(s, caller, closed, "split", lineage={"split_into": new_ids})
            return [repo.public(r) for r in created]

    @rpc.method("unit_close", Close)
    async def unit_close(caller: Caller, p: Close) -> dict[str, Any]:
        async with uow(rt) as s:
            old = await writable(s, caller, p.unit_id)
            row = await repo.close(s, old, p.effective or date.today(), "closed", {})
            await changed(s, caller, row, "closed")
            return repo.public(row, status="closed")
