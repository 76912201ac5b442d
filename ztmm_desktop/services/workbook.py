"""Export the client deliverable workbook of an engagement (``ztmm export FILE OUT.xlsx``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..core.comments import FindingComment
from ..core.errors import BadInput
from ..core.progress import CancelToken, Progress, no_progress
from ..excel.workbook import write_workbook
from . import sealed
from .deliverables import build_snapshot
from .engagement import Engagement


def check_workbook_path(out: Path) -> None:
    """Refuse an output name that is not an Excel workbook before any work is done."""
    if out.suffix.lower() != ".xlsx":
        raise BadInput(f"{out}: the workbook name must end in .xlsx")


def export_workbook(
    engagement: Engagement,
    out: Path,
    *,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    generated_at: str | None = None,
    passphrase: str | None = None,
    review_comments: Iterable[FindingComment] = (),
) -> Path:
    """Write the deliverable workbook of ``engagement`` to ``out``: all of it, or nothing.

    The workbook is written to a temp file beside ``out`` and renamed into place
    when complete, so a bad folder, a cancel or a crash leaves no partial file and
    never harms a file already at ``out``. The engagement is only read. With a
    ``passphrase`` the workbook goes into an AES-256 zip (``client.xlsx.zip``). ``review_comments``
    (internal notes from the team server) get a column of their own on the Findings sheet.
    """
    member = sealed.member_name(out, ".xlsx") if passphrase is not None else out.name
    check_workbook_path(Path(member))
    with sealed.target(out, passphrase, member, inputs=(("the engagement file", engagement.path),)) as temp:
        snapshot = build_snapshot(engagement, generated_at=generated_at, review_comments=review_comments)
        write_workbook(snapshot, temp, progress=progress, cancel=cancel)
    return out
