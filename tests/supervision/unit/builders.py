"""Small builders shared by the supervision domain tests."""

from __future__ import annotations

from datetime import date, datetime, time

from kaohe.workdays import CHINA_TZ, official_calendar
from services.supervision.domain import (
    Action,
    Actor,
    Command,
    ItemNumber,
    Role,
    Source,
    SourceRef,
    SupervisionItem,
    UnitTask,
)

CAL = official_calendar()
LEAD, COOP, COOP2 = "unit-lead", "unit-coop", "unit-coop2"


def at(d: date, hh: int = 10, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), CHINA_TZ)


def make_item(
    *,
    deadline: date = date(2026, 3, 31),
    lead_deadline: date | None = None,
    parts: dict[str, date] | None = None,
    item_id: str = "item-1",
) -> SupervisionItem:
    parts = {COOP: date(2026, 3, 20)} if parts is None else parts
    return SupervisionItem(
        id=item_id,
        number=ItemNumber(2026, 12),
        title="城区黑臭水体整治进度滞后",
        problem="二季度序时进度落后 12 个百分点",
        source=SourceRef(Source.ASSESSMENT, "warning-evt-1"),
        office_id="office-city",
        lead=UnitTask(LEAD, Role.LEAD, "牵头制定整治方案并组织实施", lead_deadline or deadline),
        deadline=deadline,
        cooperating=tuple(UnitTask(u, Role.COOPERATING, "完成管网排查", d) for u, d in parts.items()),
        measures=("排查管网", "截污纳管"),
    )


def cmd(action: Action, actor: Actor, when: datetime, **kw: object) -> Command:
    return Command(action, actor, str(actor), when, **kw)  # type: ignore[arg-type]


def office(action: Action, when: datetime, **kw: object) -> Command:
    return cmd(action, Actor.OFFICE, when, **kw)


def lead(action: Action, when: datetime, **kw: object) -> Command:
    return cmd(action, Actor.LEAD, when, **kw)


def coop(action: Action, when: datetime, unit: str = COOP, **kw: object) -> Command:
    return cmd(action, Actor.COOPERATING, when, unit_id=unit, **kw)
