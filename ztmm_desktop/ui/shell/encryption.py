"""Passphrases in the window: the unlock and new-passphrase dialogs, and File → Encrypt….

The window installs ``ask_passphrase`` as the services' asker, so every open of an
encrypted file (File → Open, recent files, recovery, merge, compare) asks here.
After five wrong tries each further try waits a moment first, longer each time
(``services.passphrase.wait_after``). A remembered passphrase goes to the OS
keyring, never to the settings or the recent-files list.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QThread, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import ZtmmError
from ...services import passphrase as secrets
from ..common.dialogs import error_label

if TYPE_CHECKING:
    from typing import Protocol

    from ..common.host import WindowHost

    class EncryptionHost(WindowHost, Protocol):
        """The main window as these actions see it (not ``shell.main_window``: no import circle)."""

        recovered: bool

        def _update_title(self) -> None: ...

        def _update_actions(self) -> None: ...


class UnlockDialog(QDialog):
    """Asks for the passphrase of an encrypted engagement; says so after a wrong one."""

    def __init__(self, parent: QWidget | None, path: Path, wrong: int) -> None:
        super().__init__(parent)
        self.setWindowTitle("Encrypted engagement")
        self.setObjectName("unlockDialog")
        intro = QLabel(f"{path.name} is encrypted. Type its passphrase to open it.")
        intro.setWordWrap(True)
        self.field = QLineEdit()
        self.field.setObjectName("passphrase")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember it in the system keyring")
        self.remember.setObjectName("remember")
        self.problem = error_label("passphraseProblem")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        form = QFormLayout()
        form.addRow("Passphrase:", self.field)
        layout.addLayout(form)
        layout.addWidget(self.remember)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.problem.setVisible(wrong > 0)
        self._wait = secrets.wait_after(wrong)
        self._wrong = wrong
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        if wrong:
            self.problem.setText(f"Wrong passphrase ({wrong} {'try' if wrong == 1 else 'tries'}).")
        if self._wait > 0:
            self.open_button.setEnabled(False)
            self.field.setEnabled(False)
            self._show_wait()
            self._timer.start(min(1000, max(10, int(self._wait * 1000))))
        self.resize(420, self.sizeHint().height())

    @property
    def open_button(self) -> QWidget:
        return self.buttons.button(QDialogButtonBox.StandardButton.Open)

    def _show_wait(self) -> None:
        seconds = max(1, round(self._wait))
        self.problem.setText(f"Wrong passphrase ({self._wrong} tries). Wait {seconds} s before trying again.")

    def _tick(self) -> None:
        self._wait -= self._timer.interval() / 1000
        if self._wait > 0:
            self._show_wait()
            return
        self._timer.stop()
        self.problem.setText(f"Wrong passphrase ({self._wrong} tries). Try again.")
        self.open_button.setEnabled(True)
        self.field.setEnabled(True)
        self.field.setFocus()

    def accept(self) -> None:
        if self._wait > 0 or not self.field.text():
            return
        super().accept()


class NewPassphraseDialog(QDialog):
    """Asks for a new passphrase twice (File → Encrypt…, Change passphrase…)."""

    def __init__(self, parent: QWidget | None, title: str, text: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("newPassphraseDialog")
        intro = QLabel(text)
        intro.setWordWrap(True)
        self.first = QLineEdit()
        self.first.setObjectName("passphrase")
        self.second = QLineEdit()
        self.second.setObjectName("again")
        for field in (self.first, self.second):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember it in the system keyring")
        self.remember.setObjectName("remember")
        self.problem = error_label("passphraseProblem")
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        form = QFormLayout()
        form.addRow("Passphrase:", self.first)
        form.addRow("Again:", self.second)
        layout.addLayout(form)
        layout.addWidget(self.remember)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(440, self.sizeHint().height())

    def accept(self) -> None:
        try:
            secrets.check_new(self.first.text())
        except ZtmmError as err:
            self.problem.setText(str(err).capitalize() + ".")
            self.problem.show()
            return
        if self.first.text() != self.second.text():
            self.problem.setText("The two passphrases differ.")
            self.problem.show()
            return
        super().accept()

    def passphrase(self) -> str:
        return self.first.text()


def ask_passphrase(parent: QWidget | None, path: Path, wrong: int) -> secrets.Answer | None:
    """The window's asker (on the UI thread only: a worker gets None, the open is refused)."""
    app = QApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return None
    dialog = UnlockDialog(parent, path, wrong)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return secrets.Answer(dialog.field.text(), remember=dialog.remember.isChecked())


class EncryptionActions:
    """File → Encrypt…, Change passphrase…, Remove encryption…."""

    def __init__(self, window: EncryptionHost) -> None:
        self.window = window
        self.encrypt_action = QAction("&Encrypt…", window)
        self.encrypt_action.triggered.connect(self.encrypt)
        self.rekey_action = QAction("Change &passphrase…", window)
        self.rekey_action.triggered.connect(self.rekey)
        self.decrypt_action = QAction("Remove encr&yption…", window)
        self.decrypt_action.triggered.connect(self.decrypt)

    def add_to(self, menu: QMenu) -> None:
        for action in (self.encrypt_action, self.rekey_action, self.decrypt_action):
            menu.addAction(action)

    def update(self) -> None:
        engagement = self.window.engagement
        writable = engagement is not None and not engagement.readonly
        encrypted = False
        if engagement is not None:
            from ...services import encryption  # once an engagement is open: the window paints before the services

            encrypted = encryption.is_encrypted(engagement)
        self.encrypt_action.setEnabled(writable and not encrypted)
        self.rekey_action.setEnabled(writable and encrypted)
        self.decrypt_action.setEnabled(writable and encrypted)

    def _done(self, message: str) -> None:
        window = self.window
        window.undo_stack.setClean()
        window.recovered = False
        window._update_title()
        window._update_actions()
        window.statusBar().showMessage(message, 8000)

    def encrypt(self) -> None:
        from ...services import encryption

        engagement = self.window.engagement
        if engagement is None or engagement.readonly:
            return
        dialog = NewPassphraseDialog(
            self.window,
            "Encrypt engagement",
            f"Encrypt {engagement.path.name}: everything in it, evidence included, can then be read only with "
            "this passphrase. There is no way to recover a forgotten passphrase. The engagement is saved now, "
            "with any unsaved changes.",
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.window.tasks.wait()
        try:
            encryption.encrypt(engagement, dialog.passphrase(), remember=dialog.remember.isChecked())
        except ZtmmError as err:
            QMessageBox.warning(self.window, "Not encrypted", str(err))
            return
        self._done(f"{engagement.path.name} is encrypted and saved.")

    def rekey(self) -> None:
        from ...services import encryption

        engagement = self.window.engagement
        if engagement is None or engagement.readonly:
            return
        dialog = NewPassphraseDialog(
            self.window,
            "Change passphrase",
            f"The new passphrase of {engagement.path.name}. The engagement is saved now, with any unsaved changes; "
            "copies made before keep the old passphrase.",
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.window.tasks.wait()
        try:
            encryption.rekey(engagement, dialog.passphrase(), remember=dialog.remember.isChecked())
        except ZtmmError as err:
            QMessageBox.warning(self.window, "Passphrase not changed", str(err))
            return
        self._done(f"The passphrase of {engagement.path.name} is changed and the engagement saved.")

    def decrypt(self) -> None:
        from ...services import encryption

        engagement = self.window.engagement
        if engagement is None or engagement.readonly:
            return
        answer = QMessageBox.warning(
            self.window,
            "Remove encryption",
            f"Store {engagement.path.name} unencrypted? Anyone who gets a copy of the file can then read it. "
            "The engagement is saved now, with any unsaved changes.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.window.tasks.wait()
        try:
            encryption.decrypt(engagement)
        except ZtmmError as err:
            QMessageBox.warning(self.window, "Encryption not removed", str(err))
            return
        self._done(f"{engagement.path.name} is saved unencrypted.")
