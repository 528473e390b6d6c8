"""The periods scoring works in (月/季/年, 序时进度 due dates), on kaohe.contracts.periods.Period."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from kaohe.contracts.periods import Period
from kaohe.contracts.periods import kind_of as canonical_kind

# A book holds few periods and these are asked per leaf and row: cached, they cost a dict lookup.


@lru_cache(maxsize=4096)
def kind_of(period: str) -> str:
    """month (2026-03), quarter (2026-Q1) or year (2026); anything else (2026-H1) is scored directly."""
    k = canonical_kind(period)
    return k if k in ("year", "quarter", "month") else "other"


@lru_cache(maxsize=4096)
def quarter_of(period: str) -> str | None:
    """The quarter a month or quarter belongs to."""
    if kind_of(period) not in ("month", "quarter"):
        return None
    return str(Period.parse(period).within("quarter"))


@lru_cache(maxsize=4096)
def _months(quarter: str) -> tuple[str, ...]:
    return tuple(str(m) for m in Period.parse(quarter).months())


def months_of(quarter: str) -> list[str]:
    """The three months of a quarter, in order."""
    return list(_months(quarter))


@lru_cache(maxsize=4096)
def period_end(period: str) -> date:
    """The day a month or quarter ends (序时进度 is checked against it)."""
    return Period.parse(period).end


def month_end(period: str) -> date:
    """The last day of a month."""
    return period_end(period)


@lru_cache(maxsize=4096)
def due_on(period: str) -> date | None:
    """The day by which a period's share of the annual targets is due: the end of a month, quarter or
    half-year (2026-H1 / 2026-H2); None for a year or an unrecognised period (the full target applies)."""
    return Period.parse(period).end if canonical_kind(period) in ("month", "quarter", "half") else None
