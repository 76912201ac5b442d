"""Edit requests: what a view asks to change, as plain values.

Views (function page, tree, dashboard) never call the services to change
anything; they emit one of these, and the main window turns it into an undoable
command (``edits.py``) on the document's undo stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...core.register import DocumentControl, Sections
from ...core.stages import Rating, Stage
from ...services.actions import ActionDraft
from ...services.engagement import FindingDraft, Properties
from ...services.evidence import EvidenceDetails, EvidenceLink
from ...services.logo import Logo
from ...services.register import ReportOptions
from ...services.workshops import WorkshopDraft

#: The per-function text and choice fields a view may set with ``SetField``.
FUNCTION_FIELDS = ("confidence", "priority", "owner", "status", "notes")


@dataclass(frozen=True)
class SetRating:
    function_id: str
    stage: Stage  # Initial, Advanced or Optimal
    rating: Rating


#: ``typing`` of a text edit that is not part of a burst of typing (it never merges with another).
NOT_TYPING = 0


@dataclass(frozen=True)
class SetComment:
    function_id: str
    stage: Stage
    comment: str
    #: The burst of typing this text comes from (``NOT_TYPING``: none). The commits of one burst (the
    #: pauses while the cursor stays in the box) merge into one undo step. Not part of equality.
    typing: int = field(default=NOT_TYPING, compare=False)


@dataclass(frozen=True)
class SetOverride:
    """Override the derived current stage (``stage``) with a reason; ``stage=None`` clears it."""

    function_id: str
    stage: Stage | None
    reason: str = ""


@dataclass(frozen=True)
class SetTarget:
    function_id: str
    stage: Stage | None  # None clears the target


@dataclass(frozen=True)
class SetField:
    function_id: str
    name: str  # one of FUNCTION_FIELDS
    value: str
    typing: int = field(default=NOT_TYPING, compare=False)  # as SetComment.typing (owner, notes)


@dataclass(frozen=True)
class AddFinding:
    function_id: str
    draft: FindingDraft


@dataclass(frozen=True)
class EditFinding:
    finding_id: str
    draft: FindingDraft


@dataclass(frozen=True)
class RemoveFinding:
    finding_id: str


@dataclass(frozen=True)
class AddAction:
    """Add a roadmap action to a function."""

    function_id: str
    draft: ActionDraft


@dataclass(frozen=True)
class EditAction:
    action_id: str
    draft: ActionDraft


@dataclass(frozen=True)
class RemoveAction:
    """Remove an action; actions that came after it no longer do (undo puts both back)."""

    action_id: str


@dataclass(frozen=True)
class AdoptResponse:
    """Make one respondent's answer (and comment, if any) the assessor's rating of a stage."""

    function_id: str
    stage: Stage
    respondent: str


EditRequest = (
    SetRating
    | SetComment
    | SetOverride
    | SetTarget
    | SetField
    | AddFinding
    | EditFinding
    | RemoveFinding
    | AddAction
    | EditAction
    | RemoveAction
    | AdoptResponse
)


@dataclass(frozen=True)
class SetProperties:
    """Change the engagement's properties (client, title, scope, dates, marking, wording)."""

    properties: Properties


@dataclass(frozen=True)
class EditEvidence:
    evidence_id: str
    details: EvidenceDetails


@dataclass(frozen=True)
class LinkEvidence:
    evidence_id: str
    links: tuple[EvidenceLink, ...]


@dataclass(frozen=True)
class RemoveEvidence:
    evidence_id: str


@dataclass(frozen=True)
class SetLogo:
    """Put the client's logo on the report cover (None removes it)."""

    logo: Logo | None


@dataclass(frozen=True)
class SetConsultancyLogo:
    """Put the consultancy's logo beside the client's on the report cover (None removes it)."""

    logo: Logo | None


@dataclass(frozen=True)
class SetReportContents:
    """The consultant's sections, the document control and the layout of the deliverables, as a whole."""

    sections: Sections
    control: DocumentControl
    options: ReportOptions


@dataclass(frozen=True)
class FreezeBaseline:
    """Freeze the assessment as it stands under a name, to compare with later."""

    name: str


EvidenceRequest = EditEvidence | LinkEvidence | RemoveEvidence


@dataclass(frozen=True)
class AddWorkshop:
    draft: WorkshopDraft


@dataclass(frozen=True)
class EditWorkshop:
    workshop_id: int
    draft: WorkshopDraft


@dataclass(frozen=True)
class DeleteWorkshop:
    workshop_id: int


@dataclass(frozen=True)
class StartWorkshop:
    """From now on every rating, comment and finding is tagged with this workshop."""

    workshop_id: int


@dataclass(frozen=True)
class StopWorkshop:
    """Stop the running workshop."""


WorkshopRequest = AddWorkshop | EditWorkshop | DeleteWorkshop | StartWorkshop | StopWorkshop
ReportRequest = SetReportContents | SetConsultancyLogo
AnyRequest = EditRequest | SetProperties | SetLogo | FreezeBaseline | EvidenceRequest | WorkshopRequest | ReportRequest
