"""Bulk commit (批量入库): checked rows COPYed straight into `submission` when the period is new, else
COPY into a staging table and one INSERT … SELECT … ON CONFLICT with the checks.

Either way the same transaction writes what the import set on each value (`bulk_import_value`, the source
of the per-value history, heap + BRIN only). Events and the log are per import, not per value: the caller
writes one `bulk_import` record and one `submissions.imported` event. Ids are the import id's prefix plus
the row number, so the primary-key btree grows at one point per import instead of at 100k random ones.
Rows whose stored submission is already approved make the whole commit fail: all or nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import text
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

# First data of a period (the usual monthly case): nothing to update, so the checked rows are COPYed straight
# into `submission` and their history into `bulk_import_value`: no staging, no INSERT … SELECT; text COPY,
# which costs the client half the CPU of asyncpg's binary records here. Under a savepoint: a row inserted
# concurrently since the check fails it with a unique violation and the staged UPSERT runs instead.
SUBMISSION_COLUMNS = (
    "id", "unit_id", "scheme_id", "scheme_version", "assessing_unit", "code", "period", "value", "grade",
    "narrative", "status", "version", "review_level", "final", "flags", "submitted_by", "import_id",
    "created_at",
)  # fmt: skip
HISTORY_COLUMNS = ("import_seq", "unit_id", "code", "version", "value", "grade")
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


_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _esc(v: str) -> str:
    return v.translate(_ESCAPE) if ("\\" in v or "\t" in v or "\n" in v or "\r" in v) else v


def fresh_payload(rows: list[CopyRow], start: int, p: dict[str, Any], now: datetime) -> tuple[bytes, bytes]:
    """(submission, history) as COPY text: one f-string per row, the import's constants joined once."""
    period = contract_period(rows[0].period) if rows else ""
    prefix = _esc(p["id_prefix"])
    mid = f"\t{_esc(p['scheme_id'])}\t{p['scheme_version']}\t{_esc(p['au'])}\t"
    tail = f"\tsubmitted\t1\t0\tf\t[]\t{_esc(p['actor'])}\t{_esc(p['import_id'])}\t{now.isoformat()}\n"
    per, seq = _esc(period), p["seq"]
    subs: list[str] = []
    hist: list[str] = []
    for n, (unit, code, _, value, note) in enumerate(rows, start):
        unit, code = _esc(unit), _esc(code)
        vg = f"{value!r}\t\\N" if isinstance(value, float) else f"\\N\t{_esc(value)}"
        subs.append(f"{prefix}{n:08x}\t{unit}{mid}{code}\t{per}\t{vg}\t{_esc(note)}{tail}")
        hist.append(f"{seq}\t{unit}\t{code}\t1\t{vg}\n")
    return "".join(subs).encode(), "".join(hist).encode()


async def _source(data: bytes) -> Any:
    yield data


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
        self.staged = False  # the temp staging table exists in this transaction
        self.now = datetime.now().astimezone()

    async def _copy_fresh(self, apg: Any, rows: list[CopyRow]) -> bool:
        """COPY the rows straight in; False (nothing written) when a concurrent import got there first."""
        subs, hist = fresh_payload(rows, self.written, self.params, self.now)
        await apg.execute("SAVEPOINT bulk_fresh")
        try:
            await apg.copy_to_table("submission", source=_source(subs), columns=SUBMISSION_COLUMNS)
            await apg.copy_to_table("bulk_import_value", source=_source(hist), columns=HISTORY_COLUMNS)
        except asyncpg.UniqueViolationError:
            await apg.execute("ROLLBACK TO SAVEPOINT bulk_fresh")
            self.fresh = False  # another import of this period committed meanwhile: UPSERT from now on
            return False
        await apg.execute("RELEASE SAVEPOINT bulk_fresh")
        self.written += len(rows)
        return True

    async def add(self, rows: list[CopyRow]) -> None:
        """Stage and write one chunk; a row locked meanwhile raises `submission_locked`."""
        if not rows:
            return
        apg = await raw_connection(self.s)
        if self.fresh is None:
            codes = sorted({r.indicator_code for r in rows})
            period = contract_period(rows[0].period)
            found = await self.s.execute(
                text(ANY_STORED), {"au": self.assessing_unit, "period": period, "codes": codes}
            )
            self.fresh = not found.scalar()
        if self.fresh and await self._copy_fresh(apg, rows):
            return
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
