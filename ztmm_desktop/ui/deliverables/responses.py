"""Client responses: exporting a questionnaire, importing answers, showing them beside the rating."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import NeedsRespondent, OtherEngagement, ZtmmError
from ...core.words import plural
from ...services.engagement import Changes, Engagement
from ...services.questionnaire import (
    ImportPlan,
    ResponseChanges,
    apply_responses,
    read_responses,
    restore_responses,
)
from ..common.dialogs import ask_other_engagement
from ..common.tasks import show_failure

if TYPE_CHECKING:
    from ..common.host import WindowHost


class QuestionnaireDialog(QDialog):
    """Who the questionnaire is for and which pillars it asks about."""

    def __init__(self, engagement: Engagement, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export questionnaire")
        self.name = QLineEdit()
        self.name.setObjectName("respondent")
        self.name.setPlaceholderText("Optional: filled in by the respondent otherwise")
        scope = set(engagement.meta().scope)
        self.pillars: dict[str, QCheckBox] = {}
        box = QGroupBox("Pillars to ask about")
        pillars = QVBoxLayout(box)
        for pillar in engagement.catalog.pillars:
            if pillar.id not in scope:
                continue
            check = QCheckBox(f"{pillar.code}  {pillar.name}")
            check.setObjectName(f"pillar-{pillar.id}")
            check.setChecked(True)
            check.toggled.connect(self._validate)
            self.pillars[pillar.id] = check
            pillars.addWidget(check)
        form = QFormLayout()
        form.addRow("Respondent", self.name)
        hint = QLabel(
            "Client staff answer each stage with Met, Partially met, Not met, Not applicable or Don't know, "
            "and may comment. Import their answers with File → Import responses…; they never overwrite your ratings."
        )
        hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export…")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(box)
        layout.addWidget(hint)
        layout.addWidget(self.buttons)
        self.resize(460, self.sizeHint().height())

    def _validate(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.scope()))

    def respondent(self) -> str:
        return self.name.text().strip()

    def scope(self) -> list[str]:
        return [pid for pid, check in self.pillars.items() if check.isChecked()]


# -- beside the rating: what each respondent answered -----------------------------------------------

# -- importing ----------------------------------------------------------------------------------------


class ImportDialog(QDialog):
    """The differences an import would make, each with a check box; nothing changes until Apply."""

    def __init__(self, plan: ImportPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.setWindowTitle(f"Import responses – {plan.source_name}")
        who = plan.respondent + (f" ({plan.role})" if plan.role else "")
        kind = "questionnaire" if plan.kind == "questionnaire" else "deliverable workbook"
        summary = QLabel(
            f"{plural(len(plan.differences), 'difference')} from {who}'s {kind}; "
            f"{plural(plan.unchanged, 'answer')} {'is' if plan.unchanged == 1 else 'are'} already recorded. "
            "Your own ratings are not changed."
        )
        summary.setTextFormat(Qt.TextFormat.PlainText)
        summary.setWordWrap(True)
        self.table = QTreeWidget()
        self.table.setObjectName("differences")
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setHeaderLabels(["Function", "Stage", "Recorded", "In the file", "Your rating", "Comment"])
        for index, diff in enumerate(plan.differences):
            old = diff.old_answer.label if diff.old_answer is not None else "—"
            new = diff.new_answer.label if diff.new_answer is not None else "—"
            comment = diff.new_comment if diff.new_comment != diff.old_comment else ""
            item = QTreeWidgetItem(
                [
                    f"{diff.function_code} {diff.function_name}",
                    diff.stage.label,
                    old,
                    new,
                    diff.rating.label + (" (differs)" if diff.disagrees_with_rating else ""),
                    comment.replace("\n", " ")[:200],
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, index)
            item.setCheckState(0, Qt.CheckState.Checked)
            item.setToolTip(0, f"Read from {diff.where}")
            if diff.disagrees_with_rating:
                item.setToolTip(4, "The respondent's answer differs from your rating")
            self.table.addTopLevelItem(item)
        for column in range(5):
            self.table.resizeColumnToContents(column)
        self.table.itemChanged.connect(self._update)
        notes = QLabel("\n".join(f"• {p}" for p in plan.problems))
        notes.setTextFormat(Qt.TextFormat.PlainText)
        notes.setWordWrap(True)
        notes.setVisible(bool(plan.problems))
        self.all_button = QPushButton("Select all")
        self.none_button = QPushButton("Select none")
        self.all_button.clicked.connect(lambda: self._check_all(True))
        self.none_button.clicked.connect(lambda: self._check_all(False))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.all_button)
        row.addWidget(self.none_button)
        row.addStretch(1)
        row.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(notes)
        layout.addLayout(row)
        self.resize(980, 560)
        self._update()

    def _items(self) -> list[QTreeWidgetItem]:
        return [self.table.topLevelItem(i) for i in range(self.table.topLevelItemCount())]

    def _check_all(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for item in self._items():
            item.setCheckState(0, state)

    def _update(self) -> None:
        chosen = len(self.accepted_indices())
        total = len(self.plan.differences)
        self.apply_button.setText("Apply all" if chosen == total else f"Apply {chosen} of {total}")
        self.apply_button.setEnabled(chosen > 0)

    def accepted_indices(self) -> list[int]:
        return [
            int(item.data(0, Qt.ItemDataRole.UserRole))
            for item in self._items()
            if item.checkState(0) == Qt.CheckState.Checked
        ]


class ImportCommand(QUndoCommand):
    """An applied import as one undo step: undo puts every touched answer back, redo re-applies it."""

    def __init__(
        self,
        engagement: Engagement,
        applied: ResponseChanges,
        text: str,
        changed: Callable[[Changes], None],
        failed: Callable[[ZtmmError], None],
    ) -> None:
        super().__init__(text)
        self.engagement = engagement
        self._restore = applied.previous  # what undo puts back
        self._changed, self._failed = changed, failed
        self._applied_once = True

    def _swap(self) -> None:
        try:
            done = restore_responses(self.engagement, self._restore)
        except ZtmmError as err:
            self._failed(err)
            return
        self._restore = done.previous
        self._changed(done)

    def redo(self) -> None:
        if self._applied_once:
            self._applied_once = False
            return
        self._swap()

    def undo(self) -> None:
        self._swap()


class _Retry(Exception):
    """Reading needs an answer from the consultant first (who answered; import from another engagement)."""


def run_import(window: WindowHost, path: Path, *, respondent: str | None = None, force: bool = False) -> None:
    """Read ``path`` off the UI thread, show the differences, apply the chosen ones as one undo step."""
    engagement = window.engagement
    if engagement is None:
        return

    def done(plan: ImportPlan) -> None:
        if not plan.differences:
            QMessageBox.information(
                window, "Nothing to import", f"{plan.source_name}: every answer in it is already recorded."
            )
            return
        dialog = ImportDialog(plan, window)
        if not dialog.exec():
            return
        chosen = dialog.accepted_indices()
        try:
            applied = apply_responses(engagement, plan, accept=chosen)
        except ZtmmError as err:
            QMessageBox.warning(window, "Not imported", str(err))
            return
        window.show_changes(applied)
        text = f"Import {plural(len(chosen), 'answer')} from {plan.respondent}"
        window.undo_stack.push(ImportCommand(engagement, applied, text, window.show_changes, window.show_edit_failure))
        window.statusBar().showMessage(f"Imported {plural(len(chosen), 'answer')} from {plan.source_name}.", 8000)

    def failed(err: BaseException) -> None:
        if isinstance(err, NeedsRespondent):
            name, ok = QInputDialog.getText(window, "Who answered?", f"{path.name}: name the respondent")
            if ok and name.strip():
                run_import(window, path, respondent=name.strip(), force=force)
        elif isinstance(err, OtherEngagement):
            message = f"{path.name} was exported from another engagement. Import its answers into this one anyway?"
            if ask_other_engagement(window, message):
                run_import(window, path, respondent=respondent, force=True)
        else:
            show_failure(window, err, "Not imported", "Import cancelled; nothing changed.")

    window.tasks.run(
        f"Reading {path.name}…",
        lambda p, c: read_responses(engagement, path, respondent=respondent, force=force, progress=p, cancel=c),
        done,
        failed,
    )
