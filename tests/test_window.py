"""The first window: opens the demo engagement and shows a function with its guidance."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ztmm_desktop.services.demo import open_demo
from ztmm_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


def test_demo_window_shows_tree_and_function_with_guidance(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        window = MainWindow(engagement)
        qtbot.addWidget(window)
        window.show()
        model = window.model
        assert model.rowCount() == 6
        assert model.item(0, 0).text() == "1 Identity"
        assert model.item(0, 1).text() == "1.6 (Initial)"
        identity = model.index(0, 0)
        authentication = model.index(0, 0, identity)
        assert authentication.data() == "1.1 Authentication"
        assert authentication.siblingAtColumn(1).data() == "Advanced → Optimal"
        rect = window.tree.visualRect(authentication)
        qtbot.mouseClick(window.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        html = window.detail.toPlainText()
        assert "1.1 Authentication" in html
        assert "Enterprise authenticates identity" in html  # the demo uses the Enterprise wording
        assert "FIDO2 keys issued to all administrators" in html
        assert "Microsoft Entra" in html
        devices = model.index(1, 0)
        threat = model.index(3, 0, devices)
        assert threat.siblingAtColumn(1).data() == "Advanced (override) → Optimal"
        window.tree.setCurrentIndex(threat)
        assert "Override (derived Initial)" in window.detail.toPlainText()
        assert "CONFIDENTIAL" in window.marking.text()
    finally:
        engagement.close()


def test_unassessed_functions_say_so_rather_than_traditional(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        window = MainWindow(engagement)
        qtbot.addWidget(window)
        networks = window.model.index(2, 0)
        assert window.model.index(1, 1, networks).data() == "not assessed"  # 3.2, nothing rated
        assert window.model.index(0, 1, networks).data() == "Traditional → Advanced"  # 3.1, rated partial
    finally:
        engagement.close()
