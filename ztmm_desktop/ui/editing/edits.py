"""Undoable edits: each request from a view becomes a QUndoCommand on the document's stack.

A command knows its request and the request that undoes it, computed from the
engagement's state when the command is made. The first application happens
before the command is pushed (so a refused edit never reaches the stack and the
user sees why); QUndoStack's own first redo() then only reports the changes.

A command also knows where it shows (``Place``: a function, and on its page a
stage or field, or a tab), so the window can go there after undo and redo. The
commits of one burst of typing in a text box (``SetComment``/``SetField`` with
the same ``typing``) merge into one command: one undo step per burst.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtGui import QUndoCommand

from ...core.errors import BadInput, ZtmmError
from ...core.register import SECTION_KEYS
from ...core.stages import Rating, Stage
from ...core.words import first_line
from ...services import actions, baselines, evidence, questionnaire, register, workshops
from ...services.actions import ActionDraft
from ...services.engagement import Changes, Engagement, FindingDraft
from ...services.evidence import Attached, Evidence
from ...services.logo import read_consultancy_logo, read_logo, set_consultancy_logo, set_logo
from .requests import (
    FUNCTION_FIELDS,
    NOT_TYPING,
    AddAction,
    AddFinding,
    AddWorkshop,
    AdoptResponse,
    AnyRequest,
    DeleteWorkshop,
    EditAction,
    EditEvidence,
    EditFinding,
    EditWorkshop,
    FreezeBaseline,
    LinkEvidence,
    RemoveAction,
    RemoveEvidence,
    RemoveFinding,
    SetComment,
    SetConsultancyLogo,
    SetField,
    SetLogo,
    SetOverride,
    SetProperties,
    SetRating,
    SetReportContents,
    SetTarget,
    StartWorkshop,
    StopWorkshop,
)

#: The tabs a ``Place`` can name.
FUNCTION_TAB, EVIDENCE_TAB, PROGRESS_TAB = "function", "evidence", "progress"
#: The ``SetField`` names that are typed text (the others are chosen from a list).
TEXT_FIELDS = ("owner", "notes")


@dataclass(frozen=True)
class Place:
    """Where an edit shows: a function and, on its page, a stage and a field; or a tab of its own.

    ``field`` is ``"rating"``, ``"comment"``, ``"target"``, ``"override"``,
    ``"findings"``, ``"actions"`` or one of ``FUNCTION_FIELDS``.
    """

    function_id: str | None = None
    stage: Stage | None = None
    field: str | None = None
    tab: str = FUNCTION_TAB


@dataclass(frozen=True)
class _RestoreFinding:
    """Internal: put a finding (back) under a known id."""

    function_id: str
    draft: FindingDraft
    finding_id: str


@dataclass(frozen=True)
class _RestoreAction:
    """Internal: put an action (back) under a known id, and the actions that came after it back after it."""

    function_id: str
    draft: ActionDraft
    action_id: str
    dependents: tuple[str, ...] = ()


@dataclass(frozen=True)
class _SetStage:
    """Internal: a stage's rating and comment together (the undo of an adoption)."""

    function_id: str
    stage: Stage
    rating: Rating
    comment: str


@dataclass(frozen=True)
class _DeleteBaseline:
    """Internal: the undo of freezing a baseline."""

    name: str


@dataclass(frozen=True)
class RestoreEvidence:
    """Put a removed (or undone) evidence record back over its stored bytes."""

    evidence: Evidence


@dataclass(frozen=True)
class _RestoreWorkshop:
    """Internal: put a workshop (back) under its own id and uid (redo of an addition, undo of a deletion)."""

    workshop: workshops.Workshop


@dataclass(frozen=True)
class _SetWorkshopStatus:
    """Internal: a workshop's status and times as they were (the undo of start and stop)."""

    workshop_id: int
    status: str
    started_at: str | None
    ended_at: str | None


Operation = (
    AnyRequest
    | _RestoreFinding
    | _RestoreAction
    | RestoreEvidence
    | _SetStage
    | _DeleteBaseline
    | _RestoreWorkshop
    | _SetWorkshopStatus
)
WORKSHOPS_CHANGED = Changes(workshops=True)


def apply_operation(engagement: Engagement, op: Operation) -> Changes:
    """Carry out one operation through the services and say what changed."""
    match op:
        case SetRating(function_id, stage, rating):
            return engagement.assess(function_id, ratings={stage: rating})
        case SetComment(function_id, stage, comment):
            return engagement.assess(function_id, comments={stage: comment})
        case _SetStage(function_id, stage, rating, comment):
            return engagement.assess(function_id, ratings={stage: rating}, comments={stage: comment})
        case AdoptResponse(function_id, stage, respondent):
            return questionnaire.adopt_response(engagement, function_id, stage, respondent)
        case SetOverride(function_id, None, _):
            return engagement.assess(function_id, clear_override=True)
        case SetOverride(function_id, stage, reason) if stage is not None:
            return engagement.assess(function_id, override=(stage, reason))
        case SetTarget(function_id, None):
            return engagement.assess(function_id, clear_target=True)
        case SetTarget(function_id, stage) if stage is not None:
            return engagement.assess(function_id, target=stage)
        case SetField(function_id, name, value):
            if name not in FUNCTION_FIELDS:
                raise BadInput(f"unknown field {name!r}")
            return engagement.assess(function_id, **{"note" if name == "notes" else name: value})
        case _RestoreFinding(function_id, draft, finding_id):
            return engagement.restore_finding(function_id, draft, finding_id=finding_id)[1]
        case EditFinding(finding_id, draft):
            return engagement.update_finding(finding_id, draft)
        case RemoveFinding(finding_id):
            return engagement.remove_finding(finding_id)[1]
        case _RestoreAction(function_id, draft, action_id, dependents):
            return _restore_action(engagement, function_id, draft, action_id, dependents)
        case EditAction(action_id, draft):
            return actions.update_action(engagement, action_id, draft)
        case RemoveAction(action_id):
            return actions.remove_action(engagement, action_id)[1]
        case SetProperties(properties):
            return engagement.update_properties(properties)
        case SetLogo(logo):
            return set_logo(engagement, logo)
        case SetConsultancyLogo(logo):
            return set_consultancy_logo(engagement, logo)
        case SetReportContents():
            return _set_report_contents(engagement, op)
        case FreezeBaseline(name):
            return baselines.freeze_baseline(engagement, name)
        case _DeleteBaseline(name):
            return baselines.delete_baseline(engagement, name)
        case EditEvidence(evidence_id, details):
            return evidence.update_details(engagement, evidence_id, details)
        case LinkEvidence(evidence_id, links):
            return evidence.set_links(engagement, evidence_id, list(links))
        case RemoveEvidence(evidence_id):
            return evidence.remove(engagement, evidence_id)[1]
        case RestoreEvidence(item):
            return evidence.restore(engagement, item)
        case _RestoreWorkshop(workshop):
            workshops.restore_workshop(engagement, workshop)
            return WORKSHOPS_CHANGED
        case EditWorkshop(workshop_id, draft):
            return WORKSHOPS_CHANGED if workshops.update_workshop(engagement, workshop_id, draft) else Changes()
        case DeleteWorkshop(workshop_id):
            workshops.delete_workshop(engagement, workshop_id)
            return WORKSHOPS_CHANGED
        case StartWorkshop(workshop_id):
            workshops.start(engagement, workshop_id)
            return WORKSHOPS_CHANGED
        case StopWorkshop():
            workshops.stop(engagement)
            return WORKSHOPS_CHANGED
        case _SetWorkshopStatus(workshop_id, status, started_at, ended_at):
            changed = workshops.set_status(engagement, workshop_id, status, started_at, ended_at)
            return WORKSHOPS_CHANGED if changed else Changes()
    raise BadInput(f"cannot apply {op!r}")


def report_contents_of(engagement: Engagement) -> SetReportContents:
    """The report contents as they stand (the undo of changing them)."""
    return SetReportContents(
        register.read_sections(engagement), register.read_control(engagement), register.read_report_options(engagement)
    )


def _set_report_contents(engagement: Engagement, op: SetReportContents) -> Changes:
    control, options = op.control, op.options
    changes = register.set_sections(engagement, {key: op.sections.get(key) for key in SECTION_KEYS})
    more = register.update_control(
        engagement,
        consultancy=control.consultancy,
        report_version=control.report_version,
        history=control.history,
        distribution=control.distribution,
        reviewer=control.reviewer,
        reviewed_on=control.reviewed_on or "",
        approver=control.approver,
        approved_on=control.approved_on or "",
        paper=options.paper,
        vendor_neutral=options.vendor_neutral,
    )
    return changes or more


def _restore_action(
    engagement: Engagement, function_id: str, draft: ActionDraft, action_id: str, dependents: tuple[str, ...]
) -> Changes:
    """Add the action under its id; the actions that came after it (before it was removed) do again."""
    _, changes = actions.add_action(engagement, function_id, draft, action_id=action_id)
    functions, touched = set(changes.functions), set(changes.actions)
    if dependents:
        current = {a.id: a for a in actions.list_actions(engagement)}
        for key in dependents:
            item = current.get(key)
            if item is None or item.after == action_id:
                continue
            more = actions.update_action(engagement, key, replace(item.draft(), after=action_id))
            functions |= more.functions
            touched |= more.actions
    return Changes(functions=frozenset(functions), actions=frozenset(touched))


def _action(engagement: Engagement, action_id: str) -> actions.Action:
    for item in actions.list_actions(engagement):
        if item.id == action_id:
            return item
    raise BadInput(f"no action {action_id[:40]!r}")


def _finding(engagement: Engagement, finding_id: str) -> tuple[str, FindingDraft, str]:
    for finding in engagement.findings():
        if finding.id == finding_id:
            return finding.function_id, finding.draft(), finding.title
    raise BadInput(f"no finding {finding_id}")


def plan(engagement: Engagement, request: AnyRequest) -> tuple[Operation, Operation, str]:
    """The operation for ``request``, the one that undoes it, and the undo text."""
    catalog = engagement.catalog
    match request:
        case SetRating(function_id, stage, rating):
            code = catalog.function(function_id).code
            old = engagement.assessment(function_id).rating(stage).rating
            return request, SetRating(function_id, stage, old), f"Rate {code} {stage.label}: {rating.label.lower()}"
        case SetComment(function_id, stage, _):
            code = catalog.function(function_id).code
            old_comment = engagement.assessment(function_id).rating(stage).comment
            return request, SetComment(function_id, stage, old_comment), f"Comment on {code} {stage.label}"
        case AdoptResponse(function_id, stage, respondent):
            code = catalog.function(function_id).code
            old_stage = engagement.assessment(function_id).rating(stage)
            undo = _SetStage(function_id, stage, old_stage.rating, old_stage.comment)
            return request, undo, f"Adopt {respondent}'s answer for {code} {stage.label}"
        case SetOverride(function_id, stage, _):
            code = catalog.function(function_id).code
            a = engagement.assessment(function_id)
            undo = SetOverride(function_id, a.override_stage, a.override_reason)
            text = f"Override {code}: {stage.label}" if stage is not None else f"Clear override of {code}"
            return request, undo, text
        case SetTarget(function_id, stage):
            code = catalog.function(function_id).code
            old_target = engagement.assessment(function_id).target
            text = f"Target {code}: {stage.label}" if stage is not None else f"Clear target of {code}"
            return request, SetTarget(function_id, old_target), text
        case SetField(function_id, name, _):
            code = catalog.function(function_id).code
            old_value = getattr(engagement.assessment(function_id), name, None)
            if old_value is None:
                raise BadInput(f"unknown field {name!r}")
            return request, SetField(function_id, name, old_value), f"Set {name} of {code}"
        case AddFinding(function_id, draft):
            code = catalog.function(function_id).code
            finding_id = uuid.uuid4().hex
            forward = _RestoreFinding(catalog.function(function_id).id, draft, finding_id)
            return forward, RemoveFinding(finding_id), f"Add finding to {code}: {draft.title.strip()}"
        case EditFinding(finding_id, _):
            _, old_draft, title = _finding(engagement, finding_id)
            return request, EditFinding(finding_id, old_draft), f"Edit finding: {title}"
        case RemoveFinding(finding_id):
            function_id, old_draft, title = _finding(engagement, finding_id)
            return request, _RestoreFinding(function_id, old_draft, finding_id), f"Remove finding: {title}"
        case AddAction(function_id, draft):
            function = catalog.function(function_id)
            action_id = uuid.uuid4().hex
            forward_action = _RestoreAction(function.id, draft, action_id)
            return forward_action, RemoveAction(action_id), f"Add action to {function.code}: {first_line(draft.text)}"
        case EditAction(action_id, _):
            old_action = _action(engagement, action_id)
            return request, EditAction(old_action.id, old_action.draft()), f"Edit action: {first_line(old_action.text)}"
        case RemoveAction(action_id):
            old_action = _action(engagement, action_id)
            dependents = tuple(a.id for a in actions.list_actions(engagement) if a.after == old_action.id)
            undo_remove = _RestoreAction(old_action.function_id, old_action.draft(), old_action.id, dependents)
            return request, undo_remove, f"Remove action: {first_line(old_action.text)}"
        case SetProperties(_):
            return request, SetProperties(engagement.properties()), "Change engagement properties"
        case FreezeBaseline(name):
            name = baselines.check_name(name)
            return FreezeBaseline(name), _DeleteBaseline(name), f"Freeze baseline “{name}”"
        case SetLogo(logo):
            text = f"Set the report logo: {logo.name}" if logo is not None else "Remove the report logo"
            return request, SetLogo(read_logo(engagement)), text
        case SetConsultancyLogo(logo):
            text = f"Set the consultancy logo: {logo.name}" if logo is not None else "Remove the consultancy logo"
            return request, SetConsultancyLogo(read_consultancy_logo(engagement)), text
        case SetReportContents():
            return request, report_contents_of(engagement), "Change the report contents"
        case EditEvidence(evidence_id, _):
            item = evidence.get(engagement, evidence_id)
            old = evidence.EvidenceDetails(item.title, item.description, item.kind)
            return request, EditEvidence(item.id, old), f"Edit evidence: {item.title}"
        case LinkEvidence(evidence_id, _):
            item = evidence.get(engagement, evidence_id)
            return request, LinkEvidence(item.id, item.links), f"Link evidence: {item.title}"
        case RemoveEvidence(evidence_id):
            item = evidence.get(engagement, evidence_id)
            return RemoveEvidence(item.id), RestoreEvidence(item), f"Remove evidence: {item.title}"
        case AddWorkshop() | EditWorkshop() | DeleteWorkshop() | StartWorkshop() | StopWorkshop():
            return _plan_workshop(engagement, request)
    raise BadInput(f"cannot plan {request!r}")


def _plan_workshop(engagement: Engagement, request: AnyRequest) -> tuple[Operation, Operation, str]:
    match request:
        case AddWorkshop(draft):
            new = workshops.new_workshop(engagement, draft)
            return _RestoreWorkshop(new), DeleteWorkshop(new.id), f"Add workshop {new.label}"
        case EditWorkshop(workshop_id, _):
            old = workshops.get_workshop(engagement, workshop_id)
            return request, EditWorkshop(old.id, old.draft()), f"Edit workshop {old.label}"
        case DeleteWorkshop(workshop_id):
            old = workshops.get_workshop(engagement, workshop_id)
            return request, _RestoreWorkshop(old), f"Delete workshop {old.label}"
        case StartWorkshop(workshop_id):
            old = workshops.get_workshop(engagement, workshop_id)
            undo = _SetWorkshopStatus(old.id, old.status, old.started_at, old.ended_at)
            return request, undo, f"Start workshop {old.label}"
        case StopWorkshop():
            current = workshops.running(engagement)
            if current is None:
                raise BadInput(f"no workshop is running in {engagement.path.name}")
            undo = _SetWorkshopStatus(current.id, current.status, current.started_at, current.ended_at)
            return request, undo, f"Stop workshop {current.label}"
    raise BadInput(f"cannot plan {request!r}")


def place_of(engagement: Engagement, request: AnyRequest) -> Place | None:
    """Where ``request`` shows (read before it is applied: a removed finding's function is still known)."""
    catalog = engagement.catalog
    match request:
        case SetRating(function_id, stage, _) | AdoptResponse(function_id, stage, _):
            return Place(catalog.function(function_id).id, stage, "rating")
        case SetComment(function_id, stage, _):
            return Place(catalog.function(function_id).id, stage, "comment")
        case SetOverride(function_id, _, _):
            return Place(catalog.function(function_id).id, field="override")
        case SetTarget(function_id, _):
            return Place(catalog.function(function_id).id, field="target")
        case SetField(function_id, name, _):
            return Place(catalog.function(function_id).id, field=name)
        case AddFinding(function_id, _):
            return Place(catalog.function(function_id).id, field="findings")
        case EditFinding(finding_id, _) | RemoveFinding(finding_id):
            return Place(_finding(engagement, finding_id)[0], field="findings")
        case AddAction(function_id, _):
            return Place(catalog.function(function_id).id, field="actions")
        case EditAction(action_id, _) | RemoveAction(action_id):
            return Place(_action(engagement, action_id).function_id, field="actions")
        case FreezeBaseline():
            return Place(tab=PROGRESS_TAB)
        case EditEvidence(evidence_id, _) | LinkEvidence(evidence_id, _) | RemoveEvidence(evidence_id):
            return _evidence_place(evidence.get(engagement, evidence_id).links)
    return None


def _evidence_place(links: tuple[evidence.EvidenceLink, ...]) -> Place:
    function = next((link for link in links if link.function_id is not None), None)
    if function is None:
        return Place(tab=EVIDENCE_TAB)
    return Place(function.function_id, function.stage, tab=EVIDENCE_TAB)


#: ``QUndoCommand.id`` of the text edits that come from typing (the only commands that merge).
TYPING_ID = 1


def _typing_key(op: Operation) -> tuple[object, ...] | None:
    """What a text edit from typing changes, with its burst; None for anything else."""
    match op:
        case SetComment(function_id, stage, _, typing) if typing != NOT_TYPING:
            return ("comment", function_id, stage, typing)
        case SetField(function_id, name, _, typing) if typing != NOT_TYPING and name in TEXT_FIELDS:
            return ("field", function_id, name, typing)
    return None


class EditCommand(QUndoCommand):
    """One undoable edit of the engagement."""

    def __init__(
        self,
        engagement: Engagement,
        forward: Operation,
        backward: Operation,
        text: str,
        changed: Callable[[Changes], None],
        failed: Callable[[ZtmmError], None],
        place: Place | None = None,
    ) -> None:
        super().__init__(text)
        self.engagement = engagement
        self.forward, self.backward = forward, backward
        self.place = place
        self._changed, self._failed = changed, failed
        self._applied_once = True  # make_command already applied it

    def id(self) -> int:
        return TYPING_ID if _typing_key(self.forward) is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Take in the next commit of the same burst of typing: one undo step for the whole burst."""
        if not isinstance(other, EditCommand) or other.engagement is not self.engagement:
            return False
        key = _typing_key(self.forward)
        if key is None or key != _typing_key(other.forward):
            return False
        self.forward = other.forward
        # Typed back to what it was: the burst changed nothing, and leaves no step.
        self.setObsolete(self.forward == self.backward)
        return True

    def _run(self, op: Operation) -> None:
        try:
            changes = apply_operation(self.engagement, op)
        except ZtmmError as err:  # e.g. the document became read-only: tell the user, keep the app alive
            self._failed(err)
            return
        self._changed(changes)

    def redo(self) -> None:
        if self._applied_once:
            self._applied_once = False
            return
        self._run(self.forward)

    def undo(self) -> None:
        self._run(self.backward)


def make_command(
    engagement: Engagement,
    request: AnyRequest,
    changed: Callable[[Changes], None],
    failed: Callable[[ZtmmError], None],
    *,
    applied: Callable[[Changes], None] | None = None,
) -> EditCommand | None:
    """Apply ``request`` now; return the command to push, or None when nothing changed.

    ``changed`` is told what each application changed; ``applied``, when given,
    instead of it for this first one (text just typed is already on screen).
    Raises ``ZtmmError`` (nothing changed, nothing to push) when the request is refused.
    """
    forward, backward, text = plan(engagement, request)
    place = place_of(engagement, request)
    changes = apply_operation(engagement, forward)
    if not changes:
        return None
    (applied or changed)(changes)
    return EditCommand(engagement, forward, backward, text, changed, failed, place)


def is_typing(request: AnyRequest) -> bool:
    """True for a text edit committed while the consultant types (see ``SetComment.typing``)."""
    return _typing_key(request) is not None


RATING_KEYS: dict[int, Rating] = {
    1: Rating.MET,
    2: Rating.PARTIAL,
    3: Rating.NOT_MET,
    4: Rating.NOT_APPLICABLE,
    5: Rating.NOT_ASSESSED,
}


def attached_command(
    engagement: Engagement,
    attached: list[Attached],
    changed: Callable[[Changes], None],
    failed: Callable[[ZtmmError], None],
) -> QUndoCommand:
    """The undo step for evidence the window has just stored (off the UI thread).

    Undo removes the records (their bytes stay, so redo can put them back).
    """
    names = ", ".join(a.evidence.original_name for a in attached)
    text = f"Attach {names}" if len(attached) < 4 else f"Attach {len(attached)} files"
    return _AttachCommand(engagement, [a.evidence for a in attached], text, changed, failed)


class _AttachCommand(QUndoCommand):
    def __init__(
        self,
        engagement: Engagement,
        items: list[Evidence],
        text: str,
        changed: Callable[[Changes], None],
        failed: Callable[[ZtmmError], None],
    ) -> None:
        super().__init__(text)
        self.engagement, self.items = engagement, items
        self.place = _evidence_place(items[0].links) if items else Place(tab=EVIDENCE_TAB)
        self._changed, self._failed = changed, failed
        self._applied_once = True

    def _run(self, ops: list[Operation]) -> None:
        try:
            for op in ops:
                self._changed(apply_operation(self.engagement, op))
        except ZtmmError as err:
            self._failed(err)

    def redo(self) -> None:
        if self._applied_once:
            self._applied_once = False
            return
        self._run([RestoreEvidence(item) for item in self.items])

    def undo(self) -> None:
        self._run([RemoveEvidence(item.id) for item in reversed(self.items)])


def command_place(command: QUndoCommand) -> Place | None:
    """Where a command on the stack shows (a macro: where its first step does that knows)."""
    place = getattr(command, "place", None)
    if isinstance(place, Place):
        return place
    for index in range(command.childCount()):
        child = command.child(index)
        found = command_place(child) if child is not None else None
        if found is not None:
            return found
    return None


def frozen_baseline(command: QUndoCommand) -> str | None:
    """The name of the baseline a command froze, or None when it froze none."""
    if isinstance(command, EditCommand) and isinstance(command.forward, FreezeBaseline):
        return command.forward.name
    return None
