"""督考合一 from scoring: warnings open or attach to items, cleared warnings are flagged, poor grades 整改.

- `warning.raised` at a configured level (default orange and red) opens one 考核发现 item per (unit,
  indicator code), or attaches a timeline entry to the open one; a unique index keeps it one item even when
  two events race.
- `warning.cleared` marks the open item "cleared by data" for the office to verify — never 销号.
- Each warning's latest state per (unit, code, period) is kept by event time: a stale event (reordered
  delivery) changes nothing, so `cleared` before an older `raised` does not open an item.
- `results.published`: a unit graded in `rectification_grades` or in last place gets one 整改 item per
  (scheme, period, unit) (a unique key).
Units not yet learnt from `unit.changed` are recorded from the event's path (a later `unit.changed` wins).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.indicators import UnitChanged
from kaohe.contracts.scoring import ResultsPublished, WarningCleared, WarningRaised
from kaohe.identity import Caller
from kaohe.workdays import CHINA_TZ
from services.supervision.domain import (
    Action,
    ItemNumber,
    Priority,
    Role,
    Source,
    SourceRef,
    SupervisionItem,
    UnitTask,
)
from services.supervision.repository import items as item_repo
from services.supervision.repository import signals as sig_repo
from services.supervision.repository import units as unit_repo
from services.supervision.service.context import Ctx
from services.supervision.service.items import number_for, open_item
from services.supervision.service.transitions import Move, transition

SYSTEM = Caller.system()


async def ensure_unit(s: AsyncSession, unit_id: str, path: str, name: str | None = None) -> dict[str, str]:
    """The unit and its parent (the office one level up), recorded from a path if not known yet."""
    parts = [p for p in path.strip("/").split("/") if p]
    known = await unit_repo.get_many(s, [unit_id])
    if unit_id not in known:
        parent = parts[-2] if len(parts) > 1 else None
        await unit_repo.upsert(
            s, unit_id, path=path, name=name or unit_id, parent_id=parent, closed=False, revision=-1
        )
    row = (await unit_repo.get_many(s, [unit_id]))[unit_id]
    parent_id = row["parent_id"]
    if parent_id and parent_id not in await unit_repo.get_many(s, [parent_id]):
        ppath = row["path"][: row["path"].rstrip("/").rfind("/") + 1]
        pparts = [p for p in ppath.strip("/").split("/") if p]
        grand = pparts[-2] if len(pparts) > 1 else None
        await unit_repo.upsert(
            s, parent_id, path=ppath, name=parent_id, parent_id=grand, closed=False, revision=-1
        )
    return {"id": unit_id, "path": row["path"], "office": parent_id or unit_id}


async def unit_changed(s: AsyncSession, d: UnitChanged) -> None:
    v = d.version
    applied = await unit_repo.upsert(
        s,
        d.unit_id,
        path=v.path,
        name=v.name,
        parent_id=v.parent_id,
        closed=d.change in ("closed", "merged"),
        revision=d.revision,
    )
    if applied and d.previous is not None and d.previous.path != v.path:
        await unit_repo.move_paths(s, d.previous.path, v.path)


async def _new_item(
    s: AsyncSession,
    ctx: Ctx,
    *,
    unit: dict[str, str],
    title: str,
    problem: str,
    source: Source,
    ref: str,
    code: str | None,
    deadline_days: int,
    priority: Priority,
    dedupe: str | None = None,
) -> str:
    now = ctx.now()
    cal = await ctx.calendar(s)
    deadline = cal.add_workdays(now, deadline_days).day
    office = (await unit_repo.get_many(s, [unit["office"]]))[unit["office"]]
    number: ItemNumber = await number_for(s, None, office["id"], now, prefixes=ctx.settings.number_prefixes)
    item = SupervisionItem(
        id=str(uuid.uuid4()),
        number=number,
        title=title,
        problem=problem,
        source=SourceRef(source, ref),
        office_id=office["id"],
        lead=UnitTask(unit["id"], Role.LEAD, "对照问题制定举措并按期整改", deadline),
        deadline=deadline,
        priority=priority,
        indicator_code=code,
    )
    paths = {unit["id"]: unit["path"]}
    extra = {"dedupe_key": dedupe} if dedupe else None
    return await open_item(s, ctx, SYSTEM, item, office=office, paths=paths, at=now, assign=True, extra=extra)


async def warning_raised(s: AsyncSession, ctx: Ctx, d: WarningRaised, *, at: datetime, event_id: str) -> None:
    if not await sig_repo.warning_newer(s, d.unit_id, d.code, d.period, raised=True, at=at):
        return  # an older event delivered late
    if str(d.level) not in ctx.settings.warning_levels:
        return
    unit = await ensure_unit(s, d.unit_id, d.unit_path, d.unit_name)
    note = (
        f"{d.period} 序时进度{d.level_zh}色预警: 应完成{d.expected:.1%}, 实际{d.actual:.1%}, 落后{d.lag:.1%}"
    )
    existing = await item_repo.open_assessment(s, d.unit_id, d.code)
    if existing is None:
        try:
            async with s.begin_nested():
                await _new_item(
                    s,
                    ctx,
                    unit=unit,
                    title=f"{d.unit_name or d.unit_id} {d.code} 指标序时进度预警",
                    problem=note,
                    source=Source.ASSESSMENT,
                    ref=event_id,
                    code=d.code,
                    deadline_days=ctx.settings.assessment_deadline_workdays,
                    priority=Priority.HIGH if str(d.level) == "red" else Priority.NORMAL,
                )
            return
        except IntegrityError:  # another consumer opened it a moment ago: attach below
            existing = await item_repo.open_assessment(s, d.unit_id, d.code)
    if existing is not None:
        await _signal(s, ctx, existing["id"], f"预警再次触发: {note}", cleared=False)


async def warning_cleared(s: AsyncSession, ctx: Ctx, d: WarningCleared, *, at: datetime) -> None:
    if not await sig_repo.warning_newer(s, d.unit_id, d.code, d.period, raised=False, at=at):
        return
    if await sig_repo.raised_elsewhere(s, d.unit_id, d.code):
        return  # another period's warning for the same indicator still stands
    existing = await item_repo.open_assessment(s, d.unit_id, d.code)
    if existing is not None and not existing["cleared_by_data"]:
        await _signal(s, ctx, existing["id"], f"{d.period} 预警已由数据解除, 待督查室核实销号", cleared=True)


async def _signal(s: AsyncSession, ctx: Ctx, item_id: str, reason: str, *, cleared: bool) -> None:
    row = await item_repo.get(s, item_id, lock=True)
    assert row is not None
    await transition(
        s,
        ctx,
        SYSTEM,
        Move(
            item_id, Action.RECORD_SIGNAL, row["version"], reason=reason, extra={"cleared_by_data": cleared}
        ),
    )


async def results_published(s: AsyncSession, ctx: Ctx, d: ResultsPublished) -> None:
    grades = set(ctx.settings.rectification_grades)
    for u in d.units:
        if not (u.last_place or (u.grade is not None and u.grade in grades)):
            continue
        key = f"rect:{d.scheme_id}:{d.period}:{u.unit_id}"
        if await item_repo.by_dedupe(s, key) is not None:
            continue
        unit = await ensure_unit(s, u.unit_id, u.unit_path)
        why = "末位" if u.last_place else f"等次{u.grade}"
        await _new_item(
            s,
            ctx,
            unit=unit,
            title=f"{d.period} 考核{why}整改",
            source=Source.RECTIFICATION,
            problem=f"{d.period} 考核结果: 总分{u.total:.2f}, 排名{u.rank}/{u.of}, {why}: 限期整改",
            ref=key,
            code=None,
            deadline_days=ctx.settings.assessment_deadline_workdays,
            priority=Priority.HIGH,
            dedupe=key,
        )


def local_now(ctx: Ctx) -> datetime:
    return ctx.now().astimezone(CHINA_TZ)
