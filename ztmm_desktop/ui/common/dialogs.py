"""Dialogs of the document life cycle: engagement properties, a held document, unsaved work found."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import Catalog
from ...core.errors import ZtmmError
from ...core.wording import WORDINGS

if TYPE_CHECKING:  # the window's first frame (error_label, the start) loads before the services
    from ...services.engagement import Properties
    from ...services.logo import Logo
    from ...services.recovery import Orphan


def error_label(name: str = "error") -> QLabel:
    """The red, wrapping line a dialog says what is wrong in (it stays open)."""
    label = QLabel()
    label.setObjectName(name)
    label.setStyleSheet("color: #b3261e")
    label.setWordWrap(True)
    return label


class OptionalDate(QWidget):
    """A date that may be left unset."""

    def __init__(self, value: str | None) -> None:
        super().__init__()
        self.enabled = QCheckBox()
        self.edit = QDateEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled)
        layout.addWidget(self.edit, 1)
        self.enabled.toggled.connect(self.edit.setEnabled)
        if value:
            self.edit.setDate(QDate.fromString(value, "yyyy-MM-dd"))
            self.enabled.setChecked(True)
        else:
            self.edit.setDate(QDate.currentDate())
            self.enabled.setChecked(False)
            self.edit.setEnabled(False)

    def value(self) -> str | None:
        if not self.enabled.isChecked():
            return None
        d = self.edit.date()
        return dt.date(d.year(), d.month(), d.day()).isoformat()


class LogoField(QWidget):
    """A report logo (the client's or the consultancy's): a thumbnail, its name, Choose… and Remove.

    Checked when chosen.
    """

    def __init__(
        self,
        logo: Logo | None,
        folder: str,
        *,
        title: str = "Report logo",
        empty: str = "No logo: the report cover shows the client's name only",
    ) -> None:
        super().__init__()
        self.original = self.logo = logo
        self.folder = folder
        self.title = title
        self.empty = empty
        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(120, 40)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = QLabel()
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        self.choose = QPushButton("Choose…")
        self.choose.setObjectName("chooseLogo")
        self.remove = QPushButton("Remove")
        self.remove.setObjectName("removeLogo")
        self.problem = error_label("logoProblem")
        self.problem.hide()
        self.choose.clicked.connect(self._choose)
        self.remove.clicked.connect(lambda: self._set(None))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.thumbnail)
        row.addWidget(self.name, 1)
        row.addWidget(self.choose)
        row.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        self._show()

    def _choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.title, self.folder, "Images (*.png *.jpg *.jpeg)")
        if not name:
            return
        from ...services.logo import load_logo

        try:
            self._set(load_logo(Path(name)))
        except ZtmmError as err:  # the dialog stays open, the previous logo stays
            self.problem.setText(str(err))
            self.problem.show()

    def _set(self, logo: Logo | None) -> None:
        self.logo = logo
        self.problem.hide()
        self._show()

    def _show(self) -> None:
        if self.logo is None:
            self.thumbnail.clear()
            self.name.setText(self.empty)
        else:
            pixmap = QPixmap()
            pixmap.loadFromData(self.logo.data)
            self.thumbnail.setPixmap(
                pixmap.scaled(
                    self.thumbnail.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            self.name.setText(f"{self.logo.name} ({self.logo.width} × {self.logo.height})")
        self.remove.setEnabled(self.logo is not None)

    @property
    def changed(self) -> bool:
        return (self.logo.sha256 if self.logo else None) != (self.original.sha256 if self.original else None)


class PropertiesDialog(QDialog):
    """Client, title, scope, assessors, dates, marking and wording of an engagement."""

    def __init__(
        self,
        catalog: Catalog,
        current: Properties | None,
        parent: QWidget | None = None,
        *,
        logo: Logo | None = None,
        folder: str = "",
    ) -> None:
        from ...services.engagement import DEFAULT_MARKING, Properties

        super().__init__(parent)
        self.setWindowTitle("Engagement properties" if current else "New engagement")
        props = current or Properties(client="")
        self.client = QLineEdit(props.client)
        self.client.setObjectName("client")
        self.client.setPlaceholderText("Client organization (required)")
        self.title_edit = QLineEdit(props.title)
        self.title_edit.setObjectName("title")
        self.title_edit.setPlaceholderText("e.g. Zero Trust maturity baseline")
        self.assessors = QPlainTextEdit("\n".join(props.assessors))
        self.assessors.setObjectName("assessors")
        self.assessors.setPlaceholderText("One assessor per line")
        self.assessors.setTabChangesFocus(True)  # Tab moves on, as in every other field; Enter starts a new line
        self.assessors.setFixedHeight(70)
        self.start = OptionalDate(props.start_date)
        self.end = OptionalDate(props.end_date)
        self.marking = QLineEdit(props.marking if current else DEFAULT_MARKING)
        self.marking.setObjectName("marking")
        self.wording = QComboBox()
        for key, label in WORDINGS.items():
            self.wording.addItem(label, key)
        self.wording.setCurrentIndex(max(0, self.wording.findData(props.wording)))
        scope_box = QWidget()
        grid = QGridLayout(scope_box)
        grid.setContentsMargins(0, 0, 0, 0)
        in_scope = set(props.scope) if props.scope is not None else {p.id for p in catalog.pillars}
        self.scope: dict[str, QCheckBox] = {}
        for index, pillar in enumerate(catalog.pillars):
            box = QCheckBox(f"{pillar.code} {pillar.name}")
            box.setObjectName(f"scope-{pillar.id}")
            box.setChecked(pillar.id in in_scope)
            self.scope[pillar.id] = box
            grid.addWidget(box, index // 2, index % 2)
        form = QFormLayout()
        form.addRow("&Client", self.client)
        form.addRow("&Title", self.title_edit)
        form.addRow("&Scope", scope_box)
        form.addRow("&Assessors", self.assessors)
        form.addRow("Start date", self.start)
        form.addRow("End date", self.end)
        form.addRow("&Marking", self.marking)
        form.addRow("&Wording", self.wording)
        self.logo_field: LogoField | None = None
        if current is not None:  # a new engagement gets its logo once it exists
            self.logo_field = LogoField(logo, folder)
            form.addRow("Report &logo", self.logo_field)
        self.error = error_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.client.textChanged.connect(self._update_ok)
        for box in self.scope.values():
            box.toggled.connect(self._update_ok)
        self._update_ok()
        self.resize(560, self.sizeHint().height())

    def _update_ok(self) -> None:
        ok = bool(self.client.text().strip()) and any(b.isChecked() for b in self.scope.values())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def properties(self) -> Properties:
        from ...services.engagement import Properties

        return Properties(
            client=self.client.text(),
            title=self.title_edit.text(),
            assessors=tuple(line for line in self.assessors.toPlainText().splitlines() if line.strip()),
            scope=tuple(pid for pid, box in self.scope.items() if box.isChecked()),
            start_date=self.start.value(),
            end_date=self.end.value(),
            marking=self.marking.text(),
            wording=str(self.wording.currentData()),
        )

    def _accept(self) -> None:
        props = self.properties()
        if props.start_date and props.end_date and props.end_date < props.start_date:
            self.error.setText("The end date is before the start date.")
            return
        self.accept()


def ask_open_read_only(parent: QWidget | None, message: str) -> bool:
    """The document is held by someone else (or cannot be written): offer to open it read-only."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Engagement in use")
    box.setText(message)
    box.setInformativeText("You can open it read-only to look at it; your changes could not be saved.")
    read_only = box.addButton("Open read-only", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(read_only)
    box.exec()
    return box.clickedButton() is read_only


class RecoveryChoice(Enum):
    RECOVER = "recover"
    DISCARD = "discard"
    LATER = "later"


def ask_recover(parent: QWidget | None, orphan: Orphan) -> RecoveryChoice:
    """Unsaved work of a session that ended unexpectedly was found."""
    when = dt.datetime.fromtimestamp(orphan.modified).strftime("%Y-%m-%d %H:%M")
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Recover unsaved work")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"ZTMM Workbench ended without saving {orphan.document.name}.\nLast change: {when}.")
    box.setInformativeText("Recover the unsaved work, or discard it and keep the file as it was last saved?")
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Decide later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(recover)
    box.exec()
    if box.clickedButton() is recover:
        return RecoveryChoice.RECOVER
    if box.clickedButton() is discard:
        return RecoveryChoice.DISCARD
    return RecoveryChoice.LATER


def confirm_remove(parent: QWidget | None, what: str, title: str) -> bool:
    """Ask before removing something (it can be undone); True when the user chose Remove."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(f"Remove {what}")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"Remove the {what} “{title}”?")
    box.setInformativeText("You can undo this.")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Yes).setText("Remove")
    try:
        answer = box.exec()
    finally:
        box.deleteLater()
    return answer == QMessageBox.StandardButton.Yes.value


def ask_remove_baseline(parent: QWidget | None, name: str) -> bool:
    """Undo reached the freezing of a baseline: ask before removing it. True when the user chose Remove."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Undo freezing a baseline")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"Undo would remove the baseline “{name}”.")
    box.setInformativeText(
        "The assessment does not change, and Redo freezes the baseline again. "
        "Keep the baseline to leave it, and the edits before it, as they are."
    )
    remove = box.addButton("Remove baseline", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep baseline", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    try:
        box.exec()
        return box.clickedButton() is remove
    finally:
        box.deleteLater()


def ask_other_engagement(parent: QWidget | None, message: str) -> bool:
    """A file of another engagement was given where a copy of this one was expected: go on anyway?
    No is the default; True when the user chose Yes."""
    answer = QMessageBox.question(
        parent,
        "Another engagement",
        message,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
