"""Freezing a baseline (a rebuilt tree) keeps the tree's open rows and the selection, and the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QInputDialog, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.ui.main_window import MainWindow, Workbench
from ztmm_desktop.ui.tree_model import FUNCTION_ID_ROLE, STAGE_ROLE

pytestmark = pytest.mark.gui

THREAT = "devices.device_threat_protection"  # 2.4


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


def name_it(name: str):  # type: ignore[no-untyped-def]
    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue(name)
        dialog.accept()

    return answer


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
