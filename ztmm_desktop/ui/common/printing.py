"""Printing the report: the same PDF pages, rendered by Qt's PDF module onto a printer.

The report is built once as a PDF (the same file File → Export report… writes);
printing rasterises each page with ``QPdfDocument.render`` at the printer's
resolution and paints it into the printer's page, honouring the page range the
user chose in the print dialog. The preview dialog draws through the same path,
so what the consultant previews is what the printer gets.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QWidget

from ...core.errors import BadInput

#: Rasterising resolution cap (dots per inch): sharp on paper, bounded in memory.
MAX_DPI = 300


def load_pdf(path: Path) -> QPdfDocument:
    document = QPdfDocument()
    error = document.load(str(path))
    if error != QPdfDocument.Error.None_ or document.pageCount() < 1:
        raise BadInput(f"{path.name}: cannot read this PDF ({error.name})")
    return document


def render_page(document: QPdfDocument, index: int, size: QSize) -> QImage:
    """One page as an opaque image: PDF pages have no background, paper and previews are white."""
    page = document.render(index, size)
    image = QImage(size, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    if not page.isNull():
        painter = QPainter(image)
        painter.drawImage(0, 0, page)
        painter.end()
    return image


def page_indexes(printer: QPrinter, count: int) -> list[int]:
    """The zero-based pages the printer was asked for (all unless a range was chosen)."""
    if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
        first = max(printer.fromPage(), 1)
        last = min(printer.toPage() or count, count)
        return list(range(first - 1, last))
    return list(range(count))


def print_pdf(document: QPdfDocument, printer: QPrinter) -> int:
    """Paint the document's pages onto ``printer``; returns the number of pages printed."""
    first = document.pagePointSize(0)
    landscape = first.width() > first.height()
    portrait = QSizeF(min(first.width(), first.height()), max(first.width(), first.height()))
    printer.setPageLayout(
        QPageLayout(
            QPageSize(portrait, QPageSize.Unit.Point),
            QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
        )
    )
    printer.setFullPage(True)
    pages = page_indexes(printer, document.pageCount())
    painter = QPainter()
    if not painter.begin(printer):
        raise BadInput("the printer could not be started")
    try:
        dpi = min(printer.resolution(), MAX_DPI)
        for n, index in enumerate(pages):
            if n:
                printer.newPage()
            size = document.pagePointSize(index)
            pixels = QSize(round(size.width() * dpi / 72), round(size.height() * dpi / 72))
            image = render_page(document, index, pixels)
            target = QRectF(printer.pageLayout().fullRectPixels(printer.resolution()))
            painter.drawImage(target, image)
    finally:
        painter.end()
    return len(pages)


def load_pdf_bytes(data: bytes, name: str) -> QPdfDocument:
    """A PDF from memory (an encrypted engagement's report is never written out to be previewed)."""
    document = QPdfDocument()
    buffer = QBuffer(document)  # lives as long as the document
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready or document.pageCount() < 1:
        raise BadInput(f"{name}: cannot read this PDF")
    return document


def preview(parent: QWidget, pdf: Path | bytes, name: str = "report") -> QPrintPreviewDialog:
    """A print preview of ``pdf`` (a file, or its bytes); its Print button goes to the system print dialog."""
    stem = pdf.stem if isinstance(pdf, Path) else name
    document = load_pdf(pdf) if isinstance(pdf, Path) else load_pdf_bytes(pdf, name)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(stem)
    dialog = QPrintPreviewDialog(printer, parent)
    dialog.setWindowTitle(f"Print preview – {stem}")
    dialog.paintRequested.connect(lambda p: print_pdf(document, p))
    dialog.resize(1000, 800)
    document.setParent(dialog)  # lives as long as the preview does
    dialog._printer = printer  # type: ignore[attr-defined]  # the dialog does not own its printer
    return dialog
