"""The server's own schema (``ztmm``): created and upgraded with Alembic, checked by every client.

``init`` is what the firm's DBA runs once (``ztmm server init URL``) and again after
installing a newer ztmm: it applies the steps under ``migrations/versions`` that the server
lacks. ``check`` is what every other command runs first: a server whose schema is older or
newer than this client's is refused with one line saying which side to upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from .connect import Prompt, ServerError, connect, reason, terminal_prompt
from .url import ServerUrl

#: The server schema's revisions this client knows, oldest first; the last is the one it needs.
#: (A test checks these are Alembic's, so the version check needs no Alembic at run time.)
REVISIONS = ("0001", "0002")
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _alembic_config(connection: object) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def init(url: ServerUrl, *, prompt: Prompt | None = terminal_prompt) -> tuple[str | None, str]:
    """Create or upgrade the server's schema; returns the revision before (None: new) and after."""
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    conn = connect(url, prompt=prompt)
    before = _revision(conn, url, quiet=True)
    if before is not None and before not in REVISIONS:
        conn.close()
        raise ServerError(f"{url.display}: the server's schema ({before}) is newer than this ztmm's; upgrade ztmm")
    conn.rollback()
    engine = create_engine("postgresql+psycopg://", creator=lambda: conn, poolclass=StaticPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS ztmm")
            command.upgrade(_alembic_config(connection), "head")
    except psycopg.Error as err:
        raise ServerError(f"cannot set up {url.display}: {reason(err, url.password)}") from None
    finally:
        engine.dispose()
        conn.close()
    return before, REVISIONS[-1]


def _revision(conn: psycopg.Connection[Any], url: ServerUrl, *, quiet: bool = False) -> str | None:
    """The server schema's revision; None when the database has none (``quiet``) or ``ServerError``."""
    try:
        with conn.transaction():
            row = conn.execute(
                "SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = 'ztmm'"
            ).fetchone()
            if row is not None and not row[0]:
                raise ServerError(f"{url.display}: you are not a ZTMM user here; ask the DBA to grant you ztmm_user")
            if row is None or conn.execute("SELECT to_regclass('ztmm.alembic_version')").fetchone() == (None,):
                if quiet:
                    return None
                raise ServerError(
                    f"{url.display}: this database holds no ZTMM engagements (the DBA sets it up with ztmm server init)"
                )
            version = conn.execute("SELECT version_num FROM ztmm.alembic_version").fetchone()
    except psycopg.Error as err:
        raise ServerError(f"{url.display}: {reason(err, url.password)}") from None
    return None if version is None else str(version[0])


def check(conn: psycopg.Connection[Any], url: ServerUrl) -> None:
    """Refuse a server whose schema is not the one this client was built for (one line, which to upgrade)."""
    revision = _revision(conn, url)
    if revision == REVISIONS[-1]:
        return
    if revision in REVISIONS:
        raise ServerError(
            f"{url.display}: the server's schema ({revision}) is older than this ztmm's ({REVISIONS[-1]}); "
            "the DBA upgrades it with ztmm server init"
        )
    raise ServerError(
        f"{url.display}: the server's schema ({revision}) is newer than this ztmm's ({REVISIONS[-1]}); upgrade ztmm"
    )


def open_checked(url: ServerUrl, *, prompt: Prompt | None = terminal_prompt) -> psycopg.Connection[Any]:
    """A connection to a ZTMM server of this client's schema, or ``ServerError`` (one line)."""
    conn = connect(url, prompt=prompt)
    try:
        check(conn, url)
    except BaseException:
        conn.close()
        raise
    return conn
