"""The cadre registry (干部名册) in SQL: persons (hashed ID number), posts over time, grades, unit pools."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from kaohe.contracts.paths import upper

UPSERT_PERSON = """
INSERT INTO person AS p (person_key, id_hmac, name, account) VALUES ($1, $2, $3, $4)
ON CONFLICT (id_hmac) DO UPDATE SET name = EXCLUDED.name, account = coalesce(EXCLUDED.account, p.account),
                                    updated_at = now()
RETURNING person_key, name, account, updated_at, (xmax = 0) AS created
"""
POST_COLUMNS = (
    "p.post_id, p.person_key, p.unit_id, u.path AS unit_path, p.post, p.rank, p.monthly_pay_fen,"
    " p.valid_from, p.valid_to"
)
# the roster of a period: posts held on its last day in the given units with each person's own grade of
# the period, in the order of the domain's Cadre fields (rows become Cadre tuples in C), by person and post
# (a person's first post counts, see the domain's group_staff)
ROSTER = """
SELECT p.person_key, p.unit_id, p.post, p.rank, p.monthly_pay_fen, g.grade
FROM post p LEFT JOIN person_grade g ON g.person_key = p.person_key AND g.period = $3
WHERE p.unit_id = ANY($1::varchar[]) AND p.valid_from <= $2 AND (p.valid_to IS NULL OR p.valid_to > $2)
ORDER BY p.person_key, p.post_id
"""
CADRES = """
SELECT p.person_key, r.name, p.post_id, p.unit_id, p.post, p.rank, p.monthly_pay_fen, p.valid_from, p.valid_to
FROM post p JOIN unit u USING (unit_id) JOIN person r USING (person_key)
WHERE CASE WHEN $8::bool THEN u.path COLLATE "C" >= $1::varchar AND u.path COLLATE "C" < $2::varchar
           ELSE p.unit_id = $3::varchar END
  AND p.valid_from <= $4 AND (p.valid_to IS NULL OR p.valid_to > $4)
  AND ($5::char(25) IS NULL OR (p.person_key, p.post_id) > ($5::char(25), $6::bigint))
ORDER BY p.person_key, p.post_id LIMIT $7
"""


async def upsert_person(
    conn: asyncpg.Connection, key: str, id_hmac: str, name: str, account: str | None
) -> asyncpg.Record:
    return await conn.fetchrow(UPSERT_PERSON, key, id_hmac, name, account)  # type: ignore[no-any-return]


async def person(conn: asyncpg.Connection, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(  # type: ignore[no-any-return]
        "SELECT person_key, name, account, updated_at FROM person WHERE person_key = $1", key
    )


async def keys_by_hmac(conn: asyncpg.Connection, hmacs: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT id_hmac, person_key FROM person WHERE id_hmac = ANY($1::char(64)[])", list(hmacs)
    )
    return {r["id_hmac"]: r["person_key"] for r in rows}


async def posts_of(conn: asyncpg.Connection, key: str) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        f"SELECT {POST_COLUMNS} FROM post p JOIN unit u USING (unit_id) WHERE p.person_key = $1"
        " ORDER BY p.valid_from, p.post_id",
        key,
    )


async def open_post(
    conn: asyncpg.Connection,
    *,
    person_key: str,
    unit_id: str,
    post: str,
    rank: str,
    monthly_pay_fen: int,
    valid_from: date,
    keep_others: bool,
) -> asyncpg.Record:
    """Open a post; unless `keep_others`, the person's posts open on `valid_from` end that day (a move)."""
    if not keep_others:
        await conn.execute(
            "UPDATE post SET valid_to = greatest($2, valid_from) WHERE person_key = $1 AND valid_from <= $2"
            " AND (valid_to IS NULL OR valid_to > $2)",
            person_key,
            valid_from,
        )
    post_id = await conn.fetchval(
        "INSERT INTO post (person_key, unit_id, post, rank, monthly_pay_fen, valid_from)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING post_id",
        person_key,
        unit_id,
        post,
        rank,
        monthly_pay_fen,
        valid_from,
    )
    return await post_by_id(conn, post_id)  # type: ignore[return-value]


async def post_by_id(conn: asyncpg.Connection, post_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(  # type: ignore[no-any-return]
        f"SELECT {POST_COLUMNS} FROM post p JOIN unit u USING (unit_id) WHERE p.post_id = $1", post_id
    )


async def end_post(conn: asyncpg.Connection, post_id: int, valid_to: date) -> None:
    await conn.execute("UPDATE post SET valid_to = $2 WHERE post_id = $1", post_id, valid_to)


async def current_post(conn: asyncpg.Connection, key: str, on: date) -> asyncpg.Record | None:
    return await conn.fetchrow(  # type: ignore[no-any-return]
        "SELECT post_id, unit_id, post, rank, monthly_pay_fen FROM post WHERE person_key = $1"
        " AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2) ORDER BY post_id DESC LIMIT 1",
        key,
        on,
    )


async def cadres(
    conn: asyncpg.Connection,
    *,
    path: str,
    unit_id: str,
    subtree: bool,
    on: date,
    after: tuple[str, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await conn.fetch(  # type: ignore[no-any-return]
        CADRES,
        path,
        upper(path),
        unit_id,
        on,
        after[0] if after else None,
        after[1] if after else None,
        limit,
        subtree,
    )


async def units_of_person(conn: asyncpg.Connection, key: str) -> list[str]:
    """Paths of every unit the person ever held a post in."""
    rows = await conn.fetch(
        "SELECT DISTINCT u.path FROM post p JOIN unit u USING (unit_id) WHERE p.person_key = $1", key
    )
    return [r["path"] for r in rows]


async def key_of_account(conn: asyncpg.Connection, account: str) -> list[str]:
    rows = await conn.fetch("SELECT person_key FROM person WHERE account = $1", account)
    return [r["person_key"].strip() for r in rows]


async def roster(
    conn: asyncpg.Connection, unit_ids: Sequence[str], on: date, period: str
) -> list[asyncpg.Record]:
    """Posts held on `on` in the given units with the persons' grades of `period` (sorted in memory)."""
    await conn.execute("SET LOCAL work_mem = '128MB'")
    return await conn.fetch(ROSTER, list(unit_ids), on, period)  # type: ignore[no-any-return]


async def person_grades(
    conn: asyncpg.Connection, keys: Sequence[str], periods: Sequence[str]
) -> list[asyncpg.Record]:
    if not keys or not periods:
        return []
    return await conn.fetch(  # type: ignore[no-any-return]
        "SELECT person_key, period, grade FROM person_grade WHERE person_key = ANY($1::char(25)[])"
        " AND period = ANY($2::varchar[])",
        list(keys),
        list(periods),
    )


async def set_grades(conn: asyncpg.Connection, period: str, items: Sequence[tuple[str, str | None]]) -> int:
    await conn.executemany(
        "INSERT INTO person_grade (person_key, period, grade) VALUES ($1, $2, $3)"
        " ON CONFLICT (person_key, period) DO UPDATE SET grade = EXCLUDED.grade",
        [(k, period, g) for k, g in items],
    )
    return len(items)


async def known_persons(conn: asyncpg.Connection, keys: Sequence[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT person_key FROM person WHERE person_key = ANY($1::char(25)[])", list(keys)
    )
    return {r["person_key"] for r in rows}


async def set_pools(conn: asyncpg.Connection, period: str, items: Sequence[tuple[str, int]]) -> int:
    await conn.executemany(
        "INSERT INTO unit_pool (unit_id, period, pool_fen) VALUES ($1, $2, $3)"
        " ON CONFLICT (unit_id, period) DO UPDATE SET pool_fen = EXCLUDED.pool_fen",
        [(u, period, f) for u, f in items],
    )
    return len(items)


async def pools(conn: asyncpg.Connection, unit_ids: Sequence[str], period: str) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT unit_id, pool_fen FROM unit_pool WHERE period = $2 AND unit_id = ANY($1::varchar[])",
        list(unit_ids),
        period,
    )
    return {r["unit_id"]: r["pool_fen"] for r in rows}


def public_post(r: Any) -> dict[str, Any]:
    d = dict(r)
    d["person_key"] = d["person_key"].strip()
    return d
