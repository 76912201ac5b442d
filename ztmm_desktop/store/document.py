"""The engagement document on disk and the private working copy the app edits.

Consultants keep engagements in synced and network folders and copy them
while open, so the document is never edited in place, and what a command
costs must not grow with the evidence it holds (docs/storage.md):

* opening checks the file's header (SQLite magic, ``application_id``,
  ``user_version``) without writing to it, then passes the document through the
  file gate (``store.gate``: exact schema, structure of every table but the
  evidence bytes, every value) on a read-only connection to the document
  itself, before anything else reads it (the gate's checks only read);
* a read-only open (every reading command, a colleague's copy to merge or
  compare, a document someone else holds) reads the document in place:
  nothing is copied; every connection, the gate's included, must read the file
  that was checked (its identity is recorded before the check), so a file
  swapped after the check is refused, never read;
* opening for editing takes the lock beside the document and, once the
  document passed the gate, builds a private working copy in the app's data
  folder holding everything *except* the evidence bytes already in the
  document; those are read from the document, attached read-only to every
  connection, and only while the document held is the file that was checked. Every edit commits to the working
  copy at once (WAL, ``synchronous=FULL``), so a crash loses nothing
  acknowledged; a sidecar file names the document so the next start can offer
  recovery;
* saving clones the document beside itself (``copy_file_range``: a reflink on
  copy-on-write file systems, a kernel copy elsewhere), applies the working
  copy's records and the evidence added since in one transaction, fsyncs the
  clone and atomically replaces the document. A copy a sync client takes at
  any moment is the old document or the new one, never a mix.

The document is known by its real path (a symbolic link is resolved before the
lock is taken), so a writer through a link and one through the real name
exclude each other and the save lands in the real file. The sidecar is written before the copy is made, so a process killed
while copying leaves nothing that the next start cannot clean up; copies made by
the ``ztmm`` command carry a ``disposable`` mark (a command that did not finish
acknowledged nothing) and are deleted at the next start without asking.

An older schema and a read-only copy with damaged records left out (``salvage``
deletes them from a copy) still take the whole-copy path: the whole document is
copied into the working copy and the copy passes the gate before anything reads it.

An **encrypted** engagement (SQLCipher, ``connect.py``) takes the same paths with
its key: gated and read in place with the key (read-only, immutable); its records
copied into a working copy encrypted with the same key and salt, which attaches the
document ``KEY …`` for the older bytes; saved by cloning the encrypted document and
applying the working copy to the clone with the key. SQLCipher encrypts every page,
WAL frame and journal page, and temp data stays in memory, so nothing of it is
written in plaintext. Its whole-copy cases (older schema, damaged records left out)
copy its encrypted pages as they are, and a whole encrypted working copy (a new
file, an encryption just changed) is saved from its pages as they are (``snapshot_copy``).
Every connection, plain or encrypted, comes from ``connect.connect`` and is hardened
there (``gate.harden``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
import sqlite3
import stat
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..core.errors import EngagementFileError, ReadOnlyLocation
from ..paths import data_dir
from . import gate
from . import lock as lockmod
from . import working as working_copies
from .blobs import DOCUMENT_SCHEMA
from .connect import (
    Key,
    PassphraseNeeded,
    WrongKey,
    connect,
    encrypted_salt,
    module_for,
    readonly_uri,
)
from .files import fsync_file, fsync_folder, special_kind
from .migrations import APPLICATION_ID, SCHEMA_VERSION, create_baseline, migrate
from .working import _OPEN_WORKING, Changes, _remove_working

# The working copies' bookkeeping lives in ``working`` (no database layer: the ``ztmm`` command tidies
# them before it knows whether it opens an engagement); its names are this module's as before.
from .working import SIDECAR_SUFFIX as SIDECAR_SUFFIX
from .working import SPARE_SUFFIX as SPARE_SUFFIX
from .working import STRAY_COPY_GRACE_SECONDS as STRAY_COPY_GRACE_SECONDS
from .working import Orphan as Orphan
from .working import disposable_working_copies as disposable_working_copies
from .working import orphaned_working_copies as orphaned_working_copies
from .working import remove_stale_spares as remove_stale_spares

# SQLAlchemy is imported where an engine is made: the read-only commands read a document in place
# through plain sqlite3 (``services.records``) and never load it.
if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_MAGIC = b"SQLite format 3\x00"
_T = TypeVar("_T")


def real_path(path: Path) -> Path:
    """The absolute path with every symbolic link resolved: one document has one name."""
    return Path(os.path.realpath(path))


def storage_error(err: BaseException, what: str) -> EngagementFileError | None:
    """A one-line error for SQLite failing to write (disk full, I/O error); None for other errors."""
    errors = gate.errors("Error")  # sqlite3's, and sqlcipher3's for an encrypted engagement
    cause = err if isinstance(err, errors) else getattr(err, "orig", None)  # SQLAlchemy wraps it
    if not isinstance(cause, errors):
        return None
    code = getattr(cause, "sqlite_errorcode", None)
    text = str(cause)
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return EngagementFileError(f"{what}: the disk is full; free some space and try again")
    if (code is not None and code & 0xFF == sqlite3.SQLITE_IOERR) or "disk I/O error" in text:
        return EngagementFileError(f"{what}: the disk reported an error ({text})")
    if (code is not None and code & 0xFF == sqlite3.SQLITE_READONLY) or "readonly database" in text:
        return EngagementFileError(f"{what}: the app's data folder is read-only")
    return None


#: Page size of new documents and working copies. Evidence is stored in 1 MiB chunks: with
#: 16 KiB pages a chunk is 64 overflow pages instead of 256, and writing 256 MiB of chunks
#: takes 2.1 s instead of 3.6 s into a WAL file, 0.42 s instead of 1.24 s into a save's clone
#: (test machine). 64 KiB pages gain a little more but make an empty engagement 2.7 MB.
#: An existing document keeps its page size.
PAGE_SIZE = 16384
#: Page size of the working copy a document's records are copied into (``copy_records``): evidence
#: attached in a session goes into its write-ahead log, where each page is a frame of its own
#: (a header, a checksum, two writes); 64 KiB pages make a quarter of the frames. It never
#: leaves the data folder, so its size when empty (2.7 MB) costs no one.
WORKING_PAGE_SIZE = 65536

#: The table of evidence bytes: left in the document (never copied into a working copy) and
#: checked by SHA-256 whenever it is read, instead of by ``quick_check`` at every open.
BYTES_TABLE = "blob_chunk"

#: PRAGMAs set on every connection to a working copy (SECURITY.md items 2 and 3), after
#: ``gate.harden`` (docs/SECURITY.md: trusted_schema, cell_size_check, the watchdog).
CONNECTION_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA trusted_schema = OFF",
    "PRAGMA busy_timeout = 10000",
)
#: SQLite's default: a commit checkpoints the write-ahead log once it holds this many pages.
AUTOCHECKPOINT_PAGES = 1000
#: Where the engine keeps each connection's ``gate.Watchdog`` (the pool entry's ``info``).
WATCHDOG_KEY = "ztmm_watchdog"


def _describe_foreign(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (an Excel workbook or other Office file?)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old-style Office file (.xls or .doc)"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    return None


def check_document(path: Path, key: Key | None = None) -> int:
    """Refuse anything whose header is not an engagement file's; return its schema version.

    Reads the first 100 bytes only: nothing is written to it, whatever it holds. The
    rest is checked on the private copy (``gate.check_contents``), not on the original,
    which another program may change in between. An encrypted engagement needs its
    ``key`` (``PassphraseNeeded`` without one, ``WrongKey`` with a wrong one); its header
    is read with the key, read-only.
    """
    name = path.name
    if not path.exists():
        raise EngagementFileError(f"{path}: no such file")
    if path.is_dir():
        raise EngagementFileError(f"{path}: is a folder, not an engagement file")
    try:
        with path.open("rb") as handle:
            head = handle.read(100)
    except OSError as err:
        raise EngagementFileError(f"{name}: cannot be read ({err.strerror or err})") from None
    if not head:
        raise EngagementFileError(f"{name}: the file is empty, not an engagement file")
    encrypted = False
    if not head.startswith(SQLITE_MAGIC):
        kind = _describe_foreign(head)
        if kind is None and _looks_encrypted(path):
            if key is None:
                raise PassphraseNeeded(f"{name}: an encrypted engagement file; its passphrase is needed")
            encrypted = True
        else:
            what = f"it is {kind}" if kind else "it is not an SQLite database"
            raise EngagementFileError(f"{name}: not a ZTMM engagement file ({what})")
    if encrypted:
        user_version, application_id = _encrypted_header(path, key)
    elif len(head) < 100:
        raise EngagementFileError(f"{name}: the file is truncated")
    else:
        user_version = int.from_bytes(head[60:64], "big")
        application_id = int.from_bytes(head[68:72], "big")
    if application_id != APPLICATION_ID:
        raise EngagementFileError(f"{name}: an SQLite database, but not a ZTMM engagement file")
    if user_version > SCHEMA_VERSION:
        raise EngagementFileError(
            f"{name}: made by a newer version of ZTMM Workbench (file schema {user_version}, "
            f"this version reads up to {SCHEMA_VERSION}); please update the app"
        )
    if user_version < 1:
        raise EngagementFileError(f"{name}: the engagement file has no schema (damaged?)")
    return user_version


def _looks_encrypted(path: Path) -> bool:
    return encrypted_salt(path) is not None


def _encrypted_header(path: Path, key: Key | None) -> tuple[int, int]:
    """``user_version`` and ``application_id`` of an encrypted file (read with its key, read-only)."""
    try:
        conn = connect(path, key=key, readonly=True)
        try:
            user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        finally:
            conn.close()
    except gate.errors("DatabaseError") as err:
        raise EngagementFileError(f"{path.name}: the engagement file is damaged ({gate.error_text(err)})") from None
    return user_version, application_id


#: Which file a path named when it was checked: device, inode, size and modification time.
Identity = tuple[int, int, int, int]


def file_identity(path: Path | int) -> Identity | None:
    """The identity of the file at ``path`` (or open as descriptor ``path``), None if it is gone."""
    try:
        st = os.fstat(path) if isinstance(path, int) else os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _replaced(name: str, *, opening: bool = True) -> EngagementFileError:
    if not opening:
        return EngagementFileError(
            f"{name}: changed on disk since it was opened (another copy was synced or saved); open it again"
        )
    return EngagementFileError(f"{name}: the file was replaced while it was being opened; open it again")


def _connect_in_place(
    path: Path,
    identity: Identity | None,
    *,
    opening: bool = True,
    watchdog: gate.Watchdog | None = None,
    key: Key | None = None,
) -> sqlite3.Connection:
    """A read-only connection to the document itself, refused unless it reads the file that was
    checked: the header is read through this connection, then the path must still name the
    file recorded at the check (a file swapped in between is never read in place, and a session
    never reads two different files through two connections). An encrypted document is read
    with its ``key`` (a file the key does not open is one swapped in, too)."""
    name = path.name
    try:
        conn = connect(path, key=key, readonly=True, check_same_thread=False, watchdog=watchdog)
    except WrongKey:
        raise _replaced(name, opening=opening) from None
    try:
        try:
            application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        except gate.errors("DatabaseError"):
            raise _replaced(name, opening=opening) from None
        if application_id != APPLICATION_ID or version != SCHEMA_VERSION:
            raise _replaced(name, opening=opening)
        if identity is None or file_identity(path) != identity:
            raise _replaced(name, opening=opening)
    except BaseException:
        conn.close()
        raise
    return conn


def backup_file(
    source: Path,
    target: Path,
    *,
    source_readonly: bool = False,
    key: Key | None = None,
    target_key: Key | None = None,
    check: Callable[[sqlite3.Connection, gate.Watchdog], _T] | None = None,
) -> _T | None:
    """Copy an SQLite database page by page with the online backup API.

    The copy uses the rollback journal (one self-contained file) and is fsynced.
    ``check`` runs on the copy's own connection once it is complete (while its pages
    are still in that connection's cache), before the sync; what it returns is returned.
    With a ``key`` both are encrypted, the copy with ``target_key`` when given (a new
    passphrase), else with ``key``. Encrypting or decrypting a file is ``convert_file``.
    """
    result = None
    src = connect(source, key=key, readonly=source_readonly)
    try:
        watchdog = gate.Watchdog()
        dst = connect(target, key=target_key or key, autocommit=True, watchdog=watchdog)
        try:
            # The target is a fresh temp file that is fsynced and then renamed into
            # place (or discarded): journaling and syncing each page would only cost time.
            dst.execute("PRAGMA journal_mode = OFF")
            dst.execute("PRAGMA synchronous = OFF")
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
            if check is not None:
                result = check(dst, watchdog)
        finally:
            dst.close()
    finally:
        src.close()
    fsync_file(target)  # an error here (disk full, I/O) is raised: the copy is not trusted
    return result


def snapshot_copy(working: Path, target: Path, key: Key) -> bool:
    """Copy an encrypted working copy's last committed state to ``target``, its pages as they are on disk.

    The backup API would decrypt and re-encrypt every page (about four times the cost of the copy on
    1 GiB); the working copy's pages are already encrypted with the document's key and salt. A read
    transaction pins a snapshot, then a passive checkpoint writes every committed page into the file:
    when it has written all of the WAL, the file holds exactly that snapshot, and while the snapshot is
    held SQLite writes no later page into the file (WAL readers' guarantee), so writers may go on
    committing while the bytes are copied. When they keep the checkpoint from catching up, the backup
    API is used instead. The copy is then switched out of WAL mode and fsynced, as ``backup_file`` does.
    True when the pages were copied as they are, False when the backup API made the copy.
    """
    reader = connect(working, key=key, autocommit=True)
    try:
        checkpointer = connect(working, key=key, autocommit=True)
        try:
            pinned = False
            for _attempt in range(5):
                reader.execute("BEGIN")
                reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
                _busy, log, done = checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if log == done:
                    pinned = True
                    break
                reader.execute("COMMIT")
        finally:
            checkpointer.close()
        if pinned:
            shutil.copyfile(working, target)
            reader.execute("COMMIT")
    finally:
        reader.close()
    if not pinned:
        backup_file(working, target, key=key)
        return False
    conn = connect(target, key=key)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")  # the document is one self-contained file
    finally:
        conn.close()
    fsync_file(target)  # an error here (disk full, I/O) is raised: the copy is not trusted
    return True


def convert_file(source: Path, target: Path, *, key: Key | None, target_key: Key | None) -> None:
    """Copy a database between plain and encrypted (``sqlcipher_export``: the backup API cannot).

    ``target`` is a new file; its schema, rows, ``user_version`` and ``application_id``
    are the source's. Used by Encrypt and Remove encryption. The source is a working
    copy (it passed the gate); its connection is hardened like every other, with the
    gate's budget (the export of a large engagement is one long statement).
    """
    from .connect import cipher_module

    module = cipher_module()
    src = module.connect(str(source), isolation_level=None)
    try:
        src.execute("PRAGMA cipher_log_level = NONE")
        if key is not None:
            src.execute(key.pragma())
        gate.harden(src, steps=gate.GATE_STEPS)
        src.execute("PRAGMA temp_store = MEMORY")
        user_version = int(src.execute("PRAGMA user_version").fetchone()[0])
        application_id = int(src.execute("PRAGMA application_id").fetchone()[0])
        secret = f"x'{target_key.raw.hex()}{target_key.salt.hex()}'" if target_key is not None else ""
        src.execute("ATTACH DATABASE ? AS converted KEY ?", (str(target), secret))
        try:
            src.execute("SELECT sqlcipher_export('converted')")
            src.execute(f"PRAGMA converted.user_version = {user_version}")
            src.execute(f"PRAGMA converted.application_id = {application_id}")
        finally:
            src.execute("DETACH DATABASE converted")
    finally:
        src.close()
    fsync_file(target)


def _configure_engine(
    engine: Engine,
    readonly: bool,
    *,
    in_place: bool = False,
    attach: Path | None = None,
    key: Key | None = None,
    changes: Changes | None = None,
) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        # ``connect`` hardened it already; this watchdog is the engine's, reset before every statement
        record.info[WATCHDOG_KEY] = gate.harden(dbapi_connection)
        cursor = dbapi_connection.cursor()
        if in_place:  # the document itself: read, never written (not even its journal mode)
            cursor.execute("PRAGMA query_only = ON")
            cursor.close()
            return
        for pragma in CONNECTION_PRAGMAS:
            cursor.execute(pragma)
        if readonly:
            cursor.execute("PRAGMA query_only = ON")
        if attach is not None:  # the evidence bytes the working copy does not hold
            _attach_document(cursor, attach, key)
        cursor.close()
        if changes is not None and not readonly:
            track_changes(dbapi_connection, changes)

    if attach is not None:

        @event.listens_for(engine, "checkout")
        def _on_checkout(dbapi_connection: sqlite3.Connection, *args: object) -> None:
            # Evidence bytes attached since the last save wait in the write-ahead log for the save,
            # which copies them into the document; no commit checkpoints them into the working copy
            # meanwhile (a second write of every byte). With none waiting, SQLite's usual checkpoints.
            waiting = dbapi_connection.execute(f"SELECT EXISTS (SELECT 1 FROM main.{BYTES_TABLE})").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {0 if waiting else AUTOCHECKPOINT_PAGES}")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front (no lock upgrade deadlocks, one writer
        # at a time); readers use a deferred WAL snapshot and never block a writer.
        immediate = not readonly and conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _on_statement(conn: Connection, *args: object) -> None:
        # The watchdog counts from the start of each statement (and each transaction:
        # BEGIN is one), so raw statements in a session share the budget since then.
        watchdog = conn.info.get(WATCHDOG_KEY)
        if watchdog is not None:
            watchdog.reset()


def _attach_document(
    cursor: sqlite3.Cursor | sqlite3.Connection, document: Path, key: Key | None, schema: str = DOCUMENT_SCHEMA
) -> None:
    """Attach ``document`` read-only and immutable as ``schema``; an encrypted one with its ``key``
    (the connection's own key is the same, but SQLCipher is told explicitly: never as plain)."""
    if key is None:
        cursor.execute(f"ATTACH DATABASE ? AS {schema}", (readonly_uri(document),))
    else:
        cursor.execute(f"ATTACH DATABASE ? AS {schema} KEY ?", (readonly_uri(document), key.secret()))


def track_changes(conn: sqlite3.Connection, changes: Changes) -> None:
    """Mark in ``changes`` every table of the working copy a statement on ``conn`` writes a row of.

    TEMP triggers (this connection's own, nothing is written to the file) call back into the process
    for each row inserted, updated or deleted, whatever wrote it (the ORM, a raw statement, a rolled
    back transaction: marking too much costs time, never correctness). ``recursive_triggers`` makes a
    row that ``INSERT OR REPLACE`` replaces count as deleted. The schema has no triggers of its own."""
    conn.execute("PRAGMA recursive_triggers = ON")
    conn.create_function("ztmm_changed", 2, changes.mark)
    for table in _tables(conn):  # the working copy's schema passed the gate: these are its own names
        for event, rewritten in (("INSERT", 0), ("UPDATE", 1), ("DELETE", 1)):
            conn.execute(
                f'CREATE TEMP TRIGGER "ztmm_changed_{event.lower()}_{table}" AFTER {event} ON main."{table}" '
                f"BEGIN SELECT ztmm_changed('{table}', {rewritten}); END"
            )


#: Execution option that makes a transaction a writer (``BEGIN IMMEDIATE``).
WRITE_OPTION = "ztmm_write"


def make_engine(
    path: Path,
    *,
    readonly: bool = False,
    in_place: bool = False,
    attach: Path | None = None,
    identity: Identity | None = None,
    key: Key | None = None,
    changes: Changes | None = None,
) -> Engine:
    """An engine on a working copy (``attach``: the document holding its older evidence bytes),
    or ``in_place`` on a document itself, read-only, whose every connection must read the file
    of ``identity`` (recorded when it was checked; see :func:`_connect_in_place`). Every
    connection comes from ``connect``; with ``key`` (an encrypted engagement) the working copy,
    the attached document and the document read in place are all opened with it. ``changes``: the
    tables every connection writes are marked there (:func:`track_changes`)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    connected = threading.Event()  # the first connection is made while opening

    def creator() -> sqlite3.Connection:
        if in_place:
            conn = _connect_in_place(path, identity, opening=not connected.is_set(), key=key)
            connected.set()
            return conn
        # by URI, so that the document can be attached read-only (``mode=ro&immutable=1``)
        return connect(path, key=key, check_same_thread=False, uri=True)

    engine = create_engine(
        "sqlite://", module=module_for(key), creator=creator, poolclass=QueuePool, pool_size=2, max_overflow=2
    )
    _configure_engine(engine, readonly or in_place, in_place=in_place, attach=attach, key=key, changes=changes)
    return engine


def copy_records(document: Path, working: Path, *, identity: Identity | None = None, key: Key | None = None) -> None:
    """Make ``working`` the document without its evidence bytes: the schema by the frozen
    steps, then every row of every other table. The cost follows the records, not the evidence.

    A document that passed the gate: ``identity`` is the file that was checked, and the rows
    are copied only from it (read through this connection, then the path must still name that
    file). An encrypted document (``key``) gets a working copy encrypted with the same key; the
    rows go from one to the other inside SQLCipher (temp data in memory), never in plaintext."""
    conn = connect(working, key=key, autocommit=True, uri=True, watchdog=gate.Watchdog(gate.GATE_STEPS))
    try:
        if key is None:  # (an encrypted copy keeps SQLCipher's page size: every connection to it must agree)
            conn.execute(f"PRAGMA page_size = {WORKING_PAGE_SIZE}")
        # Bytes dropped after a save give their pages back to the file system: the file shrinks,
        # so a checkpoint skips the log's frames of those pages instead of writing them (``drop_saved_bytes``).
        conn.execute("PRAGMA auto_vacuum = FULL")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        create_baseline(conn)
        conn.execute("COMMIT")
        _attach_document(conn, document, key, "source")
        conn.execute("BEGIN IMMEDIATE")
        # What is copied is what was checked: the same engagement schema, read through this connection.
        application_id = int(conn.execute("PRAGMA source.application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA source.user_version").fetchone()[0])
        if application_id != APPLICATION_ID or version != SCHEMA_VERSION:
            raise _replaced(document.name)
        if identity is not None and file_identity(document) != identity:
            raise _replaced(document.name)
        for table in _tables(conn):
            if table != BYTES_TABLE:
                columns = _columns(conn, table)
                conn.execute(f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM source."{table}"')
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE source")
    finally:
        conn.close()
    fsync_file(working)


def _tables(conn: sqlite3.Connection, schema: str = "main") -> list[str]:
    return [
        str(row[0])
        for row in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]


def _columns(conn: sqlite3.Connection, table: str) -> str:
    return ", ".join(f'"{row[1]}"' for row in conn.execute(f'PRAGMA main.table_info("{table}")'))


def clone_file(source: Path | int, target: Path, stop: threading.Event | None = None) -> None:
    """Copy ``source`` to a new file ``target`` inside the kernel (``copy_file_range``: a reflink
    that shares the blocks on btrfs, XFS and other copy-on-write file systems); a plain copy
    where the platform has no such call. ``source`` may be an open file descriptor (of a document
    that has since been replaced on disk); it is read at explicit offsets, so two clones of one
    descriptor never disturb each other. ``stop`` set: give up between two pieces."""
    fd = source if isinstance(source, int) else os.open(source, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        with target.open("xb") as dst:
            offset = 0
            copy_range = getattr(os, "copy_file_range", None)
            if copy_range is not None:
                try:
                    while offset < size:
                        if stop is not None and stop.is_set():
                            raise InterruptedError("stopped")
                        done = copy_range(fd, dst.fileno(), min(size - offset, 64 << 20), offset, offset)
                        if done == 0:
                            break
                        offset += done
                except OSError as err:
                    if err.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                        raise
            while offset < size:  # no kernel copy (or not for these two files): the rest by hand
                if stop is not None and stop.is_set():
                    raise InterruptedError("stopped")
                data = os.pread(fd, min(size - offset, 8 << 20), offset)
                if not data:
                    break
                dst.seek(offset)
                dst.write(data)
                offset += len(data)
    finally:
        if not isinstance(source, int):
            os.close(fd)


def apply_working_copy(
    working: Path, target: Path, key: Key | None = None, changes: Changes | None = None
) -> tuple[list[str], Changes | None]:
    """Make ``target`` (a clone of the document) hold what ``working`` holds, in one transaction.

    Every table but the evidence bytes is replaced by the working copy's rows; bytes the
    document has that no blob refers to any more are dropped; bytes only the working copy has
    (attached in this session) are added. Then every blob must have its bytes and every
    reference must resolve, or nothing is written. An encrypted engagement's clone and working
    copy are both opened with its ``key`` (the journal in memory, temp data in memory).

    ``changes``: the tables written since the document ``target`` is a clone of was saved (the
    session's :class:`Changes`); only those are applied: a table only inserted into gets the rows it
    lacks appended, any other written table is replaced, and the bytes and references are checked
    where those changes can have broken them. They are taken once this transaction holds the working
    copy's write lock (no edit is then half made), and handed back (to be put back if the clone does
    not become the document); on a failure here they are put back. None: every table, as a whole.

    Returns the chunk keys of the working copy's bytes, all of which ``target`` now holds (none
    when no blob was written since the last save: the working copy then holds none but saved
    ones), and the changes taken.
    """
    conn = connect(target, key=key, autocommit=True, uri=True, watchdog=gate.Watchdog(gate.GATE_STEPS))
    taken: Changes | None = None
    chunk_keys: list[str] = []
    try:
        conn.execute("PRAGMA journal_mode = MEMORY")  # a private temp file: discarded if anything fails
        conn.execute("PRAGMA synchronous = OFF")  # fsynced as a whole before it replaces the document
        conn.execute("PRAGMA foreign_keys = OFF")  # checked once at the end instead of row by row
        if key is None:
            conn.execute("ATTACH DATABASE ? AS work", (working.absolute().as_uri(),))
        else:
            conn.execute("ATTACH DATABASE ? AS work KEY ?", (working.absolute().as_uri(), key.secret()))
        conn.execute("BEGIN IMMEDIATE")  # the write lock of the clone and of the working copy
        taken = changes.take() if changes is not None else None
        everything = taken is None or taken.everything
        written = set() if taken is None else taken.tables()
        rewritten = set() if taken is None else taken.rewritten
        tables = _tables(conn)
        for table in tables:
            if table == BYTES_TABLE or not (everything or table in written):
                continue
            columns = _columns(conn, table)
            if not everything and table not in rewritten and _append(conn, table, columns):
                continue  # only inserted into since the last save (the audit trail): the new rows appended
            conn.execute(f'DELETE FROM main."{table}"')
            conn.execute(f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM work."{table}"')
        if everything or {"blob", BYTES_TABLE} & written:  # else the clone's blobs and bytes are the working copy's
            conn.execute(f"DELETE FROM main.{BYTES_TABLE} WHERE chunk_key NOT IN (SELECT chunk_key FROM main.blob)")
            # Key by key: an INSERT that reads its own target table in a subquery would first copy
            # every selected byte into a temp table (on disk, unencrypted) before inserting it.
            chunk_keys = [str(row[0]) for row in conn.execute(f"SELECT DISTINCT chunk_key FROM work.{BYTES_TABLE}")]
            for chunk_key in chunk_keys:
                if conn.execute(
                    f"SELECT 1 FROM main.{BYTES_TABLE} WHERE chunk_key = ? LIMIT 1", (chunk_key,)
                ).fetchone():
                    continue  # saved before in this session
                conn.execute(
                    f"INSERT INTO main.{BYTES_TABLE} (chunk_key, seq, data) "
                    f"SELECT chunk_key, seq, data FROM work.{BYTES_TABLE} WHERE chunk_key = ? ORDER BY seq",
                    (chunk_key,),
                )
            missing = conn.execute(
                f"SELECT count(*) FROM main.blob AS b WHERE b.chunks > 0 AND NOT EXISTS "
                f"(SELECT 1 FROM main.{BYTES_TABLE} AS c WHERE c.chunk_key = b.chunk_key AND c.seq = b.chunks - 1)"
            ).fetchone()[0]
            if missing:
                raise EngagementFileError(
                    f"the bytes of {missing} evidence item(s) are no longer in the document on disk "
                    "(it was replaced since it was opened); nothing was saved"
                )
        if everything:
            broken = conn.execute("PRAGMA main.foreign_key_check").fetchone() is not None
        else:  # a written table's references, and those of tables referring to one whose rows changed or went
            broken = any(
                conn.execute(f'PRAGMA main.foreign_key_check("{table}")').fetchone() is not None
                for table in tables
                if table in written or _parents(conn, table) & rewritten
            )
        if broken:
            raise EngagementFileError("the working copy refers to records it does not hold; nothing was saved")
        version = int(conn.execute("PRAGMA work.user_version").fetchone()[0])
        conn.execute(f"PRAGMA main.user_version = {version}")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE work")
    except BaseException:
        if changes is not None and taken is not None:
            changes.put_back(taken)  # nothing of them was saved
        raise
    finally:
        conn.close()
    return chunk_keys, taken


def drop_saved_bytes(conn: sqlite3.Connection, keys: list[str]) -> None:
    """Drop from a working copy the evidence bytes a save has just put into the document.

    The working copy reads them from the document from now on (attached as ``doc``). Its file
    gives their pages back (``auto_vacuum``), so the checkpoint after it skips the log's frames
    of those pages: bytes attached in a session are written into the log once and into the
    document once, never into the working copy's file. Only after the document holding them
    replaced the old one: a crash before leaves them in the working copy, a crash after in both.
    """
    if not keys:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for key in keys:
            conn.execute(f"DELETE FROM main.{BYTES_TABLE} WHERE chunk_key = ?", (key,))
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(*gate.errors("Error")):
            conn.execute("ROLLBACK")
        raise
    # Their frames lie past the end of the file now and are skipped. The log file keeps its size
    # (the next writes reuse it; it goes with the working copy): truncating 256 MiB of it took
    # 100 ms, a third of what the save itself costs.
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def _parents(conn: sqlite3.Connection, table: str) -> set[str]:
    """The tables ``table`` of the clone refers to."""
    return {str(row[2]) for row in conn.execute(f'PRAGMA main.foreign_key_list("{table}")')}


def _append(conn: sqlite3.Connection, table: str, columns: str) -> bool:
    """Append to ``table`` of the clone the working copy's rows past its last ``INTEGER PRIMARY KEY``;
    True when both then hold as many rows. Rows were only inserted into the table since the clone's
    document was saved, so the clone's rows are all in the working copy, unchanged: with as many
    rows, the two are the same. False (nothing certain): the caller replaces the whole table."""
    keys = [row for row in conn.execute(f'PRAGMA main.table_info("{table}")') if row[5]]
    if len(keys) != 1 or str(keys[0][2]).upper() != "INTEGER":
        return False
    key = f'"{keys[0][1]}"'
    last = conn.execute(f'SELECT max({key}) FROM main."{table}"').fetchone()[0]
    conn.execute(
        f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM work."{table}" WHERE {key} > ?',
        (last if last is not None else -(2**63),),
    )
    same = f'SELECT (SELECT count(*) FROM main."{table}") = (SELECT count(*) FROM work."{table}")'
    return bool(conn.execute(same).fetchone()[0])


class Spare:
    """A clone of the document, made in the background after an open or a save, so that the next
    save applies its changes to it (milliseconds) instead of cloning while the consultant waits.

    It lives in the data folder (never in a synced folder, where a sync client would upload it)
    on the document's file system, so that the save can still replace the document by ``rename``.
    A spare is used only if the document on disk is still the one it was cloned from.
    """

    def __init__(self, document: Path, source: int, folder: Path) -> None:
        self.document = document
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex}{SPARE_SUFFIX}"
        self._source = os.dup(source)  # the document as this session knows it, even if replaced since
        self._stop = threading.Event()
        self._ok = False
        self._thread = threading.Thread(target=self._make, name="ztmm-spare", daemon=True)
        self._thread.start()

    @classmethod
    def for_document(cls, document: Path, source: int) -> Spare | None:
        """A spare for ``document``, or None where it could not be renamed over it (another file system)."""
        folder = data_dir() / "spare"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.stat(folder).st_dev != os.stat(document.parent).st_dev:
                return None
        except OSError:
            return None
        return cls(document, source, folder)

    def _make(self) -> None:
        try:
            clone_file(self._source, self.path, self._stop)
            fsync_file(self.path)
            self._ok = True
        except (OSError, InterruptedError):
            with contextlib.suppress(OSError):
                self.path.unlink()
        finally:
            os.close(self._source)

    def take(self) -> Path | None:
        """The ready clone (waiting for it if need be), or None when it cannot stand for the document."""
        self._thread.join()
        if self._ok and self.path.is_file():
            return self.path
        self.discard()
        return None

    def discard(self) -> None:
        self._stop.set()
        self._thread.join()
        _remove_now_free_later(self.path)


def _release_later(fd: int) -> None:
    """Close ``fd`` off this thread: closing the last handle of a large file frees its blocks,
    about 0.2 s per GiB on ext4 — too long for the UI thread that closes or saves."""
    threading.Thread(target=os.close, args=(fd,), name="ztmm-release", daemon=True).start()


def _remove_now_free_later(path: Path) -> None:
    """Remove ``path`` from its folder now (0.05 ms) and free its blocks on another thread."""
    fd = None
    if os.name != "nt":  # (Windows refuses to remove an open file)
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY)
    with contextlib.suppress(OSError):
        path.unlink()
    if fd is not None:
        _release_later(fd)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _new_document_path(path: Path) -> Path:
    """``path`` resolved, for a new document: refused when something is there or its folder is not."""
    path = real_path(path)
    if os.path.lexists(path):
        raise EngagementFileError(f"{path}: already exists; choose another name")
    if not path.parent.is_dir():
        raise EngagementFileError(f"{path.parent}: no such folder")
    return path


class EngagementDocument:
    """An open engagement: the document, its lock and its private working copy."""

    def __init__(
        self,
        document: Path,
        working: Path | None,
        lock: lockmod.DocumentLock | None,
        readonly: bool,
        *,
        partial: bool = False,
        identity: Identity | None = None,
        key: Key | None = None,
    ) -> None:
        """``working`` None: the document is read in place (read-only), only while it is the file
        of ``identity``. ``partial``: the working copy holds the records and new bytes, the
        document the bytes it had when opened. ``key``: an encrypted engagement (its document, working
        copy and clones are all read and written with it)."""
        self.document = document
        self._identity = identity
        self.working = working
        self.lock = lock
        self.readonly = readonly
        self.partial = partial
        #: The document's SQLCipher key (None: a plain file); the working copy has the same.
        self.key = key
        #: The tables written since the document was last saved (all of them until a save says otherwise).
        self.changes = Changes()
        self.engine = self._make_engine()
        #: A connection to a partial working copy held from its first save to its close, so that the
        #: engine letting go of its connections (``_write_to``) is never the last close, which would
        #: checkpoint the evidence bytes waiting in the write-ahead log into the working copy's file.
        self._keeper: sqlite3.Connection | None = None
        self._keeper_watchdog = gate.Watchdog()
        #: The chunk keys of the bytes the last save put into the document (dropped from the working copy).
        self._saved_keys: list[str] = []
        self.migrated_from: int | None = None
        self.backup_path: Path | None = None
        #: Damaged records the gate left out of a read-only copy (``open(leave_out_damaged=True)``).
        self.left_out: list[gate.Problem] = []
        #: The document on disk was written by this session (a whole working copy may be applied onto it).
        self._wrote_document = False
        self._disk_stamp = _stamp(document)
        self.spare: Spare | None = None
        self.keep_spare = False
        # The document this session opened (or last saved), held open: its evidence bytes are the
        # base of the next save even if a sync client replaces the file meanwhile.
        self._source: int | None = None
        if partial:
            self._hold_source()
        if working is not None:
            self._write_sidecar()
            _OPEN_WORKING.add(working)

    @property
    def in_place(self) -> bool:
        """Read in place: nothing was copied, nothing can be written."""
        return self.working is None

    def _make_engine(self) -> Engine:
        if self.working is None:
            return make_engine(self.document, in_place=True, identity=self._identity, key=self.key)
        return make_engine(
            self.working,
            readonly=self.readonly,
            attach=self.document if self.partial else None,
            key=self.key,
            changes=self.changes,
        )

    # -- opening -----------------------------------------------------------

    @staticmethod
    def _new_working_path(document: Path, readonly: bool, encrypted: bool = False) -> Path:
        """A fresh working copy's name, with its sidecar written first (``state``: opening), so that a
        process killed while copying leaves a copy the next start knows is nobody's."""
        folder = data_dir() / "working"
        working = folder / f"{uuid.uuid4().hex}.ztmm"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_sidecar_file(working, document, readonly, state="opening", encrypted=encrypted)
        except OSError as err:
            _remove_working(working)
            raise EngagementFileError(
                f"cannot open {document.name}: the app's data folder cannot be written ({err.strerror or err})"
            ) from None
        _OPEN_WORKING.add(working)
        return working

    @classmethod
    def create(
        cls, path: Path, initialise: Callable[[sqlite3.Connection], None], *, key: Key | None = None
    ) -> EngagementDocument:
        """Make a new document at ``path`` (which must not exist) and open it for editing; encrypted with ``key``."""
        path = _new_document_path(path)
        lock = lockmod.DocumentLock(path)
        lock.acquire()
        try:
            working = cls._new_working_path(path, readonly=False, encrypted=key is not None)
        except BaseException:
            lock.release()
            raise
        try:
            conn = connect(working, key=key, autocommit=True)
            try:
                if key is None:  # (an encrypted file keeps SQLCipher's page size, which any SQLCipher 4 tool expects)
                    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # before anything is written
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("BEGIN IMMEDIATE")
                initialise(conn)
                conn.execute("COMMIT")
            finally:
                conn.close()
            doc = cls(path, working, lock, readonly=False, key=key)
            doc._disk_stamp = None
            doc.save(new_document=True)
            return doc
        except BaseException as err:
            _OPEN_WORKING.discard(working)
            _remove_working(working)
            lock.release()
            failure = storage_error(err, f"cannot create {path.name}")
            if failure is not None:
                raise failure from None
            raise

    @staticmethod
    def write_new(path: Path, initialise: Callable[[sqlite3.Connection], None]) -> Path:
        """Write a new plain document at ``path`` (which must not exist) in one pass, without opening it
        for editing: what ``create`` then ``close`` leave, with each byte written once instead of three
        times (the working copy's log, its checkpoint, the first save's copy). For a document made whole
        from elsewhere (a checkout of a server's engagement); the caller gates it like any file opened.

        The rows go into a fresh file beside ``path`` (the name a save's clone takes, so a killed write is
        cleared like a killed save), unjournaled and unsynced page by page: nothing reads it before it is
        complete, and any failure deletes it. It is fsynced, then renamed into place under the document's
        lock, and the folder is fsynced."""
        path = _new_document_path(path)
        lock = lockmod.DocumentLock(path)
        lock.acquire()
        temp = _saving_path(path)
        try:
            conn = connect(temp, autocommit=True)
            try:
                conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # before anything is written
                conn.execute("PRAGMA journal_mode = OFF")
                conn.execute("PRAGMA synchronous = OFF")
                conn.execute("BEGIN IMMEDIATE")
                initialise(conn)
                conn.execute("COMMIT")
                conn.execute("PRAGMA journal_mode = DELETE")
            finally:
                conn.close()
            fsync_file(temp)  # an error here (disk full, I/O) is raised before anything is in place
            _refuse_special(path)
            if os.path.lexists(path):
                raise EngagementFileError(f"{path}: already exists; choose another name")
            os.replace(temp, path)
            with contextlib.suppress(OSError):  # the file is complete and in place
                fsync_folder(path.parent)
            return path
        except BaseException as err:
            with contextlib.suppress(OSError):
                temp.unlink()
            if isinstance(err, OSError):
                raise EngagementFileError(f"cannot create {path.name}: {err.strerror or err}") from None
            failure = storage_error(err, f"cannot create {path.name}")
            if failure is not None:
                raise failure from None
            raise
        finally:
            lock.release()

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        readonly: bool = False,
        recover: Orphan | None = None,
        vocabulary: gate.Vocabulary | None = None,
        leave_out_damaged: bool = False,
        key: Key | None = None,
    ) -> EngagementDocument:
        """Open ``path``; for editing unless ``readonly``. ``recover`` reuses a crashed session's copy.

        Whatever is read passes the file gate first (``vocabulary``: the catalog's ids): a
        plain document of the current schema is gated where it lies, read-only, and then
        read in place (``readonly``) or has its records copied (for editing); anything else
        is copied whole and the copy is gated. A file that fails is refused with
        ``gate.GateError`` and nothing is left behind. With ``leave_out_damaged`` (read-only
        only) records out of their domain are left out of a whole copy instead (``left_out``
        lists them). An encrypted document needs its ``key`` and takes the same paths, every
        step with the key: gated and read in place, or its records copied into a working copy
        encrypted with the same key that attaches the document with it.
        """
        path = real_path(path)
        lock: lockmod.DocumentLock | None = None
        if leave_out_damaged and not readonly:
            raise EngagementFileError(f"{path.name}: damaged records can be left out only when opening read-only")
        refuse_missing_or_special(path)
        if encrypted_salt(path) is None:
            key = None  # a plain file (a passphrase given for it is not needed)
        if not readonly:
            if not os.access(path, os.W_OK):
                raise ReadOnlyLocation(f"{path.name}: the file is read-only; open it read-only")
            lock = lockmod.DocumentLock(path)
            lock.acquire()
            remove_killed_saves(path)
        identity = file_identity(path)  # before the check: a file swapped after it is refused
        plain_read = readonly and recover is None and not leave_out_damaged
        if plain_read and checked_in_place(path, identity, vocabulary, key):  # read where it is: no copy
            doc = cls(path, None, None, readonly=True, identity=identity, key=key)
            try:  # the first connection is made (and the file it reads verified) now
                doc.engine.connect().close()
            except BaseException:
                doc.engine.dispose()
                raise
            return doc
        partial = False
        try:
            working = cls._new_working_path(path, readonly, encrypted=key is not None)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        try:
            # refuses early with a precise reason; what is read passes the gate below
            version = check_document(path) if key is None else check_document(path, key)
            left_out: list[gate.Problem] = []
            if recover is not None:
                # checked where it is, so that a refused copy stays on offer (nothing lost)
                version, left_out = _check_working_copy(
                    recover.working, f"the unsaved work of {path.name}", vocabulary, key
                )
                partial = recover.partial
                if partial:  # its older evidence bytes are read from the document: that passes the gate too
                    _gate_in_place(path, identity, vocabulary, key)
                shutil.move(str(recover.working), working)
                for suffix in ("-wal", "-shm"):
                    extra = recover.working.with_name(recover.working.name + suffix)
                    if extra.exists():
                        shutil.move(str(extra), working.with_name(working.name + suffix))
                with contextlib.suppress(FileNotFoundError):
                    recover.working.with_name(recover.working.name + SIDECAR_SUFFIX).unlink()
            elif version == SCHEMA_VERSION and not leave_out_damaged:
                # the document is gated where it lies (the records, without the evidence bytes'
                # pages), then its records only are copied from that same file; the bytes stay there
                _gate_in_place(path, identity, vocabulary, key)
                try:
                    copy_records(path, working, identity=identity, key=key)
                except gate.errors("Error") as err:
                    failure = storage_error(err, f"cannot open {path.name}")
                    if failure is not None:
                        raise failure from None
                    raise EngagementFileError(
                        f"{path.name}: the engagement file is damaged or was replaced while opening "
                        f"({gate.error_text(err)})"
                    ) from None
                partial = True
            elif key is not None:  # the same, encrypted: its pages copied as they are, the copy gated
                version, left_out = _copy_encrypted(path, working, key, vocabulary, leave_out_damaged)
            else:  # an older schema (migrated in a whole copy, then saved whole once), or records left out
                version, left_out = _copy_document(path, working, vocabulary, leave_out_damaged)
            backup_path = None
            if version < SCHEMA_VERSION:
                if not readonly:  # a read-only open never replaces the document: nothing to back up
                    backup_path = _backup_before_migration(path, version)
                conn = connect(working, key=key, autocommit=True)
                try:
                    migrate(conn, version, SCHEMA_VERSION)
                finally:
                    conn.close()
            doc = cls(path, working, lock, readonly=readonly, partial=partial, key=key)
            if partial and recover is None:
                doc.changes.take()  # its records are the document's as checked: nothing written yet
            doc.left_out = left_out
            if partial and (doc._source is None or file_identity(doc._source) != identity):
                # the document held for its bytes is not the one checked (and copied): never mixed
                doc.engine.dispose()
                doc._release_source()
                raise _replaced(path.name)
            if version < SCHEMA_VERSION:
                doc.migrated_from, doc.backup_path = version, backup_path
            return doc
        except BaseException as err:
            _OPEN_WORKING.discard(working)
            _remove_working(working)
            if lock is not None:
                lock.release()
            failure = storage_error(err, f"cannot open {path.name}")
            if failure is not None:
                raise failure from None
            raise

    # -- saving ------------------------------------------------------------

    def save(self, *, force: bool = False, new_document: bool = False) -> None:
        """Write the working copy over the document atomically."""
        if self.readonly:
            raise EngagementFileError(f"{self.document.name}: opened read-only; use Save As")
        if not force and not new_document and _stamp(self.document) != self._disk_stamp:
            raise EngagementFileError(
                f"{self.document.name}: changed on disk since it was opened (another copy was synced or saved); "
                "save under another name"
            )
        self._write_to(self.document, replace_existing=not new_document)
        self._disk_stamp = _stamp(self.document)

    def save_as(self, target: Path) -> None:
        """Save to ``target``, lock it, and continue editing there."""
        target = real_path(target)
        if target == self.document:
            self.save(force=True)
            return
        new_lock = lockmod.DocumentLock(target)
        new_lock.acquire()
        remove_killed_saves(target)
        try:
            self._write_to(target, replace_existing=True)
        except BaseException:
            new_lock.release()
            raise
        if self.lock is not None:
            self.lock.release()
        self.lock, self.document, self.readonly = new_lock, target, False
        self._disk_stamp = _stamp(target)
        self.engine.dispose()
        self.engine = self._make_engine()
        self._write_sidecar()
        if self.partial:
            self._hold_source()
        self._drop_saved_bytes()
        self._renew_spare()

    def change_key(self, key: Key | None) -> None:
        """Encrypt the engagement with ``key`` (None: remove the encryption) and save it at once.

        The working copy is rewritten with the new key first (so a crash leaves nothing
        under the old key or in plaintext that the document no longer matches), then the
        document is saved; the saved file holds the unsaved edits too. A plain session that
        reads its older evidence bytes from the document (``partial``) first gets them: a
        clone of the document with the working copy applied, in the data folder (plain, as the
        document and its working copy are), is what is encrypted. An encrypted engagement is
        always a whole working copy from then on.
        """
        name = self.document.name
        if self.readonly or self.working is None:
            raise EngagementFileError(f"{name}: opened read-only; nothing was changed")
        if _stamp(self.document) != self._disk_stamp:
            raise EngagementFileError(f"{name}: changed on disk since it was opened; save it under another name first")
        fresh = self._new_working_path(self.document, readonly=False, encrypted=key is not None)
        whole: Path | None = None
        try:
            self.engine.dispose()
            source = self.working
            if self.partial:
                whole = self._new_working_path(self.document, readonly=False)
                clone_file(self._source if self._source is not None else self.document, whole)
                apply_working_copy(self.working, whole, self.key)
                source = whole
            if self.key is not None and key is not None:
                backup_file(source, fresh, key=self.key, target_key=key)
            else:
                convert_file(source, fresh, key=self.key, target_key=key)
            conn = connect(fresh, key=key, autocommit=True)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            finally:
                conn.close()
        except BaseException as err:
            _OPEN_WORKING.discard(fresh)
            _remove_working(fresh)
            self.engine = self._make_engine()
            failure = storage_error(err, f"cannot change the encryption of {name}")
            if failure is not None:
                raise failure from None
            if isinstance(err, OSError):
                raise EngagementFileError(f"cannot change the encryption of {name}: {err.strerror or err}") from None
            raise
        finally:
            if whole is not None:
                _OPEN_WORKING.discard(whole)
                _remove_working(whole)
        old = self.working
        _OPEN_WORKING.discard(old)
        if self.spare is not None:
            self.spare.discard()
            self.spare = None
        self._release_source()
        self.working, self.key, self.partial = fresh, key, False
        self.changes.mark_everything()  # another working copy: the next save writes it whole
        self.engine = self._make_engine()
        self._write_sidecar()
        self._close_keeper()
        _remove_working(old)
        self.save(force=True)

    def _hold_source(self) -> None:
        self._release_source()
        try:
            self._source = os.open(self.document, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            self._source = None

    def _hold_source_of(self, document: Path) -> None:
        held, self.document = self.document, document
        try:
            self._hold_source()
        finally:
            self.document = held

    def _release_source(self) -> None:
        if self._source is not None:
            with contextlib.suppress(OSError):
                os.close(self._source)
            self._source = None

    def prepare_saves(self) -> None:
        """Keep a spare clone of the document ready, for sessions that save often (the window)."""
        self.keep_spare = True
        self._renew_spare()

    def _renew_spare(self) -> None:
        if self.spare is not None:
            self.spare.discard()
            self.spare = None
        if self.keep_spare and not self.readonly and self.partial and self._source is not None:
            self.spare = Spare.for_document(self.document, self._source)

    def _write_to(self, target: Path, *, replace_existing: bool) -> None:
        if self.working is None:
            raise EngagementFileError(f"{self.document.name}: opened read-only; use a copy to change it")
        _refuse_special(target)
        spare = None
        replaced: int | None = None
        if self.spare is not None:
            spare = self.spare.take() if self.spare.document == target else None
            if spare is None:
                self.spare.discard()
        self.spare = None
        temp = spare or _saving_path(target)
        self._saved_keys = []
        keys: list[str] = []
        applied: Changes | None = None  # the changes this save applied: the base's once it replaced the document
        try:
            if self.partial and self._keeper is None:
                self._keeper = connect(
                    self.working,
                    key=self.key,
                    autocommit=True,
                    check_same_thread=False,
                    watchdog=self._keeper_watchdog,
                )
                self._keeper.execute("PRAGMA synchronous = FULL")
                self._keeper.execute("PRAGMA busy_timeout = 10000")
                # what it drops is in the document: overwriting it with zeros first would write it all again
                self._keeper.execute("PRAGMA secure_delete = OFF")
            if spare is not None:  # the clone is ready: only the changes are written now
                keys, applied = apply_working_copy(self.working, temp, self.key, self.changes)
                fsync_file(temp)  # an error here (disk full, I/O) is raised before anything is replaced
            elif self._can_apply_changes():
                # The document as it is, cloned, plus what changed: the evidence is not rewritten
                # (an encrypted document's clone is its encrypted pages; the changes go in with its key).
                clone_file(self._source if self._source is not None else self.document, temp)
                keys, applied = apply_working_copy(self.working, temp, self.key, self.changes)
                fsync_file(temp)
            elif self.key is not None:  # a whole encrypted working copy (new, migrated): its pages as they are
                snapshot_copy(self.working, temp, self.key)  # fsynced
            else:  # a new document, or one migrated from an older schema: the whole working copy
                backup_file(self.working, temp)  # fsynced; an error is raised before anything is replaced
            if not replace_existing and os.path.lexists(target):
                raise EngagementFileError(f"{target}: already exists; choose another name")
            _refuse_special(target)
            if self.partial:  # let go of the document being replaced (Windows refuses to replace an open file)
                self.engine.dispose()
                if target == self.document:
                    if os.name == "nt":
                        self._release_source()
                    else:  # held on: freeing a large file's blocks happens later, off this thread
                        replaced, self._source = self._source, None
            os.replace(temp, target)
            applied = None  # what it applied is in the document: the next save starts from it
            self._wrote_document = True
            self._saved_keys = keys
            if replaced is not None:
                _release_later(replaced)
                replaced = None
            with contextlib.suppress(OSError):  # the file is complete and in place
                fsync_folder(target.parent)
        except OSError as err:
            raise EngagementFileError(f"cannot save {target.name}: {err.strerror or err}") from None
        except gate.errors("Error") as err:
            raise storage_error(err, f"cannot save {target.name}") or EngagementFileError(
                f"cannot save {target.name}: {err}"
            ) from None
        finally:
            if applied is not None:  # not saved: the next save applies these changes again
                self.changes.put_back(applied)
            if replaced is not None:  # the replace failed: the document is still the one held
                self._source = replaced
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    temp.with_name(temp.name + suffix).unlink()
            if self.partial and (target == self.document or self._source is None):
                # the new document (or, after a failure, the one still there) is the next base
                self._hold_source_of(target if target.is_file() else self.document)
            if target == self.document:  # (Save As drops them once the session has moved there)
                self._drop_saved_bytes()  # before the next spare's clone competes for the disk
            self._renew_spare()

    def _drop_saved_bytes(self) -> None:
        """Once the document holding them is in place, the working copy lets go of the bytes the save
        put there (``drop_saved_bytes``); failing to is harmless: they stay and are not saved twice."""
        keys, self._saved_keys = self._saved_keys, []
        if self._keeper is None or not keys or not self.partial:
            return
        # a connection made while the save replaced the document may attach the one replaced, which
        # lacks these bytes: every connection from now on attaches the document that holds them
        self.engine.dispose()
        self._keeper_watchdog.reset()
        with contextlib.suppress(*gate.errors("Error")):
            drop_saved_bytes(self._keeper, keys)

    def _close_keeper(self) -> None:
        if self._keeper is not None:
            with contextlib.suppress(*gate.errors("Error")):
                self._keeper.close()
            self._keeper = None

    def _can_apply_changes(self) -> bool:
        """Whether saving may clone the document and apply the changes (same schema on both sides)."""
        if self.partial:
            return True  # the working copy lacks the older bytes: only this way keeps them
        # A whole working copy (new, migrated, damaged records left out, decrypted) is cloned onto
        # only a document this session wrote itself and that is still the one it wrote: never onto
        # a file that did not pass the gate as it is (a salvaged source, a file synced in since).
        if not self._wrote_document or _stamp(self.document) != self._disk_stamp:
            return False
        if not self.document.is_file():
            return False
        try:
            with self.document.open("rb") as handle:
                head = handle.read(100)
        except OSError:
            return False
        return head.startswith(SQLITE_MAGIC) and int.from_bytes(head[60:64], "big") == SCHEMA_VERSION

    # -- closing -----------------------------------------------------------

    def close(self) -> None:
        """Drop the working copy and release the lock (unsaved edits are discarded)."""
        self.keep_spare = False
        self._renew_spare()
        self._release_source()
        self.engine.dispose()
        self._close_keeper()
        if self.working is not None:
            _OPEN_WORKING.discard(self.working)
            _remove_working(self.working)
        if self.lock is not None:
            self.lock.release()

    def abandon(self) -> None:
        """Release the engine and lock but keep the working copy, as a crash would."""
        self.keep_spare = False
        self._renew_spare()
        self._release_source()
        self.engine.dispose()
        self._close_keeper()
        if self.working is not None:
            _OPEN_WORKING.discard(self.working)
        if self.lock is not None:
            self.lock.release()

    def _write_sidecar(self) -> None:
        try:
            assert self.working is not None
            _write_sidecar_file(
                self.working,
                self.document,
                self.readonly,
                state="open",
                partial=self.partial,
                encrypted=self.key is not None,
            )
        except OSError as err:
            raise EngagementFileError(
                f"{self.document.name}: the app's data folder cannot be written ({err.strerror or err})"
            ) from None


def _write_sidecar_file(
    working: Path, document: Path, readonly: bool, *, state: str, partial: bool = False, encrypted: bool = False
) -> None:
    """Name the document a working copy belongs to, and who has it (written whole or not at all)."""
    sidecar = working.with_name(working.name + SIDECAR_SUFFIX)
    info = {
        "document": str(document),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "opened": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "readonly": readonly,
        "state": state,
        "disposable": working_copies.disposable(),
        "partial": partial,
        "encrypted": encrypted,
    }
    temp = sidecar.with_name(sidecar.name + ".tmp")
    try:
        temp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(temp, sidecar)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


#: A save's clone beside the document: ``.<document's name>.<12 hex digits>.saving`` (and its journal).
_SAVING = re.compile(r"[0-9a-f]{12}\.saving(-journal|-wal|-shm)?")


def _saving_path(target: Path) -> Path:
    """A fresh name for the clone a save of ``target`` writes beside it before renaming it over ``target``."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.saving")


def remove_killed_saves(document: Path) -> None:
    """Delete the clones that saves of ``document`` killed before their rename left beside it (each as
    large as the document, in what may be a synced folder). Only while this process holds the document's
    lock: then no other process is saving it, and this one is not either (it calls this when it takes it)."""
    prefix = f".{document.name}."
    try:
        names = os.listdir(document.parent)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and _SAVING.fullmatch(name[len(prefix) :]):
            leftover = document.with_name(name)
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(leftover).st_mode):  # a file (never a folder, a link or a device)
                    leftover.unlink()


def _refuse_special(target: Path) -> None:
    """Only a regular file is ever replaced: not a folder, a device, a FIFO or a socket."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return
    except OSError as err:
        raise EngagementFileError(f"cannot save {target.name}: {err.strerror or err}") from None
    kind = special_kind(info.st_mode)
    if kind is not None:
        raise EngagementFileError(f"cannot save over {target}: it is {kind}, not an engagement file")


def refuse_missing_or_special(path: Path) -> None:
    """Refuse a path that names nothing, or a device, FIFO or socket (a FIFO would block the first read);
    a folder is refused by ``check_document``."""
    if not path.exists():
        raise EngagementFileError(f"{path}: no such file")
    kind = special_kind(path.stat().st_mode)
    if kind is not None and kind != "a folder":
        raise EngagementFileError(f"{path}: is {kind}, not an engagement file")


def checked_in_place(
    path: Path, identity: Identity | None, vocabulary: gate.Vocabulary | None, key: Key | None = None
) -> bool:
    """Whether a read-only open of the file at ``path`` (an encrypted one with its ``key``) reads it
    where it lies: True once its header was checked and it passed the file gate there as the file of
    ``identity`` (taken before the check; every connection that reads it must find that file:
    :func:`connect_checked`); False for an older schema, which is copied whole and migrated.
    Refuses anything else with one line. The read-only open and the commands that read with plain
    sqlite3 (``services.records``) both decide here."""
    version = check_document(path) if key is None else check_document(path, key)
    if version != SCHEMA_VERSION:
        return False
    _gate_in_place(path, identity, vocabulary, key)
    return True


def connect_checked(
    path: Path, identity: Identity | None, key: Key | None = None
) -> tuple[sqlite3.Connection, gate.Watchdog]:
    """A connection to a document that :func:`checked_in_place` passed, set up as the in-place engine
    sets up its own (hardened, read-only, ``query_only``, autocommit), with its watchdog (the caller
    resets it before each statement or block of statements); refused if the file is not that of ``identity``."""
    watchdog = gate.Watchdog()
    conn = _connect_in_place(path, identity, watchdog=watchdog, key=key)
    conn.isolation_level = None
    conn.execute("PRAGMA query_only = ON")
    return conn, watchdog


def _gate_in_place(
    path: Path, identity: Identity | None, vocabulary: gate.Vocabulary | None, key: Key | None = None
) -> int:
    """Pass a document of the current schema through the file gate where it lies (an encrypted
    one read with its ``key``: nothing of it is decrypted anywhere but in this process).

    The gate's checks only read, so they run on a read-only connection to the document itself
    (immutable: nothing is written, not even a lock), which must read the file of ``identity``
    (what is checked is what is used: every later connection and the records copy check the
    same identity). The structure check covers every table but the evidence bytes, which are
    checked against their SHA-256 whenever they are read (docs/storage.md)."""
    name = path.name
    try:
        watchdog = gate.Watchdog()
        conn = _connect_in_place(path, identity, watchdog=watchdog, key=key)
        try:
            return gate.check_contents(conn, watchdog, name, vocabulary=vocabulary, bytes_unchecked=True)
        finally:
            conn.close()
    except gate.errors("DatabaseError") as err:
        raise EngagementFileError(f"{name}: the engagement file is damaged ({gate.error_text(err)})") from None


def _copy_document(
    document: Path, working: Path, vocabulary: gate.Vocabulary | None, leave_out_damaged: bool
) -> tuple[int, list[gate.Problem]]:
    """Copy the document into its working copy and pass the copy through the file gate."""

    def check(conn: sqlite3.Connection, watchdog: gate.Watchdog) -> tuple[int, list[gate.Problem]]:
        return _pass_gate(conn, watchdog, document.name, vocabulary, leave_out_damaged)

    try:
        checked = backup_file(document, working, source_readonly=True, check=check)
    except gate.errors("DatabaseError") as err:
        failure = storage_error(err, f"cannot open {document.name}")
        if failure is not None:  # our disk, not their file
            raise failure from None
        raise EngagementFileError(f"{document.name}: the engagement file is damaged ({gate.error_text(err)})") from None
    except OSError as err:
        raise EngagementFileError(f"cannot open {document.name}: {err.strerror or err}") from None
    assert checked is not None
    return checked


def _copy_encrypted(
    document: Path, working: Path, key: Key, vocabulary: gate.Vocabulary | None, leave_out_damaged: bool
) -> tuple[int, list[gate.Problem]]:
    """Copy an encrypted document's bytes as they are into its working copy, then gate the copy.

    Its pages are encrypted with the key the working copy uses, so they are copied rather than
    decrypted and re-encrypted one by one through the backup API; the copy (what will be read) is
    opened with the key and passes the same file gate as a plain copy before anything reads it.
    The disk syncs the copy while the CPU checks it.
    """
    from concurrent.futures import ThreadPoolExecutor  # here: the read-only commands never load it

    try:
        shutil.copyfile(document, working)
        with ThreadPoolExecutor(1) as pool:
            synced = pool.submit(fsync_file, working)
            try:
                watchdog = gate.Watchdog()
                conn = connect(working, key=key, autocommit=True, watchdog=watchdog)
                try:
                    return _pass_gate(conn, watchdog, document.name, vocabulary, leave_out_damaged)
                finally:
                    conn.close()
            finally:
                synced.result()  # an error here (disk full, I/O) is raised: the copy is not trusted
    except gate.errors("DatabaseError") as err:
        failure = storage_error(err, f"cannot open {document.name}")
        if failure is not None:  # our disk, not their file
            raise failure from None
        raise EngagementFileError(f"{document.name}: the engagement file is damaged ({gate.error_text(err)})") from None
    except OSError as err:
        raise EngagementFileError(f"cannot open {document.name}: {err.strerror or err}") from None


def _pass_gate(
    conn: sqlite3.Connection,
    watchdog: gate.Watchdog,
    name: str,
    vocabulary: gate.Vocabulary | None,
    leave_out_damaged: bool,
) -> tuple[int, list[gate.Problem]]:
    """The schema version of a working copy that passed the gate, and the damaged records left out."""
    if leave_out_damaged:
        return gate.salvage(conn, watchdog, name, vocabulary=vocabulary)
    return gate.check_contents(conn, watchdog, name, vocabulary=vocabulary), []


def _check_working_copy(
    path: Path, name: str, vocabulary: gate.Vocabulary | None, key: Key | None = None
) -> tuple[int, list[gate.Problem]]:
    """Pass a recovered working copy through the file gate (its WAL is replayed first); an
    encrypted engagement's copy is encrypted with its ``key``."""
    try:
        watchdog = gate.Watchdog()
        conn = connect(path, key=key, autocommit=True, watchdog=watchdog)
        try:
            return _pass_gate(conn, watchdog, name, vocabulary, False)
        finally:
            conn.close()
    except gate.errors("DatabaseError") as err:
        raise gate.GateError(f"{name}: the engagement file is damaged ({gate.error_text(err)})") from None


def _backup_before_migration(document: Path, version: int) -> Path:
    folder = data_dir() / "backups"
    target = folder / f"{document.stem}.schema{version}.{time.strftime('%Y%m%d-%H%M%S')}{document.suffix}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(document, target)
        fsync_file(target)
    except OSError as err:
        with contextlib.suppress(OSError):
            target.unlink()
        raise EngagementFileError(
            f"{document.name}: not opened; its backup before upgrading cannot be written ({err.strerror or err})"
        ) from None
    return target


def discard_orphan(orphan: Orphan) -> None:
    """Throw away a crashed session's unsaved work (the user chose not to recover it)."""
    _remove_working(orphan.working)
