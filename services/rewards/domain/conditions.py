"""Conditions on a unit's result (单位结果条件): grade, 末位, rank, top share, last n of its category."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

Grade = Literal["优秀", "良好", "一般", "较差"]


class Placed(Protocol):
    """What a condition reads of a unit's result (a snapshot row or a past result)."""

    grade: str | None
    rank: int | None
    of: int | None
    last_place: bool


class UnitCondition(BaseModel):  # 单位结果条件
    """Holds when every given part holds: grade in `grades`, 末位, rank ≤ max_rank, top share, last n."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grades: frozenset[Grade] | None = None
    last_place: bool | None = None  # scoring's 末位 flag
    max_rank: int | None = Field(None, ge=1)  # rank within its category ≤ max_rank
    top_share: Decimal | None = Field(None, gt=0, le=1)  # rank ≤ ⌈share × category size⌉
    bottom: int | None = Field(None, ge=1)  # among the last `bottom` ranks of its category

    @model_validator(mode="after")
    def _not_empty(self) -> UnitCondition:
        if all(v is None for v in (self.grades, self.last_place, self.max_rank, self.top_share, self.bottom)):
            raise ValueError("a condition needs one of grades, last_place, max_rank, top_share, bottom")
        return self

    def holds(self, r: Placed) -> bool:
        """Whether a unit's result meets the condition (an unranked unit meets no rank part)."""
        if self.grades is not None and r.grade not in self.grades:
            return False
        if self.last_place is not None and r.last_place != self.last_place:
            return False
        if self.max_rank is not None and (r.rank is None or r.rank > self.max_rank):
            return False
        if self.top_share is not None:
            if r.rank is None or r.of is None:
                return False
            if r.rank > (self.top_share * r.of).to_integral_value(rounding=ROUND_CEILING):
                return False
        if self.bottom is not None and (r.rank is None or r.of is None or r.rank <= r.of - self.bottom):
            return False
        return True
