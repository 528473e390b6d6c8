"""Rewards (结果运用) types: the durable results record (实绩档案)."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description="实绩档案条目: an entry of a unit's results record")
class ResultRecord:
    period: str
    total: float
    score_version: int
    recorded_at: datetime
