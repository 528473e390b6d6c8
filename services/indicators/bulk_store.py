"""Bulk commit (批量入库): COPY into a staging table, then one INSERT … SELECT with the checks.

The same statement writes the submissions, their log rows and one `submission.submitted` outbox event per
row (the envelope built in SQL), so 100k values cost a few set-based statements, not 100k round trips.
Rows whose stored submission is already approved make the whole commit fail: all or nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from kaohe.errors import Conflict
from kaohe.events import event_type, nats_subject, notify_channel
from services.indicators.domain import CopyRow

STAGE_COLUMNS = ("unit_id", "code", "period", "value", "grade", "note")

UPSERT = """
WITH up AS (
  INSERT INTO submission AS t (id, unit_id, scheme_id, scheme_version, assessing_unit, code, period, value,
                               grade, narrative, status, version, review_level, final, flags, submitted_by,
                               import_id, created_at)
  SELECT md5(CAST(:import_id AS text) || s.unit_id || '|' || s.code), s.unit_id, CAST(:scheme_id AS text),
         CAST(:scheme_version AS int), CAST(:au AS text), s.code, s.period, s.value, s.grade, s.note,
         'submitted', 1, 0, false, '[]', CAST(:actor AS text), CAST(:import_id AS text), now()
  FROM bulk_stage s
  ON CONFLICT (unit_id, assessing_unit, code, period) DO UPDATE
    SET value = EXCLUDED.value, grade = EXCLUDED.grade, narrative = EXCLUDED.narrative, status = 'submitted',
        version = t.version + 1, review_level = 0, final = false, reason = NULL, flags = '[]',
        import_id = EXCLUDED.import_id, submitted_by = EXCLUDED.submitted_by,
        scheme_id = EXCLUDED.scheme_id, scheme_version = EXCLUDED.scheme_version
    WHERE t.status IN ('submitted', 'rejected', 'reopened')
  RETURNING t.id, t.unit_id, t.code, t.period, t.value, t.grade, t.version
), lg AS (
  INSERT INTO submission_log (submission_id, version, action, actor, value, grade)
  SELECT id, version, 'submitted', CAST(:actor AS text), value, grade FROM up
), ev AS (
  INSERT INTO outbox (id, type, subject, envelope)
  SELECT e.eid, CAST(:etype AS text), CAST(:subject AS text), convert_to(json_build_object(
      'specversion', '1.0', 'id', e.eid, 'source', '/kaohe/indicators', 'type', CAST(:etype AS text),
      'subject', e.id,
      'time', now(), 'datacontenttype', 'application/json', 'data', json_build_object(
        'submission_id', e.id, 'unit_id', e.unit_id, 'unit_path', u.path,
        'scheme_id', CAST(:scheme_id AS text), 'scheme_version', CAST(:scheme_version AS int),
        'assessing_unit', CAST(:au AS text), 'year', CAST(:year AS int), 'code', e.code,
        'indicator_code', e.code, 'period', e.period, 'value', e.value, 'grade', e.grade,
        'revision', e.version, 'evidence', json_build_array(), 'actor', CAST(:actor AS text), 'at', now(),
        'review_level', 0, 'final', false, 'import_id', CAST(:import_id AS text)))::text, 'UTF8')
  FROM (SELECT up.*, gen_random_uuid()::text AS eid FROM up) e JOIN unit u ON u.id = e.unit_id
)
SELECT count(*) FROM up
"""


def contract_period(period: str) -> str:
    """The domain's canonical 2026Q1 / 2026H1 as the API and events spell it: 2026-Q1 / 2026-H1."""
    return f"{period[:4]}-{period[4:]}" if len(period) == 6 else period


def stage_records(rows: list[CopyRow]) -> list[tuple[Any, ...]]:
    period = contract_period(rows[0].period) if rows else ""  # one period per file
    return [
        (
            r.unit_id,
            r.indicator_code,
            period,
            r.value if isinstance(r.value, float) else None,
            r.value if isinstance(r.value, str) else None,
            r.note,
        )
        for r in rows
    ]


async def raw_connection(s: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction (for COPY)."""
    conn = await s.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection


async def commit_rows(
    s: AsyncSession,
    rows: list[CopyRow],
    *,
    prefix: str,
    scheme_id: str,
    scheme_version: int,
    assessing_unit: str,
    actor: str,
    import_id: str,
) -> int:
    """Write all rows or none; returns the number written. Runs inside the caller's transaction."""
    apg = await raw_connection(s)
    await apg.execute(
        "CREATE TEMP TABLE IF NOT EXISTS bulk_stage (unit_id text, code text, period text, value float8,"
        " grade text, note text) ON COMMIT DELETE ROWS"
    )
    await apg.copy_records_to_table("bulk_stage", records=stage_records(rows), columns=STAGE_COLUMNS)
    etype = event_type("indicators", "submission", "submitted")
    res = await s.execute(
        text(UPSERT),
        {
            "import_id": import_id,
            "scheme_id": scheme_id,
            "scheme_version": scheme_version,
            "au": assessing_unit,
            "actor": actor,
            "etype": etype,
            "subject": nats_subject(prefix, etype),
            "year": int(rows[0].period[:4]),
        },
    )
    written = int(res.scalar_one())
    if written != len(rows):
        # a row became approved between the dry run and this commit: nothing is written
        raise Conflict(
            f"{len(rows) - written} row(s) were approved meanwhile and are locked; run the dry run again",
            field="rows",
            code="submission_locked",
        )
    await s.execute(text("SELECT pg_notify(:ch, '')"), {"ch": notify_channel("indicators")})
    return written
