"""平时督查 inputs of a book and where each comes from: the supervision service, or the office by hand.

The supervision service publishes a unit's score for a period (`supervision.result.scored`, 督查结果单独
核算). Until it does, the 考核办 may enter the score by hand for a quarter or a year with
`aspect_scores_set` (aspect code `supervision`): a manual source, marked `manual` in rankings and
explanations and overridden as soon as the service's score for that unit and period arrives. Neither:
100 (no deduction recorded, `default`).

Lookup, one chain for scoring, explanations and rankings alike:
- a month: the service's month score, else the service's quarter score, else the manual quarter score;
- a quarter, a year or another period: the service's score for it, else the manual one for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import asyncpg
import orjson

from services.scoring.domain.batch import SUPERVISION_DEFAULT
from services.scoring.domain.calendar import kind_of, quarter_of

MANUAL_CODE = "supervision"  # the aspect code of a manual 平时督查 score (aspect_scores_set)
Source = Literal["service", "manual", "default"]
Entry = tuple[float, Source]


async def entries(
    c: asyncpg.Connection, book: int, periods: Iterable[str], unit_nos: Iterable[int] | None = None
) -> dict[str, dict[int, Entry]]:
    """Per period and unit_no, the period's own 平时督查 score and its source (the service's wins)."""
    ps = sorted(set(periods))
    nos = None if unit_nos is None else sorted(set(unit_nos))
    out: dict[str, dict[int, Entry]] = {p: {} for p in ps}
    rows = await c.fetch(  # one round trip on the scorer's path: manual rows first, the service's after
        "SELECT period, unit_no, value::float8 AS v, false AS service FROM aspect_score"
        " WHERE book = $1 AND period = ANY($2) AND code = $3 AND ($4::int[] IS NULL OR unit_no = ANY($4))"
        " UNION ALL SELECT s.period, u.unit_no, s.score::float8, true FROM supervision s"
        " JOIN book_unit u ON u.unit_id = s.unit_id"
        " WHERE u.book = $1 AND s.period = ANY($2) AND ($4::int[] IS NULL OR u.unit_no = ANY($4))",
        book,
        ps,
        MANUAL_CODE,
        nos,
    )
    for r in sorted(rows, key=lambda r: r["service"]):  # the service's score wins over a manual one
        out[r["period"]][r["unit_no"]] = (r["v"], "service" if r["service"] else "manual")
    return out


def chain(period: str) -> list[str]:
    """The periods whose own score a period's 平时督查 takes, first choice first."""
    q = quarter_of(period)
    return [period, q] if kind_of(period) == "month" and q is not None else [period]


def resolve(got: Mapping[str, Mapping[int, Entry]], period: str, unit_no: int) -> Entry:
    """A unit's 平时督查 for a period, with its source (see the module docstring)."""
    for p in chain(period):
        hit = got.get(p, {}).get(unit_no)
        if hit is not None:
            return hit
    return (SUPERVISION_DEFAULT, "default")


async def of_unit(c: asyncpg.Connection, book: int, unit_no: int, period: str) -> Entry:
    """One unit's 平时督查 for a period, with its source."""
    got = await entries(c, book, chain(period), [unit_no])
    return resolve(got, period, unit_no)


async def sources(c: asyncpg.Connection, book: int, period: str, unit_nos: list[int]) -> dict[int, Source]:
    """The source of each row's 平时督查 figure in a period's results.

    A year's row shows its latest quarter's figure (see standings.compose_year_rows) unless the annual
    shares include `supervision`, which is then the year's own.
    """
    if kind_of(period) != "year":
        got = await entries(c, book, chain(period), unit_nos)
        return {no: resolve(got, period, no)[1] for no in unit_nos}
    config = await c.fetchval("SELECT config FROM book WHERE id = $1", book)
    while isinstance(config, str | bytes):
        config = orjson.loads(config)
    shares = (config or {}).get("annual_shares") or []
    if any(s.get("code") == MANUAL_CODE for s in shares):
        got = await entries(c, book, [period], unit_nos)
        return {no: resolve(got, period, no)[1] for no in unit_nos}
    rows = await c.fetch(
        "SELECT unit_no, max(period) AS q FROM result WHERE book = $1 AND unit_no = ANY($2)"
        " AND period = ANY($3) GROUP BY unit_no",
        book,
        unit_nos,
        [f"{period}-Q{q}" for q in range(1, 5)],
    )
    latest = {r["unit_no"]: r["q"] for r in rows}
    got = await entries(c, book, set(latest.values()), unit_nos)
    return {no: resolve(got, latest[no], no)[1] if no in latest else "default" for no in unit_nos}
