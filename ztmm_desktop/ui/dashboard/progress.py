"""The Progress view: the engagement now against a frozen baseline or an earlier engagement file.

A tab beside the dashboard, which itself shows the headline of the comparison
with the newest baseline (:class:`ProgressBanner`) and opens this tab. The
consultant picks what to compare with (a
baseline of this engagement, newest first, or another engagement file of the
same client) and sees the summary, each pillar's mean then and now, and every
function with its stage then and now — by default only those that changed.
Double-clicking a function opens it. *Freeze baseline…* asks for a name and
emits the request; the window makes it an undoable command. Everything shown
is read through ``services/baselines.py``; nothing here touches the file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import figures
from ...core.errors import ZtmmError
from ...core.progress_compare import Comparison, FunctionProgress, Movement
from ...services.baselines import compare_with_baseline, compare_with_file, list_baselines
from ...services.engagement import Engagement

OTHER_FILE = "Another engagement file…"
#: A function's movement by ``figures.movement_key`` (the same words and counts as the deliverables).
MOVEMENT_TEXT = {
    "improved": "▲ improved",
    "regressed": "▼ regressed",
    "same-stage": "same stage",
    "not-comparable": "not comparable",
    "unchanged": "unchanged",
}
MOVEMENT_COLOUR = {Movement.IMPROVED: "#3c9a5f", Movement.REGRESSED: "#c8463d"}
FUNCTION_ID_ROLE = Qt.ItemDataRole.UserRole


class ProgressBanner(QFrame):
    """The dashboard's line on progress: the newest baseline against now, and a way to the Progress tab.

    Hidden while the engagement has no baseline. Nothing is read until :meth:`refresh` (the
    window calls it when the dashboard is shown, so opening an engagement does not compare).
    """

    showRequested = Signal()

    def __init__(self, engagement: Engagement, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engagement = engagement
        self.setObjectName("progressBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QLabel()
        self.text.setObjectName("progressBannerText")
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.button = QPushButton("Show progress")
        self.button.setObjectName("showProgress")
        self.button.clicked.connect(self.showRequested)
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.button)
        self.setVisible(False)

    def refresh(self) -> None:
        baselines = list_baselines(self.engagement)
        if not baselines:
            self.setVisible(False)
            return
        try:
            comparison = compare_with_baseline(self.engagement, baselines[-1].name)
        except ZtmmError as err:
            self.text.setText(f"Progress since baseline {baselines[-1].name!r}: {err}")
        else:
            self.text.setText(f"Progress since {comparison.then_label}: {comparison.summary()}")
        self.setVisible(True)


def _stage(progress: FunctionProgress, then: bool) -> str:
    side = progress.then if then else progress.now
    if side is None:
        return "—"
    result = side.result
    if not result.applicable:
        return "Not applicable"
    if not result.assessed:
        return "Not assessed"
    return result.current.label + (" (override)" if result.overridden else "")


class ProgressView(QWidget):
    """Then and now, per pillar and per function."""

    functionActivated = Signal(str)
    freezeRequested = Signal(str)  # the baseline name

    def __init__(self, engagement: Engagement, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engagement = engagement
        self.comparison: Comparison | None = None
        self._other_file: Path | None = None
        self.source = QComboBox()
        self.source.setObjectName("compareWith")
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(24)
        self.source.activated.connect(self._source_chosen)
        self.freeze_button = QPushButton("Freeze baseline…")
        self.freeze_button.setObjectName("freezeBaseline")
        self.freeze_button.clicked.connect(self.ask_freeze)
        self.changed_only = QCheckBox("Changed functions only")
        self.changed_only.setChecked(True)
        self.changed_only.toggled.connect(self._fill_functions)
        self.summary = QLabel()
        self.summary.setObjectName("progressSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.pillars = QTreeWidget()
        self.pillars.setObjectName("pillarProgress")
        self.pillars.setRootIsDecorated(False)
        self.pillars.setHeaderLabels(["Pillar", "Then", "Now", "Change"])
        self.pillars.setMaximumHeight(200)
        self.functions = QTreeWidget()
        self.functions.setObjectName("functionProgress")
        self.functions.setRootIsDecorated(False)
        self.functions.setUniformRowHeights(True)
        self.functions.setHeaderLabels(["Function", "Then", "Now", "Movement", "Target", "What changed"])
        self.functions.itemActivated.connect(self._activated)
        top = QHBoxLayout()
        top.addWidget(QLabel("Compare with"))
        top.addWidget(self.source, 1)
        options = QHBoxLayout()
        options.addWidget(self.changed_only)
        options.addStretch(1)
        options.addWidget(self.freeze_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(options)
        layout.addWidget(self.summary)
        layout.addWidget(self.pillars)
        layout.addWidget(self.functions, 1)
        self.refresh()

    # -- reading --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the baselines and compare again with what is chosen (the newest baseline by default)."""
        chosen = self.source.currentData()
        baselines = list_baselines(self.engagement)
        self.source.blockSignals(True)
        self.source.clear()
        for baseline in reversed(baselines):  # newest first
            when = baseline.created_at[:10]
            self.source.addItem(f"{baseline.name} ({when}, {baseline.score_text})", f"baseline:{baseline.name}")
        if self._other_file is not None:
            self.source.addItem(self._other_file.name, f"file:{self._other_file}")
        self.source.addItem(OTHER_FILE, "choose:")
        index = self.source.findData(chosen) if chosen is not None else -1
        self.source.setCurrentIndex(index if index >= 0 and chosen != "choose:" else 0)
        self.source.blockSignals(False)
        self._compare()

    def _compare(self) -> None:
        kind, _, value = str(self.source.currentData() or "choose:").partition(":")
        self.comparison = None
        try:
            if kind == "baseline":
                self.comparison = compare_with_baseline(self.engagement, value)
            elif kind == "file":
                self.comparison = compare_with_file(self.engagement, Path(value))
        except ZtmmError as err:
            self.summary.setText(str(err))
        else:
            if self.comparison is None:
                self.summary.setText(
                    "No baseline yet. Freeze one now (for example at the end of the first assessment) "
                    "and compare with it later, or compare with an earlier engagement file of this client."
                )
            else:
                self.summary.setText(f"{self.comparison.then_label} → now: {self.comparison.summary()}")
        self._fill_pillars()
        self._fill_functions()

    def _source_chosen(self, _index: int) -> None:
        if str(self.source.currentData()) == "choose:":
            name, _ = QFileDialog.getOpenFileName(
                self, "Compare with an engagement file", "", "ZTMM engagements (*.ztmm);;All files (*)"
            )
            if name:
                self._other_file = Path(name)
                self.source.setItemData(self.source.currentIndex(), f"file:{name}")  # chosen by refresh()
                self.refresh()
                return
            self.source.setCurrentIndex(0)
        self._compare()

    # -- showing -----------------------------------------------------------------------------

    def _fill_pillars(self) -> None:
        self.pillars.clear()
        if self.comparison is None:
            self.pillars.hide()
            return
        for rollup in (*self.comparison.pillars, self.comparison.overall):
            shown = figures.rollup_change(rollup)  # the change of the shown figures, as in the deliverables
            delta = shown.delta
            change = "—" if delta is None else shown.delta_text
            item = QTreeWidgetItem([rollup.name, shown.then.score_level_text, shown.now.score_level_text, change])
            if delta:
                item.setForeground(3, QBrush(QColor("#3c9a5f" if delta > 0 else "#c8463d")))
            self.pillars.addTopLevelItem(item)
        for column in range(4):
            self.pillars.resizeColumnToContents(column)
        self.pillars.show()

    def _fill_functions(self) -> None:
        self.functions.clear()
        comparison = self.comparison
        self.functions.setVisible(comparison is not None)
        if comparison is None:
            return
        shown = comparison.changed if self.changed_only.isChecked() else comparison.functions
        for progress in shown:
            then_target = progress.then.target if progress.then is not None else None
            now_target = progress.now.target
            target = (now_target.label if now_target else "—") + (
                f" (was {then_target.label if then_target else 'none'})" if then_target != now_target else ""
            )
            item = QTreeWidgetItem(
                [
                    f"{progress.function.code} {progress.function.name}",
                    _stage(progress, then=True),
                    _stage(progress, then=False),
                    MOVEMENT_TEXT[figures.movement_key(progress)],
                    target,
                    ", ".join(progress.changes) or "—",
                ]
            )
            item.setData(0, FUNCTION_ID_ROLE, progress.function.id)
            colour = MOVEMENT_COLOUR.get(progress.movement)
            if colour is not None:
                item.setForeground(3, QBrush(QColor(colour)))
            item.setToolTip(0, progress.describe())
            self.functions.addTopLevelItem(item)
        for column in range(5):
            self.functions.resizeColumnToContents(column)

    def rows(self) -> list[list[str]]:
        """The function rows as shown (tests, screenshots)."""
        items = [self.functions.topLevelItem(i) for i in range(self.functions.topLevelItemCount())]
        return [[item.text(c) for c in range(6)] for item in items]

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        function_id = item.data(0, FUNCTION_ID_ROLE)
        if function_id:
            self.functionActivated.emit(str(function_id))

    # -- freezing -----------------------------------------------------------------------------

    def ask_freeze(self) -> None:
        suggested = f"Assessment {dt.date.today():%Y-%m-%d}"
        name, ok = QInputDialog.getText(
            self, "Freeze baseline", "Name of the baseline (what the assessment stands for):", text=suggested
        )
        if ok and name.strip():
            self.freezeRequested.emit(name.strip())

    def set_read_only(self, read_only: bool) -> None:
        self.freeze_button.setEnabled(not read_only)
