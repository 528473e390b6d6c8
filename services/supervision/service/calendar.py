"""The working-day calendar in force (工作日历): local overrides, a year's notice added by hand, versions.

A change stores a new calendar version and recomputes the sweep index of the open items whose clocks it can
move (running clocks due on or after the first changed day, or deadlines in a year that was provisional).
When every changed day lies after today, each item's stored next check is remapped (`domain.recalc`: read
in one query, mapped in memory, written in one statement — no timeline replayed); an item that cannot be
remapped (a pause shifted its deadline, a provisional year, assessed before the split was stored), and every
item when the change reaches today or the past, goes to the recheck queue, which the sweep re-evaluates on
the new calendar. Each item records the version it used. Items whose clocks all end before the change are
not touched.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.supervision import CalendarPublic, OverridePublic
from kaohe.contracts.supervision_rpc import CalendarOverrideParams, CalendarYearParams
from kaohe.errors import ValidationFailed
from kaohe.identity import Caller, Role
from kaohe.workdays import WorkdayCalendar
from services.supervision.domain.recalc import Correction
from services.supervision.repository import calendar as cal_repo
from services.supervision.repository import items as item_repo
from services.supervision.service.context import Ctx, build_calendar

EDITORS = (Role.supervisor, Role.system)


def public(cal: WorkdayCalendar, created_at: object = None, recomputed: int = 0) -> CalendarPublic:
    return CalendarPublic(
        version=cal.version,
        source=cal.source,
        covered_years=sorted(cal.covered_years),
        overrides=[OverridePublic(day=o.day, workday=o.workday, reason=o.reason) for o in cal.overrides],
        created_at=created_at or date(2000, 1, 1),  # type: ignore[arg-type]
        recomputed_items=recomputed,
    )


async def current(s: AsyncSession, ctx: Ctx) -> CalendarPublic:
    cal = await ctx.calendar(s)
    row = await cal_repo.current_version(s)
    return public(cal, row["created_at"] if row else None)


async def versions(s: AsyncSession, limit: int) -> list[CalendarPublic]:
    """The stored versions, newest first, as they were recorded (coverage and local overrides)."""
    return [
        CalendarPublic(
            version=r["version"],
            source=r["source"],
            covered_years=list(r["covered"]),
            overrides=[
                OverridePublic(day=date.fromisoformat(o["day"]), workday=o["workday"], reason=o["reason"])
                for o in r["overrides"]
            ],
            created_at=r["created_at"],
        )
        for r in await cal_repo.versions(s, limit)
    ]


async def _commit_version(
    s: AsyncSession, ctx: Ctx, old: WorkdayCalendar, *, since: date, years: list[int]
) -> CalendarPublic:
    cal = await build_calendar(s)
    await cal_repo.record_version(
        s,
        cal.version,
        source=cal.source,
        covered=sorted(cal.covered_years),
        overrides=[
            {"day": o.day.isoformat(), "workday": o.workday, "reason": o.reason} for o in cal.overrides
        ],
    )
    now = ctx.now()
    fix = Correction(old, cal, since=since)
    if fix.applies(cal.local_day(now)):
        n = await item_repo.mark_due(s, since=since, provisional_years=years, now=now, unmappable=True)
        n += await _remap(s, fix, cal.version, now=now)
    else:
        n = await item_repo.mark_due(s, since=since, provisional_years=years, now=now)
    ctx._calendar = cal
    row = await cal_repo.current_version(s)
    return public(cal, row["created_at"] if row else None, n)


async def _remap(s: AsyncSession, fix: Correction, version: str, *, now: datetime) -> int:
    """Remap the stored next checks a correction moves; the items it cannot map go to the recheck queue."""
    moved: list[tuple[str, datetime | None, datetime | None]] = []
    failed: list[str] = []
    for r in await item_repo.remappable(s, since=fix.since):
        try:
            moved.append((r["id"], *fix.next_check(r["next_counted"], r["next_anchor"])))
        except ValueError:  # a stored moment that is not the end of a working day: replay it instead
            failed.append(r["id"])
    await item_repo.remap(s, moved, version)
    await item_repo.queue(s, failed, now=now)
    return len(moved) + len(failed)


async def set_overrides(
    s: AsyncSession, ctx: Ctx, caller: Caller, p: CalendarOverrideParams
) -> CalendarPublic:
    caller.require(*EDITORS)
    old = await ctx.calendar(s)
    days = [o.day for o in p.overrides] + list(p.remove)
    if not days:
        raise ValidationFailed("overrides: give at least one day to set or remove", field="overrides")
    if len(set(days)) != len(days):
        raise ValidationFailed("overrides: a day appears twice", field="overrides")
    await cal_repo.set_overrides(s, [(o.day, o.workday, o.reason) for o in p.overrides], p.remove)
    return await _commit_version(s, ctx, old, since=min(days), years=[])


async def set_year(s: AsyncSession, ctx: Ctx, caller: Caller, p: CalendarYearParams) -> CalendarPublic:
    caller.require(*EDITORS)
    old = await ctx.calendar(s)
    for i, d in enumerate(p.days_off):
        if d.year != p.year:
            raise ValidationFailed(f"days_off[{i}]: {d} is not in {p.year}", field=f"days_off[{i}]")
    for i, d in enumerate(p.extra_workdays):
        if d.year != p.year or d.weekday() < 5:
            raise ValidationFailed(
                f"extra_workdays[{i}]: {d} is not a weekend day of {p.year}", field=f"extra_workdays[{i}]"
            )
    await cal_repo.set_year(s, p.year, p.days_off, p.extra_workdays, p.source)
    return await _commit_version(s, ctx, old, since=date(p.year, 1, 1), years=[p.year])
