"""Rewards contract: the events the rewards service publishes (opaque person keys, never names or IDs)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.events import EventPayload
from kaohe.contracts.periods import PATTERN as PERIOD

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
