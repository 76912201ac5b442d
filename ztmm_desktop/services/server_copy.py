"""An engagement on the server opened in the window: a working copy read once, saved back by its changes.

The window does not hold a server transaction open while the consultant works. Opening reads the
engagement in one ``REPEATABLE READ`` snapshot into a copy in the app's data folder and remembers
two things about that snapshot: each row's digest (``server.store.snapshot``: what the copy has
changed is found against it) and a fingerprint of the server's rows (``server.store.fingerprint``).

Saving writes the copy's changed rows back in one ``SERIALIZABLE`` transaction, after checking that
the server's fingerprint is still the one the copy was read at: when someone else saved meanwhile,
nothing is written and :class:`ServerChanged` is raised, and :func:`rebase` offers the existing
three-way merge: the server's current engagement is read into a new copy and the work of this copy
is merged into it (conflicts chosen by the consultant), then that copy is saved.

A reviewer's copy is opened read-only: the database refuses their writes anyway.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from ..server import store as server_store
from ..server.connect import Prompt, ServerError
from ..server.url import ServerUrl
from .copy_folders import COPIES, new_copy_folder
from .engagement import Engagement, open_engagement, reading
from .merge import MergePlan, MergeResult, apply_merge, plan_merge
from .records import Changes, raw_connection
from .team import _same_format, _server, _write_copy, checkout, merge_into_server, publish

__all__ = [
    "ServerChanged",
    "ServerCopy",
    "bring_in_shared",
    "checkout",
    "merge_into_server",
    "open_copy",
    "plan_rebase",
    "publish",
    "read_shared",
    "rebase",
    "save",
    "take_shared",
]


class ServerChanged(ServerError):
    """Someone saved the engagement on the server since this copy was read; nothing was written."""


@dataclass
class ServerCopy:
    """An engagement on the server and the working copy the window edits."""

    url: ServerUrl  # carries the password typed in this session (never stored, never shown)
    role: str
    engagement: Engagement
    folder: Path
    base: server_store.Snapshot = field(repr=False)
    fingerprint: str
    #: the ids of the edits this copy (and the copies it was rebased into) recorded on the server: a
    #: window watching the engagement tells its own saves from others' by them
    sent: set[str] = field(default_factory=set, repr=False)
    #: the fingerprint of the tables a Save writes when the window edits live (``SAVED_WHEN_LIVE``)
    shared_fingerprint: str = ""
    #: the window sends its edits of the live tables as it makes them (``services.live_mirror``):
    #: Save writes and checks only the rest
    live: bool = False
    #: whether a Save has something to write, as :func:`pending` last found (None: not known)
    pending: bool | None = field(default=None, repr=False)

    @property
    def reviewer(self) -> bool:
        return self.role == "reviewer"

    def close(self) -> None:
        """Close the copy and delete it (what it held is on the server, or was given up)."""
        self.engagement.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _new_folder() -> Path:
    return new_copy_folder()


def open_copy(url: ServerUrl, *, prompt: Prompt | None = None) -> ServerCopy:
    """Read the engagement ``url`` names into a new working copy (read-only for a reviewer)."""
    engagement_id = url.require_engagement("opening an engagement")
    folder = _new_folder()
    try:
        with _server(url, prompt) as pg:
            pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            pg.read_only = True
            with pg.transaction():
                _same_format(url, server_store.find(pg, url, "opening an engagement"))
                role = server_store.role(pg, engagement_id)
                path = _write_copy(pg, folder / f"{engagement_id}.ztmm")
                fingerprint = server_store.fingerprint(pg)
                shared = server_store.fingerprint(pg, server_store.SAVED_WHEN_LIVE)
        engagement = open_engagement(path, readonly=role == "reviewer", frequent_saves=role != "reviewer")
        try:
            with reading(engagement) as conn:
                base = server_store.snapshot(conn)
            engagement.assessments()  # what the window reads first, read here (off the UI thread)
            engagement.findings()
        except BaseException:
            engagement.close()
            raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return ServerCopy(url, role, engagement, folder, base, fingerprint, shared_fingerprint=shared)


def pending(copy: ServerCopy) -> bool:
    """Whether a Save has anything to write, cheaply after each edit: the rows are compared (``unsaved``)
    only when a table a Save writes was written since the last call (the working copy's change marks),
    so a live edit, which writes only live tables and the audit trail, costs a set intersection."""
    changes = getattr(copy.engagement.document, "changes", None)
    touched = changes.take_touched() if changes is not None else None
    saved = server_store.SAVED_WHEN_LIVE if copy.live else server_store.TABLES
    if copy.pending is None or touched is None or not touched.isdisjoint(saved):
        copy.pending = unsaved(copy)
    return copy.pending


def unsaved(copy: ServerCopy) -> bool:
    """Whether the copy holds changes a Save would write: for a live copy only what is not edited live
    (``server.store.SAVED_WHEN_LIVE``; its live edits are on the server as they are made), compared row
    by row with what the copy was read or last saved as."""
    tables = server_store.SAVED_WHEN_LIVE if copy.live else server_store.TABLES
    with reading(copy.engagement) as conn:
        return server_store.changed_since(conn, copy.base, tables)


def save(copy: ServerCopy, *, url: ServerUrl | None = None, prompt: Prompt | None = None) -> int:
    """Write the rows the copy changed since it was read back to the server; the rows written.
    (``url``: the copy's address with another password; kept by the copy once it worked.)

    ``ServerChanged`` (nothing written) when the server's engagement is no longer the one the copy
    was read from; ``ServerError`` for anything else the server refuses. A ``live`` copy writes and
    checks only what is not edited live (``server.store.SAVED_WHEN_LIVE``): its live edits, and
    everyone else's, are on the server already."""
    url = url or copy.url
    engagement_id = url.require_engagement("saving an engagement")
    copy.engagement.save()  # the copy's own file first: what is sent is what a crash would keep
    with _server(url, prompt) as pg:
        pg.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
        try:
            with pg.transaction():
                server_store.find(pg, url, "saving an engagement")
                tables = server_store.SAVED_WHEN_LIVE if copy.live else server_store.TABLES
                if server_store.fingerprint(pg, tables) != (copy.shared_fingerprint if copy.live else copy.fingerprint):
                    raise ServerChanged(
                        f"{url.display}: someone else saved this engagement since you opened it; nothing was written"
                    )
                edit_id = uuid.uuid4().hex
                copy.sent.add(edit_id)  # before the commit: a watching window knows its own save when told
                with reading(copy.engagement) as conn:
                    written = server_store.push_changes(
                        conn,
                        pg,
                        engagement_id,
                        copy.base,
                        edit_id=edit_id,
                        live=copy.live,
                        share=copy.engagement.assessed_share(),
                    )
                    base = server_store.snapshot(conn)
                fingerprint = server_store.fingerprint(pg)
                shared = server_store.fingerprint(pg, server_store.SAVED_WHEN_LIVE)
        except (psycopg.errors.SerializationFailure, psycopg.errors.UniqueViolation):
            # another writer committed while this one wrote
            raise ServerChanged(
                f"{url.display}: someone else saved this engagement at the same moment; nothing was written"
            ) from None
        except psycopg.errors.InsufficientPrivilege:
            raise ServerError(
                f"{url.display}: you may not change this engagement (a reviewer reads and comments only)"
            ) from None
    copy.base, copy.fingerprint, copy.shared_fingerprint, copy.url = base, fingerprint, shared, url
    copy.pending = None  # what is unsaved is measured against the new base
    return written


@dataclass(frozen=True)
class Rebase:
    """The server's engagement as it is now (a new copy), and what merging this copy's work into it does."""

    copy: ServerCopy
    plan: MergePlan
    #: a live copy's fields as the server held them when it was read (what its mirror agrees with)
    values: dict[tuple[str, str, str], object] | None = None


def plan_rebase(copy: ServerCopy, *, url: ServerUrl | None = None, prompt: Prompt | None = None) -> Rebase:
    """Read the server's current engagement into a new copy and plan bringing ``copy``'s work into it
    (the three-way merge: the server's side is *mine*, the work in the window *theirs*)."""
    copy.engagement.save()
    fresh = open_copy(url or copy.url, prompt=prompt)
    fresh.sent = copy.sent  # its save is this window's too
    fresh.live = copy.live
    try:
        plan = plan_merge(fresh.engagement, copy.engagement.path)
        values = None
        if copy.live:
            from .live_mirror import read_local

            values = read_local(fresh.engagement)
    except BaseException:
        fresh.close()
        raise
    return Rebase(fresh, plan, values)


def rebase(done: Rebase, resolutions: Mapping[str, str], *, prompt: Prompt | None = None) -> MergeResult | None:
    """Apply the planned merge to the new copy (``resolutions``: conflict key → ``mine`` or ``theirs``)
    and save it to the server; the caller then works on ``done.copy``."""
    result = apply_merge(done.copy.engagement, done.plan, dict(resolutions)) if done.plan else None  # type: ignore[arg-type]
    save(done.copy, prompt=prompt)
    return result


# -- a colleague's Save brought into a live copy -------------------------------------------------

#: The tables of ``SAVED_WHEN_LIVE`` that show as the engagement's properties, sections and logos, and
#: as its workshops, in the window (what :func:`take_shared` reports changed).
_METADATA = frozenset(
    {
        "engagement",
        "engagement_section",
        "engagement_logo",
        "consultancy_logo",
        "distribution",
        "report_version",
        "response",
    }
)
_WORKSHOPS = frozenset({"workshop", "workshop_attendee"})


@dataclass
class Shared:
    """The tables a live window's Save writes (``SAVED_WHEN_LIVE``) as the server holds them, read in one
    snapshot: their rows, the bytes of the evidence the copy lacked (in a file beside the copy, deleted by
    :meth:`discard`), and the fingerprint they were read at."""

    rows: dict[str, list[tuple[object, ...]]]
    fingerprint: str
    chunks: Path | None = None

    def discard(self) -> None:
        if self.chunks is not None:
            self.chunks.unlink(missing_ok=True)
            self.chunks = None


def read_shared(copy: ServerCopy, *, prompt: Prompt | None = None) -> Shared:
    """Off the UI thread: the server's ``SAVED_WHEN_LIVE`` tables in one ``REPEATABLE READ`` snapshot,
    with the bytes of only the evidence the copy does not hold, checked against their SHA-256."""
    import sqlite3

    tables = server_store.SAVED_WHEN_LIVE
    with reading(copy.engagement) as conn:
        columns = server_store.table_columns(conn, tables)
        held = {str(r[0]) for r in conn.execute("SELECT sha256 FROM main.blob")}
    chunks: Path | None = None
    with _server(copy.url, prompt) as pg:
        pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        pg.read_only = True
        with pg.transaction():
            _same_format(copy.url, server_store.find(pg, copy.url, "reading an engagement"))
            rows = server_store.read_rows(pg, columns)
            fingerprint = server_store.fingerprint(pg, tables)
            lacking = [row for row in rows[server_store.BLOB_TABLE] if str(row[0]) not in held]
            if lacking:
                chunks = copy.folder / f"incoming-{uuid.uuid4().hex}.sqlite"
                staged = sqlite3.connect(chunks)
                try:
                    staged.execute("CREATE TABLE blob_chunk (chunk_key TEXT, seq INTEGER, data BLOB)")
                    server_store.copy_chunks(pg, staged, lacking)
                    staged.commit()
                except BaseException:
                    staged.close()
                    chunks.unlink(missing_ok=True)
                    raise
                staged.close()
    return Shared(rows, fingerprint, chunks)


def take_shared(copy: ServerCopy, shared: Shared) -> Changes:
    """On the engagement's thread: make the copy's ``SAVED_WHEN_LIVE`` tables what ``shared`` read from the
    server, in one transaction (evidence bytes the copy lacked from ``shared.chunks``; evidence gone from
    the server dropped), and take them as the copy's base for those tables. What the window shows anew.

    The caller checks first that the copy has nothing of its own to save in those tables
    (:func:`pending`): what was there is replaced."""
    import sqlite3

    tables = server_store.SAVED_WHEN_LIVE
    try:
        with copy.engagement.session(write=True) as session:
            conn = raw_connection(session)
            held = {str(r[0]) for r in conn.execute("SELECT sha256 FROM main.blob")}
            linked = {
                str(r[0])
                for r in conn.execute(
                    "SELECT DISTINCT function_id FROM main.evidence_link WHERE function_id IS NOT NULL"
                )
            }
            done = server_store.replace_rows(conn, dict(shared.rows))
            new_keys = {str(r[3]) for r in shared.rows[server_store.BLOB_TABLE] if str(r[0]) not in held}
            if new_keys:
                if shared.chunks is None:
                    raise ServerError("the evidence's bytes were not read from the server; nothing was changed")
                staged = sqlite3.connect(shared.chunks)
                try:
                    for key in sorted(new_keys):
                        conn.executemany(
                            "INSERT INTO main.blob_chunk (chunk_key, seq, data) VALUES (?, ?, ?)",
                            staged.execute(
                                "SELECT chunk_key, seq, data FROM blob_chunk WHERE chunk_key = ? ORDER BY seq", (key,)
                            ),
                        )
                finally:
                    staged.close()
            base = server_store.snapshot_of(conn, tables)
            if done.get("evidence_link") or done.get("evidence"):
                linked |= {
                    str(r[0])
                    for r in conn.execute(
                        "SELECT DISTINCT function_id FROM main.evidence_link WHERE function_id IS NOT NULL"
                    )
                }
            else:
                linked = set()
            session.commit()
    finally:
        shared.discard()
        copy.engagement._forget()  # every cached read: the rows under them changed
    copy.base = {**copy.base, **base}
    copy.shared_fingerprint = shared.fingerprint
    copy.pending = None
    touched = {t for t, n in done.items() if n}
    return Changes(
        metadata=bool(touched & _METADATA) or bool(touched & {"baseline", "baseline_function"}),
        workshops=bool(touched & _WORKSHOPS),
        functions=frozenset(linked),  # whose evidence the tree counts
    )


def bring_in_shared(copy: ServerCopy, *, prompt: Prompt | None = None) -> Changes:
    """A colleague's Save brought into a live copy without reading the whole engagement again: the
    server's ``SAVED_WHEN_LIVE`` tables read (:func:`read_shared`) and written into the copy
    (:func:`take_shared`); what changed. (The window reads off its UI thread and writes on it.)"""
    return take_shared(copy, read_shared(copy, prompt=prompt))


def snapshot_file(url: ServerUrl, *, prompt: Prompt | None = None, evidence_bytes: bool = True) -> Path:
    """The server's engagement written to a new file in the app's data folder (the caller deletes its folder);
    without ``evidence_bytes`` only the evidence's records, for a reader of none of its bytes."""
    folder = _new_folder()
    try:
        with _server(url, prompt) as pg:
            pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            pg.read_only = True
            with pg.transaction():
                _same_format(url, server_store.find(pg, url, "merging an engagement"))
                return _write_copy(
                    pg, folder / f"{url.require_engagement('merging')}.ztmm", evidence_bytes=evidence_bytes
                )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def discard_snapshot(path: Path) -> None:
    """Delete a file ``snapshot_file`` made (and its folder)."""
    if path.parent.parent.name == COPIES:
        shutil.rmtree(path.parent, ignore_errors=True)


def listing(url: ServerUrl, *, prompt: Prompt | None = None) -> list[server_store.Listed]:
    from .team import engagements

    return engagements(url, prompt=prompt)
