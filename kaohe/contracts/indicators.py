"""Events the indicators service (指标) publishes: units, schemes, submissions (填报) and bulk imports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.events import EventPayload
from kaohe.contracts.periods import PATTERN as PERIOD
from kaohe.contracts.scheme import Scheme
from kaohe.contracts.standards import Direction

UnitChange = Literal["created", "renamed", "moved", "merged", "split", "closed", "reopened"]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class UnitVersion(_Part):
    """One version of a unit (history is never rewritten: a change closes one version, opens the next)."""

    name: str
    kind: str
    parent_id: str | None = None
    path: str
    valid_from: date
    valid_to: date | None = None


class UnitBefore(_Part):
    """The unit as it was before the change."""

    name: str
    parent_id: str | None = None
    path: str


class Lineage(_Part):
    """Where a merged or split unit went, or came from."""

    merged_into: str | None = None
    split_into: list[str] | None = None
    split_from: str | None = None


class UnitChanged(EventPayload):
    """A unit was created, renamed, moved, merged, split, closed or reopened; subject: unit id."""

    TYPE = "kaohe.indicators.unit.changed"

    unit_id: str
    change: UnitChange
    version: UnitVersion
    revision: int
    previous: UnitBefore | None = None
    lineage: Lineage | None = None
    descendants_moved: int | None = None


class RosterUnit(_Part):
    """An assessed unit of a scheme with its category (分类) for the year."""

    unit_id: str
    name: str
    path: str
    category: str | None = None


class SchemePublished(EventPayload):
    """A scheme version became published (immutable); subject: scheme id."""

    TYPE = "kaohe.indicators.scheme.published"

    scheme_id: str
    assessing_unit: str
    year: int
    version: int
    scheme: Scheme
    units: list[RosterUnit]
    published_at: datetime
    published_by: str
    second_review: bool = False
    supersedes_version: int | None = None


class EvidenceRef(_Part):
    """A verified evidence file (佐证材料) of a submission."""

    id: str
    sha256: str


class Flag(_Part):
    """A plausibility remark on a value (it is kept, not refused)."""

    code: str
    message: str


class IndicatorBlock(_Part):
    """The effective leaf an approval counts for."""

    id: str
    code: str
    name: str
    weight: float | None = None
    target: float | None = None
    direction: Direction | None = None
    standard: dict | None = None  # a kaohe.contracts.standards.Standard as JSON


class SubmissionEvent(EventPayload):
    """One value of one unit for one leaf or data element in one period; subject: submission id."""

    submission_id: str
    unit_id: str
    unit_path: str
    scheme_id: str | None = None
    scheme_version: int | None = None
    assessing_unit: str | None = None
    year: int
    code: str  # leaf indicator code or data-element name
    period: str = Field(pattern=PERIOD)
    value: float | None = None
    grade: str | None = None
    revision: int  # increases on every change of the submission: apply only newer ones
    evidence: list[EvidenceRef] = Field(default_factory=list)
    actor: str
    at: datetime
    review_level: int = 0
    final: bool = False
    reason: str | None = None
    flags: list[Flag] | None = None


class SubmissionSubmitted(SubmissionEvent):
    TYPE = "kaohe.indicators.submission.submitted"


class SubmissionApproved(SubmissionEvent):
    """Scoring counts the value when `final`."""

    TYPE = "kaohe.indicators.submission.approved"

    unit_name: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    indicator: IndicatorBlock | None = None


class SubmissionRejected(SubmissionEvent):
    TYPE = "kaohe.indicators.submission.rejected"


class SubmissionReopened(SubmissionEvent):
    """Scoring withdraws the value."""

    TYPE = "kaohe.indicators.submission.reopened"


class ImportScope(_Part):
    """Whose template an import was: one unit's or one department's."""

    unit_id: str | None = None
    department: str | None = None


class SubmissionsImported(EventPayload):
    """A committed bulk import (批量填报): one event for all its values; subject: import id."""

    TYPE = "kaohe.indicators.submissions.imported"

    import_id: str
    scheme_id: str
    scheme_version: int
    assessing_unit: str
    year: int
    period: str = Field(pattern=PERIOD)
    count: int
    unit_ids: list[str]
    codes: list[str]
    scope: ImportScope
    filename: str | None = None
    status: Literal["submitted"] = "submitted"
    actor: str
    at: datetime
