"""Undo shows what it did: the window goes to the function, tab and control it changed; freezing keeps the tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QInputDialog, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services.baselines import list_baselines
from ztmm_desktop.ui.common.flash import Flash
from ztmm_desktop.ui.shell.main_window import MainWindow, Workbench
from ztmm_desktop.ui.tree.model import FUNCTION_ID_ROLE, STAGE_ROLE

pytestmark = pytest.mark.gui

THREAT = "devices.device_threat_protection"  # 2.4
ASSET = "devices.resource_access"  # 2.3
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def bench(window: MainWindow) -> Iterator[Workbench]:
    window.open_demo()
    assert window.workbench is not None
    yield window.workbench


def tree_row(bench: Workbench, function_id: str, stage: Stage | None = None) -> QModelIndex:
    model = bench.model
    source = model.index_for_function(function_id) if stage is None else model.index_for_stage(function_id, stage)
    return bench.proxy.mapFromSource(source)


def click_row(qtbot: QtBot, bench: Workbench, index: QModelIndex) -> None:
    tree = bench.panel.tree
    if index.parent().isValid():
        tree.expand(index.parent())
    tree.scrollTo(index)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=tree.visualRect(index).center())
    assert tree.currentIndex() == index


def shown_flash(bench: Workbench) -> Flash | None:
    return next((f for f in bench.page.findChildren(Flash) if f.isVisible()), None)


def test_undo_and_redo_go_to_the_function_and_mark_the_control(
    window: MainWindow, qtbot: QtBot, bench: Workbench
) -> None:
    page, tree = bench.page, bench.panel.tree
    click_row(qtbot, bench, tree_row(bench, THREAT))
    before = page.target_combo.currentText()
    page.target_combo.setFocus()
    qtbot.keyClick(page.target_combo, Qt.Key.Key_Up)  # another target
    after = page.target_combo.currentText()
    assert after != before and window.undo_stack.undoText().startswith("Target 2.4")
    click_row(qtbot, bench, tree_row(bench, ASSET))
    assert page.current_function_id == ASSET

    qtbot.keyClick(tree, Qt.Key.Key_Z, CTRL)
    assert tree.currentIndex().data(FUNCTION_ID_ROLE) == THREAT
    assert page.current_function_id == THREAT and bench.tabs.currentWidget() is page
    assert page.target_combo.currentText() == before
    assert window.statusBar().currentMessage() == f"Undid: Target 2.4: {after}"
    flash = shown_flash(bench)
    assert flash is not None and flash.target is page.target_combo
    flash_frame = flash.geometry()
    assert flash_frame.contains(page.target_combo.geometry())
    qtbot.waitUntil(lambda: shown_flash(bench) is None, timeout=5000)  # only for a moment

    # Redo from elsewhere (the dashboard, another function) comes back the same way.
    click_row(qtbot, bench, tree_row(bench, ASSET))
    window.dashboard_action.trigger()
    qtbot.keyClick(tree, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert page.current_function_id == THREAT and bench.tabs.currentWidget() is page
    assert page.target_combo.currentText() == after
    assert window.statusBar().currentMessage() == f"Redid: Target 2.4: {after}"
    assert shown_flash(bench) is not None


def test_undoing_a_rating_marks_its_stage(window: MainWindow, qtbot: QtBot, bench: Workbench) -> None:
    page = bench.page
    click_row(qtbot, bench, tree_row(bench, THREAT, Stage.OPTIMAL))
    qtbot.keyClick(bench.panel.tree, Qt.Key.Key_1)  # rate Optimal met from the tree
    assert window.undo_stack.undoText() == "Rate 2.4 Optimal: met"
    click_row(qtbot, bench, tree_row(bench, ASSET))
    window.undo_action.trigger()
    assert page.current_function_id == THREAT
    flash = shown_flash(bench)
    assert flash is not None and flash.target is page.stage_boxes[Stage.OPTIMAL]
    assert page.stage_boxes[Stage.OPTIMAL].property("highlighted") is True
    assert window.statusBar().currentMessage() == "Undid: Rate 2.4 Optimal: met"


def back_to(qtbot: QtBot, window: MainWindow) -> None:
    """The keys go to the window again once a dialog is gone (offscreen, activation does not come back by itself)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def name_it(name: str):  # type: ignore[no-untyped-def]
    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue(name)
        dialog.accept()

    return answer


def test_undoing_a_frozen_baseline_asks_first_and_says_so(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, bench: Workbench
) -> None:
    engagement = window.engagement
    assert engagement is not None
    earlier = [b.name for b in list_baselines(engagement)]  # the demo has one already
    dialogs.then(name_it("End of phase 1"))
    window.freeze_action.trigger()
    assert [b.name for b in list_baselines(engagement)] == [*earlier, "End of phase 1"]
    bench.tabs.setCurrentWidget(bench.page)

    dialogs.click("Keep baseline")
    back_to(qtbot, window)
    qtbot.keyClick(bench.panel.tree, Qt.Key.Key_Z, CTRL)
    assert "Undo would remove the baseline “End of phase 1”." in dialogs.seen[-1]
    assert [b.name for b in list_baselines(engagement)] == [*earlier, "End of phase 1"]
    assert window.statusBar().currentMessage() == "Nothing undone: the baseline “End of phase 1” is kept."

    dialogs.click("Remove baseline")
    back_to(qtbot, window)
    qtbot.keyClick(bench.panel.tree, Qt.Key.Key_Z, CTRL)
    assert [b.name for b in list_baselines(engagement)] == earlier
    assert window.statusBar().currentMessage() == (
        "Undid: Freeze baseline “End of phase 1” — the baseline was removed; Redo freezes it again"
    )
    assert bench.tabs.currentWidget() is bench.progress
    window.redo_action.trigger()  # redo asks nothing: it only puts the baseline back
    assert [b.name for b in list_baselines(engagement)] == [*earlier, "End of phase 1"]


def test_freezing_a_baseline_keeps_the_tree_open_and_the_selection(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, bench: Workbench
) -> None:
    tree, page = bench.panel.tree, bench.page
    identity = tree_row(bench, "identity.authentication").parent()
    tree.expand(tree_row(bench, THREAT))
    tree.collapse(identity)
    click_row(qtbot, bench, tree_row(bench, THREAT, Stage.ADVANCED))
    scroll = tree.verticalScrollBar().value()

    dialogs.then(name_it("Initial assessment"))
    window.freeze_action.trigger()
    assert dialogs.done

    current = tree.currentIndex()
    assert (current.data(FUNCTION_ID_ROLE), current.data(STAGE_ROLE)) == (THREAT, int(Stage.ADVANCED))
    assert tree.isExpanded(tree_row(bench, THREAT)) and tree.isExpanded(tree_row(bench, THREAT).parent())
    assert not tree.isExpanded(tree_row(bench, "identity.authentication").parent())
    assert tree.verticalScrollBar().value() == scroll
    assert page.current_function_id == THREAT
    assert tree.selectionModel().isSelected(current)
