"""Rewards contract: the vocabulary (posts, grades, statuses, line kinds) every part of it shares."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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
