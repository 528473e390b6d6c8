"""Every error code the scoring service raises (评分服务错误码), beside the kernel's generic ones."""

from __future__ import annotations

from enum import StrEnum


class ScoringErrorCode(StrEnum):
    """Codes of scoring's RPC errors (`{code, field, message}`); the gateway exposes them as an enum."""

    # generic (kaohe.errors): a refused parameter, an unknown or out-of-subtree object, a role, a state clash
    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INTERNAL = "internal"
    # roles and scope (角色、范围): kaohe.identity's checks, and a book whose assessing unit the caller does
    # not cover
    FORBIDDEN_ROLE = "forbidden_role"
    FORBIDDEN_SCOPE = "forbidden_scope"
    # recompute (重算)
    RECOMPUTE_RUNNING = "recompute_running"
    # objections and publication (申诉、结果发布)
    OBJECTION_WINDOW_OPEN = "objection_window_open"
    OBJECTION_WINDOW_CLOSED = "objection_window_closed"
    OBJECTIONS_OPEN = "objections_open"
    ALREADY_ANSWERED = "already_answered"
    ALREADY_PUBLISHED = "already_published"
    SCORING_PENDING = "scoring_pending"
