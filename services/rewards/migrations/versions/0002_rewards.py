"""rewards: units, cadre registry, rule sets, snapshots, proposals, reviews, the hash-chained ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

import sqlmodel  # noqa: F401
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Money is bigint fen. A proposal line's inputs are `json` (stored as written, not parsed into jsonb):
# hundreds of thousands of lines are COPYed per published period and only ever read back whole. The ledger is append-only: a trigger refuses UPDATE and DELETE (and TRUNCATE), so
# a correction is always a reversing entry; `ledger_head` keeps each holder's last hash apart from it.
DDL = """
DROP TABLE rewards.result_record;
CREATE TABLE rewards.unit (
    unit_id varchar(40) PRIMARY KEY,
    path varchar(1000) NOT NULL,
    name varchar(200),
    unit_kind varchar(40),
    revision int NOT NULL DEFAULT 0
);
CREATE INDEX unit_path ON rewards.unit (path COLLATE "C");
CREATE TABLE rewards.scheme (
    scheme_id varchar(64) PRIMARY KEY,
    assessing_unit varchar(40) NOT NULL,
    year int NOT NULL
);
CREATE TABLE rewards.person (
    person_key char(25) PRIMARY KEY,
    id_hmac char(64) NOT NULL UNIQUE,
    name varchar(50) NOT NULL,
    account varchar(128),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX person_account ON rewards.person (account) WHERE account IS NOT NULL;
CREATE TABLE rewards.post (
    post_id bigserial PRIMARY KEY,
    person_key char(25) NOT NULL REFERENCES rewards.person,
    unit_id varchar(40) NOT NULL,
    post varchar(10) NOT NULL CHECK (post IN ('主要负责人', '班子成员', '一般干部')),
    rank varchar(20) NOT NULL,
    monthly_pay_fen bigint NOT NULL CHECK (monthly_pay_fen >= 0),
    valid_from date NOT NULL,
    valid_to date,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX post_unit ON rewards.post (unit_id, valid_from);
CREATE INDEX post_person ON rewards.post (person_key, valid_from);
CREATE TABLE rewards.person_grade (
    person_key char(25) NOT NULL REFERENCES rewards.person,
    period varchar(7) NOT NULL,
    grade varchar(4),
    PRIMARY KEY (person_key, period)
);
CREATE INDEX person_grade_period ON rewards.person_grade (period);
CREATE TABLE rewards.unit_pool (
    unit_id varchar(40) NOT NULL,
    period varchar(7) NOT NULL,
    pool_fen bigint NOT NULL CHECK (pool_fen >= 0),
    PRIMARY KEY (unit_id, period)
);
CREATE TABLE rewards.ruleset (
    assessing_unit varchar(40) NOT NULL,
    year int NOT NULL,
    version int NOT NULL,
    status varchar(8) NOT NULL CHECK (status IN ('draft', 'active', 'retired')),
    rules jsonb NOT NULL,
    digest char(64) NOT NULL,
    revision int NOT NULL DEFAULT 0,
    used boolean NOT NULL DEFAULT false,
    created_by varchar(128) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    activated_at timestamptz,
    PRIMARY KEY (assessing_unit, year, version)
);
CREATE UNIQUE INDEX ruleset_one_active ON rewards.ruleset (assessing_unit, year) WHERE status = 'active';
CREATE TABLE rewards.snapshot (
    snapshot_id varchar(64) PRIMARY KEY,
    scheme_id varchar(64) NOT NULL,
    period varchar(7) NOT NULL,
    digest varchar(128) NOT NULL,
    rows jsonb NOT NULL,
    units int NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    superseded_by varchar(64)
);
CREATE INDEX snapshot_scheme ON rewards.snapshot (scheme_id, period);
CREATE TABLE rewards.proposal_set (
    set_id bigserial PRIMARY KEY,
    scheme_id varchar(64) NOT NULL,
    assessing_unit varchar(40) NOT NULL,
    period varchar(7) NOT NULL,
    snapshot_id varchar(64) NOT NULL REFERENCES rewards.snapshot,
    snapshot_digest varchar(128) NOT NULL,
    ruleset_year int NOT NULL,
    ruleset_version int NOT NULL,
    ruleset_ref varchar(120) NOT NULL,
    ruleset_digest char(64) NOT NULL,
    status varchar(10) NOT NULL CHECK (status IN ('pending', 'reviewed', 'approved', 'rejected', 'superseded')),
    level int NOT NULL DEFAULT 0,
    levels int NOT NULL,
    version int NOT NULL DEFAULT 1,
    lines int NOT NULL,
    units int NOT NULL,
    pool_fen bigint NOT NULL,
    paid_fen bigint NOT NULL,
    withheld_fen bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    superseded_by bigint
);
CREATE INDEX proposal_set_au ON rewards.proposal_set (assessing_unit, period, set_id);
CREATE INDEX proposal_set_snapshot ON rewards.proposal_set (snapshot_id);
CREATE TABLE rewards.proposal_unit (
    set_id bigint NOT NULL,
    unit_id varchar(40) NOT NULL,
    unit_path varchar(1000) NOT NULL,
    pool_fen bigint NOT NULL,
    paid_fen bigint NOT NULL,
    withheld_fen bigint NOT NULL,
    PRIMARY KEY (set_id, unit_id)
);
CREATE TABLE rewards.proposal_line (
    set_id bigint NOT NULL,
    line_no int NOT NULL,
    subject varchar(6) NOT NULL,
    unit_id varchar(40) NOT NULL,
    person_key char(25),
    kind varchar(10) NOT NULL,
    consequence varchar(40) NOT NULL,
    rule_id varchar(64) NOT NULL,
    basis text NOT NULL,
    amount_fen bigint,
    computed_fen bigint,
    inputs json NOT NULL,
    dropped boolean NOT NULL DEFAULT false,
    PRIMARY KEY (set_id, line_no)
);
CREATE INDEX proposal_line_unit ON rewards.proposal_line (set_id, unit_id, line_no);
CREATE TABLE rewards.proposal_problem (
    set_id bigint NOT NULL,
    problem_id int NOT NULL,
    code varchar(40) NOT NULL,
    message text NOT NULL,
    rule_id varchar(64),
    unit_id varchar(40),
    person_key char(25),
    data jsonb NOT NULL DEFAULT '{}',
    resolved_by varchar(128),
    resolution text,
    PRIMARY KEY (set_id, problem_id)
);
CREATE TABLE rewards.proposal_review (
    set_id bigint NOT NULL,
    seq int NOT NULL,
    level int NOT NULL,
    decision varchar(10) NOT NULL,
    by_user varchar(128) NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    comment text,
    line_no int,
    from_fen bigint,
    to_fen bigint,
    dropped boolean NOT NULL DEFAULT false,
    PRIMARY KEY (set_id, seq)
);
CREATE TABLE rewards.ledger (
    holder varchar(80) NOT NULL,
    seq int NOT NULL,
    scope varchar(40) NOT NULL,
    period varchar(7) NOT NULL,
    unit_id varchar(40) NOT NULL,
    person_key char(25),
    set_id bigint,
    payload jsonb NOT NULL,
    prev_hash char(64) NOT NULL,
    hash char(64) NOT NULL,
    PRIMARY KEY (holder, seq)
);
CREATE INDEX ledger_scope ON rewards.ledger (scope, period);
CREATE INDEX ledger_unit ON rewards.ledger (unit_id, holder, seq);
CREATE TABLE rewards.ledger_head (
    holder varchar(80) PRIMARY KEY,
    seq int NOT NULL,
    hash char(64) NOT NULL
);
CREATE FUNCTION rewards.ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rewards.ledger is append-only (实绩档案只增不改): % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON rewards.ledger
    FOR EACH ROW EXECUTE FUNCTION rewards.ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON rewards.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION rewards.ledger_append_only();
"""


def statements(ddl: str) -> list[str]:
    """The DDL's statements one by one (asyncpg prepares one command at a time); `$$` bodies kept whole."""
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
    for t in (
        "ledger_head", "ledger", "proposal_review", "proposal_problem", "proposal_line", "proposal_unit",
        "proposal_set", "snapshot", "ruleset", "unit_pool", "person_grade", "post", "person", "scheme", "unit",
    ):  # fmt: skip
        op.execute(f"DROP TABLE rewards.{t}")
    op.execute("DROP FUNCTION rewards.ledger_append_only()")

