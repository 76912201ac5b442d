"""The start page's "Team server" section: the engagements on the firm's server, beside Recent.

It only shows and asks: the team controller (``controller.py``) loads the list off the UI thread
and opens what is activated (double-click or Enter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # the start page paints before the database layer is imported
    from ...server.store import Listed

ID_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Client", "Title", "Dates", "Progress", "Your role")


def dates_text(start: str | None, end: str | None) -> str:
    if start and end:
        return f"{start} – {end}"
    return start or end or ""


class ServerSection(QWidget):
    addRequested = Signal()
    removeRequested = Signal(str)
    refreshRequested = Signal(str)
    #: (server address, engagement id)
    engagementActivated = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serverSection")
        label = QLabel("Team server")
        bold = label.font()
        bold.setBold(True)
        label.setFont(bold)
        label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.servers = QComboBox()
        self.servers.setObjectName("serverCombo")
        self.servers.setAccessibleName("Team server")
        self.servers.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.servers.setMinimumContentsLength(24)
        self.add_button = QPushButton("Add server…")
        self.add_button.setObjectName("addServerButton")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refreshServerButton")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeServerButton")
        row = QHBoxLayout()
        row.addWidget(self.servers, 1)
        row.addWidget(self.refresh_button)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(0)  # takes the width only while there is no server list (the list's box has stretch 1)
        self.message = QLabel()
        self.message.setObjectName("serverMessage")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #5f6368")
        self.message.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.list = QTreeWidget()
        self.list.setObjectName("serverEngagements")
        self.list.setRootIsDecorated(False)
        self.list.setHeaderLabels(list(COLUMNS))
        self.list.setAccessibleName("Engagements on the team server")
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.list.itemActivated.connect(self._activated)
        self.add_button.clicked.connect(self.addRequested)
        self.refresh_button.clicked.connect(lambda: self.refreshRequested.emit(self.current()))
        self.remove_button.clicked.connect(lambda: self.removeRequested.emit(self.current()))
        self.servers.activated.connect(lambda _index: self.refreshRequested.emit(self.current()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.list, 1)
        layout.addStretch(0)  # the same for the height while the list is hidden
        self.set_servers([], "")

    def current(self) -> str:
        return self.servers.currentText()

    def set_servers(self, addresses: Sequence[str], current: str) -> None:
        self.servers.clear()
        self.servers.addItems(list(addresses))
        if current in addresses:
            self.servers.setCurrentIndex(list(addresses).index(current))
        has = bool(addresses)
        self.servers.setVisible(has)
        self.refresh_button.setVisible(has)
        self.remove_button.setVisible(has)
        if not has:
            self.list.clear()
            self.list.hide()
            self.show_message(
                "Engagements your firm keeps on its PostgreSQL server appear here: add its address (from your DBA)."
            )

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def show_loading(self) -> None:
        self.show_message(f"Loading the engagements on {self.current()}…")

    def show_listing(self, listed: Sequence[Listed]) -> None:
        self.list.clear()
        for entry in listed:
            item = QTreeWidgetItem(
                [
                    entry.client,
                    entry.title,
                    dates_text(entry.start_date, entry.end_date),
                    f"{entry.progress:.0%}",
                    entry.role,
                ]
            )
            item.setData(0, ID_ROLE, entry.id)
            item.setToolTip(0, f"{entry.client} — engagement {entry.id}")
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        self.list.setVisible(bool(listed))
        if listed:
            self.list.setCurrentItem(self.list.topLevelItem(0))
            self.show_message("")
        else:
            self.show_message("You are a member of no engagement on this server yet (a lead adds you, or publish one).")

    def show_failure(self, text: str) -> None:
        self.list.clear()
        self.list.hide()
        self.show_message(text[:1].upper() + text[1:] + ("" if text.endswith(".") else "."))

    def _activated(self, item: QTreeWidgetItem) -> None:
        self.engagementActivated.emit(self.current(), str(item.data(0, ID_ROLE)))
