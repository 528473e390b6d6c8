"""Categories (分类) use cases: set an assessing unit's categories and members for a year, read them."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.errors import ValidationFailed
from kaohe.identity import Caller
from services.indicators.errors import IndicatorsErrorCode
from services.indicators.repository import categories as repo
from services.indicators.repository import schemes as scheme_repo
from services.indicators.repository.units import require_unit


async def set_categories(
    s: AsyncSession,
    *,
    caller: Caller,
    assessing_unit: str,
    year: int,
    categories: list[tuple[str, str]],
    members: dict[str, str],
) -> dict[str, Any]:
    """Replace the year's categories and members; every member must be a unit below the assessing unit."""
    au_path = await require_unit(s, caller, assessing_unit, "assessing_unit")
    names = [n for n, _ in categories]
    details = [
        {"field": "categories", "code": IndicatorsErrorCode.DUPLICATE_CATEGORY, "message": f"分类「{n}」重复"}
        for n in {n for n in names if names.count(n) > 1}
    ]
    paths = await repo.unit_paths(s, list(members))
    for uid, cat in members.items():
        path = paths.get(uid)
        if path is None or not path.startswith(au_path) or path == au_path or not caller.covers(path):
            details.append(
                {
                    "field": f"members.{uid}",
                    "code": IndicatorsErrorCode.UNKNOWN_UNIT,
                    "message": f"单位 {uid} 不是 {assessing_unit} 的下级单位",
                }
            )
        elif cat not in names:
            details.append(
                {
                    "field": f"members.{uid}",
                    "code": IndicatorsErrorCode.UNKNOWN_CATEGORY,
                    "message": f"单位 {uid} 的分类「{cat}」未定义",
                }
            )
    if details:
        raise ValidationFailed(details[0]["message"], field=details[0]["field"], details=details)
    await repo.replace(s, assessing_unit=assessing_unit, year=year, categories=categories, members=members)
    return await get_categories(s, caller=caller, assessing_unit=assessing_unit, year=year)


async def get_categories(
    s: AsyncSession, *, caller: Caller, assessing_unit: str, year: int
) -> dict[str, Any]:
    """The year's categories and the members the caller may see."""
    await scheme_repo.readable_path(s, caller, assessing_unit, "assessing_unit")
    cats = await repo.listed(s, assessing_unit=assessing_unit, year=year)
    members = await scheme_repo.roster_units(s, assessing_unit, year)
    return {
        "assessing_unit": assessing_unit,
        "year": year,
        "categories": cats,
        "members": [m for m in members if caller.covers(m["path"])],
    }
