"""Exports, printing and imports from the File menu, driven as a consultant would."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtPrintSupport import QPrintPreviewDialog, QPrintPreviewWidget
from PySide6.QtWidgets import QCheckBox, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from tests.test_questionnaire import fill
from tests.ui.conftest import DialogAnswerer, no_file_dialog
from ztmm_desktop.core.responses import Answer
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import questionnaire as qs
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.deliverables.responses import ImportDialog, QuestionnaireDialog
from ztmm_desktop.ui.shell.main_window import MainWindow

AUTH = "identity.authentication"


@pytest.fixture
def opened(window: MainWindow, tmp_path: Path) -> Path:
    path = tmp_path / "client.ztmm"
    with create_engagement(path, Properties(client="Contoso", title="Baseline", assessors=("Lead",))) as e:
        e.assess("1.1", ratings={Stage.INITIAL: Rating.MET, Stage.ADVANCED: Rating.PARTIAL})
        e.save()
    assert window.open_path(path)
    return path


@pytest.fixture
def opened_urls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A laptop with a viewer for everything: what was opened (openUrl says True, as when an application opens it)."""
    urls: list[str] = []

    def open_url(url: QUrl) -> bool:
        urls.append(QUrl(url).toLocalFile())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(open_url))
    return urls


def test_workbook_and_report_are_exported_and_offered_to_open(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, opened_urls: list[str],
) -> None:  # fmt: skip
    workbook = tmp_path / "out" / "Contoso assessment"  # no suffix typed: the app adds it
    workbook.parent.mkdir()
    no_file_dialog(monkeypatch, workbook)
    dialogs.click("Close")
    window.deliverables.workbook_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    written = workbook.with_name("Contoso assessment.xlsx")
    book = openpyxl.load_workbook(written, read_only=True)
    assert "Summary" in book.sheetnames
    book.close()
    assert opened_urls == []  # Close: not opened

    report = tmp_path / "out" / "report.pdf"
    no_file_dialog(monkeypatch, report)
    dialogs.click("Open")
    window.deliverables.report_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=60_000)
    assert report.read_bytes().startswith(b"%PDF")
    assert opened_urls == [str(report)]
    assert sorted(p.name for p in report.parent.iterdir()) == ["Contoso assessment.xlsx", "report.pdf"]


def test_export_report_choosing_word_writes_a_docx_read_back(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, opened_urls: list[str],
) -> None:  # fmt: skip
    import docx
    from PySide6.QtWidgets import QFileDialog

    folder = tmp_path / "word"
    folder.mkdir()
    typed = folder / "Contoso report"  # no suffix typed; the Word file type chosen in the dialog
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(typed), "Word documents (*.docx)"))
    )
    dialogs.click("Close")
    window.deliverables.report_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=60_000)
    written = folder / "Contoso report.docx"
    document = docx.Document(str(written))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name == "Heading 2"]
    assert "1.1 Authentication" in headings
    assert any(p.text == "Contoso" for p in document.paragraphs)  # the cover's {{client}}
    assert sorted(p.name for p in folder.iterdir()) == ["Contoso report.docx"]
    assert opened_urls == []


def test_an_export_into_a_missing_folder_says_why_and_writes_nothing(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    no_file_dialog(monkeypatch, tmp_path / "gone" / "report.pdf")
    dialogs.then(lambda box: box.close())  # the warning
    window.deliverables.report_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=60_000)
    assert "no such folder" in dialogs.seen[0]
    assert not (tmp_path / "gone").exists()


def test_print_report_previews_every_page_and_leaves_no_copy(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, data_dir: Path,
) -> None:  # fmt: skip
    pages: list[int] = []

    def look(dialog: QWidget) -> None:
        assert isinstance(dialog, QPrintPreviewDialog)
        widget = dialog.findChild(QPrintPreviewWidget)
        qtbot.waitUntil(lambda: widget.pageCount() > 0, timeout=10_000)
        pages.append(widget.pageCount())
        dialog.reject()

    dialogs.then(look)
    window.deliverables.print_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=60_000)
    assert pages and pages[0] >= 3
    assert list(data_dir.glob("print-*")) == []


def test_questionnaire_out_answers_in_row_by_row_then_undo_and_adopt(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    engagement = window.engagement
    assert engagement is not None
    blank = tmp_path / "questionnaire.xlsx"

    def choose(dialog: QWidget) -> None:
        assert isinstance(dialog, QuestionnaireDialog)
        dialog.findChild(QLineEdit, "respondent").setText("Client IAM lead")
        for pillar in ("devices", "networks", "applications", "data", "cross_cutting"):
            check = dialog.findChild(QCheckBox, f"pillar-{pillar}")
            if check is not None:
                check.setChecked(False)
        dialog.buttons.accepted.emit()

    no_file_dialog(monkeypatch, blank)
    dialogs.then(choose)
    window.deliverables.questionnaire_action.trigger()
    qtbot.waitUntil(lambda: blank.exists() and not window.tasks.busy, timeout=20_000)
    sheets = openpyxl.load_workbook(blank, read_only=True).sheetnames
    assert any("Identity" in s for s in sheets) and not any("Devices" in s for s in sheets)

    filled = fill(
        blank,
        tmp_path / "filled.xlsx",
        {
            ("1.1", "initial"): ("Met", ""),
            ("1.1", "advanced"): ("met", "MFA everywhere since spring"),
            ("1.2", "initial"): ("Not met", "no proofing"),
        },
    )
    shown: list[int] = []

    def review(dialog: QWidget) -> None:
        assert isinstance(dialog, ImportDialog)
        shown.append(dialog.table.topLevelItemCount())
        third = dialog.table.topLevelItem(2)
        third.setCheckState(0, Qt.CheckState.Unchecked)  # leave 1.2 out
        assert dialog.apply_button.text() == "Apply 2 of 3"
        dialog.apply_button.click()

    no_file_dialog(monkeypatch, filled)
    dialogs.then(review)
    window.deliverables.import_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    assert shown == [3]
    stored = {(r.function_id, r.stage): r.answer for r in qs.responses(engagement)}
    assert stored == {(AUTH, Stage.INITIAL): Answer.MET, (AUTH, Stage.ADVANCED): Answer.MET}

    # The function page shows the answers beside the rating, and where they differ.
    window.workbench.select_function(AUTH)
    page = window.workbench.page
    advanced = page.stage_boxes[Stage.ADVANCED].responses
    assert advanced.isVisible()
    assert "differ" in advanced.state_label.text()
    assert advanced.answer_labels["Client IAM lead"].text().startswith("Met (≠ your rating) — “MFA everywhere")

    # Adopting the answer is one click and one undo step.
    qtbot.mouseClick(advanced.adopt_buttons["Client IAM lead"], Qt.MouseButton.LeftButton)
    assessment = engagement.assessment(AUTH).rating(Stage.ADVANCED)
    assert (assessment.rating, assessment.comment) == (Rating.MET, "MFA everywhere since spring")
    assert page.stage_boxes[Stage.ADVANCED].checked_rating() is Rating.MET
    assert "agree" in page.stage_boxes[Stage.ADVANCED].responses.state_label.text()
    window.undo_stack.undo()
    assert engagement.assessment(AUTH).rating(Stage.ADVANCED).rating is Rating.PARTIAL

    # The import itself is one undo step too.
    window.undo_stack.undo()
    assert qs.responses(engagement) == []
    assert not page.stage_boxes[Stage.ADVANCED].responses.isVisible()
    window.undo_stack.redo()
    assert len(qs.responses(engagement)) == 2


def test_importing_a_workbook_asks_who_answered_and_about_another_engagement(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from PySide6.QtWidgets import QInputDialog

    from ztmm_desktop.services.workbook import export_workbook

    engagement = window.engagement
    assert engagement is not None
    workbook = export_workbook(engagement, tmp_path / "deliverable.xlsx")

    def name_them(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue("Board member")
        dialog.accept()

    def apply_all(dialog: QWidget) -> None:
        assert isinstance(dialog, ImportDialog) and dialog.apply_button.text() == "Apply all"
        dialog.apply_button.click()

    no_file_dialog(monkeypatch, workbook)
    dialogs.then(name_them).then(apply_all)
    window.deliverables.import_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    assert {(r.respondent, r.stage, r.answer) for r in qs.responses(engagement)} == {
        ("Board member", Stage.INITIAL, Answer.MET),
        ("Board member", Stage.ADVANCED, Answer.PARTIAL),
    }

    other = tmp_path / "other.ztmm"
    with create_engagement(other, Properties(client="Fabrikam")) as e:
        foreign = qs.export_questionnaire(e, tmp_path / "foreign.xlsx", respondent="Network engineer")
    filled = fill(foreign, tmp_path / "foreign-filled.xlsx", {("1.3", "initial"): ("Met", "")})
    no_file_dialog(monkeypatch, filled)
    dialogs.click("No")
    window.deliverables.import_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    assert "another engagement" in dialogs.seen[-1]
    assert {r.respondent for r in qs.responses(engagement)} == {"Board member"}  # refused: nothing changed

    dialogs.click("Yes").then(apply_all)
    window.deliverables.import_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    assert {r.respondent for r in qs.responses(engagement)} == {"Board member", "Network engineer"}


def test_client_responses_are_laid_out_when_an_engagement_is_first_shown(window: MainWindow) -> None:
    window.open_demo()
    assert window.workbench is not None
    window.workbench.select_function("devices.device_threat_protection")  # no event loop turn after this
    strip = window.workbench.page.stage_boxes[Stage.ADVANCED].responses
    assert strip.isVisible() and "disagree with each other" in strip.state_label.text()
    labels = list(strip.answer_labels.values())
    assert len(labels) == 2 and all(label.isVisible() for label in labels)
    assert strip.height() >= strip.state_label.height() + sum(label.height() for label in labels)
    assert list(strip.adopt_buttons) == ["Head of endpoint engineering"]  # the other agrees with the rating


def test_the_firms_word_template_is_chosen_in_the_window_and_a_bad_one_is_refused(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, opened: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, opened_urls: list[str],
) -> None:  # fmt: skip
    import docx
    from PySide6.QtWidgets import QFileDialog

    from tests.support import hostile_templates as bad

    firm = docx.Document(str(bad.DEFAULT))
    body = next(p for p in firm.paragraphs if p.text == "{{report_body}}")
    body.insert_paragraph_before("Our standard terms of engagement apply to this report.")
    template = tmp_path / "firm.docx"
    firm.save(str(template))
    workbook = bad.renamed_workbook(tmp_path / "not-a-template.docx")

    refused: list[str] = []
    no_file_dialog(monkeypatch, workbook)
    dialogs.click("Choose…").then(lambda box: (refused.append(box.text()), box.reject()))  # type: ignore[attr-defined,func-returns-value]
    window.deliverables.template_action.trigger()
    assert "not-a-template.docx" in refused[0] and "\n" not in refused[0]
    assert window.settings.word_template() is None  # nothing chosen

    no_file_dialog(monkeypatch, template)
    dialogs.click("Choose…")
    window.deliverables.template_action.trigger()
    assert window.settings.word_template() == template

    out = tmp_path / "Contoso report.docx"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "Word documents (*.docx)"))
    )
    dialogs.click("Close")
    window.deliverables.report_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=60_000)
    texts = [p.text for p in docx.Document(str(out)).paragraphs]
    assert "Our standard terms of engagement apply to this report." in texts  # the firm's words kept

    dialogs.click("Use the default")
    window.deliverables.template_action.trigger()
    assert window.settings.word_template() is None
