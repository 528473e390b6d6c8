"""What a document shows (文书数据): plain data gathered from scoring, in the order it is printed."""

from __future__ import annotations

from dataclasses import dataclass, field

GRADES = ("优秀", "良好", "一般", "较差")
COLOUR_ZH = {"red": "红", "yellow": "黄", "green": "绿"}


@dataclass(frozen=True)
class Pdf:
    """A rendered PDF and its page count."""

    data: bytes
    pages: int


@dataclass(frozen=True)
class Heading:
    """The frame of every document: issuing office, 文号, title, 主送, date and the data's status."""

    office: str  # 发文机关, e.g. 晋城市考核工作领导小组办公室
    number: str  # 文号, e.g. 晋城考办〔2026〕3号
    title: str
    recipients: str  # 主送
    date: str  # 成文日期, e.g. 2026年4月10日
    preliminary: bool  # 初步结果: watermarked
    published_note: str | None = None  # 依据已发布结果 (快照 …) when the results are published


@dataclass(frozen=True)
class Level1Score:
    name: str
    score: float


@dataclass(frozen=True)
class RankRow:
    rank: int | None
    unit_id: str
    unit_name: str
    total: float
    grade: str | None
    colour: str | None  # 三色榜 colour: red | yellow | green | None
    level1: tuple[Level1Score, ...] = ()


@dataclass(frozen=True)
class GradeCounts:
    of: int
    quota: int | None  # 优秀 places
    counts: dict[str, int]


@dataclass(frozen=True)
class BoardCell:
    unit_name: str
    colour: str  # red | yellow | green
    behind: tuple[str, ...] = ()  # names of the indicators behind schedule


@dataclass(frozen=True)
class Mover:
    unit_name: str
    rank: int
    previous_rank: int

    @property
    def change(self) -> int:
        """Places gained (positive) or lost (negative)."""
        return self.previous_rank - self.rank


@dataclass(frozen=True)
class Category:
    name: str
    rows: tuple[RankRow, ...]
    grades: GradeCounts | None = None
    board: tuple[BoardCell, ...] = ()
    risers: tuple[Mover, ...] = ()
    fallers: tuple[Mover, ...] = ()


@dataclass(frozen=True)
class Bulletin:
    """考核结果通报 of one scheme and period."""

    heading: Heading
    scheme_name: str
    period_label: str  # 2026年第1季度
    previous_label: str | None
    categories: tuple[Category, ...]


@dataclass(frozen=True)
class PacePoint:
    label: str  # 1月 …
    expected: float | None  # share of the annual target due by then (0..1), None when unknown
    actual: float | None  # value / annual target, None when nothing was reported


@dataclass(frozen=True)
class Lagging:
    """One indicator behind schedule (序时进度滞后)."""

    code: str
    name: str
    level_zh: str  # 黄色预警 …
    expected: float
    actual: float
    lag: float
    curve: tuple[PacePoint, ...] = ()


@dataclass(frozen=True)
class Slip:
    """预警单 (kind warning) or 提醒单 (kind reminder) of one unit."""

    heading: Heading
    kind: str  # warning | reminder
    unit_name: str
    period_label: str
    total: float | None
    rank: int | None
    of: int | None
    lagging: tuple[Lagging, ...] = field(default_factory=tuple)
    request: str = ""  # what the unit is asked to do, in the office's words
