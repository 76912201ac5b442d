"""The engagement document on disk and the private working copy the app edits.

Consultants keep engagements in synced and network folders and copy them
while open, so the document is never edited in place:

* opening checks the file's header (SQLite magic, ``application_id``,
  ``user_version``) without writing to it, takes the lock beside it, copies it
  with SQLite's backup API into a private working copy in the app's data folder
  and passes the copy through the file gate (``store.gate``: schema, structure,
  every value) before anything else reads it;
* every edit commits to the working copy at once (WAL, ``synchronous=FULL``),
  so a crash loses nothing acknowledged; a sidecar file names the document so
  the next start can offer recovery;
* saving copies the working copy with the backup API to a temp file beside the
  document, fsyncs it and atomically replaces the document.

The document is known by its real path (a symbolic link is resolved before the
lock is taken), so a writer through a link and one through the real name
exclude each other and the save lands in the real file. What is checked is the
copy, not the original, so a file swapped between the check and the copy is
refused. The sidecar is written before the copy is made, so a process killed
while copying leaves nothing that the next start cannot clean up; copies made by
the ``ztmm`` command carry a ``disposable`` mark (a command that did not finish
acknowledged nothing) and are deleted at the next start without asking.

An encrypted engagement (SQLCipher, ``connect.py``) goes the same way with its
key: the working copy, its WAL and every save are encrypted with the
document's key, so nothing of it is written in plaintext. Its pages are copied
as they are (the working copy shares the document's key and salt), and the
copy is opened with the key and passes the same gate before anything reads it.
Every connection, plain or encrypted, comes from ``connect.connect`` and is
hardened there (``gate.harden``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry

from ..core.errors import EngagementFileError, ReadOnlyLocation
from ..paths import data_dir
from . import gate
from . import lock as lockmod
from . import working as working_copies
from .connect import (
    Key,
    PassphraseNeeded,
    connect,
    encrypted_salt,
    module_for,
)
from .files import fsync_file, fsync_folder, special_kind
from .migrations import APPLICATION_ID, SCHEMA_VERSION, migrate
from .working import _OPEN_WORKING, _remove_working

# The working copies' bookkeeping lives in ``working`` (no database layer: the ``ztmm`` command tidies
# them before it knows whether it opens an engagement); its names are this module's as before.
from .working import SIDECAR_SUFFIX as SIDECAR_SUFFIX
from .working import STRAY_COPY_GRACE_SECONDS as STRAY_COPY_GRACE_SECONDS
from .working import Orphan as Orphan
from .working import clean_up_disposable_copies as clean_up_disposable_copies
from .working import disposable_working_copies as disposable_working_copies
from .working import orphaned_working_copies as orphaned_working_copies

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


#: PRAGMAs set on every connection to a working copy (SECURITY.md items 2 and 3), after
#: ``gate.harden`` (docs/SECURITY.md: trusted_schema, cell_size_check, the watchdog).
CONNECTION_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA trusted_schema = OFF",
    "PRAGMA busy_timeout = 10000",
)
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


def _configure_engine(engine: Engine, readonly: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        # ``connect`` hardened it already; this watchdog is the engine's, reset before every statement
        record.info[WATCHDOG_KEY] = gate.harden(dbapi_connection)
        cursor = dbapi_connection.cursor()
        for pragma in CONNECTION_PRAGMAS:
            cursor.execute(pragma)
        if readonly:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

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


#: Execution option that makes a transaction a writer (``BEGIN IMMEDIATE``).
WRITE_OPTION = "ztmm_write"


def make_engine(path: Path, *, readonly: bool = False, key: Key | None = None) -> Engine:
    """The SQLAlchemy engine on a working copy; every connection comes from ``connect`` (with ``key``)."""
    engine = create_engine(
        f"sqlite:///{path}",
        module=module_for(key),
        creator=lambda: connect(path, key=key, check_same_thread=False),
        pool_size=2,
        max_overflow=2,
    )
    _configure_engine(engine, readonly)
    return engine


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
        working: Path,
        lock: lockmod.DocumentLock | None,
        readonly: bool,
        key: Key | None = None,
    ) -> None:
        self.document = document
        self.working = working
        self.lock = lock
        self.readonly = readonly
        #: The document's SQLCipher key (None: a plain file); the working copy has the same.
        self.key = key
        self.engine = make_engine(working, readonly=readonly, key=key)
        self.migrated_from: int | None = None
        self.backup_path: Path | None = None
        #: Damaged records the gate left out of a read-only copy (``open(leave_out_damaged=True)``).
        self.left_out: list[gate.Problem] = []
        self._disk_stamp = _stamp(document)
        self._write_sidecar()
        _OPEN_WORKING.add(working)

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
        path = real_path(path)
        if os.path.lexists(path):
            raise EngagementFileError(f"{path}: already exists; choose another name")
        if not path.parent.is_dir():
            raise EngagementFileError(f"{path.parent}: no such folder")
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

        The copy passes the file gate first (``vocabulary``: the catalog's ids); a file
        that fails is refused with ``gate.GateError`` and nothing is left behind. With
        ``leave_out_damaged`` (read-only only) records out of their domain are left out
        of the working copy instead (``left_out`` lists them). An encrypted document
        needs its ``key``; its working copy is encrypted with it too.
        """
        path = real_path(path)
        lock: lockmod.DocumentLock | None = None
        if leave_out_damaged and not readonly:
            raise EngagementFileError(f"{path.name}: damaged records can be left out only when opening read-only")
        if not path.exists():
            raise EngagementFileError(f"{path}: no such file")
        kind = special_kind(path.stat().st_mode)
        if kind is not None and kind != "a folder":  # a FIFO would block the first read
            raise EngagementFileError(f"{path}: is {kind}, not an engagement file")
        if encrypted_salt(path) is None:
            key = None  # a plain file (a passphrase given for it is not needed)
        if not readonly:
            if not os.access(path, os.W_OK):
                raise ReadOnlyLocation(f"{path.name}: the file is read-only; open it read-only")
            lock = lockmod.DocumentLock(path)
            lock.acquire()
        try:
            working = cls._new_working_path(path, readonly, encrypted=key is not None)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        try:
            # refuses early with a precise reason; the copy is what the gate checks
            if key is None:
                check_document(path)
            else:
                check_document(path, key)
            if recover is not None:
                # checked where it is, so that a refused copy stays on offer (nothing lost)
                version, left_out = _check_working_copy(
                    recover.working, f"the unsaved work of {path.name}", vocabulary, key
                )
                shutil.move(str(recover.working), working)
                for suffix in ("-wal", "-shm"):
                    extra = recover.working.with_name(recover.working.name + suffix)
                    if extra.exists():
                        shutil.move(str(extra), working.with_name(working.name + suffix))
                with contextlib.suppress(FileNotFoundError):
                    recover.working.with_name(recover.working.name + SIDECAR_SUFFIX).unlink()
            elif key is None:
                version, left_out = _copy_document(path, working, vocabulary, leave_out_damaged)
            else:
                version, left_out = _copy_encrypted(path, working, key, vocabulary, leave_out_damaged)
            backup_path = None
            if version < SCHEMA_VERSION:
                if not readonly:  # a read-only open never replaces the document: nothing to back up
                    backup_path = _backup_before_migration(path, version)
                conn = connect(working, key=key, autocommit=True)
                try:
                    migrate(conn, version, SCHEMA_VERSION)
                finally:
                    conn.close()
            doc = cls(path, working, lock, readonly=readonly, key=key)
            doc.left_out = left_out
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
        self.engine = make_engine(self.working, readonly=False, key=self.key)
        self._write_sidecar()

    def change_key(self, key: Key | None) -> None:
        """Encrypt the engagement with ``key`` (None: remove the encryption) and save it at once.

        The working copy is rewritten with the new key first (so a crash leaves nothing
        under the old key or in plaintext that the document no longer matches), then the
        document is saved; the saved file holds the unsaved edits too.
        """
        name = self.document.name
        if self.readonly:
            raise EngagementFileError(f"{name}: opened read-only; nothing was changed")
        if _stamp(self.document) != self._disk_stamp:
            raise EngagementFileError(f"{name}: changed on disk since it was opened; save it under another name first")
        fresh = self._new_working_path(self.document, readonly=False, encrypted=key is not None)
        try:
            self.engine.dispose()
            if self.key is not None and key is not None:
                backup_file(self.working, fresh, key=self.key, target_key=key)
            else:
                convert_file(self.working, fresh, key=self.key, target_key=key)
            conn = connect(fresh, key=key, autocommit=True)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            finally:
                conn.close()
        except BaseException as err:
            _OPEN_WORKING.discard(fresh)
            _remove_working(fresh)
            self.engine = make_engine(self.working, readonly=False, key=self.key)
            failure = storage_error(err, f"cannot change the encryption of {name}")
            if failure is not None:
                raise failure from None
            if isinstance(err, OSError):
                raise EngagementFileError(f"cannot change the encryption of {name}: {err.strerror or err}") from None
            raise
        old = self.working
        _OPEN_WORKING.discard(old)
        self.working, self.key = fresh, key
        self.engine = make_engine(fresh, readonly=False, key=key)
        self._write_sidecar()
        _remove_working(old)
        self.save(force=True)

    def _write_to(self, target: Path, *, replace_existing: bool) -> None:
        _refuse_special(target)
        temp = target.with_name(f".{uuid.uuid4().hex[:12]}.saving")
        try:
            # fsynced; an error is raised before anything is replaced
            if self.key is None:
                backup_file(self.working, temp)
            else:
                snapshot_copy(self.working, temp, self.key)
            if not replace_existing and os.path.lexists(target):
                raise EngagementFileError(f"{target}: already exists; choose another name")
            _refuse_special(target)
            os.replace(temp, target)
            with contextlib.suppress(OSError):  # the file is complete and in place
                fsync_folder(target.parent)
        except OSError as err:
            raise EngagementFileError(f"cannot save {target.name}: {err.strerror or err}") from None
        except gate.errors("Error") as err:
            raise storage_error(err, f"cannot save {target.name}") or EngagementFileError(
                f"cannot save {target.name}: {err}"
            ) from None
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    temp.with_name(temp.name + suffix).unlink()

    # -- closing -----------------------------------------------------------

    def close(self) -> None:
        """Drop the working copy and release the lock (unsaved edits are discarded)."""
        self.engine.dispose()
        _OPEN_WORKING.discard(self.working)
        _remove_working(self.working)
        if self.lock is not None:
            self.lock.release()

    def abandon(self) -> None:
        """Release the engine and lock but keep the working copy, as a crash would."""
        self.engine.dispose()
        _OPEN_WORKING.discard(self.working)
        if self.lock is not None:
            self.lock.release()

    def _write_sidecar(self) -> None:
        try:
            _write_sidecar_file(
                self.working, self.document, self.readonly, state="open", encrypted=self.key is not None
            )
        except OSError as err:
            raise EngagementFileError(
                f"{self.document.name}: the app's data folder cannot be written ({err.strerror or err})"
            ) from None


def _write_sidecar_file(working: Path, document: Path, readonly: bool, *, state: str, encrypted: bool = False) -> None:
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
        "encrypted": encrypted,
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
