"""The proposal list (拟运用清单): what applying rules to a published snapshot proposes, line by line.

Every line names its rule, that rule's basis (文件依据), the inputs it was decided on and the snapshot
digest it came from, so an amount or a consequence is explainable like a score. Money is int fen.
Problems (quota or cap exceeded, a roster row that cannot be used) are data, never exceptions: the
service shows them to reviewers and refuses approval while any remain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Subject = Literal["unit", "person"]
LineKind = Literal["pool", "withheld", "released", "zeroed", "pay", "honour", "cadre", "streak", "quota"]


class Line(NamedTuple):  # 拟运用清单行
    """One proposed consequence for a unit or a person (amount in fen when it is money).

    A named tuple (immutable, built in C): a period of a large city proposes hundreds of thousands."""

    subject: Subject
    unit_id: str
    person_key: str | None
    kind: LineKind
    consequence: str  # 绩效工资, 暂扣, 先进单位, 提醒谈话, 记三等功 …
    rule_id: str
    basis: str
    amount_fen: int | None
    inputs: Mapping[str, Any]
    period: str
    snapshot_digest: str

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What a line is about, regardless of its amount: subject, unit, person, rule and consequence."""
        return (self.subject, self.unit_id, self.person_key or "", self.rule_id, self.consequence)

    @property
    def holder(self) -> str:
        """The ledger (实绩档案) a line belongs to: `unit:<id>` or `person:<key>`."""
        return f"person:{self.person_key}" if self.person_key is not None else f"unit:{self.unit_id}"


@dataclass(frozen=True, slots=True)
class PoolBalance:  # 奖励性绩效总额平衡
    """A unit's pool and where it went: paid to staff plus withheld (暂扣未返还, 末位零绩效, unallocated)."""

    unit_id: str
    pool_fen: int
    paid_fen: int
    withheld_fen: int

    @property
    def balanced(self) -> bool:
        """Whether paid + withheld equals the pool to the fen."""
        return self.paid_fen + self.withheld_fen == self.pool_fen


@dataclass(frozen=True, slots=True)
class Problem:  # 问题 (超出名额、超出上限、名册数据不可用)
    """Something a reviewer must resolve before approval."""

    code: str  # cap_exceeded | linkage_quota_exceeded | no_staff | zero_weights | person_key_not_opaque | …
    message: str
    rule_id: str | None = None
    unit_id: str | None = None
    person_key: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProposalList:  # 拟运用清单
    """All lines proposed for one published period under one rule-set version."""

    period: str
    snapshot_id: str
    snapshot_digest: str
    ruleset_ref: str
    ruleset_digest: str
    lines: Sequence[Line]
    pools: Mapping[str, PoolBalance]
    problems: Sequence[Problem]

    def pool_error_fen(self) -> int:
        """Σ |pool − paid − withheld| over every unit: 0 when every pool is conserved."""
        return sum(abs(b.pool_fen - b.paid_fen - b.withheld_fen) for b in self.pools.values())
