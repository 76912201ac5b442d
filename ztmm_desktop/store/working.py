"""The private working copies' bookkeeping: which are open, which are disposable, which are left behind.

A working copy (``document.py``) has a sidecar file naming its document, process and host. Finding the
copies a process left behind, and deleting those nobody will recover, needs no database layer: the
``ztmm`` command does it at start, before it knows whether the command opens an engagement at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..paths import data_dir
from . import lock as lockmod

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


def disposable() -> bool:
    """Whether a working copy made now is marked disposable (see :func:`disposable_working_copies`)."""
    return _DISPOSABLE


@dataclass(frozen=True)
class Orphan:
    """A working copy left behind by a process that ended without closing it."""

    document: Path
    working: Path
    modified: float
    #: The working copy holds the records and the bytes attached since; the older bytes are in the document.
    partial: bool = False


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


#: A spare clone of a document (``document.Spare``), in the data folder's ``spare`` folder, named by its process.
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


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


class Changes:
    """Which tables of a working copy were written since the document was last saved.

    Filled by TEMP triggers on every connection to the working copy (``document.track_changes``):
    a table with rows inserted is marked ``inserted``, one with rows updated or deleted ``rewritten``
    (``recursive_triggers`` is on, so a ``REPLACE`` that deletes a row counts as a delete). It lives in
    this process only: a working copy recovered after a crash starts with ``everything`` set, so the
    first save applies every table, as does one whose changes cannot be known (a whole copy, migrated,
    re-encrypted). Thread-safe: the window edits and saves on different threads.
    """

    def __init__(self, *, everything: bool = True) -> None:
        self._lock = threading.Lock()
        self.everything = everything
        self.inserted: set[str] = set()
        self.rewritten: set[str] = set()
        #: every table written since :meth:`take_touched` was last called (saves do not clear it): for a
        #: caller that keeps its own reference point, such as a server copy's last Save
        self.touched: set[str] = set()

    def mark(self, table: str, rewritten: int) -> None:
        with self._lock:
            (self.rewritten if rewritten else self.inserted).add(table)
            self.touched.add(table)

    def take_touched(self) -> set[str]:
        """The tables written since the last call (and start again from nothing)."""
        with self._lock:
            touched, self.touched = self.touched, set()
            return touched

    def mark_everything(self) -> None:
        with self._lock:
            self.everything = True

    def take(self) -> Changes:
        """What was marked so far, and start again from nothing (the caller puts it back if its save fails)."""
        with self._lock:
            taken = Changes(everything=self.everything)
            taken.inserted, taken.rewritten = self.inserted, self.rewritten
            self.everything, self.inserted, self.rewritten = False, set(), set()
            return taken

    def put_back(self, taken: Changes) -> None:
        """Merge back what :meth:`take` handed out (the save it was for did not become the document)."""
        with self._lock:
            self.everything = self.everything or taken.everything
            self.inserted |= taken.inserted
            self.rewritten |= taken.rewritten

    def tables(self) -> set[str]:
        return self.inserted | self.rewritten
