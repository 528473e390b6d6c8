"""Small builders shared by the supervision domain tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import strategies as st

from kaohe.errors import KaoheError
from kaohe.workdays import CHINA_TZ, official_calendar
from services.supervision.domain import (
    Action,
    Actor,
    Command,
    ItemNumber,
    ItemState,
    Role,
    Source,
    SourceRef,
    SupervisionItem,
    UnitTask,
    apply,
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


ITEM = make_item()
T0 = at(date(2026, 3, 2), 9)
steps = st.tuples(
    st.sampled_from(list(Action)),
    st.sampled_from(["office", "lead", "coop"]),
    st.integers(min_value=1, max_value=60 * 24 * 6),
    st.sampled_from([date(2026, 3, 25), date(2026, 4, 30), date(2026, 6, 30)]),
)


def timeline(raw: list[tuple[Action, str, int, date]]):
    state, entries, t = ItemState.start(ITEM), [], T0
    for action, who, minutes, nd in [(Action.ASSIGN, "office", 0, None), *raw]:
        t += timedelta(minutes=minutes)
        maker = {"office": office, "lead": lead, "coop": coop}[who]
        c = maker(action, t, reason="r", evidence=("e",), new_deadline=nd)
        try:
            state, e = apply(state, command=c)
        except KaoheError:
            continue
        entries.append(e)
    return entries, t


# A typical item: accepted, reported on, the lead's own part in; the cooperating part arrives late.
BASE = [
    office(Action.ASSIGN, at(date(2026, 3, 2))),
    lead(Action.ACCEPT, at(date(2026, 3, 3))),
    lead(Action.REPORT_PROGRESS, at(date(2026, 3, 5)), reason="方案已定"),
    lead(Action.SUBMIT_PART, at(date(2026, 3, 16)), evidence=("s3://e/lead.pdf",)),
    lead(Action.REPORT_PROGRESS, at(date(2026, 3, 17)), reason="截污纳管完成"),
    lead(Action.REPORT_PROGRESS, at(date(2026, 3, 30)), reason="等待配合单位排查结果"),
]
LATE_PART = coop(Action.SUBMIT_PART, at(date(2026, 4, 2)), evidence=("s3://e/coop.pdf",))


def closing(day: date, verified: date) -> list[Command]:
    return [
        lead(Action.REQUEST_CLOSURE, at(day), reason="整治完成", evidence=("s3://e/final.pdf",)),
        office(Action.VERIFY_CLOSURE, at(verified), reason="现场核验属实"),
    ]
