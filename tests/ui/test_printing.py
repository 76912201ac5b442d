"""Printing the report: the PDF's pages reach the printer, whole or as the chosen range."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewWidget
from pytestqt.qtbot import QtBot
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas

from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.ui.common.printing import load_pdf, preview, print_pdf


def numbered_pdf(path: Path, pages: int, size: tuple[float, float] = A4) -> Path:
    pdf = canvas.Canvas(str(path), pagesize=size)
    for n in range(1, pages + 1):
        pdf.setFont("Helvetica", 36)
        pdf.drawString(72, size[1] / 2, f"Sheet number {n}")
        pdf.showPage()
    pdf.save()
    return path


def pdf_printer(out: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(out))
    printer.setResolution(100)
    return printer


def page_texts(pdf: Path) -> list[str]:
    """What a reader sees on each printed page (the printed pages are images: count them)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return [line for line in info.splitlines() if line.startswith(("Pages:", "Page size:"))]


def test_every_page_is_printed_on_its_own_paper_size(qtbot: QtBot, tmp_path: Path) -> None:
    source = numbered_pdf(tmp_path / "report.pdf", 3, landscape(A4))
    out = tmp_path / "printed.pdf"
    assert print_pdf(load_pdf(source), pdf_printer(out)) == 3
    assert page_texts(out) == ["Pages:           3", "Page size:       842 x 595 pts (A4)"]


def test_a_page_range_prints_only_those_pages(qtbot: QtBot, tmp_path: Path) -> None:
    source = numbered_pdf(tmp_path / "report.pdf", 5)
    out = tmp_path / "printed.pdf"
    printer = pdf_printer(out)
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(2, 3)
    assert print_pdf(load_pdf(source), printer) == 2
    assert page_texts(out)[0] == "Pages:           2"


def test_the_preview_shows_every_page(qtbot: QtBot, tmp_path: Path) -> None:
    source = numbered_pdf(tmp_path / "report.pdf", 4)
    dialog = preview(None, source)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    widget = dialog.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: widget.pageCount() == 4, timeout=5000)
    dialog.close()


@pytest.mark.parametrize("content", [b"", b"%PDF-1.7\n%truncated\n", b"not a pdf at all"])
def test_a_damaged_pdf_is_refused_in_one_line(qtbot: QtBot, tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(content)
    with pytest.raises(BadInput, match=r"bad\.pdf: cannot read this PDF"):
        load_pdf(bad)
