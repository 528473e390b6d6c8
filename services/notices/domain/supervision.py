"""督办提醒 (supervision notices): new items, cards, breaches, changes the units must act on, closings and
the 时限临近提醒 before each unit's own due day — all to the lead and cooperating units' leaders and
reporters.

Pure, like `rules`: each function takes the contract payload (or a stored item's due day) and returns a
`Draft`. Texts name the item's number, its title when known, and what happened.
"""

from __future__ import annotations

from datetime import date

from kaohe.contracts.supervision import BreachRecorded, CardIssued, ItemChanged, ItemClosed, ItemOpened
from kaohe.identity import Role
from kaohe.workdays import WorkdayCalendar
from services.notices.domain.deadlines import day_zh
from services.notices.domain.rules import Audience, Draft

SUPERVISION_ROLES = frozenset({Role.leader, Role.reporter})  # who acts for a unit on a 督办事项
ROLE_ZH = {"lead": "牵头单位", "cooperating": "配合单位"}
# 办理状态 in which a unit's due clock runs (not a draft, paused, escalated, awaiting 销号 or ended)
RUNNING = ("assigned", "in_progress", "extension_requested", "pause_requested")
# item.changed actions the lead and cooperating units must act on or know of: (short title, what happened)
CHANGES: dict[str, tuple[str, str]] = {
    "send_back": ("退回", "被督查室退回，请按要求补充完善后重新报送"),
    "approve_extension": ("延期已批准", "的延期申请已获批准"),
    "reject_extension": ("延期未批准", "的延期申请未获批准，办理时限不变"),
    "approve_pause": ("暂停已批准", "的暂停申请已获批准，办理时限暂停计算"),
    "reject_pause": ("暂停未批准", "的暂停申请未获批准，请继续办理"),
    "resume": ("恢复办理", "已恢复办理，办理时限继续计算"),
    "reopen": ("重新办理", "已重新交办办理"),
}
OUTCOME_ZH = {"closed": "已销号", "withdrawn": "已撤销"}


def _name(number: str, title: str) -> str:
    return f"督办事项 {number}「{title}」" if title else f"督办事项 {number}"


def unit_dues(e: ItemOpened | ItemChanged) -> list[date]:
    """Each unit's own due day, parallel to `unit_ids`; an older event without them: the item's deadline."""
    if len(e.unit_deadlines) == len(e.unit_ids):
        return list(e.unit_deadlines)
    return [e.deadline] * len(e.unit_ids)


def _assigned(event_id: str, e: ItemOpened | ItemChanged, title: str, *, urgent: bool = False) -> Draft:
    """已交办贵单位 to every unit of the item, a cooperating unit whose 分项时限 differs told its own."""
    name = _name(e.number, title)
    per_unit = {
        u: f"{name}已交办贵单位（配合单位），分项任务时限 {d.isoformat()}，请及时签收办理。"
        for i, (u, d) in enumerate(zip(e.unit_ids, unit_dues(e), strict=True))
        if i > 0 and d != e.deadline
    }
    return Draft(
        rule="supervision",
        source=event_id,
        audience=Audience(SUPERVISION_ROLES, units=tuple(e.unit_ids)),
        title=f"督办事项 {e.number}：{title}" if title else f"督办事项 {e.number}：交办",
        body=f"{name}已交办贵单位，办理时限 {e.deadline.isoformat()}，请及时签收办理。",
        urgent=urgent,
        unit_id=e.unit_ids[0] if e.unit_ids else None,
        unit_path=e.unit_paths[0] if e.unit_paths else None,
        per_unit=per_unit,
    )


def item_opened(event_id: str, e: ItemOpened) -> Draft:
    """督办交办: the lead and cooperating units of a new item (each told its own 时限); urgent at once."""
    return _assigned(event_id, e, e.title, urgent=e.priority == "urgent")


def item_assigned(event_id: str, e: ItemChanged, title: str) -> Draft | None:
    """交办 of a draft (an intake, an escalation) to units its item.opened did not name: told as a new item
    would be (the event does not carry the priority: not urgent)."""
    return _assigned(event_id, e, title) if e.unit_ids else None


def item_changed(event_id: str, e: ItemChanged, title: str, cal: WorkdayCalendar) -> Draft | None:
    """事项变动 the units must act on (退回, 延期/暂停 decided, 恢复, 重新办理): every unit, each told its own
    due day; other actions (签收, 反馈 …) make no notice."""
    change = CHANGES.get(e.action)
    if change is None or not e.unit_ids:
        return None
    short, what = change
    name = _name(e.number, title)
    per_unit = {
        u: f"{name}{what}。贵单位（{'牵头单位' if i == 0 else '配合单位'}）办理时限：{day_zh(d, cal)}。"
        for i, (u, d) in enumerate(zip(e.unit_ids, unit_dues(e), strict=True))
    }
    return Draft(
        rule="supervision",
        source=event_id,
        audience=Audience(SUPERVISION_ROLES, units=tuple(e.unit_ids)),
        title=f"督办事项 {e.number}：{short}",
        body=f"{name}{what}。办理时限：{day_zh(e.deadline, cal)}。",
        per_unit=per_unit,
    )


def item_closed(event_id: str, e: ItemClosed, title: str) -> Draft | None:
    """销号/撤销: every unit of the item learns it has ended."""
    if not e.unit_ids:
        return None
    outcome = OUTCOME_ZH[e.outcome]
    why = f"（{e.reason.strip()}）" if e.reason.strip() else ""
    return Draft(
        rule="supervision",
        source=event_id,
        audience=Audience(SUPERVISION_ROLES, units=tuple(e.unit_ids)),
        title=f"督办事项 {e.number}：{outcome}",
        body=f"{_name(e.number, title)}{outcome}{why}，无需继续办理。",
    )


def item_due(
    item_id: str,
    number: str,
    title: str,
    unit_id: str,
    unit_path: str,
    lead: bool,
    due: date,
    cal: WorkdayCalendar,
) -> Draft:
    """时限临近提醒: the unit answering for a due day hears of it; keyed by (item, unit, day), so an
    extension's new due day makes a new reminder and the same day never two."""
    what = "办理时限" if lead else "分项任务时限"
    return Draft(
        rule="supervision",
        source=f"due:{item_id}:{unit_id}:{due.isoformat()}",
        audience=Audience(SUPERVISION_ROLES, units=(unit_id,)),
        title=f"时限临近：督办事项 {number} {due.month}月{due.day}日到期",
        body=(
            f"{_name(number, title)}贵单位（{'牵头单位' if lead else '配合单位'}）的{what}将于 "
            f"{day_zh(due, cal)}到期，请抓紧办理并按时报送办理情况。"
        ),
        unit_id=unit_id,
        unit_path=unit_path,
    )


def card_issued(event_id: str, e: CardIssued) -> Draft:
    """黄牌/红牌: the carded unit (lead or cooperating); a red card is urgent."""
    colour = "红牌" if e.colour == "red" else "黄牌"
    return Draft(
        rule="supervision",
        source=event_id,
        audience=Audience(SUPERVISION_ROLES, units=(e.unit_id,)),
        title=f"督办{colour}：事项 {e.number}",
        body=f"贵单位作为{ROLE_ZH.get(e.role, e.role)}在督办事项 {e.number} 中被亮{colour}：{e.reason}",
        urgent=e.colour == "red",
        unit_id=e.unit_id,
        unit_path=e.unit_path,
    )


def breach_recorded(event_id: str, e: BreachRecorded) -> Draft:
    """超时限: a missed supervision clock, to the unit it is charged to."""
    return Draft(
        rule="supervision",
        source=event_id,
        audience=Audience(SUPERVISION_ROLES, units=(e.unit_id,)),
        title=f"督办超时：事项 {e.number}",
        body=f"督办事项 {e.number} 的时限（{e.due.date().isoformat()}）已过：{e.reason}",
        unit_id=e.unit_id,
        unit_path=e.unit_path,
    )
