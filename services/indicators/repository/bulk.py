"""Bulk commit (批量入库): checked rows COPYed straight into `submission` when the period is new, else
COPY into a staging table and one INSERT … SELECT … ON CONFLICT with the checks.

Each written row names its import (`import_id`): the submission itself records what the latest import wrote.
Only when a value an import wrote is replaced (by a later import or by hand) does the database keep its
pre-image in `bulk_import_value` (trigger `submission_import_preimage`, migration 0004), so the usual first
import of a period writes nothing but the submissions. Events and the log are per import, not per value:
the caller writes one `bulk_import` record and one `submissions.imported` event. Ids are the import id's
prefix plus the row number, so the primary-key btree grows at one point per import instead of at 100k
random ones. Rows whose stored submission is already approved make the whole commit fail: all or nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.errors import Conflict
from services.indicators.domain import CopyRow
from services.indicators.errors import IndicatorsErrorCode

STAGE = "bulk_rows"
STAGE_COLUMNS = ("n", "unit_id", "code", "period", "value", "grade", "note")

UPSERT = """
WITH up AS (
  INSERT INTO submission AS t (id, unit_id, scheme_id, scheme_version, assessing_unit, code, period, value,
                               grade, narrative, status, version, review_level, final, flags, submitted_by,
                               import_id, created_at)
  SELECT CAST(:id_prefix AS text) || lpad(to_hex(s.n), 8, '0'), s.unit_id, CAST(:scheme_id AS text),
         CAST(:scheme_version AS int), CAST(:au AS text), s.code, s.period, s.value, s.grade, s.note,
         'submitted', 1, 0, false, '[]', CAST(:actor AS text), CAST(:import_id AS text), now()
  FROM bulk_rows s ORDER BY s.n
  ON CONFLICT (unit_id, assessing_unit, code, period) DO UPDATE
    SET value = EXCLUDED.value, grade = EXCLUDED.grade, narrative = EXCLUDED.narrative, status = 'submitted',
        version = t.version + 1, review_level = 0, final = false, reason = NULL, flags = '[]',
        import_id = EXCLUDED.import_id, submitted_by = EXCLUDED.submitted_by,
        scheme_id = EXCLUDED.scheme_id, scheme_version = EXCLUDED.scheme_version
    WHERE t.status IN ('submitted', 'rejected', 'reopened')
  RETURNING 1
)
SELECT count(*) FROM up
"""

# First data of a period (the usual monthly case): nothing to update, so the checked rows are COPYed straight
# into `submission`: no staging, no INSERT … SELECT, no history rows; text COPY, which costs the client half
# the CPU of asyncpg's binary records here. The constant columns (status 'submitted', version 1, review
# level 0, not final, no flags, created now) are left to the column defaults, so PostgreSQL parses 12 fields
# per row instead of 18. One COPY for the whole import, under a savepoint: a row inserted concurrently since
# the check fails it with a unique violation, and then every row goes through the staged UPSERT instead.
SUBMISSION_COLUMNS = (
    "id", "unit_id", "scheme_id", "scheme_version", "assessing_unit", "code", "period", "value", "grade",
    "narrative", "submitted_by", "import_id",
)  # fmt: skip
IMPORT_HISTORY = """
SELECT v.version, b.created_by, b.created_at, v.value, v.grade FROM bulk_import b
JOIN bulk_import_value v ON v.import_seq = b.seq
WHERE b.assessing_unit = :a AND b.period = :p AND v.unit_id = :u AND v.code = :c
UNION ALL
SELECT import_version(t.id, t.version), b.created_by, b.created_at, t.value, t.grade FROM submission t
JOIN bulk_import b ON b.assessing_unit = t.assessing_unit AND b.period = t.period AND b.id = t.import_id
WHERE t.unit_id = :u AND t.assessing_unit = :a AND t.code = :c AND t.period = :p
ORDER BY 1
"""
ANY_STORED = """
SELECT EXISTS (SELECT 1 FROM submission
               WHERE assessing_unit = :au AND period = :period AND code = ANY(:codes))
"""


def stage_records(rows: list[CopyRow], start: int = 0) -> list[tuple[Any, ...]]:
    period = rows[0].period if rows else ""  # one period per file
    return [
        (
            n,
            r.unit_id,
            r.indicator_code,
            period,
            r.value if isinstance(r.value, float) else None,
            r.value if isinstance(r.value, str) else None,
            r.note,
        )
        for n, r in enumerate(rows, start)
    ]


_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _esc(v: str) -> str:
    return v.translate(_ESCAPE) if ("\\" in v or "\t" in v or "\n" in v or "\r" in v) else v


def fresh_payload(rows: list[CopyRow], start: int, p: dict[str, Any]) -> bytes:
    """SUBMISSION_COLUMNS as COPY text: one f-string per row, the import's constants joined once."""
    period = rows[0].period if rows else ""
    prefix = _esc(p["id_prefix"])
    mid = f"\t{_esc(p['scheme_id'])}\t{p['scheme_version']}\t{_esc(p['au'])}\t"
    tail = f"\t{_esc(p['actor'])}\t{_esc(p['import_id'])}\n"
    per = _esc(period)
    subs: list[str] = []
    for n, (unit, code, _, value, note) in enumerate(rows, start):
        vg = f"{value!r}\t\\N" if isinstance(value, float) else f"\\N\t{_esc(value)}"
        subs.append(f"{prefix}{n:08x}\t{_esc(unit)}{mid}{_esc(code)}\t{per}\t{vg}\t{_esc(note)}{tail}")
    return "".join(subs).encode()


async def raw_connection(s: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction (for COPY)."""
    conn = await s.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection


class Writer:
    """Writes an import's rows as the parser streams them, inside the caller's transaction (all or nothing
    at commit): one COPY for the whole import when the period is new, else the staged UPSERT per chunk."""

    def __init__(
        self,
        s: AsyncSession,
        *,
        scheme_id: str,
        scheme_version: int,
        assessing_unit: str,
        actor: str,
        import_id: str,
    ) -> None:
        self.s = s
        self.assessing_unit = assessing_unit
        self.params = {
            "id_prefix": import_id[:24],
            "import_id": import_id,
            "scheme_id": scheme_id,
            "scheme_version": scheme_version,
            "au": assessing_unit,
            "actor": actor,
        }
        self.written = 0  # rows written so far; also the next row number
        self.fresh: bool | None = None  # decided on the first chunk
        self.staged = False  # the temp staging table exists in this transaction

    async def write(self, chunks: AsyncIterator[list[CopyRow]]) -> None:
        """Write every chunk until the iterator ends; a row locked meanwhile raises `submission_locked`."""
        first = await anext(chunks, None)
        if first is None:
            return
        if self.fresh is None:
            found = await self.s.execute(
                text(ANY_STORED),
                {
                    "au": self.assessing_unit,
                    "period": first[0].period,
                    "codes": sorted({r.indicator_code for r in first}),
                },
            )
            self.fresh = not found.scalar()
        if self.fresh:
            taken = await self._copy_fresh(first, chunks)
            if taken is None:
                return
            for rows in taken:  # a concurrent import got there first: the same rows through the UPSERT
                await self._upsert(rows)
        else:
            await self._upsert(first)
        async for rows in chunks:  # what the UPSERT has still to write (nothing after a finished COPY)
            await self._upsert(rows)

    async def _copy_fresh(
        self, first: list[CopyRow], rest: AsyncIterator[list[CopyRow]]
    ) -> list[list[CopyRow]] | None:
        """One COPY fed chunk by chunk while parsing goes on, so PostgreSQL never waits for a round trip;
        under a savepoint. None when written, else (nothing written) every chunk taken from the iterator."""
        taken: list[list[CopyRow]] = []

        async def source() -> AsyncIterator[bytes]:
            n = self.written
            rows: list[CopyRow] | None = first
            while rows is not None:
                taken.append(rows)
                yield fresh_payload(rows, n, self.params)
                n += len(rows)
                rows = await anext(rest, None)

        apg = await raw_connection(self.s)
        await apg.execute("SAVEPOINT bulk_fresh")
        try:
            await apg.copy_to_table("submission", source=source(), columns=SUBMISSION_COLUMNS)
        except asyncpg.UniqueViolationError:
            await apg.execute("ROLLBACK TO SAVEPOINT bulk_fresh")
            self.fresh = False  # another import of this period committed meanwhile: UPSERT from now on
            return taken
        await apg.execute("RELEASE SAVEPOINT bulk_fresh")
        self.written += sum(len(rows) for rows in taken)
        return None

    async def _upsert(self, rows: list[CopyRow]) -> None:
        """Stage one chunk and write it with the checks."""
        if not rows:
            return
        apg = await raw_connection(self.s)
        if not self.staged:
            await apg.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (n int, unit_id text, code text, period text,"
                " value float8, grade text, note text) ON COMMIT DELETE ROWS"
            )
            self.staged = True
        await apg.execute(f"TRUNCATE {STAGE}")
        await apg.copy_records_to_table(
            STAGE, records=stage_records(rows, self.written), columns=STAGE_COLUMNS
        )
        written = int((await self.s.execute(text(UPSERT), self.params)).scalar_one())
        if written != len(rows):
            # a row became approved between the dry run and this commit: nothing is written
            raise Conflict(
                f"{len(rows) - written} row(s) were approved meanwhile and are locked; run the dry run again",
                field="rows",
                code=IndicatorsErrorCode.SUBMISSION_LOCKED,
            )
        self.written += written


async def import_history(
    s: AsyncSession, *, unit_id: str, assessing_unit: str, code: str, period: str
) -> list[Any]:
    """What each import wrote on one submission (its history entries from bulk imports), oldest first: the
    pre-images of replaced import values, then the import whose value the submission still holds."""
    rows = await s.execute(text(IMPORT_HISTORY), {"a": assessing_unit, "p": period, "u": unit_id, "c": code})
    return list(rows)
