"""Inheritance check (承接校验): a lower scheme's 承接 references against its parent scheme, and every
indicator the parent issues down (下达) taken up."""

from __future__ import annotations

from kaohe.contracts.scheme import Scheme, all_indicators
from services.indicators.errors import IndicatorsErrorCode as ErrorCode

from .errors import Problem, problem

__all__ = ["validate_inheritance"]


def validate_inheritance(scheme: Scheme, parent: Scheme) -> list[Problem]:
    """Check every 承接 reference against the parent scheme, and that every 下达 indicator is taken up."""
    out = []
    upper = f"上级方案（{parent.assessing_unit} {parent.year}）"
    if scheme.parent is None or (scheme.parent.assessing_unit, scheme.parent.year) != (
        parent.assessing_unit,
        parent.year,
    ):
        detail = f"方案未声明承接{upper}" if scheme.parent is None else f"方案声明的上级方案与{upper}不符"
        out.append(problem(scheme.label, ErrorCode.PARENT_SCHEME_MISMATCH, detail))
    index = {ind.code: ind for ind, _ in all_indicators(parent)}
    inherited: set[str] = set()
    for ind, _ in all_indicators(scheme):
        if ind.inherits_from is None:
            continue
        path = f"{scheme.label} / 指标 {ind.code}"
        up = index.get(ind.inherits_from)
        if up is None:
            detail = f"承接的上级指标 {ind.inherits_from} 在{upper}中不存在"
            out.append(problem(path, ErrorCode.INHERIT_UNKNOWN, detail))
            continue
        inherited.add(up.code)
        if up.children or ind.children:
            continue
        if up.direction != ind.direction:
            detail = f"指标方向与所承接的上级指标 {up.code} 相反"
            out.append(problem(path, ErrorCode.INHERIT_MISMATCH, detail))
        if up.unit_of_measure and ind.unit_of_measure and up.unit_of_measure != ind.unit_of_measure:
            detail = f"计量单位「{ind.unit_of_measure}」与上级指标 {up.code} 的「{up.unit_of_measure}」不一致"
            out.append(problem(path, ErrorCode.INHERIT_MISMATCH, detail))
    for code, ind in index.items():
        if ind.cascade and code not in inherited:
            path = f"{scheme.label} / 上级方案 {parent.assessing_unit} {parent.year} / 指标 {code}"
            out.append(problem(path, ErrorCode.INHERIT_MISSING, f"上级下达的指标「{ind.name}」未被承接"))
    return out
