"""The function page's evidence: what supports the function, where the consultant works.

A short list (title, kind, stage, size) of the evidence linked to the function,
one of its stages or one of its findings; double-click or Enter opens a copy.
Attach… and files dropped on the list attach to the stage in view (the stage the
consultant is working on), which the attach dialog proposes and lets them change.

Like the page, the section never changes the engagement: it emits
``attachRequested(paths, link)`` and ``openRequested(evidence id)``. Its type
sizes are marked the way the page marks its own (``typeScale``…), so the page's
restyle sizes them too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import Function
from ...core.stages import Stage
from ...services.evidence import Evidence, EvidenceLink
from ..evidence.dialogs import WHOLE_FUNCTION, kind_label
from ..evidence.pane import Panel, human_size, local_paths

COLUMNS = ("Evidence", "Kind", "Stage", "Size")
#: Rows the list shows before it scrolls.
ROWS = 6
EMPTY_TEXT = "No evidence for this function yet. Drag files here, choose Attach…, or paste a screenshot with Ctrl+V."


def _mark(widget: QWidget, scale: float, weight: QFont.Weight | None = None, *, dim: bool = False) -> None:
    """Size and colour relative to the page's font, applied by the page's restyle (as ``function_page._type``)."""
    widget.setProperty("typeScale", scale)
    widget.setProperty("typeWeight", weight.value if weight is not None else 0)
    widget.setProperty("typeDim", dim)


def stage_text(function_id: str, links: Sequence[EvidenceLink], finding_titles: Mapping[str, str]) -> str:
    """Where an item supports this function: "Advanced", "Whole function", "Finding: …" (several joined)."""
    parts: list[str] = []
    for link in links:
        if link.finding_id is not None:
            if link.finding_id in finding_titles:
                parts.append(f"Finding: {finding_titles[link.finding_id]}")
        elif link.function_id == function_id:
            parts.append(link.stage.label if link.stage is not None else WHOLE_FUNCTION)
    return ", ".join(dict.fromkeys(parts))


class EvidenceList(QTreeWidget):
    """The list: Enter opens the current item (as a double-click does)."""

    activatedByKey = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem() is not None:
            event.accept()
            self.activatedByKey.emit()
            return
        super().keyPressEvent(event)


class FunctionEvidence(QWidget):
    """The function's evidence on its page, with Attach… and a drop target."""

    attachRequested = Signal(list, object)  # list[Path] of local files, EvidenceLink (the stage in view)
    openRequested = Signal(str)  # evidence id

    def __init__(self, stage_in_view: Callable[[], Stage | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("functionEvidence")
        self.stage_in_view = stage_in_view
        self.last_folder = ""
        self._function: Function | None = None
        self._read_only = False

        title = QLabel("Evidence")
        title.setTextFormat(Qt.TextFormat.PlainText)
        _mark(title, 1.2, QFont.Weight.DemiBold)
        self.count_label = QLabel()
        self.count_label.setObjectName("functionEvidenceCount")
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        _mark(self.count_label, 0.92, dim=True)
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setObjectName("attachEvidence")
        self.attach_button.setToolTip(
            "Attach files to this function; the stage you are working on is proposed (or drop files on the list)"
        )
        self.attach_button.clicked.connect(self.choose_files)
        heading = QHBoxLayout()
        heading.addWidget(title)
        heading.addSpacing(12)
        heading.addWidget(self.attach_button)
        heading.addSpacing(8)
        heading.addWidget(self.count_label)
        heading.addStretch(1)

        self.list = EvidenceList()
        self.list.setObjectName("functionEvidenceList")
        self.list.setColumnCount(len(COLUMNS))
        self.list.setHeaderLabels(list(COLUMNS))
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.list.setAcceptDrops(False)  # drops go to the section
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, header.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, header.ResizeMode.ResizeToContents)
        self.list.itemDoubleClicked.connect(lambda _item, _column: self.open_current())
        self.list.activatedByKey.connect(self.open_current)

        self.empty = Panel(dashed=True)
        self.empty.setObjectName("functionEvidenceEmpty")
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        _mark(self.empty_label, 1.0, dim=True)
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.setContentsMargins(16, 14, 16, 14)
        empty_layout.addWidget(self.empty_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(heading)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        self.setAcceptDrops(True)
        self.show_items(None, [], {})

    # -- showing ------------------------------------------------------------------------

    def show_items(
        self,
        function: Function | None,
        items: Sequence[Evidence],
        finding_titles: Mapping[str, str],
    ) -> None:
        """List ``items`` (the evidence of ``function``); keeps the selected item when it is still listed."""
        self._function = function
        current = self.list.currentItem()
        selected = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        self.list.clear()
        for item in items:
            where = stage_text(function.id, item.links, finding_titles) if function is not None else ""
            row = QTreeWidgetItem([item.title, kind_label(item.kind), where or "—", human_size(item.size)])
            row.setData(0, Qt.ItemDataRole.UserRole, item.id)
            row.setToolTip(0, f'<p style="white-space:pre-wrap">{escape(item.title)}\n{escape(item.original_name)}</p>')
            row.setToolTip(2, f'<p style="white-space:pre-wrap">{escape(where)}</p>' if where else "")
            self.list.addTopLevelItem(row)
            if item.id == selected:
                self.list.setCurrentItem(row)
        count = len(items)
        self.count_label.setText(f"{count} item{'s' if count != 1 else ''}" if count else "")
        self.list.setVisible(bool(count))
        self.empty.setVisible(not count)
        self.empty_label.setText(
            f"No evidence for {function.label}." if self._read_only and function is not None else EMPTY_TEXT
        )
        if count:
            rows = min(count, ROWS)
            height = self.list.sizeHintForRow(0)
            self.list.setFixedHeight(
                self.list.header().sizeHint().height() + rows * height + self.list.frameWidth() * 2 + 2
            )
        self.attach_button.setEnabled(self._can_attach())

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.attach_button.setEnabled(self._can_attach())
        if self._read_only and self._function is not None:
            self.empty_label.setText(f"No evidence for {self._function.label}.")
        else:
            self.empty_label.setText(EMPTY_TEXT)

    def selected_id(self) -> str | None:
        current = self.list.currentItem()
        value = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        return str(value) if value else None

    # -- acting -------------------------------------------------------------------------

    def _can_attach(self) -> bool:
        return self._function is not None and not self._read_only

    def target(self) -> EvidenceLink | None:
        """Where new evidence goes: this function, at the stage in view."""
        if self._function is None:
            return None
        return EvidenceLink(function_id=self._function.id, stage=self.stage_in_view())

    def open_current(self) -> None:
        evidence_id = self.selected_id()
        if evidence_id is not None:
            self.openRequested.emit(evidence_id)

    def choose_files(self) -> None:
        """Attach…: pick files in the system's file dialog."""
        target = self.target()
        if target is None or self._read_only:
            return
        assert self._function is not None
        names, _filter = QFileDialog.getOpenFileNames(
            self, f"Attach evidence to {self._function.label}", self.last_folder, "All files (*)"
        )
        if names:
            self.last_folder = str(Path(names[0]).parent)
            self.attachRequested.emit([Path(name) for name in names], target)

    def _take_drag(self, event: QDragMoveEvent) -> None:
        if self._can_attach() and local_paths(event.mimeData())[0]:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._take_drag(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._take_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths, _other = local_paths(event.mimeData())
        target = self.target()
        if target is None or self._read_only or not paths:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.attachRequested.emit(paths, target)
