"""Keyboard-first: Enter from a stage to its comment, the next function not assessed, the tree, and Help's pages."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer, no_file_dialog
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.paths import resources_dir
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.shell.help import GUIDE, ShortcutsDialog, UserGuideDialog
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

MET = Rating.MET


@pytest.fixture
def opened(window: MainWindow, tmp_path: Path) -> Iterator[MainWindow]:
    """The window on a small engagement: identity in scope, 1.1, 1.2 and 1.4 assessed; 1.3, 1.5–1.7 not."""
    path = tmp_path / "keys.ztmm"
    with create_engagement(path, Properties(client="Keys Ltd", scope=("identity",))) as made:
        for code in ("1.1", "1.2", "1.4"):
            made.assess(code, ratings={Stage.INITIAL: MET})
        made.save()
    assert window.open_path(path)
    yield window


def press(qtbot: QtBot, window: MainWindow, sequence: str) -> None:
    """Press a key sequence as a person would, on whatever widget has the focus."""
    keys = QKeySequence(sequence)[0]
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, keys.key(), keys.keyboardModifiers())


def shown_code(window: MainWindow) -> str:
    assert window.workbench is not None
    return window.workbench.page.title_label.text().split()[0]


def test_enter_on_a_stage_goes_to_its_comment(opened: MainWindow, qtbot: QtBot) -> None:
    window = opened
    assert window.workbench is not None
    page = window.workbench.page
    window.workbench.select_function("1.3")
    page.focus_stage(Stage.ADVANCED)
    box = page.stage_boxes[Stage.ADVANCED]
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClick(box, Qt.Key.Key_1)  # rate, then write why
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.comment_edit is not None
    qtbot.waitUntil(box.comment_edit.hasFocus)
    qtbot.keyClicks(box.comment_edit, "Seen in the console")
    assert box.comment_edit.toPlainText() == "Seen in the console"  # Enter typed nothing into it
    # From a rating button too: Tab to the first button of Initial, Enter.
    button = page.stage_boxes[Stage.INITIAL].rating_buttons[Rating.PARTIAL]
    button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(button.hasFocus)
    qtbot.keyClick(button, Qt.Key.Key_Enter)
    initial_comment = page.stage_boxes[Stage.INITIAL].comment_edit
    assert initial_comment is not None
    qtbot.waitUntil(initial_comment.hasFocus)
    assert window.engagement is not None
    assert window.engagement.assessment("1.3").rating(Stage.ADVANCED).rating is MET
    assert window.engagement.assessment("1.3").rating(Stage.ADVANCED).comment == "Seen in the console"


def test_next_not_assessed_goes_round_in_tree_order(opened: MainWindow, qtbot: QtBot) -> None:
    window = opened
    assert window.workbench is not None
    page = window.workbench.page
    assert shown_code(window) == "1.1"
    seen = []
    for _ in range(5):
        press(qtbot, window, "F8")
        seen.append(shown_code(window))
    assert seen == ["1.3", "1.5", "1.6", "1.7", "1.3"]  # 1.4 is assessed; after 1.7 it wraps round
    assert "4 functions not assessed" in window.statusBar().currentMessage()
    # Ready to rate: the keys 1–5 rate the function's first stage.
    initial = page.stage_boxes[Stage.INITIAL]
    qtbot.waitUntil(initial.hasFocus)
    qtbot.keyClick(initial, Qt.Key.Key_1)
    press(qtbot, window, "Ctrl+J")  # the other key for the same
    assert shown_code(window) == "1.5"
    assert window.workbench.model.not_assessed() == [
        "identity.visibility_and_analytics",
        "identity.automation_and_orchestration",
        "identity.governance",
    ]


def test_when_every_function_is_assessed_it_says_so(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "done.ztmm"
    with create_engagement(path, Properties(client="Done Ltd", scope=("identity",))) as made:
        for n in range(1, 8):
            made.assess(f"1.{n}", ratings={Stage.INITIAL: MET})
        made.save()
    assert window.open_path(path)
    window.workbench.select_function("1.2")  # type: ignore[union-attr]
    press(qtbot, window, "F8")
    assert window.statusBar().currentMessage() == "Every function in scope is assessed."
    assert shown_code(window) == "1.2"


def test_a_key_puts_the_focus_in_the_tree(opened: MainWindow, qtbot: QtBot) -> None:
    window = opened
    assert window.workbench is not None
    notes = window.workbench.page.notes_edit
    notes.setFocus()
    qtbot.waitUntil(notes.hasFocus)
    press(qtbot, window, "F6")
    tree = window.workbench.panel.tree
    qtbot.waitUntil(tree.hasFocus)
    qtbot.keyClick(tree, Qt.Key.Key_Down)  # the arrows move through the tree at once
    assert tree.currentIndex().isValid()
    notes.setFocus()
    qtbot.waitUntil(notes.hasFocus)
    press(qtbot, window, "Ctrl+T")
    qtbot.waitUntil(tree.hasFocus)


def every_menu_shortcut(window: MainWindow) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(menu: QMenu) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu())
            elif not action.shortcut().isEmpty():
                keys = " or ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
                found[action.whatsThis() or action.text().replace("&", "").removesuffix("…")] = keys

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu())
    return found


def test_the_shortcuts_page_lists_every_key_and_no_key_twice(
    opened: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer
) -> None:
    window = opened
    expected = every_menu_shortcut(window)
    wanted = {"Next function not assessed", "Go to the tree", "Save", "Undo the last change", "Keyboard shortcuts"}
    assert wanted <= set(expected)
    assert expected["Next function not assessed"] == "F8 or Ctrl+J"
    keys = [k for ks in expected.values() for k in ks.split(" or ")]
    assert len(keys) == len(set(keys)), f"a key is given to two actions: {sorted(keys)}"
    seen: list[str] = []

    def read(dialog: QWidget) -> None:
        assert isinstance(dialog, ShortcutsDialog)
        seen.append(" ".join(dialog.browser.toPlainText().split()))
        dialog.reject()

    dialogs.then(read)
    press(qtbot, window, "Ctrl+/")
    assert seen, "Help → Keyboard shortcuts did not open"
    for what, keys in expected.items():
        assert f"{keys} {what}" in seen[0], what
    assert "1 Rate the selected stage: Met" in seen[0]
    assert "Enter From a stage, go to its comment" in seen[0]


def test_the_shortcuts_page_prints_to_pdf(
    opened: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = tmp_path / "shortcuts.pdf"
    no_file_dialog(monkeypatch, pdf)
    dialog = ShortcutsDialog(opened.menuBar(), opened)
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.pdf_button, Qt.MouseButton.LeftButton)
    assert pdf.is_file()
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "Keyboard shortcuts" in text and "F8 or Ctrl+J Next function not assessed" in text


def test_the_user_guide_opens_offline_and_covers_a_session(
    opened: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer
) -> None:
    assert (resources_dir() / GUIDE).is_file()  # shipped in resources/, so in the wheel and the bundle too
    seen: list[str] = []

    def read(dialog: QWidget) -> None:
        assert isinstance(dialog, UserGuideDialog)
        seen.append(dialog.browser.toPlainText())
        dialog.reject()

    dialogs.then(read)
    press(qtbot, opened, "F1")
    assert seen, "Help → User guide did not open"
    text = seen[0].lower()
    for topic in ("new engagement", "rating", "override", "targets", "evidence", "findings", "workshops",
                  "questionnaires", "deliverables", "baselines", "merging", "recovery", "keyboard"):  # fmt: skip
        assert topic in text, topic
    assert "f8" in text and "enter" in text


def test_the_user_guide_contents_jump_within_the_page(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QDesktopServices

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: pytest.fail(f"opened {url.toString()}"))
    dialog = UserGuideDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    bar = dialog.browser.verticalScrollBar()
    assert bar.value() == 0
    dialog.browser.anchorClicked.emit(QUrl("#keyboard"))  # the last section
    assert bar.value() > 0
    dialog.browser.anchorClicked.emit(QUrl("file:///etc/passwd"))  # never followed, never opened
