"""Stored inputs of a book (输入): approved values by binary COPY into numpy records, 平时督查 scores,
directly scored aspects and ranking exemptions (PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg
import numpy as np

from services.scoring.domain.batch import Values
from services.scoring.domain.book import BookModel
from services.scoring.service import supervision_source

COPY_HEADER = 19  # signature (11) + flags (4) + extension length (4)


# One period's values: (int4 unit_no, int4 code_no, float8 value) — fixed width, NaN for none.
ROW = np.dtype(
    [("n", ">i2"), ("l1", ">i4"), ("u", ">i4"), ("l2", ">i4"), ("c", ">i4"), ("l3", ">i4"), ("v", ">f8")]
)


async def _copy_out(c: asyncpg.Connection, query: str, args: list[Any], dtype: np.dtype) -> np.ndarray:
    """A query's rows by binary COPY, as fixed-width records (every column NOT NULL, fixed size)."""
    chunks: list[bytes] = []

    async def sink(chunk: bytes) -> None:
        chunks.append(chunk)

    await c.copy_from_query(query, *args, output=sink, format="binary")
    data = b"".join(chunks)
    n = (len(data) - COPY_HEADER - 2) // dtype.itemsize
    return np.frombuffer(data, dtype=dtype, offset=COPY_HEADER, count=n)


async def _copy_period(c: asyncpg.Connection, where: str, args: list[Any]) -> np.ndarray:
    query = f"SELECT unit_no, code_no, coalesce(value, 'NaN')::float8 FROM scoring.value WHERE {where}"
    return await _copy_out(c, query, args, ROW)


SMALL = 2000  # units: an incremental batch reads its periods with one COPY, not one per period
# binary COPY rows of (period index, unit_no, code_no, value)
PROW = np.dtype(
    [
        ("n", ">i2"),
        ("l0", ">i4"),
        ("p", ">i4"),
        ("l1", ">i4"),
        ("u", ">i4"),
        ("l2", ">i4"),
        ("c", ">i4"),
        ("l3", ">i4"),
        ("v", ">f8"),
    ]
)


async def _fetch_periods(
    c: asyncpg.Connection, periods: list[str], unit_filter: str, args: list[Any]
) -> list[np.ndarray]:
    """A few units' values of several periods in one round trip, split by period as _copy_period's."""
    query = (
        "SELECT (array_position($2::text[], period::text) - 1)::int4, unit_no, code_no,"
        " coalesce(value, 'NaN')::float8 FROM scoring.value"
        " WHERE book = $1 AND period = ANY($2) AND NOT withdrawn" + unit_filter
    )
    rows = await _copy_out(c, query, args, PROW)
    return [rows[rows["p"] == i] for i in range(len(periods))]


async def load_values(
    c: asyncpg.Connection,
    model: BookModel,
    periods: list[str],
    unit_nos: Sequence[int] | None,
    *,
    dsn: str | None = None,
) -> Values:
    """Values of the periods (all units, or these units plus every unit's rank-leaf peers).

    With `dsn`, each period is read by its own connection in parallel, all on this transaction's
    snapshot (pg_export_snapshot), so the result is what this transaction sees.
    """
    unit_filter, extra = "", []
    if unit_nos is not None:  # these units, plus their rank leaves' peers (an OR would defeat the index)
        ranked = sorted(model.rank_code_set)
        unit_filter = " AND (unit_no = ANY($3) OR code_no = ANY($4))" if ranked else " AND unit_no = ANY($3)"
        extra = [list(unit_nos), ranked] if ranked else [list(unit_nos)]
    where = "book = $1 AND period = $2 AND NOT withdrawn" + unit_filter
    if unit_nos is not None and len(unit_nos) <= SMALL:
        parts = await _fetch_periods(c, periods, unit_filter, [model.book, periods, *extra])
    elif dsn is None or len(periods) == 1:
        parts = [await _copy_period(c, where, [model.book, p, *extra]) for p in periods]
    else:
        snapshot = await c.fetchval("SELECT pg_export_snapshot()")
        helpers = await asyncio.gather(*(asyncpg.connect(dsn) for _ in periods))
        try:

            async def read(h: asyncpg.Connection, p: str) -> np.ndarray:
                async with h.transaction(isolation="repeatable_read", readonly=True):
                    await h.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    return await _copy_period(h, where, [model.book, p, *extra])

            parts = list(await asyncio.gather(*(read(h, p) for h, p in zip(helpers, periods, strict=True))))
        finally:
            await asyncio.gather(*(h.close() for h in helpers), return_exceptions=True)
    grades: list[tuple[int, int, int, str]] = []
    if any(
        leaf.standard is not None and leaf.standard.type == "qualitative"
        for g in model.groups.values()
        for leaf in g.leaves
    ):
        rows = await c.fetch(
            "SELECT unit_no, code_no, array_position($2::text[], period::text) - 1 AS p, grade FROM value"
            " WHERE book = $1 AND period = ANY($2) AND NOT withdrawn AND grade IS NOT NULL" + unit_filter,
            model.book,
            periods,
            *extra,
        )
        grades = [(r["unit_no"], r["code_no"], r["p"], r["grade"]) for r in rows]
    return Values.build_parts(periods, model.n_codes, parts, grades)


async def supervision(
    c: asyncpg.Connection, model: BookModel, periods: list[str]
) -> dict[str, dict[int, float]]:
    """平时督查 scores by period and unit_no: the supervision service's, else the office's manual one."""
    got = await supervision_source.entries(c, model.book, periods)
    return {p: {no: v for no, (v, _) in got.get(p, {}).items()} for p in periods}


async def aspect_scores(c: asyncpg.Connection, book: int, period: str) -> dict[tuple[int, str], float]:
    rows = await c.fetch(
        "SELECT unit_no, code, value FROM aspect_score WHERE book = $1 AND period = $2", book, period
    )
    return {(r["unit_no"], r["code"]): r["value"] for r in rows}


async def exemptions(c: asyncpg.Connection, book: int, period: str) -> set[int]:
    rows = await c.fetch("SELECT unit_no FROM exemption WHERE book = $1 AND period = $2", book, period)
    return {r["unit_no"] for r in rows}
