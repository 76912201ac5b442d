"""Export the PDF report of an engagement (``ztmm report``, File → Export report…).

The report renders a :class:`~ztmm_desktop.core.deliverable.Snapshot` read once
from the engagement, through ``report/``, into a temp file beside the target
that becomes the target only when complete (``output.written``): a failure, a
cancel or a crash never leaves a partial PDF under the name asked for.

The client's logo on the cover is the one given for this report, else the
engagement's own (``services/logo.py``, which checks it); the consultancy's logo
beside it is the engagement's (``services/register.py``). Both are decoded
before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import BadInput
from ..core.progress import CancelToken, Progress, no_progress
from ..paths import fonts_dir
from ..report.render import Logo, render_report
from .deliverables import build_snapshot
from .engagement import Engagement
from .logo import load_logo, read_consultancy_logo, read_logo
from .output import written


def export_report(
    engagement: Engagement,
    out: Path,
    *,
    draft: bool = False,
    logo: Path | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Write the PDF report of ``engagement`` to ``out``; all of it or nothing."""
    chosen = load_logo(logo) if logo is not None else read_logo(engagement)  # the engagement's own, if any
    image = Logo(chosen.data, chosen.width, chosen.height) if chosen is not None else None
    firm = read_consultancy_logo(engagement)
    firm_image = Logo(firm.data, firm.width, firm.height) if firm is not None else None
    if out.exists() and out.resolve() == engagement.path.resolve():
        raise BadInput(f"{out} is the engagement file itself; choose another name for the report")
    if cancel is not None:
        cancel.check()
    progress(0, 1, "Reading the engagement")
    snapshot = build_snapshot(engagement)
    with written(out) as temp:
        pages = render_report(
            snapshot,
            temp,
            fonts_dir=fonts_dir(),
            draft=draft,
            logo=image,
            consultancy_logo=firm_image,
            progress=progress,
            cancel=cancel,
        )
    progress(1, 1, f"Report written ({pages} pages)")
    return out
