"""Export the client deliverable workbook of an engagement (``ztmm export FILE OUT.xlsx``)."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import BadInput
from ..core.progress import CancelToken, Progress, no_progress
from ..excel.workbook import write_workbook
from .deliverables import build_snapshot
from .engagement import Engagement
from .output import written


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
) -> Path:
    """Write the deliverable workbook of ``engagement`` to ``out``: all of it, or nothing.

    The workbook is written to a temp file beside ``out`` and renamed into place
    when complete, so a bad folder, a cancel or a crash leaves no partial file and
    never harms a file already at ``out``. The engagement is only read.
    """
    check_workbook_path(out)
    with written(out, inputs=(("the engagement file", engagement.path),)) as temp:
        snapshot = build_snapshot(engagement, generated_at=generated_at)
        write_workbook(snapshot, temp, progress=progress, cancel=cancel)
    return out
