"""File → Export workbook / questionnaire / report, Print report, Import responses, Merge from colleague;
Tools → Export evidence pack.

Every export asks where to write, then runs the service off the UI thread
through the window's task runner (progress after a moment, Cancel), and says
what it wrote. The services write all or nothing, so a cancel or a failure
leaves no file behind. This module only asks and shows; the work is in
``services/``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from ...core.errors import ZtmmError
from ...core.progress import CancelToken
from ...core.words import plural
from ...paths import data_dir
from ..common.opener import open_url
from ..common.tasks import show_failure

if TYPE_CHECKING:
    from ...core.comments import FindingComment
    from ...services.engagement import Engagement
    from ..common.host import WindowHost

Progress = Callable[[int, int, str], None]
Export = Callable[["Engagement", Path, Progress, CancelToken], object]


class Deliverables(QObject):
    """The export, print and import actions of one main window."""

    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)
        self.window = window
        self.workbook_action = window.add_action("Export &workbook…", self.export_workbook)
        self.questionnaire_action = window.add_action("Export &questionnaire…", self.export_questionnaire)
        self.import_action = window.add_action("&Import responses…", self.import_responses)
        self.report_action = window.add_action("Export &report…", lambda: self.export_report(draft=False))
        self.draft_action = window.add_action("Export &draft report…", lambda: self.export_report(draft=True))
        self.template_action = window.add_action("Word report &template…", self.choose_template)
        self.print_action = window.add_action("&Print report…", self.print_report, "Ctrl+P")
        self.pack_action = window.add_action("Export evidence &pack…", self.export_evidence_pack)
        self.merge_action = window.add_action("&Merge from colleague…", self.merge_from_colleague)

    @property
    def actions(self) -> list[QAction]:
        return [
            self.workbook_action,
            self.questionnaire_action,
            self.import_action,
            self.report_action,
            self.draft_action,
            self.print_action,
            self.pack_action,
            self.merge_action,
        ]

    def add_to(self, menu: QMenu, before: QAction) -> None:
        for action in (
            self.workbook_action,
            self.report_action,
            self.draft_action,
            self.template_action,
            self.print_action,
        ):
            menu.insertAction(before, action)
        menu.insertSeparator(before)
        menu.insertAction(before, self.questionnaire_action)
        menu.insertAction(before, self.import_action)
        menu.insertAction(before, self.merge_action)
        menu.insertSeparator(before)

    def update(self, has_engagement: bool, read_only: bool) -> None:
        for action in self.actions:
            action.setEnabled(has_engagement)
        self.import_action.setEnabled(has_engagement and not read_only)
        self.merge_action.setEnabled(has_engagement and not read_only)

    # -- the common path ----------------------------------------------------------

    def _suggested(self, what: str, suffix: str) -> str:
        from ...services import evidence  # imported when needed: the window paints before the services load

        engagement = self.window.engagement
        assert engagement is not None
        meta = engagement.meta()
        stem = evidence.safe_filename(" ".join(f"{meta.client} {what}".replace("/", " ").replace("\\", " ").split()))
        return str(Path(self.window.settings.last_folder()) / f"{stem}{suffix}")

    def _ask_target(self, caption: str, suggested: str, file_filter: str, suffix: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self.window, caption, suggested, file_filter)
        if not name:
            return None
        target = Path(name)
        if target.suffix.lower() != suffix:
            target = target.with_name(target.name + suffix)
        self.window.settings.set_last_folder(target.parent)
        return target

    def _run(
        self,
        title: str,
        work: Callable[[Progress, CancelToken], Any],
        done: Callable[[Any], None],
        *,
        cleanup: Callable[[], None] | None = None,
    ) -> None:
        window = self.window

        def failed(err: BaseException) -> None:
            if cleanup is not None:
                cleanup()
            show_failure(window, err, "Not done", "Cancelled; no file was written.")

        window.tasks.run(title, work, done, failed)

    def _export(self, title: str, target: Path, fn: Export, after: Callable[[Path], None] | None = None) -> None:
        engagement = self.window.engagement
        assert engagement is not None

        def done(_result: object) -> None:
            self.window.statusBar().showMessage(f"Wrote {target}", 8000)
            if after is not None:
                after(target)

        self._run(title, lambda p, c: fn(engagement, target, p, c), done)

    # -- exports --------------------------------------------------------------------

    def export_workbook(self) -> None:
        from ...services.workbook import export_workbook

        if self.window.engagement is None:
            return
        comments = self._review_comments("workbook")
        if comments is None:
            return
        target = self._ask_target(
            "Export workbook", self._suggested("ZTMM assessment", ".xlsx"), "Excel workbooks (*.xlsx)", ".xlsx"
        )
        if target is not None:
            self._export(
                "Exporting the workbook…",
                target,
                lambda e, t, p, c: export_workbook(e, t, progress=p, cancel=c, review_comments=comments),
                self._offer_to_open,
            )

    def export_questionnaire(self) -> None:
        from ...services.questionnaire import export_questionnaire
        from .responses import QuestionnaireDialog

        engagement = self.window.engagement
        if engagement is None:
            return
        dialog = QuestionnaireDialog(engagement, self.window)
        if not dialog.exec():
            return
        respondent, scope = dialog.respondent(), dialog.scope()
        what = f"questionnaire {respondent}" if respondent else "questionnaire"
        target = self._ask_target(
            "Export questionnaire", self._suggested(what, ".xlsx"), "Excel workbooks (*.xlsx)", ".xlsx"
        )
        if target is not None:
            self._export(
                "Exporting the questionnaire…",
                target,
                lambda e, t, p, c: export_questionnaire(
                    e, t, respondent=respondent or None, scope=scope, progress=p, cancel=c
                ),
            )

    def export_report(self, *, draft: bool) -> None:
        """PDF or Word: the file type chosen (or the name's extension) decides; the service does the rest."""
        from ...services.report import export_report

        if self.window.engagement is None:
            return
        comments = self._review_comments("report")
        if comments is None:
            return
        what = "ZTMM report (draft)" if draft else "ZTMM report"
        target = self._ask_report_target(
            "Export draft report" if draft else "Export report", self._suggested(what, ".pdf")
        )
        if target is not None:
            word = target.suffix.lower() == ".docx"
            template = self.window.settings.word_template() if word else None
            self._export(
                "Building the Word report…" if word else "Building the report…",
                target,
                lambda e, t, p, c: export_report(
                    e, t, draft=draft, template=template, progress=p, cancel=c, review_comments=comments
                ),
                self._offer_to_open,
            )

    def _review_comments(self, what: str) -> list[FindingComment] | None:
        """The reviewers' comments the deliverable is to carry: none unless the consultant says so (they are
        internal review notes, not the client's), asked only when the engagement on the server has some.
        None: the consultant cancelled."""
        comments = self.window.review_comments()
        if not comments:
            return []
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Reviewers' comments",
            f"The findings have {plural(len(comments), 'comment')} from reviewers on the team server. "
            f"They are internal review notes: a {what} for the client leaves them out.",
            QMessageBox.StandardButton.Cancel,
            cast(QWidget, self.window),
        )
        leave = box.addButton("Leave them out", QMessageBox.ButtonRole.AcceptRole)
        include = box.addButton("Include them", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(leave)
        box.exec()
        clicked = box.clickedButton()
        box.deleteLater()
        if clicked is include:
            return comments
        if clicked is leave:
            return []
        return None

    def choose_template(self) -> None:
        """The firm's Word template for every Word report from this window (checked when chosen), or the default."""
        from ...word.template import load_template

        settings = self.window.settings
        current = settings.word_template()
        box = QMessageBox(self.window)
        box.setWindowTitle("Word report template")
        box.setText(
            f"Word reports are written on your firm's template {current.name}."
            if current is not None
            else "Word reports are written on the default template."
        )
        box.setInformativeText(
            "A template is a .docx your firm styled in Word or LibreOffice Writer, with the placeholders "
            "described in the user guide ({{report_body}} where the report goes)."
        )
        choose = box.addButton("Choose…", QMessageBox.ButtonRole.AcceptRole)
        default = box.addButton("Use the default", QMessageBox.ButtonRole.ResetRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is default:
            settings.set_word_template(None)
            self.window.statusBar().showMessage("Word reports use the default template.", 5000)
            return
        if box.clickedButton() is not choose:
            return
        name, _ = QFileDialog.getOpenFileName(
            self.window, "Word report template", settings.last_folder(), "Word documents (*.docx)"
        )
        if not name:
            return
        try:
            load_template(Path(name))  # refused now, not at the next export
        except ZtmmError as err:
            QMessageBox.warning(self.window, "Template not used", str(err))
            return
        settings.set_word_template(Path(name))
        self.window.statusBar().showMessage(f"Word reports use the template {Path(name).name}.", 5000)

    def _ask_report_target(self, caption: str, suggested: str) -> Path | None:
        pdf, word = "PDF documents (*.pdf)", "Word documents (*.docx)"
        name, chosen = QFileDialog.getSaveFileName(self.window, caption, suggested, f"{pdf};;{word}")
        if not name:
            return None
        target = Path(name)
        if target.suffix.lower() not in (".pdf", ".docx"):
            target = target.with_name(target.name + (".docx" if chosen == word else ".pdf"))
        elif chosen == word and target.suffix.lower() == ".pdf":
            target = target.with_suffix(".docx")  # the suggested name kept, the Word type chosen
        self.window.settings.set_last_folder(target.parent)
        return target

    def export_evidence_pack(self) -> None:
        from ...services import evidence

        if self.window.engagement is None:
            return
        target = self._ask_target(
            "Export evidence pack", self._suggested("evidence", ".zip"), "Zip archives (*.zip)", ".zip"
        )
        if target is not None:
            self._export("Exporting evidence…", target, evidence.evidence_pack)

    def _offer_to_open(self, path: Path) -> None:
        answer = QMessageBox.question(
            self.window,
            "Exported",
            f"Wrote {path.name}. Open it now?",
            QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Close,
            QMessageBox.StandardButton.Open,
        )
        if answer == QMessageBox.StandardButton.Open:
            open_url(self.window, QUrl.fromLocalFile(str(path)))  # says so when no application opens it

    # -- printing ----------------------------------------------------------------------

    def print_report(self) -> None:
        from ...services.report import export_report
        from ..common.printing import preview

        engagement = self.window.engagement
        if engagement is None:
            return
        if engagement.document.key is not None:
            self._print_in_memory(engagement)
            return
        # The pages exist only while the preview is open, in the app's private folder.
        folder = Path(tempfile.mkdtemp(prefix="print-", dir=data_dir()))
        pdf = folder / "report.pdf"

        def cleanup() -> None:
            shutil.rmtree(folder, ignore_errors=True)

        def show(_result: object) -> None:
            try:
                dialog = preview(self.window, pdf)
                dialog.exec()
            except ZtmmError as err:
                QMessageBox.warning(self.window, "Cannot print", str(err))
            finally:
                cleanup()

        self._run(
            "Preparing the report for printing…",
            lambda p, c: export_report(engagement, pdf, progress=p, cancel=c),
            show,
            cleanup=cleanup,
        )

    # -- merging --------------------------------------------------------------------------------

    def _print_in_memory(self, engagement: Engagement) -> None:
        """An encrypted engagement's report is previewed from memory: no readable PDF is written."""
        from ...services.report import report_pdf_bytes
        from ..common.printing import preview

        def show(data: object) -> None:
            try:
                dialog = preview(self.window, data, engagement.path.stem)  # type: ignore[arg-type]
                dialog.exec()
            except ZtmmError as err:
                QMessageBox.warning(self.window, "Cannot print", str(err))

        self._run(
            "Preparing the report for printing…",
            lambda p, c: report_pdf_bytes(engagement, progress=p, cancel=c),
            show,
        )

    def merge_from_colleague(self) -> None:
        from .merge import merge_from

        merge_from(self.window)

    # -- importing ----------------------------------------------------------------------

    def import_responses(self) -> None:
        from .responses import run_import

        if self.window.engagement is None:
            return
        name, _ = QFileDialog.getOpenFileName(
            self.window,
            "Import responses",
            self.window.settings.last_folder(),
            "Excel workbooks (*.xlsx);;All files (*)",
        )
        if name:
            run_import(self.window, Path(name))
