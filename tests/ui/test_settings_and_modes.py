"""What the window remembers, workshop mode, and properties edited through the dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.common.settings import Settings
from ztmm_desktop.ui.common.theme import apply_workshop_mode
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui


def test_workshop_mode_from_the_view_menu_is_large_high_contrast_and_remembered(window: MainWindow) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    normal_size = app.font().pointSizeF()
    try:
        window.workshop_action.trigger()  # View → Workshop mode
        assert app.font().pointSizeF() == pytest.approx(normal_size * 1.45)
        assert app.palette().color(QPalette.ColorRole.Window).name() == "#000000"
        assert app.palette().color(QPalette.ColorRole.WindowText).name() == "#ffffff"
        assert Settings().workshop_mode()
        again = MainWindow()  # the next start comes up in workshop mode
        assert again.workshop_action.isChecked()
        again.deleteLater()
        window.workshop_action.trigger()
        assert app.font().pointSizeF() == pytest.approx(normal_size)
        assert not Settings().workshop_mode()
    finally:
        apply_workshop_mode(False)


def test_geometry_splitter_recent_and_last_folder_are_remembered(window: MainWindow, qtbot: QtBot,
                                                                  tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "remember.ztmm"
    create_engagement(path, Properties(client="Remember Ltd")).close()
    assert window.open_path(path)
    assert window.workbench is not None
    window.resize(700, 520)  # within the offscreen screen, which restoreGeometry clamps to
    window.workbench.splitter.setSizes([300, 700, 300])
    sizes = window.workbench.splitter.sizes()
    window.close()
    reopened = MainWindow()
    reopened.show()
    try:
        assert (reopened.width(), reopened.height()) == (700, 520)
        assert reopened.settings.recent_files() == [path]
        assert reopened.settings.last_folder() == str(tmp_path)
        assert reopened.open_path(path)
        assert reopened.workbench is not None
        assert reopened.workbench.splitter.sizes() == sizes
    finally:
        if reopened.engagement is not None:
            reopened.engagement.close()
            reopened.engagement = None
        reopened.close()


def test_properties_dialog_changes_the_engagement_and_undoes(window: MainWindow, dialogs: DialogAnswerer,
                                                             tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "props.ztmm"
    create_engagement(path, Properties(client="Old Name Ltd")).close()
    assert window.open_path(path)

    def rename(dialog: QWidget) -> None:
        client = dialog.findChild(QLineEdit, "client")
        assert client is not None
        client.setText("New Name plc")
        dialog.findChild(QWidget, "scope-networks").click()  # type: ignore[union-attr]
        next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "OK").click()

    dialogs.then(rename)
    window.properties_action.trigger()
    assert window.engagement is not None
    assert window.engagement.meta().client == "New Name plc"
    assert "networks" not in window.engagement.meta().scope
    assert "New Name plc" in window.windowTitle()
    assert window.workbench is not None
    pillars = [window.workbench.proxy.index(r, 0).data() for r in range(window.workbench.proxy.rowCount())]
    assert "3 Networks" not in pillars
    assert window.undo_stack.undoText() == "Change engagement properties"
    window.undo_stack.undo()
    assert window.engagement.meta().client == "Old Name Ltd"
    assert "networks" in window.engagement.meta().scope


def test_workshop_mode_reaches_every_pane_of_an_open_engagement(window: MainWindow, qtbot: QtBot) -> None:
    window.open_demo()
    assert window.workbench is not None
    page, tree = window.workbench.page, window.workbench.panel.tree
    normal = page.font().pointSizeF()
    try:
        window.workshop_action.trigger()
        qtbot.wait(20)
        # The page has a style sheet, which would otherwise keep its old font and colours.
        assert page.font().pointSizeF() == pytest.approx(normal * 1.45)
        assert tree.font().pointSizeF() == pytest.approx(normal * 1.45)
        assert page.palette().color(QPalette.ColorRole.Window).name() == "#000000"
    finally:
        apply_workshop_mode(False)
    assert page.font().pointSizeF() == pytest.approx(normal)


def test_the_report_logo_is_chosen_in_the_properties_and_undone_with_them(
    window: MainWindow, dialogs: DialogAnswerer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import Image

    from tests.ui.conftest import no_file_dialog
    from ztmm_desktop.services.logo import read_logo

    path = tmp_path / "props.ztmm"
    create_engagement(path, Properties(client="Logo Ltd")).close()
    assert window.open_path(path)
    engagement = window.engagement
    assert engagement is not None
    bad, good = tmp_path / "bad.png", tmp_path / "brand.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    Image.new("RGB", (300, 100), (20, 70, 140)).save(good)
    seen: list[str] = []

    def choose(dialog: QWidget) -> None:
        chooser = dialog.findChild(QPushButton, "chooseLogo")
        problem = dialog.findChild(QLabel, "logoProblem")
        assert chooser is not None and problem is not None
        no_file_dialog(monkeypatch, bad)
        chooser.click()
        seen.append(problem.text())  # refused in the dialog, which stays open
        no_file_dialog(monkeypatch, good)
        chooser.click()
        assert problem.isHidden()
        dialog.findChild(QLineEdit, "title").setText("With logo")  # type: ignore[union-attr]
        next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "OK").click()

    dialogs.then(choose)
    window.properties_action.trigger()
    assert "bad.png is a damaged image" in seen[0] or "bad.png is not a PNG or JPEG image" in seen[0]
    stored = read_logo(engagement)
    assert stored is not None and (stored.name, stored.width, stored.height) == ("brand.png", 300, 100)
    assert engagement.meta().title == "With logo"
    assert window.undo_stack.undoText() == "Change engagement properties"
    window.undo_stack.undo()  # title and logo together
    assert read_logo(engagement) is None and engagement.meta().title == ""
    window.undo_stack.redo()
    assert read_logo(engagement) is not None

    def remove(dialog: QWidget) -> None:
        dialog.findChild(QPushButton, "removeLogo").click()  # type: ignore[union-attr]
        next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "OK").click()

    dialogs.then(remove)
    window.properties_action.trigger()
    assert read_logo(engagement) is None
    assert window.undo_stack.undoText() == "Remove the report logo"


def test_tab_in_the_assessors_field_moves_on_instead_of_typing_a_tab(qtbot: QtBot) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPlainTextEdit

    from ztmm_desktop.services.catalogs import default_library
    from ztmm_desktop.ui.common.dialogs import PropertiesDialog

    dialog = PropertiesDialog(default_library().catalog, None)
    qtbot.addWidget(dialog)
    dialog.show()
    assessors = dialog.findChild(QPlainTextEdit, "assessors")
    assert assessors is not None
    assessors.setFocus()
    qtbot.waitUntil(assessors.hasFocus, timeout=2000)
    qtbot.keyClicks(assessors, "Lead assessor")
    qtbot.keyClick(assessors, Qt.Key.Key_Tab)
    assert assessors.toPlainText() == "Lead assessor" and not assessors.hasFocus()
    dialog.reject()
