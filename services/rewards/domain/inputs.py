"""Plain inputs of 结果运用: a published snapshot's rows, the cadre roster (干部名册) and past results.

Rows come from `kaohe.scoring.results.published` (never preliminary scores); cadres from the registry,
identified only by an opaque person key (a keyed hash), never a name or ID-card number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from kaohe.contracts.periods import MONTHS_IN, Period
from kaohe.contracts.standards import GRADES

Post = Literal["主要负责人", "班子成员", "一般干部"]  # head / leadership member / staff
POSTS: tuple[str, ...] = ("主要负责人", "班子成员", "一般干部")
HEAD: Post = "主要负责人"

_OPAQUE = re.compile(r"[A-Za-z0-9_\-:.]{8,128}")
# 居民身份证号码 (15 or 18 characters), and any all-digit key (a phone, ID-card or staff number)
_ID_NUMBER = re.compile(r"\d+|\d{17}[Xx]")
_FINE = re.compile(r"(?!\d+$|\d{17}[Xx]$)[A-Za-z0-9_\-:.]{8,128}")  # both checks in one match


@dataclass(frozen=True, slots=True)
class SnapshotRow:  # 已发布结果行
    """One unit's published result: its category (分类), grade (等次), rank of its category and kind."""

    unit_id: str
    category: str
    grade: str | None
    rank: int | None
    of: int | None
    total: float  # a score, not money
    unit_kind: str = ""  # 单位类型 for 考核系数 (e.g. 招商, 产业, 保障服务)
    last_place: bool = False  # 末位, as flagged by scoring
    vetoed: bool = False  # 一票否决


@dataclass(frozen=True, slots=True)
class Snapshot:  # 已发布的考核结果快照
    """An immutable published period: its id, content digest and rows."""

    scheme_id: str
    period: str  # canonical: 2026 | 2026-Q1 | 2026-03 (kaohe.contracts.periods.Period)
    snapshot_id: str
    digest: str
    rows: Sequence[SnapshotRow]


class Cadre(NamedTuple):  # 干部 (a row of the 干部名册 as of the period)
    """A person in a unit: opaque key, post (职务类别), rank (职级), monthly performance pay base in fen.

    A named tuple (immutable, built in C): a period's roster holds hundreds of thousands of them."""

    person_key: str
    unit_id: str
    post: str  # one of POSTS
    rank: str  # 职级, e.g. 正科, 副科, 科员
    monthly_pay_fen: int  # 月奖励性绩效工资基数 (分)
    grade: str | None = None  # 个人考核等次 of the period, from the unit's own assessment


@dataclass(frozen=True, slots=True)
class UnitPast:  # 单位历史结果
    """A unit's result in an earlier published period."""

    period: str
    grade: str | None
    rank: int | None = None
    of: int | None = None
    last_place: bool = False


@dataclass(frozen=True, slots=True)
class PersonPast:  # 个人历史等次
    """A person's individual grade in an earlier period."""

    period: str
    grade: str | None


@dataclass(frozen=True, slots=True)
class History:  # 历史结果
    """Earlier results by unit id and by person key (any order; gaps break a streak)."""

    units: Mapping[str, Sequence[UnitPast]] = field(default_factory=dict)
    persons: Mapping[str, Sequence[PersonPast]] = field(default_factory=dict)


def opaque_key_problem(key: str) -> str | None:
    """Why a person key is not an opaque id (a name, an ID-card number), or None when it is fine."""
    if _FINE.fullmatch(key):
        return None
    if _ID_NUMBER.fullmatch(key):
        return "looks like an ID-card, phone or staff number (all digits)"
    if not _OPAQUE.fullmatch(key):
        return "must be 8–128 characters of A–Z a–z 0–9 _ - : . (an opaque or hashed id, never a name)"
    return None


def period_kind(period: str) -> str:
    """The kind of a canonical period (`kaohe.contracts.periods.Period`): year, half, quarter or month."""
    return Period.parse(period).kind


def months_in(period: str) -> int:
    """Months a period spans (for a pool derived from monthly pay)."""
    return MONTHS_IN[Period.parse(period).kind]


def previous_period(period: str) -> str:
    """The period of the same kind just before: 2026 → 2025, 2026-Q1 → 2025-Q4, 2026-01 → 2025-12."""
    return str(Period.parse(period).previous())


def is_grade(value: str | None) -> bool:
    """Whether a value is one of the grades 优秀/良好/一般/较差."""
    return value in GRADES
