"""Who may write which value (填报与审核权限): the one rule every indicators write path calls.

Scope (the caller's org subtree) is checked first, by the caller of these functions; out-of-scope targets
look missing. Then, per indicator:

| role               | may write (create, update, evidence)           | may review (approve, reject, …) |
|--------------------|------------------------------------------------|---------------------------------|
| 考核办, system      | every indicator                                | every indicator                 |
| 责任部门 department | only its `indicator_codes` (none listed: none) | only its `indicator_codes`      |
| 填报员 reporter     | values its unit reports (数据来源 单位填报)      | —                               |
| integration        | unit reports, statistics imports (统计导入)     | —                               |

So a value whose data source is a department (部门提供, e.g. 领导班子综合评议) is entered only by that
department (its token lists the code) or by the 考核办, never by the assessed unit itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kaohe.contracts.scheme import SOURCE_ZH, Scheme, all_indicators
from kaohe.errors import Forbidden
from kaohe.identity import Caller, Role
from services.indicators.errors import IndicatorsErrorCode as ErrorCode

OFFICE = (Role.assessment_office, Role.system)  # 考核办
WRITERS = OFFICE  # units and schemes
REPORTERS = (Role.reporter, Role.department, Role.integration, *OFFICE)  # values and evidence
REVIEWERS = (Role.department, *OFFICE)  # review decisions
SOURCES_BY_ROLE: dict[Role, frozenset[str]] = {
    Role.reporter: frozenset({"unit_report"}),
    Role.integration: frozenset({"unit_report", "statistic_import"}),
}


@dataclass(frozen=True)
class Denial:
    code: ErrorCode  # FORBIDDEN_INDICATOR | FORBIDDEN_SOURCE
    message: str  # for RPC errors
    zh: str  # for bulk problem rows

    def error(self, field: str) -> Forbidden:
        return Forbidden(self.message, field=field, code=self.code)


def _not_departments(code: str) -> Denial:
    return Denial(
        ErrorCode.FORBIDDEN_INDICATOR,
        f"indicator {code} is not one of your department's (责任部门) indicators",
        f"指标「{code}」不是本部门负责的指标，无权填报或审核",
    )


def write_denial(caller: Caller, code: str, *, source: str, department: str | None) -> Denial | None:
    """Why `caller` may not write a value of `code` (data source `source`), or None when it may."""
    if caller.has(*OFFICE):
        return None
    if caller.has(Role.department) and code in caller.indicator_codes:
        return None
    if any(source in SOURCES_BY_ROLE.get(r, ()) for r in caller.roles):
        return None
    if caller.has(Role.department):
        return _not_departments(code)
    who = f"，责任部门 {department}" if department else ""
    label = SOURCE_ZH.get(source, source)
    return Denial(
        ErrorCode.FORBIDDEN_SOURCE,
        f"indicator {code} is entered by its source ({label}{who}), not by the assessed unit;"
        " only that department or the 考核办 may write it",
        f"指标「{code}」的数据来源为{label}{who}，须由该部门或考核办填报，被考核单位无权填报",
    )


def review_denial(caller: Caller, code: str) -> Denial | None:
    """Why `caller` may not review (approve, reject, reopen, verify evidence of) `code`, or None."""
    if caller.has(*OFFICE):
        return None
    if caller.has(Role.department) and code in caller.indicator_codes:
        return None
    return _not_departments(code)


def require_write(caller: Caller, code: str, *, source: str, department: str | None, field: str) -> None:
    if (d := write_denial(caller, code, source=source, department=department)) is not None:
        raise d.error(field)


def require_review(caller: Caller, code: str, *, field: str) -> None:
    if (d := review_denial(caller, code)) is not None:
        raise d.error(field)


def origins(scheme: Scheme) -> Iterator[tuple[str, str, str | None]]:
    """(code, data source, responsible department) of every leaf and data element of a scheme."""
    for ind, _ in all_indicators(scheme):
        if not ind.children:
            yield ind.code, ind.source, ind.department
    for e in scheme.data_elements:
        yield e.name, e.source, e.department


def denied_codes(caller: Caller, scheme: Scheme) -> dict[str, Denial]:
    """Every code of the scheme the caller may not write, with the reason (empty for the 考核办)."""
    if caller.has(*OFFICE):
        return {}
    out: dict[str, Denial] = {}
    for code, source, department in origins(scheme):
        if (d := write_denial(caller, code, source=source, department=department)) is not None:
            out[code] = d
    return out
