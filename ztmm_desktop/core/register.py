"""The consultant's registers: findings the client tracks, the roadmap's actions, the report's own words.

Pure domain (no Qt, no SQL): the allowed values, their labels, the risk rule and the
roadmap's order. The services validate against these; the deliverables print them.

Risk rating (printed in the report's method appendix): a finding's likelihood and
impact are each 1 (rare / minimal) to 5 (almost certain / severe); its risk score is
likelihood × impact (1–25), and its rating is Low for 1–4, Medium for 5–9, High for
10–16 and Critical for 17–25. A finding without both has no risk rating.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .stages import Stage

# -- findings ------------------------------------------------------------------

FINDING_STATUSES: tuple[str, ...] = ("open", "in-progress", "resolved", "risk-accepted")
FINDING_STATUS_LABELS = {
    "open": "Open",
    "in-progress": "In progress",
    "resolved": "Resolved",
    "risk-accepted": "Risk accepted",
}
LIKELIHOOD_LABELS = {1: "Rare", 2: "Unlikely", 3: "Possible", 4: "Likely", 5: "Almost certain"}
IMPACT_LABELS = {1: "Minimal", 2: "Minor", 3: "Moderate", 4: "Major", 5: "Severe"}
#: Risk bands by the lowest score that reaches them, most severe first.
RISK_BANDS: tuple[tuple[int, str], ...] = ((17, "Critical"), (10, "High"), (5, "Medium"), (1, "Low"))


def risk_score(likelihood: int | None, impact: int | None) -> int | None:
    """Likelihood × impact (1–25); None unless both are set."""
    if likelihood is None or impact is None:
        return None
    return likelihood * impact


def risk_rating(likelihood: int | None, impact: int | None) -> str:
    """``Critical``, ``High``, ``Medium``, ``Low``; ``""`` when the finding has no risk score."""
    score = risk_score(likelihood, impact)
    if score is None:
        return ""
    return next(band for lowest, band in RISK_BANDS if score >= lowest)


# -- roadmap actions ---------------------------------------------------------------

PHASES: tuple[str, ...] = ("now", "next", "later")
PHASE_LABELS = {"now": "Now (0–3 months)", "next": "Next (3–12 months)", "later": "Later (12–24 months)"}
EFFORTS: tuple[str, ...] = ("S", "M", "L")
EFFORT_LABELS = {"S": "Small", "M": "Medium", "L": "Large"}
PRIORITIES: tuple[str, ...] = ("critical", "high", "medium", "low")


def roadmap_order(phase: str, priority: str, gap: int | None, code: str) -> tuple[int, int, int, tuple[int, ...]]:
    """Sort key of the roadmap: phase, then the function's priority, then the larger gap first.

    The function code only breaks ties between otherwise equal actions, so that the order is stable.
    """
    phase_rank = PHASES.index(phase) if phase in PHASES else len(PHASES)
    priority_rank = PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)
    return (phase_rank, priority_rank, -(gap or 0), tuple(int(p) if p.isdigit() else 0 for p in code.split(".")))


# -- the consultant's own words ----------------------------------------------------

#: Engagement-level sections the consultant writes, in report order: (key, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("executive_summary", "Executive summary"),
    ("key_messages", "Key messages"),
    ("scope", "Scope and exclusions"),
    ("approach", "Approach"),
    ("limitations", "Limitations"),
    ("disclaimer", "Disclaimer"),
)
SECTION_KEYS: tuple[str, ...] = tuple(key for key, _ in SECTIONS)
SECTION_TITLES = dict(SECTIONS)
#: Longest section text, in characters.
MAX_SECTION = 20_000

PAPER_SIZES: tuple[str, ...] = ("A4", "Letter")


@dataclass(frozen=True)
class Sections:
    """The consultant's paragraphs; ``""`` when left empty (a deliverable then leaves it out).

    Text is plain: paragraphs separated by a blank line, list items on lines starting with
    ``- `` or ``* ``.
    """

    executive_summary: str = ""
    key_messages: str = ""
    scope: str = ""
    approach: str = ""
    limitations: str = ""
    disclaimer: str = ""

    def get(self, key: str) -> str:
        return str(getattr(self, key))

    def filled(self) -> list[tuple[str, str, str]]:
        """(key, heading, text) of every section with text, in report order."""
        return [(key, title, self.get(key)) for key, title in SECTIONS if self.get(key).strip()]


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """A section's text as blocks: ``("p", [paragraph])`` or ``("ul", [item, …])``.

    A paragraph's lines are joined with spaces; a list is a run of lines starting with
    ``- `` or ``* `` (a following indented line continues the item).
    """
    out: list[tuple[str, list[str]]] = []
    for chunk in text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n"):
        lines = [line.rstrip() for line in chunk.split("\n") if line.strip()]
        paragraph: list[str] = []
        items: list[str] = []
        for line in lines:
            stripped = line.lstrip()
            if stripped[:2] in ("- ", "* "):
                if paragraph:
                    out.append(("p", [" ".join(paragraph)]))
                    paragraph = []
                items.append(stripped[2:].strip())
            elif items and line[:1].isspace():
                items[-1] = f"{items[-1]} {stripped}"
            else:
                if items:
                    out.append(("ul", items))
                    items = []
                paragraph.append(stripped)
        if paragraph:
            out.append(("p", [" ".join(paragraph)]))
        if items:
            out.append(("ul", items))
    return out


@dataclass(frozen=True)
class VersionLine:
    """One row of the report's version history."""

    version: str
    date: str  # YYYY-MM-DD
    author: str
    change: str


@dataclass(frozen=True)
class Recipient:
    """One row of the distribution list."""

    name: str
    organisation: str = ""
    role: str = ""


@dataclass(frozen=True)
class DocumentControl:
    """Who issues the report, which version it is and who reviewed and approved it."""

    consultancy: str = ""
    report_version: str = ""
    history: tuple[VersionLine, ...] = ()
    distribution: tuple[Recipient, ...] = ()
    reviewer: str = ""
    reviewed_on: str | None = None  # YYYY-MM-DD
    approver: str = ""
    approved_on: str | None = None  # YYYY-MM-DD

    @property
    def empty(self) -> bool:
        return not (self.consultancy or self.report_version or self.history or self.distribution) and not (
            self.reviewer or self.approver
        )


@dataclass(frozen=True)
class ActionLine:
    """One action of the consultant's roadmap, with what the deliverables show beside it."""

    id: str
    function_id: str
    function_code: str
    function_name: str
    stage: Stage | None
    text: str
    phase: str  # now, next, later
    effort: str  # S, M, L
    cost: str = ""  # indicative cost band, free text ("$10k–50k")
    owner: str = ""
    after: str | None = None  # the id of the action this one depends on
    priority: str = ""  # the function's priority
    gap: int | None = None  # the function's gap

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS.get(self.phase, self.phase)

    @property
    def effort_label(self) -> str:
        return EFFORT_LABELS.get(self.effort, self.effort)

    def order(self) -> tuple[int, int, int, tuple[int, ...]]:
        return roadmap_order(self.phase, self.priority, self.gap, self.function_code)


#: How many of the roadmap's first actions every deliverable's overview lists as the top priorities.
TOP_PRIORITIES = 6


def top_priorities(actions: Sequence[ActionLine], limit: int = TOP_PRIORITIES) -> list[ActionLine]:
    """The overview's top priorities: the first ``limit`` actions of the roadmap (already in roadmap order),
    and the first action of every critical-priority function not among them, so that a critical function
    always reaches the summary. In roadmap order; the same in the PDF, the Word report and the workbook."""
    chosen = set(range(min(limit, len(actions))))
    functions = {actions[i].function_id for i in chosen}  # that have an action among the chosen
    for index, action in enumerate(actions):
        if action.priority == "critical" and action.function_id not in functions:
            chosen.add(index)
            functions.add(action.function_id)
    return [actions[i] for i in sorted(chosen)]


def action_numbers(actions: Iterable[ActionLine]) -> dict[str, str]:
    """``A-01``… in roadmap order (the same in every deliverable)."""
    return numbers((a.id for a in actions), "A")


def numbers(ids: Iterable[str], prefix: str) -> dict[str, str]:
    """``F-07``, ``E-0012``: one number a thing, in order, as wide as the largest (two digits at least)."""
    ordered = list(ids)
    digits = max(2, len(str(len(ordered))))
    return {key: f"{prefix}-{n:0{digits}d}" for n, key in enumerate(ordered, start=1)}
