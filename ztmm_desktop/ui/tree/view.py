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

from PySide6.QtCore import QAbstractProxyModel, QEvent, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QResizeEvent
from PySide6.QtWidgets import QHeaderView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTreeView, QWidget

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
    STATUS_LABELS,
    EngagementTreeModel,
)

#: The longest "current → target" without an override: the state column is as wide as this.
WIDEST_STATE = "Traditional → Advanced"


class _FittingDelegate(QStyledItemDelegate):
    """Cut text where it still says the most: a state keeps both ends ("Advanced (ov…→ Optimal"), and a
    status too long for its column shows only its mark (ring, half or full disc; the tooltip has the words)."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        if index.column() == STATE_COLUMN:
            option.textElideMode = Qt.TextElideMode.ElideMiddle
        elif index.column() == STATUS_COLUMN and option.text and option.rect.width() > 0:
            room = option.rect.width() - option.decorationSize.width() - 12
            if option.fontMetrics.horizontalAdvance(option.text) > room:
                option.text = ""


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
        # Only the columns it fits: every cell painted asks its delegate, and this one answers in Python.
        fitting = _FittingDelegate(self)
        self.setItemDelegateForColumn(STATE_COLUMN, fitting)
        self.setItemDelegateForColumn(STATUS_COLUMN, fitting)
        self._kept: _Place | None = None

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
        super().setModel(model)  # type: ignore[arg-type]
        new = self.model()
        if new is not None:
            new.modelAboutToBeReset.connect(self._remember_place)
            new.modelReset.connect(self._restore_place)  # after the view's own reset, which closes every row
        header = self.header()
        if header.count() > STATUS_COLUMN:
            header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(STATE_COLUMN, QHeaderView.ResizeMode.Interactive)
            header.setSectionResizeMode(STATUS_COLUMN, QHeaderView.ResizeMode.Interactive)
        if header.count() > EVIDENCE_COLUMN:  # a paper clip and a count: as narrow as that, measured here
            # (ResizeToContents would lay out every row again at each edit: about 10 ms at every typing pause)
            header.setSectionResizeMode(EVIDENCE_COLUMN, QHeaderView.ResizeMode.Interactive)
        if header.count() > STATUS_COLUMN:
            self._fit_columns()

    # -- columns that fit the pane ------------------------------------------------------

    def _fit_columns(self) -> None:
        """Give the names room first (a code and a dozen letters), then the state, then the status in words.

        The state column is as wide as a state without override; the status shrinks to its mark when
        the pane is narrow, and the state column leaves when even then the names would have no room
        (the function page and the guidance pane show the state; a wider pane brings the column back).
        """
        header = self.header()
        if header.count() <= STATUS_COLUMN:
            return
        fm = self.fontMetrics()
        if header.count() > EVIDENCE_COLUMN:
            clip = max(self.iconSize().width(), fm.height()) + fm.horizontalAdvance("999") + 12
            if header.sectionSize(EVIDENCE_COLUMN) != clip:
                header.resizeSection(EVIDENCE_COLUMN, clip)
        pad = 2 * self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 10
        state = fm.horizontalAdvance(WIDEST_STATE) + pad
        mark = max(self.iconSize().width(), fm.height()) + pad
        words = mark + max(fm.horizontalAdvance(label) for label in STATUS_LABELS.values()) + 4
        names = 2 * self.indentation() + fm.averageCharWidth() * 16
        others = sum(  # columns after these three keep their widths
            header.sectionSize(column)
            for column in range(STATUS_COLUMN + 1, header.count())
            if not header.isSectionHidden(column)
        )
        room = self.viewport().width() - names - others
        status = words if room >= state + words else mark
        header.setSectionHidden(STATE_COLUMN, room < state + status)
        if header.sectionSize(STATE_COLUMN) != state:
            header.resizeSection(STATE_COLUMN, state)
        if header.sectionSize(STATUS_COLUMN) != status:
            header.resizeSection(STATUS_COLUMN, status)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_columns()

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
            self._fit_columns()
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
        self._fit_columns()
        self.executeDelayedItemsLayout()
        self.verticalScrollBar().setValue(kept.scroll)

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
