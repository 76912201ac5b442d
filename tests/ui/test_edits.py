"""Every edit request undoes and redoes exactly, with a meaningful undo text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtGui import QUndoStack

from ztmm_desktop.core.errors import BadInput, ZtmmError
from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.services.actions import ActionDraft, list_actions
from ztmm_desktop.services.engagement import Changes, Engagement, FindingDraft, Properties, create_engagement
from ztmm_desktop.ui.editing.edits import make_command
from ztmm_desktop.ui.editing.requests import (
    AddAction,
    AddFinding,
    EditAction,
    EditFinding,
    EditRequest,
    RemoveAction,
    RemoveFinding,
    SetComment,
    SetField,
    SetOverride,
    SetRating,
    SetTarget,
)

pytestmark = pytest.mark.gui

AUTH = "identity.authentication"


@pytest.fixture
def engagement(tmp_path: Path):  # type: ignore[no-untyped-def]
    e = create_engagement(tmp_path / "u.ztmm", Properties(client="Undo Ltd"))
    yield e
    e.close()


def snapshot(e: Engagement) -> tuple[object, ...]:
    """What the user sees: every rating and field (an absent rating reads as not assessed)."""
    functions = {
        fid: (tuple(a.rating(stage) for stage in RATED_STAGES), replace(a, ratings={}))
        for fid, a in e.assessments().items()
    }
    return (functions, [(f.id, f.draft()) for f in e.findings()])


def push(stack: QUndoStack, e: Engagement, request: EditRequest, seen: list[Changes]) -> None:
    def fail(err: ZtmmError) -> None:
        raise AssertionError(err)

    command = make_command(e, request, seen.append, fail)
    assert command is not None
    stack.push(command)


def test_each_request_undoes_and_redoes(engagement: Engagement, qtbot: object) -> None:
    stack = QUndoStack()
    seen: list[Changes] = []
    requests: list[EditRequest] = [
        SetRating(AUTH, Stage.INITIAL, Rating.MET),
        SetComment(AUTH, Stage.INITIAL, "MFA for everyone"),
        SetTarget(AUTH, Stage.OPTIMAL),
        SetOverride(AUTH, Stage.ADVANCED, "compensating controls"),
        SetField(AUTH, "owner", "IAM team"),
        SetField(AUTH, "notes", "Workshop 1"),
        AddFinding(AUTH, FindingDraft("Legacy protocols allowed", Stage.ADVANCED, severity="high")),
    ]
    states = [snapshot(engagement)]
    for request in requests:
        push(stack, engagement, request, seen)
        states.append(snapshot(engagement))
    (finding,) = engagement.findings()
    for request in (EditFinding(finding.id, FindingDraft("Legacy auth allowed", severity="critical")),
                    RemoveFinding(finding.id), SetOverride(AUTH, None), SetTarget(AUTH, None)):  # fmt: skip
        push(stack, engagement, request, seen)
        states.append(snapshot(engagement))
    assert [stack.text(i) for i in range(stack.count())] == [
        "Rate 1.1 Initial: met",
        "Comment on 1.1 Initial",
        "Target 1.1: Optimal",
        "Override 1.1: Advanced",
        "Set owner of 1.1",
        "Set notes of 1.1",
        "Add finding to 1.1: Legacy protocols allowed",
        "Edit finding: Legacy protocols allowed",
        "Remove finding: Legacy auth allowed",
        "Clear override of 1.1",
        "Clear target of 1.1",
    ]
    for expected in reversed(states[:-1]):
        stack.undo()
        assert snapshot(engagement) == expected
    for expected in states[1:]:
        stack.redo()
        assert snapshot(engagement) == expected
    assert all(AUTH in c.functions for c in seen)


def test_refused_and_empty_edits_never_reach_the_stack(engagement: Engagement, qtbot: object) -> None:
    seen: list[Changes] = []
    with pytest.raises(BadInput, match="needs a reason"):
        make_command(engagement, SetOverride(AUTH, Stage.OPTIMAL, "  "), seen.append, print)
    with pytest.raises(BadInput, match="a finding needs a title"):
        make_command(engagement, AddFinding(AUTH, FindingDraft("")), seen.append, print)
    assert make_command(engagement, SetRating(AUTH, Stage.INITIAL, Rating.NOT_ASSESSED), seen.append, print) is None
    assert seen == [] and engagement.audit_log() == []


def actions_state(e: Engagement) -> dict[str, tuple[str, ActionDraft]]:
    return {a.id: (a.function_id, a.draft()) for a in list_actions(e)}


def test_action_requests_undo_and_redo_under_the_same_ids(engagement: Engagement, qtbot: object) -> None:
    stack = QUndoStack()
    seen: list[Changes] = []
    states = [actions_state(engagement)]

    def step(request: EditRequest) -> None:
        push(stack, engagement, request, seen)
        states.append(actions_state(engagement))

    step(AddAction("1.1", ActionDraft("Enforce phishing-resistant MFA", phase="now", effort="S")))
    (first,) = list_actions(engagement)
    step(AddAction("1.2", ActionDraft("Consolidate identity stores", stage=Stage.ADVANCED, after=first.id)))
    second = next(a for a in list_actions(engagement) if a.id != first.id)
    step(EditAction(second.id, replace(second.draft(), phase="later", owner="IAM team")))
    step(RemoveAction(first.id))  # the second no longer comes after it
    assert actions_state(engagement)[second.id][1].after is None
    assert [stack.text(i) for i in range(stack.count())] == [
        "Add action to 1.1: Enforce phishing-resistant MFA",
        "Add action to 1.2: Consolidate identity stores",
        "Edit action: Consolidate identity stores",
        "Remove action: Enforce phishing-resistant MFA",
    ]
    for expected in reversed(states[:-1]):
        stack.undo()
        assert actions_state(engagement) == expected  # undoing the removal links the second after it again
    for expected in states[1:]:
        stack.redo()
        assert actions_state(engagement) == expected
    assert all(c.actions for c in seen)
    # A refused dependency (a cycle) never reaches the stack and changes nothing.
    stack.undo()
    before = actions_state(engagement)
    with pytest.raises(BadInput, match="cycle"):
        make_command(engagement, EditAction(first.id, replace(first.draft(), after=second.id)), seen.append, print)
    assert actions_state(engagement) == before and stack.count() == 4


def test_evidence_edits_and_attachments_undo_and_redo(engagement: Engagement, qtbot: object) -> None:
    import io

    from ztmm_desktop.services import evidence as ev
    from ztmm_desktop.ui.editing.edits import attached_command
    from ztmm_desktop.ui.editing.requests import EditEvidence, LinkEvidence, RemoveEvidence

    stack = QUndoStack()
    seen: list[Changes] = []
    link = ev.parse_link(engagement, "1.1/initial")
    attached = [
        ev.attach_stream(engagement, io.BytesIO(data), original_name=name, expected_size=len(data), links=[link])
        for name, data in (("a.png", b"png"), ("b.csv", b"x,y"))
    ]
    stack.push(attached_command(engagement, attached, seen.append, print))
    assert stack.undoText() == "Attach a.png, b.csv"
    first = attached[0].evidence.id
    for request in (
        EditEvidence(first, ev.EvidenceDetails("Conditional Access export", "", "configuration-export")),
        LinkEvidence(first, (link, ev.parse_link(engagement, "4.1"))),
        RemoveEvidence(attached[1].evidence.id),
    ):
        push(stack, engagement, request, seen)
    assert [e.title for e in ev.list_evidence(engagement)] == ["Conditional Access export"]
    stack.undo()  # the removal
    stack.undo()  # the links
    stack.undo()  # the details
    assert [(e.title, len(e.links)) for e in ev.list_evidence(engagement)] == [("a.png", 1), ("b.csv", 1)]
    stack.undo()  # the attachment
    assert ev.list_evidence(engagement) == []
    for _ in range(4):
        stack.redo()
    assert [(e.title, len(e.links)) for e in ev.list_evidence(engagement)] == [("Conditional Access export", 2)]
