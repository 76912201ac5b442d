"""Evidence where the consultant works: attach from the function page, paste from the tree, one small dialog.

Every way of attaching (file dialog, drop, paste) asks title, kind (guessed) and
stage in one dialog that Enter accepts; the same bytes a second time ask first;
the tree marks functions with evidence and filters those without.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from tests.ui.test_evidence_pane import drag_and_drop
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.ui.evidence import pane as evidence_pane
from ztmm_desktop.ui.evidence.dialogs import AttachDialog
from ztmm_desktop.ui.shell.main_window import MainWindow
from ztmm_desktop.ui.tree.model import EVIDENCE_COLUMN, EVIDENCE_COUNT_ROLE

pytestmark = pytest.mark.gui

ACCESS = "identity.access_management"  # 1.4


def enter_accepts(qtbot: QtBot, seen: list[dict[str, object]] | None = None) -> Callable[[QWidget], None]:
    """Answer the attach dialog with Enter alone (noting what it proposed first)."""

    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, AttachDialog), f"expected the attach dialog, got {dialog!r}"
        if seen is not None:
            seen.append(
                {
                    "files": [row.name for row in dialog.rows],
                    "titles": [edit.text() for edit in dialog.title_edits],
                    "kinds": [combo.currentData() for combo in dialog.kind_combos],
                    "stage": dialog.stage_combo.currentData(),
                    "focus": dialog.focusWidget() is dialog.title_edits[0],
                }
            )
        qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)  # keys go to the dialog, as they would for a person
        qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Return)

    return answer


def png_bytes(colour: str = "#2a6ebb", size: tuple[int, int] = (40, 30)) -> QImage:
    image = QImage(*size, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    return image


@pytest.fixture
def opened(window: MainWindow, tmp_path: Path) -> Path:
    path = tmp_path / "attach.ztmm"
    create_engagement(path, Properties(client="Attach Window Ltd")).close()
    assert window.open_path(path)
    assert window.workbench is not None
    return path


def test_attach_from_the_function_page_asks_title_kind_and_stage_and_enter_accepts(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    shot = tmp_path / "conditional-access.png"
    assert png_bytes().save(str(shot), "PNG")
    bench = window.workbench
    assert bench is not None
    bench.select_function("1.4", Stage.ADVANCED)  # the stage in view
    window.show_tab(0)
    section = bench.page.evidence_section
    assert section.empty.isVisible() and not section.list.isVisible()
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(shot)], "")))
    proposed: list[dict[str, object]] = []
    dialogs.then(enter_accepts(qtbot, proposed))
    qtbot.mouseClick(section.attach_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=10_000)
    assert proposed == [
        {
            "files": ["conditional-access.png"],
            "titles": ["conditional-access"],
            "kinds": ["screenshot"],  # guessed from the type; it used to be "document"
            "stage": Stage.ADVANCED,
            "focus": True,
        }
    ]
    engagement = window.engagement
    assert engagement is not None
    (item,) = ev.list_evidence(engagement)
    assert (item.title, item.kind, item.media_type) == ("conditional-access", "screenshot", "image/png")
    assert item.links == (ev.EvidenceLink(ACCESS, Stage.ADVANCED),)

    # The page lists it: title, kind, stage, size.
    assert section.list.isVisible() and not section.empty.isVisible()
    row = section.list.topLevelItem(0)
    assert row is not None
    assert [row.text(c) for c in range(4)] == ["conditional-access", "Screenshot", "Advanced", f"{item.size} bytes"]
    assert section.count_label.text() == "1 item"

    # Double-click opens a copy through the window's open path (the system's opener is stubbed where it
    # lives: the window imports it when it opens something).
    opened_ids: list[str] = []
    monkeypatch.setattr(
        evidence_pane, "open_externally", lambda _engagement, evidence_id, ask: opened_ids.append(evidence_id)
    )
    rect = section.list.visualItemRect(row)
    qtbot.mouseClick(section.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(section.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened_ids == [item.id]

    # The file holds it once saved.
    assert window.save_now()
    window.close_engagement()
    with open_engagement(opened, readonly=True) as saved:
        (kept,) = ev.list_evidence(saved)
        assert (kept.title, kept.kind, kept.links) == (item.title, "screenshot", item.links)
        assert ev.verify(saved) == []


def test_ctrl_v_in_the_tree_attaches_the_clipboard_image_to_the_selected_stage(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path
) -> None:
    bench = window.workbench
    assert bench is not None
    bench.select_function("1.4", Stage.INITIAL)
    tree = bench.panel.tree
    tree.setFocus()
    QApplication.clipboard().setImage(png_bytes())
    proposed: list[dict[str, object]] = []
    dialogs.then(enter_accepts(qtbot, proposed))
    qtbot.keyClick(tree, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert dialogs.done
    assert proposed[0]["kinds"] == ["screenshot"] and proposed[0]["stage"] is Stage.INITIAL
    assert str(proposed[0]["titles"][0]).startswith("Screenshot ")  # type: ignore[index]
    engagement = window.engagement
    assert engagement is not None
    (item,) = ev.list_evidence(engagement)
    assert (item.kind, item.media_type, item.links) == (
        "screenshot",
        "image/png",
        (ev.EvidenceLink(ACCESS, Stage.INITIAL),),
    )
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert ev.list_evidence(engagement) == []


def test_the_same_image_pasted_twice_asks_first(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path
) -> None:
    bench = window.workbench
    assert bench is not None
    engagement = window.engagement
    assert engagement is not None
    tree = bench.panel.tree
    QApplication.clipboard().setImage(png_bytes("#c8463d"))

    def paste_on(stage: Stage) -> None:
        window.activateWindow()  # back from the last dialog (a window manager does this; offscreen has none)
        qtbot.waitUntil(window.isActiveWindow, timeout=3000)
        bench.select_function("1.4", stage)
        tree.setFocus()
        qtbot.keyClick(tree, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)

    dialogs.then(enter_accepts(qtbot))
    paste_on(Stage.INITIAL)
    (first,) = ev.list_evidence(engagement)

    # Again, on another stage: asked; "Link the existing item" adds a link, not a record.
    dialogs.click("Link the existing item")
    paste_on(Stage.ADVANCED)
    assert dialogs.seen[-1] == f"This image is already attached as “{first.title}” to 1.4 Initial."
    (linked,) = ev.list_evidence(engagement)
    assert linked.id == first.id
    assert linked.links == (ev.EvidenceLink(ACCESS, Stage.INITIAL), ev.EvidenceLink(ACCESS, Stage.ADVANCED))
    assert window.undo_stack.count() == 2  # the link is an undo step of its own

    # Again: Cancel changes nothing.
    dialogs.click("Cancel")
    paste_on(Stage.OPTIMAL)
    assert "already attached" in dialogs.seen[-1] and "1.4 Initial, 1.4 Advanced" in dialogs.seen[-1]
    assert len(ev.list_evidence(engagement)) == 1

    # Again, where it is already linked: no link to offer; "Attach again" makes a second record on purpose.
    def no_link_offered(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        texts = [b.text() for b in box.buttons()]
        assert "Link the existing item" not in texts and "Attach again" in texts
        assert "already supports 1.4 Advanced" in box.informativeText()
        next(b for b in box.buttons() if b.text() == "Attach again").click()

    dialogs.then(no_link_offered).then(enter_accepts(qtbot))
    paste_on(Stage.ADVANCED)
    assert len(ev.list_evidence(engagement)) == 2


def test_a_file_with_bytes_already_attached_asks_before_a_second_record(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path
) -> None:
    engagement = window.engagement
    bench = window.workbench
    assert engagement is not None and bench is not None
    original = tmp_path / "pim-roles.csv"
    original.write_text("role,eligible\nGlobal admin,yes\n")
    window.attach_files([original], ev.parse_link(engagement, "1.4/initial"))
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=10_000)
    copy = tmp_path / "pim-roles (copy).csv"
    copy.write_bytes(original.read_bytes())
    bench.select_function("1.4", Stage.INITIAL)
    window.show_tab(1)
    dialogs.click("Cancel")
    assert drag_and_drop(bench.evidence.view.viewport(), [copy]) == (True, True)
    qtbot.waitUntil(lambda: dialogs.done, timeout=10_000)
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=10_000)
    assert dialogs.seen[-1] == "“pim-roles (copy).csv” is already attached as “pim-roles.csv” to 1.4 Initial."
    assert len(ev.list_evidence(engagement)) == 1 and window.undo_stack.count() == 1


def test_several_files_dropped_on_the_page_get_one_dialog_with_a_row_each(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "intune.png"
    assert png_bytes("#7b57c2").save(str(shot), "PNG")
    export = tmp_path / "compliance.csv"
    export.write_text("device,compliant\nlaptop-7,yes\n")
    policy = tmp_path / "Device policy.pdf"
    policy.write_bytes(b"%PDF-1.7\nsome policy\n")
    bench = window.workbench
    engagement = window.engagement
    assert bench is not None and engagement is not None
    function = engagement.catalog.function("2.3")
    bench.select_function("2.3")  # a function row: no stage in view
    window.show_tab(0)
    proposed: list[dict[str, object]] = []

    def retitle_then_enter(dialog: QWidget) -> None:
        assert isinstance(dialog, AttachDialog)
        second = dialog.title_edits[1]
        second.selectAll()
        qtbot.keyClicks(second, "Compliance export")
        second.setFocus()
        enter_accepts(qtbot, proposed)(dialog)

    dialogs.then(retitle_then_enter)
    section = bench.page.evidence_section
    assert drag_and_drop(section.empty, [shot, export, policy]) == (True, True)  # onto the empty drop zone
    qtbot.waitUntil(lambda: window.undo_stack.count() == 1, timeout=10_000)
    assert proposed[0]["files"] == ["intune.png", "compliance.csv", "Device policy.pdf"]
    assert proposed[0]["kinds"] == ["screenshot", "configuration-export", "document"]
    assert proposed[0]["stage"] is None  # the whole function
    items = ev.list_evidence(engagement)
    assert [(e.title, e.kind) for e in items] == [
        ("intune", "screenshot"),
        ("Compliance export", "configuration-export"),
        ("Device policy", "document"),
    ]
    assert {e.links for e in items} == {(ev.EvidenceLink(function.id, None),)}
    assert window.undo_stack.undoText() == "Attach intune.png, compliance.csv, Device policy.pdf"
    assert [section.list.topLevelItem(r).text(2) for r in range(3)] == ["Whole function"] * 3  # type: ignore[union-attr]


def test_a_blank_title_keeps_the_dialog_open_with_a_message(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path
) -> None:
    bench = window.workbench
    assert bench is not None
    bench.select_function("1.4", Stage.INITIAL)
    bench.panel.tree.setFocus()
    QApplication.clipboard().setImage(png_bytes())

    def blank_then_cancel(dialog: QWidget) -> None:
        assert isinstance(dialog, AttachDialog)
        dialog.title_edits[0].clear()
        qtbot.keyClick(dialog.title_edits[0], Qt.Key.Key_Return)
        assert dialog.isVisible() and dialog.message.isVisible()
        assert dialog.message.text() == "Each file needs a title."
        qtbot.keyClick(dialog.title_edits[0], Qt.Key.Key_Escape)

    dialogs.then(blank_then_cancel)
    qtbot.keyClick(bench.panel.tree, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    engagement = window.engagement
    assert engagement is not None
    assert ev.list_evidence(engagement) == [] and window.undo_stack.count() == 0


def test_ctrl_v_in_a_text_box_pastes_text_not_evidence(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path
) -> None:
    bench = window.workbench
    assert bench is not None
    bench.select_function("1.4")
    window.show_tab(0)
    mime = QMimeData()
    mime.setText("Identity team")
    mime.setImageData(png_bytes())
    QApplication.clipboard().setMimeData(mime)
    owner = bench.page.owner_edit
    owner.setFocus()
    qtbot.keyClick(owner, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert owner.text() == "Identity team"
    notes = bench.page.notes_edit
    notes.setFocus()
    qtbot.keyClick(notes, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert notes.toPlainText() == "Identity team"
    engagement = window.engagement
    assert engagement is not None
    assert ev.list_evidence(engagement) == []  # and no attach dialog (the dialogs fixture fails on one)


def test_ctrl_v_on_the_empty_evidence_drop_zone_attaches(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path
) -> None:
    bench = window.workbench
    assert bench is not None
    bench.select_function("1.4", Stage.OPTIMAL)
    window.show_tab(1)
    pane = bench.evidence
    assert pane.list_stack.currentWidget() is pane.empty_panel
    qtbot.mouseClick(pane.empty_panel, Qt.MouseButton.LeftButton)
    QApplication.clipboard().setImage(png_bytes("#2f8a52"))
    proposed: list[dict[str, object]] = []
    dialogs.then(enter_accepts(qtbot, proposed))
    qtbot.keyClick(pane.empty_panel, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert proposed[0]["stage"] is Stage.OPTIMAL
    engagement = window.engagement
    assert engagement is not None
    (item,) = ev.list_evidence(engagement)
    assert item.links == (ev.EvidenceLink(ACCESS, Stage.OPTIMAL),)
    assert pane.list_stack.currentWidget() is pane.view and pane.model.rowCount() == 1


def test_ctrl_v_with_nothing_to_paste_says_so(window: MainWindow, qtbot: QtBot, opened: Path) -> None:
    bench = window.workbench
    assert bench is not None
    bench.select_function("1.4")
    bench.panel.tree.setFocus()
    QApplication.clipboard().setText("just words")
    qtbot.keyClick(bench.panel.tree, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert "no image or file to attach" in window.statusBar().currentMessage()


def test_the_tree_marks_evidence_and_filters_functions_without_it(
    window: MainWindow, qtbot: QtBot, opened: Path, tmp_path: Path
) -> None:
    bench = window.workbench
    engagement = window.engagement
    assert bench is not None and engagement is not None
    panel = bench.panel
    row = panel.quick.findText("Without evidence")
    assert row > 0
    panel.quick.setCurrentIndex(row)
    proxy = bench.proxy

    def shown(function_id: str) -> bool:
        return proxy.mapFromSource(bench.model.index_for_function(function_id)).isValid()

    assert shown(ACCESS)  # nothing attached yet: every function is without evidence
    for stage in (Stage.INITIAL, Stage.ADVANCED):
        source = tmp_path / f"access-review-{stage.key}.txt"
        source.write_text(f"{stage.label} review done")
        window.attach_files([source], ev.parse_link(engagement, f"1.4/{stage.key}"))
        qtbot.waitUntil(lambda n=stage: window.undo_stack.count() == int(n), timeout=10_000)
    assert not shown(ACCESS) and shown(engagement.catalog.function("1.1").id)

    panel.quick.setCurrentIndex(0)  # all functions: the mark
    function = bench.model.index_for_function(ACCESS)
    cell = function.siblingAtColumn(EVIDENCE_COLUMN)
    assert cell.data() == "2"
    assert cell.data(Qt.ItemDataRole.ToolTipRole) == "2 evidence items"
    assert cell.data(Qt.ItemDataRole.AccessibleTextRole) == "2 evidence items"
    assert cell.data(Qt.ItemDataRole.DecorationRole) is not None  # the paper clip
    initial = bench.model.index_for_stage(ACCESS, Stage.INITIAL).siblingAtColumn(EVIDENCE_COLUMN)
    assert (initial.data(), initial.data(Qt.ItemDataRole.ToolTipRole)) == ("1", "1 evidence item")
    optimal = bench.model.index_for_stage(ACCESS, Stage.OPTIMAL).siblingAtColumn(EVIDENCE_COLUMN)
    assert (optimal.data(), optimal.data(EVIDENCE_COUNT_ROLE)) == ("", 0)
    assert optimal.data(Qt.ItemDataRole.DecorationRole) is None
    other = bench.model.index_for_function("1.1").siblingAtColumn(EVIDENCE_COLUMN)
    assert other.data(Qt.ItemDataRole.ToolTipRole) == "No evidence yet"

    window.undo_stack.undo()
    window.undo_stack.undo()
    assert bench.model.index_for_function(ACCESS).siblingAtColumn(EVIDENCE_COLUMN).data() == ""


def test_a_folder_dropped_on_the_tree_is_refused_with_a_message(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    bench = window.workbench
    assert bench is not None
    bench.select_function("1.4", Stage.INITIAL)
    tree = bench.panel.tree
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    point = tree.visualRect(tree.currentIndex()).center()
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    viewport = tree.viewport()
    QApplication.sendEvent(viewport, QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, buttons, modifiers))
    QApplication.sendEvent(viewport, QDragMoveEvent(point, Qt.DropAction.CopyAction, mime, buttons, modifiers))
    dialogs.click("OK")
    QApplication.sendEvent(viewport, QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, buttons, modifiers))
    assert dialogs.seen == ["Not attached: “screenshots” is a folder; attach the files in it."]
    engagement = window.engagement
    assert engagement is not None and ev.list_evidence(engagement) == []


def test_pasting_into_a_read_only_engagement_says_so(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path
) -> None:
    window.close_engagement()
    assert window.open_path(opened, read_only=True)
    bench = window.workbench
    assert bench is not None
    bench.select_function("1.4", Stage.INITIAL)
    bench.panel.tree.setFocus()
    QApplication.clipboard().setImage(png_bytes())
    qtbot.keyClick(bench.panel.tree, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.statusBar().currentMessage() == "This engagement is open read-only; nothing was attached."
    assert not bench.page.evidence_section.attach_button.isEnabled()
