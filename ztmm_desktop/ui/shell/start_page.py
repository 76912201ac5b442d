"""The start page: what the window shows with no engagement open."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..team.start_section import ServerSection

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


class StartPage(QWidget):
    newRequested = Signal()
    openRequested = Signal()
    demoRequested = Signal()
    recentActivated = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("startPage")
        title = QLabel("ZTMM Workbench")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel("CISA Zero Trust Maturity Model v2.0 assessments — offline, in the workshop.")
        subtitle.setStyleSheet("color: #5f6368")
        self.new_button = QPushButton("New engagement…")
        self.new_button.setObjectName("newButton")
        self.open_button = QPushButton("Open…")
        self.open_button.setObjectName("openButton")
        self.demo_button = QPushButton("Open demo engagement")
        self.demo_button.setObjectName("demoButton")
        for button in (self.new_button, self.open_button, self.demo_button):
            button.setMinimumHeight(36)
            button.setMinimumWidth(200)
        self.new_button.clicked.connect(self.newRequested)
        self.open_button.clicked.connect(self.openRequested)
        self.demo_button.clicked.connect(self.demoRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        recent_label = QLabel("Recent engagements")
        bold = recent_label.font()
        bold.setBold(True)
        recent_label.setFont(bold)
        self.recent = QListWidget()
        self.recent.setObjectName("recentList")
        self.recent.itemActivated.connect(lambda item: self.recentActivated.emit(item.data(PATH_ROLE)))
        self.no_recent = QLabel("No engagement opened yet. Start a new one, or look around in the demo.")
        self.no_recent.setStyleSheet("color: #5f6368")
        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(subtitle)
        column.addSpacing(24)
        column.addLayout(buttons)
        column.addSpacing(24)
        column.addWidget(recent_label)
        column.addWidget(self.no_recent)
        column.addWidget(self.recent, 3)
        column.addSpacing(16)
        self.server_section = ServerSection()
        column.addWidget(self.server_section, 4)
        column.addStretch(1)
        for label in (title, subtitle, recent_label, self.no_recent):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 6)
        outer.addStretch(1)
        outer.setContentsMargins(32, 48, 32, 32)

    def set_recent(self, paths: list[Path]) -> None:
        self.recent.clear()
        for path in paths:
            item = QListWidgetItem(f"{path.name}    —    {path.parent}")
            item.setData(PATH_ROLE, path)
            item.setToolTip(str(path))
            self.recent.addItem(item)
        self.no_recent.setVisible(not paths)
        self.recent.setVisible(bool(paths))
