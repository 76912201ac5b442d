"""The folders of server copies in the app's data folder: made naming their process, and the ones a
process left behind (a crash, a kill) removed by the next run (the window at start, every ``ztmm``).

A window's open server engagement and a command's disposable copy each live in a folder of their own
under ``server-copies/`` (``services.server_copy``, ``services.team``). Light on purpose (no database
layer): every ``ztmm`` command tidies up at start.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from ..paths import data_dir

if TYPE_CHECKING:
    from ..store.working import Orphan

#: The data folder's folder of server copies (a window's open engagement, a command's disposable copy).
COPIES = "server-copies"
#: Each copy's folder names the process it is for: a folder of a process that is gone is left over.
OWNER = "owner.json"
#: A folder without its owner (another host's, or one being made) is left alone for this long.
LEFT_OVER_GRACE_SECONDS = 24 * 3600


def new_copy_folder() -> Path:
    """A new folder for a server copy in the app's data folder, naming this process as its owner."""
    folder = data_dir() / COPIES / uuid.uuid4().hex
    try:
        folder.mkdir(parents=True, mode=0o700)
        (folder / OWNER).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}), encoding="utf-8")
    except OSError as err:
        from ..server.connect import ServerError

        shutil.rmtree(folder, ignore_errors=True)
        raise ServerError(f"the app's data folder cannot be written ({err.strerror or err})") from None
    return folder


def clean_up_left_copies(orphans: list[Orphan] | None = None) -> int:
    """Delete the server copies of processes that ended without deleting them (a crash, a kill); how many.

    A copy is kept while its process runs on this host (or, for another host's, for a day), and while
    the usual crash recovery may offer its unsaved work (a working copy of its document is orphaned):
    what it held is on the server, or is the recovery's to offer. ``orphans``: the orphaned working
    copies when the caller has just listed them (else they are listed here)."""
    from ..store.lock import pid_alive
    from ..store.working import orphaned_working_copies

    root = data_dir() / COPIES
    if not root.is_dir():
        return 0
    found = orphaned_working_copies() if orphans is None else orphans
    recoverable = {orphan.document.parent.resolve() for orphan in found}
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir() or folder.resolve() in recoverable:
            continue
        try:
            owner = json.loads((folder / OWNER).read_text(encoding="utf-8"))
            pid, host = int(owner["pid"]), str(owner["host"])
        except (OSError, ValueError, KeyError, TypeError):
            pid, host = -1, ""
        if host == socket.gethostname():
            if pid == os.getpid() or pid_alive(pid):
                continue
        else:
            try:
                age = time.time() - folder.stat().st_mtime
            except OSError:
                continue
            if age < LEFT_OVER_GRACE_SECONDS:
                continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed
