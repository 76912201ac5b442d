"""A lock file beside the engagement document naming who holds it.

SQLite's own locking does not stop a second process (or a second host on a
synced or network folder) from editing the same document, so an open-for-edit
writes ``.<name>.lock`` next to it, created exclusively, holding pid, host,
user and time as JSON. A lock left by a dead process on this host is reclaimed;
a lock from another host is honoured until its holder releases it.

The document's path is its real path (``document.real_path``), so a link and the
file it names share one lock. Whatever sits at the lock's name is looked at
without following it or waiting on it: a folder, a FIFO or a link there is
refused in one line (never read, never removed).
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import json
import os
import socket
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import DocumentLocked, EngagementFileError, ReadOnlyLocation
from .files import special_kind

#: An empty or unreadable lock file older than this is taken to be a crash leftover.
GARBLED_LOCK_GRACE_SECONDS = 10.0


def lock_path_for(document: Path) -> Path:
    return document.with_name(f".{document.name}.lock")


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


@dataclass(frozen=True)
class LockHolder:
    pid: int
    host: str
    user: str
    since: str

    def describe(self) -> str:
        return f"{self.user} on {self.host} (process {self.pid}, since {self.since})"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


#: A lock file is a few hundred bytes of JSON; more is not a lock file of ours.
MAX_LOCK_BYTES = 4096


def read_holder(path: Path) -> LockHolder | None:
    """Who a lock file names; None when it is missing, garbled, or not a regular file (never blocks)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        raw = os.read(fd, MAX_LOCK_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        data = json.loads(raw.decode("utf-8"))
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["user"]), str(data["since"]))
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


def _odd_lock(path: Path, document: Path) -> EngagementFileError | None:
    """An error when what sits at the lock's name is not a regular file (it is neither read nor removed)."""
    try:
        kind = special_kind(os.lstat(path).st_mode)
    except OSError:
        return None
    if kind is None:
        return None
    return EngagementFileError(f"cannot lock {document.name}: its lock file {path.name} is {kind}; remove it")


class DocumentLock:
    """An exclusive, named lock on one document; release it with ``release()``."""

    def __init__(self, document: Path) -> None:
        self.document = document
        self.path = lock_path_for(document)
        self.held = False

    def acquire(self) -> None:
        for _attempt in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                odd = _odd_lock(self.path, self.document)
                if odd is not None:
                    raise odd from None
                if self._reclaim_if_stale():
                    continue
                holder = read_holder(self.path)
                who = holder.describe() if holder else "another program"
                raise DocumentLocked(f"{self.document.name} is open by {who}", who) from None
            except OSError as err:
                if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise ReadOnlyLocation(
                        f"cannot write in the folder of {self.document.name} ({err.strerror}); "
                        "open it read-only or copy it to a writable folder"
                    ) from None
                raise EngagementFileError(f"cannot lock {self.document.name}: {err.strerror or err}") from None
            payload = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "user": current_user(),
                "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                "app": "ZTMM Workbench",
            }
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle)
                handle.flush()
                os.fsync(handle.fileno())
            self.held = True
            return
        raise EngagementFileError(f"cannot lock {self.document.name}: the lock file keeps changing")

    def _reclaim_if_stale(self) -> bool:
        holder = read_holder(self.path)
        if holder is None:
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                return True
            stale = age > GARBLED_LOCK_GRACE_SECONDS
        else:
            stale = holder.host == socket.gethostname() and not pid_alive(holder.pid)
        if stale and _odd_lock(self.path, self.document) is None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        return stale

    def release(self) -> None:
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self.held = False


def holder_of(document: Path) -> LockHolder | None:
    """Who holds ``document`` now, if anyone alive does."""
    path = lock_path_for(document)
    holder = read_holder(path)
    if holder is None:
        return None
    if holder.host == socket.gethostname() and not pid_alive(holder.pid):
        return None
    return holder
