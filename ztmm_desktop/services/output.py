"""Writing a deliverable: all of it or nothing.

Every export (workbook, questionnaire, report, evidence pack) writes to a hidden
temp file beside the target and renames it into place only when it is complete,
so a failure, a cancel or a crash never leaves a partial file under the name the
user asked for, and never harms a file already there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import BadInput


@contextmanager
def written(out: Path) -> Iterator[Path]:
    """Yield a temp path beside ``out``; on success it becomes ``out``, on failure it is removed."""
    folder = out.parent
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder")
    if out.is_dir():
        raise BadInput(f"{out} is a folder")
    temp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        yield temp
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, out)
    except OSError as err:
        raise BadInput(f"cannot write {out} ({err.strerror or err})") from None
    finally:
        temp.unlink(missing_ok=True)
