"""The evidence pane: the files that support one function, with a preview.

``EvidencePane`` lists the evidence linked to one function (any of its stages,
or one of its findings); evidence linked to the stage being looked at comes
first and is marked. Images get a thumbnail, other files an icon by type. The
selected item is previewed below the list: images scaled, text files as plain
text (the first 64 KB; HTML, scripts and the like are shown as their source,
never interpreted), PDFs as their first page when Qt's PDF module is installed
(PySide6-Essentials lacks it), anything else as its record with an Open button.

The pane never changes the engagement. It emits a request and the main window
carries it out: ingest off the UI thread with progress, edits as undoable
commands. Wiring, in the window::

    pane.attachRequested.connect(flow.files)            # (list[Path], EvidenceLink); evidence_attach asks
    pane.pasteRequested.connect(flow.image)             # (bytes, EvidenceLink) title, kind and stage
    pane.detailsRequested.connect(update_details)       # (evidence id, EvidenceDetails)
    pane.linksRequested.connect(set_links)              # (evidence id, list[EvidenceLink])
    pane.removeRequested.connect(remove)                # evidence id
    pane.openRequested.connect(lambda evidence_id: open_externally(
        engagement, evidence_id, ask=ask_to_open(window)))
    pane.extractRequested.connect(save_a_copy)          # evidence id
    # and after each change: pane.refresh(); after verify: pane.set_problems(ids)

Everything the list shows is read once per ``refresh`` (records, links, finding
titles, thumbnails); the Qt model and the painting read only that cache.
Every string from the engagement or a file is shown as plain text.

``open_externally`` opens a copy of an evidence file in the system's default
application: from a private temp folder, never from the engagement, and only
after asking when the type can run code (SECURITY.md item 16).
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import importlib.util
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path, PurePath

from PySide6.QtCore import (
    QAbstractTableModel,
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDesktopServices,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QGuiApplication,
    QImage,
    QImageReader,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import Function
from ...core.errors import BadInput, ZtmmError
from ...core.stages import Stage
from ...services import evidence as ev
from ...services.engagement import Engagement
from ...services.evidence import DEFAULT_MEDIA_TYPE, Evidence, EvidenceDetails, EvidenceLink
from ..common.dialogs import confirm_remove
from .dialogs import EvidenceDetailsDialog, EvidenceLinksDialog, kind_label, link_label

#: Images up to this size get a thumbnail and an image preview (bytes read from the file).
IMAGE_LIMIT = 20 * 1024 * 1024
#: Images with more pixels than this are not decoded at all (a small file can claim a huge picture).
MAX_IMAGE_PIXELS = 100_000_000
#: How much of a text file the preview shows.
TEXT_PREVIEW_LIMIT = 64 * 1024
#: PDFs up to this size are copied out and their first page rendered (when Qt's PDF module is there).
PDF_PREVIEW_LIMIT = 64 * 1024 * 1024
#: The largest side of a decoded preview image (kept in memory while it is shown).
PREVIEW_MAX_SIDE = 2400
#: Thumbnail and type-icon size in the list (logical pixels).
ICON_SIZE = 40
PROBLEM_TOOLTIP = "bytes changed since attached"
PROBLEM_TEXT = (
    "Bytes changed since attached: this file no longer matches the SHA-256 recorded when it was attached. "
    "Do not rely on it until the original is attached again."
)
SHORT_SHA = 12
NOT_SET = "—"

#: Types that can run code or macros when opened: ask first (SECURITY.md item 16).
RISKY_EXTENSIONS = frozenset(
    {
        ".exe", ".bat", ".cmd", ".com", ".msi", ".ps1", ".vbs", ".js", ".jse", ".wsf", ".hta", ".lnk", ".scr",
        ".html", ".htm", ".xlsm", ".xlsb", ".docm", ".pptm", ".jar", ".app", ".sh",
        # the same families, spelled otherwise
        ".vbe", ".wsh", ".psm1", ".pif", ".cpl", ".msc", ".msp", ".reg", ".url", ".xhtml", ".svg", ".xltm",
        ".xlam", ".dotm", ".potm", ".ppsm", ".ppam", ".appref-ms", ".command", ".desktop",
    }
)  # fmt: skip

#: Media types previewed as images (decoded with exactly this format: content never picks the decoder).
IMAGE_FORMATS: dict[str, bytes] = {
    "image/png": b"png",
    "image/jpeg": b"jpeg",
    "image/gif": b"gif",
    "image/bmp": b"bmp",
    "image/webp": b"webp",
    "image/tiff": b"tiff",
    "image/vnd.microsoft.icon": b"ico",
    "image/x-icon": b"ico",
}
TEXT_MEDIA_TYPES = frozenset(
    {
        "application/json", "application/xml", "application/x-yaml", "application/yaml", "application/toml",
        "application/javascript", "application/x-javascript", "application/x-sh", "application/x-csh",
        "application/sql", "application/x-powershell", "application/ld+json", "application/xhtml+xml",
        "image/svg+xml", "message/rfc822",
    }
)  # fmt: skip
TEXT_SUFFIXES = frozenset(
    {
        ".txt", ".log", ".csv", ".tsv", ".json", ".jsonl", ".xml", ".yaml", ".yml", ".toml", ".ini", ".conf",
        ".cfg", ".md", ".rst", ".ps1", ".psm1", ".sh", ".bat", ".cmd", ".reg", ".html", ".htm", ".js", ".sql",
        ".pem", ".svg", ".eml", ".properties", ".env",
    }
)  # fmt: skip

# Item data roles of ``EvidenceModel``.
EVIDENCE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SUBTITLE_ROLE = Qt.ItemDataRole.UserRole + 2
HIGHLIGHT_ROLE = Qt.ItemDataRole.UserRole + 3
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 4

ACCENT = "#2d7dd2"
RED = "#c8463d"


# -- small helpers -----------------------------------------------------------------------


def human_size(size: int) -> str:
    """``1234567`` → ``1.2 MB``."""
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            number = f"{value:.0f}" if value >= 100 else f"{value:.1f}".removesuffix(".0")
            return f"{number} {unit}"
    return f"{size} bytes"  # pragma: no cover


def local_time(iso: str) -> str:
    """An ISO timestamp as local date and time to the minute; the text itself when it is not one."""
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def _suffixes(name: str) -> set[str]:
    """The suffix a file would get on disk and the one it was attached with (lower case)."""
    found = {PurePath(ev.safe_filename(name)).suffix.lower()}
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().rstrip(". ")
    found.add(PurePath(base).suffix.lower())
    return found - {""}


def is_risky(name: str) -> bool:
    """Whether a file of this name may run code or macros when opened."""
    return bool(_suffixes(name) & RISKY_EXTENSIONS)


def pdf_preview_available() -> bool:
    """Whether Qt's PDF module is installed (PySide6-Essentials lacks it)."""
    return importlib.util.find_spec("PySide6.QtPdf") is not None


def preview_kind(item: Evidence) -> str:
    """How the preview shows a record: ``image``, ``text``, ``pdf`` or ``other``."""
    suffix = PurePath(item.original_name).suffix.lower()
    if item.media_type in IMAGE_FORMATS:
        return "image"
    if item.media_type == "application/pdf" or suffix == ".pdf":
        return "pdf"
    if item.media_type.startswith("text/") or item.media_type in TEXT_MEDIA_TYPES or suffix in TEXT_SUFFIXES:
        return "text"
    return "other"


def looks_like_text(data: bytes) -> bool:
    """A guess for files of unknown type: no NUL bytes and mostly UTF-8 at the start."""
    head = data[:8192]
    if not head or b"\x00" in head:
        return False
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
    return text.count("\ufffd") <= max(2, len(text) // 100)


def decode_text(data: bytes, *, truncated: bool = False) -> str:
    """Bytes of a text file as text: UTF-8/16 by BOM, else UTF-8, else cp1252.

    ``truncated``: the bytes are the start of a longer file, so a character cut at the end is dropped.
    """
    encoding = "utf-8"
    boms = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
    bom = next(((mark, name) for mark, name in boms if data.startswith(mark)), None)
    if bom is not None:
        data, encoding = data[len(bom[0]) :], bom[1]
    try:
        text = codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=not truncated)
    except UnicodeDecodeError:  # a stray byte in UTF-8, or a legacy Windows code page
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(data, final=not truncated)
        if all(ord(char) < 128 or char == "\ufffd" for char in text):  # no UTF-8 at all: a legacy code page
            text = data.decode("cp1252", errors="replace")
    return text.replace("\x00", "\ufffd")


def decode_image(data: bytes, media_type: str, max_side: int) -> QImage | None:
    """Decode an image of a known type, scaled down to ``max_side``; None when it cannot or should not be."""
    image_format = IMAGE_FORMATS.get(media_type)
    if image_format is None or not data:
        return None
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer, QByteArray(image_format))
    reader.setAutoDetectImageFormat(False)  # the decoder follows the media type, never the content
    reader.setDecideFormatFromContent(False)
    reader.setAutoTransform(True)
    size = reader.size()
    original = f"{size.width()} × {size.height()}" if size.isValid() else ""
    if size.isValid():
        if size.width() * size.height() > MAX_IMAGE_PIXELS:
            return None
        if max(size.width(), size.height()) > max_side:
            reader.setScaledSize(size.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    buffer.close()
    if image.isNull():
        return None
    if max(image.width(), image.height()) > max_side:
        image = image.scaled(
            max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    image.setText("ztmm-original-size", original)
    return image


def image_to_png(image: QImage) -> bytes:
    """An image as PNG bytes."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise BadInput("the clipboard image could not be converted to PNG")
    buffer.close()
    return bytes(data.data())


def _plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` literally (Qt guesses rich text for anything that looks like a tag)."""
    return f'<p style="white-space:pre-wrap">{escape(text)}</p>'


def _plain_label(text: str = "", *, wrap: bool = True, selectable: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _scaled_font(font: QFont, scale: float, weight: QFont.Weight | None = None) -> QFont:
    scaled = QFont(font)
    if font.pointSizeF() > 0:
        scaled.setPointSizeF(font.pointSizeF() * scale)
    elif font.pixelSize() > 0:
        scaled.setPixelSize(round(font.pixelSize() * scale))
    if weight is not None:
        scaled.setWeight(weight)
    return scaled


def _dim(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.WindowText) -> QColor:
    colour = QColor(palette.color(role))
    colour.setAlphaF(0.62)
    return colour


# -- icons -------------------------------------------------------------------------------

_TYPE_COLOURS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({".pdf"}), "#c8463d"),
    (frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".ico", ".heic"}), "#7b57c2"),
    (frozenset({".csv", ".tsv", ".xlsx", ".xls", ".ods"}), "#2f8a52"),
    (frozenset({".doc", ".docx", ".odt", ".rtf"}), "#2b5fb4"),
    (frozenset({".ppt", ".pptx", ".odp"}), "#c4612b"),
    (frozenset({".json", ".xml", ".yaml", ".yml", ".toml", ".ini", ".conf", ".cfg"}), "#2d7dd2"),
    (frozenset({".zip", ".7z", ".gz", ".tgz", ".tar", ".rar", ".bz2", ".xz"}), "#b8841a"),
    (frozenset({".eml", ".msg"}), "#23808f"),
)


def type_label(name: str, media_type: str) -> tuple[str, str]:
    """The short label and colour of a file's type icon, e.g. ``("PDF", "#c8463d")``."""
    suffix = PurePath(name).suffix.lower()
    if is_risky(name):
        return (suffix[1:5].upper() or "EXE"), "#8e1f1f"
    for suffixes, colour in _TYPE_COLOURS:
        if suffix in suffixes:
            return suffix[1:5].upper(), colour
    if suffix and len(suffix) <= 5:
        return suffix[1:].upper(), "#6b7380"
    if media_type.startswith("text/"):
        return "TXT", "#6b7380"
    if media_type.startswith("image/"):
        return "IMG", "#7b57c2"
    return "FILE", "#6b7380"


def _canvas(size: int, ratio: float) -> QImage:
    pixels = max(1, round(size * ratio))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    image.setDevicePixelRatio(ratio)
    return image


def type_icon(label: str, colour: str, size: int = ICON_SIZE, ratio: float = 1.0) -> QPixmap:
    """A document icon with a coloured band naming the type (drawn here: the same on every platform)."""
    image = _canvas(size, ratio)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    width, height = size * 0.70, size * 0.90
    x, y = (size - width) / 2 + 0.5, (size - height) / 2 + 0.5
    fold = width * 0.30
    page = QPolygonF(
        [
            QPointF(x, y),
            QPointF(x + width - fold, y),
            QPointF(x + width, y + fold),
            QPointF(x + width, y + height),
            QPointF(x, y + height),
        ]
    )
    painter.setPen(QPen(QColor("#a9afb9"), 1.0))
    painter.setBrush(QColor("#fbfbfc"))
    painter.drawPolygon(page)
    corner = QPolygonF(
        [QPointF(x + width - fold, y), QPointF(x + width - fold, y + fold), QPointF(x + width, y + fold)]
    )
    painter.setBrush(QColor("#dfe3e8"))
    painter.drawPolygon(corner)
    band = QRectF(x - size * 0.08, y + height * 0.50, width * 0.92, height * 0.27)
    path = QPainterPath()
    path.addRoundedRect(band, 2.0, 2.0)
    painter.fillPath(path, QColor(colour))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(6, round(size * (0.2 if len(label) <= 3 else 0.165))))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(band, Qt.AlignmentFlag.AlignCenter, label)
    painter.end()
    return QPixmap.fromImage(image)


def thumbnail(image: QImage, size: int = ICON_SIZE, ratio: float = 1.0) -> QPixmap:
    """``image`` fitted into a square icon, with a hairline border."""
    canvas = _canvas(size, ratio)
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    fitted = image.size().scaled(size - 2, size - 2, Qt.AspectRatioMode.KeepAspectRatio)
    target = QRectF((size - fitted.width()) / 2, (size - fitted.height()) / 2, fitted.width(), fitted.height())
    painter.drawImage(target, image)
    painter.setPen(QPen(QColor(0, 0, 0, 70), 1.0))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
    painter.end()
    return QPixmap.fromImage(canvas)


def with_problem_mark(icon: QPixmap) -> QPixmap:
    """``icon`` with a red "!" badge in its lower right corner."""
    image = icon.toImage()
    ratio = image.devicePixelRatio()
    size = image.width() / ratio
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    radius = size * 0.23
    centre = QPointF(size - radius - 1, size - radius - 1)
    painter.setPen(QPen(QColor("white"), 2.0))
    painter.setBrush(QColor(RED))
    painter.drawEllipse(centre, radius, radius)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(7, round(radius * 1.5)))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    badge = QRectF(centre.x() - radius, centre.y() - radius, radius * 2, radius * 2)
    painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "!")
    painter.end()
    return QPixmap.fromImage(image)


# -- opening a copy ---------------------------------------------------------------------------

_opened_folders: list[Path] = []


def open_externally(
    engagement: Engagement,
    evidence_id: str,
    *,
    ask: Callable[[str], bool],
    opener: Callable[[QUrl], bool] = QDesktopServices.openUrl,
) -> Path | None:
    """Open a copy of an evidence file in the application the system chooses.

    The copy is written into a new private temp folder (``tempfile.mkdtemp``:
    readable by this user only), never beside or inside the engagement, and made
    read-only so that nobody edits it believing the evidence changes. For a type
    that can run code or macros, ``ask(message)`` is called first and nothing is
    written or opened unless it returns True. Returns the copy's path, or None
    when refused. Raises ``ZtmmError`` when the copy cannot be written or no
    application opens it. ``cleanup_opened_copies`` removes the copies.
    """
    item = ev.get(engagement, evidence_id)
    if is_risky(item.original_name):
        message = (
            f"“{item.original_name}” is a type of file that can run programs or macros on this computer. "
            "It came from outside and may be harmful.\n\nOpen it only if you trust where it came from. "
            "Open it anyway?"
        )
        if not ask(message):
            return None
    folder = Path(tempfile.mkdtemp(prefix="ztmm-evidence-"))
    _opened_folders.append(folder)
    path = ev.extract(engagement, item.id, folder)
    with contextlib.suppress(OSError):
        path.chmod(stat.S_IRUSR)
    if not opener(QUrl.fromLocalFile(str(path))):
        raise BadInput(f"no application on this computer opens {path.name}; use Save a copy instead")
    return path


def cleanup_opened_copies() -> None:
    """Remove the copies ``open_externally`` wrote in this session (when the app quits)."""
    while _opened_folders:
        folder = _opened_folders.pop()
        for root, _dirs, files in os.walk(folder):
            for name in files:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(root, name), stat.S_IRUSR | stat.S_IWUSR)
        shutil.rmtree(folder, ignore_errors=True)


# -- the list model ------------------------------------------------------------------------------


@dataclass
class EvidenceRow:
    """What the list shows of one record, computed on refresh."""

    evidence: Evidence
    highlighted: bool  # linked to the stage being looked at
    kind: str
    subtitle: str  # original name · size
    captured: str  # date and time, by whom (two lines)
    links: str
    link_lines: tuple[str, ...]
    icon: QPixmap
    problem: bool = False
    marked_icon: QPixmap | None = None

    @property
    def decoration(self) -> QPixmap:
        if self.problem:
            if self.marked_icon is None:
                self.marked_icon = with_problem_mark(self.icon)
            return self.marked_icon
        return self.icon


class EvidenceModel(QAbstractTableModel):
    """The rows of the evidence list; ``data`` reads only the rows given to ``set_rows``."""

    COLUMNS = ("Evidence", "Kind", "Captured", "Links", "SHA-256")
    TITLE, KIND, CAPTURED, LINKS, SHA = range(5)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[EvidenceRow] = []
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._highlight = QColor(ACCENT)
        self._highlight.setAlphaF(0.10)

    def set_mono(self, font: QFont) -> None:
        """The font of the SHA-256 column (follows the application font)."""
        self._mono = font
        if self.rows:
            self.dataChanged.emit(self.index(0, self.SHA), self.index(len(self.rows) - 1, self.SHA))

    def set_rows(self, rows: list[EvidenceRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def set_problems(self, ids: set[str]) -> None:
        for number, row in enumerate(self.rows):
            problem = row.evidence.id in ids
            if problem != row.problem:
                row.problem = problem
                self.dataChanged.emit(self.index(number, 0), self.index(number, len(self.COLUMNS) - 1))

    def row_of(self, evidence_id: str) -> int:
        return next((n for n, row in enumerate(self.rows) if row.evidence.id == evidence_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, column = self.rows[index.row()], index.column()
        item = row.evidence
        if role == Qt.ItemDataRole.DisplayRole:
            return (item.title, row.kind, row.captured, row.links, item.sha256[:SHORT_SHA])[column]
        if role == Qt.ItemDataRole.DecorationRole and column == self.TITLE:
            return row.decoration
        if role == Qt.ItemDataRole.ToolTipRole:
            return _plain_tooltip(self._tooltip(row, column))
        if role == Qt.ItemDataRole.FontRole and column == self.SHA:
            return self._mono
        if role == Qt.ItemDataRole.BackgroundRole and row.highlighted:
            return QBrush(self._highlight)
        if role == Qt.ItemDataRole.AccessibleTextRole and column == self.TITLE:
            marks = (" (linked to this stage)" if row.highlighted else "") + (
                f" ({PROBLEM_TOOLTIP})" if row.problem else ""
            )
            return f"{item.title}, {row.subtitle}{marks}"
        if role == EVIDENCE_ID_ROLE:
            return item.id
        if role == SUBTITLE_ROLE:
            return row.subtitle
        if role == HIGHLIGHT_ROLE:
            return row.highlighted
        if role == PROBLEM_ROLE:
            return row.problem
        return None

    @staticmethod
    def _tooltip(row: EvidenceRow, column: int) -> str:
        item = row.evidence
        if column == EvidenceModel.TITLE:
            text = f"{item.title}\n{row.subtitle}"
            if item.description:
                text += f"\n\n{item.description[:600]}"
        elif column == EvidenceModel.LINKS:
            text = "Supports:\n" + "\n".join(row.link_lines)
        elif column == EvidenceModel.SHA:
            text = f"SHA-256 {item.sha256}"
        elif column == EvidenceModel.CAPTURED:
            text = f"Captured {row.captured.replace(chr(10), ' ')}; attached {local_time(item.created_at)}"
        else:
            text = row.kind
        if row.problem:
            text = f"⚠ {PROBLEM_TOOLTIP} — run verify\n\n{text}"
        return text


class EvidenceDelegate(QStyledItemDelegate):
    """Paints the first column: icon, title (bold when linked to the stage) and a dim second line."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        if index.column() != EvidenceModel.TITLE:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else QApplication.style()
        title = opt.text  # type: ignore[attr-defined]
        opt.text = ""  # type: ignore[attr-defined]
        opt.icon = QPixmap()  # type: ignore[attr-defined]
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        rect: QRect = opt.rect  # type: ignore[attr-defined]
        highlighted = bool(index.data(HIGHLIGHT_ROLE))
        problem = bool(index.data(PROBLEM_ROLE))
        painter.save()
        if highlighted:
            painter.fillRect(QRect(rect.left(), rect.top() + 3, 3, rect.height() - 6), QColor(ACCENT))
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        left = rect.left() + 8
        if isinstance(icon, QPixmap) and not icon.isNull():
            top = rect.top() + (rect.height() - ICON_SIZE) // 2
            painter.drawPixmap(QRect(left, top, ICON_SIZE, ICON_SIZE), icon)
        text_left = left + ICON_SIZE + 10
        text_rect = QRect(text_left, rect.top() + 4, max(0, rect.right() - text_left - 4), rect.height() - 8)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        palette: QPalette = opt.palette  # type: ignore[attr-defined]
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        base_font: QFont = opt.font  # type: ignore[attr-defined]
        title_font = QFont(base_font)
        title_font.setWeight(QFont.Weight.DemiBold if highlighted else QFont.Weight.Medium)
        sub_font = _scaled_font(base_font, 0.9)
        title_height = QFontMetrics(title_font).height()
        sub_height = QFontMetrics(sub_font).height()
        block = title_height + 2 + sub_height
        top = text_rect.top() + max(0, (text_rect.height() - block) // 2)
        painter.setFont(title_font)
        painter.setPen(QColor(RED) if problem and not selected else palette.color(role))
        painter.drawText(
            QRect(text_rect.left(), top, text_rect.width(), title_height),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, text_rect.width()),
        )
        painter.setFont(sub_font)
        painter.setPen(palette.color(role) if selected else _dim(palette, QPalette.ColorRole.Text))
        subtitle = str(index.data(SUBTITLE_ROLE) or "")
        if isinstance(widget, QTreeView) and widget.isColumnHidden(EvidenceModel.KIND):
            kind = index.siblingAtColumn(EvidenceModel.KIND).data(Qt.ItemDataRole.DisplayRole)
            subtitle = f"{kind} · {subtitle}"
        painter.drawText(
            QRect(text_rect.left(), top + title_height + 2, text_rect.width(), sub_height),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(subtitle, Qt.TextElideMode.ElideMiddle, text_rect.width()),
        )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        font: QFont = option.font  # type: ignore[attr-defined]
        two_lines = QFontMetrics(font).height() + 2 + QFontMetrics(_scaled_font(font, 0.9)).height() + 12
        height = max(size.height(), ICON_SIZE + 10, two_lines)
        if index.column() == EvidenceModel.TITLE:
            return QSize(max(220, size.width()), height)
        return QSize(size.width(), height)


# -- painted frames (no style sheets: under one, children miss application font changes) ------------


class Panel(QFrame):
    """A rounded box: ``fill`` and ``border`` colours (None: the palette's base and a mid grey), an optional
    accent bar on the left, and an optional dashed border."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        fill: str | None = None,
        fill_alpha: float = 1.0,
        border: str | None = None,
        accent: str | None = None,
        dashed: bool = False,
    ) -> None:
        super().__init__(parent)
        self.fill, self.fill_alpha, self.border, self.accent, self.dashed = fill, fill_alpha, border, accent, dashed

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        fill = QColor(self.fill) if self.fill else QColor(self.palette().color(QPalette.ColorRole.Base))
        fill.setAlphaF(self.fill_alpha)
        border = QColor(self.border) if self.border else QColor(127, 127, 127, 115)
        pen = QPen(border, 2.0 if self.dashed else 1.0, Qt.PenStyle.DashLine if self.dashed else Qt.PenStyle.SolidLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush if self.dashed else fill)
        radius = 10.0 if self.dashed else 6.0
        painter.drawRoundedRect(box, radius, radius)
        if self.accent:
            path = QPainterPath()
            path.addRoundedRect(box, radius, radius)
            painter.setClipPath(path)
            painter.fillRect(QRectF(box.left(), box.top(), 5, box.height()), QColor(self.accent))
        painter.end()


# -- preview widgets -------------------------------------------------------------------------


class ImageView(QWidget):
    """Paints one image scaled down to fit (never enlarged), centred; reads nothing itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewImage")
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._scaled: QPixmap | None = None

    def image(self) -> QImage | None:
        return self._image

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._scaled = None
        self.update()

    def _target(self) -> QRect:
        assert self._image is not None
        area = self.rect().adjusted(10, 10, -10, -10)
        size = self._image.size()
        if size.width() > area.width() or size.height() > area.height():
            size = size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
        left = area.left() + (area.width() - size.width()) // 2
        top = area.top() + (area.height() - size.height()) // 2
        return QRect(left, top, size.width(), size.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._image is None or self._image.isNull():
            return
        target = self._target()
        if target.width() <= 0 or target.height() <= 0:
            return
        ratio = self.devicePixelRatioF()
        wanted = QSize(round(target.width() * ratio), round(target.height() * ratio))
        if self._scaled is None or self._scaled.size() != wanted:
            scaled = self._image.scaled(
                wanted, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            self._scaled = QPixmap.fromImage(scaled)
            self._scaled.setDevicePixelRatio(ratio)
        painter = QPainter(self)
        painter.drawPixmap(target.topLeft(), self._scaled)
        painter.setPen(QPen(QColor(127, 127, 127, 110), 1.0))
        painter.drawRect(target.adjusted(-1, -1, 0, 0))
        painter.end()


class DropOverlay(QWidget):
    """The "drop to attach" sign shown over the pane while files are dragged over it."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("dropOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.text = ""
        self.hide()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(self.palette().color(QPalette.ColorRole.Base))
        fill.setAlphaF(0.86)
        accent = QColor(ACCENT)
        box = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        painter.setBrush(fill)
        pen = QPen(accent, 2.0, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(box, 10, 10)
        painter.setFont(_scaled_font(self.font(), 1.25, QFont.Weight.DemiBold))
        painter.setPen(accent)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.text)
        painter.end()


def local_paths(mime: object) -> tuple[list[Path], list[str]]:
    """The local files named by a drag or the clipboard, and the addresses that are not local files."""
    paths: list[Path] = []
    other: list[str] = []
    urls = mime.urls() if mime is not None and mime.hasUrls() else []  # type: ignore[attr-defined]
    for url in urls:
        if url.isLocalFile() and url.toLocalFile():
            paths.append(Path(url.toLocalFile()))
        else:
            other.append(url.toDisplayString())
    return paths, other


NOTHING_TO_PASTE = (
    "The clipboard holds no image or file to attach. Copy a screenshot first "
    "(Windows: Win+Shift+S; macOS: Cmd+Ctrl+Shift+4), then paste it."
)


def clipboard_evidence() -> tuple[list[Path], bytes]:
    """What the clipboard offers as evidence: files copied in a file manager, else its image as PNG bytes.

    Raises ``BadInput`` (the message says what to do) when it holds neither.
    """
    clipboard = QGuiApplication.clipboard()
    mime = clipboard.mimeData()
    paths, _other = local_paths(mime)
    if paths:
        return paths, b""
    image = clipboard.image() if mime is not None and mime.hasImage() else QImage()
    if image.isNull():
        raise BadInput(NOTHING_TO_PASTE)
    return [], image_to_png(image)


# -- the pane ------------------------------------------------------------------------------------


class EvidencePane(QWidget):
    """The evidence of one function, a preview of the selected item, and requests to change them."""

    attachRequested = Signal(list, object)  # list[Path] of local files, EvidenceLink
    pasteRequested = Signal(object, object)  # PNG bytes, EvidenceLink
    detailsRequested = Signal(str, object)  # evidence id, EvidenceDetails
    linksRequested = Signal(str, list)  # evidence id, list[EvidenceLink]
    removeRequested = Signal(str)  # evidence id
    openRequested = Signal(str)  # evidence id
    extractRequested = Signal(str)  # evidence id

    def __init__(self, engagement: Engagement, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evidencePane")
        self.engagement = engagement
        self.last_folder = ""  # where the Attach… dialog starts
        self._function: Function | None = None
        self._stage: Stage | None = None
        self._read_only = False
        self._problems: set[str] = set()
        self._thumbnails: dict[str, QImage | None] = {}  # by SHA-256; None: the image could not be decoded
        self._icons: dict[tuple[str, str, float], QPixmap] = {}
        self._finding_titles: dict[str, str] = {}
        self._previewed: Evidence | None = None
        self._typed: list[tuple[QWidget, float, QFont.Weight | None, bool]] = []
        self._restyling = False
        self._build()
        self.setAcceptDrops(True)
        QGuiApplication.clipboard().dataChanged.connect(self._update_actions)
        self.set_read_only(engagement.readonly)
        self._show_empty()

    # -- building -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.title_label = _plain_label("Evidence", wrap=False)
        self.title_label.setObjectName("evidenceTitle")
        self._type(self.title_label, 1.3, QFont.Weight.DemiBold)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary_label = _plain_label(wrap=False)
        self.summary_label.setObjectName("evidenceSummary")
        self.summary_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setObjectName("attachButton")
        self.attach_button.setToolTip("Attach files to this function (or drag them onto this pane)")
        self.attach_button.clicked.connect(self.choose_files)
        self.paste_button = QPushButton("Paste screenshot")
        self.paste_button.setObjectName("pasteButton")
        self.paste_button.setToolTip("Attach the image on the clipboard (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste)
        heading = QVBoxLayout()
        heading.setSpacing(0)
        heading.addWidget(self.title_label)
        heading.addWidget(self.summary_label)
        header = QHBoxLayout()
        header.setSpacing(8)
        header.addLayout(heading, 1)
        header.addWidget(self.paste_button, 0, Qt.AlignmentFlag.AlignBottom)
        header.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)

        self.notice = Panel(fill="#f5b000", fill_alpha=0.16, border="#e0c060", accent="#d08b00")
        self.notice.setObjectName("evidenceNotice")
        self.notice_label = _plain_label()
        self.notice_label.setObjectName("noticeText")
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide_notice)
        notice_row = QHBoxLayout(self.notice)
        notice_row.setContentsMargins(16, 6, 6, 6)
        notice_row.addWidget(self.notice_label, 1)
        notice_row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.notice.hide()

        self.model = EvidenceModel(self)
        self.model.set_mono(self._mono_font())
        self.view = QTreeView()
        self.view.setObjectName("evidenceList")
        self.view.setModel(self.model)
        self.view.setItemDelegate(EvidenceDelegate(self.view))
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setAllColumnsShowFocus(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(lambda _index: self.open_selected())
        header_view = self.view.header()
        header_view.setStretchLastSection(False)
        header_view.setSectionResizeMode(EvidenceModel.TITLE, QHeaderView.ResizeMode.Stretch)
        for column in (EvidenceModel.KIND, EvidenceModel.CAPTURED, EvidenceModel.SHA):
            header_view.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header_view.setSectionResizeMode(EvidenceModel.LINKS, QHeaderView.ResizeMode.Interactive)
        header_view.resizeSection(EvidenceModel.LINKS, 150)
        self.view.selectionModel().currentRowChanged.connect(lambda _current, _previous: self._selection_changed())
        self.view.selectionModel().selectionChanged.connect(lambda _selected, _deselected: self._selection_changed())

        self.empty_label = _plain_label()
        self.empty_label.setObjectName("emptyList")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.empty_panel = Panel(dashed=True)
        empty_layout = QVBoxLayout(self.empty_panel)
        empty_layout.setContentsMargins(24, 24, 24, 24)
        empty_layout.addWidget(self.empty_label)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.view)
        self.list_stack.addWidget(self.empty_panel)

        self._build_actions()
        self._build_preview()

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("evidenceSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.list_stack)
        self.splitter.addWidget(self.preview_panel)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addWidget(self.notice)
        layout.addWidget(self.splitter, 1)

        self.overlay = DropOverlay(self)

        # Ctrl+V is the window's (Edit → Paste as evidence): it pastes here when this pane is shown, and into the
        # function in view from the tree or the function page; a second shortcut here would make it ambiguous.
        remove = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.view)
        remove.setContext(Qt.ShortcutContext.WidgetShortcut)
        remove.activated.connect(self.remove_selected)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            enter = QShortcut(QKeySequence(key), self.view)
            enter.setContext(Qt.ShortcutContext.WidgetShortcut)
            enter.activated.connect(self.open_selected)

    def _build_actions(self) -> None:
        def action(text: str, slot: Callable[[], object], tip: str) -> QAction:
            made = QAction(text, self)
            made.setToolTip(tip)
            made.triggered.connect(lambda _checked=False: slot())
            return made

        self.open_action = action("Open", self.open_selected, "Open a copy in the application for this type of file")
        self.extract_action = action("Save a copy…", self.extract_selected, "Write the file to a folder you choose")
        self.edit_action = action("Edit details…", self.edit_details, "Change the title, kind and description")
        self.links_action = action("Links…", self.edit_links, "Change the functions and stages this supports")
        self.remove_action = action("Remove…", self.remove_selected, "Remove this evidence (can be undone)")

    def _button(self, name: str, action: QAction, text: str | None = None) -> QPushButton:
        button = QPushButton(text or action.text())
        button.setObjectName(name)
        button.setToolTip(action.toolTip())
        button.clicked.connect(action.trigger)
        return button

    def _build_preview(self) -> None:
        self.preview_panel = QWidget()
        self.preview_panel.setObjectName("previewPanel")

        self.preview_title = _plain_label(selectable=True)
        self.preview_title.setObjectName("previewTitle")
        self._type(self.preview_title, 1.12, QFont.Weight.DemiBold)
        self.preview_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.open_button = self._button("openButton", self.open_action)
        self.extract_button = self._button("extractButton", self.extract_action)
        self.edit_button = self._button("editButton", self.edit_action, "Edit…")
        self.links_button = self._button("linksButton", self.links_action)
        self.remove_button = self._button("removeButton", self.remove_action, "Remove")
        bar = QHBoxLayout()
        bar.setSpacing(6)
        bar.addWidget(self.preview_title, 1)
        for button in (self.open_button, self.extract_button, self.edit_button, self.links_button, self.remove_button):
            bar.addWidget(button)

        self.problem_banner = Panel(fill=RED, fill_alpha=0.12, border=RED, accent=RED)
        self.problem_banner.setObjectName("evidenceProblem")
        problem_layout = QHBoxLayout(self.problem_banner)
        problem_layout.setContentsMargins(16, 6, 12, 6)
        self.problem_label = _plain_label(PROBLEM_TEXT)
        problem_layout.addWidget(self.problem_label)
        self.problem_banner.hide()

        # The preview itself.
        self.nothing_label = _plain_label("Select evidence above to preview it.")
        self.nothing_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.nothing_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.image_view = ImageView()
        self.text_view = QPlainTextEdit()
        self.text_view.setObjectName("previewText")
        self.text_view.setReadOnly(True)
        self.text_view.setAcceptDrops(False)  # files dropped here go to the pane
        self.text_view.setUndoRedoEnabled(False)
        self.text_view.setFrameShape(QFrame.Shape.NoFrame)
        self._type(self.text_view, 1.0, mono=True)
        self.text_view.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.info_icon = QLabel()
        self.info_icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.info_message = _plain_label()
        self.info_message.setObjectName("previewMessage")
        self.info_message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.info_message.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.info_open_button = self._button("infoOpenButton", self.open_action, "Open in its application")
        info_page = QWidget()
        info_layout = QVBoxLayout(info_page)
        info_layout.setContentsMargins(24, 12, 24, 12)
        info_layout.setSpacing(8)
        info_layout.addStretch(1)
        info_layout.addWidget(self.info_icon, 0, Qt.AlignmentFlag.AlignHCenter)
        info_layout.addWidget(self.info_message)  # no alignment flag: a wrapped label then gets its height
        info_layout.addWidget(self.info_open_button, 0, Qt.AlignmentFlag.AlignHCenter)
        info_layout.addStretch(1)
        self.info_page = info_page

        self.preview_stack = QStackedWidget()
        self.preview_stack.setObjectName("previewStack")
        for page in (self.nothing_label, self.image_view, self.text_view, self.info_page):
            self.preview_stack.addWidget(page)
        frame = Panel()
        frame.setObjectName("previewFrame")
        frame_layout = QVBoxLayout(frame)
        frame_layout.setContentsMargins(1, 1, 1, 1)
        frame_layout.addWidget(self.preview_stack)
        self.preview_note = _plain_label()
        self.preview_note.setObjectName("previewNote")
        self.preview_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.preview_note.hide()
        preview_column = QVBoxLayout()
        preview_column.setSpacing(4)
        preview_column.addWidget(frame, 1)
        preview_column.addWidget(self.preview_note)

        # The record, beside (wide) or below (narrow) the preview.
        self.details = QWidget()
        self.details.setObjectName("previewDetails")
        grid = QGridLayout(self.details)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(5)
        self.detail_labels: dict[str, QLabel] = {}
        fields = (
            ("file", "File"),
            ("type", "Type"),
            ("captured", "Captured"),
            ("sha256", "SHA-256"),
            ("links", "Supports"),
            ("description", "Description"),
        )
        for row, (key, caption) in enumerate(fields):
            name = _plain_label(caption, wrap=False)
            self._type(name, 0.92)
            name.setForegroundRole(QPalette.ColorRole.PlaceholderText)
            value = _plain_label(selectable=key != "sha256")
            value.setObjectName(f"detail_{key}")
            value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            grid.addWidget(value, row, 1, Qt.AlignmentFlag.AlignTop)
            if key != "sha256":
                grid.addWidget(name, row, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            else:
                # Two lines of 32 hex digits (a label wraps only between words); Copy copies the exact value.
                self._type(value, 0.92, mono=True)
                value.setWordWrap(False)
                self.copy_sha_button = QToolButton()
                self.copy_sha_button.setObjectName("copySha")
                self.copy_sha_button.setText("Copy")
                self._type(self.copy_sha_button, 0.92)
                self.copy_sha_button.setAutoRaise(True)
                self.copy_sha_button.setToolTip("Copy the SHA-256 to the clipboard")
                self.copy_sha_button.clicked.connect(self._copy_sha)
                caption_cell = QVBoxLayout()
                caption_cell.setSpacing(0)
                caption_cell.addWidget(name, 0, Qt.AlignmentFlag.AlignLeft)
                caption_cell.addWidget(self.copy_sha_button, 0, Qt.AlignmentFlag.AlignLeft)
                grid.addLayout(caption_cell, row, 0, Qt.AlignmentFlag.AlignTop)
            self.detail_labels[key] = value
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(len(self.detail_labels), 1)
        details_scroll = QScrollArea()
        details_scroll.setWidgetResizable(True)
        details_scroll.setFrameShape(QFrame.Shape.NoFrame)
        details_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        details_scroll.setWidget(self.details)
        self.details_scroll = details_scroll
        self._fit_details_width()

        self.body = QHBoxLayout()
        self.body.setSpacing(14)
        self.body.addLayout(preview_column, 3)
        self.body.addWidget(details_scroll, 2)

        layout = QVBoxLayout(self.preview_panel)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addWidget(self.problem_banner)
        layout.addLayout(self.body, 1)

    # -- type ---------------------------------------------------------------------------------------

    def _type(self, widget: QWidget, scale: float, weight: QFont.Weight | None = None, *, mono: bool = False) -> None:
        """Size a widget's font relative to the pane's; again whenever the application font changes (workshop mode)."""
        self._typed.append((widget, scale, weight, mono))
        self._apply_type(widget, scale, weight, mono)

    def _apply_type(self, widget: QWidget, scale: float, weight: QFont.Weight | None, mono: bool) -> None:
        base = self.font()
        font = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)) if mono else QFont(base)
        if base.pointSizeF() > 0:
            font.setPointSizeF(base.pointSizeF() * scale)
        elif base.pixelSize() > 0:
            font.setPixelSize(round(base.pixelSize() * scale))
        if weight is not None:
            font.setWeight(weight)
        widget.setFont(font)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange) and not self._restyling:
            self._restyling = True
            try:
                for widget, scale, weight, mono in self._typed:
                    self._apply_type(widget, scale, weight, mono)
                self._fit_details_width()
                self.model.set_mono(self._mono_font())
            finally:
                self._restyling = False

    def _fit_details_width(self) -> None:
        """The record beside the preview is never narrower than a SHA-256 in two lines of 32 digits."""
        sha = self.detail_labels["sha256"]
        sha.setMinimumWidth(QFontMetrics(sha.font()).horizontalAdvance("0" * 32) + 4)
        layout = self.details.layout()
        assert layout is not None
        layout.invalidate()
        self.details_scroll.setMinimumWidth(layout.minimumSize().width() + 4)

    def _mono_font(self) -> QFont:
        font = QFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        if self.font().pointSizeF() > 0:
            font.setPointSizeF(self.font().pointSizeF() * 0.95)
        return font

    # -- public API -----------------------------------------------------------------------------

    @property
    def function_id(self) -> str | None:
        return self._function.id if self._function is not None else None

    @property
    def stage(self) -> Stage | None:
        return self._stage

    @property
    def read_only(self) -> bool:
        return self._read_only

    def current_target(self) -> EvidenceLink | None:
        """What new evidence is attached to: the shown function, and its stage when one is given."""
        if self._function is None:
            return None
        return EvidenceLink(function_id=self._function.id, stage=self._stage)

    def show_function(self, function_id: str, stage: Stage | None = None) -> None:
        """List the evidence of a function (slug id or code); that linked to ``stage`` first and marked."""
        function = self.engagement.catalog.function(function_id)
        if self._function is None or function.id != self._function.id:
            self.hide_notice()
        self._function, self._stage = function, stage
        self.refresh()

    def refresh(self) -> None:
        """Re-read the listing (after a change); keeps the selection when the item is still listed."""
        selected = self.selected_id()
        self.model.set_rows(self._read_rows())
        self._show_summary()
        row = self.model.row_of(selected) if selected is not None else -1
        if row >= 0:
            self.select(selected)  # type: ignore[arg-type]
        self._selection_changed()
        self._update_actions()

    def set_engagement(self, engagement: Engagement) -> None:
        """Show another engagement (or the same one reopened): the same function if its catalog has it."""
        self.engagement = engagement
        self._thumbnails.clear()
        self._problems.clear()
        self._previewed = None
        if self._function is not None:
            try:
                self._function = engagement.catalog.function(self._function.id)
            except BadInput:
                self._function, self._stage = None, None
        self.set_read_only(engagement.readonly)
        self.refresh()

    def set_read_only(self, read_only: bool) -> None:
        """Read-only: nothing can be attached, edited, relinked or removed; open and save a copy still work."""
        self._read_only = read_only
        self.overlay.hide()
        self._show_summary()
        self._update_actions()

    def set_problems(self, ids: set[str]) -> None:
        """Mark the evidence whose bytes failed verification (red mark, tooltip, banner in the preview)."""
        self._problems = set(ids)
        self.model.set_problems(self._problems)
        self._show_problem_banner()

    def selected_id(self) -> str | None:
        indexes = self.view.selectionModel().selectedRows()
        if not indexes:
            return None
        value = indexes[0].data(EVIDENCE_ID_ROLE)
        return str(value) if value else None

    def selected_evidence(self) -> Evidence | None:
        row = self.model.row_of(self.selected_id() or "")
        return self.model.rows[row].evidence if row >= 0 else None

    def select(self, evidence_id: str) -> bool:
        """Select (and preview) one listed item; False when it is not listed."""
        row = self.model.row_of(evidence_id)
        if row < 0:
            return False
        index = self.model.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.view.scrollTo(index)
        return True

    def show_notice(self, text: str) -> None:
        self.notice_label.setText(text)
        self.notice.show()

    def hide_notice(self) -> None:
        self.notice.hide()
        self.notice_label.clear()

    # -- attaching ----------------------------------------------------------------------------

    def _can_attach(self) -> bool:
        return self._function is not None and not self._read_only

    def choose_files(self) -> None:
        """Attach…: pick files in the system's file dialog."""
        if not self._can_attach():
            return
        assert self._function is not None
        names, _filter = QFileDialog.getOpenFileNames(
            self, f"Attach evidence to {self._function.label}", self.last_folder, "All files (*)"
        )
        if names:
            self.last_folder = str(Path(names[0]).parent)
            self.attach_paths([Path(name) for name in names])

    def attach_paths(self, paths: Iterable[Path], not_files: Sequence[str] = ()) -> list[Path]:
        """Ask to attach the regular files among ``paths``; say why the others (folders …) were refused."""
        target = self.current_target()
        if target is None or self._read_only:
            return []
        accepted: list[Path] = []
        refused = [f"“{address}” is not a file on this computer" for address in not_files]
        seen: set[Path] = set()
        for path in paths:
            path = Path(os.path.abspath(path))
            if path in seen:
                continue
            seen.add(path)
            name = path.name or str(path)
            if path.is_symlink():
                refused.append(f"“{name}” is a shortcut (symbolic link); attach the file it points to")
            elif path.is_dir():
                refused.append(f"“{name}” is a folder; attach the files in it")
            elif not path.exists():
                refused.append(f"“{name}” no longer exists")
            elif not path.is_file():
                refused.append(f"“{name}” is not a regular file")
            else:
                accepted.append(path)
        if refused:
            shown = refused[:3] + ([f"and {len(refused) - 3} more"] if len(refused) > 3 else [])
            self.show_notice("Not attached: " + "; ".join(shown) + ".")
        else:
            self.hide_notice()
        if accepted:
            self.attachRequested.emit(accepted, target)
        return accepted

    def paste(self) -> bool:
        """Ctrl+V / Paste screenshot: ask to attach the clipboard's image (or its copied files)."""
        target = self.current_target()
        if target is None or self._read_only:
            return False
        try:
            paths, data = clipboard_evidence()
        except ZtmmError as err:
            self.show_notice(str(err))
            return False
        if paths:  # files copied in a file manager
            return bool(self.attach_paths(paths))
        self.hide_notice()
        self.pasteRequested.emit(data, target)
        return True

    def _clipboard_has_content(self) -> bool:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return False
        return mime.hasImage() or bool(local_paths(mime)[0])

    # -- drag and drop ------------------------------------------------------------------------

    def _drop_text(self) -> str:
        assert self._function is not None
        where = self._function.label + (f" · {self._stage.label}" if self._stage is not None else "")
        return f"Drop to attach to {where}"

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        paths, _other = local_paths(event.mimeData())
        if not self._can_attach() or not paths:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.overlay.text = self._drop_text()
        self.overlay.setGeometry(self.splitter.geometry())
        self.overlay.raise_()
        self.overlay.show()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._can_attach() and local_paths(event.mimeData())[0]:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.overlay.hide()
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.overlay.hide()
        paths, other = local_paths(event.mimeData())
        if not self._can_attach() or not paths:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        self.attach_paths(paths, other)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.overlay.isVisible():
            self.overlay.setGeometry(self.splitter.geometry())
        self._fit_to_width(self.width())

    def _fit_to_width(self, width: int) -> None:
        """Narrow panes: drop the Kind and SHA-256 columns (the second line and the preview show them)."""
        self.view.setColumnHidden(EvidenceModel.KIND, width < 820)
        self.view.setColumnHidden(EvidenceModel.SHA, width < 700)
        wide = width >= 600
        direction = QHBoxLayout.Direction.LeftToRight if wide else QHBoxLayout.Direction.TopToBottom
        if self.body.direction() != direction:
            self.body.setDirection(direction)
            self.details_scroll.setMaximumHeight(16_777_215 if wide else 170)
        self.body.setStretch(0, 3 if width >= 900 else 1)
        self.body.setStretch(1, 2 if width >= 900 else 1)

    # -- requests for the selected item ----------------------------------------------------------

    def open_selected(self) -> None:
        item = self.selected_evidence()
        if item is not None:
            self.openRequested.emit(item.id)

    def extract_selected(self) -> None:
        item = self.selected_evidence()
        if item is not None:
            self.extractRequested.emit(item.id)

    def edit_details(self) -> None:
        item = self.selected_evidence()
        if item is None or self._read_only:
            return
        current = EvidenceDetails(item.title, item.description, item.kind)
        details = EvidenceDetailsDialog.get_details(self, current, file_label=item.original_name)
        if details is not None and details != current:
            self.detailsRequested.emit(item.id, details)

    def edit_links(self) -> None:
        item = self.selected_evidence()
        if item is None or self._read_only:
            return
        links = EvidenceLinksDialog.get_links(
            self,
            self.engagement.catalog,
            item.links,
            finding_titles=self._finding_titles,
            file_label=item.title,
            default_function_id=self.function_id,
        )
        if links is not None and tuple(links) != item.links:
            self.linksRequested.emit(item.id, links)

    def remove_selected(self) -> None:
        item = self.selected_evidence()
        if item is None or self._read_only:
            return
        if confirm_remove(self, "evidence", item.title):
            self.removeRequested.emit(item.id)

    def _context_menu(self, position: QPoint) -> None:
        if not self.view.indexAt(position).isValid():
            return
        menu = QMenu(self)
        for action in (self.open_action, self.extract_action):
            menu.addAction(action)
        menu.addSeparator()
        for action in (self.edit_action, self.links_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.remove_action)
        menu.exec(self.view.viewport().mapToGlobal(position))
        menu.deleteLater()

    # -- reading (on refresh only) -----------------------------------------------------------------

    def _read_rows(self) -> list[EvidenceRow]:
        function = self._function
        if function is None:
            return []
        try:
            items = ev.list_evidence(self.engagement)
            findings = self.engagement.findings()
        except ZtmmError as err:
            self.show_notice(f"The evidence cannot be read: {err}")
            return []
        self._finding_titles = {f.id: f.title for f in findings}
        own_findings = {f.id for f in findings if f.function_id == function.id}
        mine = [
            item
            for item in items
            if any(link.function_id == function.id or link.finding_id in own_findings for link in item.links)
        ]

        def on_stage(item: Evidence) -> bool:
            return self._stage is not None and any(
                link.function_id == function.id and link.stage == self._stage for link in item.links
            )

        ordered = [item for item in mine if on_stage(item)] + [item for item in mine if not on_stage(item)]
        ratio = self.devicePixelRatioF()
        rows = [self._row(item, on_stage(item), ratio) for item in ordered]
        shown = {item.sha256 for item in ordered}
        self._thumbnails = {sha: image for sha, image in self._thumbnails.items() if sha in shown}
        return rows

    def _row(self, item: Evidence, highlighted: bool, ratio: float) -> EvidenceRow:
        catalog = self.engagement.catalog
        by = f"by {item.captured_by}" if item.captured_by else ""
        return EvidenceRow(
            evidence=item,
            highlighted=highlighted,
            kind=kind_label(item.kind),
            subtitle=f"{item.original_name} · {human_size(item.size)}",
            captured=f"{local_time(item.captured_at)}\n{by}".rstrip(),
            links=self._short_links(item.links),
            link_lines=tuple(link_label(catalog, link, self._finding_titles) for link in item.links),
            icon=self._icon(item, ratio),
            problem=item.id in self._problems,
        )

    def _short_links(self, links: Sequence[EvidenceLink]) -> str:
        """Links as the list shows them: this function's stages first, then other functions and findings."""
        assert self._function is not None
        own: list[str] = []
        other: list[str] = []
        for link in links:
            if link.finding_id is not None:
                text, bucket = "Finding", other
            elif link.function_id == self._function.id:
                text, bucket = (link.stage.label if link.stage is not None else "Any stage"), own
            else:
                try:
                    code = self.engagement.catalog.function(link.function_id or "").code
                except BadInput:
                    code = str(link.function_id)
                text, bucket = (f"{code} {link.stage.label}" if link.stage is not None else code), other
            if text not in bucket:
                bucket.append(text)
        return ", ".join(own + other) or NOT_SET

    def _icon(self, item: Evidence, ratio: float) -> QPixmap:
        if preview_kind(item) == "image" and item.size <= IMAGE_LIMIT:
            if item.sha256 not in self._thumbnails:
                try:
                    data = ev.read_bytes(self.engagement, item.id, IMAGE_LIMIT)
                except ZtmmError:
                    data = b""
                self._thumbnails[item.sha256] = decode_image(data, item.media_type, ICON_SIZE * 3)
            image = self._thumbnails[item.sha256]
            if image is not None:
                return thumbnail(image, ICON_SIZE, ratio)
        label, colour = type_label(item.original_name, item.media_type)
        key = (label, colour, ratio)
        if key not in self._icons:
            self._icons[key] = type_icon(label, colour, ICON_SIZE, ratio)
        return self._icons[key]

    # -- showing ------------------------------------------------------------------------------------

    def _show_summary(self) -> None:
        function = self._function
        if function is None:
            self.title_label.setText("Evidence")
            self.summary_label.setText("")
            self._show_empty()
            return
        self.title_label.setText(f"Evidence · {function.label}")
        rows = self.model.rows
        count = f"{len(rows)} item{'s' if len(rows) != 1 else ''}" if rows else "No evidence yet"
        if self._stage is not None:
            linked = sum(1 for row in rows if row.highlighted)
            count += f" · {linked} linked to {self._stage.label}"
        if self._read_only:
            count += " · read-only"
        self.summary_label.setText(count)
        self._show_empty()

    def _show_empty(self) -> None:
        if self._function is None:
            text = "Select a function in the tree to see its evidence."
        elif self._read_only:
            text = f"No evidence for {self._function.label}."
        else:
            text = (
                f"No evidence for {self._function.label} yet.\n\n"
                "Drag files here, choose Attach…, or paste a screenshot with Ctrl+V."
            )
        self.empty_label.setText(text)
        self.list_stack.setCurrentWidget(self.view if self.model.rows else self.empty_panel)
        listed = bool(self.model.rows)
        if listed and self.preview_panel.isHidden():  # back from the empty state: the list gets two fifths
            self.preview_panel.show()
            total = max(sum(self.splitter.sizes()), 1)
            self.splitter.setSizes([total * 2 // 5, total - total * 2 // 5])
        self.preview_panel.setVisible(listed)  # with nothing listed, the drop zone fills the pane

    def _update_actions(self) -> None:
        can_attach = self._can_attach()
        self.attach_button.setEnabled(can_attach)
        self.paste_button.setEnabled(can_attach and self._clipboard_has_content())
        selected = self.selected_id() is not None
        for action in (self.open_action, self.extract_action):
            action.setEnabled(selected)
        for action in (self.edit_action, self.links_action, self.remove_action):
            action.setEnabled(selected and not self._read_only)
        for button, action in (
            (self.open_button, self.open_action),
            (self.info_open_button, self.open_action),
            (self.extract_button, self.extract_action),
            (self.edit_button, self.edit_action),
            (self.links_button, self.links_action),
            (self.remove_button, self.remove_action),
        ):
            button.setEnabled(action.isEnabled())

    def _selection_changed(self) -> None:
        self._show_preview(self.selected_evidence())
        self._update_actions()

    def _show_problem_banner(self) -> None:
        item = self._previewed
        self.problem_banner.setVisible(item is not None and item.id in self._problems)

    def _show_preview(self, item: Evidence | None) -> None:
        if item is not None and item == self._previewed:
            self._show_problem_banner()
            return  # the same record: nothing to read again
        self._previewed = item
        self._show_problem_banner()
        self.preview_note.hide()
        self.image_view.set_image(None)
        self.text_view.clear()
        if item is None:
            self.preview_title.setText("")
            self.details_scroll.setVisible(False)
            self.preview_stack.setCurrentWidget(self.nothing_label)
            return
        self.preview_title.setText(item.title)
        self.preview_title.setToolTip(_plain_tooltip(item.title))
        self._fill_details(item)
        self.details_scroll.setVisible(True)
        try:
            self._fill_preview(item)
        except ZtmmError as err:
            self._show_info(item, f"This file cannot be previewed: {err}")

    def _fill_details(self, item: Evidence, dimensions: str = "") -> None:
        catalog = self.engagement.catalog
        labels = self.detail_labels
        labels["file"].setText(item.original_name)
        labels["type"].setText(f"{kind_label(item.kind)} · {item.media_type} · {human_size(item.size)}{dimensions}")
        captured = local_time(item.captured_at) + (f" by {item.captured_by}" if item.captured_by else "")
        attached = local_time(item.created_at)
        if attached != local_time(item.captured_at):
            captured += f"\nattached {attached}"
        labels["captured"].setText(captured)
        labels["sha256"].setText(f"{item.sha256[:32]}\n{item.sha256[32:]}")
        labels["sha256"].setToolTip(_plain_tooltip(item.sha256))
        labels["links"].setText("\n".join(link_label(catalog, link, self._finding_titles) for link in item.links))
        labels["description"].setText(item.description or NOT_SET)

    def _copy_sha(self) -> None:
        if self._previewed is not None:
            QGuiApplication.clipboard().setText(self._previewed.sha256)

    def _fill_preview(self, item: Evidence) -> None:
        kind = preview_kind(item)
        if kind == "image":
            if item.size > IMAGE_LIMIT:
                self._show_info(item, f"Images over {human_size(IMAGE_LIMIT)} are not previewed. Open it to see it.")
                return
            image = decode_image(
                ev.read_bytes(self.engagement, item.id, IMAGE_LIMIT), item.media_type, PREVIEW_MAX_SIDE
            )
            if image is None:
                self._show_info(
                    item, "This image cannot be shown: it is damaged, too large, or not what its name says."
                )
                return
            self._show_image(image)
            size = image.text("ztmm-original-size")
            if size:
                self._fill_details(item, f" · {size} pixels")
            return
        if kind == "pdf":
            self._show_pdf(item)
            return
        head = b""
        if kind == "other" and item.media_type == DEFAULT_MEDIA_TYPE:
            head = ev.read_bytes(self.engagement, item.id, TEXT_PREVIEW_LIMIT)
            if looks_like_text(head):
                kind = "text"
        if kind == "text":
            self._show_text(item, head or ev.read_bytes(self.engagement, item.id, TEXT_PREVIEW_LIMIT))
            return
        self._show_info(item, "No preview for this type of file.")

    def _show_image(self, image: QImage, note: str = "") -> None:
        self.image_view.set_image(image)
        self.preview_stack.setCurrentWidget(self.image_view)
        self.preview_note.setText(note)
        self.preview_note.setVisible(bool(note))

    def _show_text(self, item: Evidence, data: bytes) -> None:
        suffix = PurePath(item.original_name).suffix.lower()
        prose = item.media_type in ("text/plain", "text/markdown", "message/rfc822") and suffix not in (".log",)
        self.text_view.setLineWrapMode(
            QPlainTextEdit.LineWrapMode.WidgetWidth if prose else QPlainTextEdit.LineWrapMode.NoWrap
        )
        self.text_view.setPlainText(decode_text(data, truncated=item.size > len(data)))
        self.preview_stack.setCurrentWidget(self.text_view)
        if item.size > len(data):
            self.preview_note.setText(
                f"Showing the first {human_size(len(data))} of {human_size(item.size)}. Open the file to see all of it."
            )
            self.preview_note.show()

    def _show_info(self, item: Evidence, message: str) -> None:
        label, colour = type_label(item.original_name, item.media_type)
        self.info_icon.setPixmap(type_icon(label, colour, 56, self.devicePixelRatioF()))
        self.info_message.setText(message)
        self.preview_stack.setCurrentWidget(self.info_page)

    def _show_pdf(self, item: Evidence) -> None:
        if not pdf_preview_available():
            self._show_info(
                item,
                "PDF preview needs Qt's PDF module, which this installation does not include. Open it to read it.",
            )
            return
        if item.size > PDF_PREVIEW_LIMIT:
            self._show_info(item, f"PDFs over {human_size(PDF_PREVIEW_LIMIT)} are not previewed. Open it to read it.")
            return
        page, pages = self._render_pdf(item)
        if page is None:
            self._show_info(item, "This PDF cannot be shown: it is damaged, encrypted, or not a PDF.")
            return
        self._show_image(page, f"Page 1 of {pages}." if pages > 1 else "")

    def _render_pdf(self, item: Evidence) -> tuple[QImage | None, int]:
        """The first page of a PDF, rendered from a copy in a private temp folder removed afterwards."""
        from PySide6.QtPdf import QPdfDocument  # not in PySide6-Essentials: only when present

        from ..common.printing import render_page

        folder = Path(tempfile.mkdtemp(prefix="ztmm-preview-"))
        document = QPdfDocument(None)
        try:
            path = ev.extract(self.engagement, item.id, folder)
            document.load(str(path))
            if document.status() != QPdfDocument.Status.Ready or document.pageCount() < 1:
                return None, 0
            points = document.pagePointSize(0)
            if points.width() <= 0 or points.height() <= 0:
                return None, 0
            scale = 1400 / max(points.width(), points.height())
            size = QSize(round(points.width() * scale), round(points.height() * scale))
            return render_page(document, 0, size), document.pageCount()
        finally:
            document.close()
            document.deleteLater()
            shutil.rmtree(folder, ignore_errors=True)
