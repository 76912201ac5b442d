"""Pages of the report: the document template, running heads, contents and long tables.

The report is laid out in one pass. What is only known at the end (the page
count of "Page x of y", and the page of each heading in the contents) is drawn
through PDF form XObjects: each page and each contents line refers to a named
form, and the forms are written once the last page is done. Headings carry a
bookmark (a PDF destination plus an outline entry) that the contents link to.

``LongRows`` is a table of thousands of rows that lays out only the rows near
the page it is on; a plain reportlab Table recomputes every remaining row at
each page break. ``Para`` is a Paragraph that breaks its lines once per width:
reportlab wraps a table cell's Paragraph again to draw it, and a flowable again
on the next page when it did not fit.

The evidence index is set on landscape pages (template ``index``); every other
page is portrait (``body``). Every page is the report's one paper size, A4 or US
Letter (``style.paper_size``); the text is as wide on both (``style.frame_left``
centers it).

The running foot: the client and the report title on the left, as much of them
as the line holds beside "Page x of y"; the marking centered above the page and
on a line of its own below the foot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Table, TableStyle

from ..core.progress import CancelToken, Progress
from . import fonts, style, text


def draw_text(canv: Canvas, x: float, y: float, value: str, font: str, size: float, align: str = "left") -> None:
    """User text on the canvas, never parsed as markup; CJK runs in the CJK font."""
    pieces = list(text.runs(value))
    total = sum(canv.stringWidth(p, font if f == fonts.SANS else f, size) for f, p in pieces)
    if align == "right":
        x -= total
    elif align == "centre":
        x -= total / 2
    for f, piece in pieces:
        name = font if f == fonts.SANS else f
        canv.setFont(name, size)
        canv.drawString(x, y, piece)
        x += canv.stringWidth(piece, name, size)


def page_size(canv: Canvas) -> tuple[float, float]:
    """The size of the page being drawn: A4 portrait, or landscape in the evidence index."""
    width, height = canv._pagesize  # type: ignore[attr-defined]  # set by the page template; not in the stubs
    return float(width), float(height)


@dataclass
class Running:
    """What every page repeats: the marking top and bottom, who it is for, the page number."""

    marking: str
    client_title: str
    draft: bool


@dataclass
class Book:
    """What the layout learns as it goes: the page of each bookmark, and the page count."""

    pages: dict[str, int] = field(default_factory=dict)
    page_count: int = 0
    contents: list[str] = field(default_factory=list)  # keys the contents refers to


class Para(Paragraph):
    """A Paragraph that keeps its lines for the width it was last wrapped to.

    Its lines depend on the width alone, so a second ``wrap`` at the same width
    (reportlab asks again to draw a table cell, or on the next page) returns
    what the first found instead of breaking every line again.
    """

    _wrapped: tuple[float, tuple[float, float]] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        wrapped = self._wrapped
        if wrapped is not None and wrapped[0] == availWidth and "blPara" in self.__dict__:  # split() may drop it
            self.width, self.height = wrapped[1]
            return wrapped[1]
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        self._wrapped = (availWidth, size)
        return size


class Heading(Para):
    """A heading that is a bookmark: a PDF destination, an outline entry and a contents line."""

    bookmark: tuple[str, str, int] | None = None  # key, outline title, level
    book: Book | None = None

    def draw(self) -> None:
        if self.bookmark is not None and self.book is not None:
            key, title, level = self.bookmark
            self.canv.bookmarkHorizontal(key, 0, self.height + 6)
            self.canv.addOutlineEntry(title, key, level=level, closed=level > 0)
            self.book.pages[key] = self.canv.getPageNumber()
        super().draw()


def heading(markup: str, paragraph_style: Any, book: Book, key: str, title: str, level: int) -> Heading:
    made = Heading(markup, paragraph_style)
    made.bookmark = (key, title, level)
    made.book = book
    return made


def _toc_form(key: str) -> str:
    return f"toc-{key}"


def _page_form(number: int) -> str:
    return f"page-{number}"


class ContentsLine(Flowable):
    """One line of the contents: the heading, a dotted leader and its page (a form filled in at the end)."""

    def __init__(self, title: str, key: str, level: int, book: Book) -> None:
        super().__init__()
        self.title, self.key, self.level = title, key, level
        book.contents.append(key)
        self.paragraph_style = style.TOC_0 if level == 0 else style.TOC_1
        self.gap = 3.0 if level == 0 else 0.0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = self.paragraph_style.leading + self.gap
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        s = self.paragraph_style
        indent = 14.0 * self.level
        baseline = 3.0
        title = text.fit(self.title, s.fontName, s.fontSize, self.width - indent - 60)
        canv.setFillColor(s.textColor)
        draw_text(canv, indent, baseline, title, s.fontName, s.fontSize)
        start = indent + text.width(title, s.fontName, s.fontSize) + 6
        end = self.width - 30
        if end > start:
            canv.saveState()
            canv.setStrokeColor(style.RULE)
            canv.setDash(0.6, 2.6)
            canv.setLineWidth(0.8)
            canv.line(start, baseline + 1, end, baseline + 1)
            canv.restoreState()
        canv.saveState()
        canv.translate(self.width, baseline)
        canv.doForm(_toc_form(self.key))
        canv.restoreState()
        canv.linkRect("", self.key, (indent, 0, self.width, s.leading), relative=1, thickness=0)


class LongRows(Flowable):
    """A table of many rows: a header repeated on every page, rows split across pages when they must.

    At each page it builds a reportlab Table of only as many rows as could fit
    (the room divided by ``min_row_height``), lets that table split, and keeps
    what did not fit (a row split part-way included) for the next page.
    """

    def __init__(
        self,
        header: list[Any],
        rows: list[list[Any]],
        widths: Sequence[float],
        commands: list[tuple[Any, ...]],
        min_row_height: float,
    ) -> None:
        super().__init__()
        self.header, self.rows, self.widths = header, rows, list(widths)
        self.commands, self.min_row_height = commands, min_row_height
        self._whole: Table | None = None

    def _table(self, rows: list[list[Any]]) -> Table:
        return Table(
            [self.header, *rows], colWidths=self.widths, repeatRows=1, splitInRow=1, style=TableStyle(self.commands)
        )

    def _room(self, height: float) -> int:
        return int(height / self.min_row_height) + 2

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if len(self.rows) <= self._room(availHeight):
            self._whole = self._table(self.rows)
            width, height = self._whole.wrap(availWidth, availHeight)
            return width, height
        self._whole = None
        return availWidth, availHeight + 1  # more than fits: the frame asks for a split

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        count = self._room(availHeight)
        parts = self._table(self.rows[:count]).split(availWidth, availHeight)
        if not parts:
            return []
        rest_table = parts[1] if len(parts) > 1 else None
        leftover = list(rest_table._cellvalues[1:]) if isinstance(rest_table, Table) else []  # type: ignore[attr-defined]
        rest = leftover + self.rows[count:]
        if not rest:
            return [parts[0]]
        return [parts[0], LongRows(self.header, rest, self.widths, self.commands, self.min_row_height)]

    def draw(self) -> None:
        if self._whole is not None:
            self._whole.drawOn(self.canv, 0, 0)


class Chip(Flowable):
    """A short label of the app's on a coloured background (a severity), drawn without a Paragraph."""

    def __init__(self, label: str, fill: Any, ink: Any, size: float = 6.8) -> None:
        super().__init__()
        self.label, self.fill, self.ink, self.size = label, fill, ink, size

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = stringWidth(self.label, fonts.SANS, self.size) + 6
        self.height = self.size + 4
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        canv = self.canv
        canv.setFillColor(self.fill)
        canv.rect(0, 0, self.width, self.height, stroke=0, fill=1)
        canv.setFillColor(self.ink)
        canv.setFont(fonts.SANS, self.size)
        canv.drawString(3, 2 + 0.16 * self.size, self.label)


def fits(value: str, font: str, size: float, room: float) -> bool:
    """Whether ``value`` may be a plain string cell (:func:`text.plain`) on one line of ``room`` points."""
    return text.plain(value) and stringWidth(value, font, size) <= room


class KeepTable(Table):
    """A table kept on one page when it fits on one, split only when it is taller than a page.

    The same as wrapping it in ``KeepTogether``, without laying it out twice.
    """

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        if getattr(self, "_height", BODY_HEIGHT + 1) <= BODY_HEIGHT:
            return []  # the next page has room for all of it
        return list(super().split(availWidth, availHeight))


#: The body's height on the shorter paper (Letter): a table no taller always fits on a page of its own.
BODY_HEIGHT = min(h for _, h in style.PAPERS.values()) - style.MARGIN_TOP - style.MARGIN_BOTTOM


#: Room the foot keeps at its right for "Page 1,000 of 1,000" (7 pt) and a gap.
FOOT_PAGE_ROOM = 80.0


class ReportDocument(BaseDocTemplate):
    """The cover, then body pages with the marking, the client and "Page x of y" (landscape for the index)."""

    def __init__(
        self,
        target: Path | IO[bytes],
        running: Running,
        book: Book,
        metadata: dict[str, str],
        progress: Progress,
        cancel: CancelToken | None,
        cover: Callable[[Canvas], None],
        paper: str = "A4",
    ) -> None:
        portrait = style.paper_size(paper)
        wide = (portrait[1], portrait[0])
        side = style.frame_left(portrait[0])
        super().__init__(
            str(target) if isinstance(target, Path) else target,
            pagesize=portrait,
            leftMargin=side,
            rightMargin=side,
            topMargin=style.MARGIN_TOP,
            bottomMargin=style.MARGIN_BOTTOM,
            title=metadata["title"],
            author=metadata["author"],
            subject=metadata["subject"],
            creator=metadata["creator"],
            keywords=metadata["keywords"].split(", "),
            lang="en",
            initialFontName=fonts.SANS,
        )
        self._doSave = 0  # the forms are written after the last page, then the canvas is saved
        self.running, self.book = running, book
        self._progress, self._cancel, self._cover = progress, cancel, cover
        self._flowables = 1
        body = Frame(
            side,
            style.MARGIN_BOTTOM,
            style.FRAME_WIDTH,
            portrait[1] - style.MARGIN_TOP - style.MARGIN_BOTTOM,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        cover_frame = Frame(
            side + 14 * mm,
            style.MARGIN_BOTTOM + 30 * mm,
            style.FRAME_WIDTH - 14 * mm,
            portrait[1] - style.MARGIN_BOTTOM - 30 * mm - 62 * mm,
            id="cover",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        index = Frame(
            style.frame_left(wide[0]),
            style.MARGIN_BOTTOM,
            style.INDEX_WIDTH,
            wide[1] - style.MARGIN_TOP - style.MARGIN_BOTTOM,
            id="index",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        self.addPageTemplates(
            [
                PageTemplate(
                    "cover", [cover_frame], onPage=self._cover_page, onPageEnd=self._page_end, pagesize=portrait
                ),
                PageTemplate("body", [body], onPage=self._body_page, onPageEnd=self._page_end, pagesize=portrait),
                PageTemplate("index", [index], onPage=self._body_page, onPageEnd=self._page_end, pagesize=wide),
            ]
        )
        self.setProgressCallBack(self._on_progress)

    def _on_progress(self, kind: str, value: int) -> None:
        if self._cancel is not None:
            self._cancel.check()
        if kind == "SIZE_EST":
            self._flowables = max(1, value)
        elif kind == "PROGRESS":
            self._progress(value, self._flowables, f"Laying out page {self.page}")

    # -- page furniture -------------------------------------------------------------

    def _marking(self, canv: Canvas, y: float) -> None:
        if not self.running.marking.strip():
            return
        canv.setFillColor(style.MARKING)
        size = 7.5
        room = style.FRAME_WIDTH * 0.5
        draw_text(
            canv,
            page_size(canv)[0] / 2,
            y,
            text.fit(self.running.marking, fonts.SANS_BOLD, size, room),
            fonts.SANS_BOLD,
            size,
            "centre",
        )

    def _cover_page(self, canv: Canvas, doc: Any) -> None:
        canv.saveState()
        self._marking(canv, page_size(canv)[1] - 12 * mm)
        self._marking(canv, 9 * mm)
        self._cover(canv)
        canv.restoreState()

    def _body_page(self, canv: Canvas, doc: Any) -> None:
        canv.saveState()
        width, height = page_size(canv)  # portrait, or landscape for the evidence index
        left = style.frame_left(width)
        top = height - 12 * mm
        self._marking(canv, top)
        canv.setStrokeColor(style.RULE)
        canv.setLineWidth(0.6)
        canv.line(left, top - 5 * mm, width - left, top - 5 * mm)
        bottom = 10 * mm
        canv.line(left, bottom + 4.5 * mm, width - left, bottom + 4.5 * mm)
        self._marking(canv, 5.5 * mm)
        canv.setFillColor(style.GREY)
        room = width - 2 * left - FOOT_PAGE_ROOM
        client = text.fit(self.running.client_title, fonts.SANS, 7, room)
        draw_text(canv, left, bottom, client, fonts.SANS, 7)
        canv.translate(width - left, bottom)
        canv.doForm(_page_form(canv.getPageNumber()))
        canv.restoreState()

    def _page_end(self, canv: Canvas, doc: Any) -> None:
        self.book.page_count = canv.getPageNumber()
        if self.running.draft:
            canv.saveState()
            canv.setFillColor(style.MARKING, alpha=0.09)
            width, height = page_size(canv)
            canv.translate(width / 2, height / 2)
            canv.rotate(52)
            canv.setFont(fonts.SANS_BOLD, 130)
            canv.drawCentredString(0, -45, "DRAFT")
            canv.restoreState()

    # -- the forms, once every page is known ----------------------------------------------

    def finish(self) -> None:
        """Write the page-number and contents forms, then the file."""
        canv = self.canv
        total = self.book.page_count
        for number in range(1, total + 1):
            canv.beginForm(_page_form(number), lowerx=-200, lowery=-4, upperx=4, uppery=12)
            canv.setFillColor(style.GREY)
            canv.setFont(fonts.SANS, 7)
            canv.drawRightString(0, 0, f"Page {number} of {total}")
            canv.endForm()
        for key in dict.fromkeys([*self.book.contents, *self.book.pages]):
            page = self.book.pages.get(key)
            canv.beginForm(_toc_form(key), lowerx=-60, lowery=-4, upperx=4, uppery=14)
            canv.setFillColor(style.INK)
            canv.setFont(fonts.SANS, 8.6)
            canv.drawRightString(0, 0, "–" if page is None else str(page))
            canv.endForm()
        canv.save()
