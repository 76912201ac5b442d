"""The left pane's tree view: says which function (and stage) is current, and selects one by id.

It works on an ``EngagementTreeModel`` directly or through proxies (such as
``TreeFilterProxy``); ids go in and out, never the view's own indexes. When the
model is rebuilt (a baseline frozen, the scope or wording changed), the view
keeps the rows that were open, the current row and where it was scrolled to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractProxyModel, QEvent, QModelIndex, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QHeaderView, QStyle, QTreeView, QWidget

from ..core.stages import Stage
from .tree_model import (
    FUNCTION_ID_ROLE,
    NAME_COLUMN,
    NODE_KIND_ROLE,
    PILLAR,
    PILLAR_ID_ROLE,
    STAGE_ROLE,
    STATE_COLUMN,
    STATUS_COLUMN,
    STATUS_LABELS,
    EngagementTreeModel,
)


@dataclass(frozen=True)
class _Place:
    """What the view showed before its model was rebuilt."""

    expanded: set[tuple[str, str]]
    current: tuple[str, str] | None
    stage: int | None
    scroll: int


class EngagementTreeView(QTreeView):
    """A tree of pillars → functions → stages."""

    #: The current row is a function (stage None) or one of its stages (a ``Stage``).
    function_selected = Signal(str, object)
    #: The current row is a pillar.
    pillar_selected = Signal(str)
    #: Local files were dropped on a function or stage row: (paths, function id, stage or None).
    files_dropped = Signal(list, str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tree")
        self.setUniformRowHeights(True)  # row heights are not measured one by one
        self.setAllColumnsShowFocus(True)
        header = self.header()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(24)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self._kept: _Place | None = None
        self._fitted: tuple[frozenset[str], str] | None = None  # what the status column was last fitted to

    # -- dropping evidence files on a function or stage -------------------------------

    def _drop_target(self, event: QDropEvent | QDragMoveEvent) -> tuple[str, Stage | None] | None:
        if not event.mimeData().hasUrls() or not all(u.isLocalFile() for u in event.mimeData().urls()):
            return None
        index = self.indexAt(event.position().toPoint())
        function_id = index.data(FUNCTION_ID_ROLE) if index.isValid() else None
        if not function_id:
            return None
        stage = index.data(STAGE_ROLE)
        return str(function_id), Stage(stage) if stage is not None else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._drop_target(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        target = self._drop_target(event)
        if target is None:
            event.ignore()
            return
        event.acceptProposedAction()
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls()]
        self.files_dropped.emit(paths, target[0], target[1])

    def setModel(self, model: object) -> None:  # type: ignore[override]
        old = self.model()
        if old is not None:
            old.modelAboutToBeReset.disconnect(self._remember_place)
            old.modelReset.disconnect(self._restore_place)
            old.dataChanged.disconnect(self._data_changed)
            old.layoutChanged.disconnect(self._fit_status_column)
        super().setModel(model)  # type: ignore[arg-type]
        new = self.model()
        if new is not None:
            new.modelAboutToBeReset.connect(self._remember_place)
            new.modelReset.connect(self._restore_place)  # after the view's own reset, which closes every row
            new.dataChanged.connect(self._data_changed)
            new.layoutChanged.connect(self._fit_status_column)  # e.g. filtered
        header = self.header()
        if header.count() > STATUS_COLUMN:
            header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(STATE_COLUMN, QHeaderView.ResizeMode.Interactive)
            header.setSectionResizeMode(STATUS_COLUMN, QHeaderView.ResizeMode.Fixed)  # as wide as its statuses
            header.resizeSection(STATE_COLUMN, 150)
            self._fit_status_column()

    def _fit_status_column(self) -> None:
        """As wide as the longest status shown with its mark, as ``ResizeToContents`` would make it.

        Not ``ResizeToContents`` itself: that lays out every row again at each
        edit's ``dataChanged`` (about 10 ms a time on a large tree, at every pause
        in typing); this reads the statuses and measures their few labels.
        """
        header = self.header()
        if self.model() is None or header.count() <= STATUS_COLUMN:
            return
        source = self._source()
        shown = source.statuses() if source is not None else frozenset()
        fitted = (shown, self.font().key())
        if fitted == self._fitted:
            return  # the same statuses in the same type: the same width (most edits)
        labels = [STATUS_LABELS[status] for status in shown if status in STATUS_LABELS] or list(STATUS_LABELS.values())
        metrics = self.fontMetrics()
        style = self.style()
        icon = style.pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1  # the delegate's, each side
        width = max(metrics.horizontalAdvance(label) for label in labels) + icon + 4 * margin + 1
        width = max(width, header.sectionSizeHint(STATUS_COLUMN))
        if header.sectionSize(STATUS_COLUMN) != width:
            header.resizeSection(STATUS_COLUMN, width)
        self._fitted = fitted

    def _data_changed(self, _first: QModelIndex, last: QModelIndex) -> None:
        if last.column() >= STATUS_COLUMN:
            self._fit_status_column()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fitted = None
            self._fit_status_column()

    # -- keeping the place when the model is rebuilt ---------------------------------

    def _rows(self, parent: QModelIndex | None = None) -> Iterator[QModelIndex]:
        """Every row that can have children (pillars, functions), depth first."""
        model = self.model()
        parent = parent if parent is not None else QModelIndex()
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if model.hasChildren(index):
                yield index
                yield from self._rows(index)

    @staticmethod
    def _key(index: QModelIndex) -> tuple[str, str]:
        if index.data(NODE_KIND_ROLE) == PILLAR:
            return PILLAR, str(index.data(PILLAR_ID_ROLE))
        return "function", str(index.data(FUNCTION_ID_ROLE))

    def _remember_place(self) -> None:
        current = self.currentIndex()
        self._kept = _Place(
            expanded={self._key(index) for index in self._rows() if self.isExpanded(index)},
            current=self._key(current) if current.isValid() else None,
            stage=current.data(STAGE_ROLE) if current.isValid() else None,
            scroll=self.verticalScrollBar().value(),
        )

    def _restore_place(self) -> None:
        kept, self._kept = self._kept, None
        if kept is None:
            self._fit_status_column()
            return
        for index in self._rows():
            if self._key(index) in kept.expanded:
                self.setExpanded(index, True)
        if kept.current is not None:
            kind, key = kept.current
            if kind == PILLAR:
                pillar = next((i for i in self._rows() if self._key(i) == kept.current), None)
                if pillar is not None:
                    self.setCurrentIndex(pillar)
            else:
                self.select_function(key, Stage(kept.stage) if kept.stage is not None else None)
        self._fit_status_column()
        self.executeDelayedItemsLayout()
        self.verticalScrollBar().setValue(kept.scroll)

    def currentChanged(self, current: QModelIndex, previous: QModelIndex) -> None:
        super().currentChanged(current, previous)
        if not current.isValid():
            return
        function_id = current.data(FUNCTION_ID_ROLE)
        if function_id:
            stage = current.data(STAGE_ROLE)
            self.function_selected.emit(function_id, Stage(stage) if stage is not None else None)
        elif current.data(NODE_KIND_ROLE) == PILLAR:
            self.pillar_selected.emit(current.data(PILLAR_ID_ROLE))

    def _source(self) -> EngagementTreeModel | None:
        """The engagement's model under the proxies, if that is what the view shows."""
        model = self.model()
        while isinstance(model, QAbstractProxyModel):
            model = model.sourceModel()
        return model if isinstance(model, EngagementTreeModel) else None

    def select_function(self, function_id: str, stage: Stage | None = None) -> bool:
        """Make a function's (or stage's) row current; False when it is unknown or filtered out."""
        proxies: list[QAbstractProxyModel] = []
        model = self.model()
        while isinstance(model, QAbstractProxyModel):
            proxies.append(model)
            model = model.sourceModel()
        if not isinstance(model, EngagementTreeModel):
            return False
        index = model.index_for_function(function_id) if stage is None else model.index_for_stage(function_id, stage)
        for proxy in reversed(proxies):
            index = proxy.mapFromSource(index)
        if not index.isValid():
            return False
        self.setCurrentIndex(index)
        self.scrollTo(index)
        return True
