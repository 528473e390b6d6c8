"""Unit use cases (组织): create and restructure versioned units (rename, move, merge, split, close).

History is never rewritten: a change closes the unit's current version and opens the next one, and every
change emits `unit.changed` through the outbox. Plain functions of a session and a caller; never commit.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.indicators import Lineage, UnitBefore, UnitChanged, UnitVersion
from kaohe.errors import Conflict, NotFound, ValidationFailed
from kaohe.events import Outbox
from kaohe.identity import Caller
from services.indicators.domain.access import WRITERS
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.repository import units as repo
from services.indicators.schemas import NewUnit


def unit_changed(
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


async def _changed(s: AsyncSession, outbox: Outbox, caller: Caller, row: Any, change: str, **kw: Any) -> None:
    payload = unit_changed(row, change, **kw)
    await outbox.emit(s, payload.event(subject=row["unit_id"], trace_id=caller.trace_id))


async def visible(s: AsyncSession, caller: Caller, unit_id: str, d: date, field: str = "unit_id") -> Any:
    """The unit's version on `d` if the caller covers it; otherwise not_found."""
    row = await repo.at(s, unit_id, d)
    if row is None or not caller.covers(row["path"]):
        raise NotFound(f"unit {unit_id} not found on {d}", field=field)
    return row


async def writable(s: AsyncSession, caller: Caller, unit_id: str, field: str = "unit_id") -> Any:
    """The unit's open version if the caller may restructure it; otherwise forbidden or not_found."""
    caller.require(*WRITERS)
    row = await repo.open_version(s, unit_id, field)
    if not caller.covers(row["path"]):
        raise NotFound(f"unit {unit_id} not found", field=field)
    return row


async def create(
    s: AsyncSession,
    *,
    caller: Caller,
    outbox: Outbox,
    unit_id: str,
    name: str,
    kind: str,
    parent_id: str | None,
    valid_from: date,
) -> Any:
    """A new unit under `parent_id` (or a top-level one, for a root-scoped caller)."""
    if await repo.history(s, unit_id):
        raise Conflict(f"unit {unit_id} already exists", field="id", code=IndicatorsErrorCode.UNIT_EXISTS)
    if parent_id:
        parent = await writable(s, caller, parent_id, "parent_id")
        path = f"{parent['path']}{unit_id}/"
    else:
        if caller.org_path != "/":
            raise ValidationFailed("only a root-scoped caller may create a top-level unit", field="parent_id")
        path = f"/{unit_id}/"
    row = await repo.insert_first(
        s, unit_id=unit_id, name=name, kind=kind, parent_id=parent_id, path=path, valid_from=valid_from
    )
    await _changed(s, outbox, caller, row, "created")
    return row


async def rename(
    s: AsyncSession, *, caller: Caller, outbox: Outbox, unit_id: str, name: str, effective: date
) -> Any:
    """A new version of the unit with another name (更名)."""
    old = await writable(s, caller, unit_id)
    row = await repo.next_version(s, old, effective, "renamed", name=name)
    await _changed(s, outbox, caller, row, "renamed", previous=old)
    return row


async def move(
    s: AsyncSession, *, caller: Caller, outbox: Outbox, unit_id: str, parent_id: str, effective: date
) -> Any:
    """The unit and its subtree under another parent (划转)."""
    old = await writable(s, caller, unit_id)
    parent = await writable(s, caller, parent_id, "parent_id")
    row, moved = await repo.move(s, old, parent, effective, "moved")
    await _changed(s, outbox, caller, row, "moved", previous=old, moved=moved)
    return row


async def merge(
    s: AsyncSession, *, caller: Caller, outbox: Outbox, sources: list[str], into: str, effective: date
) -> Any:
    """Units merged into another (合并): their open children move over, the sources close."""
    d = effective
    if into in sources:
        raise ValidationFailed("a unit cannot be merged into itself", field="into")
    target = await writable(s, caller, into, "into")
    for sid in sources:
        src = await writable(s, caller, sid, "sources")
        repo.check_effective(src, d)
        for kid in await repo.children(s, sid, d, kinds=None, after=None, limit=100_000):
            if kid["valid_to"] is None:
                kid_old = await repo.open_version(s, kid["unit_id"])
                row, moved = await repo.move(s, kid_old, target, d, "moved", {"merged_from": sid})
                await _changed(s, outbox, caller, row, "moved", previous=kid_old, moved=moved)
        closed = await repo.close(s, await repo.open_version(s, sid), d, "merged", {"merged_into": into})
        await _changed(s, outbox, caller, closed, "merged", lineage={"merged_into": into})
    await _changed(s, outbox, caller, target, "merged", lineage={"merged_from": sources})
    return target


async def split(
    s: AsyncSession,
    *,
    caller: Caller,
    outbox: Outbox,
    unit_id: str,
    into: list[NewUnit],
    children: dict[str, str],
    effective: date,
) -> list[Any]:
    """A unit split into new ones (拆分): children go where `children` says (else to the first), it closes."""
    d = effective
    new_ids = [u.id for u in into]
    if bad := [t for t in children.values() if t not in new_ids]:
        raise ValidationFailed(f"children may only go to the new units, not {bad[0]}", field="children")
    src = await writable(s, caller, unit_id)
    repo.check_effective(src, d)
    parent_path = src["path"][: -len(unit_id) - 1]
    created = []
    for u in into:
        if await repo.history(s, u.id):
            raise Conflict(f"unit {u.id} already exists", field="into", code=IndicatorsErrorCode.UNIT_EXISTS)
        row = await repo.insert_first(
            s,
            unit_id=u.id,
            name=u.name,
            kind=u.kind or src["kind"],
            parent_id=src["parent_id"],
            path=f"{parent_path}{u.id}/",
            valid_from=d,
            lineage={"split_from": unit_id},
        )
        await _changed(s, outbox, caller, row, "created", lineage={"split_from": unit_id})
        created.append(row)
    by_id = {r["unit_id"]: r for r in created}
    for kid in await repo.children(s, unit_id, d, kinds=None, after=None, limit=100_000):
        if kid["valid_to"] is None:
            kid_old = await repo.open_version(s, kid["unit_id"])
            target = {**by_id[children.get(kid["unit_id"], new_ids[0])]}
            row, moved = await repo.move(s, kid_old, target, d, "moved", {"split_from": unit_id})
            await _changed(s, outbox, caller, row, "moved", previous=kid_old, moved=moved)
    closed = await repo.close(s, await repo.open_version(s, unit_id), d, "split", {"split_into": new_ids})
    await _changed(s, outbox, caller, closed, "split", lineage={"split_into": new_ids})
    return created


async def close(s: AsyncSession, *, caller: Caller, outbox: Outbox, unit_id: str, effective: date) -> Any:
    """The unit closes (撤销): its last version ends on `effective`."""
    old = await writable(s, caller, unit_id)
    row = await repo.close(s, old, effective, "closed", {})
    await _changed(s, outbox, caller, row, "closed")
    return row
