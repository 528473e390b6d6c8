"""Scoping by the caller, in one place (范围): who sees an item, who manages it, as which unit one acts.

An office (督查室, `supervisor`) manages the items whose supervising office lies in its subtree (its level and
below) and reads those plus the items of units in its subtree; a lead or cooperating unit (`reporter`,
`department`) reads and acts on the items of units in its subtree; `leader` and `assessment_office` read
the items of units in their subtree; `system` everything. Single items out of reach read as not found.
"""

from __future__ import annotations

from typing import Any

from kaohe.contracts.paths import upper
from kaohe.identity import Caller, Role

READERS = (Role.supervisor, Role.reporter, Role.department, Role.leader, Role.assessment_office)
UNIT_ROLES = (Role.reporter, Role.department)
OFFICE_ROLES = (Role.supervisor, Role.system)


def in_subtree(column: str, name: str) -> str:
    """The subtree predicate on `column` with bind parameters `:<name>_lo` / `:<name>_hi`."""
    return f'({column} COLLATE "C" >= :{name}_lo AND {column} COLLATE "C" < :{name}_hi)'


def bounds(path: str, name: str) -> dict[str, str]:
    return {f"{name}_lo": path, f"{name}_hi": upper(path)}


def visible(caller: Caller, alias: str = "i") -> tuple[str, dict[str, Any]]:
    """SQL (over item alias `alias`) for the items the caller may read, and its parameters."""
    if caller.has(Role.system):
        return "TRUE", {}
    if not caller.has(*READERS):
        return "FALSE", {}
    units = (
        f"EXISTS (SELECT 1 FROM item_unit su WHERE su.item_id = {alias}.id"
        f" AND {in_subtree('su.unit_path', 'scope')})"
    )
    sql = units
    if caller.has(Role.supervisor):
        sql = f"({in_subtree(f'{alias}.office_path', 'scope')} OR {units})"
    return sql, bounds(caller.org_path, "scope")


def is_office(caller: Caller, office_path: str) -> bool:
    """May the caller manage an item supervised by the office at `office_path`?"""
    return caller.has(Role.system) or (caller.has(Role.supervisor) and caller.covers(office_path))


def can_read(caller: Caller, office_path: str, unit_paths: list[str]) -> bool:
    if caller.has(Role.system) or is_office(caller, office_path):
        return True
    return caller.has(*READERS) and any(caller.covers(p) for p in unit_paths)


def acting_units(caller: Caller, units: list[tuple[str, str]]) -> list[str]:
    """The item's units (id, path) the caller may act as (a unit's own staff, or the system)."""
    if caller.has(Role.system):
        return [u for u, _ in units]
    if not caller.has(*UNIT_ROLES):
        return []
    return [u for u, p in units if caller.covers(p)]
