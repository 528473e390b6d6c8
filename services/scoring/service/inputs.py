"""Inputs (输入): published schemes, approved/reopened values, unit changes and 平时督查 results, stored.

These only record inputs and queue the affected (unit, period) in `dirty`; the scorer drains the queue
in batches (workers.py), so a burst of approvals re-ranks each category once, not per event.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.contracts import paths
from kaohe.contracts.indicators import (
    SchemePublished,
    SubmissionApproved,
    SubmissionEvent,
    UnitChanged,
)
from kaohe.contracts.supervision import SupervisionResultScored
from services.scoring.repository import books, connection

DIRTY_CHANNEL = "kaohe_scoring_dirty"


async def _wake(s: AsyncSession, c: Any) -> None:
    """NOTIFY the scorer once per transaction (delivered at commit, dropped on rollback)."""
    tx = s.sync_session.get_transaction()
    if s.info.get("dirty_notified_tx") is not tx:
        s.info["dirty_notified_tx"] = tx
        await c.execute("SELECT pg_notify($1, '')", DIRTY_CHANNEL)


async def store_scheme(s: AsyncSession, m: SchemePublished, *, body: dict[str, Any], cause: str) -> None:
    """A published scheme version (`body`: its JSON as sent): stored; when it is the newest, every stored
    value is rescored."""
    c = await connection.raw(s)
    book, current = await books.store_scheme(c, m, body=body)
    if current:
        await c.execute(
            "INSERT INTO dirty (book, unit_no, period, cause_event) SELECT DISTINCT book, unit_no, period, $2"
            " FROM value WHERE book = $1",
            book,
            cause,
        )
        await _wake(s, c)


class Interned:
    """Immutable facts of one database, cached by its runtime: scheme → book, books with a scheme, numbers."""

    def __init__(self) -> None:
        self.book_of: dict[str, int] = {}
        self.has_scheme: set[int] = set()
        self.unit_no: dict[tuple[int, str], int] = {}
        self.code_no: dict[tuple[int, str], int] = {}


async def _unit_no(ids: Interned, c: Any, book: int, d: SubmissionEvent) -> int:
    key = (book, d.unit_id)
    if key not in ids.unit_no:
        no = await c.fetchval(
            "SELECT unit_no FROM book_unit WHERE book = $1 AND unit_id = $2", book, d.unit_id
        )
        if no is None:
            name = getattr(d, "unit_name", None) or ""  # only approvals carry it
            roster = [{"unit_id": d.unit_id, "path": d.unit_path, "name": name}]
            no = (await books.units(c, book, roster, assessed=False))[d["unit_id"]]
            return int(no)  # not cached: this transaction may still roll back
        ids.unit_no[key] = int(no)
    return ids.unit_no[key]


async def _code_no(ids: Interned, c: Any, book: int, code: str) -> int:
    key = (book, code)
    if key not in ids.code_no:
        no = await c.fetchval("SELECT code_no FROM book_code WHERE book = $1 AND code = $2", book, code)
        if no is None:
            return (await books.codes(c, book, [code]))[code]
        ids.code_no[key] = int(no)
    return ids.code_no[key]


async def _book(ids: Interned, c: Any, d: SubmissionEvent) -> tuple[int | None, bool]:
    """(book, whether it has a scheme) for a submission event."""
    sid = d.scheme_id
    book = ids.book_of.get(sid) if sid else None
    if book is None and sid:
        book = await books.book_of_scheme(c, sid)
        if book is not None:
            ids.book_of[sid] = book
    if book is None and d.assessing_unit and d.year:
        book = await books.book_id(c, d.assessing_unit, d.year)
    if book is None:
        return None, False
    if book not in ids.has_scheme:
        if await c.fetchval("SELECT scheme_id FROM book WHERE id = $1", book) is None:
            return book, False
        ids.has_scheme.add(book)
    return book, True


_UPSERT_MANY = (
    "WITH x AS (SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::text[], $5::float8[], $6::text[],"
    " $7::int[], $8::bool[], $9::text[], $10::text[], $11::text[], $12::bool[])"
    " AS x(book, unit_no, code_no, period, value, grade, revision, withdrawn, submission_id, evidence, cause,"
    " scored)), v AS (INSERT INTO value AS v (book, unit_no, code_no, period, value, grade, revision,"
    " withdrawn, submission_id, evidence) SELECT book, unit_no, code_no, period, value, grade, revision,"
    " withdrawn, submission_id, CAST(evidence AS jsonb) FROM x"
    " ON CONFLICT (book, period, unit_no, code_no) DO UPDATE SET value = EXCLUDED.value,"
    " grade = EXCLUDED.grade, revision = EXCLUDED.revision, withdrawn = EXCLUDED.withdrawn,"
    " submission_id = EXCLUDED.submission_id, evidence = EXCLUDED.evidence, updated_at = now()"
    " WHERE v.revision < EXCLUDED.revision OR v.submission_id IS DISTINCT FROM EXCLUDED.submission_id"
    " RETURNING v.book, v.unit_no, v.code_no, v.period)"
    " INSERT INTO dirty (book, unit_no, period, cause_event) SELECT x.book, x.unit_no, x.period, x.cause"
    " FROM v JOIN x USING (book, unit_no, code_no, period) WHERE x.scored"
)


async def record_values(
    s: AsyncSession, submissions: list[tuple[str, SubmissionEvent]], ids: Interned
) -> None:
    """Approvals (final) count a value, reopenings withdraw it; only newer revisions apply. As if applied
    one by one, in a few statements: units looked up together, then one upsert of the values (and of the
    scorer's queue, for those that changed and that a scheme scores) per run of distinct keys."""
    c = await connection.raw(s)
    prepared: list[tuple[Any, ...]] = []
    missing: dict[int, set[str]] = {}
    for cause, d in submissions:
        approved = isinstance(d, SubmissionApproved)
        if approved and not d.final:
            continue  # a first-level review; 考核办 has not decided yet
        book, has_scheme = await _book(ids, c, d)
        if book is None:
            continue
        if (book, d.unit_id) not in ids.unit_no:
            missing.setdefault(book, set()).add(d.unit_id)
        prepared.append((cause, d, book, has_scheme, approved))
    for book, unit_ids in missing.items():
        rows = await c.fetch(
            "SELECT unit_id, unit_no FROM book_unit WHERE book = $1 AND unit_id = ANY($2)",
            book,
            list(unit_ids),
        )
        for r in rows:
            ids.unit_no[(book, r["unit_id"])] = int(r["unit_no"])
    waves: list[list[tuple[Any, ...]]] = [[]]
    keys: set[tuple[Any, ...]] = set()
    wake = False
    for cause, d, book, has_scheme, approved in prepared:
        unit_no, code_no = await _unit_no(ids, c, book, d), await _code_no(ids, c, book, d.code)
        key = (book, unit_no, code_no, d.period)
        if key in keys:  # the same value twice in a batch: a later statement applies it after the first
            waves.append([])
            keys = set()
        keys.add(key)
        evidence = orjson.dumps([e.id for e in d.evidence]).decode()
        row = (*key, d.value, d.grade, d.revision, not approved)
        waves[-1].append((*row, d.submission_id, evidence, cause, has_scheme))
        wake = wake or has_scheme
    for wave in waves:
        if wave:
            await c.execute(_UPSERT_MANY, *(list(col) for col in zip(*wave, strict=True)))
    if wake:
        await _wake(s, c)


async def apply_unit_change(s: AsyncSession, d: UnitChanged) -> None:
    """Renames and moves: scope checks use the new paths (descendants' paths follow a move)."""
    c = await connection.raw(s)
    old_path = d.previous.path if d.previous else None
    new_path = d.version.path
    await c.execute(
        "UPDATE book_unit SET name = coalesce($2, name), path = coalesce($3, path) WHERE unit_id = $1",
        d.unit_id,
        d.version.name,
        new_path,
    )
    if old_path and new_path and old_path != new_path:
        lo, hi = paths.bounds(old_path)  # the subtree as a byte range: unit ids may hold `_` or `%`
        for table, col in (
            ("book_unit", "path"),
            ("book", "assessing_path"),
            ("supervision", "unit_path"),
        ):
            await c.execute(
                f"UPDATE {table} SET {col} = $2 || substr({col}, length($1) + 1)"
                f" WHERE {paths.sql(col, '$1', '$3')}",
                lo,
                new_path,
                hi,
            )
    await c.execute(
        "UPDATE book SET stamp = stamp + 1 WHERE id IN (SELECT book FROM book_unit WHERE unit_id = $1)",
        d.unit_id,
    )


_SUPERVISION_MANY = (
    "WITH x AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::int[], $6::int[],"
    " $7::text[], $8::text[]) AS x(unit_id, period, unit_path, score, items, revision, details, cause)),"
    " s AS (INSERT INTO supervision AS y (unit_id, period, unit_path, score, items, revision, details)"
    " SELECT unit_id, period, unit_path, score, items, revision, CAST(details AS jsonb) FROM x"
    " ON CONFLICT (unit_id, period) DO UPDATE SET unit_path = EXCLUDED.unit_path, score = EXCLUDED.score,"
    " items = EXCLUDED.items, revision = EXCLUDED.revision, details = EXCLUDED.details, updated_at = now()"
    " WHERE y.revision < EXCLUDED.revision RETURNING y.unit_id, y.period)"
    " INSERT INTO dirty (book, unit_no, period, cause_event) SELECT b.book, b.unit_no, s.period, x.cause"
    " FROM s JOIN x USING (unit_id, period) JOIN book_unit b ON b.unit_id = s.unit_id AND b.assessed"
)


async def record_supervision(s: AsyncSession, d: SupervisionResultScored, *, cause: str) -> None:
    """督查结果单独核算: the unit's 平时督查 score for a period; rescored where it is assessed."""
    await record_supervision_many(s, [(cause, d)])


async def record_supervision_many(
    s: AsyncSession, results: list[tuple[str, SupervisionResultScored]]
) -> None:
    """A run of 平时督查 scores (event id, payload) in one statement, as if applied one by one: per (unit,
    period) the highest revision of the run (the first of equal ones) is stored if newer than the stored
    one, and each stored score queues its unit in every book that assesses it."""
    newest: dict[tuple[str, str], tuple[str, SupervisionResultScored]] = {}
    for cause, d in results:
        held = newest.get((d.unit_id, d.period))
        if held is None or held[1].revision < d.revision:
            newest[d.unit_id, d.period] = (cause, d)
    if not newest:
        return
    c = await connection.raw(s)
    got = newest.values()
    status = await c.execute(
        _SUPERVISION_MANY,
        [d.unit_id for _, d in got],
        [d.period for _, d in got],
        [d.unit_path for _, d in got],
        [d.score for _, d in got],
        [d.items for _, d in got],
        [d.revision for _, d in got],
        [orjson.dumps([x.model_dump(mode="json") for x in d.details]).decode() for _, d in got],
        [cause for cause, _ in got],
    )
    if status.split()[-1] != "0":  # "INSERT 0 n": n units queued
        await _wake(s, c)
