"""The report's contents the consultant writes: their own sections, document control and layout.

One dialog (*File → Report contents…*), three tabs:

* **Sections**: executive summary, key messages, scope and exclusions, approach,
  limitations and disclaimer, each a multi-line editor (paragraphs separated by a
  blank line, list items on lines starting with ``- ``). A section left empty is left
  out of the deliverables; the list says which are written.
* **Document control**: the consultancy and its logo, the report version and its
  history, the distribution list, reviewer and approver with their dates.
* **Layout**: paper size and whether vendor guidance is left out (a vendor-neutral report).

The dialog only collects values and checks them with the services' own checks (it
stays open with one red line when something is wrong); the main window turns them
into one undoable step.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import ZtmmError
from ...core.register import MAX_SECTION, PAPER_SIZES, SECTIONS, DocumentControl, Recipient, Sections, VersionLine
from ...services.logo import Logo
from ...services.register import ReportOptions, check_distribution, check_history, check_section
from ..common.dialogs import LogoField, OptionalDate, error_label

SECTION_HINTS = {
    "executive_summary": "What the client's leadership must know: where they stand, what matters most, what to do first.",
    "key_messages": "Three to five messages for the overview page, one per line starting with “- ”.",
    "scope": "What was assessed and what was not (pillars, sites, systems), and why.",
    "approach": "How the assessment was done: interviews held, evidence reviewed, dates.",
    "limitations": "What limits the findings: access not granted, evidence not seen, time.",
    "disclaimer": "The terms on which the report is provided.",
}


@dataclass(frozen=True)
class ReportContents:
    """What the dialog collects."""

    sections: Sections
    control: DocumentControl
    options: ReportOptions


def _table(headers: list[str], rows: list[list[str]], name: str) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)  # the longest words go last
    table.setTabKeyNavigation(False)  # Tab leaves the table, as in every other field
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(value))
    table.setMinimumHeight(table.fontMetrics().lineSpacing() * 6)
    return table


def _rows(table: QTableWidget) -> list[list[str]]:
    """The table's rows as text; rows left wholly blank are dropped."""
    rows = []
    for r in range(table.rowCount()):
        cells = []
        for c in range(table.columnCount()):
            item = table.item(r, c)
            cells.append(item.text().strip() if item is not None else "")
        if any(cells):
            rows.append(cells)
    return rows


class _TableField(QWidget):
    """A small editable table with Add row and Remove row."""

    def __init__(self, table: QTableWidget, what: str) -> None:
        super().__init__()
        self.table = table
        self.add = QPushButton(f"Add {what}")
        self.add.setObjectName(f"{table.objectName()}Add")
        self.remove = QPushButton("Remove")
        self.remove.setObjectName(f"{table.objectName()}Remove")
        self.add.clicked.connect(self._add)
        self.remove.clicked.connect(self._remove)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(table)
        layout.addLayout(buttons)

    def _add(self) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setCurrentCell(row, 0)
        self.table.editItem(self.table.item(row, 0) or self._blank(row))

    def _blank(self, row: int) -> QTableWidgetItem:
        item = QTableWidgetItem("")
        self.table.setItem(row, 0, item)
        return item

    def _remove(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows or ([self.table.currentRow()] if self.table.currentRow() >= 0 else []):
            self.table.removeRow(row)


class ReportContentsDialog(QDialog):
    """Sections, document control and layout of the deliverables; ``contents()`` once accepted."""

    def __init__(
        self,
        sections: Sections,
        control: DocumentControl,
        options: ReportOptions,
        parent: QWidget | None = None,
        *,
        consultancy_logo: Logo | None = None,
        folder: str = "",
        read_only: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reportContentsDialog")
        self.setWindowTitle("Report contents")
        self.read_only = read_only
        self.tabs = QTabWidget()
        self.tabs.addTab(self._sections_tab(sections), "&Sections")
        self.tabs.addTab(self._control_tab(control, consultancy_logo, folder), "&Document control")
        self.tabs.addTab(self._layout_tab(options), "&Layout")
        self.error = error_label()
        self.error.hide()
        buttons = (
            QDialogButtonBox.StandardButton.Close
            if read_only
            else (QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        )
        self.buttons = QDialogButtonBox(buttons)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        if read_only:
            for widget in self.findChildren(QWidget):
                if isinstance(widget, (QLineEdit, QPlainTextEdit)):
                    widget.setReadOnly(True)
                elif (
                    isinstance(widget, (QCheckBox, QComboBox, QPushButton, QTableWidget, OptionalDate))
                    and widget.parent() is not self.buttons
                ):
                    widget.setEnabled(False)
        self.resize(820, 600)

    # -- the tabs ------------------------------------------------------------------

    def _sections_tab(self, sections: Sections) -> QWidget:
        self.section_list = QListWidget()
        self.section_list.setObjectName("sectionList")
        self.section_stack = QStackedWidget()
        self.section_edits: dict[str, QPlainTextEdit] = {}
        for key, title in SECTIONS:
            edit = QPlainTextEdit(sections.get(key))
            edit.setObjectName(f"section-{key}")
            edit.setPlaceholderText(SECTION_HINTS.get(key, "") + "\n\nLeft empty, the section is left out.")
            edit.setTabChangesFocus(True)
            edit.textChanged.connect(lambda key=key: self._mark(key))
            page = QWidget()
            column = QVBoxLayout(page)
            column.setContentsMargins(0, 0, 0, 0)
            heading = QLabel(f"<b>{title}</b>")
            hint = QLabel(SECTION_HINTS.get(key, ""))
            hint.setWordWrap(True)
            column.addWidget(heading)
            column.addWidget(hint)
            column.addWidget(edit, 1)
            self.section_edits[key] = edit
            self.section_stack.addWidget(page)
            self.section_list.addItem(title)
        self.section_list.currentRowChanged.connect(self.section_stack.setCurrentIndex)
        self.section_list.setCurrentRow(0)
        for key in self.section_edits:
            self._mark(key)
        self.section_list.setMaximumWidth(self.section_list.sizeHintForColumn(0) + 60)
        splitter = QSplitter()
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.section_list)
        splitter.addWidget(self.section_stack)
        splitter.setStretchFactor(1, 1)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        note = QLabel(
            "Plain paragraphs separated by a blank line; lines starting with “- ” become a list. "
            "A section left empty is left out of the report and the workbook."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addWidget(splitter, 1)
        return tab

    def _mark(self, key: str) -> None:
        """The list says which sections are written (● written, ○ empty)."""
        row = [k for k, _ in SECTIONS].index(key)
        item = self.section_list.item(row)
        if item is None:
            return
        text = self.section_edits[key].toPlainText()
        item.setText(f"{'●' if text.strip() else '○'} {dict(SECTIONS)[key]}")
        item.setToolTip(f"{len(text):,} of {MAX_SECTION:,} characters" if text.strip() else "Empty: left out")

    def _control_tab(self, control: DocumentControl, logo: Logo | None, folder: str) -> QWidget:
        self.consultancy = QLineEdit(control.consultancy)
        self.consultancy.setObjectName("consultancy")
        self.consultancy.setPlaceholderText("Your firm, as the report cover names it")
        self.logo_field = LogoField(
            logo,
            folder,
            title="Consultancy logo",
            empty="No logo: the cover names the consultancy in words",
        )
        self.report_version = QLineEdit(control.report_version)
        self.report_version.setObjectName("reportVersion")
        self.report_version.setPlaceholderText("e.g. 1.0")
        self.history = _table(
            ["Version", "Date (YYYY-MM-DD)", "Author", "Change"],
            [[v.version, v.date, v.author, v.change] for v in control.history],
            "history",
        )
        self.distribution = _table(
            ["Name", "Organization", "Role"],
            [[p.name, p.organisation, p.role] for p in control.distribution],
            "distribution",
        )
        self.reviewer = QLineEdit(control.reviewer)
        self.reviewer.setObjectName("reviewer")
        self.reviewed_on = OptionalDate(control.reviewed_on)
        self.approver = QLineEdit(control.approver)
        self.approver.setObjectName("approver")
        self.approved_on = OptionalDate(control.approved_on)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("&Consultancy", self.consultancy)
        form.addRow("Consultancy &logo", self.logo_field)
        form.addRow("Report &version", self.report_version)
        form.addRow("Version &history", _TableField(self.history, "version"))
        form.addRow("&Distribution", _TableField(self.distribution, "recipient"))
        for label, name, date in (
            ("&Reviewer", self.reviewer, self.reviewed_on),
            ("A&pprover", self.approver, self.approved_on),
        ):
            box = QWidget()
            row = QHBoxLayout(box)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(name, 2)
            row.addWidget(QLabel("on"))
            row.addWidget(date, 1)
            form.addRow(label, box)
            form.labelForField(box).setBuddy(name)  # type: ignore[union-attr]
        tab = QWidget()
        tab.setLayout(form)
        return tab

    def _layout_tab(self, options: ReportOptions) -> QWidget:
        self.paper = QComboBox()
        self.paper.setObjectName("paper")
        for size in PAPER_SIZES:
            self.paper.addItem("US Letter" if size == "Letter" else size, size)
        self.paper.setCurrentIndex(max(0, self.paper.findData(options.paper)))
        self.vendor_neutral = QCheckBox("Leave vendor guidance out of the report and the workbook (vendor-neutral)")
        self.vendor_neutral.setObjectName("vendorNeutral")
        self.vendor_neutral.setChecked(options.vendor_neutral)
        form = QFormLayout()
        form.addRow("&Paper size", self.paper)
        form.addRow("", self.vendor_neutral)
        note = QLabel(
            "The paper size applies to every page of the report and every sheet of the workbook. "
            "Vendor-neutral deliverables keep your own roadmap actions and leave the guidance packs' "
            "product suggestions out."
        )
        note.setWordWrap(True)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addStretch(1)
        return tab

    # -- values --------------------------------------------------------------------

    def contents(self) -> ReportContents:
        """What the fields hold, checked and normalised (raises ``BadInput`` naming the first problem)."""
        texts = {key: check_section(key, edit.toPlainText()) for key, edit in self.section_edits.items()}
        history = check_history(VersionLine(*(row + [""] * 4)[:4]) for row in _rows(self.history))
        people = check_distribution(Recipient(*(row + [""] * 3)[:3]) for row in _rows(self.distribution))
        return ReportContents(
            sections=Sections(**texts),
            control=DocumentControl(
                consultancy=self.consultancy.text().strip(),
                report_version=self.report_version.text().strip(),
                history=history,
                distribution=people,
                reviewer=self.reviewer.text().strip(),
                reviewed_on=self.reviewed_on.value(),
                approver=self.approver.text().strip(),
                approved_on=self.approved_on.value(),
            ),
            options=ReportOptions(paper=str(self.paper.currentData()), vendor_neutral=self.vendor_neutral.isChecked()),
        )

    def _accept(self) -> None:
        try:
            self.contents()
        except ZtmmError as err:  # the dialog stays open and says what is wrong
            self.error.setText(str(err))
            self.error.show()
            return
        self.accept()

    def show_section(self, key: str) -> None:
        self.tabs.setCurrentIndex(0)
        self.section_list.setCurrentRow([k for k, _ in SECTIONS].index(key))
        self.section_edits[key].setFocus(Qt.FocusReason.OtherFocusReason)
