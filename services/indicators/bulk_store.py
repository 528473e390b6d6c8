"""Bulk commit (批量入库): COPY into a staging table, then one INSERT … SELECT with the checks.

The same statement writes the submissions and what the import set on each (`bulk_import_value`, the source
of the per-value history, heap + BRIN only). Events and the log are per import, not per value: the caller
writes one `bulk_import` record and one `submissions.imported` event. Ids are the import id's prefix plus
the row number, so the primary-key btree grows at one point per import instead of at 100k random ones.
Rows whose stored submission is already approved make the whole commit fail: all or nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.errors import Conflict
from services.indicators.domain import CopyRow

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
  RETURNING t.unit_id, t.code, t.value, t.grade, t.version
), hist AS (
  INSERT INTO bulk_import_value (import_seq, unit_id, code, version, value, grade)
  SELECT CAST(:seq AS bigint), unit_id, code, version, value, grade FROM up
)
SELECT count(*) FROM up
"""

# First data of a period (the usual monthly case): nothing to update, so a plain INSERT without the
# speculative ON CONFLICT path, and the history straight from the stage. Run under a savepoint: a row
# inserted concurrently since the check makes it fail with a unique violation and the UPSERT runs instead.
FRESH = """
INSERT INTO submission (id, unit_id, scheme_id, scheme_version, assessing_unit, code, period, value, grade,
                        narrative, status, version, review_level, final, flags, submitted_by, import_id,
                        created_at)
SELECT CAST(:id_prefix AS text) || lpad(to_hex(s.n), 8, '0'), s.unit_id, CAST(:scheme_id AS text),
       CAST(:scheme_version AS int), CAST(:au AS text), s.code, s.period, s.value, s.grade, s.note,
       'submitted', 1, 0, false, '[]', CAST(:actor AS text), CAST(:import_id AS text), now()
FROM bulk_rows s ORDER BY s.n
"""
FRESH_HISTORY = """
INSERT INTO bulk_import_value (import_seq, unit_id, code, version, value, grade)
SELECT CAST(:seq AS bigint), unit_id, code, 1, value, grade FROM bulk_rows
"""
ANY_STORED = """
SELECT EXISTS (SELECT 1 FROM submission
               WHERE assessing_unit = :au AND period = :period AND code = ANY(:codes))
"""


def contract_period(period: str) -> str:
    """The domain's canonical 2026Q1 / 2026H1 as the API and events spell it: 2026-Q1 / 2026-H1."""
    return f"{period[:4]}-{period[4:]}" if len(period) == 6 else period


def stage_records(rows: list[CopyRow], start: int = 0) -> list[tuple[Any, ...]]:
    period = contract_period(rows[0].period) if rows else ""  # one period per file
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


async def raw_connection(s: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction (for COPY)."""
    conn = await s.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection


class Writer:
    """Writes an import's rows chunk by chunk inside the caller's transaction (all or nothing at commit)."""

    def __init__(
        self,
        s: AsyncSession,
        *,
        scheme_id: str,
        scheme_version: int,
        assessing_unit: str,
        actor: str,
        import_id: str,
        import_seq: int,
    ) -> None:
        self.s = s
        self.assessing_unit = assessing_unit
        self.import_seq = import_seq
        self.params = {
            "id_prefix": import_id[:24],
            "import_id": import_id,
            "seq": import_seq,
            "scheme_id": scheme_id,
            "scheme_version": scheme_version,
            "au": assessing_unit,
            "actor": actor,
        }
        self.written = 0  # rows written so far; also the next row number
        self.fresh: bool | None = None  # decided on the first chunk

    async def add(self, rows: list[CopyRow]) -> None:
        """Stage and write one chunk; a row locked meanwhile raises `submission_locked`."""
        if not rows:
            return
        apg = await raw_connection(self.s)
        if self.fresh is None:
            await apg.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (n int, unit_id text, code text, period text,"
                " value float8, grade text, note text) ON COMMIT DELETE ROWS"
            )
            codes = sorted({r.indicator_code for r in rows})
            period = contract_period(rows[0].period)
            found = await self.s.execute(
                text(ANY_STORED), {"au": self.assessing_unit, "period": period, "codes": codes}
            )
            self.fresh = not found.scalar()
        else:
            await apg.execute(f"TRUNCATE {STAGE}")
        await apg.copy_records_to_table(
            STAGE, records=stage_records(rows, self.written), columns=STAGE_COLUMNS
        )
        if self.fresh:
            try:
                async with self.s.begin_nested():
                    await self.s.execute(text(FRESH), self.params)
                    await self.s.execute(text(FRESH_HISTORY), {"seq": self.import_seq})
                self.written += len(rows)
                return
            except IntegrityError:
                self.fresh = False  # another import of this period committed meanwhile: UPSERT from now on
        written = int((await self.s.execute(text(UPSERT), self.params)).scalar_one())
        if written != len(rows):
            # a row became approved between the dry run and this commit: nothing is written
            raise Conflict(
                f"{len(rows) - written} row(s) were approved meanwhile and are locked; run the dry run again",
                field="rows",
                code="submission_locked",
            )
        self.written += written


async def import_history(
    s: AsyncSession, *, unit_id: str, assessing_unit: str, code: str, period: str
) -> list[Any]:
    """What each import wrote on one submission (its history entries from bulk imports), oldest first."""
    rows = await s.execute(
        text(
            "SELECT v.version, b.created_by, b.created_at, v.value, v.grade FROM bulk_import b"
            " JOIN bulk_import_value v ON v.import_seq = b.seq"
            " WHERE b.assessing_unit = :a AND b.period = :p AND v.unit_id = :u AND v.code = :c"
            " ORDER BY v.version"
        ),
        {"a": assessing_unit, "p": period, "u": unit_id, "c": code},
    )
    return list(rows)
