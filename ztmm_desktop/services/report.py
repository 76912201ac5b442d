"""Export the report of an engagement, PDF or Word (``ztmm report``, File → Export report…).

The format follows the target's extension: ``.docx`` is the Word report
(``word/``), on the firm's template when one is given (checked before anything
is written, ``word/template.py``) or on the default one
(``resources/word/report-template.docx``); anything else is the PDF.

The report renders a :class:`~ztmm_desktop.core.deliverable.Snapshot` read once
from the engagement, through ``report/``, into a temp file beside the target
that becomes the target only when complete (``output.written``): a failure, a
cancel or a crash never leaves a partial PDF under the name asked for.

The client's logo on the cover is the one given for this report, else the
engagement's own (``services/logo.py``, which checks it); the consultancy's logo
beside it is the engagement's (``services/logo.py`` too). Both are decoded
before anything is written.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from ..core.comments import FindingComment
from ..core.errors import BadInput
from ..core.progress import CancelToken, Progress, no_progress
from ..paths import fonts_dir, resources_dir
from ..report.render import Logo, render_report
from . import sealed
from .deliverables import build_snapshot
from .engagement import Engagement
from .logo import load_logo, read_consultancy_logo, read_logo
from .output import check_output


def export_report(
    engagement: Engagement,
    out: Path,
    *,
    draft: bool = False,
    logo: Path | None = None,
    template: Path | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    passphrase: str | None = None,
    review_comments: Iterable[FindingComment] = (),
) -> Path:
    """Write the report of ``engagement`` to ``out`` (PDF, or Word for ``.docx``); all of it or nothing.

    With a ``passphrase`` the report goes into an AES-256 zip (``report.pdf.zip`` holds ``report.pdf``).
    ``review_comments`` (internal notes from the team server) are printed under their findings.
    """
    member = sealed.member_name(out, ".pdf") if passphrase is not None else out.name
    if is_word(Path(member)):
        if logo is not None:
            raise BadInput(
                "--logo is for the PDF report; the Word report takes its logo from the template (--template)"
            )
        return export_word_report(
            engagement,
            out,
            draft=draft,
            template=template,
            progress=progress,
            cancel=cancel,
            passphrase=passphrase,
            review_comments=review_comments,
        )
    if template is not None:
        raise BadInput(f"--template is for the Word report; name the output .docx, not {out.name}")
    chosen = load_logo(logo) if logo is not None else read_logo(engagement)  # the engagement's own, if any
    inputs = (("the engagement file", engagement.path), ("the logo", logo))
    check_output(out, inputs)  # refused before any work
    with sealed.target(out, passphrase, member, inputs=inputs) as temp:
        _render_pdf(
            engagement, temp, chosen, draft=draft, progress=progress, cancel=cancel, review_comments=review_comments
        )
    return out


def report_pdf_bytes(
    engagement: Engagement, *, draft: bool = False, progress: Progress = no_progress, cancel: CancelToken | None = None
) -> bytes:
    """The PDF report in memory (the print preview of an encrypted engagement writes no plaintext file)."""
    buffer = io.BytesIO()
    _render_pdf(engagement, buffer, read_logo(engagement), draft=draft, progress=progress, cancel=cancel)
    return buffer.getvalue()


def _render_pdf(
    engagement: Engagement,
    target: Path | IO[bytes],
    chosen: Any,
    *,
    draft: bool,
    progress: Progress,
    cancel: CancelToken | None,
    review_comments: Iterable[FindingComment] = (),
) -> None:
    image = Logo(chosen.data, chosen.width, chosen.height) if chosen is not None else None
    firm = read_consultancy_logo(engagement)
    firm_image = Logo(firm.data, firm.width, firm.height) if firm is not None else None
    if cancel is not None:
        cancel.check()
    progress(0, 1, "Reading the engagement")
    snapshot = build_snapshot(engagement, review_comments=review_comments)
    pages = render_report(
        snapshot,
        target,
        fonts_dir=fonts_dir(),
        draft=draft,
        logo=image,
        consultancy_logo=firm_image,
        progress=progress,
        cancel=cancel,
    )
    progress(1, 1, f"Report written ({pages} pages)")


def is_word(out: Path) -> bool:
    return out.suffix.lower() == ".docx"


def default_template() -> Path:
    """The template shipped with the app (``tools/make_word_template.py`` makes it)."""
    return resources_dir() / "word" / "report-template.docx"


def export_word_report(
    engagement: Engagement,
    out: Path,
    *,
    draft: bool = False,
    template: Path | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    passphrase: str | None = None,
    review_comments: Iterable[FindingComment] = (),
) -> Path:
    """Write the Word report of ``engagement`` to ``out`` on ``template`` (else the default); all of it or nothing."""
    member = sealed.member_name(out, ".docx") if passphrase is not None else out.name
    from ..word.render import render_word
    from ..word.template import load_template

    checked = load_template(template if template is not None else default_template())
    inputs = (("the engagement file", engagement.path), ("the template", template))
    check_output(out, inputs)
    if cancel is not None:
        cancel.check()
    progress(0, 1, "Reading the engagement")
    snapshot = build_snapshot(engagement, review_comments=review_comments)
    with sealed.target(out, passphrase, member, inputs=inputs) as temp:
        render_word(snapshot, temp, checked, fonts_dir=fonts_dir(), draft=draft, progress=progress, cancel=cancel)
    progress(1, 1, "Word report written")
    return out
