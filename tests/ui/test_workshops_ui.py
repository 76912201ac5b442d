"""Tools → Workshops…: add a workshop with attendees pasted from a spreadsheet, run it, see the tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import workshops
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.shell.main_window import MainWindow
from ztmm_desktop.ui.workshops.dialogs import WorkshopEditor, WorkshopsDialog

pytestmark = pytest.mark.gui

AUTH = "identity.authentication"  # 1.1
LEFT = Qt.MouseButton.LeftButton
PASTED = "Name\tRole\tOrganisation\nAttendee One\tCISO\tClient Ltd\n\nAttendee Two\tArchitect\tPartner Co\n"


def test_run_a_workshop_and_see_its_tags(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = tmp_path / "client.ztmm"
    create_engagement(path, Properties(client="Contoso Ltd")).close()
    assert window.open_path(path)
    engagement = window.engagement
    assert engagement is not None and window.workbench is not None
    assert not window.workshop_indicator.isVisible() and not window.isWindowModified()

    def add(dialog: QWidget) -> None:
        assert isinstance(dialog, WorkshopsDialog)
        # Click once this answer returns: the editor it opens is answered by the next poll.
        QTimer.singleShot(0, dialog, lambda: qtbot.mouseClick(dialog.add_button, LEFT))

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, WorkshopEditor)
        dialog.title_edit.setText("Identity deep dive")
        dialog.pillar_items["identity"].setCheckState(Qt.CheckState.Checked)
        QApplication.clipboard().setText("one\ttwo\tthree\tfour\n")  # not a list of attendees
        qtbot.mouseClick(dialog.paste_button, LEFT)
        assert "line 1: 4 cells" in dialog.error.text() and dialog.attendees.rowCount() == 0
        QApplication.clipboard().setText(PASTED)
        qtbot.mouseClick(dialog.paste_button, LEFT)
        assert dialog.attendees.rowCount() == 2 and dialog.error.text() == ""
        assert dialog.attendees.item(1, 2).text() == "Partner Co"
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), LEFT)

    def start_then_close(dialog: QWidget) -> None:
        assert isinstance(dialog, WorkshopsDialog)
        assert dialog.listing.topLevelItemCount() == 1
        assert dialog.listing.topLevelItem(0).text(1) == "Identity deep dive"
        assert dialog.selected() is not None  # the new workshop is selected
        qtbot.mouseClick(dialog.start_button, LEFT)
        assert dialog.running_label.text() == f"Running: Identity deep dive ({dialog.selected().date})"  # type: ignore[union-attr]
        assert not dialog.start_button.isEnabled() and dialog.stop_button.isEnabled()
        dialog.reject()

    dialogs.then(add).then(fill).then(start_then_close)
    window.workshops_action.trigger()
    assert dialogs.done
    [made] = workshops.list_workshops(engagement)
    assert made.running and [a.name for a in made.attendees] == ["Attendee One", "Attendee Two"]
    assert made.pillars == ("identity",)
    assert window.workshop_indicator.isVisible()
    assert window.workshop_indicator.text() == "Workshop running: Identity deep dive"
    assert window.isWindowModified()
    steps = [window.undo_stack.text(i) for i in range(window.undo_stack.count())]
    assert steps == [
        f"Add workshop Identity deep dive ({made.date})",
        f"Start workshop Identity deep dive ({made.date})",
    ]

    # Rate a stage on the function page: it is tagged with the workshop, and stays undoable.
    page = window.workbench.page
    window.workbench.select_function(AUTH)
    box = page.stage_boxes[Stage.INITIAL]
    assert not box.workshop_label.isVisible()
    qtbot.mouseClick(box.rating_buttons[Rating.MET], LEFT)
    assert engagement.assessment(AUTH).rating(Stage.INITIAL).rating is Rating.MET
    assert box.workshop_label.isVisible()
    assert box.workshop_label.text() == f"Workshop: Identity deep dive ({made.date})"
    assert not page.stage_boxes[Stage.ADVANCED].workshop_label.isVisible()
    assert window.undo_stack.canUndo()

    def stop(dialog: QWidget) -> None:
        assert isinstance(dialog, WorkshopsDialog)
        qtbot.mouseClick(dialog.stop_button, LEFT)
        assert dialog.running_label.text() == "No workshop is running."
        assert dialog.listing.topLevelItem(0).text(2) == "Held"
        dialog.reject()

    dialogs.then(stop)
    window.workshops_action.trigger()
    assert dialogs.done
    assert not window.workshop_indicator.isVisible()
    assert workshops.running(engagement) is None
    assert box.workshop_label.text() == f"Workshop: Identity deep dive ({made.date})"  # made there, still

    # After the workshop: a new rating is not tagged, and undoing it brings back the workshop's own.
    qtbot.mouseClick(box.rating_buttons[Rating.PARTIAL], LEFT)
    assert not box.workshop_label.isVisible()
    window.undo_stack.undo()
    assert engagement.assessment(AUTH).rating(Stage.INITIAL).rating is Rating.MET
    assert not box.workshop_label.isVisible()  # the undo was the latest change, made outside the workshop

    # Undo the stop: the workshop runs again, as the status bar says; redo stops it again.
    window.undo_stack.undo()
    assert workshops.running(engagement) == workshops.get_workshop(engagement, made.id)
    assert window.workshop_indicator.isVisible()
    window.undo_stack.redo()
    assert workshops.running(engagement) is None and not window.workshop_indicator.isVisible()


def test_adding_and_deleting_workshops_are_undo_steps(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = tmp_path / "client.ztmm"
    with create_engagement(path, Properties(client="Contoso Ltd")) as engagement:
        workshops.create_workshop(engagement, workshops.WorkshopDraft("2026-12-01", "Devices workshop"))
        engagement.save()
    assert window.open_path(path)
    engagement = window.engagement
    assert engagement is not None
    [planned] = workshops.list_workshops(engagement)

    def delete(dialog: QWidget) -> None:
        assert isinstance(dialog, WorkshopsDialog)
        dialog.select(planned.id)
        QTimer.singleShot(0, dialog, lambda: qtbot.mouseClick(dialog.delete_button, LEFT))

    def closes(dialog: QWidget) -> None:
        assert isinstance(dialog, WorkshopsDialog)
        assert dialog.listing.topLevelItemCount() == 0
        dialog.reject()

    dialogs.then(delete).click("Remove").then(closes)
    window.workshops_action.trigger()
    assert dialogs.done
    assert workshops.list_workshops(engagement) == []
    assert window.undo_stack.undoText() == "Delete workshop Devices workshop (2026-12-01)"
    window.undo_stack.undo()
    assert workshops.list_workshops(engagement) == [planned]  # the same workshop: same id, uid, attendees
    window.undo_stack.redo()
    assert workshops.list_workshops(engagement) == []


def test_findings_list_shows_the_workshop_column(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = tmp_path / "client.ztmm"
    with create_engagement(path, Properties(client="Contoso Ltd")) as engagement:
        day = workshops.create_workshop(engagement, workshops.WorkshopDraft("2026-12-01", "Devices workshop"))
        workshops.start(engagement, day.id)
        engagement.add_finding(AUTH, "Legacy authentication allowed")
        workshops.stop(engagement)
        engagement.add_finding(AUTH, "Raised later")
        engagement.save()
    assert window.open_path(path)
    assert window.workbench is not None
    window.workbench.select_function(AUTH)
    listing = window.workbench.page.findings_list
    headers = [listing.headerItem().text(c) for c in range(listing.columnCount())]
    assert "Workshop" in headers
    column = headers.index("Workshop")
    rows = {listing.topLevelItem(i).text(0): listing.topLevelItem(i).text(column) for i in range(2)}
    assert rows == {"Legacy authentication allowed": "Devices workshop (2026-12-01)", "Raised later": ""}
