"""File → Merge from colleague…: another consultant's copy of the engagement, brought in.

The plan is made off the UI thread (``services/merge.plan_merge``). The dialog
lists what will be applied (changed only on their side) and every conflict
side by side — this copy's value and theirs — with a choice per conflict
(keep mine, the default, or take theirs). Applying is one undo step: undo
puts every merged record back (``undo_merge``); redo plans again and applies
the same choices.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import OtherEngagement, ZtmmError
from ...core.words import plural
from ...services import passphrase
from ...services.engagement import Changes, Engagement
from ...services.merge import MergePlan, MergeResult, apply_merge, plan_merge, undo_merge
from ..common.dialogs import ask_other_engagement
from ..common.tasks import show_failure
from ..common.unlocking import unlock

if TYPE_CHECKING:
    from ..common.host import WindowHost

MINE, THEIRS = "mine", "theirs"


class MergeDialog(QDialog):
    """What a merge applies, and a choice for each conflict."""

    def __init__(
        self,
        plan: MergePlan,
        parent: QWidget | None = None,
        *,
        mine: str = "Yours",
        theirs: str = "Theirs",
        summary: str | None = None,
        prefer_theirs: bool = False,
        title: str | None = None,
    ) -> None:
        """``mine``/``theirs``: what the two sides are called (a server's merge names them by place);
        ``prefer_theirs``: each conflict starts on their value (the server's merge of the window's work)."""
        super().__init__(parent)
        self.plan = plan
        self.setWindowTitle(title or f"Merge from {plan.other_name}")
        summary_label = QLabel(
            summary
            or (
                f"{plural(len(plan.one_sided), 'change')} made only in {plan.other_name} will be applied; "
                f"{plural(len(plan.conflicts), 'conflict')} — both copies changed the same thing differently — "
                "keep your value unless you choose theirs."
            )
            + (
                f" {plural(len(plan.duplicates), 'evidence file')} {'is' if len(plan.duplicates) == 1 else 'are'}"
                " already here."
                if plan.duplicates
                else ""
            )
        )
        summary_label.setTextFormat(Qt.TextFormat.PlainText)
        summary_label.setWordWrap(True)
        self.conflicts = QTreeWidget()
        self.conflicts.setObjectName("conflicts")
        self.conflicts.setRootIsDecorated(False)
        self.conflicts.setHeaderLabels(["Conflict", mine, theirs, "Keep"])
        self.choices: dict[str, QComboBox] = {}
        for item in plan.conflicts:
            row = QTreeWidgetItem([item.label, item.mine_text, item.theirs_text, ""])
            row.setToolTip(1, item.mine_text)
            row.setToolTip(2, item.theirs_text)
            self.conflicts.addTopLevelItem(row)
            choice = QComboBox()
            choice.addItem("Mine" if mine == "Yours" else mine, MINE)
            choice.addItem("Theirs" if theirs == "Theirs" else theirs, THEIRS)
            if prefer_theirs:
                choice.setCurrentIndex(1)
            choice.setAccessibleName(f"Keep for {item.label}")
            self.choices[item.key] = choice
            self.conflicts.setItemWidget(row, 3, choice)
        for column in range(3):
            self.conflicts.resizeColumnToContents(column)
        self.conflicts.setVisible(bool(plan.conflicts))
        self.applied = QTreeWidget()
        self.applied.setObjectName("oneSided")
        self.applied.setRootIsDecorated(False)
        self.applied.setHeaderLabels(
            ["Applied from their copy", "Yours now", "Theirs"]
            if theirs == "Theirs"
            else [f"Applied from {theirs}", f"{mine} now", theirs]
        )
        for item in plan.one_sided:
            self.applied.addTopLevelItem(QTreeWidgetItem([item.label, item.mine_text, item.theirs_text]))
        for column in range(3):
            self.applied.resizeColumnToContents(column)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Merge")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary_label)
        if plan.conflicts:
            layout.addWidget(QLabel("Conflicts"))
        layout.addWidget(self.conflicts, 1)
        layout.addWidget(self.applied, 1)
        layout.addWidget(self.buttons)
        self.resize(1000, 620)

    def resolutions(self) -> dict[str, str]:
        return {key: str(choice.currentData()) for key, choice in self.choices.items()}


class MergeCommand(QUndoCommand):
    """An applied merge as one undo step."""

    def __init__(
        self,
        engagement: Engagement,
        other: Path,
        result: MergeResult,
        resolutions: dict[str, str],
        force: bool,
        changed: Callable[[Changes], None],
        failed: Callable[[ZtmmError], None],
    ) -> None:
        super().__init__(f"Merge from {other.name}")
        self.engagement, self.other, self.result = engagement, other, result
        self.resolutions, self.force = resolutions, force
        self._changed, self._failed = changed, failed
        self._applied_once = True

    def redo(self) -> None:
        if self._applied_once:
            self._applied_once = False
            return
        try:
            plan = plan_merge(self.engagement, self.other, force=self.force)
            known = {c.key for c in plan.conflicts}
            chosen = {k: v for k, v in self.resolutions.items() if k in known}
            self.result = apply_merge(self.engagement, plan, chosen)  # type: ignore[arg-type]
        except ZtmmError as err:
            self._failed(err)
            return
        self._changed(self.result)

    def undo(self) -> None:
        try:
            changes = undo_merge(self.engagement, self.result)
        except ZtmmError as err:
            self._failed(err)
            return
        self._changed(changes)


def merge_from(window: WindowHost, path: Path | None = None, *, force: bool = False) -> None:
    """Ask for the colleague's copy (unless given), plan off the UI thread, show the dialog, apply."""
    engagement = window.engagement
    if engagement is None or engagement.readonly:
        return
    if path is None:
        name, _ = QFileDialog.getOpenFileName(
            window, "Merge from colleague", window.settings.last_folder(), "ZTMM engagements (*.ztmm);;All files (*)"
        )
        if not name:
            return
        path = Path(name)
    other = path

    def done(plan: MergePlan) -> None:
        if not plan:
            QMessageBox.information(window, "Nothing to merge", f"{other.name} holds nothing this copy lacks.")
            return
        dialog = MergeDialog(plan, window)
        if not dialog.exec():
            return
        resolutions = dialog.resolutions()
        try:
            result = apply_merge(engagement, plan, resolutions)  # type: ignore[arg-type]
        except ZtmmError as err:
            QMessageBox.warning(window, "Not merged", str(err))
            return
        window.show_changes(result)
        window.undo_stack.push(
            MergeCommand(engagement, other, result, resolutions, force, window.show_changes, window.show_edit_failure)
        )
        window.statusBar().showMessage(
            f"Merged {plural(len(result.applied), 'change')} from {other.name}; "
            f"{plural(len(result.taken), 'conflict')} taken, {len(result.kept):,} kept.",
            8000,
        )

    def failed(err: BaseException) -> None:
        if isinstance(err, OtherEngagement):
            if ask_other_engagement(window, f"{other.name} is not a copy of this engagement. Merge it anyway?"):
                merge_from(window, other, force=True)
        else:
            show_failure(window, err, "Not merged", "Merge cancelled; nothing changed.")

    try:
        unlock(other)  # an encrypted copy asks for its passphrase here, on the UI thread; derived off it
    except passphrase.NoPassphrase:
        return
    except ZtmmError as err:
        QMessageBox.warning(window, "Not merged", str(err))
        return
    window.tasks.run(
        f"Comparing with {other.name}…", lambda p, c: plan_merge(engagement, other, force=force), done, failed
    )
