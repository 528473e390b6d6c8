"""Authorization policy: role × operation → allowed, scoped to the caller's org subtree.

The gateway checks here before calling a service; each service checks the same Caller again. Reads and
writes of unit data are further limited to `caller.org_path`; an out-of-subtree target is reported as not
found, so not even its existence leaks. A 责任部门's limit to its `indicator_codes` and each indicator's data
source are one rule in the indicators service (`services/indicators/domain/access.py`), not repeated here.
"""

from __future__ import annotations

from enum import StrEnum

from kaohe.errors import Forbidden, NotFound
from kaohe.identity import Caller, Role


class Op(StrEnum):
    """Operations the gateway exposes (GraphQL fields and REST routes map onto these)."""

    unit_read = "unit.read"
    unit_write = "unit.write"
    scheme_read = "scheme.read"
    scheme_write = "scheme.write"
    submission_read = "submission.read"
    submission_write = "submission.write"
    submission_review = "submission.review"
    submission_reopen = "submission.reopen"
    evidence_read = "evidence.read"
    evidence_write = "evidence.write"
    score_read = "score.read"
    warning_read = "warning.read"
    objection_read = "objection.read"
    objection_write = "objection.write"
    results_manage = "results.manage"
    scoring_config = "scoring.config"
    supervision_read = "supervision.read"
    supervision_act = "supervision.act"  # 签收, 反馈, 申请延期/暂停/销号: the lead and cooperating units
    supervision_manage = "supervision.manage"  # 交办, 审核销号, 退回, 上报, 撤销, 重新办理: the 督查室
    supervision_intake = "supervision.intake"  # 办不成事窗口 / 12345 热线 intake
    supervision_export = "supervision.export"  # 督办清单 XLSX export
    rewards_read = "rewards.read"  # 结果运用: proposal sets and lines, ledgers, registry (the service scopes)
    rewards_own = (
        "rewards.own"  # a person's own 实绩档案 (user id = the person's account; the service decides)
    )
    rewards_manage = "rewards.manage"  # rules, proposals computed, reviewed, adjusted; what-if; verify
    rewards_registry = "rewards.registry"  # 干部名册 writes and imports (HR systems by API key)
    rewards_payroll = "rewards.payroll"  # payroll export of approved pay lines (the payroll system)
    results_export = "results.export"
    statistics_import = "statistics.import"
    apikey_manage = "apikey.manage"
    webhook_manage = "webhook.manage"
    document_read = "document.read"  # 公文: issued bulletins and slips (the service scopes by subject)
    document_issue = "document.issue"  # 发文: 考核结果通报, 预警单, 提醒单 — the assessing office's
    notification_read = "notification.read"  # 通知: one's own inbox, unread count, mark read, live
    notification_preferences = "notification.preferences"  # 通知设置: one's own channels and quiet hours
    notification_manage = "notification.manage"  # 通讯录 import and the delivery log of one's subtree


A, D, R, S, L, ORG, INT, SYS = (
    Role.assessment_office,
    Role.department,
    Role.reporter,
    Role.supervisor,
    Role.leader,
    Role.organisation,
    Role.integration,
    Role.system,
)
EVERYONE = frozenset(Role)

# Which roles may perform each operation (within their subtree). Integrations also need the scope below.
ALLOWED: dict[Op, frozenset[Role]] = {
    Op.unit_read: EVERYONE,
    Op.unit_write: frozenset({A, SYS}),
    Op.scheme_read: EVERYONE,
    Op.scheme_write: frozenset({A, SYS}),
    Op.submission_read: frozenset({A, D, R, S, L, INT, SYS}),
    Op.submission_write: frozenset({A, D, R, INT, SYS}),
    Op.submission_review: frozenset({A, D, SYS}),
    Op.submission_reopen: frozenset({A, SYS}),
    Op.evidence_read: frozenset({A, D, R, S, L, SYS}),
    Op.evidence_write: frozenset({A, D, R, INT, SYS}),
    Op.score_read: EVERYONE,
    Op.warning_read: frozenset({A, D, R, S, L, ORG, INT, SYS}),
    Op.objection_read: frozenset({A, D, R, S, L, ORG, SYS}),  # 申诉: the units' own business
    Op.objection_write: frozenset({A, D, R, L, SYS}),  # 申诉 by the unit, its department or its leader
    Op.results_manage: frozenset({A, SYS}),  # 重算, 申诉答复, 结果发布: the assessing office's
    Op.scoring_config: frozenset({A, SYS}),  # 计分设置, 专项考核第一, direct aspect scores: the office's
    Op.supervision_read: frozenset({A, D, R, S, L, SYS}),  # units see their own items (the service scopes)
    Op.supervision_act: frozenset({D, R, SYS}),  # as lead or cooperating unit: the service decides which
    Op.supervision_manage: frozenset({S, SYS}),  # the 督查室 of the item's level or above
    Op.supervision_intake: frozenset({S, INT, SYS}),
    Op.supervision_export: frozenset({A, S, L, SYS}),
    Op.rewards_read: frozenset({A, D, R, L, ORG, SYS}),  # a unit's own people: their unit (the service)
    Op.rewards_own: frozenset(Role) - {INT},
    Op.rewards_manage: frozenset({A, ORG, SYS}),  # 组织部 and 考核办 within their subtree
    Op.rewards_registry: frozenset({A, ORG, INT, SYS}),
    Op.rewards_payroll: frozenset({A, ORG, INT, SYS}),
    Op.results_export: frozenset({A, L, ORG, INT, SYS}),
    Op.statistics_import: frozenset({A, D, INT, SYS}),
    Op.apikey_manage: frozenset({A, SYS}),
    Op.webhook_manage: frozenset({A, INT, SYS}),
    Op.document_read: frozenset({A, D, R, S, L, ORG, SYS}),
    Op.document_issue: frozenset({A, SYS}),
    Op.notification_read: frozenset({A, D, R, S, L, ORG, SYS}),
    Op.notification_preferences: frozenset({A, D, R, S, L, ORG}),
    Op.notification_manage: frozenset({A, S, SYS}),
}

# API-key scopes an integration needs per operation (`*` grants all of an integration's operations).
SCOPES: dict[Op, str] = {
    Op.unit_read: "units:read",
    Op.scheme_read: "schemes:read",
    Op.submission_read: "submissions:read",
    Op.submission_write: "submissions:write",
    Op.evidence_write: "submissions:write",
    Op.score_read: "results:read",
    Op.warning_read: "results:read",
    Op.results_export: "results:read",
    Op.statistics_import: "statistics:write",
    Op.webhook_manage: "webhooks:manage",
    Op.rewards_registry: "registry:write",  # HR: 干部名册 import
    Op.rewards_payroll: "payroll:read",  # payroll: approved pay lines
    Op.supervision_intake: "supervision:intake",  # 办不成事 window, 12345 hotline
}
ALL_SCOPES: tuple[str, ...] = tuple(sorted(set(SCOPES.values())))


def allowed(caller: Caller, op: Op) -> bool:
    """True when one of the caller's roles may perform `op` (integrations: and hold its scope)."""
    roles = caller.roles & ALLOWED[op]
    if not roles:
        return False
    if roles == {INT}:
        scope = SCOPES.get(op)
        return scope is not None and bool({scope, "*"} & caller.scopes)
    return True


def authorize(caller: Caller, op: Op) -> None:
    """Raise Forbidden unless the caller may perform `op`."""
    if not allowed(caller, op):
        raise Forbidden(f"your roles do not allow {op.value}", code="forbidden_role")


def covers(caller: Caller, path: str | None) -> bool:
    return path is not None and caller.covers(path)


def require_in_scope(caller: Caller, path: str | None, *, what: str, ident: str, field: str) -> None:
    """Out-of-subtree targets look exactly like missing ones."""
    if not covers(caller, path):
        raise NotFound(f"{what} {ident} not found", field=field)
