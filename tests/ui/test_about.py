"""Help → About: the version, the model's version and the guidance's CC BY 4.0 attribution, as a user opens it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QLabel, QTextBrowser, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from ztmm_desktop import __version__
from ztmm_desktop.paths import data_dir
from ztmm_desktop.services.catalogs import default_library
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui


def help_action(window: MainWindow, text: str):  # type: ignore[no-untyped-def]
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help")
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_about_shows_version_model_and_attribution(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: not opened.append(url.toString())))

    def read_and_close(dialog: QWidget) -> None:
        assert isinstance(dialog, QDialog)
        heading = dialog.findChild(QLabel, "aboutHeading")
        details = dialog.findChild(QTextBrowser, "aboutText")
        assert heading is not None and details is not None
        seen["heading"] = heading.text()
        seen["text"] = details.toPlainText()
        seen["html"] = details.toHtml()
        seen["selectable"] = bool(heading.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse)
        # A link opens on a click: a web page in the browser, the data folder in the file manager; nothing else.
        details.anchorClicked.emit(QUrl("https://creativecommons.org/licenses/by/4.0/"))
        details.anchorClicked.emit(QUrl.fromLocalFile(str(data_dir())))
        details.anchorClicked.emit(QUrl("javascript:alert(1)"))
        seen["external"] = opened == [
            "https://creativecommons.org/licenses/by/4.0/",
            QUrl.fromLocalFile(str(data_dir())).toString(),
        ]
        icon = dialog.findChild(QLabel, "aboutIcon")
        seen["icon"] = icon is not None and not icon.pixmap().isNull()
        dialog.reject()

    dialogs.then(read_and_close)
    help_action(window, "About ZTMM Workbench").trigger()
    qtbot.waitUntil(lambda: dialogs.done)

    library = default_library()
    text = str(seen["text"])
    assert f"Version {__version__}" in str(seen["heading"])
    assert f"{library.catalog.title}, version {library.catalog.version}" in text
    assert "public domain" in text
    pack = library.packs[0]
    assert pack.id in text and pack.version in text and pack.publisher in text
    assert "CC BY 4.0" in text  # the licence, and the attribution the licence asks for
    assert "Microsoft does not endorse" in text
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in str(seen["html"])
    assert str(data_dir()) in text
    assert seen["selectable"] and seen["external"]
    assert seen["icon"]  # the app's icon from resources/icons
