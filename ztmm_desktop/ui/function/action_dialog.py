"""The action dialog: write or read one roadmap action of a function.

An action has a text (required), the stage it helps reach (or none), a phase
(now, next, later), an effort (small, medium, large), an indicative cost, an
owner, and optionally the action it comes after (any action of the engagement,
never itself). The dialog only collects an ``ActionDraft``; the function page
turns it into an ``AddAction`` or ``EditAction`` request. A dependency that
would close a cycle is refused in the dialog, with one line, before anything
is asked of the engagement. Opened read-only, it shows the action and can
only be closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
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

from ...core.errors import BadInput
from ...core.register import EFFORT_LABELS, EFFORTS, PHASE_LABELS, PHASES
from ...core.stages import RATED_STAGES, Stage
from ...core.words import first_line
from ...services.actions import ActionDraft, check_after
from ...services.engagement import MAX_NAME
from ..common.dialogs import error_label

#: The choices of the "Stage" combo, in order: none, then each stage above Traditional.
ACTION_STAGE_CHOICES: tuple[Stage | None, ...] = (None, *RATED_STAGES)
NO_STAGE_LABEL = "None (the function as a whole)"
NO_DEPENDENCY_LABEL = "None"
#: The id the dialog checks a new action's dependency under (a new action has no id yet).
_NEW = "\0new"


@dataclass(frozen=True)
class Dependency:
    """One action a new or edited action may come after, as the combo shows it."""

    action_id: str
    label: str  # "A-03 1.2 – Enforce phishing-resistant MFA…"


def dependency_label(number: str, code: str, text: str, width: int = 60) -> str:
    """``A-03 1.2 – text…``: the number (if the action has one), the function code and the text's first line."""
    line = first_line(text, width)
    return f"{number} {code} – {line}" if number else f"{code} – {line}"


def next_stage(current: Stage | None) -> Stage | None:
    """The stage above ``current`` (None above Optimal): what a new action helps reach by default."""
    if current is None:
        return Stage.INITIAL
    return Stage(current + 1) if current < Stage.OPTIMAL else None


class ActionDialog(QDialog):
    """Collects an ``ActionDraft``; OK stays disabled while the text is empty."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        draft: ActionDraft | None = None,
        action_id: str | None = None,
        function_label: str = "",
        dependencies: Sequence[Dependency] = (),
        chain: Mapping[str, str | None] | None = None,
        default_stage: Stage | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("actionDialog")
        self.read_only = read_only
        self.action_id = action_id
        self._chain = dict(chain or {})
        verb = "Action" if read_only else "Add action" if draft is None else "Edit action"
        self.setWindowTitle(f"{verb} — {function_label}" if function_label else verb)

        heading = QLabel(function_label)
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setObjectName("actionFunction")
        font = QFont(heading.font())
        font.setBold(True)
        heading.setFont(font)
        heading.setVisible(bool(function_label))

        self.stage_combo = QComboBox()
        self.stage_combo.setObjectName("actionStage")
        for stage in ACTION_STAGE_CHOICES:
            self.stage_combo.addItem(NO_STAGE_LABEL if stage is None else stage.label)

        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("actionText")
        self.text_edit.setPlaceholderText("What the client should do, in a sentence or two (required)")
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setMinimumHeight(self.text_edit.fontMetrics().lineSpacing() * 4 + 12)

        self.phase_combo = QComboBox()
        self.phase_combo.setObjectName("actionPhase")
        for phase in PHASES:
            self.phase_combo.addItem(PHASE_LABELS[phase])
        self.effort_combo = QComboBox()
        self.effort_combo.setObjectName("actionEffort")
        for effort in EFFORTS:
            self.effort_combo.addItem(EFFORT_LABELS[effort])

        self.cost_edit = QLineEdit()
        self.cost_edit.setObjectName("actionCost")
        self.cost_edit.setMaxLength(MAX_NAME)
        self.cost_edit.setPlaceholderText("Indicative, e.g. $10k–50k")
        self.owner_edit = QLineEdit()
        self.owner_edit.setObjectName("actionOwner")
        self.owner_edit.setMaxLength(MAX_NAME)
        self.owner_edit.setPlaceholderText("Who at the client carries it out")

        self.after_combo = QComboBox()
        self.after_combo.setObjectName("actionAfter")
        # Long action texts must not widen the dialog past a small screen; the list shows them whole.
        self.after_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.after_combo.setMinimumContentsLength(24)
        self.after_combo.addItem(NO_DEPENDENCY_LABEL, None)
        for dependency in dependencies:
            if dependency.action_id != action_id:  # never itself
                self.after_combo.addItem(dependency.label, dependency.action_id)
                self.after_combo.setItemData(
                    self.after_combo.count() - 1, dependency.label, Qt.ItemDataRole.ToolTipRole
                )

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(10)
        rows: tuple[tuple[str, QWidget], ...] = (
            ("&Stage", self.stage_combo),
            ("&Action", self.text_edit),
            ("&Phase", self.phase_combo),
            ("&Effort", self.effort_combo),
            ("Indicative &cost", self.cost_edit),
            ("O&wner", self.owner_edit),
            ("&Depends on", self.after_combo),
        )
        for row, (text, field) in enumerate(rows):
            label = QLabel(text)
            label.setBuddy(field)
            top = isinstance(field, QPlainTextEdit)
            align = Qt.AlignmentFlag.AlignTop if top else Qt.AlignmentFlag.AlignVCenter
            grid.addWidget(label, row, 0, align | Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(field, row, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(1, 1)

        self.error = error_label("actionError")
        self.error.hide()

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
        layout.addLayout(grid, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self._fill(draft or ActionDraft(text="", stage=default_stage))
        self.text_edit.textChanged.connect(self._update_ok)
        self.after_combo.currentIndexChanged.connect(lambda _index: self.error.hide())
        self._update_ok()
        if read_only:
            self.text_edit.setReadOnly(True)
            for line in (self.cost_edit, self.owner_edit):
                line.setReadOnly(True)
            for combo in (self.stage_combo, self.phase_combo, self.effort_combo, self.after_combo):
                combo.setEnabled(False)
        self.resize(600, 460)
        self.text_edit.setFocus()

    @property
    def ok_button(self) -> QWidget | None:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _fill(self, draft: ActionDraft) -> None:
        stage = draft.stage if draft.stage in ACTION_STAGE_CHOICES else None
        self.stage_combo.setCurrentIndex(ACTION_STAGE_CHOICES.index(stage))
        self.text_edit.setPlainText(draft.text)
        self.phase_combo.setCurrentIndex(PHASES.index(draft.phase) if draft.phase in PHASES else PHASES.index("next"))
        self.effort_combo.setCurrentIndex(
            EFFORTS.index(draft.effort) if draft.effort in EFFORTS else EFFORTS.index("M")
        )
        self.cost_edit.setText(draft.cost)
        self.cost_edit.setCursorPosition(0)
        self.owner_edit.setText(draft.owner)
        self.owner_edit.setCursorPosition(0)
        index = self.after_combo.findData(draft.after) if draft.after else 0
        if index < 0:  # an action the list does not offer: keep it rather than drop it silently
            self.after_combo.addItem(f"Action {draft.after[:8]}", draft.after)
            index = self.after_combo.count() - 1
        self.after_combo.setCurrentIndex(index)

    def _update_ok(self) -> None:
        ok = self.ok_button
        if ok is not None:
            ok.setEnabled(bool(self.text_edit.toPlainText().strip()))

    def accept(self) -> None:
        if self.read_only:
            super().accept()
            return
        if not self.text_edit.toPlainText().strip():
            return
        after = self.after_combo.currentData()
        if after is not None and self._chain:
            try:
                check_after(self._chain, self.action_id or _NEW, after)
            except BadInput as err:  # the dialog stays open; nothing is asked of the engagement
                message = str(err)
                self.error.setText(message[:1].upper() + message[1:] + ".")
                self.error.show()
                self.after_combo.setFocus()
                return
        super().accept()

    def draft(self) -> ActionDraft:
        """The action as filled in."""
        after = self.after_combo.currentData()
        return ActionDraft(
            text=self.text_edit.toPlainText().strip(),
            phase=PHASES[self.phase_combo.currentIndex()],
            effort=EFFORTS[self.effort_combo.currentIndex()],
            stage=ACTION_STAGE_CHOICES[self.stage_combo.currentIndex()],
            cost=self.cost_edit.text().strip(),
            owner=self.owner_edit.text().strip(),
            after=str(after) if after else None,
        )

    @classmethod
    def get_draft(
        cls,
        parent: QWidget | None = None,
        *,
        draft: ActionDraft | None = None,
        action_id: str | None = None,
        function_label: str = "",
        dependencies: Sequence[Dependency] = (),
        chain: Mapping[str, str | None] | None = None,
        default_stage: Stage | None = None,
        read_only: bool = False,
    ) -> ActionDraft | None:
        """Run the dialog; the draft when the consultant pressed OK, else None (always None read-only)."""
        dialog = cls(
            parent,
            draft=draft,
            action_id=action_id,
            function_label=function_label,
            dependencies=dependencies,
            chain=chain,
            default_stage=default_stage,
            read_only=read_only,
        )
        try:
            accepted = dialog.exec() == QDialog.DialogCode.Accepted.value
            return dialog.draft() if accepted and not read_only else None
        finally:
            dialog.deleteLater()
