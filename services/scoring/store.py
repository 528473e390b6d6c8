"""Scoring repository: books, schemes, rosters, values, supervision, results and warnings (PostgreSQL).

Bulk paths use the session's own asyncpg connection (same transaction): values come out with binary
COPY into fixed-width numpy records, results and events go in with COPY.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg
import numpy as np
import orjson
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts.indicators import SchemePublished
from kaohe.contracts.scheme import Scheme, all_indicators
from services.scoring import supervision_source
from services.scoring.config import ScoringConfig
from services.scoring.domain.batch import Values
from services.scoring.domain.book import BookModel, build_model
from services.scoring.schemas import assessing_path

# The results side lives in store_results; re-exported so that callers use one repository name.
from services.scoring.store_results import (  # noqa: F401
    RESULT_COLUMNS,
    emit_many,
    rank_inputs,
    replace_results,
    result_keys,
    results,
    update_ranks,
    upsert_results_many,
    warnings,
    write_warnings,
)

COPY_HEADER = 19  # signature (11) + flags (4) + extension length (4)


def js(x: Any) -> Any:
    """A json/jsonb column: decoded by SQLAlchemy's codec on its connections, text on plain asyncpg ones."""
    return orjson.loads(x) if isinstance(x, str | bytes) else x


async def raw(s: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection, inside the session's transaction."""
    tx = s.sync_session.get_transaction()
    held = s.info.get("raw_connection")
    if held is not None and held[0] is tx:
        return held[1]  # type: ignore[no-any-return]
    await s.execute(text("SELECT 1"))  # the driver begins the transaction lazily
    conn = await s.connection()
    driver = (await conn.get_raw_connection()).driver_connection
    s.info["raw_connection"] = (s.sync_session.get_transaction(), driver)
    return driver  # type: ignore[return-value]


# ---------------------------------------------------------------- books, schemes, rosters


async def book_id(c: asyncpg.Connection, assessing_unit: str, year: int) -> int:
    """The book of an assessing unit's year, created on first sight."""
    row = await c.fetchval(
        "INSERT INTO book (assessing_unit, year) VALUES ($1, $2) ON CONFLICT (assessing_unit, year)"
        " DO UPDATE SET year = EXCLUDED.year RETURNING id",
        assessing_unit,
        year,
    )
    return int(row)


async def book_of_scheme(c: asyncpg.Connection, scheme_id: str) -> int | None:
    return await c.fetchval("SELECT book FROM scheme WHERE scheme_id = $1", scheme_id)  # type: ignore[no-any-return]


async def codes(c: asyncpg.Connection, book: int, names: Iterable[str]) -> dict[str, int]:
    """Intern indicator codes and data-element names of a book (stable numbers, never reused)."""
    wanted = sorted(set(names))
    if wanted:
        await c.execute(
            "INSERT INTO book_code (book, code_no, code) SELECT $1, coalesce((SELECT max(code_no)"
            " FROM book_code WHERE book = $1), -1) + row_number() OVER (), x FROM unnest($2::text[]) x"
            " WHERE NOT EXISTS (SELECT 1 FROM book_code WHERE book = $1 AND code = x)",
            book,
            wanted,
        )
    rows = await c.fetch("SELECT code, code_no FROM book_code WHERE book = $1", book)
    return {r["code"]: r["code_no"] for r in rows}


async def units(
    c: asyncpg.Connection, book: int, roster: Sequence[dict[str, Any]], *, assessed: bool
) -> dict[str, int]:
    """Upsert units (id, name, path, category) and return unit_id → unit_no."""
    await c.execute("LOCK TABLE book_unit IN SHARE ROW EXCLUSIVE MODE")  # numbering is max + n
    ids = [u["unit_id"] for u in roster]
    await c.execute(
        "INSERT INTO book_unit (book, unit_no, unit_id, name, path, category, assessed)"
        " SELECT $1, coalesce((SELECT max(unit_no) FROM book_unit WHERE book = $1), -1)"
        " + row_number() OVER (ORDER BY ord), i, n, p, c, $6"
        " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS x(i, n, p, c, ord)"
        " ON CONFLICT (book, unit_id) DO UPDATE SET name = EXCLUDED.name, path = EXCLUDED.path,"
        " category = CASE WHEN $6 THEN EXCLUDED.category ELSE book_unit.category END,"
        " assessed = book_unit.assessed OR $6",
        book,
        ids,
        [u.get("name") or "" for u in roster],
        [u["path"] for u in roster],
        [u.get("category") or "" for u in roster],
        assessed,
    )
    rows = await c.fetch(
        "SELECT unit_id, unit_no FROM book_unit WHERE book = $1 AND unit_id = ANY($2)", book, ids
    )
    return {r["unit_id"]: r["unit_no"] for r in rows}


async def store_scheme(
    c: asyncpg.Connection, published: SchemePublished, *, body: dict[str, Any]
) -> tuple[int, bool]:
    """Keep a published scheme version (`body`: its JSON as sent); the newest version becomes the book's.
    (book, became current)."""
    book = await book_id(c, published.assessing_unit, published.year)
    scheme = published.scheme
    await c.execute(
        "INSERT INTO scheme (scheme_id, book, version, body, published_at) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (scheme_id) DO NOTHING",
        published.scheme_id,
        book,
        published.version,
        orjson.dumps(body).decode(),
        published.published_at,
    )
    names = [ind.code for ind, _ in all_indicators(scheme)] + [e.name for e in scheme.data_elements]
    await codes(c, book, names)
    current = await c.fetchval(
        "UPDATE book SET scheme_id = $2, scheme_version = $3, stamp = stamp + 1"
        " WHERE id = $1 AND (scheme_version IS NULL OR scheme_version <= $3) RETURNING id",
        book,
        published.scheme_id,
        published.version,
    )
    if current is not None:
        roster = [u.model_dump() for u in published.units]
        path = assessing_path(published.assessing_unit, roster)
        await c.execute(
            "UPDATE book SET assessing_path = coalesce($2, assessing_path) WHERE id = $1", book, path
        )
        await units(c, book, roster, assessed=True)
        await c.execute(
            "UPDATE book_unit SET assessed = false WHERE book = $1 AND NOT (unit_id = ANY($2))",
            book,
            [u.unit_id for u in published.units],
        )
    return book, current is not None


async def load_model(c: asyncpg.Connection, book: int) -> BookModel | None:
    """Compile the book's current scheme, roster and config (None before a scheme is known)."""
    row = await c.fetchrow(
        "SELECT b.scheme_id, b.config, s.body FROM book b JOIN scheme s ON s.scheme_id = b.scheme_id WHERE"
        " b.id = $1",
        book,
    )
    if row is None:
        return None
    config = ScoringConfig.model_validate(js(row["config"])) if row["config"] else ScoringConfig()
    roster = await c.fetch(
        "SELECT unit_no, unit_id, name, path, category FROM book_unit WHERE book = $1 AND assessed ORDER"
        " BY unit_no",
        book,
    )
    code_rows = await c.fetch("SELECT code, code_no FROM book_code WHERE book = $1", book)
    return build_model(
        book=book,
        scheme_id=row["scheme_id"],
        scheme=Scheme.model_validate(js(row["body"])),
        config=config,
        units=[tuple(r) for r in roster],  # type: ignore[misc]
        codes={r["code"]: r["code_no"] for r in code_rows},
    )


async def stamp(c: asyncpg.Connection, book: int) -> int | None:
    return await c.fetchval("SELECT stamp FROM book WHERE id = $1", book)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- values and inputs


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
