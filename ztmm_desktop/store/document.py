"""The engagement document on disk and the private working copy the app edits.

Consultants keep engagements in synced and network folders and copy them
while open, so the document is never edited in place, and what a command
costs must not grow with the evidence it holds (docs/storage.md):

* opening checks the file (SQLite magic, ``application_id``, ``user_version``,
  ``quick_check`` of every table but the evidence chunks) without writing to it;
* a read-only open (every reading command, a colleague's copy to merge or
  compare, a document someone else holds) reads the document in place:
  nothing is copied; every connection must read the file that was checked
  (its identity is recorded before the check), so a file swapped after the
  check is refused, never read;
* opening for editing takes the lock beside the document and builds a private
  working copy in the app's data folder holding everything *except* the
  evidence bytes already in the document; those are read from the document,
  attached read-only to every connection. Every edit commits to the working
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
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from ..core.errors import EngagementFileError, ReadOnlyLocation
from ..paths import data_dir
from . import lock as lockmod
from .blobs import DOCUMENT_SCHEMA
from .files import fsync_file, fsync_folder, special_kind
from .migrations import APPLICATION_ID, SCHEMA_VERSION, create_baseline, migrate

SQLITE_MAGIC = b"SQLite format 3\x00"

#: Working copies this process has open (never reported as orphans).
_OPEN_WORKING: set[Path] = set()
SIDECAR_SUFFIX = ".json"
#: A working copy with no sidecar (left by an older version killed while copying) older than
#: this is removed by the next start.
STRAY_COPY_GRACE_SECONDS = 3600.0
#: Whether the working copies made now hold nothing a user would recover (the ``ztmm`` command:
#: a run that did not finish acknowledged nothing); see :func:`disposable_working_copies`.
_DISPOSABLE = False


@contextlib.contextmanager
def disposable_working_copies() -> Iterator[None]:
    """Working copies made in this block are marked deletable without asking if the process dies."""
    global _DISPOSABLE
    before, _DISPOSABLE = _DISPOSABLE, True
    try:
        yield
    finally:
        _DISPOSABLE = before


def real_path(path: Path) -> Path:
    """The absolute path with every symbolic link resolved: one document has one name."""
    return Path(os.path.realpath(path))


def storage_error(err: BaseException, what: str) -> EngagementFileError | None:
    """A one-line error for SQLite failing to write (disk full, I/O error); None for other errors."""
    cause = err if isinstance(err, sqlite3.Error) else getattr(err, "orig", None)  # SQLAlchemy wraps it
    if not isinstance(cause, sqlite3.Error):
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

#: The table of evidence bytes: left in the document (never copied into a working copy) and
#: checked by SHA-256 whenever it is read, instead of by ``quick_check`` at every open.
BYTES_TABLE = "blob_chunk"

#: PRAGMAs set on every connection to a working copy (SECURITY.md items 2 and 3).
CONNECTION_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA trusted_schema = OFF",
    "PRAGMA busy_timeout = 10000",
)


def _describe_foreign(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (an Excel workbook or other Office file?)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old-style Office file (.xls or .doc)"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    return None


def check_document(path: Path) -> int:
    """Refuse anything that is not a readable engagement file; return its schema version.

    Reads the file only: nothing is written to it, whatever it holds.
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
    if not head.startswith(SQLITE_MAGIC):
        kind = _describe_foreign(head)
        what = f"it is {kind}" if kind else "it is not an SQLite database"
        raise EngagementFileError(f"{name}: not a ZTMM engagement file ({what})")
    if len(head) < 100:
        raise EngagementFileError(f"{name}: the file is truncated")
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
    try:
        conn = sqlite3.connect(_readonly_uri(path), uri=True)
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            rows = _quick_check(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise EngagementFileError(f"{name}: the engagement file is damaged ({err})") from None
    if rows != [("ok",)]:
        first = rows[0][0] if rows else "no answer"
        raise EngagementFileError(f"{name}: the engagement file is damaged ({first})")
    return user_version


def _quick_check(conn: sqlite3.Connection) -> list[tuple[str]]:
    """``quick_check`` of every table and index but the evidence bytes, which grow with the evidence.

    The bytes are verified against their SHA-256 when they are read, so a damaged chunk is
    still found, by the command that needs it, instead of making every open read every byte.
    """
    tables = [
        str(row[0])
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    for table in tables:
        if table == BYTES_TABLE:
            continue
        quoted = table.replace('"', '""')
        rows = conn.execute(f'PRAGMA quick_check("{quoted}")').fetchall()
        if rows != [("ok",)]:
            return rows
    return [("ok",)]


def _readonly_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro&immutable=1"


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


def _connect_in_place(path: Path, identity: Identity | None, *, opening: bool = True) -> sqlite3.Connection:
    """A read-only connection to the document itself, refused unless it reads the file that was
    checked: the header is read through this connection, then the path must still name the
    file recorded at the check (a file swapped in between is never read in place, and a session
    never reads two different files through two connections)."""
    name = path.name
    conn = sqlite3.connect(_readonly_uri(path), uri=True, check_same_thread=False)
    try:
        try:
            application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError:
            raise _replaced(name, opening=opening) from None
        if application_id != APPLICATION_ID or version != SCHEMA_VERSION:
            raise _replaced(name, opening=opening)
        if identity is None or file_identity(path) != identity:
            raise _replaced(name, opening=opening)
    except BaseException:
        conn.close()
        raise
    return conn


def backup_file(source: Path, target: Path, *, source_readonly: bool = False) -> None:
    """Copy an SQLite database page by page with the online backup API.

    The copy uses the rollback journal (one self-contained file) and is fsynced.
    """
    src = sqlite3.connect(_readonly_uri(source) if source_readonly else str(source), uri=source_readonly)
    try:
        dst = sqlite3.connect(str(target))
        try:
            # The target is a fresh temp file that is fsynced and then renamed into
            # place (or discarded): journaling and syncing each page would only cost time.
            dst.execute("PRAGMA journal_mode = OFF")
            dst.execute("PRAGMA synchronous = OFF")
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    fsync_file(target)  # an error here (disk full, I/O) is raised: the copy is not trusted


def _configure_engine(engine: Engine, readonly: bool, *, in_place: bool = False, attach: Path | None = None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if in_place:  # the document itself: read, never written (not even its journal mode)
            cursor.execute("PRAGMA trusted_schema = OFF")
            cursor.execute("PRAGMA query_only = ON")
            cursor.close()
            return
        for pragma in CONNECTION_PRAGMAS:
            cursor.execute(pragma)
        if readonly:
            cursor.execute("PRAGMA query_only = ON")
        if attach is not None:  # the evidence bytes the working copy does not hold
            cursor.execute(f"ATTACH DATABASE ? AS {DOCUMENT_SCHEMA}", (_readonly_uri(attach),))
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front (no lock upgrade deadlocks, one writer
        # at a time); readers use a deferred WAL snapshot and never block a writer.
        immediate = not readonly and conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


#: Execution option that makes a transaction a writer (``BEGIN IMMEDIATE``).
WRITE_OPTION = "ztmm_write"


def make_engine(
    path: Path,
    *,
    readonly: bool = False,
    in_place: bool = False,
    attach: Path | None = None,
    identity: Identity | None = None,
) -> Engine:
    """An engine on a working copy (``attach``: the document holding its older evidence bytes),
    or ``in_place`` on a document itself, read-only, whose every connection must read the file
    of ``identity`` (recorded when it was checked; see :func:`_connect_in_place`)."""
    target = _readonly_uri(path) if in_place else path.absolute().as_uri()
    connected = threading.Event()  # the first connection is made while opening

    def connect() -> sqlite3.Connection:
        if in_place:
            conn = _connect_in_place(path, identity, opening=not connected.is_set())
            connected.set()
            return conn
        return sqlite3.connect(target, uri=True, check_same_thread=False)

    engine = create_engine("sqlite://", creator=connect, poolclass=QueuePool, pool_size=2, max_overflow=2)
    _configure_engine(engine, readonly or in_place, in_place=in_place, attach=attach)
    return engine


def copy_records(document: Path, working: Path) -> None:
    """Make ``working`` the document without its evidence bytes: the schema by the frozen
    steps, then every row of every other table. The cost follows the records, not the evidence."""
    conn = sqlite3.connect(working.absolute().as_uri(), uri=True, isolation_level=None)
    try:
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("BEGIN IMMEDIATE")
        create_baseline(conn)
        conn.execute("COMMIT")
        conn.execute("ATTACH DATABASE ? AS source", (_readonly_uri(document),))
        conn.execute("BEGIN IMMEDIATE")
        # What is copied is what was checked: the same engagement schema, read through this connection.
        application_id = int(conn.execute("PRAGMA source.application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA source.user_version").fetchone()[0])
        if application_id != APPLICATION_ID or version != SCHEMA_VERSION:
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


def apply_working_copy(working: Path, target: Path) -> None:
    """Make ``target`` (a clone of the document) hold what ``working`` holds, in one transaction.

    Every table but the evidence bytes is replaced by the working copy's rows; bytes the
    document has that no blob refers to any more are dropped; bytes only the working copy has
    (attached in this session) are added. Then every blob must have its bytes and every
    reference must resolve, or nothing is written.
    """
    conn = sqlite3.connect(target.absolute().as_uri(), uri=True, isolation_level=None)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA journal_mode = MEMORY")  # a private temp file: discarded if anything fails
        conn.execute("PRAGMA synchronous = OFF")  # fsynced as a whole before it replaces the document
        conn.execute("PRAGMA foreign_keys = OFF")  # checked once at the end instead of row by row
        conn.execute("ATTACH DATABASE ? AS work", (working.absolute().as_uri(),))
        conn.execute("BEGIN IMMEDIATE")
        for table in _tables(conn):
            if table == BYTES_TABLE:
                continue
            columns = _columns(conn, table)
            conn.execute(f'DELETE FROM main."{table}"')
            conn.execute(f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM work."{table}"')
        conn.execute(f"DELETE FROM main.{BYTES_TABLE} WHERE chunk_key NOT IN (SELECT chunk_key FROM main.blob)")
        # Key by key: an INSERT that reads its own target table in a subquery would first copy
        # every selected byte into a temp table (on disk, unencrypted) before inserting it.
        keys = [str(row[0]) for row in conn.execute(f"SELECT DISTINCT chunk_key FROM work.{BYTES_TABLE}")]
        for key in keys:
            if conn.execute(f"SELECT 1 FROM main.{BYTES_TABLE} WHERE chunk_key = ? LIMIT 1", (key,)).fetchone():
                continue  # saved before in this session
            conn.execute(
                f"INSERT INTO main.{BYTES_TABLE} (chunk_key, seq, data) "
                f"SELECT chunk_key, seq, data FROM work.{BYTES_TABLE} WHERE chunk_key = ? ORDER BY seq",
                (key,),
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
        if conn.execute("PRAGMA main.foreign_key_check").fetchone() is not None:
            raise EngagementFileError("the working copy refers to records it does not hold; nothing was saved")
        version = int(conn.execute("PRAGMA work.user_version").fetchone()[0])
        conn.execute(f"PRAGMA main.user_version = {version}")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE work")
    finally:
        conn.close()


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
        with contextlib.suppress(OSError):
            self.path.unlink()


SPARE_SUFFIX = ".spare"


def remove_stale_spares() -> None:
    """Spares of processes that are gone (a crash during a session leaves its clone behind)."""
    folder = data_dir() / "spare"
    if not folder.is_dir():
        return
    for spare in folder.glob("*" + SPARE_SUFFIX):
        pid = spare.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not lockmod.pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                spare.unlink()


@dataclass(frozen=True)
class Orphan:
    """A working copy left behind by a process that ended without closing it."""

    document: Path
    working: Path
    modified: float
    #: The working copy holds the records and the bytes attached since; the older bytes are in the document.
    partial: bool = False


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


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
    ) -> None:
        """``working`` None: the document is read in place (read-only), only while it is the file
        of ``identity``. ``partial``: the working copy holds the records and new bytes, the
        document the bytes it had when opened."""
        self.document = document
        self._identity = identity
        self.working = working
        self.lock = lock
        self.readonly = readonly
        self.partial = partial
        self.engine = self._make_engine()
        self.migrated_from: int | None = None
        self.backup_path: Path | None = None
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
            return make_engine(self.document, in_place=True, identity=self._identity)
        return make_engine(self.working, readonly=self.readonly, attach=self.document if self.partial else None)

    # -- opening -----------------------------------------------------------

    @staticmethod
    def _new_working_path(document: Path, readonly: bool) -> Path:
        """A fresh working copy's name, with its sidecar written first (``state``: opening), so that a
        process killed while copying leaves a copy the next start knows is nobody's."""
        folder = data_dir() / "working"
        working = folder / f"{uuid.uuid4().hex}.ztmm"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_sidecar_file(working, document, readonly, state="opening")
        except OSError as err:
            _remove_working(working)
            raise EngagementFileError(
                f"cannot open {document.name}: the app's data folder cannot be written ({err.strerror or err})"
            ) from None
        _OPEN_WORKING.add(working)
        return working

    @classmethod
    def create(cls, path: Path, initialise: Callable[[sqlite3.Connection], None]) -> EngagementDocument:
        """Make a new document at ``path`` (which must not exist) and open it for editing."""
        path = real_path(path)
        if os.path.lexists(path):
            raise EngagementFileError(f"{path}: already exists; choose another name")
        if not path.parent.is_dir():
            raise EngagementFileError(f"{path.parent}: no such folder")
        lock = lockmod.DocumentLock(path)
        lock.acquire()
        try:
            working = cls._new_working_path(path, readonly=False)
        except BaseException:
            lock.release()
            raise
        try:
            conn = sqlite3.connect(str(working), isolation_level=None)
            try:
                conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # before anything is written
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("BEGIN IMMEDIATE")
                initialise(conn)
                conn.execute("COMMIT")
            finally:
                conn.close()
            doc = cls(path, working, lock, readonly=False)
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

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False, recover: Orphan | None = None) -> EngagementDocument:
        """Open ``path``; for editing unless ``readonly``. ``recover`` reuses a crashed session's copy."""
        path = real_path(path)
        lock: lockmod.DocumentLock | None = None
        if not path.exists():
            raise EngagementFileError(f"{path}: no such file")
        kind = special_kind(path.stat().st_mode)
        if kind is not None and kind != "a folder":  # a FIFO would block the first read
            raise EngagementFileError(f"{path}: is {kind}, not an engagement file")
        if not readonly:
            if not os.access(path, os.W_OK):
                raise ReadOnlyLocation(f"{path.name}: the file is read-only; open it read-only")
            lock = lockmod.DocumentLock(path)
            lock.acquire()
        identity = file_identity(path)  # before the check: a file swapped after it is refused
        if readonly and recover is None:
            version = check_document(path)
            if version == SCHEMA_VERSION:  # read where it is: no copy, whatever the evidence weighs
                doc = cls(path, None, None, readonly=True, identity=identity)
                try:  # the first connection is made (and the file it reads verified) now
                    doc.engine.connect().close()
                except BaseException:
                    doc.engine.dispose()
                    raise
                return doc
        partial = False
        try:
            working = cls._new_working_path(path, readonly)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        try:
            version = check_document(path)  # refuses early with a precise reason; the copy is checked below
            if recover is not None:
                shutil.move(str(recover.working), working)
                for suffix in ("-wal", "-shm"):
                    extra = recover.working.with_name(recover.working.name + suffix)
                    if extra.exists():
                        shutil.move(str(extra), working.with_name(working.name + suffix))
                with contextlib.suppress(FileNotFoundError):
                    recover.working.with_name(recover.working.name + SIDECAR_SUFFIX).unlink()
                version = _check_working_copy(working)
                partial = recover.partial
            elif version == SCHEMA_VERSION:
                try:  # the records only; the bytes stay in the document
                    copy_records(path, working)
                except sqlite3.Error as err:
                    failure = storage_error(err, f"cannot open {path.name}")
                    if failure is not None:
                        raise failure from None
                    raise EngagementFileError(
                        f"{path.name}: the engagement file is damaged or was replaced while opening ({err})"
                    ) from None
                _check_working_copy(working, name=path.name)  # what is used is checked, not what was
                partial = True
            else:  # an older schema is migrated in a whole copy, then saved whole once
                version = _copy_and_check(path, working)
            backup_path = None
            if version < SCHEMA_VERSION:
                if not readonly:  # a read-only open never writes the document: nothing to back up
                    backup_path = _backup_before_migration(path, version)
                conn = sqlite3.connect(str(working), isolation_level=None)
                try:
                    migrate(conn, version, SCHEMA_VERSION)
                finally:
                    conn.close()
            doc = cls(path, working, lock, readonly=readonly, partial=partial)
            if partial and recover is None and (doc._source is None or file_identity(doc._source) != identity):
                # the document held for its bytes is not the one checked and copied: never mixed
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
        self._renew_spare()

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
        temp = spare or target.with_name(f".{uuid.uuid4().hex[:12]}.saving")
        try:
            if spare is not None:  # the clone is ready: only the changes are written now
                apply_working_copy(self.working, temp)
                fsync_file(temp)  # an error here (disk full, I/O) is raised before anything is replaced
            elif self._can_apply_changes():
                # The document as it is, cloned, plus what changed: the evidence is not rewritten.
                clone_file(self._source if self._source is not None else self.document, temp)
                apply_working_copy(self.working, temp)
                fsync_file(temp)
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
            if replaced is not None:
                threading.Thread(target=os.close, args=(replaced,), name="ztmm-release", daemon=True).start()
                replaced = None
            with contextlib.suppress(OSError):  # the file is complete and in place
                fsync_folder(target.parent)
        except OSError as err:
            raise EngagementFileError(f"cannot save {target.name}: {err.strerror or err}") from None
        except sqlite3.Error as err:
            raise storage_error(err, f"cannot save {target.name}") or EngagementFileError(
                f"cannot save {target.name}: {err}"
            ) from None
        finally:
            if replaced is not None:  # the replace failed: the document is still the one held
                self._source = replaced
            with contextlib.suppress(OSError):
                temp.unlink()
            if self.partial and (target == self.document or self._source is None):
                # the new document (or, after a failure, the one still there) is the next base
                self._hold_source_of(target if target.is_file() else self.document)
            self._renew_spare()

    def _can_apply_changes(self) -> bool:
        """Whether saving may clone the document and apply the changes (same schema on both sides)."""
        if self.partial:
            return True  # the working copy lacks the older bytes: only this way keeps them
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
        if self.working is not None:
            _OPEN_WORKING.discard(self.working)
        if self.lock is not None:
            self.lock.release()

    def _write_sidecar(self) -> None:
        try:
            assert self.working is not None
            _write_sidecar_file(self.working, self.document, self.readonly, state="open", partial=self.partial)
        except OSError as err:
            raise EngagementFileError(
                f"{self.document.name}: the app's data folder cannot be written ({err.strerror or err})"
            ) from None


def _write_sidecar_file(working: Path, document: Path, readonly: bool, *, state: str, partial: bool = False) -> None:
    """Name the document a working copy belongs to, and who has it (written whole or not at all)."""
    sidecar = working.with_name(working.name + SIDECAR_SUFFIX)
    info = {
        "document": str(document),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "opened": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "readonly": readonly,
        "state": state,
        "disposable": _DISPOSABLE,
        "partial": partial,
    }
    temp = sidecar.with_name(sidecar.name + ".tmp")
    try:
        temp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(temp, sidecar)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


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


def _copy_and_check(document: Path, working: Path) -> int:
    """Copy the document into the working copy and check the copy: a file swapped after it was
    checked is refused, never used. Returns the copy's schema version."""
    name = document.name
    try:
        backup_file(document, working, source_readonly=True)
    except sqlite3.Error as err:
        failure = storage_error(err, f"cannot open {name}")
        if failure is not None:
            raise failure from None
        raise EngagementFileError(
            f"{name}: the engagement file is damaged or was replaced while opening ({err})"
        ) from None
    except OSError as err:
        raise EngagementFileError(f"cannot open {name}: {err.strerror or err}") from None
    with working.open("rb") as handle:
        head = handle.read(100)
    version = int.from_bytes(head[60:64], "big") if len(head) == 100 else 0
    if (
        not head.startswith(SQLITE_MAGIC)
        or int.from_bytes(head[68:72], "big") != APPLICATION_ID
        or not 1 <= version <= SCHEMA_VERSION
    ):
        raise EngagementFileError(f"{name}: not a ZTMM engagement file any more (it was replaced while opening)")
    try:
        conn = sqlite3.connect(str(working))
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise EngagementFileError(f"{name}: the engagement file is damaged ({err})") from None
    if rows != [("ok",)]:
        raise EngagementFileError(f"{name}: the engagement file is damaged ({rows[0][0] if rows else 'no answer'})")
    return version


def _check_working_copy(path: Path, *, name: str | None = None) -> int:
    """Replay a recovered working copy's WAL, check it, and return its schema version.

    ``name``: a copy just made from that document (which was replaced if the copy fails)."""
    try:
        conn = sqlite3.connect(str(path))
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        if name is not None:
            raise EngagementFileError(f"{name}: the engagement file is damaged ({err})") from None
        raise EngagementFileError(f"the unsaved work cannot be recovered: it is damaged ({err})") from None
    if rows != [("ok",)] or application_id != APPLICATION_ID or not 1 <= version <= SCHEMA_VERSION:
        if name is not None:
            raise EngagementFileError(f"{name}: not a ZTMM engagement file any more (it was replaced while opening)")
        raise EngagementFileError("the unsaved work cannot be recovered: it is damaged")
    return version


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


def _remove_working(working: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", SIDECAR_SUFFIX, SIDECAR_SUFFIX + ".tmp"):
        with contextlib.suppress(FileNotFoundError):
            working.with_name(working.name + suffix).unlink()


def orphaned_working_copies() -> list[Orphan]:
    """Working copies whose process ended without closing them (crash recovery).

    Copies that hold nothing to recover are deleted on the way: a read-only
    session's, one whose process was killed while making it (``state`` opening),
    one the ``ztmm`` command made (``disposable``), and a copy with no (readable)
    sidecar older than ``STRAY_COPY_GRACE_SECONDS``. Copies of live processes on
    this host are left alone, and so are another host's (a shared data folder)
    until they are that old.
    """
    remove_stale_spares()
    folder = data_dir() / "working"
    if not folder.is_dir():
        return []
    found = []
    named: set[Path] = set()
    for sidecar in sorted(folder.glob("*.ztmm" + SIDECAR_SUFFIX)):
        working = sidecar.with_name(sidecar.name[: -len(SIDECAR_SUFFIX)])
        named.add(working)
        if working in _OPEN_WORKING:
            continue
        try:
            info = json.loads(sidecar.read_text(encoding="utf-8"))
            pid, host, document, readonly = (
                int(info["pid"]),
                str(info["host"]),
                Path(info["document"]),
                bool(info["readonly"]),
            )
            partial = bool(info.get("partial", False))
            state, disposable = str(info.get("state", "open")), bool(info.get("disposable", False))
        except (OSError, ValueError, KeyError, TypeError):
            if _age(sidecar) > STRAY_COPY_GRACE_SECONDS:
                _remove_working(working)
            continue
        if pid != os.getpid() and host == socket.gethostname() and lockmod.pid_alive(pid):
            continue
        if readonly or disposable or state != "open" or not working.exists():
            # nothing a user would recover; another host's process may still be running: only when old
            if host == socket.gethostname() or _age(sidecar) > STRAY_COPY_GRACE_SECONDS:
                _remove_working(working)
            continue
        found.append(Orphan(document=document, working=working, modified=working.stat().st_mtime, partial=partial))
    for working in folder.glob("*.ztmm"):
        if working not in named and working not in _OPEN_WORKING and _age(working) > STRAY_COPY_GRACE_SECONDS:
            _remove_working(working)
    return found


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def clean_up_disposable_copies() -> None:
    """Delete the working copies nobody will recover (see :func:`orphaned_working_copies`); the
    ``ztmm`` command runs this at start. Copies a window may offer to recover are kept."""
    orphaned_working_copies()


def discard_orphan(orphan: Orphan) -> None:
    """Throw away a crashed session's unsaved work (the user chose not to recover it)."""
    _remove_working(orphan.working)
