"""The left pane's tree view: says which function (and stage) is current, and selects one by id.

It works on an ``EngagementTreeModel`` directly or through proxies (such as
``TreeFilterProxy``); ids go in and out, never the view's own indexes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractProxyModel, QModelIndex, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QHeaderView, QTreeView, QWidget

from ...core.stages import Stage
from .model import (
    EVIDENCE_COLUMN,
    FUNCTION_ID_ROLE,
    NAME_COLUMN,
    NODE_KIND_ROLE,
    PILLAR,
    PILLAR_ID_ROLE,
    STAGE_ROLE,
    STATE_COLUMN,
    STATUS_COLUMN,
    EngagementTreeModel,
)


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
        super().setModel(model)  # type: ignore[arg-type]
        header = self.header()
        if header.count() > STATUS_COLUMN:
            header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(STATE_COLUMN, QHeaderView.ResizeMode.Interactive)
            header.setSectionResizeMode(STATUS_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
            header.resizeSection(STATE_COLUMN, 150)
            header.resizeSection(STATUS_COLUMN, 92)
        if header.count() > EVIDENCE_COLUMN:  # a paper clip and a count: as narrow as that
            header.setSectionResizeMode(EVIDENCE_COLUMN, QHeaderView.ResizeMode.ResizeToContents)

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
