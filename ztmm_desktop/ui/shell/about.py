"""Help → About ZTMM Workbench: the version, the model and guidance shipped with their attribution, the platform.

Everything shown comes from where the app itself reads it: the version from
``ztmm_desktop.__version__``, the catalog and the guidance packs (with each
pack's ``ATTRIBUTION.md``, which its licence requires to be shown) from the
library the workbench loads, the data folder from ``paths.data_dir()``. The
text can be selected and copied; a link opens in the browser only when clicked.
"""

from __future__ import annotations

import html
import platform
import re

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QGuiApplication, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ... import __version__
from ...core.catalog import GuidancePack
from ...paths import data_dir
from ...services.catalogs import Library, default_library
from ..common.appinfo import APP_NAME, app_icon
from ..common.opener import open_url

_SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
CATALOG_SOURCE = "https://www.cisa.gov/zero-trust-maturity-model"
#: SPDX ids of the guidance licences → (name shown, licence text).
LICENCES = {
    "CC-BY-4.0": (
        "Creative Commons Attribution 4.0 International (CC BY 4.0)",
        "https://creativecommons.org/licenses/by/4.0/",
    ),
}


def _link(url: str, text: str | None = None) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(text or url)}</a>'


def _markdown_html(text: str) -> str:
    """A pack's attribution (Markdown) as an HTML fragment, links kept, its headings small."""
    document = QTextDocument()
    document.setMarkdown(re.sub(r"^#{1,6}[ \t]+", "##### ", text, flags=re.MULTILINE))
    body = document.toHtml()
    start, end = body.find("<body"), body.rfind("</body>")
    return body[body.find(">", start) + 1 : end] if start >= 0 and end >= 0 else html.escape(text)


def _pack_html(pack: GuidancePack) -> str:
    name, url = LICENCES.get(pack.licence, (pack.licence, ""))
    licence = _link(url, name) if url else html.escape(name)
    return (
        f"<h4>{html.escape(pack.title)}</h4>"
        "<table cellspacing='0' cellpadding='2'>"
        f"<tr><td>Pack</td><td><code>{html.escape(pack.id)}</code>, version {html.escape(pack.version)}</td></tr>"
        f"<tr><td>Publisher</td><td>{html.escape(pack.publisher)}</td></tr>"
        f"<tr><td>License</td><td>{licence}</td></tr>"
        "</table>"
        f"{_markdown_html(pack.attribution)}"
    )


def about_html(library: Library) -> str:
    """The body of the dialog: model, guidance, platform, data folder."""
    catalog = library.catalog
    folder = data_dir()
    packs = "".join(_pack_html(p) for p in library.packs) or "<p>No guidance pack is installed.</p>"
    return (
        "<h3>Maturity model</h3>"
        f"<p><b>{html.escape(catalog.title)}</b>, version {html.escape(catalog.version)}"
        f" ({html.escape(catalog.published)}), {html.escape(catalog.publisher)}. "
        f"Source: {_link(CATALOG_SOURCE)}.</p>"
        "<p>The model's pillars, functions and stage texts are CISA's, quoted unchanged: a work of the"
        " United States Government, not subject to copyright in the United States (public domain).</p>"
        "<h3>Guidance</h3>"
        f"{packs}"
        "<h3>This installation</h3>"
        "<table cellspacing='0' cellpadding='2'>"
        f"<tr><td>Python</td><td>{html.escape(platform.python_version())}</td></tr>"
        f"<tr><td>Qt</td><td>{html.escape(qVersion())}</td></tr>"
        f"<tr><td>PySide6</td><td>{html.escape(PySide6.__version__)}</td></tr>"
        f"<tr><td>System</td><td>{html.escape(platform.platform(terse=True))}</td></tr>"
        f"<tr><td>Data folder</td><td>{_link(QUrl.fromLocalFile(str(folder)).toString(), str(folder))}</td></tr>"
        "</table>"
    )


class AboutDialog(QDialog):
    """The About box: name, icon and version on top, the details below (selectable, links open on click)."""

    def __init__(self, parent: QWidget | None = None, library: Library | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(f"About {APP_NAME}")
        self.library = library or default_library()
        icon = QLabel()
        icon.setObjectName("aboutIcon")
        window_icon = QGuiApplication.windowIcon()
        if window_icon.isNull():  # not started through app.main (tests, embedding)
            window_icon = app_icon()
        if not window_icon.isNull():
            icon.setPixmap(window_icon.pixmap(64, 64))
        self.heading = QLabel(f"<h2 style='margin-bottom: 0'>{APP_NAME}</h2><p>Version {html.escape(__version__)}</p>")
        self.heading.setObjectName("aboutHeading")
        self.heading.setTextInteractionFlags(self.heading.textInteractionFlags() | _SELECTABLE)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(self.heading, 1)
        self.details = QTextBrowser()
        self.details.setObjectName("aboutText")
        self.details.setOpenLinks(False)
        self.details.setOpenExternalLinks(False)
        self.details.anchorClicked.connect(self._open_link)  # on a click only; says so when no browser opens it
        self.details.setHtml(about_html(self.library))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        self.resize(620, 600)

    def _open_link(self, url: QUrl) -> None:
        if (url.scheme().lower() in ("http", "https") and url.host()) or url.isLocalFile():  # the web, the data folder
            open_url(self, url)

    def plain_text(self) -> str:
        """Everything the dialog says, as plain text."""
        document = QTextDocument()
        document.setHtml(self.heading.text())
        return f"{document.toPlainText()}\n{self.details.toPlainText()}"

    def summary(self) -> str:
        catalog = self.library.catalog
        packs = ", ".join(f"{p.id} {p.version}" for p in self.library.packs) or "no guidance"
        return f"{catalog.id} {catalog.version}, {packs}"
