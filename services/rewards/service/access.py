"""Who may do what in rewards (权限), in one place: roles, the org subtree, a person's own ledger.

Managers (组织部, 考核办, the platform) write rules and approve within their subtree; readers add 领导; a
unit's own people (填报员, 责任部门) read the lines and ledger of units their subtree covers; HR systems
(integration) write the registry; a person reads their own ledger (`Caller.user_id` = the person's account).
"""

from __future__ import annotations

import asyncpg

from kaohe.errors import Forbidden, NotFound
from kaohe.identity import Caller, Role
from services.rewards.errors import RewardsErrorCode as E
from services.rewards.repository import units

MANAGERS = (Role.organisation, Role.assessment_office, Role.system)
READERS = (*MANAGERS, Role.leader)
LOCAL = (Role.reporter, Role.department)  # a unit's own people: their unit's lines and ledger
REGISTRY_WRITERS = (*MANAGERS, Role.integration)
NAME_READERS = (Role.organisation, Role.assessment_office, Role.system)
PAYROLL = (
    *MANAGERS,
    Role.integration,
)  # the payroll system fetches approved pay (the gateway checks its scope)


def require(caller: Caller, *roles: Role) -> None:
    caller.require(*roles)


async def assessing_path(conn: asyncpg.Connection, assessing_unit: str) -> str | None:
    """The path of an assessing unit (考核主体), when rewards knows the unit."""
    return await units.path_of(conn, assessing_unit)


async def require_assessing(
    conn: asyncpg.Connection, caller: Caller, assessing_unit: str, field: str
) -> None:
    """Writes to an assessing unit's rules and sets: its path in the caller's subtree (unknown: root only)."""
    path = await assessing_path(conn, assessing_unit)
    if (path is None and caller.org_path != "/") or (path is not None and not caller.covers(path)):
        raise Forbidden(
            "the assessing unit is outside your organisation subtree", field=field, code=E.FORBIDDEN_SCOPE
        )


async def covers_assessing(conn: asyncpg.Connection, caller: Caller, assessing_unit: str) -> bool:
    path = await assessing_path(conn, assessing_unit)
    return caller.org_path == "/" if path is None else caller.covers(path)


async def unit_path(conn: asyncpg.Connection, caller: Caller, unit_id: str, *, field: str = "unit_id") -> str:
    """The path of a unit in the caller's subtree; `not_found` alike for a missing or an outside unit."""
    path = await units.path_of(conn, unit_id)
    if path is None or not caller.covers(path):
        raise NotFound(f"unit {unit_id} not found", field=field, code=E.NOT_FOUND)
    return path


def reads_units(caller: Caller) -> bool:
    """Whether the caller may read unit-level lines and ledgers (in their subtree)."""
    return caller.has(*READERS, *LOCAL)


def sees_names(caller: Caller) -> bool:
    return caller.has(*NAME_READERS)
