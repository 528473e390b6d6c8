"""Rewards contract: proposals (拟运用清单), approval, ledger (实绩档案), what-if, payroll export:
RPC params and results, and the method table (name → params, result) of every rewards RPC method.

`vocabulary.py` holds the shared terms, `events.py` the events, `registry.py` the registry and rule
sets. docs/rpc/rewards.md is the prose.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from kaohe.contracts.pages import MAX_PAGE, PageRequest, Request
from kaohe.contracts.rewards.registry import (
    CadresList,
    Count,
    ImportCommit,
    ImportFile,
    ImportReport,
    PersonGet,
    PersonGradesSet,
    PersonPublic,
    PersonUpsert,
    PostEnd,
    PostPublic,
    PostUpsert,
    RuleSetActivate,
    RuleSetCreate,
    RuleSetGet,
    RuleSetPublic,
    RuleSetsList,
    RuleSetUpdate,
    UnitPoolsSet,
    UnitProfilesSet,
)
from kaohe.contracts.rewards.vocabulary import (
    ExportFormat,
    LineKind,
    PeriodStr,
    PersonKey,
    SetStatus,
    UnitId,
    _Out,
)

# ---------------------------------------------------------------- snapshots and proposals (拟运用清单)


class SnapshotPublic(_Out):
    snapshot_id: str
    scheme_id: str
    assessing_unit: str | None = None  # null until scheme.published told rewards
    period: str
    digest: str
    units: int
    received_at: datetime
    superseded_by: str | None = None  # a later snapshot of the same scheme and period
    proposal_set_id: int | None = None  # the current (not superseded) set


class SnapshotsList(PageRequest):
    scheme_id: str | None = Field(None, max_length=64)
    period: PeriodStr | None = None


class ProposalsCompute(Request):
    """(Re)compute a stored snapshot's proposals with the active rule set; an unapproved set is superseded."""

    snapshot_id: str = Field(min_length=1, max_length=64)


class ProblemPublic(_Out):
    problem_id: int
    code: str  # cap_exceeded | linkage_quota_exceeded | no_staff | zero_weights | no_cadre_in_post | …
    message: str
    rule_id: str | None = None
    unit_id: str | None = None
    person_key: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    resolved_by: str | None = None
    resolution: str | None = None


class ReviewPublic(_Out):
    level: int
    decision: Literal["approved", "rejected", "adjusted", "resolved"]
    by: str
    at: datetime
    comment: str | None = None


class ProposalSetPublic(_Out):
    set_id: int
    scheme_id: str
    assessing_unit: str
    period: str
    snapshot_id: str
    snapshot_digest: str
    ruleset_ref: str
    ruleset_digest: str
    status: SetStatus
    level: int  # approval levels passed so far
    levels: int  # approval levels required (settings; 2 by default)
    version: int  # compare-and-set token: every adjust/resolve/approve/reject increments it
    lines: int
    units: int
    pool_fen: int
    paid_fen: int
    withheld_fen: int
    pool_error_fen: int  # Σ|pool − paid − withheld| over units: always 0
    problems: list[ProblemPublic]
    reviews: list[ReviewPublic]
    created_at: datetime
    superseded_by: int | None = None


class SetRef(Request):
    set_id: int = Field(ge=1)


class ProposalSetsList(PageRequest):
    assessing_unit: UnitId | None = None
    period: PeriodStr | None = None
    status: SetStatus | None = None
    awaiting_me: bool = False  # only sets at a level the caller may approve now


class ProposalLines(PageRequest):
    """Lines of a set, by line id; filter by unit (its lines and its staff's) or person and kind."""

    set_id: int = Field(ge=1)
    unit_id: UnitId | None = None
    person_key: PersonKey | None = None
    kind: LineKind | None = None


class AdjustmentPublic(_Out):
    by: str
    at: datetime
    reason: str
    from_fen: int | None = None
    to_fen: int | None = None
    dropped: bool = False


class ProposalLinePublic(_Out):
    line_id: int
    subject: Literal["unit", "person"]
    unit_id: str
    person_key: str | None = None
    kind: LineKind
    consequence: str  # 绩效工资, 暂扣绩效, 先进单位, 提醒谈话, 记三等功 …
    rule_id: str
    basis: str  # 文件依据
    amount_fen: int | None = None  # as proposed or adjusted; null when not money
    computed_fen: int | None = None  # as the rules computed it
    inputs: dict[str, Any]
    period: str
    snapshot_digest: str
    dropped: bool = False
    explanation: list[str]  # Chinese sentences: the rule, its basis, the inputs, how the amount came
    adjustments: list[AdjustmentPublic] = Field(default_factory=list)


class LineAdjust(Request):
    """A reviewer changes one line: a new amount (money lines) or drops it; a reason is required.

    Changing a person's pay moves the difference to or from the unit's withheld amount, so the pool still
    balances to the fen; more than the unit has left is refused (`pool_exceeded`)."""

    set_id: int = Field(ge=1)
    line_id: int = Field(ge=1)
    expected_version: int = Field(ge=1)
    amount_fen: int | None = Field(None, ge=0)
    drop: bool = False
    reason: str = Field(max_length=500, description="调整理由: required (at least 2 characters)")

    @model_validator(mode="after")
    def _what(self) -> LineAdjust:
        if self.amount_fen is None and not self.drop:
            raise ValueError("give amount_fen or drop")
        return self


class ProblemResolve(Request):
    """A reviewer settles a problem (e.g. a cap exceeded after adjusting lines) with a reason."""

    set_id: int = Field(ge=1)
    problem_id: int = Field(ge=1)
    expected_version: int = Field(ge=1)
    reason: str = Field(max_length=500)


class SetApprove(Request):
    """Pass `level` (1 = 初审, 2 = 复审) of a set; the last level applies it (ledger + events)."""

    set_id: int = Field(ge=1)
    expected_version: int = Field(ge=1)
    level: int = Field(ge=1, le=3)
    comment: str | None = Field(None, max_length=500)


class SetReject(Request):
    set_id: int = Field(ge=1)
    expected_version: int = Field(ge=1)
    reason: str = Field(max_length=500)


# ---------------------------------------------------------------- ledger (实绩档案)


class LedgerEntryPublic(_Out):
    holder: str  # unit:<id> | person:<key>
    seq: int
    entry: Literal["applied", "reversal"]
    scope: str  # the assessing unit
    period: str
    unit_id: str
    person_key: str | None = None
    kind: str
    consequence: str
    rule_id: str
    basis: str
    amount_fen: int | None = None
    inputs: dict[str, Any]
    snapshot_digest: str
    ruleset_ref: str
    recorded_at: datetime
    reverses: str | None = None
    reason: str | None = None
    prev_hash: str
    hash: str


class LedgerUnit(PageRequest):
    unit_id: UnitId
    period: PeriodStr | None = None


class LedgerPerson(PageRequest):
    person_key: PersonKey
    period: PeriodStr | None = None


class LedgerByUnits(Request):
    """For DataLoaders: the newest `last` entries of each unit's ledger (units outside scope: empty)."""

    ids: list[UnitId] = Field(max_length=1000)
    last: int = Field(20, ge=1, le=100)


class LedgerVerify(Request):
    """Verify one holder's chain (give unit_id or person_key) or, with neither, every chain in scope."""

    unit_id: UnitId | None = None
    person_key: PersonKey | None = None


class ChainFault(_Out):
    holder: str
    at: int  # seq of the first bad entry
    reason: str  # modified | unlinked | truncated | head


class LedgerVerdict(_Out):
    ok: bool
    holders: int
    entries: int
    faults: list[ChainFault]


class LedgerExport(Request):
    """备案 export of a unit's or a person's ledger."""

    unit_id: UnitId | None = None
    person_key: PersonKey | None = None
    format: Literal["xlsx", "pdf"] = "xlsx"


# ---------------------------------------------------------------- what-if (模拟测算)


class WhatIfRun(Request):
    """Draft rules (a stored version, or inline `rules`) against a stored snapshot; writes nothing."""

    snapshot_id: str = Field(min_length=1, max_length=64)
    version: int | None = Field(None, ge=1)  # a rule-set version of the snapshot's assessing unit/year
    rules: list[dict[str, Any]] | None = Field(None, max_length=200)
    top: int = Field(50, ge=0, le=MAX_PAGE)  # how many gainers and losers to list

    @model_validator(mode="after")
    def _one(self) -> WhatIfRun:
        if (self.version is None) == (self.rules is None):
            raise ValueError("give exactly one of version and rules")
        return self


class ChangePublic(_Out):
    holder: str
    unit_id: str
    person_key: str | None = None
    before_fen: int
    after_fen: int
    delta_fen: int
    gained: list[str]
    lost: list[str]


class WhatIfPublic(_Out):
    snapshot_id: str
    current_ref: str | None  # null when no rule set is active: everything is a gain
    draft_ref: str
    gainers: list[ChangePublic]  # largest gain first, `top` of them
    losers: list[ChangePublic]  # largest loss first
    gainers_count: int
    losers_count: int
    changes_count: int
    paid_before_fen: int
    paid_after_fen: int
    pool_before_fen: int
    pool_after_fen: int
    pool_error_fen: int  # of the draft: 0 when every pool balances
    unbalanced_units: list[str]
    problems_before: int
    problems_after: int


# ---------------------------------------------------------------- payroll export (工资发放)


class PayrollExport(Request):
    """Approved pay lines of an approved set as a file on S3 (CSV via COPY, or XLSX with safe cells).

    Roles: manager, and `integration` (the payroll system's API key through the gateway's REST, which
    checks its `payroll:read` scope) covering the set's assessing unit — as for registry writes.
    """

    set_id: int = Field(ge=1)
    format: ExportFormat = "csv"
    unit_id: UnitId | None = None  # one unit (and its subtree) only


class ExportPublic(_Out):
    url: str  # presigned GET, short-lived
    expires_at: datetime
    object_key: str
    filename: str
    format: str
    rows: int
    bytes: int
    sha256: str


# ---------------------------------------------------------------- method table (name → params, result)

METHODS: dict[str, tuple[type[BaseModel], Any]] = {
    "person_upsert": (PersonUpsert, PersonPublic),
    "person_get": (PersonGet, PersonPublic),
    "post_upsert": (PostUpsert, PostPublic),
    "post_end": (PostEnd, PostPublic),
    "cadres_list": (CadresList, "Page[CadreRow]"),
    "cadre_import_dry_run": (ImportFile, ImportReport),
    "cadre_import_commit": (ImportCommit, ImportReport),
    "person_grades_set": (PersonGradesSet, Count),
    "unit_profiles_set": (UnitProfilesSet, Count),
    "unit_pools_set": (UnitPoolsSet, Count),
    "ruleset_create": (RuleSetCreate, RuleSetPublic),
    "ruleset_update": (RuleSetUpdate, RuleSetPublic),
    "ruleset_activate": (RuleSetActivate, RuleSetPublic),
    "ruleset_get": (RuleSetGet, RuleSetPublic),
    "rulesets_list": (RuleSetsList, "Page[RuleSetPublic]"),
    "snapshots_list": (SnapshotsList, "Page[SnapshotPublic]"),
    "proposals_compute": (ProposalsCompute, ProposalSetPublic),
    "proposal_sets_list": (ProposalSetsList, "Page[ProposalSetPublic]"),
    "proposal_set_get": (SetRef, ProposalSetPublic),
    "proposal_lines": (ProposalLines, "Page[ProposalLinePublic]"),
    "proposal_line_adjust": (LineAdjust, ProposalSetPublic),
    "proposal_problem_resolve": (ProblemResolve, ProposalSetPublic),
    "proposal_set_approve": (SetApprove, ProposalSetPublic),
    "proposal_set_reject": (SetReject, ProposalSetPublic),
    "ledger_unit": (LedgerUnit, "Page[LedgerEntryPublic]"),
    "ledger_person": (LedgerPerson, "Page[LedgerEntryPublic]"),
    "ledger_by_units": (LedgerByUnits, "dict[str, list[LedgerEntryPublic]]"),
    "ledger_verify": (LedgerVerify, LedgerVerdict),
    "ledger_export": (LedgerExport, ExportPublic),
    "whatif_run": (WhatIfRun, WhatIfPublic),
    "payroll_export": (PayrollExport, ExportPublic),
}
