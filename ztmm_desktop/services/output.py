"""Writing a file the user asked for: all of it or nothing, and never over what it must not replace.

Every command and window action that writes a file (report, workbook,
questionnaire, evidence pack, an extracted or opened evidence file) goes
through :func:`written` (SECURITY.md item 21):

* the target's real path is resolved first: a symbolic link is followed to the
  file it names, which is replaced while the link stays a link;
* refused with one line, before any work: a name over 255 bytes, a missing or
  unwritable folder, a target that is a folder, a device, a FIFO or a socket,
  an engagement file (SQLite magic and our application id, or a lock file
  beside it: whoever holds it), or one of the files the output is made from;
* the bytes go to a hidden temp file beside the target (same filesystem, so the
  rename is atomic), which is fsynced (an error there, e.g. a full disk, is
  reported and the target left alone) and renamed over the target only after
  the target is checked again; then the folder is fsynced.

A failure, a cancel or a crash never leaves a partial file under the name the
user asked for, and never harms a file already there.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import BadInput
from ..store.files import fsync_file, fsync_folder, is_engagement_file, name_problem, special_kind
from ..store.lock import lock_path_for

#: (what it is, its path): files an output is made from and must not replace, e.g.
#: ("the engagement file", engagement.path), ("the template", template).
Inputs = Iterable[tuple[str, Path | None]]

_TEMP_NAME_BYTES = 100


def check_output(out: Path, inputs: Inputs = ()) -> Path:
    """The real path ``out`` names, or ``BadInput`` saying in one line why nothing may be written there."""
    out = Path(out)
    for name in (out.name, Path(os.path.realpath(out)).name):
        if not name:
            raise BadInput(f"{out}: name a file to write")
        problem = name_problem(name)
        if problem:
            raise BadInput(f"cannot write {_short(name)}: {problem}")
    real = Path(os.path.realpath(out))
    if not real.parent.is_dir():
        raise BadInput(f"{out.parent}: no such folder")
    try:
        info = os.stat(real)
    except FileNotFoundError:
        return real
    except OSError as err:
        raise BadInput(f"cannot write {out} ({err.strerror or err})") from None
    kind = special_kind(info.st_mode)
    if kind is not None:
        raise BadInput(f"{out} is {kind}, not a file; choose another name")
    for what, path in inputs:
        if path is not None and _same(info, path):
            raise BadInput(f"{out} is {what} itself; choose another name")
    if is_engagement_file(real) or os.path.lexists(lock_path_for(real)):
        raise BadInput(f"{out} is an engagement file; choose another name")
    return real


def _same(info: os.stat_result, path: Path) -> bool:
    try:
        other = os.stat(path)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == (other.st_dev, other.st_ino)


def _short(name: str) -> str:
    return repr(name if len(name) <= 40 else name[:39] + "…")


def _temp_beside(real: Path) -> Path:
    stem = real.name
    while len(os.fsencode(stem)) > _TEMP_NAME_BYTES:
        stem = stem[:-1]
    return real.with_name(f".{stem}.{uuid.uuid4().hex[:8]}.part")


@contextmanager
def written(out: Path, *, inputs: Inputs = ()) -> Iterator[Path]:
    """Yield a temp path beside ``out``'s real path; on success it becomes that file, on failure it is removed.

    ``inputs`` name the files the output is made from (refused as targets).
    """
    inputs = tuple(inputs)
    real = check_output(out, inputs)
    temp = _temp_beside(real)
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as err:
        raise BadInput(f"cannot write in {real.parent} ({err.strerror or err})") from None
    try:
        yield temp
        if not stat.S_ISREG(os.lstat(temp).st_mode):
            raise BadInput(f"cannot write {out}: its temp file was replaced while being written")
        fsync_file(temp)
        if check_output(out, inputs) != real:
            raise BadInput(f"cannot write {out}: it was moved or replaced while being written")
        os.replace(temp, real)
        with contextlib.suppress(OSError):  # the file is complete and in place; the rename is the folder's
            fsync_folder(real.parent)
    except OSError as err:
        raise BadInput(f"cannot write {out} ({err.strerror or err})") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
