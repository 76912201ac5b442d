"""The engagement document on disk and the private working copy the app edits.

Consultants keep engagements in synced and network folders and copy them
while open, so the document is never edited in place:

* opening checks the file (SQLite magic, ``application_id``, ``user_version``,
  ``quick_check``) without writing to it, takes the lock beside it, and copies
  it with SQLite's backup API into a private working copy in the app's data
  folder;
* every edit commits to the working copy at once (WAL, ``synchronous=FULL``),
  so a crash loses nothing acknowledged; a sidecar file names the document so
  the next start can offer recovery;
* saving copies the working copy with the backup API to a temp file beside the
  document, fsyncs it and atomically replaces the document.

An encrypted engagement (SQLCipher, ``connect.py``) goes the same way with its
key: the working copy, its WAL and every save are encrypted with the
document's key, so nothing of it is written in plaintext.
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
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry

from ..core.errors import EngagementFileError, ReadOnlyLocation
from ..paths import data_dir
from . import lock as lockmod
from .connect import (
    Key,
    PassphraseNeeded,
    connect,
    database_errors,
    encrypted_salt,
    is_encrypted_head,
    module_for,
)
from .migrations import APPLICATION_ID, SCHEMA_VERSION, migrate

SQLITE_MAGIC = b"SQLite format 3\x00"

#: Working copies this process has open (never reported as orphans).
_OPEN_WORKING: set[Path] = set()
SIDECAR_SUFFIX = ".json"

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


def check_document(path: Path, key: Key | None = None, *, integrity: bool = True) -> int:
    """Refuse anything that is not a readable engagement file; return its schema version.

    Reads the file only: nothing is written to it, whatever it holds. An encrypted
    engagement needs its ``key`` (``PassphraseNeeded`` without one, ``WrongKey`` with a wrong one).
    ``integrity=False`` leaves ``quick_check`` to the caller (run on the copy it makes).
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
    elif key is not None:
        key = None  # a plain file: nothing to decrypt
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
    if integrity:
        _quick_check(path, name, key)
    return user_version


def _quick_check(path: Path, name: str, key: Key | None) -> None:
    try:
        conn = connect(path, key=key, readonly=True)
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except database_errors() as err:
        raise EngagementFileError(f"{name}: the engagement file is damaged ({err})") from None
    if rows != [("ok",)]:
        first = rows[0][0] if rows else "no answer"
        raise EngagementFileError(f"{name}: the engagement file is damaged ({first})")


def _looks_encrypted(path: Path) -> bool:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            return is_encrypted_head(handle.read(1024), size)
    except OSError:
        return False


def _encrypted_header(path: Path, key: Key | None) -> tuple[int, int]:
    """``user_version`` and ``application_id`` of an encrypted file (read with its key, read-only)."""
    try:
        conn = connect(path, key=key, readonly=True)
        try:
            user_version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        finally:
            conn.close()
    except database_errors() as err:
        raise EngagementFileError(f"{path.name}: the engagement file is damaged ({err})") from None
    return user_version, application_id


def _fsync_path(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return  # e.g. directories on Windows cannot be opened; best effort
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def backup_file(
    source: Path, target: Path, *, source_readonly: bool = False, key: Key | None = None, target_key: Key | None = None
) -> None:
    """Copy an SQLite database page by page with the online backup API.

    The copy uses the rollback journal (one self-contained file) and is fsynced. With a
    ``key`` both are encrypted, the copy with ``target_key`` when given (a new passphrase),
    else with ``key``. Encrypting or decrypting a file is ``convert_file``.
    """
    src = connect(source, key=key, readonly=source_readonly)
    try:
        dst = connect(target, key=target_key or key)
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
    _fsync_path(target)


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
    _fsync_path(target)
    return True


def convert_file(source: Path, target: Path, *, key: Key | None, target_key: Key | None) -> None:
    """Copy a database between plain and encrypted (``sqlcipher_export``: the backup API cannot).

    ``target`` is a new file; its schema, rows, ``user_version`` and ``application_id``
    are the source's. Used by Encrypt and Remove encryption.
    """
    from .connect import cipher_module

    module = cipher_module()
    src = module.connect(str(source), isolation_level=None)
    try:
        src.execute("PRAGMA cipher_log_level = NONE")
        if key is not None:
            src.execute(key.pragma())
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
    _fsync_path(target)


def _configure_engine(engine: Engine, readonly: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
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


@dataclass(frozen=True)
class Orphan:
    """A working copy left behind by a process that ended without closing it."""

    document: Path
    working: Path
    modified: float


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
        self._disk_stamp = _stamp(document)
        self._write_sidecar()
        _OPEN_WORKING.add(working)

    # -- opening -----------------------------------------------------------

    @staticmethod
    def _new_working_path() -> Path:
        folder = data_dir() / "working"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{uuid.uuid4().hex}.ztmm"

    @classmethod
    def create(
        cls, path: Path, initialise: Callable[[sqlite3.Connection], None], *, key: Key | None = None
    ) -> EngagementDocument:
        """Make a new document at ``path`` (which must not exist) and open it for editing; encrypted with ``key``."""
        path = path.absolute()
        if path.exists():
            raise EngagementFileError(f"{path}: already exists; choose another name")
        if not path.parent.is_dir():
            raise EngagementFileError(f"{path.parent}: no such folder")
        lock = lockmod.DocumentLock(path)
        lock.acquire()
        working = cls._new_working_path()
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
        except BaseException:
            _remove_working(working)
            lock.release()
            raise

    @classmethod
    def open(
        cls, path: Path, *, readonly: bool = False, recover: Orphan | None = None, key: Key | None = None
    ) -> EngagementDocument:
        """Open ``path``; for editing unless ``readonly``. ``recover`` reuses a crashed session's copy.

        An encrypted document needs its ``key``; its working copy is encrypted with it too.
        """
        path = path.absolute()
        lock: lockmod.DocumentLock | None = None
        if not path.exists():
            raise EngagementFileError(f"{path}: no such file")
        if not readonly:
            if not os.access(path, os.W_OK):
                raise ReadOnlyLocation(f"{path.name}: the file is read-only; open it read-only")
            lock = lockmod.DocumentLock(path)
            lock.acquire()
        working = cls._new_working_path()
        try:
            if encrypted_salt(path) is None:
                key = None  # a plain file (a passphrase given for it is not needed)
            version = check_document(path, key, integrity=key is None)
            if recover is not None:
                shutil.move(str(recover.working), working)
                for suffix in ("-wal", "-shm"):
                    extra = recover.working.with_name(recover.working.name + suffix)
                    if extra.exists():
                        shutil.move(str(extra), working.with_name(working.name + suffix))
                with contextlib.suppress(FileNotFoundError):
                    recover.working.with_name(recover.working.name + SIDECAR_SUFFIX).unlink()
                version = _check_working_copy(working, key)
            elif key is None:
                backup_file(path, working, source_readonly=True)
            else:
                # Its pages are encrypted with the key the working copy uses: copied as they are, then the
                # copy (what will be read) is checked, rather than decrypting and re-encrypting every page.
                shutil.copyfile(path, working)
                with ThreadPoolExecutor(1) as pool:  # the disk syncs the copy while the CPU checks it
                    synced = pool.submit(_fsync_path, working)
                    try:
                        _quick_check(working, path.name, key)
                    finally:
                        synced.result()
            backup_path = None
            if version < SCHEMA_VERSION:
                backup_path = _backup_before_migration(path, version)
                conn = connect(working, key=key, autocommit=True)
                try:
                    migrate(conn, version, SCHEMA_VERSION)
                finally:
                    conn.close()
            doc = cls(path, working, lock, readonly=readonly, key=key)
            if backup_path is not None:
                doc.migrated_from, doc.backup_path = version, backup_path
            return doc
        except BaseException:
            _remove_working(working)
            if lock is not None:
                lock.release()
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
        target = target.absolute()
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
        if self.readonly:
            raise EngagementFileError(f"{self.document.name}: opened read-only; nothing was changed")
        if _stamp(self.document) != self._disk_stamp:
            raise EngagementFileError(
                f"{self.document.name}: changed on disk since it was opened; save it under another name first"
            )
        fresh = self._new_working_path()
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
        except BaseException:
            _remove_working(fresh)
            self.engine = make_engine(self.working, readonly=False, key=self.key)
            raise
        old = self.working
        _OPEN_WORKING.discard(old)
        self.working, self.key = fresh, key
        _OPEN_WORKING.add(fresh)
        self.engine = make_engine(fresh, readonly=False, key=key)
        self._write_sidecar()
        _remove_working(old)
        self.save(force=True)

    def _write_to(self, target: Path, *, replace_existing: bool) -> None:
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.saving")
        try:
            if self.key is None:
                backup_file(self.working, temp)
            else:
                snapshot_copy(self.working, temp, self.key)
            if not replace_existing and target.exists():
                raise EngagementFileError(f"{target}: already exists; choose another name")
            os.replace(temp, target)
            _fsync_path(target.parent, directory=True)
        except OSError as err:
            raise EngagementFileError(f"cannot save {target.name}: {err.strerror or err}") from None
        finally:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
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
        sidecar = self.working.with_name(self.working.name + SIDECAR_SUFFIX)
        info = {
            "document": str(self.document),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "opened": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "readonly": self.readonly,
            "encrypted": self.key is not None,
        }
        sidecar.write_text(json.dumps(info), encoding="utf-8")


def _check_working_copy(path: Path, key: Key | None = None) -> int:
    """Replay a recovered working copy's WAL, check it, and return its schema version."""
    try:
        conn = connect(path, key=key)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        finally:
            conn.close()
    except database_errors() as err:
        raise EngagementFileError(f"the unsaved work cannot be recovered: it is damaged ({err})") from None
    if rows != [("ok",)] or application_id != APPLICATION_ID or not 1 <= version <= SCHEMA_VERSION:
        raise EngagementFileError("the unsaved work cannot be recovered: it is damaged")
    return version


def _backup_before_migration(document: Path, version: int) -> Path:
    folder = data_dir() / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{document.stem}.schema{version}.{time.strftime('%Y%m%d-%H%M%S')}{document.suffix}"
    shutil.copy2(document, target)
    _fsync_path(target)
    return target


def _remove_working(working: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", SIDECAR_SUFFIX):
        with contextlib.suppress(FileNotFoundError):
            working.with_name(working.name + suffix).unlink()


def orphaned_working_copies() -> list[Orphan]:
    """Working copies whose process ended without closing them (crash recovery)."""
    folder = data_dir() / "working"
    if not folder.is_dir():
        return []
    found = []
    for sidecar in sorted(folder.glob("*.ztmm" + SIDECAR_SUFFIX)):
        try:
            info = json.loads(sidecar.read_text(encoding="utf-8"))
            pid, host, document, readonly = (
                int(info["pid"]),
                str(info["host"]),
                Path(info["document"]),
                bool(info["readonly"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
        working = sidecar.with_name(sidecar.name[: -len(SIDECAR_SUFFIX)])
        if working in _OPEN_WORKING:
            continue
        if pid != os.getpid() and host == socket.gethostname() and lockmod.pid_alive(pid):
            continue
        if readonly or not working.exists():
            _remove_working(working)  # a read-only session's copy holds no unsaved work
            continue
        found.append(Orphan(document=document, working=working, modified=working.stat().st_mtime))
    return found


def discard_orphan(orphan: Orphan) -> None:
    """Throw away a crashed session's unsaved work (the user chose not to recover it)."""
    _remove_working(orphan.working)
