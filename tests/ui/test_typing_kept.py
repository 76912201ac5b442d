"""Every keystroke is kept: text is committed at a pause in typing, one undo step per burst, and survives kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot

from tests.conftest import ROOT
from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement
from ztmm_desktop.ui.function.page import FunctionPage
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

AUTH = "identity.authentication"  # 1.1
LEFT = Qt.MouseButton.LeftButton
#: Generous: a pause is about a second, but the machine may be busy.
COMMIT_TIMEOUT = 15_000

#: The app in a child process: types into 1.1's Notes and stays in the box until it is killed.
TYPIST = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from ztmm_desktop.ui.shell.main_window import MainWindow

    path, function_id, typed = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    window = MainWindow()
    window.show()
    window.activateWindow()
    assert window.open_path(path)
    window.workbench.select_function(function_id)
    page = window.workbench.page
    notes = page.notes_edit
    deadline = time.monotonic() + 60

    def poll(ready, then):
        if ready():
            then()
        elif time.monotonic() > deadline:
            print("timed out", flush=True)
            app.exit(1)
        else:
            QTimer.singleShot(20, lambda: poll(ready, then))

    def type_notes():
        notes.setFocus(Qt.FocusReason.MouseFocusReason)
        QTest.keyClicks(notes, typed)
        # Nothing leaves the box: only the pause in typing can keep the text.
        poll(lambda: window.engagement.assessment(function_id).notes == typed, kept)

    def kept():
        print("kept" if notes.hasFocus() and notes.toPlainText() == typed else "focus lost", flush=True)

    poll(window.isActiveWindow, type_notes)
    sys.exit(app.exec())
    """
)


@pytest.fixture
def engagement_file(tmp_path: Path) -> Path:
    path = tmp_path / "workshop.ztmm"
    create_engagement(path, Properties(client="Typing Ltd")).close()
    return path


def type_then_kill(path: Path, typed: str) -> None:
    """Start the app, type into the notes, wait for the text to be kept, then kill -9 it with the cursor in the box."""
    child = subprocess.Popen(
        [sys.executable, "-c", TYPIST, str(path), AUTH, typed],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    watchdog = threading.Timer(120, child.kill)  # a hung child fails the test instead of hanging it
    watchdog.start()
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "kept"
    finally:
        watchdog.cancel()
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()


def test_text_typed_without_leaving_the_box_survives_a_kill(
    window: MainWindow, dialogs: DialogAnswerer, engagement_file: Path
) -> None:
    typed = "Passkeys for the admins; the helpdesk still resets by phone"
    type_then_kill(engagement_file, typed)
    dialogs.click("Recover")
    window.offer_recovery()
    assert "ended without saving workshop.ztmm" in dialogs.seen[0]
    engagement = window.engagement
    assert engagement is not None and engagement.path == engagement_file
    assert engagement.assessment(AUTH).notes == typed
    assert window.workbench is not None
    window.workbench.select_function(AUTH)
    assert window.workbench.page.notes_edit.toPlainText() == typed


# -- in the window ---------------------------------------------------------------------


@pytest.fixture
def opened(window: MainWindow, engagement_file: Path) -> Iterator[FunctionPage]:
    assert window.open_path(engagement_file)
    assert window.workbench is not None
    window.workbench.select_function(AUTH)
    yield window.workbench.page


def stored(window: MainWindow) -> Engagement:
    assert window.engagement is not None
    return window.engagement


def click_into(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, LEFT)
    qtbot.waitUntil(widget.hasFocus)


def test_a_pause_in_typing_keeps_the_text_as_one_undo_step(
    window: MainWindow, qtbot: QtBot, opened: FunctionPage
) -> None:
    notes = opened.notes_edit
    click_into(qtbot, notes)
    qtbot.keyClicks(notes, "Passkeys for admins")
    assert stored(window).assessment(AUTH).notes == ""  # not at every keystroke
    qtbot.waitUntil(lambda: stored(window).assessment(AUTH).notes == "Passkeys for admins", timeout=COMMIT_TIMEOUT)
    assert notes.hasFocus() and notes.textCursor().position() == len("Passkeys for admins")
    qtbot.keyClicks(notes, ", MFA for staff")
    qtbot.waitUntil(lambda: stored(window).assessment(AUTH).notes.endswith("staff"), timeout=COMMIT_TIMEOUT)
    assert notes.toPlainText() == "Passkeys for admins, MFA for staff"
    # Two pauses, one burst of typing: one undo step, which Edit → Undo takes back whole.
    assert window.undo_stack.count() == 1
    assert window.undo_stack.undoText() == "Set notes of 1.1"
    assert window.undo_action.text() == "&Undo Set notes of 1.1"
    window.undo_action.trigger()
    assert stored(window).assessment(AUTH).notes == ""
    assert notes.toPlainText() == ""
    assert window.statusBar().currentMessage() == "Undid: Set notes of 1.1"
    window.redo_action.trigger()
    assert stored(window).assessment(AUTH).notes == "Passkeys for admins, MFA for staff"
    assert notes.toPlainText() == "Passkeys for admins, MFA for staff"


def test_leaving_the_box_keeps_the_text_at_once(window: MainWindow, qtbot: QtBot, opened: FunctionPage) -> None:
    comment = opened.stage_boxes[Stage.INITIAL].comment_edit
    assert comment is not None
    click_into(qtbot, comment)
    qtbot.keyClicks(comment, "MFA for all staff")
    click_into(qtbot, opened.owner_edit)  # no pause needed
    assert stored(window).assessment(AUTH).rating(Stage.INITIAL).comment == "MFA for all staff"
    qtbot.keyClicks(opened.owner_edit, "IAM team")
    qtbot.keyClick(opened.owner_edit, Qt.Key.Key_Tab)
    assert stored(window).assessment(AUTH).owner == "IAM team"
    # Back in the comment: typing after leaving it is a new undo step.
    click_into(qtbot, comment)
    comment.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(comment, ", seen in the logs")
    click_into(qtbot, opened.notes_edit)
    assert stored(window).assessment(AUTH).rating(Stage.INITIAL).comment == "MFA for all staff, seen in the logs"
    texts = [window.undo_stack.text(i) for i in range(window.undo_stack.count())]
    assert texts == ["Comment on 1.1 Initial", "Set owner of 1.1", "Comment on 1.1 Initial"]


def test_the_owner_is_kept_at_a_pause_too(window: MainWindow, qtbot: QtBot, opened: FunctionPage) -> None:
    owner = opened.owner_edit
    click_into(qtbot, owner)
    qtbot.keyClicks(owner, "Identity team ")
    qtbot.waitUntil(lambda: stored(window).assessment(AUTH).owner == "Identity team", timeout=COMMIT_TIMEOUT)
    # The box is not refilled under the consultant's fingers: the trailing space and the cursor stay.
    assert owner.text() == "Identity team " and owner.cursorPosition() == len("Identity team ")
    qtbot.keyClicks(owner, "lead")
    qtbot.keyClick(owner, Qt.Key.Key_Return)
    assert stored(window).assessment(AUTH).owner == "Identity team lead"
    assert window.undo_stack.count() == 1


def type_lines(qtbot: QtBot, box: QPlainTextEdit, lines: list[str]) -> None:
    for number, line in enumerate(lines):
        if number:
            qtbot.keyClick(box, Qt.Key.Key_Return)
        qtbot.keyClicks(box, line)


def test_keeping_the_text_moves_neither_the_cursor_the_selection_nor_the_scroll(
    window: MainWindow, qtbot: QtBot, opened: FunctionPage
) -> None:
    notes = opened.notes_edit
    page_bar = opened.scroll_area.verticalScrollBar()
    click_into(qtbot, notes)
    lines = [f"Workshop point {n}: who owns the identity provider" for n in range(1, 9)]
    type_lines(qtbot, notes, lines)  # more lines than the box shows: it has scrolled
    # Select a word two lines up while the pause runs.
    for _ in range(2):
        qtbot.keyClick(notes, Qt.Key.Key_Up)
    for _ in range(8):
        qtbot.keyClick(notes, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    cursor = notes.textCursor()
    before = (cursor.position(), cursor.anchor(), notes.verticalScrollBar().value(), page_bar.value())
    assert cursor.hasSelection() and notes.verticalScrollBar().value() > 0
    qtbot.waitUntil(lambda: stored(window).assessment(AUTH).notes == "\n".join(lines), timeout=COMMIT_TIMEOUT)
    cursor = notes.textCursor()
    assert (cursor.position(), cursor.anchor(), notes.verticalScrollBar().value(), page_bar.value()) == before
    assert notes.hasFocus() and notes.toPlainText() == "\n".join(lines)


def test_a_comment_kept_at_a_pause_is_in_the_tree_too(window: MainWindow, qtbot: QtBot, opened: FunctionPage) -> None:
    comment = opened.stage_boxes[Stage.ADVANCED].comment_edit
    assert comment is not None and window.workbench is not None
    click_into(qtbot, comment)
    qtbot.keyClicks(comment, "Conditional access on every app")
    qtbot.waitUntil(
        lambda: stored(window).assessment(AUTH).rating(Stage.ADVANCED).comment == "Conditional access on every app",
        timeout=COMMIT_TIMEOUT,
    )
    bench = window.workbench
    row = bench.model.index_for_stage(AUTH, Stage.ADVANCED)
    assert "Conditional access on every app" in row.siblingAtColumn(1).data(Qt.ItemDataRole.ToolTipRole)
    bench.panel.filter_edit.setText("every app")  # the tree's filter finds it, with the cursor still in the box
    assert bench.proxy.mapFromSource(row).isValid()
    assert not bench.proxy.mapFromSource(bench.model.index_for_function("identity.identity_stores")).isValid()
