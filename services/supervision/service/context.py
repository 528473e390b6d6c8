"""What every supervision use case shares: the outbox, the policies, the calendar in force, the phone cipher.

The calendar is the national one (`chinese-calendar`) plus the years entered by hand and the local
overrides stored in the service; it is rebuilt only when its stored version changes, so every replica
computes with the same calendar, and every deadline records the version it used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from cryptography.fernet import Fernet, InvalidToken
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.events import Outbox
from kaohe.workdays import Override, WorkdayCalendar, official_calendar
from services.supervision.domain import (
    CardPolicy,
    ClockKind,
    Colour,
    Ladder,
    LadderPolicy,
    Priority,
    ScoreRules,
    Source,
)
from services.supervision.repository import calendar as cal_repo
from services.supervision.settings import SupervisionSettings


@dataclass
class Ctx:
    settings: SupervisionSettings
    outbox: Outbox
    ladders: LadderPolicy = field(default_factory=LadderPolicy)
    cards: CardPolicy = field(default_factory=CardPolicy)
    rules: ScoreRules = field(default_factory=ScoreRules)
    # the process's outbox relay held while the sweep's batches run (`OutboxRelay.hold`; the app wires it)
    hold_relay: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext
    _calendar: WorkdayCalendar | None = None
    _fernet: Fernet | None = None

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    @property
    def fernet(self) -> Fernet:
        if self._fernet is None:
            self._fernet = Fernet(self.settings.fernet_key())
        return self._fernet

    def seal(self, text: str | None) -> bytes | None:
        return None if not text else self.fernet.encrypt(text.encode())

    def unseal(self, token: bytes | None) -> str | None:
        if token is None:
            return None
        try:
            return self.fernet.decrypt(bytes(token)).decode()
        except InvalidToken:
            return None

    async def calendar(self, s: AsyncSession) -> WorkdayCalendar:
        """The calendar in force (one cheap read of the current version; rebuilt when it changed)."""
        row = await cal_repo.current_version(s)
        want = row["version"] if row else official_calendar().version
        if self._calendar is None or self._calendar.version != want:
            self._calendar = await build_calendar(s)
        if row is None:  # the first use of the national calendar is its first recorded version
            c = self._calendar
            await cal_repo.record_version(
                s, c.version, source=c.source, covered=sorted(c.covered_years), overrides=[]
            )
        return self._calendar


async def build_calendar(s: AsyncSession) -> WorkdayCalendar:
    """National calendar + years added by hand + local overrides, from the service's tables."""
    cal = official_calendar()
    for y in await cal_repo.years(s):
        cal = cal.with_year(
            y["year"],
            days_off=[date.fromisoformat(d) for d in y["days_off"]],
            extra_workdays=[date.fromisoformat(d) for d in y["extra_workdays"]],
            source=y["source"],
        )
    rows = await cal_repo.overrides(s)
    if rows:
        cal = cal.with_overrides(Override(r["day"], r["workday"], r["reason"]) for r in rows)
    return cal


def policies(settings: SupervisionSettings) -> tuple[LadderPolicy, CardPolicy, ScoreRules]:
    """The configured ladders, card policy and score rules (a bad value fails the process at start)."""
    by_source: dict[Source, Ladder] = {}
    by_priority: dict[Priority, Ladder] = {}
    by_both: dict[tuple[Source, Priority], Ladder] = {}
    default = Ladder()
    for key, value in settings.ladders.items():
        ladder = Ladder(**{"name": key, **value})  # type: ignore[arg-type]
        if key == "default":
            default = ladder
        elif "/" in key:
            src, prio = key.split("/", 1)
            by_both[Source(src), Priority(prio)] = ladder
        elif key in {str(p) for p in Priority}:
            by_priority[Priority(key)] = ladder
        else:
            by_source[Source(key)] = ladder
    ladders = LadderPolicy(default, by_source, by_priority, by_both)
    c = dict(settings.card_policy)
    if "yellow_for" in c:
        c["yellow_for"] = frozenset(ClockKind(k) for k in c["yellow_for"])  # type: ignore[attr-defined]
    r: dict[str, object] = {}
    for k, v in settings.score_rules.items():
        if k == "per_card":
            r[k] = {Colour(colour): Decimal(str(x)) for colour, x in v.items()}  # type: ignore[attr-defined]
        elif k == "early_workdays":
            r[k] = int(v)  # type: ignore[call-overload]
        else:
            r[k] = None if v is None else Decimal(str(v))
    return ladders, CardPolicy(**c), ScoreRules(**r)  # type: ignore[arg-type]


def mask_phone(phone: str | None) -> str | None:
    """138****5678: the first three and last four digits kept."""
    if not phone:
        return None
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
