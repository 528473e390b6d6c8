"""The service's working-day calendar in SQL: years added by hand, local overrides, and its versions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

Row = Mapping[str, Any]


async def current_version(s: AsyncSession) -> Row | None:
    res = await s.execute(text("SELECT * FROM calendar_version ORDER BY created_at DESC, version LIMIT 1"))
    return res.mappings().first()


async def versions(s: AsyncSession, limit: int) -> list[Row]:
    res = await s.execute(
        text("SELECT * FROM calendar_version ORDER BY created_at DESC, version LIMIT :n"), {"n": limit}
    )
    return list(res.mappings())


async def years(s: AsyncSession) -> list[Row]:
    return list((await s.execute(text("SELECT * FROM calendar_year ORDER BY year"))).mappings())


async def overrides(s: AsyncSession) -> list[Row]:
    return list((await s.execute(text("SELECT * FROM calendar_override ORDER BY day"))).mappings())


async def set_year(
    s: AsyncSession, year: int, off: Sequence[date], work: Sequence[date], source: str
) -> None:
    await s.execute(
        text(
            "INSERT INTO calendar_year (year, days_off, extra_workdays, source)"
            " VALUES (:y, CAST(:off AS jsonb), CAST(:work AS jsonb), :src) ON CONFLICT (year) DO UPDATE SET"
            " days_off = EXCLUDED.days_off, extra_workdays = EXCLUDED.extra_workdays,"
            " source = EXCLUDED.source, added_at = now()"
        ),
        {"y": year, "off": orjson.dumps(list(off)).decode(), "work": orjson.dumps(list(work)).decode()}
        | {"src": source},
    )


async def set_overrides(
    s: AsyncSession, rows: Sequence[tuple[date, bool, str]], remove: Sequence[date]
) -> None:
    if remove:
        await s.execute(text("DELETE FROM calendar_override WHERE day = ANY(:d)"), {"d": list(remove)})
    for day, workday, reason in rows:
        await s.execute(
            text(
                "INSERT INTO calendar_override (day, workday, reason) VALUES (:d, :w, :r)"
                " ON CONFLICT (day) DO UPDATE SET workday = EXCLUDED.workday, reason = EXCLUDED.reason"
            ),
            {"d": day, "w": workday, "r": reason},
        )


async def record_version(
    s: AsyncSession, version: str, *, source: str, covered: Sequence[int], overrides: list[dict[str, Any]]
) -> None:
    await s.execute(
        text(
            "INSERT INTO calendar_version (version, source, covered, overrides)"
            " VALUES (:v, :s, CAST(:c AS jsonb), CAST(:o AS jsonb)) ON CONFLICT (version) DO NOTHING"
        ),
        {"v": version, "s": source[:300], "c": orjson.dumps(sorted(covered)).decode()}
        | {"o": orjson.dumps(overrides).decode()},
    )
