"""Server addresses and passwords in the window.

The address the consultant types is parsed by ``server.url`` (the one place that knows what a
URL may hold). A password typed into it is taken out: the address is remembered without it, and
the password is kept in this process only (``Passwords``), as one asked in the dialog is. Nothing
writes a password to the settings or to disk; it is never shown.

The connect layer asks its ``prompt`` for a password when the server wants one that neither the
address, ``PGPASSWORD`` nor ``.pgpass`` gave. That happens on a worker thread, where no dialog may
be shown, so the window's prompt raises ``NeedPassword``; the UI thread then asks in
``PasswordDialog`` and tries again with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from ...core.errors import ZtmmError
from ...server.url import ServerUrl, parse
from ..common.tasks import off_ui_thread

_T = TypeVar("_T")


class NeedPassword(ZtmmError):
    """The server asks for a password the window does not have yet."""


def need_password(url: ServerUrl) -> str | None:
    """The window's ``prompt`` for the connect layer (called on a worker thread)."""
    raise NeedPassword(f"{url.display} asks for a password")


class AskCancelled(ZtmmError):
    """The consultant closed the password dialog; nothing was done."""


def read_address(text: str) -> tuple[ServerUrl, str]:
    """The address typed (``ServerUrlError`` when it is not one) and a notice when a password was taken out of it."""
    url = parse(text.strip())
    notice = ""
    if url.password is not None:
        notice = "The password was taken out of the address: it is not stored, and is asked when the server needs it."
    return url, notice


class Passwords:
    """Passwords given in this session, per server and user; never written anywhere."""

    def __init__(self) -> None:
        self._known: dict[tuple[str | None, str, int, str], str] = {}

    @staticmethod
    def _key(url: ServerUrl) -> tuple[str | None, str, int, str]:
        return (url.user, url.host, url.port, url.dbname)

    def remember(self, url: ServerUrl) -> None:
        if url.password:
            self._known[self._key(url)] = url.password

    def forget(self, url: ServerUrl) -> None:
        self._known.pop(self._key(url), None)

    def known(self, url: ServerUrl) -> bool:
        return self._key(url) in self._known

    def with_known(self, url: ServerUrl) -> ServerUrl:
        """``url`` with the password given for its server in this session, if any."""
        password = self._known.get(self._key(url))
        return replace(url, password=password) if password is not None and url.password is None else url


class PasswordDialog(QDialog):
    """The server's password, asked when it asks for one."""

    def __init__(self, url: ServerUrl, parent: QWidget | None = None, *, wrong: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("serverPasswordDialog")
        self.setWindowTitle("Server password")
        who = url.user or "your login"
        text = QLabel(
            ("The password was not accepted. " if wrong else "")
            + f"Password of {who} on {url.host}:{url.port}/{url.dbname}. "
            "It is kept only until you quit ZTMM Workbench."
        )
        text.setTextFormat(Qt.TextFormat.PlainText)
        text.setWordWrap(True)
        self.field = QLineEdit()
        self.field.setObjectName("password")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setAccessibleName("Password")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.field)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)


def ask_password(parent: QWidget | None, url: ServerUrl, *, wrong: bool = False) -> str | None:
    dialog = PasswordDialog(url, parent, wrong=wrong)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.field.text():
            return None
        return dialog.field.text()
    finally:
        dialog.deleteLater()


def wrong_password(err: BaseException) -> bool:
    return "password authentication failed" in str(err)


def with_password(
    parent: QWidget | None, passwords: Passwords, url: ServerUrl, work: Callable[[ServerUrl], _T]
) -> tuple[_T, ServerUrl]:
    """``work(url)`` off the UI thread, asking for the password (on this thread) when the server wants one
    or refuses the one given; the result and the address it worked with (its password in memory only).
    ``AskCancelled`` when the consultant closes the dialog; anything else ``work`` raises passes."""
    url = passwords.with_known(url)
    asked = False
    while True:
        try:
            result = off_ui_thread(lambda: work(url))  # noqa: B023  (called at once, on this turn)
        except NeedPassword:
            wrong = False
        except ZtmmError as err:
            if not (wrong_password(err) and asked):
                if wrong_password(err):
                    passwords.forget(url)
                raise
            wrong = True
        else:
            passwords.remember(url)
            return result, url
        password = ask_password(parent, url, wrong=wrong)
        if password is None:
            raise AskCancelled("no password given; nothing was done")
        url, asked = replace(url, password=password), True
