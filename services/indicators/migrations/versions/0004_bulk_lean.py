"""indicators: submission server defaults; bulk history kept only for values an import no longer holds

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
S = "indicators"

# Constants of a new submission: the fresh bulk COPY leaves them to these defaults instead of sending (and
# having PostgreSQL parse) the same text 100k times. review_level, final and flags have defaults since 0002.
DEFAULTS = {"status": "'submitted'", "version": "1", "narrative": "''", "created_at": "now()"}

# The version an import wrote on a submission: every later version (review, hand edit) is in submission_log,
# so it is the newest version at or below `v` without a log entry.
IMPORT_VERSION = f"""
CREATE FUNCTION {S}.import_version(sid text, v int) RETURNS int LANGUAGE sql STABLE AS $$
  SELECT max(g) FROM generate_series(1, v) AS g
  WHERE NOT EXISTS (SELECT 1 FROM {S}.submission_log l WHERE l.submission_id = sid AND l.version = g)
$$
"""

# `submission.import_id` names the import whose value the row holds. When that value is replaced (by another
# import or by hand) its pre-image becomes a `bulk_import_value` row, and a hand edit clears import_id. So a
# fresh import writes no history rows at all, and a submission's import history is those rows plus the row.
PREIMAGE = f"""
CREATE FUNCTION {S}.submission_import_preimage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {S}.bulk_import_value (import_seq, unit_id, code, version, value, grade)
  SELECT b.seq, OLD.unit_id, OLD.code, {S}.import_version(OLD.id, OLD.version), OLD.value, OLD.grade
  FROM {S}.bulk_import b
  WHERE b.assessing_unit = OLD.assessing_unit AND b.period = OLD.period AND b.id = OLD.import_id;
  IF NEW.import_id IS NOT DISTINCT FROM OLD.import_id THEN
    NEW.import_id := NULL;  -- changed by hand: the row no longer holds what the import wrote
  END IF;
  RETURN NEW;
END
$$
"""
TRIGGER = f"""
CREATE TRIGGER submission_import_preimage BEFORE UPDATE ON {S}.submission FOR EACH ROW
WHEN (OLD.import_id IS NOT NULL AND (NEW.import_id IS DISTINCT FROM OLD.import_id
      OR NEW.value IS DISTINCT FROM OLD.value OR NEW.grade IS DISTINCT FROM OLD.grade))
EXECUTE FUNCTION {S}.submission_import_preimage()
"""


def upgrade() -> None:
    for c, d in DEFAULTS.items():
        op.execute(f"ALTER TABLE {S}.submission ALTER COLUMN {c} SET DEFAULT {d}")
    op.execute(IMPORT_VERSION)
    op.execute(PREIMAGE)
    # Existing history: a row that still holds its import's value is represented by the submission itself;
    # one changed by hand since keeps its history row and no longer names the import.
    op.execute(
        f"""
        UPDATE {S}.submission s SET import_id = NULL FROM {S}.bulk_import b, {S}.bulk_import_value v
        WHERE b.assessing_unit = s.assessing_unit AND b.period = s.period AND b.id = s.import_id
          AND v.import_seq = b.seq AND v.unit_id = s.unit_id AND v.code = s.code
          AND (v.value IS DISTINCT FROM s.value OR v.grade IS DISTINCT FROM s.grade)
        """
    )
    op.execute(
        f"""
        DELETE FROM {S}.bulk_import_value v USING {S}.bulk_import b, {S}.submission s
        WHERE v.import_seq = b.seq AND b.assessing_unit = s.assessing_unit AND b.period = s.period
          AND b.id = s.import_id AND v.unit_id = s.unit_id AND v.code = s.code
        """
    )
    op.execute(TRIGGER)  # after the data changes above, which must not record pre-images


def downgrade() -> None:
    op.execute(f"DROP TRIGGER submission_import_preimage ON {S}.submission")
    op.execute(
        f"""
        INSERT INTO {S}.bulk_import_value (import_seq, unit_id, code, version, value, grade)
        SELECT b.seq, s.unit_id, s.code, {S}.import_version(s.id, s.version), s.value, s.grade
        FROM {S}.submission s JOIN {S}.bulk_import b
          ON b.assessing_unit = s.assessing_unit AND b.period = s.period AND b.id = s.import_id
        """
    )
    op.execute(f"DROP FUNCTION {S}.submission_import_preimage()")
    op.execute(f"DROP FUNCTION {S}.import_version(text, int)")
    for c in DEFAULTS:
        op.execute(f"ALTER TABLE {S}.submission ALTER COLUMN {c} DROP DEFAULT")
