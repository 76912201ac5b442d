"""Opening a file or a web link with the system's application, and saying so when nothing opens it.

On a locked-down or offline laptop there may be no PDF viewer, no spreadsheet program or no browser, and
``QDesktopServices.openUrl`` then just returns False. ``open_url`` checks that, and shows one dialog that
says so and offers what still helps: *Show in folder* (the file's folder in the file manager; if that
fails too, it says so) and *Copy path* for a file, *Copy link* for a web address.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

TITLE = "Not opened"


def open_url(parent: QWidget | None, url: QUrl) -> bool:
    """Open ``url`` with the system's application; when none does, say so and offer the way round."""
    if QDesktopServices.openUrl(url):
        return True
    not_opened(parent, url)
    return False


def not_opened(parent: QWidget | None, url: QUrl) -> None:
    """The one dialog for a file or a link that nothing on this computer opened."""
    if url.isLocalFile():
        path = Path(url.toLocalFile())
        clicked = _ask(
            parent,
            f"No application on this computer opened {path.name}.",
            f"The file is in {path.parent}.",
            ("Show in folder", "Copy path"),
        )
        if clicked == "Show in folder":
            if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent))):
                return
            clicked = _ask(parent, "The folder could not be opened either.", str(path.parent), ("Copy path",))
        if clicked == "Copy path":
            _copy(parent, str(path))
    else:
        link = url.toString()
        if _ask(parent, "No web browser on this computer opened the link.", link, ("Copy link",)):
            _copy(parent, link)


def _ask(parent: QWidget | None, text: str, detail: str, choices: tuple[str, ...]) -> str | None:
    """A warning with ``choices`` and Close; the choice clicked, or None for Close."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(TITLE)
    box.setTextFormat(Qt.TextFormat.PlainText)  # a file name or a link is shown as it is, never as markup
    box.setText(text)
    box.setInformativeText(detail)
    buttons = {box.addButton(choice, QMessageBox.ButtonRole.ActionRole): choice for choice in choices}
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Close))
    try:
        box.exec()
        return buttons.get(box.clickedButton())  # type: ignore[call-overload]
    finally:
        box.deleteLater()


def _copy(parent: QWidget | None, text: str) -> None:
    QApplication.clipboard().setText(text)
    window = parent.window() if parent is not None else None
    status = getattr(window, "statusBar", None)
    if callable(status):
        status().showMessage(f"Copied {text}", 5000)
