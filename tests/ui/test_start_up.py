"""At start the window shows the model's tree at once; the engagement asked for opens right after."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex
from pytestqt.qtbot import QtBot

import ztmm_desktop
from ztmm_desktop.services.catalogs import default_library
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.shell.main_window import MainWindow, start

from .conftest import DialogAnswerer


def _close(window: MainWindow) -> None:
    window.tasks.wait()
    if window.engagement is not None:
        window.engagement.close()
        window.engagement = None
    window.close()
    window.deleteLater()


def test_the_window_shows_the_model_then_the_engagement_asked_for(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTMM_ASSESSOR", "Lead assessor")  # no first-start question
    path = tmp_path / "Acme.ztmm"
    create_engagement(path, Properties(client="Acme")).close()
    window = start([str(path)])
    try:
        opening = window.opening
        assert opening is not None and window.stack.currentWidget() is opening
        assert opening.message.text() == "Opening Acme.ztmm…"
        model = opening.tree.model()
        pillars = [model.index(row, 0, QModelIndex()).data() for row in range(model.rowCount())]
        catalog = default_library().catalog
        assert pillars == [f"{p.code} {p.name}" for p in catalog.pillars]
        first = model.index(0, 0, QModelIndex())
        assert opening.tree.isExpanded(first)
        assert model.index(0, 0, first).data() == catalog.pillars[0].functions[0].label

        qtbot.waitUntil(lambda: window.engagement is not None, timeout=10000)
        assert window.workbench is not None and window.stack.currentWidget() is window.workbench
        assert window.opening is None
        assert window.engagement is not None and window.engagement.meta().client == "Acme"
    finally:
        _close(window)


def test_a_file_that_cannot_be_opened_at_start_leaves_the_start_page(
    qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTMM_ASSESSOR", "Lead assessor")
    path = tmp_path / "notes.ztmm"
    path.write_text("not an engagement", encoding="utf-8")
    dialogs.click("OK")
    window = start([str(path)])
    try:
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.start_page, timeout=10000)
        assert dialogs.seen and "not a ZTMM engagement file" in dialogs.seen[0]
        assert window.opening is None and window.engagement is None
    finally:
        _close(window)


def test_the_first_frame_needs_neither_the_database_layer_nor_the_services(tmp_path: Path) -> None:
    """What the window shows at start is built before SQLAlchemy and SQLModel load (a fresh process)."""
    child = textwrap.dedent(
        """
        import sys

        from PySide6.QtWidgets import QApplication

        app = QApplication([sys.argv[0]])
        from ztmm_desktop.ui.shell.main_window import MainWindow

        window = MainWindow()
        window.show_opening("Opening the demo engagement…")
        window.show()
        app.processEvents()
        assert window.opening is not None and window.opening.model.rowCount() == 6
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "sqlmodel", "pydantic"))
        print(",".join(loaded) or "none")
        window.close()
        """
    )
    # The child imports this checkout's package, wherever the environment's install points.
    checkout = str(Path(ztmm_desktop.__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (checkout, os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=path)
    done = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "none"
