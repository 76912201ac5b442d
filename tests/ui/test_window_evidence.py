"""Evidence in the window: attach off the UI thread, undo, paste a screenshot, verify marks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from tests.ui.test_evidence_attach_ui import enter_accepts
from tests.ui.test_evidence_pane import drag_and_drop
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.ui.evidence.pane import EVIDENCE_ID_ROLE, PROBLEM_ROLE
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def opened(window: MainWindow, tmp_path: Path) -> Path:
    path = tmp_path / "evidence.ztmm"
    create_engagement(path, Properties(client="Evidence Window Ltd")).close()
    assert window.open_path(path)
    assert window.workbench is not None
    window.workbench.select_function("1.4", Stage.ADVANCED)
    window.show_tab(1)
    return path


def test_dropped_files_are_attached_in_the_background_and_undo_as_one_step(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path
) -> None:
    files = []
    for name, data in (("pim-roles.csv", b"role,eligible\nGlobal admin,yes\n"), ("review.txt", b"quarterly")):
        f = tmp_path / name
        f.write_bytes(data)
        files.append(f)
    bench = window.workbench
    assert bench is not None
    pane = bench.evidence
    dialogs.then(enter_accepts(qtbot))  # title, kind and stage: as proposed
    assert drag_and_drop(pane.view.viewport(), files) == (True, True)
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=10_000)
    assert window.undo_stack.undoText() == "Attach pim-roles.csv, review.txt"
    engagement = window.engagement
    assert engagement is not None
    items = ev.list_evidence(engagement)
    assert [e.original_name for e in items] == ["pim-roles.csv", "review.txt"]
    assert items[0].links[0].function_id == "identity.access_management"
    assert items[0].links[0].stage is Stage.ADVANCED
    assert window.isWindowModified()
    window.undo_stack.undo()
    assert ev.list_evidence(engagement) == []
    window.undo_stack.redo()
    assert len(ev.list_evidence(engagement)) == 2
    assert window.save_now()
    window.close_engagement()
    with open_engagement(opened, readonly=True) as saved:
        assert ev.verify(saved) == [] and len(ev.list_evidence(saved)) == 2


def test_a_pasted_screenshot_becomes_screenshot_evidence(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path
) -> None:
    from PySide6.QtGui import QColor, QImage

    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("#2a6ebb"))
    QApplication.clipboard().setImage(image)
    assert window.workbench is not None
    dialogs.then(enter_accepts(qtbot))
    assert window.workbench.evidence.paste()
    engagement = window.engagement
    assert engagement is not None
    (item,) = ev.list_evidence(engagement)
    assert (item.kind, item.media_type) == ("screenshot", "image/png")
    assert item.original_name.startswith("Screenshot ") and item.original_name.endswith(".png")


def test_verify_from_the_tools_menu_marks_altered_evidence(window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer,
                                                           opened: Path, tmp_path: Path) -> None:  # fmt: skip
    engagement = window.engagement
    assert engagement is not None
    source = tmp_path / "config.json"
    source.write_text('{"mfa": "required"}')
    window.attach_files([source], ev.parse_link(engagement, "1.4/advanced"))
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=10_000)
    (item,) = ev.list_evidence(engagement)
    conn = sqlite3.connect(engagement.document.working)
    conn.execute('UPDATE blob_chunk SET data = CAST(\'{"mfa": "optional"}\' AS BLOB)')
    conn.commit()
    conn.close()
    dialogs.click("OK")
    window.verify_action.trigger()
    qtbot.waitUntil(lambda: bool(dialogs.seen), timeout=10_000)
    assert "1 evidence file fails verification" in dialogs.seen[0]
    assert "config.json" in dialogs.seen[0] and "bytes changed" in dialogs.seen[0]
    assert window.workbench is not None
    model = window.workbench.evidence.model
    (row,) = [r for r in range(model.rowCount()) if model.index(r, 0).data(EVIDENCE_ID_ROLE) == item.id]
    assert model.index(row, 0).data(PROBLEM_ROLE)


def test_files_dropped_on_a_tree_stage_are_attached_to_that_stage(window: MainWindow, qtbot: QtBot, opened: Path,
                                                                  dialogs: DialogAnswerer, tmp_path: Path) -> None:  # fmt: skip
    report = tmp_path / "segmentation-review.txt"
    report.write_text("VLAN map reviewed")
    bench = window.workbench
    assert bench is not None
    tree = bench.panel.tree
    bench.select_function("3.1", Stage.INITIAL)
    index = tree.currentIndex()
    tree.scrollTo(index)
    viewport = tree.viewport()
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(report))])
    point = tree.visualRect(index).center()
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, buttons, modifiers))
    move = QDragMoveEvent(point, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    proposed: list[dict[str, object]] = []
    dialogs.then(enter_accepts(qtbot, proposed))
    QApplication.sendEvent(viewport, QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, buttons, modifiers))
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=10_000)
    engagement = window.engagement
    assert engagement is not None
    (item,) = ev.list_evidence(engagement)
    assert (item.links[0].function_id, item.links[0].stage) == ("networks.network_segmentation", Stage.INITIAL)
    assert proposed[0]["stage"] is Stage.INITIAL and item.kind == "document"  # a .txt: guessed, then accepted


def test_evidence_pack_from_the_tools_menu(window: MainWindow, qtbot: QtBot, opened: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import zipfile

    from tests.ui.conftest import no_file_dialog

    source = tmp_path / "policy.txt"
    source.write_text("Access policy v3")
    engagement = window.engagement
    assert engagement is not None
    window.attach_files([source], ev.parse_link(engagement, "1.4"))
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=10_000)
    pack = tmp_path / "handover.zip"
    no_file_dialog(monkeypatch, pack)
    window.pack_action.trigger()
    qtbot.waitUntil(lambda: pack.exists() and not window.tasks.busy, timeout=10_000)
    with zipfile.ZipFile(pack) as archive:
        names = archive.namelist()
    assert "manifest.csv" in names and any(n.endswith("-policy.txt") for n in names)
