"""The finding dialog: write or read one finding of a function.

A finding has a title (required), the stage it is linked to (or none: the
function as a whole), a severity, the register fields the client tracks it by
(owner, due date, status, likelihood and impact, whose product gives the risk
rating shown live), and three texts: observation, risk and recommendation.
The dialog only collects a ``FindingDraft``; the function page
turns it into an ``AddFinding`` or ``EditFinding`` request. Opened read-only
(a read-only engagement), it shows the finding and can only be closed.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ...core.register import (
    FINDING_STATUS_LABELS,
    FINDING_STATUSES,
    IMPACT_LABELS,
    LIKELIHOOD_LABELS,
    risk_rating,
    risk_score,
)
from ...core.stages import Stage
from ...services.engagement import MAX_NAME, SEVERITY, FindingDraft
from ..common.dialogs import OptionalDate

#: The choices of the "Linked stage" combo, in order: none, then each stage.
STAGE_CHOICES: tuple[Stage | None, ...] = (None, *Stage)
NO_STAGE_LABEL = "None (the function as a whole)"


#: The choices of the likelihood and impact combos, in order: not rated, then 1 to 5.
SCALE_CHOICES: tuple[int | None, ...] = (None, 1, 2, 3, 4, 5)
NOT_RATED = "—"


def severity_label(value: str) -> str:
    return value.capitalize()


def status_label(value: str) -> str:
    return FINDING_STATUS_LABELS.get(value, value)


def scale_label(value: int | None, labels: dict[int, str]) -> str:
    """``4 – Likely``; ``—`` when not rated."""
    return NOT_RATED if value is None else f"{value} – {labels[value]}"


def risk_text(likelihood: int | None, impact: int | None) -> str:
    """``High (4 × 3 = 12)``; empty when likelihood or impact is not rated."""
    score = risk_score(likelihood, impact)
    if score is None:
        return ""
    return f"{risk_rating(likelihood, impact)} ({likelihood} × {impact} = {score})"


def _text_box(placeholder: str) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setPlaceholderText(placeholder)
    edit.setTabChangesFocus(True)
    line = edit.fontMetrics().lineSpacing()
    edit.setMinimumHeight(line * 4 + 12)
    return edit


def _buddy(text: str, field: QWidget) -> QLabel:
    """A field's label; its mnemonic (``&``) moves the focus to the field."""
    label = QLabel(text)
    label.setBuddy(field.focusProxy() or field)
    return label


def _label_alignment(field: QWidget) -> Qt.AlignmentFlag:
    """Labels of multi-line texts sit at the top of their box."""
    if isinstance(field, QPlainTextEdit):
        return Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft
    return Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft


def _scale_index(value: int | None) -> int:
    return SCALE_CHOICES.index(value) if value in SCALE_CHOICES else 0


def _set_date(field: OptionalDate, value: str | None) -> None:
    """Show ``value`` (YYYY-MM-DD) in an optional date; None leaves it unset (today, greyed)."""
    date = QDate.fromString(value, "yyyy-MM-dd") if value else QDate()
    field.edit.setDate(date if date.isValid() else QDate.currentDate())
    field.enabled.setChecked(date.isValid())
    field.edit.setEnabled(date.isValid())


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

        self.status_combo = QComboBox()
        self.status_combo.setObjectName("findingStatus")
        for value in FINDING_STATUSES:
            self.status_combo.addItem(status_label(value))

        self.owner_edit = QLineEdit()
        self.owner_edit.setObjectName("findingOwner")
        self.owner_edit.setMaxLength(MAX_NAME)
        self.owner_edit.setPlaceholderText("Who at the client tracks it")

        self.due_edit = OptionalDate(None)
        self.due_edit.setObjectName("findingDue")
        self.due_edit.enabled.setObjectName("findingDueSet")
        self.due_edit.enabled.setToolTip("Set a due date")
        self.due_edit.edit.setObjectName("findingDueDate")
        self.due_edit.setFocusProxy(self.due_edit.enabled)  # Alt+D lands on the check box

        self.likelihood_combo = QComboBox()
        self.likelihood_combo.setObjectName("findingLikelihood")
        self.impact_combo = QComboBox()
        self.impact_combo.setObjectName("findingImpact")
        for combo, labels in ((self.likelihood_combo, LIKELIHOOD_LABELS), (self.impact_combo, IMPACT_LABELS)):
            for value in SCALE_CHOICES:
                combo.addItem(scale_label(value, labels))
        self.risk_rating_label = QLabel()
        self.risk_rating_label.setObjectName("findingRiskRating")
        self.risk_rating_label.setTextFormat(Qt.TextFormat.PlainText)
        self.risk_rating_label.setToolTip("Likelihood × impact: Low 1–4, Medium 5–9, High 10–16, Critical 17–25")

        self.observation_edit = _text_box("What was seen or reported, and where")
        self.observation_edit.setObjectName("findingObservation")
        self.risk_edit = _text_box("What could happen because of it")
        self.risk_edit.setObjectName("findingRisk")
        self.recommendation_edit = _text_box("What the client should do")
        self.recommendation_edit.setObjectName("findingRecommendation")

        # Two columns of short fields under the title; the three texts span the width.
        form = QGridLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        wide = (
            (0, "&Title", self.title_edit),
            (5, "Risk rating", self.risk_rating_label),
            (6, "&Observation", self.observation_edit),
            (7, "&Risk", self.risk_edit),
            (8, "Re&commendation", self.recommendation_edit),
        )
        pairs = (
            (1, "Linked &stage", self.stage_combo, "Se&verity", self.severity_combo),
            (2, "St&atus", self.status_combo, "&Due date", self.due_edit),
            (3, "O&wner", self.owner_edit, None, None),
            (4, "&Likelihood", self.likelihood_combo, "&Impact", self.impact_combo),
        )
        for row, text, field in wide:
            form.addWidget(_buddy(text, field), row, 0, _label_alignment(field))
            form.addWidget(field, row, 1, 1, 3)
        for row, text, field, second_text, second in pairs:
            form.addWidget(_buddy(text, field), row, 0)
            if second_text is None or second is None:
                form.addWidget(field, row, 1, 1, 3)
                continue
            form.addWidget(field, row, 1)
            form.addWidget(_buddy(second_text, second), row, 2)
            form.addWidget(second, row, 3)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)

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

        self._fill(draft or FindingDraft(title=""))
        self.title_edit.textChanged.connect(self._update_ok)
        self.likelihood_combo.currentIndexChanged.connect(self._update_risk)
        self.impact_combo.currentIndexChanged.connect(self._update_risk)
        self._update_ok()
        if read_only:
            for line in (self.title_edit, self.owner_edit):
                line.setReadOnly(True)
            for widget in (
                self.stage_combo,
                self.severity_combo,
                self.status_combo,
                self.likelihood_combo,
                self.impact_combo,
                self.due_edit,
            ):
                widget.setEnabled(False)
            for edit in (self.observation_edit, self.risk_edit, self.recommendation_edit):
                edit.setReadOnly(True)
        self.resize(680, 640)  # the three texts share the height; the dialog can grow
        self.title_edit.setFocus()

    @property
    def ok_button(self) -> QWidget | None:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _fill(self, draft: FindingDraft) -> None:
        self.title_edit.setText(draft.title)
        self.stage_combo.setCurrentIndex(STAGE_CHOICES.index(draft.stage))
        severity = draft.severity if draft.severity in SEVERITY else "medium"
        self.severity_combo.setCurrentIndex(SEVERITY.index(severity))
        status = draft.status if draft.status in FINDING_STATUSES else "open"
        self.status_combo.setCurrentIndex(FINDING_STATUSES.index(status))
        self.owner_edit.setText(draft.owner)
        self.owner_edit.setCursorPosition(0)
        _set_date(self.due_edit, draft.due_date)
        self.likelihood_combo.setCurrentIndex(_scale_index(draft.likelihood))
        self.impact_combo.setCurrentIndex(_scale_index(draft.impact))
        self.observation_edit.setPlainText(draft.observation)
        self.risk_edit.setPlainText(draft.risk)
        self.recommendation_edit.setPlainText(draft.recommendation)
        self._update_risk()

    def _update_risk(self) -> None:
        likelihood = SCALE_CHOICES[max(0, self.likelihood_combo.currentIndex())]
        impact = SCALE_CHOICES[max(0, self.impact_combo.currentIndex())]
        self.risk_rating_label.setText(risk_text(likelihood, impact) or f"{NOT_RATED} (rate likelihood and impact)")

    def _update_ok(self) -> None:
        ok = self.ok_button
        if ok is not None:
            ok.setEnabled(bool(self.title_edit.text().strip()))

    def accept(self) -> None:
        if not self.read_only and not self.title_edit.text().strip():
            return  # Enter in the title field must not slip past the disabled OK button
        super().accept()

    def draft(self) -> FindingDraft:
        """The finding as filled in."""
        return FindingDraft(
            title=self.title_edit.text().strip(),
            stage=STAGE_CHOICES[self.stage_combo.currentIndex()],
            observation=self.observation_edit.toPlainText(),
            risk=self.risk_edit.toPlainText(),
            recommendation=self.recommendation_edit.toPlainText(),
            severity=SEVERITY[self.severity_combo.currentIndex()],
            owner=self.owner_edit.text().strip(),
            due_date=self.due_edit.value(),
            status=FINDING_STATUSES[self.status_combo.currentIndex()],
            likelihood=SCALE_CHOICES[self.likelihood_combo.currentIndex()],
            impact=SCALE_CHOICES[self.impact_combo.currentIndex()],
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
