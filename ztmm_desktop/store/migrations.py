"""Schema versions of the engagement file and the steps between them.

``user_version`` is the schema version; ``application_id`` marks the file as
ours. Version 1 is the baseline; version 2 adds evidence; version 3 adds
questionnaire responses and the report logo; version 4 adds named baselines
(frozen copies of the assessment to measure progress against); version 5 adds
workshops and tags audit rows with the workshop they were made in; version 6
gives each workshop an id that is the same in every copy of the file, so a
colleague's workshops can be merged; version 7 adds the consultant's registers:
the report's sections and document control (version history, distribution,
reviewer and approver, paper, vendor-neutral flag, the consultancy's logo), the
finding register's fields (owner, due date, status, likelihood, impact) and the
roadmap's actions. A later
version adds ``MIGRATIONS[n]`` (from n to n+1) as frozen SQL, never by
calling ``create_all`` on today's models, so an old file migrates to exactly
what a new file would be. Every released
schema keeps a fixture file in ``tests/fixtures/`` that must open.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable

APPLICATION_ID = 0x5A544D4D  # "ZTMM"
SCHEMA_VERSION = 7

BASELINE_DDL = """
CREATE TABLE engagement (
    id VARCHAR NOT NULL PRIMARY KEY,
    client VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    assessors VARCHAR NOT NULL,
    start_date VARCHAR,
    end_date VARCHAR,
    marking VARCHAR NOT NULL,
    wording VARCHAR NOT NULL,
    catalog_id VARCHAR NOT NULL,
    catalog_version VARCHAR NOT NULL,
    guidance_packs VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL,
    created_with VARCHAR NOT NULL
);
CREATE TABLE function_assessment (
    function_id VARCHAR NOT NULL PRIMARY KEY,
    target VARCHAR,
    override_stage VARCHAR,
    override_reason VARCHAR NOT NULL,
    confidence VARCHAR NOT NULL,
    priority VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    notes VARCHAR NOT NULL,
    updated_at VARCHAR NOT NULL,
    updated_by VARCHAR NOT NULL
);
CREATE TABLE stage_rating (
    function_id VARCHAR NOT NULL REFERENCES function_assessment (function_id),
    stage VARCHAR NOT NULL,
    rating VARCHAR NOT NULL,
    comment VARCHAR NOT NULL,
    updated_at VARCHAR NOT NULL,
    updated_by VARCHAR NOT NULL,
    PRIMARY KEY (function_id, stage)
);
CREATE TABLE finding (
    id VARCHAR NOT NULL PRIMARY KEY,
    function_id VARCHAR NOT NULL,
    stage VARCHAR,
    title VARCHAR NOT NULL,
    observation VARCHAR NOT NULL,
    risk VARCHAR NOT NULL,
    recommendation VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    updated_at VARCHAR NOT NULL
);
CREATE INDEX ix_finding_function_id ON finding (function_id);
CREATE TABLE audit (
    id INTEGER NOT NULL PRIMARY KEY,
    at VARCHAR NOT NULL,
    by VARCHAR NOT NULL,
    entity VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    old VARCHAR,
    new VARCHAR
);
"""

#: Schema 2: evidence. Bytes are content-addressed (SHA-256) and stored in chunks,
#: because SQLite caps one BLOB near 1 GB and memory must stay bounded.
EVIDENCE_DDL = """
CREATE TABLE blob (
    sha256 VARCHAR NOT NULL PRIMARY KEY,
    size INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    chunk_key VARCHAR NOT NULL UNIQUE,
    created_at VARCHAR NOT NULL
);
CREATE TABLE blob_chunk (
    chunk_key VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (chunk_key, seq)
);
CREATE TABLE evidence (
    id VARCHAR NOT NULL PRIMARY KEY,
    sha256 VARCHAR NOT NULL REFERENCES blob (sha256),
    title VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    original_name VARCHAR NOT NULL,
    media_type VARCHAR NOT NULL,
    size INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    captured_at VARCHAR NOT NULL,
    captured_by VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL
);
CREATE INDEX ix_evidence_sha256 ON evidence (sha256);
CREATE TABLE evidence_link (
    id INTEGER NOT NULL PRIMARY KEY,
    evidence_id VARCHAR NOT NULL REFERENCES evidence (id),
    function_id VARCHAR,
    stage VARCHAR,
    finding_id VARCHAR
);
CREATE INDEX ix_evidence_link_evidence_id ON evidence_link (evidence_id);
"""

#: Schema 3: questionnaire responses, one row per function, stage and respondent,
#: kept beside the assessor's rating (never written into it); and the client's
#: logo for the report's cover (at most one row, apart from the engagement row so
#: that reading the engagement's properties never loads the image).
RESPONSES_DDL = """
CREATE TABLE response (
    function_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    respondent VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    answer VARCHAR NOT NULL,
    comment VARCHAR NOT NULL,
    source_name VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    imported_at VARCHAR NOT NULL,
    imported_by VARCHAR NOT NULL,
    PRIMARY KEY (function_id, stage, respondent)
);
CREATE TABLE engagement_logo (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    name VARCHAR NOT NULL,
    media_type VARCHAR NOT NULL,
    data BLOB NOT NULL
);
"""

#: Schema 4: baselines. A baseline is a named, frozen copy of every function's
#: assessment (its ratings and comments as JSON, override, target, and the current
#: and derived stages as they were) with the roll-ups of that moment as JSON.
BASELINES_DDL = """
CREATE TABLE baseline (
    id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE,
    created_at VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    catalog_version VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    rollups VARCHAR NOT NULL
);
CREATE TABLE baseline_function (
    baseline_id INTEGER NOT NULL REFERENCES baseline (id),
    function_id VARCHAR NOT NULL,
    current VARCHAR NOT NULL,
    derived VARCHAR NOT NULL,
    overridden BOOLEAN NOT NULL,
    override_reason VARCHAR NOT NULL,
    target VARCHAR,
    ratings VARCHAR NOT NULL,
    PRIMARY KEY (baseline_id, function_id)
);
"""

#: Schema 5: workshops. A workshop (date, title, pillars and functions covered as
#: JSON arrays of ids, notes) is planned, running or held; at most one runs at a
#: time (the partial unique index), and the file records which, so every edit
#: made while it runs -- from the window or the CLI -- is tagged with it through
#: the audit row's ``workshop_id``. The index on the audit's entity and key
#: finds the latest change of a rating, comment or finding.
WORKSHOPS_DDL = """
CREATE TABLE workshop (
    id INTEGER NOT NULL PRIMARY KEY,
    date VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    pillars VARCHAR NOT NULL,
    functions VARCHAR NOT NULL,
    notes VARCHAR NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('planned', 'running', 'held')),
    started_at VARCHAR,
    ended_at VARCHAR
);
CREATE UNIQUE INDEX ux_workshop_running ON workshop (status) WHERE status = 'running';
CREATE TABLE workshop_attendee (
    workshop_id INTEGER NOT NULL REFERENCES workshop (id),
    position INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    organisation VARCHAR NOT NULL,
    PRIMARY KEY (workshop_id, position)
);
ALTER TABLE audit ADD COLUMN workshop_id INTEGER;
CREATE INDEX ix_audit_entity_key ON audit (entity, key);
"""

#: Schema 7: the consultant's registers. The engagement gains its document control
#: (who issues the report, its version, who reviewed and approved it, the paper
#: size, whether vendor guidance is left out); the report's own words live one row
#: per section key; the version history and the distribution list are ordered
#: lists; the consultancy's logo is one row like the client's. A finding gains the
#: register's fields (likelihood and impact 1-5 or NULL); an action is one step of
#: the roadmap on a function, optionally after another action.
REGISTERS_DDL = """
ALTER TABLE engagement ADD COLUMN consultancy VARCHAR NOT NULL DEFAULT '';
ALTER TABLE engagement ADD COLUMN report_version VARCHAR NOT NULL DEFAULT '';
ALTER TABLE engagement ADD COLUMN reviewer VARCHAR NOT NULL DEFAULT '';
ALTER TABLE engagement ADD COLUMN reviewed_on VARCHAR;
ALTER TABLE engagement ADD COLUMN approver VARCHAR NOT NULL DEFAULT '';
ALTER TABLE engagement ADD COLUMN approved_on VARCHAR;
ALTER TABLE engagement ADD COLUMN paper VARCHAR NOT NULL DEFAULT 'A4';
ALTER TABLE engagement ADD COLUMN vendor_neutral BOOLEAN NOT NULL DEFAULT 0;
CREATE TABLE engagement_section (
    key VARCHAR NOT NULL PRIMARY KEY,
    text VARCHAR NOT NULL
);
CREATE TABLE report_version (
    position INTEGER NOT NULL PRIMARY KEY,
    version VARCHAR NOT NULL,
    date VARCHAR NOT NULL,
    author VARCHAR NOT NULL,
    change VARCHAR NOT NULL
);
CREATE TABLE distribution (
    position INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR NOT NULL,
    organisation VARCHAR NOT NULL,
    role VARCHAR NOT NULL
);
CREATE TABLE consultancy_logo (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    name VARCHAR NOT NULL,
    media_type VARCHAR NOT NULL,
    data BLOB NOT NULL
);
ALTER TABLE finding ADD COLUMN owner VARCHAR NOT NULL DEFAULT '';
ALTER TABLE finding ADD COLUMN due_date VARCHAR;
ALTER TABLE finding ADD COLUMN status VARCHAR NOT NULL DEFAULT 'open';
ALTER TABLE finding ADD COLUMN likelihood INTEGER;
ALTER TABLE finding ADD COLUMN impact INTEGER;
CREATE TABLE action (
    id VARCHAR NOT NULL PRIMARY KEY,
    function_id VARCHAR NOT NULL,
    stage VARCHAR,
    text VARCHAR NOT NULL,
    phase VARCHAR NOT NULL,
    effort VARCHAR NOT NULL,
    cost VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    after_id VARCHAR,
    created_at VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    updated_at VARCHAR NOT NULL
);
CREATE INDEX ix_action_function_id ON action (function_id);
"""

Migration = Callable[[sqlite3.Connection], None]

#: Namespace of the workshop ids schema 6 derives for workshops recorded before it.
WORKSHOP_UID_NAMESPACE = uuid.UUID("6f1d2c1e-8a53-4c55-9b7e-2f0d3f6c9a41")


def _workshop_uids(conn: sqlite3.Connection) -> None:
    """Schema 6: a workshop id that is the same in every copy of the engagement.

    Workshop row ids are per file (two colleagues' copies number their new
    workshops alike), so merging needs another name for a workshop. New
    workshops get a random UUID; a workshop recorded before this step gets one
    derived from the engagement id, its row id and the time and author of the
    audit row that created it, so two copies of one file, migrated apart, agree.
    The audit rows about a workshop are keyed by that id from now on (they were
    keyed by the row id); the rows that name the workshop an edit was made in
    (``audit.workshop_id``) keep the row id.
    """
    conn.execute("ALTER TABLE workshop ADD COLUMN uid VARCHAR NOT NULL DEFAULT ''")
    engagement = conn.execute("SELECT id FROM engagement").fetchone()
    engagement_id = engagement[0] if engagement else ""
    for (row_id,) in conn.execute("SELECT id FROM workshop ORDER BY id").fetchall():
        key = str(row_id)
        first = conn.execute(
            "SELECT at, by FROM audit WHERE entity = 'workshop' AND key = ? ORDER BY id LIMIT 1", (key,)
        ).fetchone()
        at, by = first if first else ("", "")
        uid = str(uuid.uuid5(WORKSHOP_UID_NAMESPACE, f"{engagement_id}/{row_id}/{at}/{by}"))
        conn.execute("UPDATE workshop SET uid = ? WHERE id = ?", (uid, row_id))
        conn.execute("UPDATE audit SET key = ? WHERE entity = 'workshop' AND key = ?", (uid, key))
    conn.execute("CREATE UNIQUE INDEX ux_workshop_uid ON workshop (uid)")


def _run(conn: sqlite3.Connection, ddl: str) -> None:
    # executescript() would commit the caller's transaction; run statement by statement.
    for statement in ddl.split(";"):
        if statement.strip():
            conn.execute(statement)


#: MIGRATIONS[n] upgrades a file from schema n to n + 1.
MIGRATIONS: dict[int, Migration] = {
    1: lambda conn: _run(conn, EVIDENCE_DDL),
    2: lambda conn: _run(conn, RESPONSES_DDL),
    3: lambda conn: _run(conn, BASELINES_DDL),
    4: lambda conn: _run(conn, WORKSHOPS_DDL),
    5: _workshop_uids,
    6: lambda conn: _run(conn, REGISTERS_DDL),
}


def create_baseline(conn: sqlite3.Connection) -> None:
    """Create the current schema in an empty database: the baseline, then every step.

    A new file is built by exactly the steps an old file is migrated by.
    """
    _run(conn, BASELINE_DDL)
    for version in range(1, SCHEMA_VERSION):
        MIGRATIONS[version](conn)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def migrate(conn: sqlite3.Connection, from_version: int, to_version: int) -> list[int]:
    """Apply every step from ``from_version`` to ``to_version`` in one transaction."""
    applied = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for version in range(from_version, to_version):
            MIGRATIONS[version](conn)
            applied.append(version + 1)
        conn.execute(f"PRAGMA user_version = {to_version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied
