"""The evidence pane: listing, drag and drop, paste, previews, opening a copy, marks and read-only."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Engagement
from ztmm_desktop.services.evidence import Evidence, EvidenceDetails, EvidenceLink
from ztmm_desktop.ui.evidence import pane as evidence_pane
from ztmm_desktop.ui.evidence.dialogs import EvidenceDetailsDialog, EvidenceLinksDialog
from ztmm_desktop.ui.evidence.pane import (
    EVIDENCE_ID_ROLE,
    PROBLEM_ROLE,
    PROBLEM_TOOLTIP,
    EvidenceModel,
    EvidencePane,
    cleanup_opened_copies,
    open_externally,
)

pytestmark = pytest.mark.gui

AUTH = "identity.authentication"  # 1.1
STORES = "identity.identity_stores"  # 1.2


def png_file(path: Path, width: int = 64, height: int = 40, colour: str = "#2d7dd2") -> Path:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    assert image.save(str(path), "PNG")
    return path


def attach(engagement: Engagement, path: Path, *links: EvidenceLink, **fields: str) -> Evidence:
    return ev.attach(engagement, path, list(links), **fields).evidence  # type: ignore[arg-type]


def pane_for(qtbot: QtBot, engagement: Engagement, width: int = 1000, height: int = 720) -> EvidencePane:
    pane = EvidencePane(engagement)
    qtbot.addWidget(pane)
    pane.resize(width, height)
    pane.show()
    qtbot.waitExposed(pane)
    return pane


def listed(pane: EvidencePane) -> list[str]:
    model = pane.model
    return [model.index(row, EvidenceModel.TITLE).data() for row in range(model.rowCount())]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def clean_clipboard(qapp: QApplication) -> None:
    QGuiApplication.clipboard().clear()


# -- listing --------------------------------------------------------------------------------------


def test_lists_the_evidence_of_a_function_and_puts_the_stage_first(qtbot: QtBot, demo: Engagement, files: Path) -> None:
    shot = attach(demo, png_file(files / "ca.png"), EvidenceLink(AUTH, Stage.ADVANCED), title="CA policies")
    (files / "notes.txt").write_text("workshop notes\n")
    notes = attach(demo, files / "notes.txt", EvidenceLink(AUTH), title="Notes")
    (files / "policy.pdf").write_bytes(b"%PDF-1.7\n%fake\n")
    policy = attach(demo, files / "policy.pdf", EvidenceLink(STORES, Stage.INITIAL), EvidenceLink(AUTH, Stage.INITIAL))
    (files / "other.txt").write_text("elsewhere\n")
    attach(demo, files / "other.txt", EvidenceLink(STORES), title="Only 1.2")

    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)
    assert listed(pane) == ["CA policies", "Notes", "policy.pdf"]  # attach order
    assert not any(row.highlighted for row in pane.model.rows)

    pane.show_function(AUTH, Stage.ADVANCED)
    assert listed(pane) == ["CA policies", "Notes", "policy.pdf"]
    assert [row.highlighted for row in pane.model.rows] == [True, False, False]

    pane.show_function("1.1", Stage.INITIAL)  # a code works as well as an id
    assert listed(pane) == ["policy.pdf", "CA policies", "Notes"]
    assert [row.highlighted for row in pane.model.rows] == [True, False, False]
    assert "1 linked to Initial" in pane.summary_label.text()
    assert pane.current_target() == EvidenceLink(AUTH, Stage.INITIAL)

    model = pane.model
    first = model.index(0, 0)
    assert first.data(EVIDENCE_ID_ROLE) == policy.id
    assert model.index(0, EvidenceModel.LINKS).data() == "Initial, 1.2 Initial"
    assert model.index(0, EvidenceModel.SHA).data() == policy.sha256[:12]
    assert model.index(0, EvidenceModel.KIND).data() == "Document"
    assert "policy.pdf" in first.data(evidence_pane.SUBTITLE_ROLE)
    assert model.index(2, EvidenceModel.LINKS).data() == "Any stage"
    # the image has a thumbnail of its own, the others an icon by type
    assert isinstance(model.index(1, 0).data(Qt.ItemDataRole.DecorationRole), QPixmap)
    assert shot.sha256 in pane._thumbnails and pane._thumbnails[shot.sha256] is not None
    assert notes.sha256 not in pane._thumbnails

    pane.show_function(STORES, Stage.INITIAL)
    assert listed(pane) == ["policy.pdf", "Only 1.2"]

    pane.show_function("identity.risk_assessments")
    assert listed(pane) == []
    assert pane.list_stack.currentWidget() is pane.empty_panel
    assert "Drag files here" in pane.empty_label.text()


def test_painting_and_data_read_only_the_cache(
    qtbot: QtBot, demo: Engagement, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attach(demo, png_file(files / "a.png"), EvidenceLink(AUTH, Stage.INITIAL))
    (files / "b.csv").write_text("a,b\n1,2\n")
    attach(demo, files / "b.csv", EvidenceLink(AUTH))
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH, Stage.INITIAL)
    pane.set_problems({pane.model.rows[1].evidence.id})

    def no_reads(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the list read the engagement while painting")

    for name in ("list_evidence", "read_bytes", "get", "for_function"):
        monkeypatch.setattr(ev, name, no_reads)
    model = pane.model
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            for role in (*Qt.ItemDataRole, EVIDENCE_ID_ROLE, PROBLEM_ROLE):
                model.index(row, column).data(role)
    assert not pane.grab().isNull()


# -- attaching ---------------------------------------------------------------------------------------


def drag_and_drop(target: QWidget, paths: list[Path]) -> tuple[bool, bool]:
    """A real drag of ``paths`` entering ``target`` and dropped on it; (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    point = target.rect().center()
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False, False
    move = QDragMoveEvent(point, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(target, move)
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(target, drop)
    return True, drop.isAccepted()


def test_dropping_two_files_asks_to_attach_both_to_the_current_target(
    qtbot: QtBot, demo: Engagement, files: Path
) -> None:
    first = png_file(files / "screen one.png")
    second = files / "export.json"
    second.write_text("{}")
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH, Stage.OPTIMAL)
    with qtbot.waitSignal(pane.attachRequested, timeout=2000) as signal:
        entered, dropped = drag_and_drop(pane.view.viewport(), [first, second])  # onto the list, as a person would
    assert entered and dropped
    paths, target = signal.args
    assert paths == [first, second]
    assert target == EvidenceLink(AUTH, Stage.OPTIMAL)
    assert not pane.overlay.isVisible()
    assert not pane.notice.isVisible()

    pane.show_function(STORES)  # onto the preview text box too: it does not take the drop itself
    with qtbot.waitSignal(pane.attachRequested, timeout=2000) as signal:
        drag_and_drop(pane.text_view.viewport(), [second])
    assert signal.args == [[second], EvidenceLink(STORES, None)]


def test_a_dropped_folder_is_refused_with_a_message(qtbot: QtBot, demo: Engagement, files: Path) -> None:
    folder = files / "Screenshots"
    folder.mkdir()
    report = files / "report.txt"
    report.write_text("findings\n")
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)

    with qtbot.waitSignal(pane.attachRequested, timeout=2000) as signal:
        drag_and_drop(pane.view.viewport(), [folder, report])
    assert signal.args[0] == [report]  # the file goes ahead, the folder does not
    assert pane.notice.isVisible()
    assert "“Screenshots” is a folder" in pane.notice_label.text()

    pane.hide_notice()
    with qtbot.assertNotEmitted(pane.attachRequested):
        entered, _dropped = drag_and_drop(pane.view.viewport(), [folder])
    assert entered
    assert pane.notice.isVisible()
    assert "folder" in pane.notice_label.text()


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_a_symbolic_link_is_refused(qtbot: QtBot, demo: Engagement, files: Path) -> None:
    real = files / "real.txt"
    real.write_text("x")
    link = files / "link.txt"
    link.symlink_to(real)
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)
    with qtbot.assertNotEmitted(pane.attachRequested):
        assert pane.attach_paths([link]) == []
    assert "symbolic link" in pane.notice_label.text()


def test_attach_button_uses_the_file_dialog(
    qtbot: QtBot, demo: Engagement, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = files / "one.txt", files / "two.txt"
    one.write_text("1")
    two.write_text("2")
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(one), str(two)], "All files (*)"))
    )
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH, Stage.INITIAL)
    with qtbot.waitSignal(pane.attachRequested, timeout=2000) as signal:
        qtbot.mouseClick(pane.attach_button, Qt.MouseButton.LeftButton)
    assert signal.args == [[one, two], EvidenceLink(AUTH, Stage.INITIAL)]
    assert pane.last_folder == str(files)


def test_pasting_a_clipboard_image_asks_to_attach_it_as_png(qtbot: QtBot, demo: Engagement) -> None:
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH, Stage.INITIAL)
    assert not pane.paste_button.isEnabled()  # nothing to paste yet

    image = QImage(30, 20, QImage.Format.Format_RGB32)
    image.fill(QColor("#c8463d"))
    QGuiApplication.clipboard().setImage(image)
    qtbot.waitUntil(pane.paste_button.isEnabled, timeout=2000)

    # Ctrl+V is the window's (Edit → Paste screenshot as evidence): tests/ui/test_evidence_attach_ui.py.
    with qtbot.waitSignal(pane.pasteRequested, timeout=2000) as signal:
        qtbot.mouseClick(pane.paste_button, Qt.MouseButton.LeftButton)
    data, target = signal.args
    assert isinstance(data, bytes) and data.startswith(b"\x89PNG\r\n\x1a\n")
    pasted = QImage.fromData(data, "PNG")
    assert (pasted.width(), pasted.height()) == (30, 20)
    assert pasted.pixelColor(5, 5) == QColor("#c8463d")
    assert target == EvidenceLink(AUTH, Stage.INITIAL)


def test_pasting_without_an_image_says_so(qtbot: QtBot, demo: Engagement) -> None:
    QGuiApplication.clipboard().setText("just words")
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)
    with qtbot.assertNotEmitted(pane.pasteRequested):
        assert pane.paste() is False
    assert "no image" in pane.notice_label.text()


# -- previews -------------------------------------------------------------------------------------------


def test_text_preview_shows_markup_literally(qtbot: QtBot, demo: Engagement, files: Path) -> None:
    (files / "note.txt").write_text("<b>x</b> & <script>alert(1)</script>\n")
    note = attach(demo, files / "note.txt", EvidenceLink(AUTH), title="<i>title</i>")
    (files / "page.html").write_text('<html><body><h1>Hi</h1><img src="http://example.invalid/x.png"></body></html>')
    page = attach(demo, files / "page.html", EvidenceLink(AUTH))
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)

    assert pane.select(note.id)
    assert pane.preview_stack.currentWidget() is pane.text_view
    assert isinstance(pane.text_view, QPlainTextEdit) and pane.text_view.isReadOnly()
    assert pane.text_view.toPlainText() == "<b>x</b> & <script>alert(1)</script>\n"
    assert pane.preview_title.text() == "<i>title</i>"
    assert pane.preview_title.textFormat() == Qt.TextFormat.PlainText
    tooltip = pane.model.index(pane.model.row_of(note.id), 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "&lt;i&gt;title&lt;/i&gt;" in tooltip and "<i>" not in tooltip

    assert pane.select(page.id)
    assert pane.text_view.toPlainText().startswith("<html><body><h1>Hi</h1>")


def test_text_preview_shows_the_first_64_kb(qtbot: QtBot, demo: Engagement, files: Path) -> None:
    (files / "big.log").write_text("é" * 100_000)  # two bytes each: the cut falls inside a character
    big = attach(demo, files / "big.log", EvidenceLink(AUTH))
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)
    pane.select(big.id)
    text = pane.text_view.toPlainText()
    assert text == "é" * (64 * 1024 // 2)
    assert pane.preview_note.isVisible() and "first 64 KB" in pane.preview_note.text()


def test_image_preview_and_other_types(
    qtbot: QtBot, demo: Engagement, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shot = attach(demo, png_file(files / "shot.png", 300, 200), EvidenceLink(AUTH))
    (files / "policy.pdf").write_bytes(b"%PDF-1.7\n%fake\n")
    policy = attach(demo, files / "policy.pdf", EvidenceLink(AUTH))
    (files / "blob.bin").write_bytes(bytes(range(256)) * 4)
    blob = attach(demo, files / "blob.bin", EvidenceLink(AUTH))
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)

    pane.select(shot.id)
    assert pane.preview_stack.currentWidget() is pane.image_view
    image = pane.image_view.image()
    assert image is not None and (image.width(), image.height()) == (300, 200)
    assert "300 × 200" in pane.detail_labels["type"].text()
    assert pane.detail_labels["sha256"].text().replace("\n", "") == shot.sha256

    monkeypatch.setattr(evidence_pane, "pdf_preview_available", lambda: False)  # PySide6-Essentials
    pane.select(policy.id)
    assert pane.preview_stack.currentWidget() is pane.info_page
    assert pane.info_open_button.isEnabled()
    with qtbot.waitSignal(pane.openRequested, timeout=2000) as signal:
        qtbot.mouseClick(pane.info_open_button, Qt.MouseButton.LeftButton)
    assert signal.args == [policy.id]

    pane.select(blob.id)
    assert pane.preview_stack.currentWidget() is pane.info_page
    assert "No preview" in pane.info_message.text()


def test_pdf_evidence_previews_its_first_page(qtbot: QtBot, demo: Engagement, files: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(files / "policy.pdf"), pagesize=A4)
    for n in (1, 2):
        pdf.setFillColorRGB(0, 0, 0)
        pdf.rect(0, A4[1] / 2, A4[0], A4[1] / 2, fill=1)  # the top half of each page is black
        pdf.drawString(72, 72, f"page {n}")
        pdf.showPage()
    pdf.save()
    policy = attach(demo, files / "policy.pdf", EvidenceLink(AUTH))
    (files / "fake.pdf").write_bytes(b"%PDF-1.7\n%fake\n")
    fake = attach(demo, files / "fake.pdf", EvidenceLink(AUTH))
    assert evidence_pane.pdf_preview_available()
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)

    pane.select(policy.id)
    assert pane.preview_stack.currentWidget() is pane.image_view
    image = pane.image_view.image()
    assert image is not None and image.height() > image.width()  # an A4 page, upright
    assert QColor(image.pixel(image.width() // 2, image.height() // 4)).lightness() < 40  # drawn, not blank
    assert QColor(image.pixel(image.width() // 2, image.height() * 3 // 4)).lightness() > 200
    assert "Page 1 of 2" in pane.preview_note.text()

    pane.select(fake.id)
    assert pane.preview_stack.currentWidget() is pane.info_page
    assert "cannot be shown" in pane.info_message.text()


# -- opening a copy -----------------------------------------------------------------------------------------


@pytest.fixture
def opened_copies() -> object:
    yield
    cleanup_opened_copies()


@pytest.mark.parametrize("name", ["tool.hta", "setup.exe", "Report.PDF.exe", "macro.xlsm"])
def test_open_externally_asks_before_a_risky_type(
    demo: Engagement, files: Path, data_dir: Path, name: str, opened_copies: object
) -> None:
    (files / name).write_bytes(b"MZ not really a program")
    item = attach(demo, files / name, EvidenceLink(AUTH))
    asked: list[str] = []
    opened: list[QUrl] = []

    def refuse(message: str) -> bool:
        asked.append(message)
        return False

    assert open_externally(demo, item.id, ask=refuse, opener=lambda url: opened.append(url) or True) is None
    assert len(asked) == 1 and name in asked[0]
    assert opened == []
    assert evidence_pane._opened_folders == []  # refused: nothing was even written

    def agree(message: str) -> bool:
        asked.append(message)
        return True

    path = open_externally(demo, item.id, ask=agree, opener=lambda url: opened.append(url) or True)
    assert len(asked) == 2
    assert path is not None and opened == [QUrl.fromLocalFile(str(path))]
    assert path.read_bytes() == b"MZ not really a program"
    assert not path.is_relative_to(demo.path.parent) and not path.is_relative_to(data_dir)


def test_open_externally_opens_a_pdf_from_a_private_temp_copy(
    demo: Engagement, files: Path, data_dir: Path, opened_copies: object
) -> None:
    (files / "policy.pdf").write_bytes(b"%PDF-1.7\n%fake\n")
    item = attach(demo, files / "policy.pdf", EvidenceLink(AUTH))
    opened: list[QUrl] = []

    def never(message: str) -> bool:
        raise AssertionError(f"asked about a PDF: {message}")

    path = open_externally(demo, item.id, ask=never, opener=lambda url: opened.append(url) or True)
    assert path is not None and opened == [QUrl.fromLocalFile(str(path))]
    assert opened[0].isLocalFile() and Path(opened[0].toLocalFile()) == path
    assert path.name == "policy.pdf" and path.read_bytes() == b"%PDF-1.7\n%fake\n"
    assert not path.is_relative_to(demo.path.parent) and not path.is_relative_to(data_dir)
    assert path.parent != (files)
    if os.name == "posix":
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700  # private to this user
        assert not os.access(path, os.W_OK) or os.geteuid() == 0  # a read-only copy
    second = open_externally(demo, item.id, ask=never, opener=lambda url: True)
    assert second is not None and second.parent != path.parent  # a fresh folder each time
    cleanup_opened_copies()
    assert not path.exists() and not path.parent.exists()


def test_open_externally_reports_when_nothing_opens_the_file(
    demo: Engagement, files: Path, opened_copies: object
) -> None:
    (files / "data.xyz").write_bytes(b"?")
    item = attach(demo, files / "data.xyz", EvidenceLink(AUTH))
    from ztmm_desktop.core.errors import ZtmmError

    with pytest.raises(ZtmmError, match="no application"):
        open_externally(demo, item.id, ask=lambda _m: True, opener=lambda _url: False)


# -- marks, read-only and requests ---------------------------------------------------------------------------------


def test_set_problems_marks_the_item(qtbot: QtBot, demo: Engagement, files: Path) -> None:
    good = attach(demo, png_file(files / "good.png"), EvidenceLink(AUTH))
    (files / "bad.txt").write_text("changed")
    bad = attach(demo, files / "bad.txt", EvidenceLink(AUTH))
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)
    model = pane.model
    bad_index = model.index(model.row_of(bad.id), 0)
    plain_icon = bad_index.data(Qt.ItemDataRole.DecorationRole).toImage()

    pane.set_problems({bad.id})
    assert bad_index.data(PROBLEM_ROLE) is True
    assert model.index(model.row_of(good.id), 0).data(PROBLEM_ROLE) is False
    for column in range(model.columnCount()):
        assert PROBLEM_TOOLTIP in model.index(bad_index.row(), column).data(Qt.ItemDataRole.ToolTipRole)
    assert PROBLEM_TOOLTIP not in model.index(model.row_of(good.id), 0).data(Qt.ItemDataRole.ToolTipRole)
    marked = bad_index.data(Qt.ItemDataRole.DecorationRole).toImage()
    assert marked != plain_icon
    corner = marked.pixelColor(marked.width() - 16, marked.height() - 10)  # inside the badge, beside its "!"
    assert corner.red() > 150 and corner.green() < 120  # the red badge

    pane.select(bad.id)
    assert pane.problem_banner.isVisible()
    pane.refresh()  # the mark survives a refresh
    assert pane.model.index(pane.model.row_of(bad.id), 0).data(PROBLEM_ROLE) is True
    pane.set_problems(set())
    assert not pane.problem_banner.isVisible()
    assert pane.model.index(pane.model.row_of(bad.id), 0).data(PROBLEM_ROLE) is False


def test_read_only_disables_attach_edit_and_remove(qtbot: QtBot, demo: Engagement, files: Path) -> None:
    (files / "a.txt").write_text("a")
    item = attach(demo, files / "a.txt", EvidenceLink(AUTH))
    QGuiApplication.clipboard().setImage(QImage(4, 4, QImage.Format.Format_RGB32))
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)
    pane.select(item.id)
    assert all(
        b.isEnabled()
        for b in (pane.attach_button, pane.paste_button, pane.edit_button, pane.links_button, pane.remove_button)
    )

    pane.set_read_only(True)
    for button in (pane.attach_button, pane.paste_button, pane.edit_button, pane.links_button, pane.remove_button):
        assert not button.isEnabled(), button.objectName()
    for action in (pane.edit_action, pane.links_action, pane.remove_action):
        assert not action.isEnabled()
    assert pane.open_button.isEnabled() and pane.extract_button.isEnabled()  # reading still works
    with qtbot.assertNotEmitted(pane.attachRequested), qtbot.assertNotEmitted(pane.pasteRequested):
        entered, _ = drag_and_drop(pane.view.viewport(), [files / "a.txt"])
        assert not entered
        assert pane.paste() is False
        assert pane.attach_paths([files / "a.txt"]) == []
    with qtbot.assertNotEmitted(pane.removeRequested), qtbot.assertNotEmitted(pane.detailsRequested):
        pane.remove_selected()
        pane.edit_details()
    assert "read-only" in pane.summary_label.text()

    pane.set_read_only(False)
    assert pane.attach_button.isEnabled() and pane.remove_button.isEnabled()


def test_details_links_remove_open_and_extract_become_requests(
    qtbot: QtBot, demo: Engagement, files: Path, dialogs: DialogAnswerer
) -> None:
    (files / "a.txt").write_text("a")
    item = attach(demo, files / "a.txt", EvidenceLink(AUTH, Stage.INITIAL), title="Old title")
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)
    pane.select(item.id)

    def edit(dialog: QWidget) -> None:
        assert isinstance(dialog, EvidenceDetailsDialog)
        dialog.title_edit.setText("  New title ")
        dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("configuration-export"))
        dialog.description_edit.setPlainText("From the tenant")
        dialog.accept()

    dialogs.then(edit)
    with qtbot.waitSignal(pane.detailsRequested, timeout=3000) as signal:
        qtbot.mouseClick(pane.edit_button, Qt.MouseButton.LeftButton)
    assert signal.args == [item.id, EvidenceDetails("New title", "From the tenant", "configuration-export")]

    def relink(dialog: QWidget) -> None:
        assert isinstance(dialog, EvidenceLinksDialog)
        assert dialog.function_combo.currentData() == AUTH  # starts at the shown function
        dialog.list_widget.setCurrentRow(0)
        dialog.remove_selected()
        assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()  # at least one link
        dialog.function_combo.setCurrentIndex(dialog.function_combo.findData(STORES))
        dialog.stage_combo.setCurrentIndex(dialog.stage_combo.findData("optimal"))
        dialog.add_button.click()
        dialog.function_combo.setCurrentIndex(dialog.function_combo.findData(AUTH))
        dialog.stage_combo.setCurrentIndex(0)  # any stage
        dialog.add_button.click()
        dialog.add_button.click()  # listed once
        assert dialog.list_widget.count() == 2
        dialog.accept()

    dialogs.then(relink)
    with qtbot.waitSignal(pane.linksRequested, timeout=3000) as signal:
        qtbot.mouseClick(pane.links_button, Qt.MouseButton.LeftButton)
    assert signal.args == [item.id, [EvidenceLink(STORES, Stage.OPTIMAL), EvidenceLink(AUTH, None)]]

    dialogs.then(lambda dialog: dialog.reject())  # cancelled: nothing asked
    with qtbot.assertNotEmitted(pane.detailsRequested):
        pane.edit_details()
        qtbot.waitUntil(lambda: dialogs.done)

    dialogs.click("Remove")
    with qtbot.waitSignal(pane.removeRequested, timeout=3000) as signal:
        qtbot.mouseClick(pane.remove_button, Qt.MouseButton.LeftButton)
    assert signal.args == [item.id]
    assert dialogs.seen[-1] == "Remove the evidence “Old title”?"

    row = pane.view.visualRect(pane.model.index(0, 0)).center()
    with qtbot.waitSignal(pane.openRequested, timeout=2000) as signal:
        qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=row)
        qtbot.mouseDClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=row)
    assert signal.args == [item.id]
    with qtbot.waitSignal(pane.extractRequested, timeout=2000) as signal:
        qtbot.mouseClick(pane.extract_button, Qt.MouseButton.LeftButton)
    assert signal.args == [item.id]


def test_refresh_keeps_the_selection_and_set_engagement_keeps_the_function(
    qtbot: QtBot, demo: Engagement, files: Path
) -> None:
    (files / "a.txt").write_text("a")
    (files / "b.txt").write_text("b")
    attach(demo, files / "a.txt", EvidenceLink(AUTH))
    second = attach(demo, files / "b.txt", EvidenceLink(AUTH))
    pane = pane_for(qtbot, demo)
    pane.show_function(AUTH)
    pane.select(second.id)
    ev.update_details(demo, second.id, EvidenceDetails("Renamed", "", "other"))
    pane.refresh()
    assert pane.selected_id() == second.id
    assert pane.preview_title.text() == "Renamed"

    ev.remove(demo, second.id)
    pane.refresh()
    assert pane.selected_id() is None
    assert pane.preview_stack.currentWidget() is pane.nothing_label

    pane.set_engagement(demo)
    assert pane.function_id == AUTH and listed(pane) == ["a.txt"]


def test_details_dialog_needs_a_title_and_shows_the_file_name_as_text(qtbot: QtBot) -> None:
    dialog = EvidenceDetailsDialog(None, details=EvidenceDetails("", "", "document"), file_label="<b>f</b>")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()  # a title is required
    dialog.title_edit.setText("t")
    assert ok.isEnabled()
    heading = dialog.findChild(QLabel, "evidenceDialogHeading")
    assert heading is not None and heading.text() == "<b>f</b>"
    assert heading.textFormat() == Qt.TextFormat.PlainText


def test_text_decoding_and_sizes() -> None:
    assert evidence_pane.decode_text("Łódź".encode("utf-16-le").join([b"\xff\xfe", b""])) == "Łódź"
    assert evidence_pane.decode_text("café".encode("cp1252")) == "café"
    assert evidence_pane.decode_text("café".encode(), truncated=True) == "café"
    assert evidence_pane.decode_text("café".encode()[:-1], truncated=True) == "caf"  # cut inside the é
    assert evidence_pane.decode_text(b"a\x00b") == "a\ufffdb"
    assert evidence_pane.decode_text("Łódź ".encode() + b"\xff") == "Łódź \ufffd"  # one stray byte in UTF-8
    assert evidence_pane.human_size(1) == "1 byte"
    assert evidence_pane.human_size(64 * 1024) == "64 KB"
    assert evidence_pane.human_size(int(1.25 * 1024 * 1024)) == "1.2 MB"
    assert evidence_pane.is_risky("Report.pdf.EXE") and evidence_pane.is_risky("run.exe. . ")
    assert evidence_pane.is_risky("C:\\Users\\x\\page.htm") and not evidence_pane.is_risky("policy.pdf")
