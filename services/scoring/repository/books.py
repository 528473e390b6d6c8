"""Books (考核台账: one per assessing unit and year), their schemes, rosters and code numbers (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg
import orjson

from kaohe.contracts.indicators import SchemePublished
from kaohe.contracts.scheme import Scheme, all_indicators
from services.scoring.domain.book import BookModel, build_model
from services.scoring.domain.config import ScoringConfig
from services.scoring.repository.connection import js
from services.scoring.repository.scope import assessing_path


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
