"""A SQLAlchemy engine on an engagement's schema: the file's SQLModel tables, read and written on the server.

This is the seam for working on the server without a copy (live co-editing): every
connection is a checked psycopg connection (``schema.open_checked``) with ``search_path``
on the engagement, so ``store/schema.py``'s unqualified table names resolve to its tables
and PostgreSQL's grants apply to whatever the session does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from .connect import Prompt, terminal_prompt
from .schema import open_checked
from .store import find
from .url import ServerUrl


def engagement_engine(url: ServerUrl, *, prompt: Prompt | None = terminal_prompt) -> Engine:
    """An engine whose every connection is on the engagement ``url`` names (refused as ``find`` refuses)."""
    url.require_engagement("opening an engagement")

    def creator() -> Any:
        conn = open_checked(url, prompt=prompt)
        try:
            with conn.transaction():
                find(conn, url, "opening an engagement")  # its SET search_path outlives the transaction
        except BaseException:
            conn.close()
            raise
        return conn

    return create_engine("postgresql+psycopg://", creator=creator, poolclass=NullPool)
