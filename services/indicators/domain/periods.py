"""Periods (期间): canonical `2026`, `2026H1`, `2026Q1`, `2026-03`, and the forms people type in Excel."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_CN_DIGIT = {"一": "1", "二": "2", "三": "3", "四": "4"}
_YEAR = re.compile(r"^(\d{4})(?:年度?)?$")
_QUARTER = re.compile(r"^(\d{4})(?:[-/.]?[Qq]|年第?)([1-4一二三四])(?:季度?)?$")
_HALF = re.compile(r"^(\d{4})(?:[-/.]?[Hh]([12])|年(上|下)半年)$")
# 2026-03, 2026/3, 2026.3, 202603, 2026年3月, and full dates 2026/3/1 or 2026-03-01 (Excel turns a
# "2026-03" cell into a date, and a CSV saved back from Excel then carries the date)
_MONTH = re.compile(r"^(\d{4})(?:[-/.年]?)(\d{1,2})月?(?:[-/.]\d{1,2}日?|\d{1,2}日)?(?:00:00(?::00)?)?$")


def normalize_period(raw: object) -> str | None:
    """Canonical form of a period as typed or as read from a cell; None when it is not a period."""
    if isinstance(raw, dt.datetime | dt.date):
        return f"{raw.year}-{raw.month:02d}"
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(int(raw)) if raw == int(raw) and 2000 <= raw <= 2100 else None
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
    if m := _YEAR.match(text):
        return m.group(1)
    if m := _QUARTER.match(text):
        return f"{m.group(1)}Q{_CN_DIGIT.get(m.group(2), m.group(2))}"
    if m := _HALF.match(text):
        half = m.group(2) or ("1" if m.group(3) == "上" else "2")
        return f"{m.group(1)}H{half}"
    if (m := _MONTH.match(text)) and 1 <= int(m.group(2)) <= 12:
        if text.isdigit() and len(text) != 6:  # bare digits only as yyyymm; 20263 is a typo, not March
            return None
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    return None


def period_label(period: str) -> str:
    """Chinese display form (`2026年3月`, `2026年第1季度`, `2026年上半年`, `2026年度`), text to Excel."""
    if len(period) == 4:
        return f"{period}年度"
    year, rest = period[:4], period[4:]
    if rest.startswith("Q"):
        return f"{year}年第{rest[1]}季度"
    if rest.startswith("H"):
        return f"{year}年{'上' if rest[1] == '1' else '下'}半年"
    return f"{year}年{int(rest[1:])}月"
