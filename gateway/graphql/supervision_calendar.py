"""工作日历 in GraphQL: the supervision service's calendar in force and every version it has used.

Each item records the calendar version its deadlines were computed on (`SupervisionItem.calendarVersion`);
these queries say what that version contained: the years covered by a State Council notice and the local
overrides (地方调整) on top.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.graphql.common import call, mk
from gateway.policy import Op
from kaohe.errors import ValidationFailed


@strawberry.type(description="地方调整: a local day off (workday false) or extra working day, with its basis")
class SupervisionCalendarOverride:
    day: date
    workday: bool
    reason: str


@strawberry.type(description="工作日历版本: the national holidays and 调休 plus local overrides")
class SupervisionCalendar:
    version: str
    source: str
    covered_years: list[int] = strawberry.field(description="years whose holiday notice is in the calendar")
    overrides: list[SupervisionCalendarOverride]
    created_at: datetime


def calendar(d: dict[str, Any]) -> SupervisionCalendar:
    return mk(
        SupervisionCalendar, {**d, "overrides": [mk(SupervisionCalendarOverride, o) for o in d["overrides"]]}
    )


@strawberry.type
class SupervisionCalendarQuery:
    @strawberry.field(description="The working-day calendar in force (工作日历) for supervision deadlines")
    async def supervision_calendar(self, info: Info[Context, None]) -> SupervisionCalendar:
        return calendar(await call(info, Op.supervision_read, "supervision", "calendar_get", {}))

    @strawberry.field(
        description="Every calendar version used, newest first (each item names the one it used)"
    )
    async def supervision_calendar_versions(
        self, info: Info[Context, None], first: int = 20
    ) -> list[SupervisionCalendar]:
        if not 1 <= first <= 200:
            raise ValidationFailed("first: between 1 and 200", field="first")
        rows = await call(info, Op.supervision_read, "supervision", "calendar_versions", {"first": first})
        return [calendar(r) for r in rows]
