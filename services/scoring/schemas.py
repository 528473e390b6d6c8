"""RPC parameter models of the scoring service (docs/rpc/scoring.md); cursors: kaohe.contracts.pages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.periods import PATTERN as PERIOD  # 2026, 2026-H1, 2026-Q1, 2026-05
from kaohe.identity import Role
from services.scoring.domain.config import ScoringConfig

OFFICE = (Role.assessment_office, Role.system)
OBJECTORS = (Role.reporter, Role.department, Role.leader, *OFFICE)


class _P(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(_P):
    after: str | None = Field(None, max_length=500)
    first: int = Field(100, ge=1, le=500)


class ScoresQuery(_P):
    ids: list[str] = Field(max_length=1000)
    period: str | None = Field(None, pattern=PERIOD)
    # live: the current figures (preliminary until published, and moving after); published: only the
    # figures of published snapshots
    source: Literal["live", "published"] = "live"


class BookPeriod(_P):
    scheme_id: str = Field(min_length=1, max_length=64)
    period: str = Field(pattern=PERIOD)


class RankingQuery(BookPeriod, Page):
    category: str = Field(max_length=100)


class GradesQuery(BookPeriod):
    category: str | None = Field(None, max_length=100)


class BoardQuery(BookPeriod, Page):
    category: str | None = Field(None, max_length=100)


class WarningsQuery(Page):
    root_path: str | None = Field(None, max_length=1000)
    period: str | None = Field(None, pattern=PERIOD)
    min_level: Literal["yellow", "orange", "red"] = "yellow"


class ExplainQuery(_P):
    unit_id: str = Field(min_length=1, max_length=40)
    period: str = Field(pattern=PERIOD)
    scheme_id: str | None = Field(None, max_length=64)
    # None: the published explanation once the period is published, else the live one
    source: Literal["live", "published"] | None = None


class PeriodsQuery(_P):
    unit_id: str = Field(min_length=1, max_length=40)
    scheme_id: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=2000, le=2100)


class SchemeRef(_P):
    scheme_id: str = Field(min_length=1, max_length=64)


class ConfigSet(SchemeRef):
    config: ScoringConfig


class ExemptionSet(BookPeriod):
    unit_id: str = Field(min_length=1, max_length=40)
    exempt: bool = True
    reason: str = Field("", max_length=500)


class AspectScoresSet(BookPeriod):
    unit_id: str = Field(min_length=1, max_length=40)
    scores: dict[str, float] = Field(max_length=20)


class JobRef(_P):
    job_id: str = Field(min_length=1, max_length=40)


class WindowOpen(BookPeriod):
    until: datetime


class ObjectionCreate(BookPeriod):
    unit_id: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=2000)
    codes: list[str] = Field(default_factory=list, max_length=100)


class ObjectionAnswer(_P):
    objection_id: str = Field(min_length=1, max_length=40)
    answer: str = Field(min_length=1, max_length=2000)
    decision: Literal["upheld", "rejected"]


class ObjectionsQuery(BookPeriod, Page):
    status: Literal["open", "answered"] | None = None


class Publish(BookPeriod):
    force_close_window: bool = False


class SnapshotQuery(BookPeriod, Page):
    pass
