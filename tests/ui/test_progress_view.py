"""The Progress tab: freeze a baseline from the window, change things, see exactly what moved."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer, no_file_dialog
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.baselines import list_baselines
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.dashboard.progress import OTHER_FILE
from ztmm_desktop.ui.shell.main_window import MainWindow


@pytest.fixture
def opened(window: MainWindow, tmp_path: Path) -> Path:
    path = tmp_path / "client.ztmm"
    with create_engagement(path, Properties(client="Contoso")) as e:
        e.assess("1.1", ratings={Stage.INITIAL: Rating.MET}, target=Stage.ADVANCED)
        e.assess("2.1", ratings={Stage.INITIAL: Rating.MET, Stage.ADVANCED: Rating.MET})
        e.save()
    assert window.open_path(path)
    return path


def name_it(name: str):  # type: ignore[no-untyped-def]
    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue(name)
        dialog.accept()

    return answer


def test_freeze_change_three_functions_and_see_exactly_those(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path
) -> None:
    engagement = window.engagement
    workbench = window.workbench
    assert engagement is not None and workbench is not None
    window.dashboard_action.trigger()
    assert not workbench.progress_banner.isVisible()  # no baseline: nothing to say on the dashboard
    window.progress_action.trigger()
    view = workbench.progress
    assert "No baseline yet" in view.summary.text() and view.functions.isHidden()

    dialogs.then(name_it("Initial assessment 2026-11"))
    window.freeze_action.trigger()
    assert [b.name for b in list_baselines(engagement)] == ["Initial assessment 2026-11"]
    assert "0 functions changed" in view.summary.text()

    engagement.assess("1.1", ratings={Stage.ADVANCED: Rating.MET})  # Initial → Advanced
    engagement.assess("2.1", ratings={Stage.ADVANCED: Rating.NOT_MET})  # Advanced → Initial
    engagement.assess("3.1", comments={Stage.INITIAL: "Segmentation plan drafted"})  # comment only
    workbench.refresh(engagement.assess("1.2", target=None))  # no change: refresh as after an edit
    rows = view.rows()
    assert [(r[0][:3], r[1], r[2], r[3]) for r in rows] == [
        ("1.1", "Initial", "Advanced", "▲ improved"),
        ("2.1", "Advanced", "Initial", "▼ regressed"),
        ("3.1", "Not assessed", "Not assessed", "same stage"),  # a comment changed, not the stage
    ]
    assert "3 functions changed: 1 improved, 1 regressed" in view.summary.text()

    # The dashboard says the same in one line, and its button opens this tab.
    window.dashboard_action.trigger()
    banner = workbench.progress_banner
    assert banner.isVisible()
    assert banner.text.text().startswith("Progress since baseline 'Initial assessment 2026-11' (")
    assert "3 functions changed: 1 improved, 1 regressed" in banner.text.text()
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    assert workbench.tabs.currentWidget() is view
    view.changed_only.setChecked(False)
    assert len(view.rows()) == 40

    # Double-clicking a row opens the function.
    item = view.functions.topLevelItem(0)
    view.functions.itemActivated.emit(item, 0)
    assert workbench.tabs.currentWidget() is workbench.page
    assert workbench.page.current_function_id == "identity.authentication"

    # Freezing is undoable; a duplicate name is refused with the reason.
    window.undo_stack.undo()
    assert list_baselines(engagement) == []
    window.undo_stack.redo()
    dialogs.then(name_it("initial ASSESSMENT 2026-11")).then(lambda box: box.close())
    window.freeze_action.trigger()
    assert "already" in dialogs.seen[-1]
    assert len(list_baselines(engagement)) == 1


def test_compare_with_an_earlier_engagement_file(
    window: MainWindow, dialogs: DialogAnswerer, opened: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = tmp_path / "contoso-2025.ztmm"
    shutil.copy(opened, earlier)
    engagement = window.engagement
    workbench = window.workbench
    assert engagement is not None and workbench is not None
    engagement.assess("1.1", ratings={Stage.ADVANCED: Rating.MET})
    window.progress_action.trigger()
    view = workbench.progress
    no_file_dialog(monkeypatch, earlier)
    view.source.setCurrentIndex(view.source.findText(OTHER_FILE))
    view.source.activated.emit(view.source.currentIndex())
    assert view.source.currentText() == "contoso-2025.ztmm"
    assert [(r[0][:3], r[1], r[2]) for r in view.rows()] == [("1.1", "Initial", "Advanced")]
    assert earlier.is_file() and not (tmp_path / ".contoso-2025.ztmm.lock").exists()  # read, closed, no lock left


def test_another_clients_file_is_refused_in_one_line(
    window: MainWindow, opened: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger = tmp_path / "fabrikam.ztmm"
    create_engagement(stranger, Properties(client="Fabrikam")).close()
    before = stranger.read_bytes()
    workbench = window.workbench
    assert workbench is not None
    window.progress_action.trigger()
    view = workbench.progress
    no_file_dialog(monkeypatch, stranger)
    view.source.setCurrentIndex(view.source.findText(OTHER_FILE))
    view.source.activated.emit(view.source.currentIndex())
    assert view.comparison is None and view.functions.isHidden()
    assert "Fabrikam" in view.summary.text() and "\n" not in view.summary.text()
    assert stranger.read_bytes() == before
