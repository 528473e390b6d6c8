"""Who hears what (通知规则): an event or a due deadline → the notices to write and who receives them.

Pure: a rule takes the contract payload and returns `Draft`s; the repository resolves each draft's
`Audience` against the recipient table (unit + role, or the units above a unit) in one statement. A draft's
`source` with its `rule` and the recipient make the unique key that keeps every notice to one copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kaohe.contracts.indicators import SubmissionSubmitted
from kaohe.contracts.notices import Rule
from kaohe.contracts.scoring import ObjectionAnswered, ObjectionFiled, WarningRaised
from kaohe.identity import Role
from kaohe.workdays import WorkdayCalendar
from services.notices.domain.deadlines import Deadline, day_zh

URGENT_LEVELS = frozenset(
    {"red"}
)  # a red 序时进度 warning is urgent: it goes out at once, quiet hours or not


@dataclass(frozen=True, slots=True)
class Audience:
    """Recipients with one of `roles`, and: in one of `units` (their own unit), or covering `covering`
    (their org subtree holds that path); for a department, responsible for `code`."""

    roles: frozenset[str]
    units: tuple[str, ...] | None = None
    covering: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    rule: Rule
    source: str  # event id; `<scheme>:<period>` (填报 deadline); `due:<item>:<unit>:<day>` (督办 due day)
    audience: Audience
    title: str
    body: str
    urgent: bool = False
    unit_id: str | None = None
    unit_path: str | None = None
    per_unit: dict[str, str] = field(default_factory=dict)  # deadline: unit → its own body


def warning(event_id: str, w: WarningRaised) -> Draft:
    """预警: the unit's reporters (填报员) and its head (领导)."""
    name = w.unit_name or w.unit_id
    return Draft(
        rule="warning",
        source=event_id,
        audience=Audience(frozenset({Role.reporter, Role.leader}), units=(w.unit_id,)),
        title=f"{w.level_zh}色预警：{name} {w.code} {w.period} 序时进度滞后",
        body=(
            f"{name}的指标 {w.code} 在 {w.period} 序时进度滞后：应完成 {w.expected:.1%}，"
            f"实际完成 {w.actual:.1%}，滞后 {w.lag:.1%}（{w.level_zh}色预警）。请尽快推进并按时填报。"
        ),
        urgent=w.level in URGENT_LEVELS,
        unit_id=w.unit_id,
        unit_path=w.unit_path,
    )


def review(event_id: str, s: SubmissionSubmitted) -> Draft:
    """待审核: the departments responsible for the indicator whose subtree holds the unit."""
    return Draft(
        rule="review",
        source=event_id,
        audience=Audience(frozenset({Role.department}), covering=s.unit_path, code=s.code),
        title=f"待审核：{s.unit_id} {s.code} {s.period} 填报",
        body=f"单位 {s.unit_id} 已提交指标 {s.code} {s.period} 的填报，等待您审核。",
        unit_id=s.unit_id,
        unit_path=s.unit_path,
    )


def reminder(
    scheme_id: str, d: Deadline, gaps: dict[str, list[str]], names: dict[str, str], cal: WorkdayCalendar
) -> Draft:
    """填报截止提醒: the reporters of the units that have not handed in every leaf of the month."""
    due = day_zh(d.due, cal)
    per_unit = {
        u: (
            f"{names.get(u, u)}：{d.period} 的数据请于 {due}前报送，"
            f"尚未提交的指标：{'、'.join(codes[:20])}{' 等' if len(codes) > 20 else ''}。"
        )
        for u, codes in gaps.items()
    }
    return Draft(
        rule="deadline",
        source=f"{scheme_id}:{d.period}",
        audience=Audience(frozenset({Role.reporter}), units=tuple(sorted(gaps))),
        title=f"填报截止提醒：{d.period} 数据 {d.due.month}月{d.due.day}日截止",
        body=f"{d.period} 的数据请于 {due}前报送。",
        per_unit=per_unit,
    )


DECISION_ZH = {"upheld": "申诉成立", "rejected": "申诉不成立"}


def objection_filed(event_id: str, e: ObjectionFiled) -> Draft:
    """申诉: the assessing office (考核办 recipients whose subtree holds the unit) must answer it."""
    name = e.unit_name or e.unit_id
    what = f"（指标 {'、'.join(e.codes[:10])}{' 等' if len(e.codes) > 10 else ''}）" if e.codes else ""
    return Draft(
        rule="objection",
        source=event_id,
        audience=Audience(frozenset({Role.assessment_office}), covering=e.unit_path),
        title=f"申诉待处理：{name} {e.period} 考核结果",
        body=f"{name}对 {e.period} 的考核结果提出申诉{what}，请在申诉期内审核答复。",
        unit_id=e.unit_id,
        unit_path=e.unit_path,
    )


def objection_answered(event_id: str, e: ObjectionAnswered) -> Draft:
    """申诉答复: the unit's reporters and head learn the office's decision."""
    name = e.unit_name or e.unit_id
    return Draft(
        rule="objection",
        source=event_id,
        audience=Audience(frozenset({Role.reporter, Role.leader}), units=(e.unit_id,)),
        title=f"申诉已答复：{name} {e.period}（{DECISION_ZH[e.decision]}）",
        body=f"{name}对 {e.period} 考核结果的申诉已由考核办答复：{DECISION_ZH[e.decision]}。",
        unit_id=e.unit_id,
        unit_path=e.unit_path,
    )
