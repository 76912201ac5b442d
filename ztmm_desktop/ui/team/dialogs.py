"""The dialog that asks for a server's address (and, for most uses, an engagement's id on it)."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import ZtmmError
from ...server.url import ENGAGEMENT_ID, ServerUrl
from .connecting import read_address

ADDRESS_HINT = "postgresql://USER@HOST:PORT/DB"


def suggested_id(client: str) -> str:
    """An engagement id from a client's name: lowercase letters, digits and '_', starting with a letter."""
    text = re.sub(r"[^a-z0-9]+", "_", client.lower()).strip("_")
    if not text or not text[0].isalpha():
        text = f"eng_{text}".rstrip("_")
    return text[:40].rstrip("_")


class ServerAddressDialog(QDialog):
    """A server's address, picked from the known ones or typed; with ``engagement``, an engagement id too."""

    def __init__(
        self,
        title: str,
        intro: str,
        known: list[str],
        parent: QWidget | None = None,
        *,
        engagement: str | None = None,
        action: str = "OK",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("serverAddressDialog")
        self.setWindowTitle(title)
        self.url: ServerUrl | None = None
        self.notice = ""
        text = QLabel(intro)
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        self.address = QComboBox()
        self.address.setObjectName("address")
        self.address.setEditable(True)
        self.address.addItems(known)
        self.address.setCurrentText(known[0] if known else "")
        line = self.address.lineEdit()
        assert line is not None
        line.setPlaceholderText(ADDRESS_HINT)
        self.address.setAccessibleName("Server address")
        self.engagement: QLineEdit | None = None
        form = QFormLayout()
        form.addRow("Server &address:", self.address)
        if engagement is not None:
            self.engagement = QLineEdit(engagement)
            self.engagement.setObjectName("engagementId")
            self.engagement.setPlaceholderText("eng_2026_014")
            self.engagement.setAccessibleName("Engagement id")
            form.addRow("&Engagement id:", self.engagement)
        self.error = QLabel()
        self.error.setObjectName("addressError")
        self.error.setStyleSheet("color: #b3261e")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(action)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def _check(self) -> None:
        """Accept only an address the client takes (and an engagement id when asked); else say why here."""
        try:
            url, notice = read_address(self.address.currentText())
            if self.engagement is not None:
                wanted = self.engagement.text().strip() or url.engagement or ""
                if not ENGAGEMENT_ID.fullmatch(wanted):
                    raise ZtmmError(
                        "the engagement id must be 1 to 40 lowercase letters, digits or '_', starting with a letter"
                    )
                url = url.with_engagement(wanted)
        except ZtmmError as err:
            self.error.setText(str(err)[:1].upper() + str(err)[1:] + ".")
            self.error.show()
            return
        self.url, self.notice = url, notice
        self.accept()


def ask_address(
    parent: QWidget | None,
    title: str,
    intro: str,
    known: list[str],
    *,
    engagement: str | None = None,
    action: str = "OK",
) -> tuple[ServerUrl, str] | None:
    """The address (with its password, if one was typed: the caller keeps it in memory only) and a notice."""
    dialog = ServerAddressDialog(title, intro, known, parent, engagement=engagement, action=action)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.url is None:
            return None
        return dialog.url, dialog.notice
    finally:
        dialog.deleteLater()
