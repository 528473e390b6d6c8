"""The unit tree (组织): units, children, ancestors, subtree search, as of a date; the unit's joins."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import (
    Connection,
    UserError,
    call,
    capped,
    connection,
    decode_cursor,
    inp,
    mk,
    mk_opt,
    page_size,
    payload,
)
from gateway.graphql.evidence import Evidence
from gateway.graphql.rewards import RewardLedgerEntry, entry_of
from gateway.graphql.scores import Score
from gateway.graphql.supervision import SupervisionSignal
from gateway.policy import Op, allowed, authorize
from kaohe.errors import KaoheError


@strawberry.type(description="被考核单位: a unit of the hierarchy (省/市/县/乡镇/街道/村/社区/部门)")
class Unit:
    id: strawberry.ID
    name: str
    kind: str
    parent_id: str | None
    path: str = strawberry.field(description="materialized path, e.g. /14/1405/140502/")
    valid_from: date
    valid_to: date | None
    status: str | None

    @strawberry.field(description="得分 for a period; the latest period when none is given")
    async def score(self, info: Info[Context, None], period: str | None = None) -> Score | None:
        if not allowed(info.context.caller, Op.score_read):
            return None
        d = await info.context.l.score_by_unit.load((str(self.id), period))
        return mk_opt(Score, d)

    @strawberry.field(description="佐证材料 of the unit's submissions")
    async def evidence(self, info: Info[Context, None]) -> list[Evidence]:
        if not allowed(info.context.caller, Op.evidence_read):
            return []
        return [mk(Evidence, r) for r in await info.context.l.evidence_by_unit.load(str(self.id))]

    @strawberry.field(description="考核线索 recorded by supervision")
    async def supervision_signals(self, info: Info[Context, None]) -> list[SupervisionSignal]:
        if not allowed(info.context.caller, Op.supervision_read):
            return []
        return [mk(SupervisionSignal, r) for r in await info.context.l.signals_by_unit.load(str(self.id))]

    @strawberry.field(description="实绩档案: the unit's newest ledger entries kept by rewards, newest first")
    async def result_records(self, info: Info[Context, None]) -> list[RewardLedgerEntry]:
        if not allowed(info.context.caller, Op.rewards_read):
            return []
        return [entry_of(r) for r in await info.context.l.records_by_unit.load(str(self.id))]

    @strawberry.field(description="The parent unit, if it lies in your subtree")
    async def parent(self, info: Info[Context, None]) -> Unit | None:
        if not self.parent_id:
            return None
        return mk_opt(Unit, await info.context.l.unit_by_id.load(self.parent_id))

    @strawberry.field(description="下级单位, by id (keyset pagination)")
    async def children(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        as_of: date | None = None,
        kinds: list[str] | None = None,
    ) -> Connection[Unit]:
        params = {"parent_id": str(self.id), "first": page_size(info, first), "after": decode_cursor(after)}
        if as_of:
            params["as_of"] = as_of.isoformat()
        if kinds:
            params["kinds"] = capped(info, kinds, "kinds")
        r = await call(info, Op.unit_read, "indicators", "unit_children", params)
        return connection(r["items"], r.get("next"), _unit)

    @strawberry.field(description="上级单位 inside your subtree, root first (the unit excluded)")
    async def ancestors(self, info: Info[Context, None], as_of: date | None = None) -> list[Unit]:
        params: dict[str, Any] = {"unit_id": str(self.id)}
        if as_of:
            params["as_of"] = as_of.isoformat()
        rows = await call(info, Op.unit_read, "indicators", "unit_ancestors", params)
        caller = info.context.caller
        return [_unit(d) for d in rows if caller.covers(d["path"])]


def _unit(d: dict[str, Any]) -> Unit:
    return mk(Unit, d)


@strawberry.type(description="A version of a unit (历史沿革): renamed, moved, merged, split, closed")
class UnitVersion:
    id: strawberry.ID
    name: str
    kind: str
    parent_id: str | None
    path: str
    valid_from: date
    valid_to: date | None
    change: str | None
    version: int | None
    lineage: strawberry.scalars.JSON | None


@strawberry.type
class UnitQuery:
    @strawberry.field(description="One unit, if it lies in your subtree (as of a date: the tree as it was)")
    async def unit(
        self, info: Info[Context, None], id: strawberry.ID, as_of: date | None = None
    ) -> Unit | None:
        authorize(info.context.caller, Op.unit_read)
        loader = info.context.l.unit_as_of(as_of.isoformat() if as_of else None)
        return mk_opt(Unit, await loader.load(str(id)))

    @strawberry.field(description="Several units by id (capped), null for those outside your subtree")
    async def units(self, info: Info[Context, None], ids: list[strawberry.ID]) -> list[Unit | None]:
        authorize(info.context.caller, Op.unit_read)
        capped(info, ids, "ids")
        return [mk_opt(Unit, d) for d in await info.context.l.unit_by_id.load_many([str(i) for i in ids])]

    @strawberry.field(description="子树检索: units under a root in path order, filtered by name/id and kind")
    async def unit_subtree(
        self,
        info: Info[Context, None],
        root_id: strawberry.ID,
        search: str | None = None,
        kinds: list[str] | None = None,
        as_of: date | None = None,
        include_root: bool = True,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Unit]:
        params: dict[str, Any] = {
            "root_id": str(root_id),
            "include_root": include_root,
            "first": page_size(info, first),
            "after": decode_cursor(after),
        }
        if search:
            params["search"] = search
        if kinds:
            params["kinds"] = capped(info, kinds, "kinds")
        if as_of:
            params["as_of"] = as_of.isoformat()
        r = await call(info, Op.unit_read, "indicators", "unit_subtree", params)
        return connection(r["items"], r.get("next"), _unit)

    @strawberry.field(description="历史沿革: every version of a unit, oldest first")
    async def unit_history(self, info: Info[Context, None], id: strawberry.ID) -> list[UnitVersion]:
        rows = await call(info, Op.unit_read, "indicators", "unit_history", {"unit_id": str(id)})
        return [mk(UnitVersion, d) for d in rows]


@strawberry.input
class UnitCreateInput:
    id: str
    name: str
    kind: str
    parent_id: str | None = None
    valid_from: date | None = None


@strawberry.type
class UnitPayload:
    unit: Unit | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _write(info: Info[Context, None], method: str, params: dict[str, Any]) -> Unit:
    for k, v in params.items():
        if isinstance(v, date):
            params[k] = v.isoformat()
    return _unit(await call(info, Op.unit_write, "indicators", method, params))


@strawberry.type
class UnitMutation:
    @strawberry.mutation(description="新建单位 under a parent in your subtree")
    async def unit_create(self, info: Info[Context, None], input: UnitCreateInput) -> UnitPayload:
        return await payload(UnitPayload, "unit", _write(info, "unit_create", inp(input)))

    @strawberry.mutation(description="更名: a new version from `effective` (default today)")
    async def unit_rename(
        self, info: Info[Context, None], unit_id: str, name: str, effective: date | None = None
    ) -> UnitPayload:
        params = {"unit_id": unit_id, "name": name, "effective": effective}
        return await payload(UnitPayload, "unit", _write(info, "unit_rename", _drop_none(params)))

    @strawberry.mutation(description="调整隶属: move a unit (and its subtree) under another parent")
    async def unit_move(
        self, info: Info[Context, None], unit_id: str, parent_id: str, effective: date | None = None
    ) -> UnitPayload:
        params = {"unit_id": unit_id, "parent_id": parent_id, "effective": effective}
        return await payload(UnitPayload, "unit", _write(info, "unit_move", _drop_none(params)))

    @strawberry.mutation(description="撤销: close a unit (refused while it has open children)")
    async def unit_close(
        self, info: Info[Context, None], unit_id: str, effective: date | None = None
    ) -> UnitPayload:
        params = {"unit_id": unit_id, "effective": effective}
        return await payload(UnitPayload, "unit", _write(info, "unit_close", _drop_none(params)))


@strawberry.input(description="A new unit a split creates")
class UnitSplitPartInput:
    id: str
    name: str
    kind: str | None = strawberry.field(default=None, description="default: the split unit's kind")


@strawberry.input(description="Which new unit a child of the split unit moves under")
class UnitSplitChildInput:
    child_id: str
    new_unit_id: str


@strawberry.input(description="拆分: close a unit and create two or more successors")
class UnitSplitInput:
    unit_id: str
    into: list[UnitSplitPartInput]
    children: list[UnitSplitChildInput] | None = strawberry.field(
        default=None, description="default: every child moves under the first new unit"
    )
    effective: date | None = None


@strawberry.type
class UnitsPayload:
    units: list[Unit] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UnitRestructureMutation:
    @strawberry.mutation(description="合并: close the sources and move their children under `into` (考核办)")
    async def unit_merge(
        self, info: Info[Context, None], sources: list[str], into: str, effective: date | None = None
    ) -> UnitPayload:
        params = {"sources": capped(info, sources, "sources"), "into": into, "effective": effective}
        return await payload(UnitPayload, "unit", _write(info, "unit_merge", _drop_none(params)))

    @strawberry.mutation(description="拆分: the split unit is closed, its successors created (考核办)")
    async def unit_split(self, info: Info[Context, None], input: UnitSplitInput) -> UnitsPayload:
        params: dict[str, Any] = {
            "unit_id": input.unit_id,
            "into": [_drop_none({"id": p.id, "name": p.name, "kind": p.kind}) for p in input.into],
        }
        if input.children:
            params["children"] = {c.child_id: c.new_unit_id for c in capped(info, input.children, "children")}
        if input.effective:
            params["effective"] = input.effective.isoformat()
        try:
            rows = await call(info, Op.unit_write, "indicators", "unit_split", params)
        except KaoheError as e:
            return UnitsPayload(errors=[UserError.of(e)])
        return UnitsPayload(units=[_unit(d) for d in rows])


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}
