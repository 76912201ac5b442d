"""Dialogs of evidence: attaching, a record's details, what it supports, same bytes again, a risky file.

The dialogs only collect values (``EvidenceDetails``, a list of ``EvidenceLink``);
the evidence pane turns them into requests that the main window applies as
undoable commands. Every string from the engagement or from a file name is shown
as plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import Catalog
from ...core.errors import BadInput
from ...core.stages import Stage
from ...services.engagement import MAX_NAME
from ...services.evidence import KINDS, EvidenceDetails, EvidenceLink

KIND_LABELS: dict[str, str] = {
    "document": "Document",
    "screenshot": "Screenshot",
    "configuration-export": "Configuration export",
    "interview-note": "Interview note",
    "other": "Other",
}
ANY_STAGE = "Any stage"
#: The choices of the links dialog's stage combo, in order: the function as a whole, then each stage.
STAGE_CHOICES: tuple[Stage | None, ...] = (None, *Stage)
NEEDS_A_LINK = "Evidence must support at least one function, stage or finding."


def kind_label(kind: str) -> str:
    """``configuration-export`` → ``Configuration export``."""
    return KIND_LABELS.get(kind, kind.replace("-", " ").capitalize())


def link_label(catalog: Catalog, link: EvidenceLink, finding_titles: Mapping[str, str] | None = None) -> str:
    """A link as a consultant reads it: ``1.1 Authentication — Initial`` or ``Finding: …``."""
    if link.finding_id is not None:
        title = (finding_titles or {}).get(link.finding_id)
        return f"Finding: {title}" if title else f"Finding {link.finding_id[:8]}"
    try:
        function = catalog.function(link.function_id or "")
        name = function.label
    except BadInput:
        name = str(link.function_id)
    return f"{name} — {link.stage.label if link.stage is not None else ANY_STAGE.lower()}"


def _plain(text: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label


def _heading(text: str) -> QLabel:
    label = _plain(text)
    label.setObjectName("evidenceDialogHeading")
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    label.setVisible(bool(text))
    return label


class EvidenceDetailsDialog(QDialog):
    """Edit a record's title (required), kind and description; OK stays disabled without a title."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        details: EvidenceDetails,
        file_label: str = "",
        read_only: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("evidenceDetailsDialog")
        self.setWindowTitle("Evidence details" if read_only else "Edit evidence details")
        self.setMinimumWidth(520)
        self.read_only = read_only

        self.title_edit = QLineEdit(details.title)
        self.title_edit.setObjectName("evidenceTitle")
        self.title_edit.setMaxLength(MAX_NAME)
        self.title_edit.setPlaceholderText("What this shows, in a few words (required)")
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("evidenceKind")
        for kind in KINDS:
            self.kind_combo.addItem(kind_label(kind), kind)
        if details.kind not in KINDS:  # an unknown kind from a newer file is kept, not silently changed
            self.kind_combo.addItem(kind_label(details.kind), details.kind)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(details.kind))
        self.description_edit = QPlainTextEdit(details.description)
        self.description_edit.setObjectName("evidenceDescription")
        self.description_edit.setPlaceholderText("Where it came from, what it proves, anything a reviewer should know")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setMinimumHeight(self.fontMetrics().lineSpacing() * 6 + 12)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("Title", self.title_edit)
        form.addRow("Kind", self.kind_combo)
        form.addRow("Description", self.description_edit)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Close
            if read_only
            else QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(_heading(file_label))
        layout.addLayout(form)
        layout.addWidget(self.buttons)

        if read_only:
            self.title_edit.setReadOnly(True)
            self.kind_combo.setEnabled(False)
            self.description_edit.setReadOnly(True)
        self.title_edit.textChanged.connect(self._update_ok)
        self._update_ok()

    def _update_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setEnabled(bool(self.title_edit.text().strip()))

    def details(self) -> EvidenceDetails:
        return EvidenceDetails(
            title=self.title_edit.text().strip(),
            description=self.description_edit.toPlainText(),
            kind=str(self.kind_combo.currentData()),
        )

    @classmethod
    def get_details(
        cls, parent: QWidget | None, details: EvidenceDetails, *, file_label: str = ""
    ) -> EvidenceDetails | None:
        """The edited details, or None when cancelled."""
        dialog = cls(parent, details=details, file_label=file_label)
        try:
            return dialog.details() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()


class EvidenceLinksDialog(QDialog):
    """Add and remove what a record supports: functions (any stage) or one stage of a function.

    Links to findings are listed and may be removed; they are added from the
    finding itself. OK stays disabled while the list is empty.
    """

    def __init__(
        self,
        catalog: Catalog,
        links: Sequence[EvidenceLink],
        parent: QWidget | None = None,
        *,
        finding_titles: Mapping[str, str] | None = None,
        file_label: str = "",
        default_function_id: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("evidenceLinksDialog")
        self.setWindowTitle("Evidence links")
        self.setMinimumWidth(560)
        self.catalog = catalog
        self.finding_titles = dict(finding_titles or {})
        self._links: list[EvidenceLink] = []

        self.list_widget = QListWidget()
        self.list_widget.setObjectName("evidenceLinks")
        self.list_widget.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list_widget.setMinimumHeight(self.fontMetrics().lineSpacing() * 7)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeLink")
        self.remove_button.clicked.connect(self.remove_selected)
        self.list_widget.itemSelectionChanged.connect(self._update_buttons)

        self.function_combo = QComboBox()
        self.function_combo.setObjectName("linkFunction")
        for pillar in catalog.pillars:
            if self.function_combo.count():
                self.function_combo.insertSeparator(self.function_combo.count())
            for function in pillar.functions:
                self.function_combo.addItem(function.label, function.id)
        if default_function_id is not None:
            index = self.function_combo.findData(default_function_id)
            if index >= 0:
                self.function_combo.setCurrentIndex(index)
        self.function_combo.setMaxVisibleItems(20)
        self.stage_combo = QComboBox()
        self.stage_combo.setObjectName("linkStage")
        for stage in STAGE_CHOICES:
            self.stage_combo.addItem(ANY_STAGE if stage is None else stage.label, None if stage is None else stage.key)
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("addLink")
        self.add_button.clicked.connect(self._add_chosen)

        self.message = _plain(NEEDS_A_LINK)
        self.message.setObjectName("linksMessage")
        self.message.setStyleSheet("color: #c8463d;")

        add_row = QHBoxLayout()
        add_row.addWidget(self.function_combo, 3)
        add_row.addWidget(self.stage_combo, 1)
        add_row.addWidget(self.add_button)
        list_row = QHBoxLayout()
        list_row.addWidget(self.list_widget, 1)
        side = QVBoxLayout()
        side.addWidget(self.remove_button)
        side.addStretch(1)
        list_row.addLayout(side)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(_heading(file_label))
        layout.addWidget(_plain("This evidence supports:"))
        layout.addLayout(list_row)
        layout.addWidget(self.message)
        layout.addSpacing(6)
        layout.addWidget(_plain("Add a link to a function, or to one stage of it:"))
        layout.addLayout(add_row)
        layout.addWidget(self.buttons)

        for link in links:
            self.add_link(link)
        self._update_buttons()

    def links(self) -> list[EvidenceLink]:
        return list(self._links)

    def chosen_link(self) -> EvidenceLink:
        """The link the function and stage combos describe."""
        stage_key = self.stage_combo.currentData()
        return EvidenceLink(
            function_id=str(self.function_combo.currentData()),
            stage=Stage.parse(stage_key) if stage_key else None,
        )

    def add_link(self, link: EvidenceLink) -> bool:
        """Add ``link`` unless it is listed already; True when added."""
        if link in self._links:
            for row in range(self.list_widget.count()):
                if self._links[row] == link:
                    self.list_widget.setCurrentRow(row)
            return False
        self._links.append(link)
        item = QListWidgetItem(link_label(self.catalog, link, self.finding_titles))
        self.list_widget.addItem(item)
        self.list_widget.setCurrentItem(item)
        self._update_buttons()
        return True

    def remove_selected(self) -> None:
        rows = sorted((self.list_widget.row(item) for item in self.list_widget.selectedItems()), reverse=True)
        for row in rows:
            self.list_widget.takeItem(row)
            del self._links[row]
        self._update_buttons()

    def _add_chosen(self) -> None:
        self.add_link(self.chosen_link())

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.list_widget.selectedItems()))
        has = bool(self._links)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(has)
        self.message.setVisible(not has)

    @classmethod
    def get_links(
        cls,
        parent: QWidget | None,
        catalog: Catalog,
        links: Sequence[EvidenceLink],
        *,
        finding_titles: Mapping[str, str] | None = None,
        file_label: str = "",
        default_function_id: str | None = None,
    ) -> list[EvidenceLink] | None:
        """The new list of links, or None when cancelled."""
        dialog = cls(
            catalog,
            links,
            parent,
            finding_titles=finding_titles,
            file_label=file_label,
            default_function_id=default_function_id,
        )
        try:
            return dialog.links() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()


def ask_to_open(parent: QWidget | None) -> Callable[[str], bool]:
    """An ``ask`` for ``open_externally``: a warning with Open anyway / Cancel (Cancel is the default)."""

    def ask(message: str) -> bool:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Open evidence file")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(message)
        box.setStandardButtons(QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Open).setText("Open anyway")
        try:
            return box.exec() == QMessageBox.StandardButton.Open.value
        finally:
            box.deleteLater()

    return ask


# -- attaching: one small dialog for title, kind and stage; a question when the bytes are already here --

WHOLE_FUNCTION = "Whole function"
NEEDS_A_TITLE = "Each file needs a title."
#: Rows the attach dialog shows before its list of files scrolls.
ATTACH_ROWS = 6


@dataclass(frozen=True)
class AttachRow:
    """A file about to be attached, as the attach dialog proposes it."""

    name: str
    size: str  # as the consultant reads it: "1.2 MB"
    title: str
    kind: str


@dataclass(frozen=True)
class AttachAnswer:
    """What the consultant accepted: a title and a kind per file, and one stage (None: the whole function)."""

    titles: tuple[str, ...]
    kinds: tuple[str, ...]
    stage: Stage | None


def proposed_title(name: str) -> str:
    """A file's name without its type (``MFA policy.pdf`` → ``MFA policy``), as the title to start from."""
    stem, dot, _suffix = name.rpartition(".")
    return (stem if dot and stem.strip() else name).strip()[:MAX_NAME]


class AttachDialog(QDialog):
    """Title and kind of each file, and the stage they support, in one small dialog.

    Everything is filled in (the title from the file name, the kind guessed from its
    type, the stage the consultant is working on), so Enter alone attaches. Several
    files get a row each (their types differ, so do their kinds) and share the stage:
    they were dropped or chosen together, for one place.
    """

    def __init__(
        self,
        rows: Sequence[AttachRow],
        *,
        function_label: str,
        stage: Stage | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("attachDialog")
        self.setWindowTitle("Attach evidence")
        metrics = self.fontMetrics()  # sizes follow the type (workshop mode is large)
        self.setMinimumWidth(max(560, metrics.horizontalAdvance("x" * 80)))
        self.rows = tuple(rows)
        self.title_edits: list[QLineEdit] = []
        self.kind_combos: list[QComboBox] = []

        many = len(self.rows) > 1
        heading = _heading(
            f"Attach {len(self.rows)} files to {function_label}" if many else f"Attach to {function_label}"
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        if many:
            for column, caption in enumerate(("File", "Title", "Kind")):
                grid.addWidget(_caption(caption), 0, column)
        for number, row in enumerate(self.rows):
            title = QLineEdit(row.title)
            title.setObjectName("attachTitle")
            title.setMaxLength(MAX_NAME)
            title.setPlaceholderText("What this shows, in a few words (required)")
            title.setAccessibleName(f"Title of {row.name}")
            title.textChanged.connect(self._update_ok)
            kind = QComboBox()
            kind.setObjectName("attachKind")
            for value in KINDS:
                kind.addItem(kind_label(value), value)
            kind.setCurrentIndex(max(0, kind.findData(row.kind)))
            kind.setAccessibleName(f"Kind of {row.name}")
            self.title_edits.append(title)
            self.kind_combos.append(kind)
            title.setMinimumWidth(metrics.horizontalAdvance("x" * 24))
            shown = metrics.elidedText(row.name, Qt.TextElideMode.ElideMiddle, metrics.horizontalAdvance("x" * 30))
            name = _plain(f"{shown} · {row.size}", wrap=False)
            name.setObjectName("attachFile")
            name.setToolTip(row.name)
            if many:
                grid.addWidget(name, number + 1, 0)
                grid.addWidget(title, number + 1, 1)
                grid.addWidget(kind, number + 1, 2)
            else:
                for line, (caption, widget) in enumerate((("File", name), ("&Title", title), ("&Kind", kind))):
                    label = _caption(caption)
                    label.setBuddy(widget)
                    grid.addWidget(label, line, 0)
                    grid.addWidget(widget, line, 1)
        grid.setColumnStretch(1, 1)

        self.stage_combo = QComboBox()
        self.stage_combo.setObjectName("attachStage")
        for choice in STAGE_CHOICES:
            self.stage_combo.addItem(WHOLE_FUNCTION if choice is None else choice.label, choice)
        self.stage_combo.setCurrentIndex(STAGE_CHOICES.index(stage))
        self.stage_combo.setAccessibleName("Stage the evidence supports")
        stage_label = _caption("&Stage" if not many else "&Stage (all files)")
        stage_label.setBuddy(self.stage_combo)
        stage_row = QHBoxLayout()
        stage_row.addWidget(stage_label)
        stage_row.addWidget(self.stage_combo)
        stage_row.addStretch(1)

        files = QWidget()
        files.setLayout(grid)
        if len(self.rows) > ATTACH_ROWS:
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(files)
            scroll.setMinimumHeight(ATTACH_ROWS * (self.title_edits[0].sizeHint().height() + 6))
            body: QWidget = scroll
        else:
            body = files
        grid.setContentsMargins(0, 0, 0, 0)

        self.message = _plain(NEEDS_A_TITLE)
        self.message.setObjectName("attachMessage")
        self.message.setStyleSheet("color: #c8463d;")
        self.message.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Attach")
        ok.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(body)
        layout.addLayout(stage_row)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        if self.title_edits:
            self.title_edits[0].setFocus(Qt.FocusReason.OtherFocusReason)
            self.title_edits[0].selectAll()

    def _update_ok(self) -> None:
        missing = any(not edit.text().strip() for edit in self.title_edits)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not missing)
        self.message.setVisible(missing)

    def accept(self) -> None:
        if any(not edit.text().strip() for edit in self.title_edits):
            return  # Enter with a blank title: the message says why nothing happens
        super().accept()

    def answer(self) -> AttachAnswer:
        stage = self.stage_combo.currentData()
        return AttachAnswer(
            titles=tuple(edit.text().strip() for edit in self.title_edits),
            kinds=tuple(str(combo.currentData()) for combo in self.kind_combos),
            stage=stage if isinstance(stage, Stage) else None,
        )

    @classmethod
    def ask(
        cls, parent: QWidget | None, rows: Sequence[AttachRow], *, function_label: str, stage: Stage | None
    ) -> AttachAnswer | None:
        """The accepted titles, kinds and stage, or None when cancelled."""
        dialog = cls(rows, function_label=function_label, stage=stage, parent=parent)
        try:
            return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()


def _caption(text: str) -> QLabel:
    label = QLabel(text)  # mnemonics (&Title) need the label's own text format
    label.setTextFormat(Qt.TextFormat.PlainText if "&" not in text else Qt.TextFormat.AutoText)
    return label


def short_links(
    catalog: Catalog, links: Sequence[EvidenceLink], finding_titles: Mapping[str, str] | None = None
) -> str:
    """Where a record is attached, briefly: ``2.3 Advanced, 1.4`` or ``finding “Flat network”``."""
    parts: list[str] = []
    for link in links:
        if link.finding_id is not None:
            title = (finding_titles or {}).get(link.finding_id)
            parts.append(f"finding “{title}”" if title else "a finding")
            continue
        try:
            code = catalog.function(link.function_id or "").code
        except BadInput:
            code = str(link.function_id)
        parts.append(f"{code} {link.stage.label}" if link.stage is not None else code)
    return ", ".join(dict.fromkeys(parts)) or "nothing"


class SameBytes(Enum):
    """The answer to "these bytes are already attached"."""

    ATTACH_AGAIN = "again"
    LINK_EXISTING = "link"
    CANCEL = "cancel"


def ask_same_bytes(
    parent: QWidget | None,
    *,
    what: str,
    title: str,
    where: str,
    target: str,
    can_link: bool,
    others: int = 0,
    in_batch: bool = False,
) -> SameBytes:
    """Ask before a second record of the same bytes: attach again, link the existing item, or cancel.

    ``what``: "This image" or "“policy.pdf”"; ``title`` and ``where``: the existing
    record; ``target``: where the new one would go; ``can_link``: the existing record
    does not support ``target`` yet.
    """
    box = QMessageBox(parent)
    box.setObjectName("sameBytesQuestion")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Already attached")
    box.setTextFormat(Qt.TextFormat.PlainText)
    more = f" (and {others} more record{'s' if others != 1 else ''})" if others else ""
    box.setText(f"{what} is already attached as “{title}” to {where}{more}.")
    if can_link:
        detail = f"Link the existing item to {target} as well, or attach the same bytes again as a second record."
    else:
        detail = f"The existing item already supports {target}. Attach the same bytes again as a second record?"
    if in_batch:
        detail += " Cancel leaves this file out; the other files are still attached."
    box.setInformativeText(detail)
    again = box.addButton("Attach again", QMessageBox.ButtonRole.AcceptRole)
    link = box.addButton("Link the existing item", QMessageBox.ButtonRole.AcceptRole) if can_link else None
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(link if link is not None else cancel)
    box.setEscapeButton(cancel)
    try:
        box.exec()
        clicked = box.clickedButton()
    finally:
        box.deleteLater()
    if clicked is again:
        return SameBytes.ATTACH_AGAIN
    if link is not None and clicked is link:
        return SameBytes.LINK_EXISTING
    return SameBytes.CANCEL
