"""Team mode: an engagement on a PostgreSQL server, and copies of it taken offline (docs/server.md).

* :func:`publish` copies an engagement file, everything in it, to a new engagement on the
  server in one transaction; the publisher becomes its lead.
* :func:`checkout` writes the server's engagement to a new ``.ztmm`` file (one consistent
  snapshot of the server), which must pass the file gate before it is kept.
* :func:`server_engagement` gives the ordinary services an engagement on the server (a
  disposable copy read and written back in one serializable transaction);
  :func:`merge_into_server` and :func:`merge_from_server` run the three-way merge either way.
* :func:`engagements` lists what the user may see; :func:`set_member` is a lead's.

Every failure is a ``ServerError`` (one line, never the password) and leaves local files as
they were: a file is only read, a new file is only kept once it is whole and gated.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from ..core.errors import BadInput
from ..server import schema as server_schema
from ..server import store as server_store
from ..server.connect import Prompt, ServerError, reason, terminal_prompt
from ..server.url import ServerUrl
from ..store.document import EngagementDocument
from ..store.migrations import SCHEMA_VERSION, create_baseline
from .copy_folders import new_copy_folder
from .engagement import Engagement, open_engagement, reading
from .merge import MergePlan, apply_merge, plan_merge


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
        server_store.copy_to_server(src, pg, engagement_id, engagement.assessed_share(), step)
    return Published(engagement_id, done[0])


def _write_copy(
    pg: psycopg.Connection[Any], path: Path, step: server_store.Step | None = None, *, evidence_bytes: bool = True
) -> Path:
    """The engagement the connection points at, written to a new file (kept only once it passes the gate);
    without ``evidence_bytes`` a disposable copy for a command that reads none (``copy_from_server``)."""

    def initialise(conn: Any) -> None:
        create_baseline(conn)
        server_store.copy_from_server(pg, conn, step, evidence_bytes=evidence_bytes)

    written = EngagementDocument.write_new(path, initialise)  # written once, fsynced, renamed into place
    try:  # kept only once it passes the gate like any file a user opens
        open_engagement(written, readonly=True).close()
    except BaseException:
        with contextlib.suppress(OSError):
            written.unlink()
        raise
    return written


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
            _write_copy(pg, path, step)
    return done[0]


@contextlib.contextmanager
def _disposable_folder() -> Iterator[Path]:
    folder = new_copy_folder()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def server_engagement(
    url: ServerUrl, *, readonly: bool = False, prompt: Prompt | None = terminal_prompt, evidence_bytes: bool = True
) -> Iterator[Engagement]:
    """The engagement ``url`` names, to use through the ordinary services.

    It is read into a disposable copy in one server transaction; when the block ends without an
    error and ``readonly`` is False, every row the services changed is written back in that same
    transaction. The transaction is SERIALIZABLE: if anyone changed the engagement on the server
    meanwhile, nothing is written and the user is told to run the command again. The copy is
    deleted either way. (A first step towards working on the server directly: see docs/server.md.)

    A command that reads no evidence bytes passes ``evidence_bytes=False``: the copy then holds the
    evidence's records without its bytes, so the command costs what the records cost whatever the
    evidence weighs. Evidence it attaches is written back with its bytes as ever.
    """
    engagement_id = url.require_engagement("opening an engagement")
    with _server(url, prompt) as pg, _disposable_folder() as folder:
        pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ if readonly else psycopg.IsolationLevel.SERIALIZABLE
        pg.read_only = readonly
        try:
            with pg.transaction():
                _same_format(url, server_store.find(pg, url, "opening an engagement"))
                copy = _write_copy(pg, folder / f"{engagement_id}.ztmm", evidence_bytes=evidence_bytes)
                with open_engagement(copy, readonly=readonly) as engagement:
                    if readonly:
                        yield engagement
                        return
                    with reading(engagement) as conn:
                        base = server_store.snapshot(conn)
                    # The copy is disposable: what is kept is what is written to the server from its
                    # working copy below. A command's save of the copy's own file would be work for
                    # nothing (and, on a copy without the evidence's bytes, a refusal: the save checks
                    # every blob's bytes are in the document).
                    engagement.save = lambda **_: None  # type: ignore[method-assign]
                    yield engagement
                    with reading(engagement) as conn:
                        server_store.push_changes(conn, pg, engagement_id, base, share=engagement.assessed_share())
        except (psycopg.errors.SerializationFailure, psycopg.errors.UniqueViolation):
            # another writer committed first (two copies number their new audit rows alike)
            raise ServerError(
                f"{url.display}: the engagement changed on the server meanwhile; nothing was written, run it again"
            ) from None
        except psycopg.errors.InsufficientPrivilege:
            raise ServerError(
                f"{url.display}: you may not change this engagement (a reviewer reads and comments only)"
            ) from None


@dataclass(frozen=True)
class ServerMerge:
    plan: MergePlan
    taken: frozenset[str]


def merge_into_server(
    url: ServerUrl,
    path: Path,
    *,
    theirs: Iterable[str] = (),
    dry_run: bool = False,
    force: bool = False,
    by: str | None = None,
    prompt: Prompt | None = terminal_prompt,
) -> ServerMerge:
    """Bring the work in the file at ``path`` (a copy taken offline) into the server's engagement, through
    the three-way merge of ``services.merge``: conflicts stay as the server has them unless their key is
    in ``theirs``. The file is only read."""
    taken = frozenset(theirs)
    with server_engagement(url, readonly=dry_run, prompt=prompt) as engagement:
        plan = plan_merge(engagement, path, force=force)
        _check_resolutions(plan, taken)
        if plan and not dry_run:
            apply_merge(engagement, plan, dict.fromkeys(taken, "theirs"), by=by)
    return ServerMerge(plan, taken)


def merge_from_server(
    path: Path,
    url: ServerUrl,
    *,
    theirs: Iterable[str] = (),
    dry_run: bool = False,
    force: bool = False,
    by: str | None = None,
    prompt: Prompt | None = terminal_prompt,
) -> ServerMerge:
    """Bring the server's work into the file at ``path`` (the other direction), through the same merge."""
    taken = frozenset(theirs)
    with server_engagement(url, readonly=True, prompt=prompt) as server_copy:
        other = server_copy.path
        with open_engagement(path, readonly=dry_run) as engagement:
            plan = plan_merge(engagement, other, force=force)
            _check_resolutions(plan, taken)
            if plan and not dry_run:
                apply_merge(engagement, plan, dict.fromkeys(taken, "theirs"), by=by)
                engagement.save()
    return ServerMerge(plan, taken)


def _check_resolutions(plan: MergePlan, taken: frozenset[str]) -> None:
    unknown = sorted(taken - {c.key for c in plan.conflicts})
    if unknown:
        raise BadInput(f"no conflict {unknown[0]!r} in this merge (see 'ztmm merge --dry-run')")


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
