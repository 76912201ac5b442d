"""Comments on findings in ``ztmm.finding_comment`` (server schema 0001): read and added through psycopg.

The connection points at the engagement's schema (``server.store.find``). The author and the time are
the database's: the client names only the engagement, the finding and the text (the only columns
``ztmm_user`` may insert), ``by`` defaults to ``session_user`` and row-level security checks it, so a
comment cannot be written in someone else's name. A new comment notifies the engagement's channel
(``[id, "finding_comment", finding id, "text"]``, never the text) when it commits, so the windows
watching the engagement read the comments again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from ..core.comments import FindingComment
from .watch import COMMENT_TABLE, channel


def _comment(row: tuple[Any, ...]) -> FindingComment:
    at = row[2]
    stamp = at.astimezone(dt.UTC).isoformat(timespec="seconds") if isinstance(at, dt.datetime) else str(at)
    return FindingComment(id=int(row[0]), finding_id=str(row[1]), at=stamp, by=str(row[3]), text=str(row[4]))


def read(pg: psycopg.Connection[Any], engagement: str) -> list[FindingComment]:
    """Every comment on the engagement's findings, oldest first (row-level security: members only)."""
    rows = pg.execute(
        "SELECT id, finding_id, at, by, text FROM ztmm.finding_comment WHERE engagement = %s ORDER BY at, id",
        (engagement,),
    ).fetchall()
    return [_comment(row) for row in rows]


def findings(pg: psycopg.Connection[Any]) -> dict[str, str]:
    """The engagement's findings: id → title (the connection points at its schema)."""
    return {str(r[0]): str(r[1]) for r in pg.execute("SELECT id, title FROM finding ORDER BY created_at, id")}


def add(pg: psycopg.Connection[Any], engagement: str, finding_id: str, text: str) -> FindingComment | None:
    """Add the caller's comment on ``finding_id`` if the finding exists in the engagement (else None, nothing
    written), in one statement that also queues the notification; the caller commits."""
    row = pg.execute(
        "WITH c AS (INSERT INTO ztmm.finding_comment (engagement, finding_id, text) "
        "SELECT %(e)s::text, f.id, %(t)s::text FROM finding f WHERE f.id = %(f)s::text RETURNING id, finding_id, at, by, text) "
        "SELECT c.id, c.finding_id, c.at, c.by, c.text, "
        "pg_notify(%(c)s::text, json_build_array(c.id, %(table)s::text, c.finding_id, 'text')::text) FROM c",
        {"e": engagement, "f": finding_id, "t": text, "c": channel(engagement), "table": COMMENT_TABLE},
    ).fetchone()
    return _comment(row) if row is not None else None
