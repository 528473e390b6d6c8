"""Spreadsheet exports: cells a spreadsheet would run as a formula are written as text.

OWASP's CSV-injection guidance: a string cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
return is prefixed with a single quote, which Excel, WPS and LibreOffice show as the literal text. Numbers
stay numbers (a negative score is not a formula); only strings are escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value to write into a CSV/XLSX cell: strings that would start a formula become quoted text."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def safe_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: safe_cell(v) for k, v in row.items()}
