"""Events the scoring service (评分) publishes: scores, 序时进度 warnings and published results."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.events import EventPayload
from kaohe.contracts.periods import PATTERN as PERIOD
from kaohe.contracts.standards import WarningLevel


class ScoreUpdated(EventPayload):
    """A unit's score for a period changed; subject: `<unit_id>:<period>`."""

    TYPE = "kaohe.scoring.score.updated"

    unit_id: str
    unit_path: str
    unit_name: str | None = None
    scheme_id: str
    period: str = Field(pattern=PERIOD)
    category: str | None = None
    total: float
    rank: int | None = None  # rank/of/grade absent while preliminary
    of: int | None = None
    grade: str | None = None
    version: int  # increases per unit and period
    leaves: int | None = None
    digest: str | None = None
    cause_event: str


class WarningEvent(EventPayload):
    """A 序时进度 warning of one unit and indicator; subject: `<unit_id>:<code>:<period>`."""

    unit_id: str
    unit_path: str
    unit_name: str | None = None
    scheme_id: str | None = None
    code: str
    period: str = Field(pattern=PERIOD)  # a month, or a quarter checked on its quarter-end values
    level: WarningLevel
    level_zh: str
    expected: float
    actual: float
    lag: float
    previous_level: WarningLevel | None = None


class WarningRaised(WarningEvent):
    TYPE = "kaohe.scoring.warning.raised"


class WarningCleared(WarningEvent):
    TYPE = "kaohe.scoring.warning.cleared"


class PublishedUnit(BaseModel):
    """One unit's line of a published results snapshot."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    unit_id: str
    unit_path: str
    category: str | None = None
    total: float
    rank: int | None = None
    of: int | None = None
    grade: str | None = None
    last_place: bool = False
    vetoed: bool = False


class ResultsPublished(EventPayload):
    """An immutable results snapshot after 申诉 closed; subject: `<scheme_id>:<period>`."""

    TYPE = "kaohe.scoring.results.published"

    scheme_id: str
    period: str = Field(pattern=PERIOD)
    snapshot_id: str
    digest: str
    units: list[PublishedUnit]


class ObjectionEvent(EventPayload):
    """A 申诉 on one unit's result; subject: `<scheme_id>:<period>`. No free text and no person: the
    reason, the answer and who filed it stay in scoring (read them through its `objections` RPC)."""

    scheme_id: str
    period: str = Field(pattern=PERIOD)
    objection_id: str
    unit_id: str
    unit_path: str
    unit_name: str | None = None
    codes: list[str] = Field(default_factory=list)  # the indicators objected to (none: the whole result)


class ObjectionFiled(ObjectionEvent):
    TYPE = "kaohe.scoring.objection.filed"


class ObjectionAnswered(ObjectionEvent):
    TYPE = "kaohe.scoring.objection.answered"

    decision: Literal["upheld", "rejected"]


# RPC read params of the scoring service, as callers other than the gateway send them (the documents
# service). services/scoring/schemas.py defines the same fields for the server; both refuse unknown fields.
class _ReadParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RankingParams(_ReadParams):
    scheme_id: str
    period: str = Field(pattern=PERIOD)
    category: str
    after: str | None = None
    first: int = Field(100, ge=1, le=500)


class GradesParams(_ReadParams):
    scheme_id: str
    period: str = Field(pattern=PERIOD)
    category: str | None = None


class BoardParams(_ReadParams):
    scheme_id: str
    period: str = Field(pattern=PERIOD)
    category: str | None = None
    after: str | None = None
    first: int = Field(100, ge=1, le=500)


class ExplainParams(_ReadParams):
    unit_id: str
    period: str = Field(pattern=PERIOD)
    scheme_id: str | None = None
    source: str | None = None


class ScoresParams(_ReadParams):
    ids: list[str]
    period: str | None = Field(None, pattern=PERIOD)


class BookPeriodParams(_ReadParams):
    """`results_state` and `results_snapshot` (with a page)."""

    scheme_id: str
    period: str = Field(pattern=PERIOD)
    after: str | None = None
    first: int | None = Field(None, ge=1, le=500)


class WarningsParams(_ReadParams):
    root_path: str | None = None
    period: str | None = Field(None, pattern=PERIOD)
    min_level: str = "yellow"
    after: str | None = None
    first: int = Field(100, ge=1, le=500)
