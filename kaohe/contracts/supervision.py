"""Events the supervision service (督查督办) publishes; scoring consumes `result.scored`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.events import EventPayload
from kaohe.contracts.periods import PATTERN as PERIOD


class ResultDeduction(BaseModel):
    """One item's deduction in a supervision result."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    item_id: str
    deduction: float
    reason: str


class SupervisionResultScored(EventPayload):
    """督查结果单独核算: the supervision part of a unit's score, 0–100; subject: `<unit_id>:<period>`."""

    TYPE = "kaohe.supervision.result.scored"

    unit_id: str
    unit_path: str = ""
    period: str = Field(pattern=PERIOD)
    score: float = Field(ge=0, le=100)
    items: int = 0
    revision: int = 0  # apply only newer ones
    details: list[ResultDeduction] = Field(default_factory=list)
