"""Supervision (督查督办) types: today the assessment signals supervision derives from score changes."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.type(description="考核线索: a score change seen by supervision (督考合一)")
class SupervisionSignal:
    period: str
    total: float
    received_at: datetime
