"""supervision: units, items and their tasks, the hash-chained timeline, breaches, cards, calendar, scores

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

DDL = """
CREATE TABLE supervision.unit (
    id varchar(64) PRIMARY KEY,
    path varchar(1000) NOT NULL,
    name varchar(200) NOT NULL,
    parent_id varchar(64),
    closed boolean NOT NULL DEFAULT false,
    revision int NOT NULL DEFAULT 0
);
CREATE INDEX unit_path ON supervision.unit (path COLLATE "C");

CREATE TABLE supervision.number_seq (
    office_id varchar(64) NOT NULL,
    year int NOT NULL,
    last int NOT NULL,
    PRIMARY KEY (office_id, year)
);

CREATE TABLE supervision.item (
    id varchar(64) PRIMARY KEY,
    number varchar(60) NOT NULL,       -- unique per supervising office (each 督查室 numbers its own)
    title varchar(200) NOT NULL,
    problem text NOT NULL,
    source varchar(20) NOT NULL,
    source_ref varchar(200) NOT NULL,
    source_note text NOT NULL DEFAULT '',
    office_id varchar(64) NOT NULL,
    office_path varchar(1000) NOT NULL,
    lead_unit varchar(64) NOT NULL,
    lead_path varchar(1000) NOT NULL,
    deadline date NOT NULL,
    deadlines jsonb NOT NULL DEFAULT '[]',
    priority varchar(10) NOT NULL,
    indicator_code varchar(64),
    body jsonb NOT NULL,               -- the item as assigned: tasks, measures, milestones, attachments
    status varchar(30) NOT NULL,
    open boolean NOT NULL,
    cycle int NOT NULL DEFAULT 1,
    version int NOT NULL DEFAULT 0,    -- number of timeline entries: the compare-and-set version
    next_due timestamptz,              -- the sweep's index: the next moment anything can change
    overdue boolean NOT NULL DEFAULT false,
    provisional boolean NOT NULL DEFAULT false,
    calendar_version varchar(32) NOT NULL DEFAULT '',
    yellow_cards int NOT NULL DEFAULT 0,
    red_cards int NOT NULL DEFAULT 0,
    cleared_by_data boolean NOT NULL DEFAULT false,
    escalated_to varchar(64),
    parent_id varchar(64),
    dedupe_key varchar(200) UNIQUE,    -- intake client key, rectification (scheme, period, unit)
    channel varchar(20),
    category varchar(100),
    contact_phone bytea,               -- Fernet-encrypted
    contact_name bytea,
    callback_url varchar(1000),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    assigned_at timestamptz,
    finished_at timestamptz,
    UNIQUE (office_id, number)
);
CREATE INDEX item_next_due ON supervision.item (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX item_created ON supervision.item (created_at DESC, id DESC);
CREATE INDEX item_office_path ON supervision.item (office_path COLLATE "C");
CREATE INDEX item_status ON supervision.item (status);
-- one open 考核发现 item per (unit, indicator): a repeated warning attaches to it
CREATE UNIQUE INDEX item_open_assessment ON supervision.item (lead_unit, indicator_code)
    WHERE open AND source = 'assessment';

CREATE TABLE supervision.item_unit (
    item_id varchar(64) NOT NULL REFERENCES supervision.item(id),
    unit_id varchar(64) NOT NULL,
    unit_path varchar(1000) NOT NULL,
    role varchar(12) NOT NULL,
    task text NOT NULL,
    deadline date NOT NULL,
    pos int NOT NULL,
    done_at timestamptz,
    PRIMARY KEY (item_id, unit_id)
);
CREATE INDEX item_unit_path ON supervision.item_unit (unit_path COLLATE "C", item_id);
CREATE INDEX item_unit_unit ON supervision.item_unit (unit_id);

CREATE TABLE supervision.entry (
    item_id varchar(64) NOT NULL REFERENCES supervision.item(id),
    seq int NOT NULL,
    at timestamptz NOT NULL,
    payload jsonb NOT NULL,
    stage varchar(20),
    prev_hash char(64) NOT NULL,
    hash char(64) NOT NULL,
    PRIMARY KEY (item_id, seq)
);

CREATE FUNCTION supervision.append_only() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'supervision.% is append-only', TG_TABLE_NAME; END $$;
CREATE TRIGGER entry_append_only BEFORE UPDATE OR DELETE ON supervision.entry
    FOR EACH ROW EXECUTE FUNCTION supervision.append_only();

CREATE TABLE supervision.breach (
    key varchar(400) PRIMARY KEY,
    item_id varchar(64) NOT NULL,
    unit_id varchar(64) NOT NULL,
    unit_path varchar(1000) NOT NULL,
    kind varchar(20) NOT NULL,
    cycle int NOT NULL,
    role varchar(12) NOT NULL,
    at timestamptz NOT NULL,
    due timestamptz NOT NULL,
    reason text NOT NULL,
    carded boolean NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX breach_item ON supervision.breach (item_id);
CREATE TRIGGER breach_append_only BEFORE UPDATE OR DELETE ON supervision.breach
    FOR EACH ROW EXECUTE FUNCTION supervision.append_only();

CREATE TABLE supervision.card (
    key varchar(420) PRIMARY KEY,
    item_id varchar(64) NOT NULL,
    unit_id varchar(64) NOT NULL,
    unit_path varchar(1000) NOT NULL,
    colour varchar(10) NOT NULL,
    role varchar(12) NOT NULL,
    at timestamptz NOT NULL,
    reason text NOT NULL,
    breach_key varchar(400) NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX card_item ON supervision.card (item_id);
CREATE INDEX card_unit ON supervision.card (unit_id, at);
CREATE TRIGGER card_append_only BEFORE UPDATE OR DELETE ON supervision.card
    FOR EACH ROW EXECUTE FUNCTION supervision.append_only();

CREATE TABLE supervision.calendar_year (
    year int PRIMARY KEY,
    days_off jsonb NOT NULL,
    extra_workdays jsonb NOT NULL,
    source varchar(200) NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE supervision.calendar_override (
    day date PRIMARY KEY,
    workday boolean NOT NULL,
    reason varchar(200) NOT NULL
);
CREATE TABLE supervision.calendar_version (
    version varchar(32) PRIMARY KEY,
    source varchar(300) NOT NULL,
    covered jsonb NOT NULL,
    overrides jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE supervision.warning_state (
    unit_id varchar(64) NOT NULL,
    code varchar(64) NOT NULL,
    period varchar(20) NOT NULL,
    raised boolean NOT NULL,
    event_time timestamptz NOT NULL,
    PRIMARY KEY (unit_id, code, period)
);

CREATE TABLE supervision.score (
    unit_id varchar(64) NOT NULL,
    period varchar(20) NOT NULL,
    unit_path varchar(1000) NOT NULL,
    score numeric(7, 2) NOT NULL,
    items int NOT NULL,
    revision int NOT NULL,
    details jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, period)
);
CREATE TABLE supervision.score_dirty (
    unit_id varchar(64) NOT NULL,
    period varchar(20) NOT NULL,
    PRIMARY KEY (unit_id, period)
);
"""


def upgrade() -> None:
    for statement in DDL.split(";\n"):  # one statement per execute (asyncpg prepares each)
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for t in (
        "score_dirty",
        "score",
        "warning_state",
        "calendar_version",
        "calendar_override",
        "calendar_year",
        "card",
        "breach",
        "entry",
        "item_unit",
        "item",
        "number_seq",
        "unit",
    ):
        op.execute(f"DROP TABLE supervision.{t}")
    op.execute("DROP FUNCTION supervision.append_only()")
