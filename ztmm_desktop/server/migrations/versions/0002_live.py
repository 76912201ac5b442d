"""Live co-editing: the server's log of edits (server schema 0002).

Frozen: a later change is a new step. ``ztmm.edit`` has one row per edit a live session
committed (``server/live.py``): its idempotency key (an edit replayed from an offline queue is
applied once), what it changed (table, row key, field; never the text) and who, set by the
database (``session_user``, checked, so it cannot be forged), with a sequence number that the
change notifications carry. Row-level security as for the registry: members read their
engagements' rows; an assessor or lead inserts in their own name only; nobody changes or
deletes a row.

Revision ID: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: The file format version whose tables the server creates (unchanged by this step).
FILE_FORMAT = 7

EDIT_LOG = """
CREATE TABLE ztmm.edit (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    engagement text NOT NULL REFERENCES ztmm.engagement (id) ON DELETE CASCADE,
    edit_id text NOT NULL CHECK (edit_id ~ '^[0-9a-f]{32}$'),
    entity text NOT NULL CHECK (length(entity) BETWEEN 1 AND 40),
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    field text NOT NULL CHECK (length(field) BETWEEN 1 AND 40),
    at timestamptz NOT NULL DEFAULT now(),
    by text NOT NULL DEFAULT session_user CHECK (by = session_user),
    UNIQUE (engagement, edit_id)
);
ALTER TABLE ztmm.edit ENABLE ROW LEVEL SECURITY;
CREATE POLICY members_see ON ztmm.edit FOR SELECT USING (ztmm.is_member(engagement, 'reviewer', current_user));
CREATE POLICY assessors_edit ON ztmm.edit FOR INSERT
    WITH CHECK (ztmm.is_member(engagement, 'assessor', current_user) AND by = session_user);
GRANT SELECT, INSERT (engagement, edit_id, entity, key, field) ON ztmm.edit TO ztmm_user
"""


def upgrade() -> None:
    conn = op.get_bind().connection.driver_connection
    assert conn is not None
    conn.execute("SET LOCAL ROLE ztmm_owner")
    conn.execute(EDIT_LOG)
    conn.execute("RESET ROLE")


def downgrade() -> None:
    raise RuntimeError("the server's schema is not downgraded: install the ztmm that matches it instead")
