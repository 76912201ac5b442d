"""Help → Keyboard shortcuts and Help → User guide: two pages read in the app, printable, never on the web.

The shortcuts page is written from the window's own menus each time it opens (every action with a key, as
the menu names it), followed by the keys the views handle themselves (the rating keys come from the
function page's own table), so it cannot list a key the window no longer has. The user guide is an HTML
page shipped in ``resources/guide/``; it loads nothing from outside, and a web link in it goes to the
system browser only when clicked (with a message when none opens it). Both print through the system's
print preview or save as a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QKeySequence, QTextDocument
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QMenu,
    QMenuBar,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...paths import resources_dir
from ..common.opener import open_url
from ..function.guidance import is_web_url
from ..function.page import RATING_ORDER

#: The user guide, inside ``resources/``.
GUIDE = Path("guide") / "user-guide.html"


@dataclass(frozen=True)
class Shortcut:
    """One key: where it works (a menu, or a view), what it does, and the keys as the platform writes them."""

    where: str
    what: str
    keys: str


def _plain(text: str) -> str:
    """A menu entry as words: ``&Save as…`` → ``Save as``."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").removesuffix("…").strip()


def _keys(action: QAction) -> str:
    return " or ".join(
        s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts() if not s.isEmpty()
    )


def menu_shortcuts(bar: QMenuBar) -> list[Shortcut]:
    """Every menu entry that has a key, in menu order (submenus too)."""
    found: list[Shortcut] = []

    def walk(menu: QMenu, where: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), f"{where} → {_plain(action.text())}")  # type: ignore[arg-type]
            elif not action.isSeparator() and _keys(action):
                # An action whose text changes (Undo <the change>) says what it does in its What's This.
                found.append(Shortcut(where, action.whatsThis() or _plain(action.text()), _keys(action)))

    for top in bar.actions():
        if top.menu() is not None:
            walk(top.menu(), _plain(top.text()))  # type: ignore[arg-type]
    return found


def view_shortcuts() -> list[Shortcut]:
    """The keys the tree, the function page and the evidence list handle themselves (no menu entry)."""
    ratings = [
        Shortcut("Tree and function page", f"Rate the selected stage: {rating.label}", str(number))
        for number, rating in enumerate(RATING_ORDER, start=1)
    ]
    return [
        *ratings,
        Shortcut("Function page", "From a stage, go to its comment", "Enter"),
        Shortcut("Function page", "Keep the text typed in a comment or the notes", "Ctrl+Enter"),
        Shortcut("Function page", "Next or previous field", "Tab or Shift+Tab"),
        Shortcut("Evidence", "Paste a screenshot as evidence", "Ctrl+V"),
        Shortcut("Evidence", "Remove the selected evidence", "Delete"),
    ]


def shortcuts_html(shortcuts: list[Shortcut]) -> str:
    """One page: a table per place, keys first."""
    groups: dict[str, list[Shortcut]] = {}
    for shortcut in shortcuts:
        groups.setdefault(shortcut.where, []).append(shortcut)
    parts = ["<h2>Keyboard shortcuts</h2>"]
    for where, rows in groups.items():
        parts.append(f'<h3 style="margin-top:14px; margin-bottom:4px;">{escape(where)}</h3>')
        parts.append('<table cellspacing="0" cellpadding="3" width="100%">')
        for row in rows:
            parts.append(f'<tr><td width="28%"><b>{escape(row.keys)}</b></td><td>{escape(row.what)}</td></tr>')
        parts.append("</table>")
    return "".join(parts)


class DocumentDialog(QDialog):
    """A page to read, with Print… (the system's print preview) and Save as PDF…."""

    def __init__(self, title: str, parent: QWidget | None = None, *, folder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.folder = folder  # where Save as PDF… suggests to save
        self.browser = QTextBrowser()
        self.browser.setObjectName("helpText")
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.anchorClicked.connect(self._link_clicked)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.print_button = QPushButton("Print…")
        self.pdf_button = QPushButton("Save as PDF…")
        buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.pdf_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.print_button.clicked.connect(self.print_preview)
        self.pdf_button.clicked.connect(self.save_pdf)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(760, 640)

    def document(self) -> QTextDocument:
        return self.browser.document()

    def _link_clicked(self, url: QUrl) -> None:
        if not url.scheme() and url.fragment():  # a heading of this page
            self.browser.scrollToAnchor(url.fragment())
        elif is_web_url(url):
            open_url(self, url)

    def print_preview(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.windowTitle())
        preview = QPrintPreviewDialog(printer, self)
        preview.setWindowTitle(f"Print preview – {self.windowTitle()}")
        preview.paintRequested.connect(self.document().print_)
        preview.exec()
        preview.deleteLater()

    def save_pdf(self) -> Path | None:
        suggested = str(Path(self.folder) / f"{self.windowTitle()}.pdf") if self.folder else f"{self.windowTitle()}.pdf"
        name, _ = QFileDialog.getSaveFileName(self, "Save as PDF", suggested, "PDF documents (*.pdf)")
        if not name:
            return None
        target = Path(name) if name.lower().endswith(".pdf") else Path(name + ".pdf")
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        printer.setDocName(self.windowTitle())
        self.document().print_(printer)
        if not target.is_file() or target.stat().st_size == 0:
            QMessageBox.warning(self, "Not saved", f"{target.name} could not be written in {target.parent}.")
            return None
        return target


class ShortcutsDialog(DocumentDialog):
    """Help → Keyboard shortcuts: every key of the window, read from its menus when opened."""

    def __init__(self, bar: QMenuBar, parent: QWidget | None = None, *, folder: str = "") -> None:
        super().__init__("Keyboard shortcuts", parent, folder=folder)
        self.shortcuts = [*menu_shortcuts(bar), *view_shortcuts()]
        self.browser.setHtml(shortcuts_html(self.shortcuts))


def guide_path() -> Path:
    return resources_dir() / GUIDE


class UserGuideDialog(DocumentDialog):
    """Help → User guide: the shipped page, read offline."""

    def __init__(self, parent: QWidget | None = None, path: Path | None = None, *, folder: str = "") -> None:
        super().__init__("ZTMM Workbench user guide", parent, folder=folder)
        self.resize(860, 720)
        path = path or guide_path()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = f"<p>The user guide is not installed with this copy of the workbench ({escape(str(path))}).</p>"
        self.browser.setSearchPaths([str(path.parent)])
        self.browser.setHtml(text)
