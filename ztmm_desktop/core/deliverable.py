"""What a deliverable shows: one read-only snapshot of an engagement.

The workbook (``excel/``) and the report (``report/``) both render a
:class:`Snapshot`; neither reads the engagement file. The service layer builds it
(``services/deliverables.py``), so both deliverables always agree on every
figure, and a test can build one by hand.

Stage texts are already in the engagement's wording; user text is raw (each
renderer escapes it its own way).

When the engagement has a baseline, ``progress`` compares it (the latest, unless
another was asked for) with now, and ``baseline`` says which one it is; the
words for a function's state, its movement and what changed are made here so
that the report and the workbook say the same.

``workshops`` lists the engagement's workshops, oldest first, planned ones too
(their ``status`` says so); empty when there are none.

``review_comments`` holds reviewers' comments on findings (internal notes from the team server),
only when a deliverable was asked to print them (``--review-comments``); empty otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import figures
from .catalog import Catalog, Function, GuidancePack, Pillar
from .comments import CommentsByFinding
from .progress_compare import Comparison, FunctionState, Movement
from .register import PRIORITIES, ActionLine, DocumentControl, Sections, numbers, risk_rating, risk_score
from .scoring import FunctionAssessment, FunctionResult, RoadmapItem, Rollup
from .stages import Rating, Stage


@dataclass(frozen=True)
class DeliverableMeta:
    engagement_id: str
    client: str
    title: str
    assessors: tuple[str, ...]
    start_date: str | None
    end_date: str | None
    marking: str
    wording: str
    generated_at: str  # ISO 8601, UTC
    generated_with: str  # "ZTMM Workbench 0.1.0"
    #: Who prepares the deliverable (the assessor preference, ``--by`` or ZTMM_ASSESSOR), never the login name
    #: when a name was given; and their organisation.
    prepared_by: str = ""
    prepared_by_organisation: str = ""
    paper: str = "A4"  # A4 or Letter: every page of the report and every sheet of the workbook
    vendor_neutral: bool = False  # leave vendor guidance out of the deliverables


@dataclass(frozen=True)
class StageLine:
    stage: Stage
    text: str  # the standard's text, in the engagement's wording
    rating: Rating  # Traditional is never rated: always NOT_ASSESSED
    comment: str


@dataclass(frozen=True)
class FindingLine:
    id: str
    function_id: str
    function_code: str
    function_name: str
    stage: Stage | None
    title: str
    observation: str
    risk: str
    recommendation: str
    severity: str  # low, medium, high, critical
    created_at: str
    created_by: str
    owner: str = ""
    due_date: str | None = None  # YYYY-MM-DD
    status: str = "open"  # core.register.FINDING_STATUSES
    likelihood: int | None = None  # 1–5
    impact: int | None = None  # 1–5

    @property
    def risk_score(self) -> int | None:
        return risk_score(self.likelihood, self.impact)

    @property
    def risk_rating(self) -> str:
        return risk_rating(self.likelihood, self.impact)


@dataclass(frozen=True)
class EvidenceLine:
    id: str
    title: str
    description: str
    original_name: str
    media_type: str
    size: int
    sha256: str
    kind: str
    captured_at: str
    captured_by: str
    links: tuple[str, ...]  # readable: "1.2 Authentication – Advanced", "Finding: <title>"


@dataclass(frozen=True)
class ClientAnswer:
    """What one questionnaire respondent answered for one stage, beside the assessor's rating."""

    stage: Stage
    respondent: str
    role: str
    answer: str  # the answer's label: "Met", "Don't know"
    comment: str
    #: False where the answer differs from the assessor's rating; None where either has none to compare.
    agrees: bool | None


@dataclass(frozen=True)
class FunctionSheet:
    function: Function
    stages: tuple[StageLine, ...]  # Traditional, Initial, Advanced, Optimal
    assessment: FunctionAssessment
    result: FunctionResult
    findings: tuple[FindingLine, ...]
    evidence: tuple[EvidenceLine, ...]  # linked to the function, a stage, or a finding of it
    answers: tuple[ClientAnswer, ...] = ()  # questionnaire answers, by stage then respondent
    actions: tuple[ActionLine, ...] = ()  # the consultant's actions for this function, roadmap order


@dataclass(frozen=True)
class PillarSheet:
    pillar: Pillar
    rollup: Rollup
    functions: tuple[FunctionSheet, ...]


@dataclass(frozen=True)
class BaselineRef:
    """The baseline a snapshot's progress is measured from (its name is user text)."""

    name: str
    created_at: str  # ISO 8601, UTC
    created_by: str


@dataclass(frozen=True)
class WorkshopLine:
    """One workshop as the deliverables list it (title, attendees and notes are user text)."""

    date: str  # YYYY-MM-DD
    title: str
    status: str  # planned, running, held
    attendees: tuple[tuple[str, str, str], ...] = ()  # (name, role, organisation)
    pillars: tuple[str, ...] = ()  # pillar names, model order
    functions: tuple[str, ...] = ()  # "1.2 Identity Stores", model order
    notes: str = ""

    @property
    def held(self) -> bool:
        return self.status == "held"

    @property
    def status_text(self) -> str:
        return {"planned": "Planned", "running": "Running", "held": "Held"}.get(self.status, self.status.capitalize())


def attendee_text(attendee: tuple[str, str, str]) -> str:
    """``Name (Role, Organisation)``; just the name when role and organisation are empty."""
    name, role, organisation = attendee
    extra = ", ".join(part for part in (role, organisation) if part)
    return f"{name} ({extra})" if extra else name


@dataclass(frozen=True)
class Snapshot:
    meta: DeliverableMeta
    catalog: Catalog
    packs: tuple[GuidancePack, ...]
    pillars: tuple[PillarSheet, ...]  # in scope, catalog order
    overall: Rollup
    findings: tuple[FindingLine, ...]  # most severe first, then by function code
    roadmap: tuple[RoadmapItem, ...]
    evidence: tuple[EvidenceLine, ...]
    #: Every function in scope at ``baseline`` and now; both None when the engagement has no baseline.
    progress: Comparison | None = None
    baseline: BaselineRef | None = None
    #: Every workshop, oldest first (planned ones too); empty when there are none.
    workshops: tuple[WorkshopLine, ...] = ()
    #: The consultant's own words; an empty section is left out of every deliverable.
    sections: Sections = field(default_factory=Sections)
    control: DocumentControl = field(default_factory=DocumentControl)
    #: The consultant's roadmap actions, in roadmap order (phase, priority, gap): ``ActionLine.order``.
    actions: tuple[ActionLine, ...] = ()
    #: Reviewers' comments per finding id, oldest first: only when asked for (internal, not for the client).
    review_comments: CommentsByFinding = field(default_factory=dict)

    def finding_numbers(self) -> dict[str, str]:
        """``F-01``… in the order of the findings register: the same in the report and the workbook."""
        return numbers((f.id for f in self.findings), "F")

    def evidence_numbers(self) -> dict[str, str]:
        """``E-01``… in the order of the evidence index: the same in the report and the workbook."""
        return numbers((e.id for e in self.evidence), "E")

    @property
    def assessed(self) -> bool:
        """Whether anything at all has been assessed (else a deliverable says so)."""
        return self.overall.assessed > 0

    def functions(self) -> list[FunctionSheet]:
        return [f for p in self.pillars for f in p.functions]

    def largest_gaps(self) -> list[FunctionSheet]:
        """The functions below target (``FunctionResult.below_target``), the largest gap first, then the
        higher priority, then the function code: the executive summary's "largest gaps" in every report."""
        return sorted(
            (f for f in self.functions() if f.result.below_target),
            key=lambda f: (-(f.result.gap or 0), _priority_rank(f), _code_key(f.function.code)),
        )

    def gaps_by_priority(self) -> list[FunctionSheet]:
        """The same functions, the higher priority first, then the larger gap (the overview's fallback
        when the consultant wrote no roadmap actions)."""
        return sorted(
            (f for f in self.functions() if f.result.below_target),
            key=lambda f: (_priority_rank(f), -(f.result.gap or 0), _code_key(f.function.code)),
        )


def _priority_rank(f: FunctionSheet) -> int:
    priority = f.assessment.priority
    return PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


def _code_key(code: str) -> list[int]:
    return [int(part) for part in code.split(".") if part.isdigit()]


SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}

#: The label of a function's movement by stage; a deliverable's movement column says ``figures.movement_word``.
MOVEMENT_LABEL = {
    Movement.IMPROVED: "Improved",
    Movement.REGRESSED: "Regressed",
    Movement.UNCHANGED: "Unchanged",
    Movement.NOT_COMPARABLE: "Not comparable",
}
_CHANGE_WORDS = {
    "stage": "current stage",
    "derived": "stage from the ratings",
    "override": "override",
    "target": "target",
    "ratings": "ratings",
    "comments": "comments",
}


def state_text(state: FunctionState | None) -> str:
    """A function's stage at one moment, in words: ``Advanced (override)``, ``Not assessed``."""
    if state is None:
        return "Not in the baseline"
    result = state.result
    if not result.assessed:
        return "Not assessed"
    if not result.applicable:
        return Rating.NOT_APPLICABLE.label
    return f"{result.current.label} (override)" if result.overridden else result.current.label


def change_text(changes: tuple[str, ...]) -> str:
    """What differs, in words: ``Current stage, ratings, comments``.

    The stage the ratings give is named only when the current stage did not change with it (an override).
    """
    shown = [what for what in changes if not (what == "derived" and "stage" in changes)]
    words = ", ".join(_CHANGE_WORDS.get(what, what) for what in shown)
    return words[:1].upper() + words[1:]


def delta_text(delta: float | None) -> str:
    """A change of a mean stage (``RollupProgress.delta``, already the difference of the shown figures):
    ``+0.5``, ``−0.3``, ``0.0``; ``–`` when either side has none."""
    return figures.delta_text(figures.round_mean(delta))
