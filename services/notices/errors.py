"""Every error code the notices service raises (通知服务错误码), beside the kernel's generic ones."""

from __future__ import annotations

from enum import StrEnum


class NoticesErrorCode(StrEnum):
    """Codes of notices' RPC errors (`{code, field, message}`); the gateway exposes them as an enum."""

    # generic (kaohe.errors): a refused parameter, an unknown or foreign object, a role, a state clash
    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INTERNAL = "internal"
    BAD_CURSOR = "bad_cursor"
    # roles and scope (角色、范围): kaohe.identity's checks; a recipient outside the office's subtree
    FORBIDDEN_ROLE = "forbidden_role"
    FORBIDDEN_SCOPE = "forbidden_scope"
