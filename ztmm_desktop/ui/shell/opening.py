"""What the window shows while the engagement asked for at start opens: the model's tree, from the catalog.

The consultant sees the window and the model at once; the engagement (which needs the
database layer, the services and every view over it) loads right after this first frame
and replaces the page. Nothing here reads an engagement or imports the services' database
layer: the catalog is the shipped YAML file (the guidance packs, nine tenths of the parsing, wait
for the engagement).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import Catalog
from ...core.errors import ZtmmError
from ..tree.model import EVIDENCE_COLUMN, HEADERS, NAME_COLUMN, STATE_COLUMN, STATUS_COLUMN


def shipped_catalog() -> Catalog | None:
    """The shipped catalog without its guidance packs (a tenth of the parsing), or None when it cannot be
    read (opening the engagement then says why)."""
    from ...core.catalog_load import load_catalog
    from ...paths import catalog_dir
    from ...services.catalogs import CATALOG_FILE

    try:
        return load_catalog(catalog_dir() / CATALOG_FILE)
    except (ZtmmError, OSError):
        return None


def catalog_model(catalog: Catalog | None) -> QStandardItemModel:
    """Pillars → functions, with the workbench tree's columns and names; nothing assessed yet."""
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(list(HEADERS))
    if catalog is None:
        return model
    bold = QFont()
    bold.setBold(True)
    for pillar in catalog.pillars:
        row = QStandardItem(f"{pillar.code} {pillar.name}")
        row.setFont(bold)
        for function in pillar.functions:
            row.appendRow([QStandardItem(function.label), *_empty_cells()])
        model.appendRow([row, *_empty_cells()])
    for item in _items(model):
        item.setEditable(False)
    return model


def _empty_cells() -> list[QStandardItem]:
    return [QStandardItem() for _ in HEADERS[1:]]


def _items(model: QStandardItemModel) -> list[QStandardItem]:
    found: list[QStandardItem] = []
    pending = [model.invisibleRootItem()]
    while pending:
        parent = pending.pop()
        for row in range(parent.rowCount()):
            for column in range(parent.columnCount()):
                child = parent.child(row, column)
                if child is not None:
                    found.append(child)
                    pending.append(child)
    return found


class OpeningPage(QWidget):
    """The model's tree on the left, where the workbench's tree will be, and what is being opened."""

    def __init__(self, message: str, catalog: Catalog | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("openingPage")
        self.model = catalog_model(catalog)
        self.tree = QTreeView()
        self.tree.setObjectName("openingTree")
        self.tree.setUniformRowHeights(True)
        self.tree.setModel(self.model)
        self.tree.setSelectionMode(QTreeView.SelectionMode.NoSelection)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tree.expandToDepth(0)
        header = self.tree.header()  # about as the workbench's tree (tree/view.py)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(STATE_COLUMN, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(STATUS_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(STATE_COLUMN, 150)
        header.resizeSection(STATUS_COLUMN, 92)
        header.setSectionResizeMode(EVIDENCE_COLUMN, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(EVIDENCE_COLUMN, 32)
        self.message = QLabel(message)
        self.message.setObjectName("openingMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #5f6368")
        # The workbench's filter row, not usable yet: the tree stays where it will be.
        filter_edit = QLineEdit()
        filter_edit.setPlaceholderText("Filter: names and stage texts (Ctrl+F)")
        quick = QComboBox()
        quick.addItem("All functions")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(filter_edit, 3)
        row.addWidget(quick, 2)
        for widget in (filter_edit, quick):
            widget.setEnabled(False)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        left_layout.addLayout(row)
        left_layout.addWidget(self.tree, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.message)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 8)
        splitter.setSizes([450, 990])  # the workbench's tree, then its centre and guidance
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)


class _FirstPaint(QObject):
    """Calls back once, when the first frame of the watched widget is complete (or after a fallback delay)."""

    def __init__(self, widget: QWidget, callback: Callable[[], None], fallback_ms: int) -> None:
        super().__init__(widget)
        self._widget = widget
        self._callback: Callable[[], None] | None = callback
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self._fire)  # e.g. a window that is never exposed

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._widget and event.type() == QEvent.Type.Paint and self._callback is not None:
            # Qt paints a whole frame inside one update request: a call queued now runs once it is complete.
            QTimer.singleShot(0, self, self._fire)
        return False

    def _fire(self) -> None:
        callback, self._callback = self._callback, None
        if callback is None:
            return
        self._widget.removeEventFilter(self)
        callback()


def after_first_paint(widget: QWidget, callback: Callable[[], None], *, fallback_ms: int = 500) -> None:
    """Run ``callback`` from the event loop once ``widget`` has painted its first frame."""
    _FirstPaint(widget, callback, fallback_ms)
