"""Tools → Workshops…: record workshops with the client, and start or stop the one being held.

While a workshop runs, every rating, comment and finding made (in the window or
with ``ztmm``) is tagged with it, and the function page shows the tag. Changes
to workshops themselves — adding, editing, deleting, starting, stopping — are
saved with the engagement like any edit but are *not* on the Edit → Undo stack;
the ratings made during a workshop stay undoable as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import Catalog
from ...core.errors import ZtmmError
from ...services import workshops
from ...services.engagement import Engagement
from ...services.workshops import Attendee, Workshop, WorkshopDraft
from ..common.dialogs import confirm_remove, error_label
from ..editing.requests import AddWorkshop, DeleteWorkshop, EditWorkshop, StartWorkshop, StopWorkshop, WorkshopRequest

STATUS_LABELS = {workshops.PLANNED: "Planned", workshops.RUNNING: "Running", workshops.HELD: "Held"}


def running_text(engagement: Engagement | None) -> str:
    """The status-bar text while a workshop runs ('' when none does)."""
    if engagement is None:
        return ""
    current = workshops.running(engagement)
    return f"Workshop running: {current.title}" if current is not None else ""


class WorkshopEditor(QDialog):
    """Add or edit one workshop: date, title, coverage, notes and attendees."""

    def __init__(self, catalog: Catalog, current: Workshop | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit workshop" if current is not None else "New workshop")
        draft = current.draft() if current is not None else WorkshopDraft(dt.date.today().isoformat(), "")
        self.date_edit = QDateEdit()
        self.date_edit.setObjectName("workshopDate")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setDate(QDate.fromString(draft.date, "yyyy-MM-dd"))
        self.title_edit = QLineEdit(draft.title)
        self.title_edit.setObjectName("workshopTitle")
        self.title_edit.setPlaceholderText("e.g. Identity and devices workshop (required)")

        pillars_box = QWidget()
        grid = QGridLayout(pillars_box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.pillar_items: dict[str, QListWidgetItem] = {}
        self.pillars = QListWidget()
        self.pillars.setObjectName("workshopPillars")
        self.functions = QListWidget()
        self.functions.setObjectName("workshopFunctions")
        self.function_items: dict[str, QListWidgetItem] = {}
        for pillar in catalog.pillars:
            item = QListWidgetItem(f"{pillar.code} {pillar.name}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if pillar.id in draft.pillars else Qt.CheckState.Unchecked)
            self.pillars.addItem(item)
            self.pillar_items[pillar.id] = item
            for function in pillar.functions:
                fitem = QListWidgetItem(function.label)
                fitem.setFlags(fitem.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = function.id in draft.functions
                fitem.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                self.functions.addItem(fitem)
                self.function_items[function.id] = fitem
        self.pillars.setFixedHeight(140)
        self.functions.setFixedHeight(140)
        grid.addWidget(QLabel("Pillars"), 0, 0)
        grid.addWidget(QLabel("Functions"), 0, 1)
        grid.addWidget(self.pillars, 1, 0)
        grid.addWidget(self.functions, 1, 1)

        self.notes_edit = QPlainTextEdit(draft.notes)
        self.notes_edit.setObjectName("workshopNotes")
        self.notes_edit.setFixedHeight(70)

        self.attendees = QTableWidget(0, 3)
        self.attendees.setObjectName("attendees")
        self.attendees.setHorizontalHeaderLabels(["Name", "Role", "Organization"])
        self.attendees.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.attendees.verticalHeader().setVisible(False)
        self.attendees.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for attendee in draft.attendees:
            self._append(attendee)
        self.paste_button = QPushButton("Paste from spreadsheet")
        self.paste_button.setObjectName("pasteAttendees")
        self.paste_button.setToolTip("Copy rows of name, role, organization in Excel, then click here")
        self.add_row_button = QPushButton("Add row")
        self.remove_row_button = QPushButton("Remove row")
        self.paste_button.clicked.connect(self.paste_attendees)
        self.add_row_button.clicked.connect(lambda: self._append(Attendee("")))
        self.remove_row_button.clicked.connect(self._remove_rows)
        attendee_buttons = QHBoxLayout()
        attendee_buttons.addWidget(self.paste_button)
        attendee_buttons.addWidget(self.add_row_button)
        attendee_buttons.addWidget(self.remove_row_button)
        attendee_buttons.addStretch(1)

        form = QFormLayout()
        form.addRow("&Date", self.date_edit)
        form.addRow("&Title", self.title_edit)
        form.addRow("Covers", pillars_box)
        form.addRow("&Notes", self.notes_edit)
        self.error = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Attendees"))
        layout.addWidget(self.attendees)
        layout.addLayout(attendee_buttons)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.title_edit.textChanged.connect(self._update_ok)
        self._update_ok()
        self.resize(720, 680)

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.title_edit.text().strip()))

    def _append(self, attendee: Attendee) -> None:
        row = self.attendees.rowCount()
        self.attendees.insertRow(row)
        for column, text in enumerate((attendee.name, attendee.role, attendee.organisation)):
            self.attendees.setItem(row, column, QTableWidgetItem(text))

    def _remove_rows(self) -> None:
        for row in sorted({index.row() for index in self.attendees.selectedIndexes()}, reverse=True):
            self.attendees.removeRow(row)

    def paste_attendees(self) -> None:
        """Append the attendees on the clipboard (rows copied from a spreadsheet)."""
        try:
            pasted = workshops.parse_attendees(QApplication.clipboard().text())
        except ZtmmError as err:
            self.error.setText(f"Nothing was pasted: {err}")
            return
        if not pasted:
            self.error.setText("The clipboard holds no attendees: copy rows of name, role, organization first.")
            return
        self.error.clear()
        for attendee in pasted:
            self._append(attendee)

    def attendee_list(self) -> tuple[Attendee, ...]:
        out = []
        for row in range(self.attendees.rowCount()):
            cells = [self.attendees.item(row, c) for c in range(3)]
            texts = [c.text().strip() if c is not None else "" for c in cells]
            if any(texts):
                out.append(Attendee(*texts))
        return tuple(out)

    def draft(self) -> WorkshopDraft:
        d = self.date_edit.date()
        checked = Qt.CheckState.Checked
        return WorkshopDraft(
            date=dt.date(d.year(), d.month(), d.day()).isoformat(),
            title=self.title_edit.text(),
            pillars=tuple(pid for pid, item in self.pillar_items.items() if item.checkState() == checked),
            functions=tuple(fid for fid, item in self.function_items.items() if item.checkState() == checked),
            notes=self.notes_edit.toPlainText(),
            attendees=self.attendee_list(),
        )

    def _accept(self) -> None:
        if any(not a.name for a in self.attendee_list()):
            self.error.setText("Every attendee needs a name (or remove the row).")
            return
        self.accept()


class WorkshopsDialog(QDialog):
    """The engagement's workshops: add, edit, delete, start and stop.

    Each change is a request to the window (``submit``), so it is one step on the
    undo stack like any other edit; ``submit`` raises ``ZtmmError`` when refused.
    """

    def __init__(
        self, engagement: Engagement, submit: Callable[[WorkshopRequest], None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.engagement = engagement
        self.submit = submit
        self.setWindowTitle("Workshops")
        self.listing = QTreeWidget()
        self.listing.setObjectName("workshopList")
        self.listing.setColumnCount(4)
        self.listing.setHeaderLabels(["Date", "Title", "Status", "Attendees"])
        self.listing.setRootIsDecorated(False)
        self.listing.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.listing.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.listing.itemSelectionChanged.connect(self._update_buttons)
        self.listing.itemDoubleClicked.connect(lambda _item, _column: self.edit_selected())
        self.add_button = QPushButton("Add…")
        self.add_button.setObjectName("addWorkshop")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setObjectName("editWorkshop")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("deleteWorkshop")
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("startWorkshop")
        self.start_button.setToolTip("From now on every rating, comment and finding is tagged with this workshop")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopWorkshop")
        self.add_button.clicked.connect(self.add)
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.start_button.clicked.connect(self.start_selected)
        self.stop_button.clicked.connect(self.stop_running)
        side = QVBoxLayout()
        for button in (self.add_button, self.edit_button, self.delete_button):
            side.addWidget(button)
        side.addSpacing(12)
        side.addWidget(self.start_button)
        side.addWidget(self.stop_button)
        side.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.listing, 1)
        top.addLayout(side)
        self.running_label = QLabel()
        self.running_label.setObjectName("runningWorkshop")
        note = QLabel("Each change here is a step of Edit → Undo.")
        note.setObjectName("undoNote")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.running_label)
        layout.addWidget(note)
        layout.addWidget(close)
        self.resize(760, 420)
        self._items: list[Workshop] = []
        self.reload()

    # -- state ---------------------------------------------------------------------

    def reload(self, select: int | None = None) -> None:
        selected = self.selected()
        wanted = select if select is not None else (selected.id if selected is not None else None)
        self._items = workshops.list_workshops(self.engagement)
        self.listing.clear()
        for w in self._items:
            item = QTreeWidgetItem([w.date, w.title, STATUS_LABELS.get(w.status, w.status), str(len(w.attendees))])
            item.setData(0, Qt.ItemDataRole.UserRole, w.id)
            self.listing.addTopLevelItem(item)
            if w.id == wanted:
                self.listing.setCurrentItem(item)
        current = next((w for w in self._items if w.running), None)
        self.running_label.setText(f"Running: {current.label}" if current is not None else "No workshop is running.")
        self._update_buttons()

    def selected(self) -> Workshop | None:
        items = self.listing.selectedItems()
        if not items:
            return None
        wanted = items[0].data(0, Qt.ItemDataRole.UserRole)
        return next((w for w in self._items if w.id == wanted), None)

    def select(self, workshop_id: int) -> None:
        for index in range(self.listing.topLevelItemCount()):
            item = self.listing.topLevelItem(index)
            if item.data(0, Qt.ItemDataRole.UserRole) == workshop_id:
                self.listing.setCurrentItem(item)

    def _update_buttons(self) -> None:
        writable = not self.engagement.readonly
        chosen = self.selected()
        any_running = any(w.running for w in self._items)
        self.add_button.setEnabled(writable)
        self.edit_button.setEnabled(writable and chosen is not None)
        self.delete_button.setEnabled(writable and chosen is not None and not chosen.running)
        self.start_button.setEnabled(writable and chosen is not None and not any_running)
        self.stop_button.setEnabled(writable and any_running)

    def _do(self, request: WorkshopRequest) -> bool:
        try:
            self.submit(request)
        except ZtmmError as err:
            QMessageBox.warning(self, "Not changed", str(err))
            return False
        return True

    # -- actions ---------------------------------------------------------------------

    def _edit(self, current: Workshop | None) -> None:
        editor = WorkshopEditor(self.engagement.catalog, current, self)
        while editor.exec() == QDialog.DialogCode.Accepted:
            draft = editor.draft()
            before = {w.id for w in self._items}
            try:
                self.submit(AddWorkshop(draft) if current is None else EditWorkshop(current.id, draft))
            except ZtmmError as err:
                editor.error.setText(str(err))
                continue
            self.reload()
            added = [w.id for w in self._items if w.id not in before]
            self.select(added[0] if added else current.id if current is not None else -1)
            return

    def add(self) -> None:
        self._edit(None)

    def edit_selected(self) -> None:
        chosen = self.selected()
        if chosen is not None and not self.engagement.readonly:
            self._edit(chosen)

    def delete_selected(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        if confirm_remove(self, "workshop", chosen.label) and self._do(DeleteWorkshop(chosen.id)):
            self.reload()

    def start_selected(self) -> None:
        chosen = self.selected()
        if chosen is not None and self._do(StartWorkshop(chosen.id)):
            self.reload()

    def stop_running(self) -> None:
        if self._do(StopWorkshop()):
            self.reload()
