"""Every error code the rewards service raises (结果运用错误码), beside the kernel's generic ones."""

from __future__ import annotations

from enum import StrEnum


class RewardsErrorCode(StrEnum):
    """Codes of rewards' RPC errors (`{code, field, message}`); the gateway exposes them as an enum."""

    # generic (kaohe.errors)
    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INTERNAL = "internal"
    # roles and scope (角色、范围)
    FORBIDDEN_ROLE = "forbidden_role"
    FORBIDDEN_SCOPE = "forbidden_scope"
    # compare-and-set (并发修改)
    VERSION_CONFLICT = "version_conflict"
    # registry (干部名册)
    UNIT_UNKNOWN = "unit_unknown"
    IMPORT_CHANGED = "import_changed"
    IMPORT_INVALID = "import_invalid"
    # rule sets (结果运用规则)
    RULESET_INVALID = "ruleset_invalid"
    RULESET_IMMUTABLE = "ruleset_immutable"
    RULESET_MISSING = "ruleset_missing"
    # proposals and approval (拟运用清单、审批)
    SET_CLOSED = "set_closed"
    WRONG_LEVEL = "wrong_level"
    SAME_REVIEWER = "same_reviewer"
    PROBLEMS_OPEN = "problems_open"
    REASON_REQUIRED = "reason_required"
    POOL_EXCEEDED = "pool_exceeded"
    NOT_MONEY = "not_money"
