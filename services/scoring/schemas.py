"""RPC parameter models and shared helpers of the scoring service (docs/rpc/scoring.md)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, Literal

import asyncpg
import orjson
from pydantic import BaseModel, ConfigDict, Field

from kaohe.contracts.periods import PATTERN as PERIOD  # 2026, 2026-H1, 2026-Q1, 2026-05
from kaohe.errors import Forbidden, NotFound
from kaohe.identity import Caller, Role
from services.scoring.config import ScoringConfig
from services.scoring.errors import ScoringErrorCode

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


def cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode()


def uncursor(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return orjson.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        from kaohe.errors import ValidationFailed

        raise ValidationFailed("after: not a cursor from this method", field="after") from None


async def book_of(c: asyncpg.Connection, scheme_id: str) -> int:
    """The results book of any published version's id, or not_found naming scheme_id."""
    book = await c.fetchval("SELECT book FROM scheme WHERE scheme_id = $1", scheme_id)
    if book is None:
        raise NotFound(f"no published scheme {scheme_id!r} is known to scoring", field="scheme_id")
    return int(book)


def assessing_path(assessing_unit: str, units: list[dict[str, Any]], given: str | None = None) -> str | None:
    """The assessing unit's org path: given by the event, or the prefix of an assessed unit's path that
    ends at the assessing unit's own segment (paths are unit ids from the root). None when unknown."""
    if given:
        return given
    for u in units:
        parts = (u.get("path") or "").strip("/").split("/")
        if assessing_unit in parts:
            return "/" + "/".join(parts[: parts.index(assessing_unit) + 1]) + "/"
    return None


async def covers_book(c: asyncpg.Connection, caller: Caller, book: int) -> bool:
    """Whether the caller's subtree covers the book's assessing unit (unknown path: only the root)."""
    path = await c.fetchval("SELECT assessing_path FROM book WHERE id = $1", book)
    return caller.org_path == "/" or (path is not None and caller.covers(path))


async def require_book_scope(c: asyncpg.Connection, caller: Caller, book: int) -> None:
    """Office writes to a results book: the caller's subtree must cover the book's assessing unit.

    A book whose assessing unit's path is unknown is denied (only a system caller may act on it).
    """
    if await covers_book(c, caller, book):
        return
    raise Forbidden(
        "the scheme's assessing unit is outside your organisation subtree",
        field="scheme_id",
        code=ScoringErrorCode.FORBIDDEN_SCOPE,
    )


async def unit_row(c: asyncpg.Connection, caller: Caller, book: int, unit_id: str) -> asyncpg.Record:
    """The unit in the book, or not_found — worded exactly like a unit that does not exist, also when it
    exists but is outside the caller's subtree or not assessed in this book (nothing is disclosed)."""
    row = await c.fetchrow("SELECT * FROM book_unit WHERE book = $1 AND unit_id = $2", book, unit_id)
    if row is None or not caller.covers(row["path"]):
        raise NotFound(f"unit {unit_id} not found", field="unit_id")
    return row


async def status_of(c: asyncpg.Connection, book: int, period: str) -> str:
    row = await c.fetchrow(
        "SELECT window_until, snapshot_id FROM results_state WHERE book = $1 AND period = $2", book, period
    )
    if row is None:
        return "preliminary"
    if row["snapshot_id"]:
        return "published"
    return "objection_window" if row["window_until"] is not None else "preliminary"
