"""File → Merge from colleague…: conflicts side by side, a choice each, one undo step."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.test_merge import copies, workshop_copies  # noqa: F401  (two copies each, edited apart)
from tests.ui.conftest import DialogAnswerer, no_file_dialog
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import workshops
from ztmm_desktop.ui.deliverables.merge import MergeDialog
from ztmm_desktop.ui.shell.main_window import MainWindow


def test_a_conflict_is_resolved_in_the_dialog_and_the_merge_undone_and_redone(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, copies: tuple[Path, Path, dict[str, str]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    mine, theirs, ids = copies
    assert window.open_path(mine)
    engagement = window.engagement
    assert engagement is not None
    shown: list[tuple[str, str, str]] = []

    def take_theirs(dialog: QWidget) -> None:
        assert isinstance(dialog, MergeDialog)
        row = dialog.conflicts.topLevelItem(0)
        shown.append((row.text(0), row.text(1), row.text(2)))
        assert dialog.applied.topLevelItemCount() == 5
        (choice,) = dialog.choices.values()
        choice.setCurrentIndex(choice.findData("theirs"))
        dialog.buttons.accepted.emit()

    no_file_dialog(monkeypatch, theirs)
    dialogs.then(take_theirs)
    window.deliverables.merge_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    assert shown == [("1.1 Initial rating", "Met", "Not met")]
    assert engagement.assessment("1.1").rating(Stage.INITIAL).rating is Rating.NOT_MET  # theirs, as chosen
    assert engagement.assessment("3.1").notes == "Flat network in the plant"
    assert window.undo_stack.undoText() == f"Merge from {theirs.name}"

    window.undo_stack.undo()
    assert engagement.assessment("1.1").rating(Stage.INITIAL).rating is Rating.MET
    assert engagement.assessment("3.1").notes == ""
    assert ids["their_finding"] not in {f.id for f in engagement.findings()}

    window.undo_stack.redo()
    assert engagement.assessment("1.1").rating(Stage.INITIAL).rating is Rating.NOT_MET
    assert ids["their_finding"] in {f.id for f in engagement.findings()}

    # Merging the same copy again finds nothing new.
    dialogs.then(lambda box: box.close())
    window.deliverables.merge_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    assert "holds nothing this copy lacks" in dialogs.seen[-1]


def test_another_engagements_file_is_only_merged_when_the_consultant_says_so(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, copies: tuple[Path, Path, dict[str, str]],  # noqa: F811
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from ztmm_desktop.services.engagement import Properties, create_engagement

    mine, _theirs, _ids = copies
    stranger = tmp_path / "fabrikam.ztmm"
    with create_engagement(stranger, Properties(client="Fabrikam")) as other:
        other.assess("5.1", note="Someone else's engagement")
        other.save()
    assert window.open_path(mine)
    engagement = window.engagement
    assert engagement is not None
    before = engagement.audit_log()
    no_file_dialog(monkeypatch, stranger)
    dialogs.click("No")
    window.deliverables.merge_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    assert "not a copy of this engagement" in dialogs.seen[-1]
    assert engagement.audit_log() == before and engagement.assessment("5.1").notes == ""
    assert window.undo_stack.count() == 0


def test_the_colleagues_workshop_shows_on_what_they_rated_in_it(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, workshop_copies: tuple[Path, Path],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    mine, theirs = workshop_copies
    assert window.open_path(mine)
    engagement = window.engagement
    assert engagement is not None and window.workbench is not None
    window.workbench.select_function("networks.network_segmentation")  # 3.1
    label = window.workbench.page.stage_boxes[Stage.INITIAL].workshop_label
    assert not label.isVisible()
    listed: list[str] = []

    def apply(dialog: QWidget) -> None:
        assert isinstance(dialog, MergeDialog)
        listed.extend(dialog.applied.topLevelItem(i).text(0) for i in range(dialog.applied.topLevelItemCount()))
        dialog.buttons.accepted.emit()

    no_file_dialog(monkeypatch, theirs)
    dialogs.then(apply)
    window.deliverables.merge_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    assert "workshop 'Network day (2026-12-02)'" in listed
    assert label.isVisible() and label.text() == "Workshop: Network day (2026-12-02)"
    assert not window.workshop_indicator.isVisible()  # running on the colleague's laptop, held here
    window.undo_stack.undo()
    assert not label.isVisible()
    assert [w.title for w in workshops.list_workshops(engagement)] == ["Kick-off", "Identity day"]
