"""The main window: the model's tree on the left, the selected function on the right.

This first window shows an engagement (ratings, current and target stages,
roll-ups and the guidance for each stage); editing in the window arrives with
the workbench issue. It reads everything through the engagement service.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QTextBrowser, QTreeView

from ..core.scoring import FunctionResult
from ..core.stages import RATED_STAGES, Stage
from ..services.engagement import Engagement

FUNCTION_ROLE = Qt.ItemDataRole.UserRole + 1
STAGE_ROLE = Qt.ItemDataRole.UserRole + 2


def stage_summary(result: FunctionResult) -> str:
    if not result.assessed:
        current = "not assessed"
    else:
        current = result.current.label + (" (override)" if result.overridden else "")
    if result.target is None:
        return current
    return f"{current} → {result.target.label}"


class MainWindow(QMainWindow):
    def __init__(self, engagement: Engagement) -> None:
        super().__init__()
        self.engagement = engagement
        meta = engagement.meta()
        self.setWindowTitle(f"{engagement.path.name} — {meta.client} — ZTMM Workbench")
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(["Model", "Current → target"])
        self.tree = QTreeView()
        self.tree.setObjectName("tree")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.detail = QTextBrowser()
        self.detail.setObjectName("detail")
        self.detail.setOpenExternalLinks(True)  # links open in the browser only when clicked
        splitter = QSplitter()
        splitter.addWidget(self.tree)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(1, 2)
        self.setCentralWidget(splitter)
        self.marking = QLabel(meta.marking)
        self.statusBar().addPermanentWidget(self.marking)
        self._fill()
        self.tree.selectionModel().currentChanged.connect(self._show)
        self.tree.expandToDepth(0)
        self.tree.setColumnWidth(0, 300)
        self.resize(1280, 800)
        splitter.setSizes([470, 810])

    def _fill(self) -> None:
        results = self.engagement.results()
        assessments = self.engagement.assessments()
        pillars, overall = self.engagement.rollups()
        by_pillar = {r.key: r for r in pillars}
        scope = set(self.engagement.meta().scope)
        for pillar in self.engagement.catalog.pillars:
            if pillar.id not in scope:
                continue
            row = [QStandardItem(f"{pillar.code} {pillar.name}"), QStandardItem(by_pillar[pillar.id].score_text)]
            for function in pillar.functions:
                result = results[function.id]
                f_item = QStandardItem(function.label)
                f_item.setData(function.id, FUNCTION_ROLE)
                children = []
                for stage in Stage:
                    s_item = QStandardItem(stage.label)
                    s_item.setData(function.id, FUNCTION_ROLE)
                    s_item.setData(int(stage), STAGE_ROLE)
                    rating = assessments[function.id].rating(stage).rating.label if stage in RATED_STAGES else "floor"
                    children.append([s_item, QStandardItem(rating)])
                for child in children:
                    f_item.appendRow(child)
                row[0].appendRow([f_item, QStandardItem(stage_summary(result))])
            self.model.appendRow(row)
        self.statusBar().showMessage(
            f"Overall {overall.score_text} — {overall.assessed} of {overall.functions} functions assessed"
        )

    def _show(self, index: QModelIndex) -> None:
        first = index.siblingAtColumn(0)
        function_id = first.data(FUNCTION_ROLE)
        if not function_id:
            self.detail.clear()
            return
        self.detail.setHtml(self.function_html(function_id, first.data(STAGE_ROLE)))

    def function_html(self, function_id: str, stage_value: int | None) -> str:
        engagement = self.engagement
        function = engagement.catalog.function(function_id)
        assessment = engagement.assessments()[function_id]
        result = engagement.results()[function_id]
        parts = [f"<h2>{escape(function.label)}</h2>", f"<p><b>Current → target:</b> {escape(stage_summary(result))}"]
        if result.overridden:
            parts.append(f"<br><b>Override</b> (derived {result.derived.label}): {escape(result.override_reason)}")
        parts.append("</p>")
        if assessment.notes:
            parts.append(f"<p><b>Notes:</b> {escape(assessment.notes)}</p>")
        for stage in Stage:
            marker = " ◀" if stage_value is not None and int(stage) == stage_value else ""
            parts.append(f"<h3>{stage.label}{marker}</h3><p>{escape(engagement.stage_text(function, stage))}</p>")
            if stage in RATED_STAGES:
                rating = assessment.rating(stage)
                comment = f" — {escape(rating.comment)}" if rating.comment else ""
                parts.append(f"<p><i>{rating.rating.label}</i>{comment}</p>")
            for pack in engagement.library.packs:
                for rec in pack.for_stage(function_id, stage):
                    links = " · ".join(f'<a href="{escape(r.url)}">{escape(r.title)}</a>' for r in rec.references)
                    parts.append(f"<p><b>{escape(rec.product)}</b>: {escape(rec.action)}<br><small>{links}</small></p>")
        return "".join(parts)
