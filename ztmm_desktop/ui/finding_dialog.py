"""The finding dialog: write or read one finding of a function.

A finding has a title (required), the stage it is linked to (or none: the
function as a whole), a severity, and three texts: observation, risk and
recommendation. The dialog only collects a ``FindingDraft``; the function page
turns it into an ``AddFinding`` or ``EditFinding`` request. Opened read-only
(a read-only engagement), it shows the finding and can only be closed.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..core.stages import Stage
from ..services.engagement import MAX_NAME, SEVERITY, FindingDraft

#: The choices of the "Linked stage" combo, in order: none, then each stage.
STAGE_CHOICES: tuple[Stage | None, ...] = (None, *Stage)
NO_STAGE_LABEL = "None (the function as a whole)"


def severity_label(value: str) -> str:
    return value.capitalize()


def _text_box(placeholder: str) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setPlaceholderText(placeholder)
    edit.setTabChangesFocus(True)
    line = edit.fontMetrics().lineSpacing()
    edit.setMinimumHeight(line * 4 + 12)
    return edit


class FindingDialog(QDialog):
    """Collects a ``FindingDraft``; OK stays disabled while the title is empty."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        draft: FindingDraft | None = None,
        function_label: str = "",
        read_only: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("findingDialog")
        self.read_only = read_only
        verb = "Finding" if read_only else "Add finding" if draft is None else "Edit finding"
        self.setWindowTitle(f"{verb} — {function_label}" if function_label else verb)

        heading = QLabel(function_label)
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setObjectName("findingFunction")
        font = QFont(heading.font())
        font.setBold(True)
        heading.setFont(font)
        heading.setVisible(bool(function_label))

        self.title_edit = QLineEdit()
        self.title_edit.setObjectName("findingTitle")
        self.title_edit.setMaxLength(MAX_NAME)
        self.title_edit.setPlaceholderText("A short statement of what is wrong (required)")

        self.stage_combo = QComboBox()
        self.stage_combo.setObjectName("findingStage")
        for stage in STAGE_CHOICES:
            self.stage_combo.addItem(NO_STAGE_LABEL if stage is None else stage.label)

        self.severity_combo = QComboBox()
        self.severity_combo.setObjectName("findingSeverity")
        for value in SEVERITY:
            self.severity_combo.addItem(severity_label(value))

        self.observation_edit = _text_box("What was seen or reported, and where")
        self.observation_edit.setObjectName("findingObservation")
        self.risk_edit = _text_box("What could happen because of it")
        self.risk_edit.setObjectName("findingRisk")
        self.recommendation_edit = _text_box("What the client should do")
        self.recommendation_edit.setObjectName("findingRecommendation")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(10)
        form.addRow("&Title", self.title_edit)
        form.addRow("Linked &stage", self.stage_combo)
        form.addRow("Se&verity", self.severity_combo)
        form.addRow("&Observation", self.observation_edit)
        form.addRow("&Risk", self.risk_edit)
        form.addRow("Re&commendation", self.recommendation_edit)

        if read_only:
            self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        else:
            self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(12)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

        #: What the dialog was given: the register's fields it does not show (owner, due date,
        #: status, likelihood, impact) are kept from it, never cleared by an edit here.
        self._given = draft or FindingDraft(title="")
        self._fill(self._given)
        self.title_edit.textChanged.connect(self._update_ok)
        self._update_ok()
        if read_only:
            self.title_edit.setReadOnly(True)
            self.stage_combo.setEnabled(False)
            self.severity_combo.setEnabled(False)
            for edit in (self.observation_edit, self.risk_edit, self.recommendation_edit):
                edit.setReadOnly(True)
        self.resize(640, 560)  # the three texts share the height; the dialog can grow
        self.title_edit.setFocus()

    @property
    def ok_button(self) -> QWidget | None:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _fill(self, draft: FindingDraft) -> None:
        self.title_edit.setText(draft.title)
        self.stage_combo.setCurrentIndex(STAGE_CHOICES.index(draft.stage))
        severity = draft.severity if draft.severity in SEVERITY else "medium"
        self.severity_combo.setCurrentIndex(SEVERITY.index(severity))
        self.observation_edit.setPlainText(draft.observation)
        self.risk_edit.setPlainText(draft.risk)
        self.recommendation_edit.setPlainText(draft.recommendation)

    def _update_ok(self) -> None:
        ok = self.ok_button
        if ok is not None:
            ok.setEnabled(bool(self.title_edit.text().strip()))

    def accept(self) -> None:
        if not self.read_only and not self.title_edit.text().strip():
            return  # Enter in the title field must not slip past the disabled OK button
        super().accept()

    def draft(self) -> FindingDraft:
        """The finding as filled in (with the fields the dialog does not show as they were)."""
        return replace(
            self._given,
            title=self.title_edit.text().strip(),
            stage=STAGE_CHOICES[self.stage_combo.currentIndex()],
            observation=self.observation_edit.toPlainText(),
            risk=self.risk_edit.toPlainText(),
            recommendation=self.recommendation_edit.toPlainText(),
            severity=SEVERITY[self.severity_combo.currentIndex()],
        )

    @classmethod
    def get_draft(
        cls,
        parent: QWidget | None = None,
        *,
        draft: FindingDraft | None = None,
        function_label: str = "",
        read_only: bool = False,
    ) -> FindingDraft | None:
        """Run the dialog; the draft when the consultant pressed OK, else None (always None read-only)."""
        dialog = cls(parent, draft=draft, function_label=function_label, read_only=read_only)
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted.value
            return dialog.draft() if accepted and not read_only else None
        finally:
            dialog.deleteLater()
