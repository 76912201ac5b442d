"""How every deliverable writes a date, a count, a size, a stage, an assessment status and the summary sentence.

The PDF report, the Word report and the workbook all take these words from here, so the
same thing reads the same in each (figures themselves come from :mod:`.figures`). Pure
text: a renderer escapes or styles it its own way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .stages import Stage

# Only the summary and the status words need the figures and the rules (``plural`` and the dates are
# on the window's first frame, before them).
if TYPE_CHECKING:
    from .catalog import Pillar
    from .scoring import FunctionAssessment, Rollup

NONE = "—"


def date_text(value: str | None, month: str = "%B") -> str:
    """``30 November 2026`` (``30 Nov 2026`` with ``month="%b"``); text that is no date stays as it is."""
    if not value:
        return ""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {day.strftime(month)} {day.year}"


def short_date(value: str | None) -> str:
    return date_text(value, "%b")


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 finding``, ``1,204 findings``."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def size_text(size: int) -> str:
    """A file size in decimal units: ``512 B``, ``1.4 MB``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{size} B"


def label(value: str) -> str:
    """A stored key as words: ``in-progress`` → ``In progress``; ``—`` for none."""
    return value.replace("-", " ").capitalize() if value else NONE


def first_line(text: str, width: int = 60) -> str:
    """A text's first line, cut short with ``…`` beyond ``width`` characters (an action named in a list)."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def stage_text(stage: Stage | None) -> str:
    return stage.label if stage is not None else NONE


def assessment_status(assessment: FunctionAssessment) -> str:
    """A function's assessment status, never to be read as remediation: ``Assessment: done``.

    Recorded, else derived from the ratings, by the one rule of :mod:`.status` that the window shows too.
    """
    from . import status

    return f"Assessment: {status.assessment_status(assessment).words}"


def short_pillar(pillar: Pillar) -> str:
    """A pillar's name where room is short (charts, the summary sentence): ``Applications & Workloads``."""
    name = pillar.name.replace(" pillar", "")
    return "Cross-cutting" if pillar.kind == "cross_cutting" else name.replace(" and ", " & ")


@dataclass(frozen=True)
class Summary:
    """The executive summary's sentence, in parts, so a renderer can set the stage in bold.

    Read as ``before + stage + after``, then ``pillars`` and ``unassessed`` when they are not empty.
    """

    before: str
    stage: str
    after: str
    pillars: str
    unassessed: str


def summary(overall: Rollup, pillars: list[tuple[Pillar, Rollup]]) -> Summary:
    from . import figures

    shown = figures.rollup_figures(overall)
    scores = {
        short_pillar(pillar): score
        for pillar, roll in pillars
        if (score := figures.rollup_figures(roll).score) is not None
    }
    target = f", against a mean target of {shown.target_text()}" if shown.target is not None else ""
    left = shown.not_assessed
    return Summary(
        before="Overall, the assessed functions stand at ",
        stage=stage_text(shown.level),
        after=f" (mean stage {shown.score_text()} on the 0–3 scale{target}).",
        pillars=figures.maturity_sentence(scores) or "",
        unassessed=(
            f"{plural(left, 'function')} in scope {'is' if left == 1 else 'are'} "
            "not assessed yet and not counted in these figures."
            if left
            else ""
        ),
    )
