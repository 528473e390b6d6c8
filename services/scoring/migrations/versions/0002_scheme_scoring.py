"""scoring: results books, schemes, values, results, warnings, jobs, objections, snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlmodel  # noqa: F401
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Units and indicator codes are interned per results book (unit_no, code_no): the value table holds
# millions of rows and is read with binary COPY into fixed-width numpy records.
DDL = """
CREATE TABLE scoring.book (
    id serial PRIMARY KEY,
    assessing_unit varchar(40) NOT NULL,
    year int NOT NULL,
    scheme_id varchar(64),
    scheme_version int,
    config jsonb,
    stamp int NOT NULL DEFAULT 0,
    UNIQUE (assessing_unit, year)
);
CREATE TABLE scoring.scheme (
    scheme_id varchar(64) PRIMARY KEY,
    book int NOT NULL REFERENCES scoring.book(id),
    version int NOT NULL,
    body jsonb NOT NULL,
    published_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE scoring.book_unit (
    book int NOT NULL,
    unit_no int NOT NULL,
    unit_id varchar(40) NOT NULL,
    name varchar(200) NOT NULL DEFAULT '',
    path varchar(1000) NOT NULL,
    category varchar(100) NOT NULL DEFAULT '',
    assessed boolean NOT NULL DEFAULT true,
    PRIMARY KEY (book, unit_no),
    UNIQUE (book, unit_id)
);
CREATE INDEX book_unit_unit_id ON scoring.book_unit (unit_id);
CREATE INDEX book_unit_path ON scoring.book_unit (path text_pattern_ops);
CREATE TABLE scoring.book_code (
    book int NOT NULL,
    code_no int NOT NULL,
    code varchar(64) NOT NULL,
    PRIMARY KEY (book, code_no),
    UNIQUE (book, code)
);
CREATE TABLE scoring.value (
    book int NOT NULL,
    unit_no int NOT NULL,
    code_no int NOT NULL,
    period varchar(12) NOT NULL,
    value float8,
    grade varchar(40),
    revision int NOT NULL DEFAULT 0,
    withdrawn boolean NOT NULL DEFAULT false,
    submission_id varchar(64),
    evidence jsonb,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (book, period, unit_no, code_no)
);
CREATE TABLE scoring.supervision (
    unit_id varchar(40) NOT NULL,
    period varchar(12) NOT NULL,
    unit_path varchar(1000) NOT NULL,
    score float8 NOT NULL,
    items int NOT NULL DEFAULT 0,
    revision int NOT NULL DEFAULT 0,
    details jsonb,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, period)
);
CREATE TABLE scoring.result (
    book int NOT NULL,
    period varchar(12) NOT NULL,
    unit_no int NOT NULL,
    category varchar(100) NOT NULL,
    grp varchar(140) NOT NULL,
    kind varchar(10) NOT NULL,
    total float8 NOT NULL,
    indicators float8 NOT NULL,
    supervision float8 NOT NULL,
    bonus float8 NOT NULL,
    penalty float8 NOT NULL,
    coefficient float8 NOT NULL,
    leaves int NOT NULL,
    veto_grade varchar(10),
    l1 float8[] NOT NULL,
    parts float8[],
    colour varchar(10),
    checks int NOT NULL DEFAULT 0,
    rank int,
    of int,
    grade varchar(10),
    threshold_grade varchar(10),
    in_quota boolean NOT NULL DEFAULT false,
    exempt boolean NOT NULL DEFAULT false,
    last_place boolean NOT NULL DEFAULT false,
    version int NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (book, period, unit_no)
);
CREATE INDEX result_rank ON scoring.result (book, period, category, rank);
CREATE TABLE scoring.warning (
    book int NOT NULL,
    period varchar(12) NOT NULL,
    unit_no int NOT NULL,
    code_no int NOT NULL,
    level varchar(10) NOT NULL,
    expected float8 NOT NULL,
    actual float8 NOT NULL,
    lag float8 NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (book, period, unit_no, code_no)
);
-- An append-only queue: consumers never wait on rows the scorer has claimed in its open transaction.
CREATE TABLE scoring.dirty (
    id bigserial PRIMARY KEY,
    book int NOT NULL,
    unit_no int NOT NULL,
    period varchar(12) NOT NULL,
    cause_event varchar(64),
    queued_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE scoring.exemption (
    book int NOT NULL,
    period varchar(12) NOT NULL,
    unit_no int NOT NULL,
    reason text NOT NULL DEFAULT '',
    PRIMARY KEY (book, period, unit_no)
);
CREATE TABLE scoring.aspect_score (
    book int NOT NULL,
    period varchar(12) NOT NULL,
    unit_no int NOT NULL,
    code varchar(64) NOT NULL,
    value float8 NOT NULL,
    PRIMARY KEY (book, period, unit_no, code)
);
CREATE TABLE scoring.job (
    id varchar(40) PRIMARY KEY,
    book int NOT NULL,
    scheme_id varchar(64) NOT NULL,
    period varchar(12) NOT NULL,
    status varchar(10) NOT NULL,
    stage varchar(10) NOT NULL DEFAULT 'loading',
    done_units int NOT NULL DEFAULT 0,
    total_units int NOT NULL DEFAULT 0,
    error text,
    requested_by varchar(100) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE TABLE scoring.results_state (
    book int NOT NULL,
    period varchar(12) NOT NULL,
    window_until timestamptz,
    snapshot_id varchar(40),
    digest varchar(64),
    published_at timestamptz,
    published_by varchar(100),
    PRIMARY KEY (book, period)
);
CREATE TABLE scoring.objection (
    id varchar(40) PRIMARY KEY,
    book int NOT NULL,
    period varchar(12) NOT NULL,
    unit_no int NOT NULL,
    unit_id varchar(40) NOT NULL,
    unit_path varchar(1000) NOT NULL,
    codes jsonb NOT NULL,
    reason text NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'open',
    answer text,
    decision varchar(10),
    created_by varchar(100) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    answered_by varchar(100),
    answered_at timestamptz
);
CREATE INDEX objection_period ON scoring.objection (book, period, created_at);
CREATE TABLE scoring.snapshot (
    id varchar(40) PRIMARY KEY,
    book int NOT NULL,
    period varchar(12) NOT NULL,
    digest varchar(64) NOT NULL,
    rows jsonb NOT NULL,
    published_at timestamptz NOT NULL,
    published_by varchar(100) NOT NULL,
    UNIQUE (book, period)
);
-- A published snapshot is a tamper-evident record: the database itself refuses to change it.
CREATE FUNCTION scoring.snapshot_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'published results snapshots are immutable' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER snapshot_immutable BEFORE UPDATE OR DELETE ON scoring.snapshot
    FOR EACH ROW EXECUTE FUNCTION scoring.snapshot_immutable();
"""

TABLES = (
    "snapshot objection results_state job aspect_score exemption dirty warning result supervision value "
    "book_code book_unit scheme book"
).split()


def statements(ddl: str) -> list[str]:
    """Split the DDL into single statements (the driver prepares one at a time); $$ bodies stay whole."""
    out, cur, quoted = [], [], False
    for line in ddl.strip().splitlines():
        cur.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if line.rstrip().endswith(";") and not quoted:
            out.append("\n".join(cur))
            cur = []
    return out


def upgrade() -> None:
    for stmt in statements(DDL):
        op.execute(stmt)


def downgrade() -> None:
    for t in TABLES:
        op.execute(f"DROP TABLE IF EXISTS scoring.{t}")
    op.execute("DROP FUNCTION IF EXISTS scoring.snapshot_immutable()")
