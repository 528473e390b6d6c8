"""The supervision item (督办事项): 问题、责任、举措、时限 — problem, responsibility, measures, deadline.

Basis: the 阳泉高新区 seed — an online list "包括问题、责任、举措、时限等要素", clues gathered from inside
(上级、领导、部门、考核) and outside (the "办不成事" window) ("线索双头汇集"), 责任部门与配合部门 each with
their own share — and the document-number format of GB/T 9704-2012 《党政机关公文格式》 7.2.4: 机关代字 +
年份 in 六角括号〔〕 + 序号 + "号", the sequence without leading zeros or "第".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from .errors import ItemInvalid, NumberInvalid


class Source(StrEnum):  # 线索来源
    """Where an item came from; `SOURCE_ZH` has the office's words."""

    SUPERIOR = "superior"  # 上级交办
    LEADER = "leader"  # 领导批示
    DEPARTMENT = "department"  # 部门反馈
    ASSESSMENT = "assessment"  # 考核发现 (a scoring warning on a unit's indicator)
    RECTIFICATION = "rectification"  # 考核整改 (graded 较差 or last place in a published result)
    WINDOW = "window"  # 办不成事窗口
    HOTLINE = "hotline"  # 12345热线
    OTHER = "other"  # 其他


SOURCE_ZH: dict[Source, str] = {
    Source.SUPERIOR: "上级交办",
    Source.LEADER: "领导批示",
    Source.DEPARTMENT: "部门反馈",
    Source.ASSESSMENT: "考核发现",
    Source.RECTIFICATION: "考核整改",
    Source.WINDOW: "办不成事窗口",
    Source.HOTLINE: "12345热线",
    Source.OTHER: "其他",
}


class Priority(StrEnum):  # 缓急程度
    URGENT = "urgent"  # 特急
    HIGH = "high"  # 加急
    NORMAL = "normal"  # 一般


class Role(StrEnum):  # 责任角色
    LEAD = "lead"  # 牵头单位
    COOPERATING = "cooperating"  # 配合单位


_BRACKETS = "〔[［【(（", "〕]］】)）"
_NUMBER = re.compile(
    rf"^\s*(?P<prefix>[\u4e00-\u9fff]{{1,12}})\s*[{re.escape(_BRACKETS[0])}]\s*(?P<year>\d{{4}})\s*"
    rf"[{re.escape(_BRACKETS[1])}]\s*第?\s*(?P<seq>\d{{1,7}})\s*号\s*$"
)


@dataclass(frozen=True, slots=True, order=True)
class ItemNumber:  # 督办编号
    """A number such as 晋督〔2026〕12号: office prefix (`office_prefix`), year, sequence within the year;
    the bare 督 of numbers issued before offices had their own prefix stays valid."""

    year: int
    seq: int
    prefix: str = "督"

    def __post_init__(self) -> None:
        if not 1900 <= self.year <= 9999 or self.seq < 1:
            raise NumberInvalid(f"year {self.year} / sequence {self.seq} out of range", field="number")
        if not re.fullmatch(r"[\u4e00-\u9fff]{1,12}", self.prefix):
            raise NumberInvalid(f"prefix {self.prefix!r} must be 1–12 Chinese characters", field="number")

    def __str__(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.seq}号"

    @classmethod
    def parse(cls, text: str) -> ItemNumber:
        """Read a number as typed in a 督办清单: 〔〕[]［］【】() brackets, a stray 第, leading zeros."""
        m = _NUMBER.match(text)
        if m is None:
            raise NumberInvalid(f"not a 督办 number: {text!r} (expected e.g. 督〔2026〕12号)", field="number")
        return cls(int(m["year"]), int(m["seq"]), m["prefix"])


_PARTY = ("中共", "中国共产党")  # 中共晋城市委督查室: the place name follows the party's name


def office_prefix(name: str) -> str:
    """The default 机关代字 of an office's numbers: the first character of its place name + 督 (晋城市 →
    晋督, 泽州县 → 泽督), so two offices' 1号 differ; plain 督 for a name with no Chinese character."""
    text = name.strip()
    for lead in _PARTY:
        text = text.removeprefix(lead)
    first = next((ch for ch in text if "\u4e00" <= ch <= "\u9fff"), None)
    return "督" if first is None or first == "督" else f"{first}督"


@dataclass(frozen=True, slots=True)
class SourceRef:  # 线索
    """The source and what raised the item: a warning's event id, a 批示 document, a hotline ticket number."""

    source: Source
    ref: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class UnitTask:  # 责任分工
    """One responsible unit's own task and sub-deadline (分项时限), inclusive of that day."""

    unit_id: str
    role: Role
    task: str
    deadline: date


@dataclass(frozen=True, slots=True)
class Milestone:  # 节点目标
    title: str
    due: date


@dataclass(frozen=True, slots=True)
class SupervisionItem:  # 督办事项
    """An item as the office assigned it; its state and timeline live in `lifecycle`."""

    id: str
    number: ItemNumber
    title: str
    problem: str  # 问题
    source: SourceRef
    office_id: str  # the supervising office (督查室) — a unit of the indicators service's tree
    lead: UnitTask  # 牵头单位
    deadline: date  # 时限 (inclusive: due at the end of this day, or of the next working day)
    cooperating: tuple[UnitTask, ...] = ()  # 配合单位
    measures: tuple[str, ...] = ()  # 举措
    milestones: tuple[Milestone, ...] = ()
    priority: Priority = Priority.NORMAL
    indicator_code: str | None = None  # for 考核发现: the (unit, code) the warning was about
    attachments: tuple[str, ...] = field(default=())  # storage keys of files attached at assignment

    def __post_init__(self) -> None:
        _check_item(self)

    @property
    def tasks(self) -> tuple[UnitTask, ...]:
        """The lead's task first, then the cooperating units' in their given order."""
        return (self.lead, *self.cooperating)

    @property
    def unit_ids(self) -> tuple[str, ...]:
        return tuple(t.unit_id for t in self.tasks)

    def role_of(self, unit_id: str) -> Role | None:
        """The unit's role on this item, None when it is neither lead nor cooperating."""
        return next((t.role for t in self.tasks if t.unit_id == unit_id), None)

    def task_of(self, unit_id: str) -> UnitTask | None:
        return next((t for t in self.tasks if t.unit_id == unit_id), None)


def _check_item(item: SupervisionItem) -> None:
    if not item.title.strip():
        raise ItemInvalid("an item needs a title", field="title")
    if not item.problem.strip():
        raise ItemInvalid("an item needs its problem (问题)", field="problem")
    if not item.source.ref.strip():
        raise ItemInvalid("the source needs a reference to what raised the item", field="source.ref")
    if item.lead.role is not Role.LEAD:
        raise ItemInvalid("the lead task must have role lead", field="lead.role")
    seen: set[str] = set()
    for i, t in enumerate(item.tasks):
        where = "lead" if i == 0 else f"cooperating[{i - 1}]"
        if i and t.role is not Role.COOPERATING:
            raise ItemInvalid("a cooperating task must have role cooperating", field=f"{where}.role")
        if t.unit_id in seen:
            raise ItemInvalid(f"unit {t.unit_id} appears twice among the responsible units", field=where)
        seen.add(t.unit_id)
        if not t.task.strip():
            raise ItemInvalid("each responsible unit needs its own task", field=f"{where}.task")
        if t.deadline > item.deadline:
            raise ItemInvalid(
                "a sub-deadline may not fall after the item's deadline", field=f"{where}.deadline"
            )
    for i, m in enumerate(item.milestones):
        if m.due > item.deadline:
            raise ItemInvalid("a milestone may not fall after the deadline", field=f"milestones[{i}].due")
