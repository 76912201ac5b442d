"""A document the desktop hands over as an event (Finder on macOS) opens in the window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.app import FileOpenHandler
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui


def client_file(folder: Path, client: str) -> Path:
    path = folder / f"{client}.ztmm"
    create_engagement(path, Properties(client=client)).close()
    return path


def test_a_file_handed_over_opens_before_and_after_the_window_exists(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    handler = FileOpenHandler(app)
    try:
        early = client_file(tmp_path, "Contoso Ltd")
        QApplication.sendEvent(app, QFileOpenEvent(str(early)))  # at launch: no window yet
        assert window.engagement is None
        handler.window = window
        qtbot.waitUntil(lambda: window.engagement is not None, timeout=10_000)
        assert window.engagement is not None and window.engagement.meta().client == "Contoso Ltd"

        later = client_file(tmp_path, "Fabrikam")
        QApplication.sendEvent(app, QFileOpenEvent(str(later)))  # double-clicked while running
        assert window.engagement.path == later.absolute()
        assert window.engagement.meta().client == "Fabrikam"
    finally:
        app.removeEventFilter(handler)
        handler.deleteLater()
