"""The registry, membership, finding comments and the functions that create engagements (server schema 0001).

Frozen: a later change is a new step. ``ENGAGEMENT_DDL`` is the engagement file's schema 7 in
PostgreSQL's words (the tables of ``store/schema.py``, integers widened to BIGINT: evidence
sizes pass 2 GiB); ``ztmm.create_engagement`` runs it in each new engagement's schema.

Revision ID: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: The file format version whose tables ENGAGEMENT_DDL creates.
FILE_FORMAT = 7

ENGAGEMENT_DDL = (
    """CREATE TABLE action (
        id VARCHAR NOT NULL,
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
        updated_at VARCHAR NOT NULL,
        PRIMARY KEY (id)
    )""",
    """CREATE INDEX ix_action_function_id ON action (function_id)""",
    """CREATE TABLE audit (
        id BIGSERIAL NOT NULL,
        at VARCHAR NOT NULL,
        by VARCHAR NOT NULL,
        entity VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        "old" VARCHAR,
        "new" VARCHAR,
        workshop_id BIGINT,
        PRIMARY KEY (id)
    )""",
    """CREATE TABLE baseline (
        id BIGSERIAL NOT NULL,
        name VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        catalog_version VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        rollups VARCHAR NOT NULL,
        PRIMARY KEY (id),
        UNIQUE (name)
    )""",
    """CREATE TABLE blob (
        sha256 VARCHAR NOT NULL,
        size BIGINT NOT NULL,
        chunks BIGINT NOT NULL,
        chunk_key VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        PRIMARY KEY (sha256),
        UNIQUE (chunk_key)
    )""",
    """CREATE TABLE blob_chunk (
        chunk_key VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (chunk_key, seq)
    )""",
    """CREATE TABLE consultancy_logo (
        id BIGINT NOT NULL,
        name VARCHAR NOT NULL,
        media_type VARCHAR NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (id)
    )""",
    """CREATE TABLE distribution (
        position BIGSERIAL NOT NULL,
        name VARCHAR NOT NULL,
        organisation VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        PRIMARY KEY (position)
    )""",
    """CREATE TABLE engagement (
        id VARCHAR NOT NULL,
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
        created_with VARCHAR NOT NULL,
        consultancy VARCHAR NOT NULL,
        report_version VARCHAR NOT NULL,
        reviewer VARCHAR NOT NULL,
        reviewed_on VARCHAR,
        approver VARCHAR NOT NULL,
        approved_on VARCHAR,
        paper VARCHAR NOT NULL,
        vendor_neutral BOOLEAN NOT NULL,
        PRIMARY KEY (id)
    )""",
    """CREATE TABLE engagement_logo (
        id BIGINT NOT NULL,
        name VARCHAR NOT NULL,
        media_type VARCHAR NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (id)
    )""",
    """CREATE TABLE engagement_section (
        key VARCHAR NOT NULL,
        text VARCHAR NOT NULL,
        PRIMARY KEY (key)
    )""",
    """CREATE TABLE finding (
        id VARCHAR NOT NULL,
        function_id VARCHAR NOT NULL,
        stage VARCHAR,
        title VARCHAR NOT NULL,
        observation VARCHAR NOT NULL,
        risk VARCHAR NOT NULL,
        recommendation VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        updated_at VARCHAR NOT NULL,
        owner VARCHAR NOT NULL,
        due_date VARCHAR,
        status VARCHAR NOT NULL,
        likelihood BIGINT,
        impact BIGINT,
        PRIMARY KEY (id)
    )""",
    """CREATE INDEX ix_finding_function_id ON finding (function_id)""",
    """CREATE TABLE function_assessment (
        function_id VARCHAR NOT NULL,
        target VARCHAR,
        override_stage VARCHAR,
        override_reason VARCHAR NOT NULL,
        confidence VARCHAR NOT NULL,
        priority VARCHAR NOT NULL,
        owner VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        notes VARCHAR NOT NULL,
        updated_at VARCHAR NOT NULL,
        updated_by VARCHAR NOT NULL,
        PRIMARY KEY (function_id)
    )""",
    """CREATE TABLE report_version (
        position BIGSERIAL NOT NULL,
        version VARCHAR NOT NULL,
        date VARCHAR NOT NULL,
        author VARCHAR NOT NULL,
        change VARCHAR NOT NULL,
        PRIMARY KEY (position)
    )""",
    """CREATE TABLE response (
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
    )""",
    """CREATE TABLE workshop (
        id BIGSERIAL NOT NULL,
        uid VARCHAR NOT NULL,
        date VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        pillars VARCHAR NOT NULL,
        functions VARCHAR NOT NULL,
        notes VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        started_at VARCHAR,
        ended_at VARCHAR,
        PRIMARY KEY (id),
        UNIQUE (uid)
    )""",
    """CREATE TABLE baseline_function (
        baseline_id BIGINT NOT NULL,
        function_id VARCHAR NOT NULL,
        current VARCHAR NOT NULL,
        derived VARCHAR NOT NULL,
        overridden BOOLEAN NOT NULL,
        override_reason VARCHAR NOT NULL,
        target VARCHAR,
        ratings VARCHAR NOT NULL,
        PRIMARY KEY (baseline_id, function_id),
        FOREIGN KEY(baseline_id) REFERENCES baseline (id)
    )""",
    """CREATE TABLE evidence (
        id VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        description VARCHAR NOT NULL,
        original_name VARCHAR NOT NULL,
        media_type VARCHAR NOT NULL,
        size BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        captured_at VARCHAR NOT NULL,
        captured_by VARCHAR NOT NULL,
        created_at VARCHAR NOT NULL,
        PRIMARY KEY (id),
        FOREIGN KEY(sha256) REFERENCES blob (sha256)
    )""",
    """CREATE INDEX ix_evidence_sha256 ON evidence (sha256)""",
    """CREATE TABLE stage_rating (
        function_id VARCHAR NOT NULL,
        stage VARCHAR NOT NULL,
        rating VARCHAR NOT NULL,
        comment VARCHAR NOT NULL,
        updated_at VARCHAR NOT NULL,
        updated_by VARCHAR NOT NULL,
        PRIMARY KEY (function_id, stage),
        FOREIGN KEY(function_id) REFERENCES function_assessment (function_id)
    )""",
    """CREATE TABLE workshop_attendee (
        workshop_id BIGINT NOT NULL,
        position BIGINT NOT NULL,
        name VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        organisation VARCHAR NOT NULL,
        PRIMARY KEY (workshop_id, position),
        FOREIGN KEY(workshop_id) REFERENCES workshop (id)
    )""",
    """CREATE TABLE evidence_link (
        id BIGSERIAL NOT NULL,
        evidence_id VARCHAR NOT NULL,
        function_id VARCHAR,
        stage VARCHAR,
        finding_id VARCHAR,
        PRIMARY KEY (id),
        FOREIGN KEY(evidence_id) REFERENCES evidence (id)
    )""",
    """CREATE INDEX ix_evidence_link_evidence_id ON evidence_link (evidence_id)""",
)

ROLES = """
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ztmm_owner') THEN
        CREATE ROLE ztmm_owner NOLOGIN CREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ztmm_user') THEN
        CREATE ROLE ztmm_user NOLOGIN;
    END IF;
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT ztmm_owner TO %I', current_user);
    END IF;
    EXECUTE format('GRANT CREATE ON DATABASE %I TO ztmm_owner', current_database());
    EXECUTE format('REVOKE CREATE ON DATABASE %I FROM PUBLIC', current_database());
END
$roles$
"""

REGISTRY = """
CREATE TABLE ztmm.engagement (
    id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{0,39}$'),
    file_id text NOT NULL,
    client text NOT NULL,
    title text NOT NULL DEFAULT '',
    start_date text,
    end_date text,
    progress real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    format_version integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT session_user
);
CREATE TABLE ztmm.member (
    engagement text NOT NULL REFERENCES ztmm.engagement (id) ON DELETE CASCADE,
    role_name text NOT NULL,
    role text NOT NULL CHECK (role IN ('lead', 'assessor', 'reviewer')),
    added_at timestamptz NOT NULL DEFAULT now(),
    added_by text NOT NULL DEFAULT session_user,
    PRIMARY KEY (engagement, role_name)
);
CREATE TABLE ztmm.finding_comment (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    engagement text NOT NULL REFERENCES ztmm.engagement (id) ON DELETE CASCADE,
    finding_id text NOT NULL CHECK (length(finding_id) BETWEEN 1 AND 200),
    at timestamptz NOT NULL DEFAULT now(),
    by text NOT NULL DEFAULT session_user CHECK (by = session_user),
    text text NOT NULL CHECK (length(text) BETWEEN 1 AND 20000)
);
CREATE TABLE ztmm.engagement_ddl (
    format_version integer NOT NULL,
    position integer NOT NULL,
    statement text NOT NULL,
    PRIMARY KEY (format_version, position)
);

-- who is a member of an engagement as (at least) ``kind``: the three group roles nest
-- (lead has assessor, assessor has reviewer), so reviewer means any member
CREATE FUNCTION ztmm.is_member(eid text, kind text, who name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_roles r
        WHERE r.rolname = 'ztmm_' || eid || '_' || kind AND pg_has_role(who, r.oid, 'MEMBER')
    )
$$;

ALTER TABLE ztmm.engagement ENABLE ROW LEVEL SECURITY;
ALTER TABLE ztmm.member ENABLE ROW LEVEL SECURITY;
ALTER TABLE ztmm.finding_comment ENABLE ROW LEVEL SECURITY;
CREATE POLICY members_see ON ztmm.engagement FOR SELECT USING (ztmm.is_member(id, 'reviewer', current_user));
CREATE POLICY members_see ON ztmm.member FOR SELECT USING (ztmm.is_member(engagement, 'reviewer', current_user));
CREATE POLICY members_see ON ztmm.finding_comment FOR SELECT
    USING (ztmm.is_member(engagement, 'reviewer', current_user));
CREATE POLICY members_comment ON ztmm.finding_comment FOR INSERT
    WITH CHECK (ztmm.is_member(engagement, 'reviewer', current_user) AND by = session_user);

-- make an engagement: its three roles, its schema with the file's tables, the grants, the
-- registry row; the caller becomes its lead
CREATE FUNCTION ztmm.create_engagement(
    eid text, p_file_id text, p_client text, p_title text, p_start text, p_end text, p_format integer
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s text := 'e_' || eid;
    r text := 'ztmm_' || eid || '_';
    stmt text;
BEGIN
    IF eid !~ '^[a-z][a-z0-9_]{0,39}$' THEN
        RAISE EXCEPTION 'engagement id % is not valid', eid USING ERRCODE = '22023';
    END IF;
    IF NOT pg_has_role(session_user, 'ztmm_user', 'MEMBER') THEN
        RAISE EXCEPTION 'not a ZTMM user' USING ERRCODE = '42501';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ztmm.engagement_ddl WHERE format_version = p_format) THEN
        RAISE EXCEPTION 'file format % is not known to this server', p_format USING ERRCODE = '0A000';
    END IF;
    IF EXISTS (SELECT 1 FROM ztmm.engagement WHERE id = eid)
       OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = s)
       OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN (r || 'lead', r || 'assessor', r || 'reviewer')) THEN
        RAISE EXCEPTION 'engagement % exists', eid USING ERRCODE = '42710';
    END IF;
    EXECUTE format('CREATE ROLE %I NOLOGIN', r || 'reviewer');
    EXECUTE format('CREATE ROLE %I NOLOGIN IN ROLE %I', r || 'assessor', r || 'reviewer');
    EXECUTE format('CREATE ROLE %I NOLOGIN IN ROLE %I', r || 'lead', r || 'assessor');
    EXECUTE format('CREATE SCHEMA %I', s);
    EXECUTE format('SET LOCAL search_path = %I, pg_catalog, pg_temp', s);
    FOR stmt IN SELECT d.statement FROM ztmm.engagement_ddl d WHERE d.format_version = p_format ORDER BY d.position LOOP
        EXECUTE stmt;
    END LOOP;
    SET LOCAL search_path = pg_catalog, pg_temp;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s, r || 'reviewer');
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', s, r || 'reviewer');
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', s, r || 'assessor');
    -- the audit trail is appended to, never rewritten
    EXECUTE format('REVOKE UPDATE, DELETE ON %I.audit FROM %I', s, r || 'assessor');
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', s, r || 'assessor');
    INSERT INTO ztmm.engagement (id, file_id, client, title, start_date, end_date, format_version)
        VALUES (eid, p_file_id, p_client, p_title, p_start, p_end, p_format);
    INSERT INTO ztmm.member (engagement, role_name, role) VALUES (eid, session_user, 'lead');
    EXECUTE format('GRANT %I TO %I', r || 'lead', session_user);
END
$$;

-- a lead adds a login (one the DBA made a ZTMM user) or changes its role
CREATE FUNCTION ztmm.set_member(eid text, login name, kind text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r text := 'ztmm_' || eid || '_';
    k text;
BEGIN
    IF NOT ztmm.is_member(eid, 'lead', session_user) THEN
        RAISE EXCEPTION 'only a lead of the engagement manages its members' USING ERRCODE = '42501';
    END IF;
    IF kind NOT IN ('lead', 'assessor', 'reviewer') THEN
        RAISE EXCEPTION 'role must be lead, assessor or reviewer' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login AND rolcanlogin)
       OR NOT pg_has_role(login, 'ztmm_user', 'MEMBER') THEN
        RAISE EXCEPTION 'no ZTMM user % on this server', login USING ERRCODE = '42704';
    END IF;
    IF login = session_user AND kind <> 'lead' THEN
        RAISE EXCEPTION 'a lead cannot demote themselves' USING ERRCODE = '42501';
    END IF;
    FOREACH k IN ARRAY ARRAY['lead', 'assessor', 'reviewer'] LOOP
        EXECUTE format('REVOKE %I FROM %I', r || k, login);
    END LOOP;
    EXECUTE format('GRANT %I TO %I', r || kind, login);
    INSERT INTO ztmm.member (engagement, role_name, role) VALUES (eid, login, kind)
        ON CONFLICT (engagement, role_name) DO UPDATE SET role = excluded.role,
            added_at = now(), added_by = session_user;
END
$$;

CREATE FUNCTION ztmm.remove_member(eid text, login name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r text := 'ztmm_' || eid || '_';
    k text;
BEGIN
    IF NOT ztmm.is_member(eid, 'lead', session_user) THEN
        RAISE EXCEPTION 'only a lead of the engagement manages its members' USING ERRCODE = '42501';
    END IF;
    IF login = session_user THEN
        RAISE EXCEPTION 'a lead cannot remove themselves' USING ERRCODE = '42501';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ztmm.member WHERE engagement = eid AND role_name = login) THEN
        RAISE EXCEPTION '% is not a member', login USING ERRCODE = '42704';
    END IF;
    FOREACH k IN ARRAY ARRAY['lead', 'assessor', 'reviewer'] LOOP
        EXECUTE format('REVOKE %I FROM %I', r || k, login);
    END LOOP;
    DELETE FROM ztmm.member WHERE engagement = eid AND role_name = login;
END
$$;

-- an assessor keeps the registry's summary in step with the engagement
CREATE FUNCTION ztmm.update_registry(
    eid text, p_client text, p_title text, p_start text, p_end text, p_progress real
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT ztmm.is_member(eid, 'assessor', session_user) THEN
        RAISE EXCEPTION 'only an assessor or lead of the engagement changes it' USING ERRCODE = '42501';
    END IF;
    UPDATE ztmm.engagement SET client = p_client, title = p_title, start_date = p_start, end_date = p_end,
        progress = p_progress WHERE id = eid;
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ztmm FROM PUBLIC;
GRANT USAGE ON SCHEMA ztmm TO ztmm_user;
GRANT SELECT ON ztmm.engagement, ztmm.member TO ztmm_user;
GRANT SELECT, INSERT (engagement, finding_id, text) ON ztmm.finding_comment TO ztmm_user;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ztmm TO ztmm_user
"""


def upgrade() -> None:
    # psycopg's own connection: the statements carry format()'s % and dollar-quoted bodies,
    # which neither SQLAlchemy's text() nor a parameterised execute may rewrite
    conn = op.get_bind().connection.driver_connection
    assert conn is not None
    conn.execute(ROLES)
    conn.execute("ALTER SCHEMA ztmm OWNER TO ztmm_owner")
    conn.execute("GRANT SELECT ON ztmm.alembic_version TO ztmm_user")
    conn.execute("SET LOCAL ROLE ztmm_owner")
    conn.execute(REGISTRY)
    for position, statement in enumerate(ENGAGEMENT_DDL):
        conn.execute(
            "INSERT INTO ztmm.engagement_ddl (format_version, position, statement) VALUES (%s, %s, %s)",
            (FILE_FORMAT, position, statement),
        )
    conn.execute("RESET ROLE")


def downgrade() -> None:
    raise RuntimeError("the server's schema is not downgraded: install the ztmm that matches it instead")
