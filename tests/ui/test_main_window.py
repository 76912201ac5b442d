"""A consultant's path through the real window: create, rate, override, undo, save, reopen, filter."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests.support.processes import held_open
from tests.ui.conftest import DialogAnswerer, no_file_dialog
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

AUTH = "identity.authentication"
STORES = "identity.identity_stores"


def fill_new_engagement(dialog: QWidget) -> None:
    client = dialog.findChild(QLineEdit, "client")
    title = dialog.findChild(QLineEdit, "title")
    assert client is not None and title is not None
    client.setFocus()
    for widget, text in ((client, "Tailspin Freight"), (title, "ZT baseline")):
        widget.setText("")
        for char in text:  # typed, key by key
            QApplication.sendEvent(widget, _key(char))
    dialog.findChild(QWidget, "scope-data").click()  # type: ignore[union-attr]  # data out of scope
    ok = next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "OK")
    ok.click()


def _key(char: str):  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QKeyEvent

    return QKeyEvent(QKeyEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, char)


def rating_of(window: MainWindow, function_id: str, stage: Stage) -> Rating:
    assert window.engagement is not None
    return window.engagement.assessment(function_id).rating(stage).rating


def test_consultant_path(window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = tmp_path / "tailspin.ztmm"
    no_file_dialog(monkeypatch, path)
    # New engagement: the properties dialog, then a file name.
    dialogs.then(fill_new_engagement)
    qtbot.mouseClick(window.start_page.new_button, Qt.MouseButton.LeftButton)
    assert window.engagement is not None and path.exists()
    assert window.engagement.meta().client == "Tailspin Freight"
    assert "data" not in window.engagement.meta().scope
    assert window.windowTitle().startswith("tailspin.ztmm[*] — Tailspin Freight")
    bench = window.workbench
    assert bench is not None
    page = bench.page

    # Rate 1.1 by mouse on the function page.
    bench.select_function(AUTH)
    qtbot.mouseClick(page.stage_boxes[Stage.INITIAL].rating_buttons[Rating.MET], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.stage_boxes[Stage.ADVANCED].rating_buttons[Rating.PARTIAL], Qt.MouseButton.LeftButton)
    assert rating_of(window, AUTH, Stage.INITIAL) is Rating.MET
    assert window.isWindowModified()
    auth_row = bench.proxy.mapFromSource(bench.model.index_for_function(AUTH))
    assert auth_row.siblingAtColumn(1).data() == "Initial"

    # Rate 1.2 by keyboard in the tree: select its Initial stage, press 1 (met), then Advanced, press 2.
    tree = bench.panel.tree
    bench.select_function(STORES, Stage.INITIAL)
    tree.setFocus()
    qtbot.keyClick(tree, Qt.Key.Key_1)
    qtbot.keyClick(tree, Qt.Key.Key_Down)  # arrows move through the tree: Advanced
    qtbot.keyClick(tree, Qt.Key.Key_2)
    assert rating_of(window, STORES, Stage.INITIAL) is Rating.MET
    assert rating_of(window, STORES, Stage.ADVANCED) is Rating.PARTIAL
    assert page.current_function_id == STORES

    # Override 1.2 with a reason.
    qtbot.mouseClick(page.override_check, Qt.MouseButton.LeftButton)
    page.override_stage_combo.setCurrentIndex(list(Stage).index(Stage.ADVANCED))
    page.override_reason_edit.setFocus()
    qtbot.keyClicks(page.override_reason_edit, "Compensating controls seen in workshop")
    qtbot.mouseClick(page.override_apply_button, Qt.MouseButton.LeftButton)
    assert window.engagement.results()[STORES].current is Stage.ADVANCED
    assert window.engagement.results()[STORES].override_reason == "Compensating controls seen in workshop"
    stores_row = bench.proxy.mapFromSource(bench.model.index_for_function(STORES))
    assert stores_row.siblingAtColumn(1).data().startswith("Advanced (override)")

    # Undo and redo, with the keyboard (from the tree: inside a text box Ctrl+Z undoes typing).
    assert window.undo_stack.undoText() == "Override 1.2: Advanced"
    window.activateWindow()  # the new-engagement dialog had the focus; a person clicks back into the window
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    tree.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not window.engagement.results()[STORES].overridden
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert rating_of(window, STORES, Stage.ADVANCED) is Rating.NOT_ASSESSED
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert rating_of(window, STORES, Stage.ADVANCED) is Rating.PARTIAL
    assert window.engagement.results()[STORES].overridden

    # Save with Ctrl+S (in the background), the modified mark goes.
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=5000)

    # Filter: text, then a quick filter.
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert bench.panel.filter_edit.hasFocus()
    qtbot.keyClicks(bench.panel.filter_edit, "phishing")
    visible = [bench.proxy.index(r, 0).data() for r in range(bench.proxy.rowCount())]
    assert visible == ["1 Identity"]
    identity = bench.proxy.index(0, 0)
    assert [bench.proxy.index(r, 0, identity).data() for r in range(bench.proxy.rowCount(identity))] == [
        "1.1 Authentication"
    ]
    bench.panel.filter_edit.clear()
    bench.panel.quick.setCurrentIndex(bench.panel.quick.findData("overridden"))
    identity = bench.proxy.index(0, 0)
    assert bench.proxy.rowCount() == 1 and bench.proxy.rowCount(identity) == 1
    bench.panel.quick.setCurrentIndex(0)

    # Open a function from the dashboard.
    window.show_tab(2)
    dashboard = bench.dashboard
    qtbot.waitUntil(lambda: not dashboard.cell_rect("2.4").isEmpty(), timeout=3000)
    qtbot.mouseClick(dashboard, Qt.MouseButton.LeftButton, pos=dashboard.cell_rect("2.4").center())
    assert bench.tabs.currentWidget() is page
    assert page.current_function_id == "devices.device_threat_protection"
    assert tree.currentIndex().data() == "2.4 Device Threat Protection"

    # Close and reopen: the same ratings, override and reason.
    assert window.close_engagement()
    assert window.engagement is None and window.stack.currentWidget() is window.start_page
    assert window.start_page.recent.count() == 1
    window.start_page.recentActivated.emit(path)  # as a double-click on the recent entry does
    again = window.engagement
    assert again is not None
    assert rating_of(window, AUTH, Stage.INITIAL) is Rating.MET
    assert rating_of(window, STORES, Stage.ADVANCED) is Rating.PARTIAL
    assert again.results()[STORES].override_reason == "Compensating controls seen in workshop"
    assert not window.isWindowModified()


def test_unsaved_changes_are_offered_for_saving_on_close(window: MainWindow, dialogs: DialogAnswerer,
                                                         tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "c.ztmm"
    create_engagement(path, Properties(client="Close Ltd")).close()
    assert window.open_path(path)
    assert window.workbench is not None
    window.workbench.page.editRequested.emit(__import__("ztmm_desktop.ui.editing.requests", fromlist=["x"]).SetRating(
        AUTH, Stage.INITIAL, Rating.MET))  # fmt: skip
    dialogs.click("Cancel")
    assert not window.close_engagement()
    assert window.engagement is not None
    dialogs.click("Save")
    assert window.close_engagement()
    with open_engagement(path, readonly=True) as saved:
        assert saved.assessment(AUTH).rating(Stage.INITIAL).rating is Rating.MET


def test_a_held_document_names_its_holder_and_opens_read_only(window: MainWindow, dialogs: DialogAnswerer,
                                                              tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "held.ztmm"
    create_engagement(path, Properties(client="Held Ltd")).close()
    with held_open(path) as holder:
        dialogs.click("Open read-only")
        assert window.open_path(path)
        assert f"process {holder.pid}" in dialogs.seen[0]
        assert window.engagement is not None and window.engagement.readonly
        assert window.workbench is not None and window.workbench.banner.isVisible()
        assert "is open by" in window.workbench.banner.text()
        assert "(read-only)" in window.windowTitle()
        assert not window.save_action.isEnabled()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 300), "not a ZTMM engagement file (it is a zip archive"),
        (lambda p: p.write_text("not a database"), "not a ZTMM engagement file"),
    ],
)
def test_bad_files_get_a_clear_dialog_and_stay_unchanged(window: MainWindow, dialogs: DialogAnswerer,
                                                         tmp_path: Path, make: object, message: str) -> None:  # fmt: skip
    path = tmp_path / "bad.ztmm"
    make(path)  # type: ignore[operator]
    before = path.read_bytes()
    dialogs.click("OK")
    assert not window.open_path(path)
    assert message in dialogs.seen[0]
    assert path.read_bytes() == before
    assert window.engagement is None and window.isVisible()


def test_a_newer_engagement_gets_a_clear_dialog(window: MainWindow, dialogs: DialogAnswerer, tmp_path: Path) -> None:
    path = tmp_path / "future.ztmm"
    create_engagement(path, Properties(client="Future Ltd")).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 42")
    conn.close()
    before = path.read_bytes()
    dialogs.click("OK")
    assert not window.open_path(path)
    assert "made by a newer version of ZTMM Workbench" in dialogs.seen[0]
    assert path.read_bytes() == before


def test_a_recent_entry_whose_file_is_gone(window: MainWindow, dialogs: DialogAnswerer, tmp_path: Path) -> None:
    path = tmp_path / "moved.ztmm"
    create_engagement(path, Properties(client="Moved Ltd")).close()
    assert window.open_path(path)
    assert window.close_engagement()
    shutil.move(path, tmp_path / "elsewhere.ztmm")
    dialogs.click("OK")
    window.open_recent(path)
    assert "no longer exists" in dialogs.seen[0]
    assert window.engagement is None
    assert window.settings.recent_files() == []
    assert window.start_page.recent.count() == 0


def test_a_read_only_file_offers_read_only(window: MainWindow, dialogs: DialogAnswerer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = tmp_path / "ro.ztmm"
    create_engagement(path, Properties(client="Read Only Ltd")).close()
    monkeypatch.setattr("ztmm_desktop.store.document.os.access", lambda p, mode: False)  # as on a read-only medium
    dialogs.click("Open read-only")
    assert window.open_path(path)
    assert "read-only" in dialogs.seen[0]
    assert window.engagement is not None and window.engagement.readonly
    assert window.workbench is not None and window.workbench.banner.isVisible()


def test_the_dashboard_follows_edits_made_while_it_was_hidden(window: MainWindow, tmp_path: Path) -> None:
    from ztmm_desktop.ui.editing.requests import SetRating

    path = tmp_path / "d.ztmm"
    create_engagement(path, Properties(client="Dash Ltd")).close()
    assert window.open_path(path)
    bench = window.workbench
    assert bench is not None
    window.show_tab(2)
    assert "0 of 40 functions assessed" in bench.dashboard.headline_text()
    window.show_tab(0)
    window.request(SetRating(AUTH, Stage.INITIAL, Rating.MET))
    window.show_tab(2)
    assert "1 of 40 functions assessed" in bench.dashboard.headline_text()


def test_the_roll_up_summary_stays_in_the_status_bar_through_passing_messages(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QLabel

    path = tmp_path / "summary.ztmm"
    with create_engagement(path, Properties(client="Summary Ltd")) as made:
        made.assess("1.1", ratings={Stage.INITIAL: Rating.MET}, target=Stage.ADVANCED)
        made.save()
    assert window.open_path(path)
    summary = window.statusBar().findChild(QLabel, "rollupSummary")
    assert summary is not None
    expected = "Overall 1.0 (Initial) — 1 of 40 functions assessed — 1 below target"
    assert summary.text() == expected and summary.isVisible()
    window.statusBar().showMessage("Saved.", 50)  # a passing message, as a menu's hint or a save gives
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "", timeout=2000)
    qtbot.waitUntil(summary.isVisible, timeout=2000)  # back by itself, no edit needed
    assert summary.text() == expected
    window.close_engagement()
    assert summary.text() == ""
