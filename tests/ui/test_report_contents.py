"""The consultant's own words, document control and layout, written in the window; and who the assessor is."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer, no_file_dialog
from ztmm_desktop.services import register
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.services.identity import read_preference
from ztmm_desktop.services.logo import read_consultancy_logo
from ztmm_desktop.ui.shell.main_window import MainWindow, start


def _ok(dialog: QWidget) -> None:
    next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "OK").click()


def _child(dialog: QWidget, kind: type, name: str):  # type: ignore[no-untyped-def]
    found = dialog.findChild(kind, name)
    assert found is not None, name
    return found


def _add_row(dialog: QWidget, table_name: str, values: list[str]) -> None:
    _child(dialog, QPushButton, f"{table_name}Add").click()
    table: QTableWidget = _child(dialog, QTableWidget, table_name)
    row = table.rowCount() - 1
    for column, value in enumerate(values):
        table.setItem(row, column, QTableWidgetItem(value))


@pytest.fixture
def engagement_path(tmp_path: Path) -> Path:
    path = tmp_path / "words.ztmm"
    create_engagement(path, Properties(client="Words Ltd")).close()
    return path


def test_sections_and_document_control_are_written_in_one_undo_step(
    window: MainWindow, dialogs: DialogAnswerer, engagement_path: Path, qtbot: QtBot
) -> None:
    assert window.open_path(engagement_path)
    engagement = window.engagement
    assert engagement is not None

    def write(dialog: QWidget) -> None:
        listing: QListWidget = _child(dialog, QListWidget, "sectionList")
        assert listing.item(0).text().startswith("○")  # nothing written yet
        summary: QPlainTextEdit = _child(dialog, QPlainTextEdit, "section-executive_summary")
        summary.setFocus()
        qtbot.keyClicks(summary, "Identity is ahead; networks lag.")
        assert listing.item(0).text().startswith("●")
        listing.setCurrentRow(1)
        messages: QPlainTextEdit = _child(dialog, QPlainTextEdit, "section-key_messages")
        assert messages.isVisible()
        messages.setPlainText("- Fund phishing-resistant MFA\n- Segment the flat network")
        _child(dialog, QLineEdit, "consultancy").setText("Example Advisory LLP")
        _child(dialog, QLineEdit, "reportVersion").setText("1.1")
        _add_row(dialog, "history", ["1.0", "2026-11-20", "Lead assessor", "First issue"])
        _add_row(dialog, "history", ["1.1", "2026-12-01", "Lead assessor", "Client comments"])
        _add_row(dialog, "distribution", ["CISO", "Words Ltd", "Sponsor"])
        _child(dialog, QLineEdit, "approver").setText("Engagement partner")
        paper: QComboBox = _child(dialog, QComboBox, "paper")
        paper.setCurrentIndex(paper.findData("Letter"))
        _child(dialog, QCheckBox, "vendorNeutral").setChecked(True)
        _ok(dialog)

    dialogs.then(write)
    window.report_contents_action.trigger()
    sections = register.read_sections(engagement)
    assert sections.executive_summary == "Identity is ahead; networks lag."
    assert sections.key_messages.startswith("- Fund phishing-resistant MFA")
    assert sections.limitations == ""
    control = register.read_control(engagement)
    assert control.consultancy == "Example Advisory LLP" and control.report_version == "1.1"
    assert [(v.version, v.date, v.change) for v in control.history] == [
        ("1.0", "2026-11-20", "First issue"),
        ("1.1", "2026-12-01", "Client comments"),
    ]
    assert [(p.name, p.organisation, p.role) for p in control.distribution] == [("CISO", "Words Ltd", "Sponsor")]
    assert control.approver == "Engagement partner"
    options = register.read_report_options(engagement)
    assert (options.paper, options.vendor_neutral) == ("Letter", True)
    assert window.undo_stack.undoText() == "Change the report contents"

    window.undo_stack.undo()  # everything the dialog changed, at once
    assert register.read_sections(engagement).executive_summary == ""
    assert register.read_control(engagement).history == ()
    assert register.read_report_options(engagement).paper == "A4"
    window.undo_stack.redo()
    assert register.read_control(engagement).consultancy == "Example Advisory LLP"

    # Saved and read back from the file itself, as another process would.
    window.save()
    window.tasks.wait()
    with sqlite3.connect(engagement_path) as conn:
        stored = dict(conn.execute("SELECT key, text FROM engagement_section").fetchall())
    assert stored["executive_summary"] == "Identity is ahead; networks lag."


def test_a_bad_history_date_keeps_the_dialog_open_and_changes_nothing(
    window: MainWindow, dialogs: DialogAnswerer, engagement_path: Path
) -> None:
    assert window.open_path(engagement_path)
    engagement = window.engagement
    assert engagement is not None
    said: list[str] = []

    def bad(dialog: QWidget) -> None:
        _child(dialog, QPlainTextEdit, "section-scope").setPlainText("Identity and devices only.")
        _add_row(dialog, "history", ["1.0", "next Tuesday", "Lead assessor", "First issue"])
        _ok(dialog)
        error: QLabel = _child(dialog, QLabel, "error")
        assert dialog.isVisible() and error.isVisible()
        said.append(error.text())
        next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "Cancel").click()

    dialogs.then(bad)
    window.report_contents_action.trigger()
    assert "next Tuesday" in said[0] and "\n" not in said[0]
    assert register.read_sections(engagement).scope == ""
    assert register.read_control(engagement).history == ()
    assert window.undo_stack.count() == 0


def test_the_consultancy_logo_is_refused_when_not_an_image_and_undone_with_the_dialog(
    window: MainWindow, dialogs: DialogAnswerer, engagement_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.open_path(engagement_path)
    engagement = window.engagement
    assert engagement is not None
    bad, good = tmp_path / "notes.png", tmp_path / "firm.png"
    bad.write_text("not an image")
    Image.new("RGB", (240, 80), (10, 40, 90)).save(good)
    problems: list[str] = []

    def choose(dialog: QWidget) -> None:
        chooser: QPushButton = _child(dialog, QPushButton, "chooseLogo")
        no_file_dialog(monkeypatch, bad)
        chooser.click()
        problems.append(_child(dialog, QLabel, "logoProblem").text())
        no_file_dialog(monkeypatch, good)
        chooser.click()
        _child(dialog, QLineEdit, "consultancy").setText("Example Advisory LLP")
        _ok(dialog)

    dialogs.then(choose)
    window.report_contents_action.trigger()
    assert "notes.png" in problems[0]
    logo = read_consultancy_logo(engagement)
    assert logo is not None and logo.name == "firm.png"
    window.undo_stack.undo()  # logo and name: one step
    assert read_consultancy_logo(engagement) is None
    assert register.read_control(engagement).consultancy == ""


def test_read_only_engagement_shows_the_contents_and_changes_nothing(
    window: MainWindow, dialogs: DialogAnswerer, engagement_path: Path
) -> None:
    with create_engagement(engagement_path.with_name("ro.ztmm"), Properties(client="RO Ltd")) as made:
        register.set_section(made, "limitations", "No access to the data center.")
        made.save()
    path = engagement_path.with_name("ro.ztmm")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert window.open_path(path, read_only=True)

    def look(dialog: QWidget) -> None:
        edit: QPlainTextEdit = _child(dialog, QPlainTextEdit, "section-limitations")
        assert edit.toPlainText() == "No access to the data center." and edit.isReadOnly()
        assert not _child(dialog, QComboBox, "paper").isEnabled()
        next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "Close").click()

    dialogs.then(look)
    window.report_contents_action.trigger()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_first_start_asks_who_the_assessor_is_once_and_edits_carry_the_name(
    qtbot: QtBot, dialogs: DialogAnswerer, engagement_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZTMM_ASSESSOR", raising=False)

    def answer(dialog: QWidget) -> None:
        name: QLineEdit = _child(dialog, QLineEdit, "assessorName")
        ok = next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == "OK")
        assert not ok.isEnabled()  # a name is required
        qtbot.keyClicks(name, "Lead assessor")
        _child(dialog, QLineEdit, "assessorOrganization").setText("Example Advisory LLP")
        ok.click()

    dialogs.then(answer)
    window = start([str(engagement_path)])
    try:
        qtbot.waitUntil(lambda: window.engagement is not None, timeout=5000)
        assert read_preference().name == "Lead assessor"
        assert read_preference().organisation == "Example Advisory LLP"
        engagement = window.engagement
        assert engagement is not None
        register.set_section(engagement, "approach", "Four workshops.")
        last = engagement.audit_log()[-1]
        assert last.by == "Lead assessor"
    finally:
        window.tasks.wait()
        if window.engagement is not None:
            window.engagement.close()
            window.engagement = None
        window.close()
        window.deleteLater()
    again = start([])  # asked once: no dialog this time (an unexpected one would fail the test)
    try:
        qtbot.wait(100)
    finally:
        again.close()
        again.deleteLater()
        qtbot.wait(10)


def test_the_assessor_is_edited_from_the_edit_menu(window: MainWindow, dialogs: DialogAnswerer) -> None:
    def rename(dialog: QWidget) -> None:
        _child(dialog, QLineEdit, "assessorName").setText("Second assessor")
        _ok(dialog)

    dialogs.then(rename)
    window.assessor_action.trigger()
    assert read_preference().name == "Second assessor"
