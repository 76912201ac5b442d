"""Team mode: an engagement on a PostgreSQL server, and copies of it taken offline (docs/server.md).

* :func:`publish` copies an engagement file, everything in it, to a new engagement on the
  server in one transaction; the publisher becomes its lead.
* :func:`checkout` writes the server's engagement to a new ``.ztmm`` file (one consistent
  snapshot of the server), which must pass the file gate before it is kept.
* :func:`engagements` lists what the user may see; :func:`set_member` is a lead's.

Every failure is a ``ServerError`` (one line, never the password) and leaves local files as
they were: a file is only read, a new file is only kept once it is whole and gated.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from ..server import schema as server_schema
from ..server import store as server_store
from ..server.connect import Prompt, ServerError, reason, terminal_prompt
from ..server.url import ServerUrl
from ..store.document import EngagementDocument
from ..store.migrations import SCHEMA_VERSION, create_baseline
from .engagement import open_engagement, reading


@contextlib.contextmanager
def _server(url: ServerUrl, prompt: Prompt | None) -> Iterator[psycopg.Connection[Any]]:
    """A checked connection; any database error that escapes becomes one line without the password."""
    conn = server_schema.open_checked(url, prompt=prompt)
    try:
        yield conn
    except psycopg.Error as err:
        raise ServerError(f"{url.display}: {reason(err, url.password)}") from None
    finally:
        conn.close()


def _same_format(url: ServerUrl, format_version: int) -> None:
    if format_version > SCHEMA_VERSION:
        raise ServerError(
            f"{url.display}: the engagement is stored in file format {format_version}, newer than this ztmm's "
            f"({SCHEMA_VERSION}); upgrade ztmm"
        )
    if format_version < SCHEMA_VERSION:
        raise ServerError(
            f"{url.display}: the engagement is stored in file format {format_version}, older than this ztmm's "
            f"({SCHEMA_VERSION}); the DBA upgrades the server with ztmm server init"
        )


@dataclass(frozen=True)
class Published:
    engagement: str
    evidence_bytes: int


def publish(path: Path, url: ServerUrl, *, prompt: Prompt | None = terminal_prompt) -> Published:
    """Copy the engagement file at ``path`` (read-only, gated) to the new engagement ``url`` names."""
    engagement_id = url.require_engagement("publishing")
    done = [0]

    def step(count: int) -> None:
        done[0] = count

    with (
        open_engagement(path, readonly=True) as engagement,
        reading(engagement) as src,
        _server(url, prompt) as pg,
        pg.transaction(),
    ):
        server_store.create(pg, url, src, SCHEMA_VERSION)
        server_store.copy_to_server(src, pg, engagement_id, step)
    return Published(engagement_id, done[0])


def checkout(url: ServerUrl, path: Path, *, prompt: Prompt | None = terminal_prompt) -> int:
    """Write the engagement ``url`` names to a new file at ``path``; the evidence bytes written."""
    done = [0]

    def step(count: int) -> None:
        done[0] = count

    with _server(url, prompt) as pg:
        # one snapshot of the server for every table: what is written is one state of the engagement
        pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        pg.read_only = True
        with pg.transaction():
            _same_format(url, server_store.find(pg, url, "checkout"))

            def initialise(conn: Any) -> None:
                create_baseline(conn)
                server_store.copy_from_server(pg, conn, step)

            document = EngagementDocument.create(path, initialise)
            document.close()
    try:  # kept only once it passes the gate like any file a user opens
        open_engagement(document.document, readonly=True).close()
    except BaseException:
        with contextlib.suppress(OSError):
            document.document.unlink()
        raise
    return done[0]


def engagements(url: ServerUrl, *, prompt: Prompt | None = terminal_prompt) -> list[server_store.Listed]:
    with _server(url.with_engagement(None), prompt) as pg:
        return server_store.listing(pg)


def members(url: ServerUrl, *, prompt: Prompt | None = terminal_prompt) -> list[tuple[str, str]]:
    with _server(url, prompt) as pg:
        server_store.find(pg, url, "listing members")
        return server_store.members(pg, url.require_engagement("listing members"))


def set_member(url: ServerUrl, login: str, role: str | None, *, prompt: Prompt | None = terminal_prompt) -> None:
    """Add ``login`` to the engagement as ``role`` (lead, assessor, reviewer), change it, or remove it (None)."""
    with _server(url, prompt) as pg:
        server_store.find(pg, url, "managing members")
        pg.commit()
        server_store.set_member(pg, url, login, role)


def init(url: ServerUrl, *, prompt: Prompt | None = terminal_prompt) -> tuple[str | None, str]:
    return server_schema.init(url.with_engagement(None), prompt=prompt)
