"""Small facts about files on disk that writing safely depends on (no Qt, no engagement logic).

Used by the document's save (``store/document.py``) and by every output the
user asks for (``services/output.py``): what kind of thing a path is, whether
a file is an engagement, and fsync that reports its errors.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .migrations import APPLICATION_ID

SQLITE_MAGIC = b"SQLite format 3\x00"
#: The longest file name most filesystems take (bytes of its encoded form).
MAX_NAME_BYTES = 255

#: errno values that mean "this filesystem cannot sync a folder", not "the data is at risk".
_NO_DIRECTORY_SYNC = {errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EACCES, errno.EPERM, errno.EISDIR}


def special_kind(mode: int) -> str | None:
    """What a file of ``mode`` is when it is not a regular file ("a folder", "a FIFO", …)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a file name here (too long, not encodable), or None."""
    try:
        encoded = os.fsencode(name)
    except UnicodeError:
        return "the name holds characters this system cannot store in a file name"
    if len(encoded) > MAX_NAME_BYTES:
        return f"the name is {len(encoded):,} bytes long; the limit is {MAX_NAME_BYTES}"
    return None


def is_engagement_file(path: Path) -> bool:
    """Whether the regular file at ``path`` starts like an engagement (SQLite magic and our
    application id). Never blocks: opened without waiting, read at most 100 bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        head = os.read(fd, 100)
    except OSError:
        return False
    finally:
        os.close(fd)
    return len(head) == 100 and head.startswith(SQLITE_MAGIC) and int.from_bytes(head[68:72], "big") == APPLICATION_ID


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to the disk; an error (disk full, I/O error) is raised, not ignored."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(path: Path) -> None:
    """Flush a folder's entries (a rename) to the disk, where the system can; other errors are raised."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as err:
        if err.errno in _NO_DIRECTORY_SYNC:
            return  # e.g. Windows cannot open a folder
        raise
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in _NO_DIRECTORY_SYNC:
            raise
    finally:
        os.close(fd)
