"""Contract of the rewards service (结果运用): its RPC params and results, and the events it publishes.

Both ends import these models: the service validates params and builds results with them, the gateway
builds params and reads results with them (docs/rpc/rewards.md is the prose). Rewards consumes
`kaohe.scoring.results.published` (immutable snapshots, never the preliminary `score.updated`) and, to
know units and which assessing unit a scheme belongs to, `kaohe.indicators.unit.changed` and
`kaohe.indicators.scheme.published`.

Persons are named everywhere by an opaque `person_key` (`P` + 24 hex, random at registration); the ID-card
number (身份证号) is stored only as a keyed HMAC, the name only for authorised readers; neither ever
appears in an event or a log. A person reads their own ledger when `Caller.user_id` equals the person's
`account` (the login account registered with the person).

For the gateway (R-edge): the walking skeleton's `records_by_units` ({ids} → {unit_id: [RecordPublic]},
fed by score.updated) is gone; `ledger_by_units` (LedgerByUnits → {unit_id: [LedgerEntryPublic]}, the
newest entries of each unit's 实绩档案) replaces it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kaohe.contracts.events import EventPayload
from kaohe.contracts.pages import MAX_PAGE, PageRequest, Request
from kaohe.contracts.periods import PATTERN as PERIOD

# ---------------------------------------------------------------- vocabulary

Post = Literal["主要负责人", "班子成员", "一般干部"]  # head / leadership member / staff
Grade = Literal["优秀", "良好", "一般", "较差"]
PersonKey = Annotated[str, Field(pattern=r"^P[0-9a-f]{24}$")]
UnitId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")]
PeriodStr = Annotated[str, Field(pattern=PERIOD)]
Reason = Annotated[str, Field(min_length=2, max_length=500)]
RuleSetStatus = Literal["draft", "active", "retired"]
# pending: awaiting level 1; reviewed: level 1 passed, awaiting level 2; approved: applied to the ledger;
# rejected: refused by a reviewer; superseded: replaced by a recomputation or a re-published snapshot
SetStatus = Literal["pending", "reviewed", "approved", "rejected", "superseded"]
LineKind = Literal["pool", "withheld", "released", "zeroed", "pay", "honour", "cadre", "streak", "quota"]
ExportFormat = Literal["csv", "xlsx"]
# 18-character 居民身份证号码 (last may be X) or the old 15-digit form
ID_NUMBER = r"^(\d{17}[\dXx]|\d{15})$"


class _Out(BaseModel):
    """Results: extra fields ignored (a newer service may add fields)."""

    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------- cadre registry (干部名册)


class PersonUpsert(Request):
    """Register a person or update their name/account; found again by the ID number's HMAC."""

    id_number: str = Field(pattern=ID_NUMBER, description="居民身份证号码; stored only as a keyed hash")
    name: str = Field(min_length=1, max_length=50, description="姓名, shown to authorised readers only")
    account: str | None = Field(None, max_length=128, description="login user id: the person's own ledger")


class PostPublic(_Out):
    """A post (任职) of a person in a unit over [valid_from, valid_to) (valid_to null = current)."""

    post_id: int
    person_key: str
    unit_id: str
    unit_path: str
    post: Post
    rank: str  # 职级: 正处, 副处, 正科, 副科, 科员 …
    monthly_pay_fen: int  # 月奖励性绩效工资基数 (分)
    valid_from: date
    valid_to: date | None = None


class PersonPublic(_Out):
    """A person of the registry; `name` and `account` are null for readers not entitled to them."""

    person_key: str
    name: str | None = None
    account: str | None = None
    created: bool = False  # set by person_upsert when this call registered the person
    posts: list[PostPublic] = []  # history, oldest first
    updated_at: datetime


class PostUpsert(Request):
    """Put a person into a post from `valid_from`; their open posts end that day unless `keep_others`."""

    person_key: PersonKey
    unit_id: UnitId
    post: Post
    rank: str = Field(min_length=1, max_length=20)
    monthly_pay_fen: int = Field(ge=0, le=10**9)
    valid_from: date
    keep_others: bool = False  # true: a concurrent post (兼职) and the open ones stay


class PostEnd(Request):
    post_id: int = Field(ge=1)
    valid_to: date


class PersonGet(Request):
    person_key: PersonKey


class CadresList(PageRequest):
    """The cadres of a unit (or its subtree) as of a date, by person key."""

    unit_id: UnitId
    as_of: date | None = None  # default today
    subtree: bool = False


class CadreRow(_Out):
    person_key: str
    name: str | None = None
    post_id: int
    unit_id: str
    post: Post
    rank: str
    monthly_pay_fen: int
    valid_from: date
    valid_to: date | None = None


class ImportFile(Request):
    """A cadre roster file (CSV or XLSX): inline base64 (≤ 5 MB) or an uploaded object key, not both.

    Columns (first row, Chinese headers): 身份证号, 姓名, 单位代码, 职务类别 (主要负责人/班子成员/一般干部),
    职级, 月绩效基数(元) (yuan with up to 2 decimals), 任职日期 (YYYY-MM-DD); optional 登录账号, 期间 and
    个人等次 (the person's own grade of that period).
    """

    filename: str = Field(min_length=1, max_length=200)
    content_b64: str | None = Field(None, max_length=7_000_000)
    object_key: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _one(self) -> ImportFile:
        if (self.content_b64 is None) == (self.object_key is None):
            raise ValueError("give exactly one of content_b64 and object_key")
        return self


class ImportCommit(ImportFile):
    expected_digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="the dry run's digest")


class ImportProblem(_Out):
    row: int  # 1-based data row (the header is row 0)
    field: str  # the column header
    message: str


class ImportReport(_Out):
    """What a dry run found (nothing written) or what a commit wrote."""

    digest: str  # SHA-256 of the file: commit must name the dry run's
    rows: int
    valid: int
    problems: list[ImportProblem]
    new_persons: int
    new_posts: int  # posts opened (a move closes the person's open post)
    unchanged: int
    grades: int  # 个人等次 rows
    committed: bool = False


class PersonGrade(Request):
    person_key: PersonKey
    grade: Grade | None


class PersonGradesSet(Request):
    """The persons' own grades (个人考核等次) of a period, from their unit's assessment."""

    period: PeriodStr
    items: list[PersonGrade] = Field(min_length=1, max_length=5000)


class UnitProfile(Request):
    unit_id: UnitId
    unit_kind: str = Field(min_length=1, max_length=40, description="单位类型 for 考核系数: 招商, 产业 …")


class UnitProfilesSet(Request):
    items: list[UnitProfile] = Field(min_length=1, max_length=5000)


class UnitPool(Request):
    unit_id: UnitId
    pool_fen: int = Field(ge=0, le=10**13)


class UnitPoolsSet(Request):
    """Base pools (奖励性绩效总额 before 系数 and grade) of units for a period; else staff base × months."""

    period: PeriodStr
    items: list[UnitPool] = Field(min_length=1, max_length=5000)


class Count(_Out):
    count: int


# ---------------------------------------------------------------- rule sets (结果运用规则)


class RuleSetCreate(Request):
    """A new draft version; `rules` as services/rewards/domain/rules.py's models in JSON (docs/rpc)."""

    assessing_unit: UnitId
    year: int = Field(ge=2000, le=2100)
    rules: list[dict[str, Any]] = Field(max_length=200)


class RuleSetRef(Request):
    assessing_unit: UnitId
    year: int = Field(ge=2000, le=2100)
    version: int = Field(ge=1)


class RuleSetUpdate(RuleSetRef):
    rules: list[dict[str, Any]] = Field(max_length=200)
    expected_revision: int = Field(ge=0)


class RuleSetActivate(RuleSetRef):
    expected_revision: int = Field(ge=0)


class RuleSetGet(Request):
    assessing_unit: UnitId
    year: int = Field(ge=2000, le=2100)
    version: int | None = Field(None, ge=1)  # default: the active version


class RuleSetsList(PageRequest):
    assessing_unit: UnitId | None = None
    year: int | None = Field(None, ge=2000, le=2100)


class RuleSetPublic(_Out):
    assessing_unit: str
    year: int
    version: int
    status: RuleSetStatus
    rules: list[dict[str, Any]]
    ref: str  # assessing_unit/year/vN
    digest: str
    revision: int  # compare-and-set token of a draft
    used: bool  # proposals were made with it (then it can never change)
    created_by: str
    created_at: datetime
    activated_at: datetime | None = None


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
    data: dict[str, Any] = {}
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
    adjustments: list[AdjustmentPublic] = []


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


# ---------------------------------------------------------------- events


class EventUnit(BaseModel):
    """One unit of an approved set: its pool and the non-money consequences (opaque person keys only)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    unit_id: str
    unit_path: str
    pool_fen: int
    paid_fen: int
    withheld_fen: int
    consequences: list[dict[str, str | None]] = []  # {person_key|null, consequence, rule_id}


class ProposalAwaiting(EventPayload):
    """A proposal set awaits review at `level`; subject: `<assessing_unit>:<period>`."""

    TYPE = "kaohe.rewards.proposal.awaiting"

    set_id: int
    assessing_unit: str
    assessing_path: str | None = None
    scheme_id: str
    period: str = Field(pattern=PERIOD)
    level: int
    levels: int
    lines: int
    problems: int


class ProposalApproved(EventPayload):
    """An approved set, one event per batch of ≤ 500 units; subject: `<assessing_unit>:<period>`."""

    TYPE = "kaohe.rewards.proposal.approved"

    set_id: int
    assessing_unit: str
    scheme_id: str
    period: str = Field(pattern=PERIOD)
    snapshot_id: str
    snapshot_digest: str
    ruleset_ref: str
    batch: int  # 1-based
    batches: int
    units: list[EventUnit]


class PayLine(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    person_key: str
    unit_id: str
    amount_fen: int
    rule_id: str
    unit_path: str | None = None  # the unit's org path: webhooks deliver each subscriber its subtree's lines


class PayApproved(EventPayload):
    """Approved pay of a set, one event per batch of ≤ 5,000 lines; subject: `<assessing_unit>:<period>`."""

    TYPE = "kaohe.rewards.pay.approved"

    set_id: int
    assessing_unit: str
    period: str = Field(pattern=PERIOD)
    snapshot_digest: str
    batch: int
    batches: int
    lines: list[PayLine]


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
