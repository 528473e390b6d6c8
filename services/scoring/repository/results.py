"""Results (单位得分): result rows, rank updates, active warnings and the outbox rows of bulk events."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from kaohe.events import nats_subject, notify_channel
from services.scoring.domain.batch import ResultRow
from services.scoring.repository import copytext

RESULT_COLUMNS = (
    "book period unit_no category grp kind total indicators supervision bonus penalty coefficient leaves "
    "veto_grade l1 parts colour checks rank of grade threshold_grade in_quota exempt last_place version "
    "updated_at"
).split()

# ---------------------------------------------------------------- results


def _row(r: asyncpg.Record) -> ResultRow:
    return ResultRow(
        r["unit_no"],
        r["category"],
        r["grp"],
        r["kind"],
        r["total"],
        r["indicators"],
        r["supervision"],
        r["bonus"],
        r["penalty"],
        r["coefficient"],
        r["leaves"],
        r["veto_grade"],
        list(r["l1"]),
        list(r["parts"]) if r["parts"] is not None else None,
        r["colour"],
        r["checks"],
        r["rank"],
        r["of"],
        r["grade"],
        r["threshold_grade"],
        r["in_quota"],
        r["exempt"],
        r["last_place"],
        r["version"],
    )


async def results(
    c: asyncpg.Connection,
    book: int,
    period: str,
    *,
    unit_nos: Sequence[int] | None = None,
    categories: Sequence[str] | None = None,
) -> dict[int, ResultRow]:
    where, args = "book = $1 AND period = $2", [book, period]
    if unit_nos is not None:
        where += f" AND unit_no = ANY(${len(args) + 1})"
        args.append(list(unit_nos))
    if categories is not None:
        where += f" AND category = ANY(${len(args) + 1})"
        args.append(list(categories))
    rows = await c.fetch(f"SELECT * FROM result WHERE {where}", *args)
    return {r["unit_no"]: _row(r) for r in rows}


async def result_keys(c: asyncpg.Connection, book: int, period: str) -> dict[int, ResultRow]:
    """The fields that decide a new version (total, rank, of, grade), for every unit of the period."""
    rows = await c.fetch(
        "SELECT unit_no, total, rank, of, grade, version FROM result WHERE book = $1 AND period = $2",
        book,
        period,
    )
    return {
        r[0]: ResultRow(
            r[0],
            "",
            "",
            "",
            r[1],
            0.0,
            0.0,
            0.0,
            0.0,
            1.0,
            0,
            None,
            [],
            rank=r[2],
            of=r[3],
            grade=r[4],
            version=r[5],
        )
        for r in rows
    }


async def rank_inputs(
    c: asyncpg.Connection, book: int, period: str, categories: Sequence[str]
) -> dict[int, ResultRow]:
    """What re-ranking categories needs (total, veto, current place and grade) — nothing heavier."""
    rows = await c.fetch(
        "SELECT unit_no, category, total, veto_grade, rank, of, grade, threshold_grade, in_quota, exempt,"
        " last_place,"
        " version FROM result WHERE book = $1 AND period = $2 AND category = ANY($3)",
        book,
        period,
        list(categories),
    )
    return {
        r[0]: ResultRow(
            r[0],
            r[1],
            "",
            "",
            r[2],
            0.0,
            0.0,
            0.0,
            0.0,
            1.0,
            0,
            r[3],
            [],
            None,
            None,
            0,
            r[4],
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
            r[10],
            r[11],
        )
        for r in rows
    }


def _record(book: int, period: str, r: ResultRow, now: datetime) -> tuple[Any, ...]:
    return (
        book,
        period,
        r.unit_no,
        r.category,
        r.grp,
        r.kind,
        r.total,
        r.indicators,
        r.supervision,
        r.bonus,
        r.penalty,
        r.coefficient,
        r.leaves,
        r.veto_grade,
        r.l1,
        r.parts,
        r.colour,
        r.checks,
        r.rank,
        r.of,
        r.grade,
        r.threshold_grade,
        r.in_quota,
        r.exempt,
        r.last_place,
        r.version,
        now,
    )


async def replace_results(c: asyncpg.Connection, book: int, period: str, rows: list[ResultRow]) -> None:
    """Full recompute: the period's rows are replaced by these (COPY)."""
    now = datetime.now(UTC)
    await c.execute("DELETE FROM result WHERE book = $1 AND period = $2", book, period)
    await c.copy_to_table(
        "result",
        schema_name="scoring",
        columns=RESULT_COLUMNS,
        source=io.BytesIO(copytext.result_copy(book, period, rows, now)),
        format="binary",
    )


async def upsert_results_many(
    c: asyncpg.Connection, book: int, writes: Sequence[tuple[str, list[ResultRow], Sequence[int]]]
) -> None:
    """Incremental: these units' rows of several periods (one statement), and the rows of units left
    without values deleted (one more)."""
    now = datetime.now(UTC)
    cols = ", ".join(RESULT_COLUMNS)
    marks = ", ".join(f"${i + 1}" for i in range(len(RESULT_COLUMNS)))
    sets = ", ".join(f"{k} = EXCLUDED.{k}" for k in RESULT_COLUMNS[3:])
    records = [_record(book, period, r, now) for period, rows, _ in writes for r in rows]
    if records:
        await c.executemany(
            f"INSERT INTO result ({cols}) VALUES ({marks}) ON CONFLICT (book, period, unit_no) DO UPDATE"
            f" SET {sets}",
            records,
        )
    gone = [(period, no) for period, _, drop in writes for no in drop]
    if gone:
        await c.execute(
            "DELETE FROM result WHERE book = $1 AND (period, unit_no) IN"
            " (SELECT * FROM unnest($2::text[], $3::int[]))",
            book,
            [g[0] for g in gone],
            [g[1] for g in gone],
        )


async def update_ranks(c: asyncpg.Connection, book: int, period: str, rows: list[ResultRow]) -> None:
    """Write changed ranks and grades (a re-ranked category)."""
    if not rows:
        return
    await c.execute(
        "UPDATE result r SET rank = x.rank, of = x.of, grade = x.grade, threshold_grade = x.tg,"
        " in_quota = x.q, exempt = x.e, last_place = x.l, version = r.version + 1, updated_at = now()"
        " FROM unnest($3::int[], $4::int[], $5::int[], $6::text[], $7::text[], $8::bool[], $9::bool[],"
        " $10::bool[])"
        " AS x(unit_no, rank, of, grade, tg, q, e, l) WHERE r.book = $1 AND r.period = $2 AND r.unit_no ="
        " x.unit_no",
        book,
        period,
        [r.unit_no for r in rows],
        [r.rank for r in rows],
        [r.of for r in rows],
        [r.grade for r in rows],
        [r.threshold_grade for r in rows],
        [r.in_quota for r in rows],
        [r.exempt for r in rows],
        [r.last_place for r in rows],
    )


# ---------------------------------------------------------------- warnings


async def warnings(
    c: asyncpg.Connection, book: int, period: str, unit_nos: Sequence[int] | None
) -> dict[tuple[int, int], str]:
    where, args = "book = $1 AND period = $2", [book, period]
    if unit_nos is not None:
        where += " AND unit_no = ANY($3)"
        args.append(list(unit_nos))
    rows = await c.fetch(f"SELECT unit_no, code_no, level FROM warning WHERE {where}", *args)
    return {(r["unit_no"], r["code_no"]): r["level"] for r in rows}


async def exemptions_many(c: asyncpg.Connection, book: int, periods: Sequence[str]) -> dict[str, set[int]]:
    """专项考核第一 exemptions of these periods, by period."""
    out: dict[str, set[int]] = {p: set() for p in periods}
    for p, no in await c.fetch(
        "SELECT period, unit_no FROM exemption WHERE book = $1 AND period = ANY($2)", book, list(periods)
    ):
        out[p].add(no)
    return out


async def warning_rows(
    c: asyncpg.Connection, book: int, periods: Sequence[str], unit_nos: Sequence[int]
) -> dict[str, dict[tuple[int, int], tuple[str, float, float, float]]]:
    """These units' stored warnings in these periods: (level, expected, actual, lag) by (unit, code)."""
    out: dict[str, dict[tuple[int, int], tuple[str, float, float, float]]] = {p: {} for p in periods}
    rows = await c.fetch(
        "SELECT period, unit_no, code_no, level, expected, actual, lag FROM warning"
        " WHERE book = $1 AND period = ANY($2) AND unit_no = ANY($3)",
        book,
        list(periods),
        list(unit_nos),
    )
    for p, u, k, level, e, a, lag in rows:
        out[p][(u, k)] = (level, e, a, lag)
    return out


async def write_warnings(
    c: asyncpg.Connection,
    book: int,
    period: str,
    unit_nos: Sequence[int] | None,
    checks: list[Any],
    keep_raised_at: set[tuple[int, int]],
    gone: Sequence[tuple[int, int]] = (),
) -> None:
    """Replace the active warnings of the period (or of these units); unchanged ones keep raised_at.

    For some units, `gone` lists their stored warnings that are not in `checks`."""
    if unit_nos is not None:
        await merge_warnings(c, book, [(period, checks, gone)])
        return
    old = await c.fetch(
        "SELECT unit_no, code_no, raised_at FROM warning WHERE book = $1 AND period = $2", book, period
    )
    await c.execute("DELETE FROM warning WHERE book = $1 AND period = $2", book, period)
    since = {(r["unit_no"], r["code_no"]): r["raised_at"] for r in old}
    now = datetime.now(UTC)
    recs = [
        (
            book,
            period,
            w.unit_no,
            w.code_no,
            w.level,
            w.expected,
            w.actual,
            w.lag,
            since.get((w.unit_no, w.code_no), now) if (w.unit_no, w.code_no) in keep_raised_at else now,
        )
        for w in checks
    ]
    if recs:
        await c.copy_records_to_table(
            "warning",
            schema_name="scoring",
            columns=[
                "book",
                "period",
                "unit_no",
                "code_no",
                "level",
                "expected",
                "actual",
                "lag",
                "raised_at",
            ],
            records=recs,
        )


async def merge_warnings(
    c: asyncpg.Connection, book: int, writes: Sequence[tuple[str, list[Any], Sequence[tuple[int, int]]]]
) -> None:
    """Incremental, for (period, checks, gone) of several periods: the checks are upserted, touching
    only what differs, and `gone` (the units' stored warnings that are no longer raised) deleted.

    A warning whose level is unchanged keeps its raised_at (its expected/actual/lag follow the values).
    """
    checks = [(p, w) for p, found, _ in writes for w in found]
    if checks:
        await c.execute(
            "INSERT INTO warning AS w (book, period, unit_no, code_no, level, expected, actual, lag)"
            " SELECT $1, * FROM unnest($2::text[], $3::int[], $4::int[], $5::text[], $6::float8[],"
            " $7::float8[], $8::float8[]) ON CONFLICT (book, period, unit_no, code_no) DO UPDATE"
            " SET level = EXCLUDED.level, expected = EXCLUDED.expected, actual = EXCLUDED.actual,"
            " lag = EXCLUDED.lag,"
            " raised_at = CASE WHEN w.level = EXCLUDED.level THEN w.raised_at ELSE now() END"
            " WHERE (w.level, w.expected, w.actual, w.lag)"
            " IS DISTINCT FROM (EXCLUDED.level, EXCLUDED.expected, EXCLUDED.actual, EXCLUDED.lag)",
            book,
            [p for p, _ in checks],
            [w.unit_no for _, w in checks],
            [w.code_no for _, w in checks],
            [w.level for _, w in checks],
            [w.expected for _, w in checks],
            [w.actual for _, w in checks],
            [w.lag for _, w in checks],
        )
    gone = [(p, u, k) for p, _, keys in writes for u, k in keys]
    if gone:
        # the units' index ranges first (a join with unnest() is planned as a scan of the whole period)
        await c.execute(
            "DELETE FROM warning WHERE book = $1 AND period = ANY($2) AND unit_no = ANY($3)"
            " AND (period, unit_no, code_no) IN (SELECT * FROM unnest($4::text[], $5::int[], $6::int[]))",
            book,
            sorted({g[0] for g in gone}),
            sorted({g[1] for g in gone}),
            [g[0] for g in gone],
            [g[1] for g in gone],
            [g[2] for g in gone],
        )


# ---------------------------------------------------------------- events


async def emit_many(c: asyncpg.Connection, prefix: str, events: Sequence[Any]) -> None:
    """Add events to this service's outbox in the current transaction (COPY), and wake the relay."""
    if not events:
        return
    subjects = {t: nats_subject(prefix, t) for t in {e.type for e in events}}
    await c.copy_records_to_table(
        "outbox",
        schema_name="scoring",
        columns=["id", "type", "subject", "envelope"],
        records=[(e.id, e.type, subjects[e.type], e.to_bytes()) for e in events],
    )
    await c.execute("SELECT pg_notify($1, '')", notify_channel("scoring"))
