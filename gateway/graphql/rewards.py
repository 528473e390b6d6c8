"""Rewards (结果运用) types: registry, rule sets, proposals, ledger (实绩档案), what-if, exports.

Built from the rewards contract (`kaohe/contracts/rewards/`): results are validated with its models, then
turned into GraphQL objects. Money is `Fen` (integer fen, 分, beyond 32 bits). Persons appear by their
opaque `personKey`; a name only masked (张*明), and only when the service returned it to this caller.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gateway.graphql.common import UserError
from gateway.graphql.rewards_common import Fen, mask, read
from kaohe.contracts import rewards as c


@strawberry.type(
    description="任职: a person's post in a unit over [validFrom, validTo) (validTo null = current)"
)
class RewardPost:
    post_id: int
    person_key: str
    unit_id: str
    post: str = strawberry.field(description="主要负责人 | 班子成员 | 一般干部")
    rank: str = strawberry.field(description="职级: 正处, 副处, 正科, 副科, 科员 …")
    monthly_pay_fen: Fen = strawberry.field(description="月奖励性绩效工资基数 (分)")  # type: ignore[valid-type]
    valid_from: date
    valid_to: date | None


def post_of(p: c.PostPublic) -> RewardPost:
    return RewardPost(
        post_id=p.post_id,
        person_key=p.person_key,
        unit_id=p.unit_id,
        post=p.post,
        rank=p.rank,
        monthly_pay_fen=p.monthly_pay_fen,
        valid_from=p.valid_from,
        valid_to=p.valid_to,
    )


@strawberry.type(
    description="干部名册: a person by opaque key, the masked name (authorised readers) and posts"
)
class RewardPerson:
    person_key: str
    name_masked: str | None = strawberry.field(description="姓名, masked (张*明); null when not yours to see")
    has_account: bool = strawberry.field(
        description="a login account is registered (the person's own ledger)"
    )
    created: bool = strawberry.field(description="this call registered the person")
    posts: list[RewardPost] = strawberry.field(description="post history, oldest first")
    updated_at: datetime


def person_of(d: Any) -> RewardPerson:
    p = read(c.PersonPublic, d)
    return RewardPerson(
        person_key=p.person_key,
        name_masked=mask(p.name),
        has_account=p.account is not None,
        created=p.created,
        posts=[post_of(x) for x in p.posts],
        updated_at=p.updated_at,
    )


@strawberry.type(description="A cadre of a unit as of a date (干部名册 row)")
class RewardCadre:
    person_key: str
    name_masked: str | None
    post_id: int
    unit_id: str
    post: str
    rank: str
    monthly_pay_fen: Fen  # type: ignore[valid-type]
    valid_from: date
    valid_to: date | None


def cadre_of(d: Any) -> RewardCadre:
    r = read(c.CadreRow, d)
    fields = r.model_dump(exclude={"name"})
    return RewardCadre(name_masked=mask(r.name), **fields)


@strawberry.type(description="结果运用规则集: one immutable version of an assessing unit's rules for a year")
class RewardRuleSet:
    assessing_unit: str
    year: int
    version: int
    status: str = strawberry.field(description="draft | active | retired")
    rules: JSON = strawberry.field(description="rule objects, each with kind, id and basis (文件依据)")
    ref: str = strawberry.field(description="assessingUnit/year/vN, as lines and ledger entries cite it")
    digest: str
    revision: int = strawberry.field(description="compare-and-set token of a draft (expectedRevision)")
    used: bool = strawberry.field(description="proposals were made with it: it never changes")
    created_by: str
    created_at: datetime
    activated_at: datetime | None


def ruleset_of(d: Any) -> RewardRuleSet:
    return RewardRuleSet(**read(c.RuleSetPublic, d).model_dump())


@strawberry.type(description="A published results snapshot rewards received (已发布结果快照)")
class RewardSnapshot:
    snapshot_id: str
    scheme_id: str
    assessing_unit: str | None
    period: str
    digest: str
    units: int
    received_at: datetime
    superseded_by: str | None
    proposal_set_id: int | None = strawberry.field(description="the current (not superseded) proposal set")


def snapshot_of(d: Any) -> RewardSnapshot:
    return RewardSnapshot(**read(c.SnapshotPublic, d).model_dump())


@strawberry.type(description="A problem a reviewer must resolve before approval (超出名额、上限、名册缺人 …)")
class RewardProblem:
    problem_id: int
    code: str
    message: str
    rule_id: str | None
    unit_id: str | None
    person_key: str | None
    data: JSON
    resolved_by: str | None
    resolution: str | None


@strawberry.type(description="A review step: approved, rejected, adjusted or resolved, by whom and when")
class RewardReview:
    level: int
    decision: str
    by: str
    at: datetime
    comment: str | None


@strawberry.type(
    description="拟运用清单: the proposals of one snapshot under one rule-set version, and their review"
)
class RewardProposalSet:
    set_id: int
    scheme_id: str
    assessing_unit: str
    period: str
    snapshot_id: str
    snapshot_digest: str
    ruleset_ref: str
    ruleset_digest: str
    status: str = strawberry.field(description="pending | reviewed | approved | rejected | superseded")
    level: int = strawberry.field(description="review levels passed so far")
    levels: int = strawberry.field(description="review levels required")
    version: int = strawberry.field(description="compare-and-set token (expectedVersion)")
    lines: int
    units: int
    pool_fen: Fen = strawberry.field(description="Σ 奖励性绩效总额")  # type: ignore[valid-type]
    paid_fen: Fen  # type: ignore[valid-type]
    withheld_fen: Fen  # type: ignore[valid-type]
    pool_error_fen: Fen = strawberry.field(description="Σ|pool − paid − withheld| over units: 0")  # type: ignore[valid-type]
    problems: list[RewardProblem]
    reviews: list[RewardReview]
    created_at: datetime
    superseded_by: int | None


def set_of(d: Any) -> RewardProposalSet:
    s = read(c.ProposalSetPublic, d)
    fields = s.model_dump(exclude={"problems", "reviews"})
    return RewardProposalSet(
        **fields,
        problems=[RewardProblem(**p.model_dump()) for p in s.problems],
        reviews=[RewardReview(**r.model_dump()) for r in s.reviews],
    )


@strawberry.type(description="A reviewer's change of a line, with its reason (调整理由)")
class RewardAdjustment:
    by: str
    at: datetime
    reason: str
    from_fen: Fen | None  # type: ignore[valid-type]
    to_fen: Fen | None  # type: ignore[valid-type]
    dropped: bool


@strawberry.type(
    description="拟运用清单行: one proposed consequence with its rule, 文件依据, inputs and snapshot"
)
class RewardProposalLine:
    line_id: int
    subject: str = strawberry.field(description="unit | person")
    unit_id: str
    person_key: str | None
    kind: str = strawberry.field(description="pool | withheld | released | zeroed | pay | honour | cadre | …")
    consequence: str = strawberry.field(description="绩效工资, 暂扣绩效, 先进单位, 提醒谈话, 记三等功 …")
    rule_id: str
    basis: str = strawberry.field(description="文件依据 of the rule")
    amount_fen: Fen | None = strawberry.field(description="as proposed or adjusted; null when not money")  # type: ignore[valid-type]
    computed_fen: Fen | None = strawberry.field(description="as the rules computed it")  # type: ignore[valid-type]
    inputs: JSON = strawberry.field(description="what it was decided on: grade, rank, streak …")
    period: str
    snapshot_digest: str
    dropped: bool
    explanation: list[str] = strawberry.field(
        description="the rule, its basis, the inputs, how the amount came"
    )
    adjustments: list[RewardAdjustment]


def line_of(d: Any) -> RewardProposalLine:
    ln = read(c.ProposalLinePublic, d)
    fields = ln.model_dump(exclude={"adjustments"})
    return RewardProposalLine(
        **fields, adjustments=[RewardAdjustment(**a.model_dump()) for a in ln.adjustments]
    )


@strawberry.type(
    description="实绩档案条目: an append-only, hash-chained entry of a unit's or person's record"
)
class RewardLedgerEntry:
    holder: str = strawberry.field(description="unit:<id> | person:<key>")
    seq: int
    entry: str = strawberry.field(description="applied | reversal")
    scope: str = strawberry.field(description="the assessing unit")
    period: str
    unit_id: str
    person_key: str | None
    kind: str
    consequence: str
    rule_id: str
    basis: str
    amount_fen: Fen | None  # type: ignore[valid-type]
    inputs: JSON
    snapshot_digest: str
    ruleset_ref: str
    recorded_at: datetime
    reverses: str | None = strawberry.field(description="the hash of the entry a reversal cancels")
    reason: str | None
    prev_hash: str
    hash: str


def entry_of(d: Any) -> RewardLedgerEntry:
    return RewardLedgerEntry(**read(c.LedgerEntryPublic, d).model_dump())


@strawberry.type(description="A chain fault found by verification: the holder and the first bad entry")
class RewardChainFault:
    holder: str
    at: int
    reason: str = strawberry.field(description="hash | link | unlinked | truncated | head")


@strawberry.type(
    description="Verification of 实绩档案 chains: ok when no entry was changed, removed or cut off"
)
class RewardLedgerVerdict:
    ok: bool
    holders: int
    entries: int
    faults: list[RewardChainFault]


def verdict_of(d: Any) -> RewardLedgerVerdict:
    v = read(c.LedgerVerdict, d)
    return RewardLedgerVerdict(
        ok=v.ok,
        holders=v.holders,
        entries=v.entries,
        faults=[RewardChainFault(**f.model_dump()) for f in v.faults],
    )


@strawberry.type(
    description="What a draft changes for one holder: pay before/after, consequences gained/lost"
)
class RewardChange:
    holder: str
    unit_id: str
    person_key: str | None
    before_fen: Fen  # type: ignore[valid-type]
    after_fen: Fen  # type: ignore[valid-type]
    delta_fen: Fen  # type: ignore[valid-type]
    gained: list[str]
    lost: list[str]


@strawberry.type(
    description="模拟测算: draft rules against a published snapshot, compared with the active ones"
)
class RewardWhatIf:
    snapshot_id: str
    current_ref: str | None = strawberry.field(description="null when no rule set is active")
    draft_ref: str
    gainers: list[RewardChange]
    losers: list[RewardChange]
    gainers_count: int
    losers_count: int
    changes_count: int
    paid_before_fen: Fen  # type: ignore[valid-type]
    paid_after_fen: Fen  # type: ignore[valid-type]
    pool_before_fen: Fen  # type: ignore[valid-type]
    pool_after_fen: Fen  # type: ignore[valid-type]
    pool_error_fen: Fen = strawberry.field(description="of the draft: 0 when every pool balances")  # type: ignore[valid-type]
    unbalanced_units: list[str]
    problems_before: int
    problems_after: int


def whatif_of(d: Any) -> RewardWhatIf:
    w = read(c.WhatIfPublic, d)
    fields = w.model_dump(exclude={"gainers", "losers"})
    return RewardWhatIf(
        **fields,
        gainers=[RewardChange(**x.model_dump()) for x in w.gainers],
        losers=[RewardChange(**x.model_dump()) for x in w.losers],
    )


@strawberry.type(description="An export file: a short-lived presigned download URL and what it holds")
class RewardExport:
    url: str
    expires_at: datetime
    filename: str
    format: str
    rows: int
    bytes: int
    sha256: str


def export_of(d: Any) -> RewardExport:
    e = read(c.ExportPublic, d)
    return RewardExport(**e.model_dump(exclude={"object_key"}))


@strawberry.type(description="The changed person (`node`) or typed errors (ErrorCode, RewardsErrorCode)")
class RewardPersonPayload:
    node: RewardPerson | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The changed post (`node`) or typed errors")
class RewardPostPayload:
    node: RewardPost | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(
    description="The changed rule set (`node`) or typed errors (ruleset_invalid: details per rule)"
)
class RewardRuleSetPayload:
    node: RewardRuleSet | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The proposal set after the change (`node`) or typed errors")
class RewardProposalSetPayload:
    node: RewardProposalSet | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The export (`node`) or typed errors")
class RewardExportPayload:
    node: RewardExport | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
