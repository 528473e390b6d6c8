"""Periods (期间): one type, one spelling (`2026`, `2026-H1`, `2026-Q1`, `2026-05`), one parser, the calendar.

`Period.parse` accepts only the canonical spelling (what the API, events and tables carry); `Period.read`
also reads what people type or Excel writes (`2026Q1`, `2026年第1季度`, `2026年3月`, a date cell) and is
the one place such forms are understood.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

PeriodKind = Literal["year", "half", "quarter", "month"]
KINDS: tuple[PeriodKind, ...] = ("year", "half", "quarter", "month")
PER_YEAR: dict[str, int] = {"year": 1, "half": 2, "quarter": 4, "month": 12}
MONTHS_IN: dict[str, int] = {"year": 12, "half": 6, "quarter": 3, "month": 1}
MIN_YEAR, MAX_YEAR = 2000, 2100

# the canonical spelling, for pydantic `Field(pattern=PATTERN)` and database checks
PATTERN = r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]|H[12]))?$"
_CANONICAL = re.compile(PATTERN)

_CN_DIGIT = {"一": "1", "二": "2", "三": "3", "四": "4"}
_YEAR = re.compile(r"^(\d{4})(?:年度?)?$")
_QUARTER = re.compile(r"^(\d{4})(?:[-/.]?[Qq]|年第?)([1-4一二三四])(?:季度?)?$")
_HALF = re.compile(r"^(\d{4})(?:[-/.]?[Hh]([12])|年(上|下)半年)$")
# 2026-03, 2026/3, 2026.3, 202603, 2026年3月, and full dates 2026/3/1 or 2026-03-01 (Excel turns a
# "2026-03" cell into a date, and a CSV saved back from Excel then carries the date)
_MONTH = re.compile(r"^(\d{4})(?:[-/.年]?)(\d{1,2})月?(?:[-/.]\d{1,2}日?|\d{1,2}日)?(?:00:00(?::00)?)?$")


@dataclass(frozen=True)
class Period:
    """A year, half-year, quarter or month; `str()` is the canonical spelling."""

    year: int
    kind: PeriodKind
    index: int = 1  # 1 for a year, 1–2 for a half, 1–4 for a quarter, 1–12 for a month

    def __post_init__(self) -> None:
        if self.kind not in PER_YEAR:
            raise ValueError(f"kind: not a period kind: {self.kind!r}")
        if not 1 <= self.index <= PER_YEAR[self.kind]:
            raise ValueError(f"index: {self.kind} {self.index} is out of range 1..{PER_YEAR[self.kind]}")
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise ValueError(f"year: {self.year} is out of range {MIN_YEAR}..{MAX_YEAR}")

    def __str__(self) -> str:
        if self.kind == "year":
            return f"{self.year}"
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        return f"{self.year}-{'H' if self.kind == 'half' else 'Q'}{self.index}"

    @classmethod
    def parse(cls, text: str) -> Period:
        """The period a canonical spelling names; ValueError for anything else."""
        if not isinstance(text, str) or not _CANONICAL.fullmatch(text):
            raise ValueError(f"period: {text!r} is not 2026, 2026-H1, 2026-Q1 or 2026-05")
        year = int(text[:4])
        if len(text) == 4:
            return cls(year, "year")
        tag = text[5]
        if tag == "H":
            return cls(year, "half", int(text[6]))
        if tag == "Q":
            return cls(year, "quarter", int(text[6]))
        return cls(year, "month", int(text[5:]))

    @classmethod
    def read(cls, raw: object) -> Period | None:
        """The period of a value as typed or read from a cell (`2026Q1`, `2026年3月`, a date), or None."""
        if isinstance(raw, dt.datetime | dt.date):
            return _make(raw.year, "month", raw.month)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return _make(int(raw), "year", 1) if raw == int(raw) else None
        if raw is None:
            return None
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
        if m := _YEAR.match(text):
            return _make(int(m.group(1)), "year", 1)
        if m := _QUARTER.match(text):
            return _make(int(m.group(1)), "quarter", int(_CN_DIGIT.get(m.group(2), m.group(2))))
        if m := _HALF.match(text):
            return _make(int(m.group(1)), "half", int(m.group(2) or (1 if m.group(3) == "上" else 2)))
        if m := _MONTH.match(text):
            if text.isdigit() and len(text) != 6:  # bare digits only as yyyymm; 20263 is a typo, not March
                return None
            return _make(int(m.group(1)), "month", int(m.group(2)))
        return None

    @property
    def label(self) -> str:
        """Chinese display form: `2026年度`, `2026年上半年`, `2026年第1季度`, `2026年3月`."""
        if self.kind == "year":
            return f"{self.year}年度"
        if self.kind == "half":
            return f"{self.year}年{'上' if self.index == 1 else '下'}半年"
        if self.kind == "quarter":
            return f"{self.year}年第{self.index}季度"
        return f"{self.year}年{self.index}月"

    @property
    def first_month(self) -> int:
        """The number (1–12) of the period's first month."""
        return (self.index - 1) * MONTHS_IN[self.kind] + 1

    def months(self) -> tuple[Period, ...]:
        """The months the period spans, in order."""
        first = self.first_month
        return tuple(Period(self.year, "month", m) for m in range(first, first + MONTHS_IN[self.kind]))

    def previous(self) -> Period:
        """The period of the same kind just before (2026-Q1 → 2025-Q4)."""
        if self.index > 1:
            return Period(self.year, self.kind, self.index - 1)
        return Period(self.year - 1, self.kind, PER_YEAR[self.kind])

    def next(self) -> Period:
        """The period of the same kind just after (2025-Q4 → 2026-Q1)."""
        if self.index < PER_YEAR[self.kind]:
            return Period(self.year, self.kind, self.index + 1)
        return Period(self.year + 1, self.kind, 1)

    def within(self, kind: PeriodKind) -> Period | None:
        """The period of `kind` containing this one (a month's quarter); None when it is shorter."""
        if MONTHS_IN[kind] < MONTHS_IN[self.kind]:
            return None
        return Period(self.year, kind, (self.first_month - 1) // MONTHS_IN[kind] + 1)

    def contains(self, other: Period) -> bool:
        """Whether `other` lies within this period (a period contains itself)."""
        return other.within(self.kind) == self

    @property
    def start(self) -> dt.date:
        """The first day of the period."""
        return dt.date(self.year, self.first_month, 1)

    @property
    def end(self) -> dt.date:
        """The last day of the period (序时进度 is checked against it)."""
        last = self.first_month + MONTHS_IN[self.kind] - 1
        return dt.date(self.year, last, calendar.monthrange(self.year, last)[1])

    def sort_key(self) -> tuple[int, int, int]:
        """Chronological by start, a longer period before the shorter ones it contains."""
        return (self.year, self.first_month, -MONTHS_IN[self.kind])


def _make(year: int, kind: PeriodKind, index: int) -> Period | None:
    try:
        return Period(year, kind, index)
    except ValueError:
        return None


def normalize(raw: object) -> str | None:
    """The canonical spelling of a period as typed or read from a cell; None when it is not a period."""
    period = Period.read(raw)
    return None if period is None else str(period)


def kind_of(text: str) -> PeriodKind | None:
    """The kind of a canonical period; None when it is not one."""
    try:
        return Period.parse(text).kind
    except ValueError:
        return None


def is_period(text: str) -> bool:
    """Whether `text` is a period in the canonical spelling."""
    return isinstance(text, str) and bool(_CANONICAL.fullmatch(text))
