"""Evidence (佐证材料) rows: every SQL statement about them, scoping by the caller in one place.

Evidence of a unit outside the caller's subtree is reported exactly like missing evidence.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.errors import NotFound
from kaohe.identity import Caller
from services.indicators.models import Evidence, Submission, Unit
from services.indicators.repository.units import unit_path


async def readable(s: AsyncSession, caller: Caller, evidence_id: str) -> tuple[Evidence, Submission, str]:
    """(evidence, its submission, its unit's path) when the caller covers the unit."""
    ev = await s.get(Evidence, evidence_id)
    path = None if ev is None else await unit_path(s, ev.unit_id)
    sub = None if ev is None else await s.get(Submission, ev.submission_id)
    if ev is None or sub is None or path is None or not caller.covers(path):
        raise NotFound("evidence not found", field="evidence_id")
    return ev, sub, path


async def submission_of(s: AsyncSession, caller: Caller, submission_id: str) -> tuple[Submission, str]:
    """(submission, its unit's path) when the caller covers the unit."""
    sub = await s.get(Submission, submission_id)
    path = None if sub is None else await unit_path(s, sub.unit_id)
    if sub is None or path is None or not caller.covers(path):
        raise NotFound("submission not found", field="submission_id")
    return sub, path


async def of_units(s: AsyncSession, caller: Caller, unit_ids: list[str]) -> tuple[list[str], list[Evidence]]:
    """(the units among `unit_ids` the caller covers, their evidence oldest first)."""
    units = (await s.exec(select(Unit).where(col(Unit.id).in_(unit_ids)))).all()
    allowed = [u.id for u in units if caller.covers(u.path)]
    q = select(Evidence).where(col(Evidence.unit_id).in_(allowed)).order_by(col(Evidence.created_at))
    return allowed, list((await s.exec(q)).all())


async def set_fields(s: AsyncSession, ids: list[str], **values: Any) -> None:
    """Set columns (status, version_id) of several evidence rows."""
    await s.exec(update(Evidence).where(col(Evidence.id).in_(ids)).values(**values))  # type: ignore[call-overload]
