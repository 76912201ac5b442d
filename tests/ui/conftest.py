"""Helpers for driving the real window: answering modal dialogs as a person would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from ztmm_desktop.services.demo import open_demo
from ztmm_desktop.services.engagement import Engagement
from ztmm_desktop.ui.shell.main_window import MainWindow


class DialogAnswerer:
    """Queue what to do with the next modal dialogs; each action gets the dialog."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self.seen: list[str] = []
        self.unexpected: list[str] = []
        self._actions: list[Callable[[QWidget], None]] = []
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def then(self, action: Callable[[QWidget], None]) -> DialogAnswerer:
        self._actions.append(action)
        return self

    def click(self, button_text: str) -> DialogAnswerer:
        """Answer the next message box by clicking the button with this text."""

        def press(dialog: QWidget) -> None:
            for button in dialog.findChildren(QPushButton):
                if button.text().replace("&", "") == button_text:
                    button.click()
                    return
            raise AssertionError(f"no button {button_text!r} in {self.seen[-1]!r}")

        return self.then(press)

    def _poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            return
        text = dialog.text() if isinstance(dialog, QMessageBox) else dialog.windowTitle()
        if not self._actions:  # nobody expected it: close it so the test fails instead of hanging
            self.unexpected.append(text)
            if isinstance(dialog, QDialog):
                dialog.reject()
            return
        self.seen.append(text)
        self._actions.pop(0)(dialog)

    @property
    def done(self) -> bool:
        return not self._actions

    def stop(self) -> None:
        self._timer.stop()


@pytest.fixture
def dialogs(qtbot: QtBot) -> Iterator[DialogAnswerer]:
    answerer = DialogAnswerer(qtbot)
    yield answerer
    answerer.stop()
    assert answerer.done, f"expected dialogs that never came; saw {answerer.seen}"
    assert answerer.unexpected == [], f"unexpected dialogs: {answerer.unexpected}"


@pytest.fixture
def demo() -> Iterator[Engagement]:
    """A fresh demo engagement, closed after the test."""
    engagement = open_demo()
    try:
        yield engagement
    finally:
        engagement.close()


@pytest.fixture
def window(qtbot: QtBot, dialogs: DialogAnswerer) -> Iterator[MainWindow]:
    """The real main window; any dialog a test did not expect is closed and fails the test."""
    win = MainWindow()
    win.show()
    win.activateWindow()  # shortcuts (Ctrl+Z, Ctrl+S …) go to the active window
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    yield win
    win.tasks.wait()
    if win.engagement is not None:
        win.engagement.close()
        win.engagement = None
    win.close()
    win.deleteLater()


@pytest.fixture
def second(qtbot: QtBot) -> Iterator[MainWindow]:
    """Another main window, as a second consultant's (on the team server: its own session, closed after)."""
    win = MainWindow()
    win.show()
    yield win
    win.tasks.wait()
    win.team.closed()
    win.team.comments.wait()
    if win.engagement is not None:
        win.engagement.close()
        win.engagement = None
    win.close()
    win.deleteLater()


def no_file_dialog(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """The platform file dialogs are native and cannot be driven: answer them with ``path``."""
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
