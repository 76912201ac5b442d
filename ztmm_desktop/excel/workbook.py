"""The client deliverable workbook, sheet by sheet:

Overview (the consultant's sections and the roadmap's top priorities; only when there are any), Summary
with a chart, Progress, Workshops, a sheet per pillar, Findings (F-numbers as in the report, with the
register's owner, due date, status and risk), Roadmap (the consultant's actions, A-numbered, in roadmap
order), Vendor suggestions (the guidance's recommendations; never when the deliverable is vendor-neutral),
Client answers (questionnaire answers beside the assessor's rating; only when there are any), Evidence
(E-numbers as in the report), Document control (only when there is any), About.

An empty section of the consultant's is left out, never a heading over nothing. Dates are date cells with
a date format, never text. Every sheet prints on the engagement's paper (A4 or US Letter), one page wide.

The Progress sheet (after Summary) is there only when the engagement has a
baseline: which baseline, each pillar's mean then and now, and every function
in scope with its stage then and now, how it moved and what changed.

The Workshops sheet (after Progress, else after Summary) is there only when the
engagement has workshops: one row a workshop, oldest first, with its date,
title, status, pillars, functions, attendees ("Name (Role, Organisation)", one
a line) and notes, so a client can filter by any of them.

:func:`write_workbook` renders a :class:`~ztmm_desktop.core.deliverable.Snapshot`
with openpyxl in write-only mode (rows are streamed, so 5,000 evidence rows
cost little memory). Every string goes into its cell through
:func:`~ztmm_desktop.excel.cells.set_text` (SECURITY.md item 10): the app
writes no formula at all. Styles are made once per kind of cell and copied
into each cell, never built per cell.

The workbook is marked as the app's own (``excel/layout.py``): a very hidden,
protected meta sheet, and on each pillar sheet a hidden column headed
``FUNCTION_ID`` beside rating columns headed "Initial rating", "Initial
comment" and so on, so the questionnaire importer can read it back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import Cell  # type: ignore[import-untyped]
from openpyxl.chart import BarChart, Reference  # type: ignore[import-untyped]
from openpyxl.chart.data_source import AxDataSource, StrRef  # type: ignore[import-untyped]
from openpyxl.chart.label import DataLabelList  # type: ignore[import-untyped]
from openpyxl.formatting.rule import CellIsRule  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # type: ignore[import-untyped]
from openpyxl.styles.cell_style import StyleArray  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]
from openpyxl.worksheet.filters import AutoFilter  # type: ignore[import-untyped]
from openpyxl.worksheet.properties import PageSetupProperties  # type: ignore[import-untyped]
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from ..core import figures, words
from ..core.deliverable import (
    MOVEMENT_LABEL,
    EvidenceLine,
    FindingLine,
    FunctionSheet,
    PillarSheet,
    Snapshot,
    WorkshopLine,
    attendee_text,
    change_text,
    state_text,
)
from ..core.progress import CancelToken, Progress, no_progress
from ..core.progress_compare import Movement, RollupProgress
from ..core.register import FINDING_STATUS_LABELS, action_numbers, blocks, top_priorities
from ..core.scoring import Rollup
from ..core.stages import RATED_STAGES, Rating, Stage
from . import layout
from .cells import clean, set_text

#: Sheet names of the fixed sheets; pillar sheets are named "<code> <pillar name>".
SUMMARY, FINDINGS, ROADMAP, EVIDENCE, ABOUT = "Summary", "Findings", "Roadmap", "Evidence", "About"
PROGRESS, WORKSHOPS = "Progress", "Workshops"
OVERVIEW, DOCUMENT_CONTROL, ANSWERS, SUGGESTIONS = (
    "Overview",
    "Document control",
    "Client answers",
    "Vendor suggestions",
)
_FIXED = (
    *(SUMMARY, PROGRESS, WORKSHOPS, FINDINGS, ROADMAP, EVIDENCE, ABOUT),
    *(OVERVIEW, DOCUMENT_CONTROL, ANSWERS, SUGGESTIONS),
)
#: The rating labels a rating cell may hold (its dropdown), in the order of the model.
RATING_LABELS: tuple[str, ...] = tuple(
    r.label for r in (Rating.MET, Rating.PARTIAL, Rating.NOT_MET, Rating.NOT_APPLICABLE, Rating.NOT_ASSESSED)
)
#: Header text of a stage's text column on pillar sheets; its rating and comment columns are headed
#: ``layout.rating_header(stage)`` and ``layout.comment_header(stage)`` (the importer finds them by these).
STAGE_HEADER = "{stage} stage"

_PROGRESS_EVERY = 250  # rows between progress reports and cancel checks
_INVALID_TITLE = re.compile(r"[\\*?:/\[\]]")
_SEVERITY_LABEL = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low"}
_RATING_FILLS = {
    Rating.MET.label: "C6EFCE",
    Rating.PARTIAL.label: "FFEB9C",
    Rating.NOT_MET.label: "FFC7CE",
    Rating.NOT_APPLICABLE.label: "EDEDED",
}
_HEADER_FILL = "1F3864"
_TABLE_STYLE = "TableStyleLight9"


# -- styles: built once, copied into each cell ------------------------------------------


class _Styles:
    """One style per kind of cell, made and registered once; every cell of that kind shares it."""

    def __init__(self, sheet: Any) -> None:
        thin = Side(style="thin", color="B4C6E7")
        top = Alignment(vertical="top")
        wrap = Alignment(vertical="top", wrap_text=True)
        self.arrays: dict[str, StyleArray] = {}
        self.ids: dict[str, int] = {}  # each style's index in the workbook's cell styles
        #: the same styles with ``quotePrefix`` set (for text that starts like a formula), and their indexes
        self.quoted: dict[str, tuple[StyleArray, int]] = {}
        #: each wrapping style -> (characters per unit of column width, line height in points)
        self.wrapping: dict[str, tuple[float, float]] = {}
        #: the row height a style of large type needs (the default row is 15 points: a title would spill out)
        self.tall: dict[str, float] = {"title": 24.0, "heading": 19.0}
        self._sheet = sheet
        self._make("plain", alignment=top, font=Font(name="Calibri"))
        self._make("centre", alignment=Alignment(vertical="top", horizontal="center"), font=Font(name="Calibri"))
        self._make(
            "bold centre",
            alignment=Alignment(vertical="top", horizontal="center"),
            font=Font(name="Calibri", bold=True),
        )
        self._make("wrap", alignment=wrap, font=Font(name="Calibri"))
        self._make("prose", alignment=wrap, font=Font(name="Calibri", size=11))
        self._make("bullet", alignment=Alignment(vertical="top", horizontal="right"), font=Font(name="Calibri"))
        left = Alignment(vertical="top", horizontal="left")
        self._make("date", alignment=left, font=Font(name="Calibri"), number_format="yyyy-mm-dd")
        self._make("datetime", alignment=left, font=Font(name="Calibri"), number_format='yyyy-mm-dd hh:mm "UTC"')
        self._make("small", alignment=wrap, font=Font(name="Calibri", size=9))
        regular = Font(name="Calibri")
        self._make("int", alignment=top, font=regular, number_format="#,##0")
        centre = Alignment(vertical="top", horizontal="center")
        bold = Font(name="Calibri", bold=True)
        self._make("centre int", alignment=centre, font=regular, number_format="0")
        self._make("centre score", alignment=centre, font=regular, number_format="0.0")
        self._make("bold centre int", alignment=centre, font=bold, number_format="0")
        self._make("bold centre score", alignment=centre, font=bold, number_format="0.0")
        self._make("centre steps", alignment=centre, font=regular, number_format="+0;-0;0")
        self._make("centre delta", alignment=centre, font=regular, number_format="+0.0;-0.0;0.0")
        self._make("bold centre delta", alignment=centre, font=bold, number_format="+0.0;-0.0;0.0")
        self._make("mono", alignment=top, font=Font(name="Consolas", size=9))
        self._make("bold", alignment=top, font=Font(name="Calibri", bold=True))
        self._make("bold int", alignment=top, font=Font(name="Calibri", bold=True), number_format="#,##0")
        self._make("title", font=Font(name="Calibri", bold=True, size=16, color=_HEADER_FILL))
        self._make("heading", font=Font(name="Calibri", bold=True, size=12, color=_HEADER_FILL))
        self._make("marking", font=Font(name="Calibri", bold=True, color="C00000"))
        self._make(
            "note",
            alignment=Alignment(vertical="top", wrap_text=False),
            font=Font(name="Calibri", italic=True, color="595959"),
        )
        self._make("label", alignment=top, font=Font(name="Calibri", bold=True, color="404040"))
        self._make(
            "header",
            alignment=Alignment(vertical="center", wrap_text=True),
            font=Font(name="Calibri", bold=True, color="FFFFFF"),
            fill=PatternFill("solid", fgColor=_HEADER_FILL),
            border=Border(bottom=thin),
        )
        self._make(
            "header centre",
            alignment=Alignment(vertical="center", horizontal="center", wrap_text=True),
            font=Font(name="Calibri", bold=True, color="FFFFFF"),
            fill=PatternFill("solid", fgColor=_HEADER_FILL),
            border=Border(bottom=thin),
        )

    def _make(self, name: str, **style: Any) -> None:
        template = Cell(self._sheet, row=1, column=1)
        for attribute, value in style.items():
            setattr(template, attribute, value)
        self.arrays[name] = template._style
        self.ids[name] = template.style_id
        quoted = Cell(self._sheet, row=1, column=1, style_array=template._style)
        quoted.quotePrefix = True
        self.quoted[name] = (quoted._style, quoted.style_id)
        alignment, font = style.get("alignment"), style.get("font") or Font(name="Calibri")
        if alignment is not None and alignment.wrap_text:
            size = float(font.sz or 11)
            # A unit of column width is one "0" of 11-point Calibri; prose averages about that once the
            # space lost at line ends is counted, bold a little wider. Too many lines leave a little white
            # space, too few clip the text: the estimate errs on the side of space.
            per_unit = 11 / size * (0.9 if font.b else 1.0)
            self.wrapping[name] = (per_unit, round(size * 1.32 + 0.5, 1))


class _StyledCell(Cell):  # type: ignore[misc]
    """A cell sharing one of the workbook's styles, whose index is known when it is made.

    openpyxl looks a cell's style up by value each time it writes one; for tens
    of thousands of cells of a dozen styles, knowing the index saves that.
    """

    __slots__ = ("_style_index", "_tall", "_wrap")

    @property
    def style_id(self) -> int:
        index: int = self._style_index
        return index


class _Writer:
    """Cells for one write-only sheet, streamed row by row; user text only through ``set_text``."""

    def __init__(self, sheet: Any, styles: _Styles) -> None:
        self.sheet = sheet
        self.arrays = styles.arrays
        self.ids = styles.ids
        self.quoted = styles.quoted
        self.wrapping = styles.wrapping
        self.tall = styles.tall
        self.widths: list[float] = []
        self.row = 0  # the last row appended
        self.cut = 0  # texts cut to a cell's limit
        self._rows: _RowStream | None = None

    def columns(self, columns: Sequence[_Column]) -> None:
        """Widths (and hidden columns); must come before the first row."""
        self.widths = [c.width for c in columns]
        for index, column in enumerate(columns, start=1):
            dimension = self.sheet.column_dimensions[get_column_letter(index)]
            dimension.width = column.width
            if column.hidden:
                dimension.hidden = True

    def text(self, value: str | None, style: str = "plain") -> Cell | None:
        """A cell holding ``value`` as text, whatever it starts with (SECURITY.md item 10); none for no text."""
        if not value:
            return None  # an empty cell shows nothing either way; not writing it saves time on large sheets
        shared = self.arrays[style]
        cell = _StyledCell(self.sheet, row=1, column=1)
        cell._style = shared
        cell._style_index = self.ids[style]
        cell._wrap = self.wrapping.get(style)
        cell._tall = self.tall.get(style, 0.0)
        if set_text(cell, value):
            self.cut += 1
        if shared.quotePrefix:  # set_text marked the text as text: that cell alone gets the quoted style
            shared.quotePrefix = 0
            cell._style, cell._style_index = self.quoted[style]
        return cell

    def date(self, value: str | None, style: str = "date") -> Cell | None:
        """A real date (``style`` "date") or date and time (UTC, ``style`` "datetime") cell from ISO text.

        Text that is not an ISO date stays text, so nothing is lost.
        """
        when = _parse_date(value, with_time=style == "datetime")
        if when is None:
            return self.text(value)
        return self.number(when, style)  # type: ignore[arg-type]

    def number(self, value: float | int | None, style: str = "int") -> Cell:
        cell = _StyledCell(self.sheet, row=1, column=1, value=value)
        cell._style = self.arrays[style]
        cell._style_index = self.ids[style]
        cell._wrap = None
        cell._tall = 0.0
        return cell

    def append(self, cells: Sequence[Cell | None]) -> int:
        self.row += 1
        height = self._height(cells)
        if height is not None:
            self.sheet.row_dimensions[self.row].height = height
        if self._rows is None:
            self._rows = _RowStream.open(self.sheet)
        self._rows.write(cells, self.row)
        return self.row

    def _height(self, cells: Sequence[Cell | None]) -> float | None:
        """A row height that shows the wrapped text of ``cells`` whole (Excel caps it at 409 points).

        Spreadsheet programs do not agree on growing rows to fit wrapped text when a
        file is opened (LibreOffice does not), so the row says how high it is.
        """
        tallest = max((getattr(cell, "_tall", 0.0) for cell in cells), default=0.0)
        for index, cell in enumerate(cells):
            wrap: tuple[float, float] | None = getattr(cell, "_wrap", None)
            if cell is None or wrap is None or index >= len(self.widths):
                continue
            per_line = max(1, int(self.widths[index] * wrap[0]))
            text: str = cell._value
            if len(text) <= per_line and "\n" not in text:
                continue
            lines = sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))
            if lines > 1:
                tallest = max(tallest, lines * wrap[1] + 3)
        return min(tallest, 409.0) if tallest else None

    def blank(self) -> int:
        return self.append([])

    def spacer(self, height: float) -> int:
        """An empty row ``height`` points high (set before the row is streamed: it cannot be changed after)."""
        self.sheet.row_dimensions[self.row + 1].height = height
        return self.append([])


class _RowStream:
    """Rows of ready-made cells, straight into a write-only sheet's XML stream.

    ``WriteOnlyWorksheet.append`` first tries each cell as a plain value, fails
    (it is a cell), and makes a spare cell for every styled one; for styled rows
    that is a third of the export's time. This does what its row loop does
    (openpyxl 3.1's ``_write_rows``) without those steps, and falls back to
    ``append`` when the sheet does not look like 3.1's.
    """

    def __init__(self, sheet: Any, stream: Any) -> None:
        self.sheet = sheet
        self.stream = stream

    @classmethod
    def open(cls, sheet: Any) -> _RowStream:
        try:
            sheet._get_writer()
            writer = sheet._writer
            if sheet._rows is not None or not callable(writer.write_row):
                return cls(sheet, None)
            stream = cls._rows(writer)
            next(stream)
        except AttributeError:
            return cls(sheet, None)
        sheet._rows = stream  # the sheet ends the stream when it is closed, as it ends its own
        return cls(sheet, stream)

    @staticmethod
    def _rows(writer: Any) -> Generator[None, tuple[Sequence[Cell | None], int], None]:
        xf = writer.xf.send(True)
        with xf.element("sheetData"):
            try:
                while True:
                    cells, row = yield
                    placed = []
                    for column, cell in enumerate(cells, start=1):
                        if cell is not None:
                            cell.row, cell.column = row, column
                            placed.append(cell)
                    writer.write_row(xf, placed, row)
            except GeneratorExit:
                pass
        writer.xf.send(None)

    def write(self, cells: Sequence[Cell | None], row: int) -> None:
        if self.stream is None:
            self.sheet.append(cells)
        else:
            self.stream.send((cells, row))


def _parse_date(value: str | None, *, with_time: bool = False) -> dt.date | dt.datetime | None:
    """``YYYY-MM-DD`` (or an ISO 8601 date-time) as a date; with ``with_time`` a naive UTC date-time."""
    if not value:
        return None
    try:
        if not with_time:
            return dt.date.fromisoformat(value.strip()[:10])
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.replace(microsecond=0)


@dataclass(frozen=True)
class _Column:
    header: str
    width: float
    hidden: bool = False


def _print_setup(sheet: Any, snapshot: Snapshot, *, title_rows: str | None = None) -> None:
    """Landscape on the engagement's paper (A4 or US Letter, ``meta.paper``), fit to one page wide,
    header rows repeated, marking and page x of y on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = paper_size(snapshot.meta.paper)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.gridLines = False
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    if title_rows:
        sheet.print_title_rows = title_rows
    marking = _header_text(snapshot.meta.marking)
    if marking:
        sheet.oddHeader.center.text = marking
        sheet.oddHeader.center.font = "-,Bold"
        sheet.oddFooter.center.text = marking
    # The client's name, left, must not run into the marking, centered: short, and left out beside a long marking.
    if len(marking) <= 40:
        sheet.oddHeader.left.text = _header_text(snapshot.meta.client, 40)
    sheet.oddFooter.left.text = "&A"
    sheet.oddFooter.right.text = "Page &P of &N"


def paper_size(paper: str) -> str:
    """The sheet paper size code of ``DeliverableMeta.paper``: US Letter or (the default) A4."""
    return str(Worksheet.PAPERSIZE_LETTER if paper.strip().lower() == "letter" else Worksheet.PAPERSIZE_A4)


def _header_text(value: str, limit: int = 80) -> str:
    """User text as a page header part: no control characters, ``&`` escaped, short (Excel caps headers at 255)."""
    text, _ = clean(" ".join(value.split()))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("&", "&&")


def _sheet_title(code: str, name: str, taken: set[str]) -> str:
    """A valid, unique sheet title within 31 characters for a pillar."""
    base = _INVALID_TITLE.sub(" ", f"{code} {name}".strip())
    base = " ".join(base.split()).strip("'")[:31] or "Pillar"
    title, number = base, 2
    while title.lower() in taken:
        suffix = f" ({number})"
        title = base[: 31 - len(suffix)] + suffix
        number += 1
    taken.add(title.lower())
    return title


def _add_table(sheet: Any, name: str, columns: Sequence[_Column], header_row: int, last_row: int) -> None:
    """An Excel table (filter buttons, banded rows) over the header row and the rows below it."""
    ref = f"A{header_row}:{get_column_letter(len(columns))}{last_row}"
    table = Table(
        displayName=name,
        ref=ref,
        tableColumns=[TableColumn(id=i, name=c.header) for i, c in enumerate(columns, start=1)],
        tableStyleInfo=TableStyleInfo(name=_TABLE_STYLE, showRowStripes=True),
        autoFilter=AutoFilter(ref=ref),
    )
    # Not sheet.add_table(): in write-only mode it warns that the columns must be named by hand, as they are here.
    sheet.tables.add(table)


class _Progress:
    """Row counts for the progress callback, and the cancel check at each sheet and every few rows."""

    def __init__(self, total: int, progress: Progress, cancel: CancelToken | None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.progress = progress
        self.cancel = cancel
        self.message = ""

    def sheet(self, title: str) -> None:
        self.check()
        self.message = f"Writing {title}"
        self.progress(min(self.done, self.total), self.total, self.message)

    def step(self, rows: int = 1) -> None:
        before = self.done
        self.done += rows
        if self.done // _PROGRESS_EVERY != before // _PROGRESS_EVERY:
            self.check()
            self.progress(min(self.done, self.total), self.total, self.message)

    def check(self) -> None:
        if self.cancel is not None:
            self.cancel.check()


# -- the workbook ---------------------------------------------------------------------------


def write_workbook(
    snapshot: Snapshot, out: Path | IO[bytes], *, progress: Progress = no_progress, cancel: CancelToken | None = None
) -> None:
    """Write the deliverable workbook of ``snapshot`` to ``out`` (the caller makes it atomic)."""
    roadmap_rows = sum(max(1, len(s.recommendations)) for item in snapshot.roadmap for s in item.steps)
    roadmap_rows += len(snapshot.actions) + sum(len(f.answers) for f in snapshot.functions())
    progress_rows = len(snapshot.progress.functions) if snapshot.progress is not None else 0
    total = len(snapshot.functions()) + progress_rows + len(snapshot.findings) + roadmap_rows + len(snapshot.evidence)
    total += len(snapshot.workshops)
    total += 10
    counter = _Progress(total, progress, cancel)
    counter.check()
    book = Workbook(write_only=True)
    try:
        book.properties.title = clean(snapshot.meta.title or "Zero Trust maturity assessment")[0]
        book.properties.subject = clean(snapshot.meta.client)[0]
        # Who prepared it, never the login name of whoever ran the export; else the tool that wrote it.
        author = clean(" ".join(snapshot.meta.prepared_by.split()))[0]
        book.properties.creator = author or snapshot.meta.generated_with
        book.properties.lastModifiedBy = author or snapshot.meta.generated_with
        taken = {s.lower() for s in (*_FIXED, layout.META_SHEET)}
        pillar_titles = [_sheet_title(p.pillar.code, p.pillar.name, taken) for p in snapshot.pillars]
        styles: _Styles | None = None
        if has_overview(snapshot):
            overview = book.create_sheet(OVERVIEW)
            styles = _Styles(overview)
            counter.sheet(OVERVIEW)
            _write_overview(_Writer(overview, styles), snapshot)
        summary = book.create_sheet(SUMMARY)
        styles = styles or _Styles(summary)
        counter.sheet(SUMMARY)
        _write_summary(_Writer(summary, styles), snapshot)
        counter.step(5)
        if snapshot.progress is not None:
            counter.sheet(PROGRESS)
            _write_progress(_Writer(book.create_sheet(PROGRESS), styles), snapshot)
            counter.step(len(snapshot.progress.functions))
        if snapshot.workshops:
            counter.sheet(WORKSHOPS)
            _write_workshops(_Writer(book.create_sheet(WORKSHOPS), styles), snapshot, counter)
        for pillar, title in zip(snapshot.pillars, pillar_titles, strict=True):
            counter.sheet(title)
            _write_pillar(_Writer(book.create_sheet(title), styles), snapshot, pillar, counter)
        counter.sheet(FINDINGS)
        _write_findings(_Writer(book.create_sheet(FINDINGS), styles), snapshot, counter)
        counter.sheet(ROADMAP)
        _write_roadmap(_Writer(book.create_sheet(ROADMAP), styles), snapshot, counter)
        if not snapshot.meta.vendor_neutral:
            counter.sheet(SUGGESTIONS)
            _write_suggestions(_Writer(book.create_sheet(SUGGESTIONS), styles), snapshot, counter)
        if has_answers(snapshot):
            counter.sheet(ANSWERS)
            _write_answers(_Writer(book.create_sheet(ANSWERS), styles), snapshot, counter)
        counter.sheet(EVIDENCE)
        _write_evidence(_Writer(book.create_sheet(EVIDENCE), styles), snapshot, counter)
        if has_document_control(snapshot):
            counter.sheet(DOCUMENT_CONTROL)
            _write_control(_Writer(book.create_sheet(DOCUMENT_CONTROL), styles), snapshot)
        counter.sheet(ABOUT)
        _write_about(_Writer(book.create_sheet(ABOUT), styles), snapshot, pillar_titles)
        _write_meta(_Writer(book.create_sheet(layout.META_SHEET), styles), snapshot)
        counter.check()
        progress(counter.total - 1, counter.total, "Saving the workbook")
        book.save(out)
        progress(counter.total, counter.total, "Workbook written")
    finally:
        _discard_streams(book)


def _discard_streams(book: Any) -> None:
    """Remove the temp files write-only sheets stream their rows into (left behind when writing stopped early)."""
    for sheet in book.worksheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None:
            continue
        with contextlib.suppress(Exception):  # the streams may already be closed or broken; the file still goes
            rows = getattr(sheet, "_rows", None)
            if rows is not None:
                rows.close()  # first the rows (they end their element), then the sheet's stream and its file
        with contextlib.suppress(Exception):
            writer.xf.close()
        Path(writer.out).unlink(missing_ok=True)


# -- Summary ---------------------------------------------------------------------------------

_SUMMARY_COLUMNS = (
    _Column("Pillar", 34),
    _Column("Functions", 11),
    _Column("Assessed", 11),
    _Column("Not applicable", 11),
    _Column("Current (0–3)", 12),
    _Column("Stage reached", 13),
    _Column("Lowest stage", 13),
    _Column("Target (0–3)", 12),
    _Column("Below target", 11),
    *(_Column(stage.label, 11) for stage in Stage),
)


def _write_summary(w: _Writer, snapshot: Snapshot) -> None:
    meta = snapshot.meta
    sheet = w.sheet
    w.columns(_SUMMARY_COLUMNS)
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, snapshot)
    sheet.page_setup.fitToHeight = 1  # the figures and their chart on one printed page, never a chart cut in two
    w.append([w.text(meta.title or "Zero Trust maturity assessment", "title")])
    if meta.marking:
        w.append([w.text(meta.marking, "marking")])
    w.blank()
    for label, value in (
        ("Client", meta.client),
        ("Assessors", ", ".join(meta.assessors) or "–"),
    ):
        w.append([w.text(label, "label"), w.text(value)])
    if meta.start_date or meta.end_date:  # real dates: a date cell, "to", a date cell
        start, end = w.date(meta.start_date), w.date(meta.end_date)
        w.append([w.text("Dates", "label"), start, w.text("to", "centre") if start and end else None, end])
    else:
        w.append([w.text("Dates", "label"), w.text("–")])
    w.append([w.text("Model", "label"), w.text(f"{snapshot.catalog.title} {snapshot.catalog.version}")])
    w.append([w.text("Generated", "label"), w.date(meta.generated_at), w.text(f"with {meta.generated_with}")])
    w.blank()
    w.append([w.text("Maturity by pillar", "heading")])
    header = w.append(
        [w.text(c.header, "header" if i == 0 else "header centre") for i, c in enumerate(_SUMMARY_COLUMNS)]
    )
    for sheet_ in snapshot.pillars:
        w.append(_rollup_cells(w, sheet_.rollup, bold=False))
    last_pillar = w.row
    w.append(_rollup_cells(w, snapshot.overall, bold=True))
    w.append(
        [
            w.text(
                "Current and target are the mean stage of the assessed functions on a 0–3 scale "
                "(0 Traditional, 1 Initial, 2 Advanced, 3 Optimal); each function weighs the same. See About.",
                "note",
            )
        ]
    )
    w.blank()
    w.append([w.text("Findings by severity", "heading")])
    w.append([w.text("Severity", "header"), w.text("Findings", "header")])
    for severity, count in figures.findings_by_severity(f.severity for f in snapshot.findings).items():
        w.append([w.text(_SEVERITY_LABEL[severity]), w.number(count)])
    w.append([w.text("All findings", "bold"), w.number(len(snapshot.findings), "bold int")])
    w.append([w.text("Evidence files", "bold"), w.number(len(snapshot.evidence), "bold int")])
    w.blank()
    w.append([w.text("Current against target per pillar", "heading")])
    if not snapshot.assessed or not snapshot.pillars:
        w.append([w.text("Nothing has been assessed yet, so there is no maturity to chart.", "bold")])
        return
    chart_row = w.blank() + 1
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = "Current against target per pillar"
    chart.y_axis.title = "Mean stage (0–3)"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 3
    chart.y_axis.majorUnit = 1
    chart.y_axis.number_format = "0"
    chart.x_axis.delete = False  # openpyxl 3.1 hides both axes unless told otherwise
    chart.y_axis.delete = False
    data = Reference(sheet, min_col=5, max_col=5, min_row=header, max_row=last_pillar)
    target = Reference(sheet, min_col=8, max_col=8, min_row=header, max_row=last_pillar)
    chart.add_data(data, titles_from_data=True)
    chart.add_data(target, titles_from_data=True)
    names = Reference(sheet, min_col=1, min_row=header + 1, max_row=last_pillar)
    for series in chart.series:  # pillar names are text: a string reference, not set_categories' number one
        series.cat = AxDataSource(strRef=StrRef(f=str(names)))
    chart.series[0].graphicalProperties.solidFill = "2F5597"
    chart.series[1].graphicalProperties.solidFill = "A9C4EB"
    chart.dataLabels = DataLabelList(
        showVal=True, showSerName=False, showCatName=False, showLegendKey=False, showPercent=False, numFmt="0.0"
    )
    chart.legend.position = "b"
    chart.width = 24
    chart.height = 10
    sheet.add_chart(chart, f"A{chart_row}")


def _rollup_cells(w: _Writer, roll: Rollup, *, bold: bool) -> list[Cell | None]:
    prefix = "bold " if bold else ""
    text_style = "bold" if bold else "plain"
    r = figures.rollup_figures(roll)  # the rounded figures: the cell shows what the report and the window show
    return [
        w.text(r.name, text_style),
        w.number(r.functions, prefix + "centre int"),
        w.number(r.assessed, prefix + "centre int"),
        w.number(r.not_applicable, prefix + "centre int"),
        w.number(r.score_number, prefix + "centre score")
        if r.score_number is not None
        else w.text("not assessed", prefix + "centre"),
        w.text(r.level.label if r.level is not None else "–", prefix + "centre"),
        w.text(r.lowest.label if r.lowest is not None else "–", prefix + "centre"),
        w.number(r.target_number, prefix + "centre score")
        if r.target_number is not None
        else w.text("–", prefix + "centre"),
        w.number(r.below_target, prefix + "centre int"),
        *(w.number(r.distribution.get(stage, 0), prefix + "centre int") for stage in Stage),
    ]


# -- Progress since the baseline ---------------------------------------------------------------

PROGRESS_COLUMNS = (
    _Column("Code", 12),
    _Column("Function", 50),  # one line: the longest name of the model fits
    _Column("Pillar", 27),
    _Column("Stage then", 17),
    _Column("Stage now", 17),
    _Column("Movement", 14),
    _Column("Steps", 9),
    _Column("Target then", 12),
    _Column("Target now", 12),
    _Column("What changed", 34),
)
_PROGRESS_PILLAR_HEADERS = (
    "Code",
    "Pillar",
    "Functions",
    "Then (0–3)",
    "Now (0–3)",
    "Change",
    "Assessed then",
    "Assessed now",
)
_MOVEMENT_FILLS = {
    MOVEMENT_LABEL[Movement.IMPROVED]: "C6EFCE",
    MOVEMENT_LABEL[Movement.REGRESSED]: "FFC7CE",
}


def progress_header_row(snapshot: Snapshot) -> int:
    """The row of the Progress sheet's function table header: under the title and the summary.

    It is the only row frozen (with the title and summary above it); each pillar then and now and the
    baseline's details follow the table.
    """
    return 3


def _write_progress(w: _Writer, snapshot: Snapshot) -> None:
    comparison, baseline = snapshot.progress, snapshot.baseline
    assert comparison is not None
    sheet = w.sheet
    columns = PROGRESS_COLUMNS
    header = progress_header_row(snapshot)
    w.columns(columns)
    sheet.sheet_view.showGridLines = False
    sheet.freeze_panes = f"A{header + 1}"  # set before the first row: a write-only sheet writes its view first
    _print_setup(sheet, snapshot, title_rows=f"{header}:{header}")
    name = baseline.name if baseline is not None else comparison.then_label
    w.append([w.text("Progress since the baseline", "title")])  # 1
    w.append([w.text(comparison.summary(), "note")])  # 2
    if w.append([w.text(c.header, "header") for c in columns]) != header:
        raise AssertionError("the Progress sheet's header row moved")
    pillar_names = {p.pillar.id: p.pillar.name for p in snapshot.pillars}
    for f in comparison.functions:
        then_target = f.then.target if f.then is not None else None
        w.append(
            [
                w.text(f.function.code),
                w.text(f.function.name),
                w.text(pillar_names.get(f.function.pillar_id, f.function.pillar_id)),
                w.text(state_text(f.then)),
                w.text(state_text(f.now)),
                w.text(figures.movement_word(f)),
                w.number(f.steps, "centre steps") if f.steps is not None else None,
                w.text(then_target.label if then_target is not None else ""),
                w.text(f.now.target.label if f.now.target is not None else ""),
                w.text(change_text(f.changes), "wrap"),
            ]
        )
    _add_table(sheet, "Progress", columns, header, max(w.row, header + 1))
    letter = get_column_letter(6)
    cells = f"{letter}{header + 1}:{letter}{max(w.row, header + 1)}"
    for label, colour in _MOVEMENT_FILLS.items():
        sheet.conditional_formatting.add(
            cells,
            CellIsRule(
                operator="equal", formula=[f'"{label}"'], fill=PatternFill("solid", bgColor=colour, fgColor=colour)
            ),
        )
    w.blank()
    w.append([w.text("Each pillar, then and now", "heading")])
    w.append([w.text(h, "header" if i < 2 else "header centre") for i, h in enumerate(_PROGRESS_PILLAR_HEADERS)])
    codes = {p.pillar.id: p.pillar.code for p in snapshot.pillars}
    for pillar in comparison.pillars:
        w.append(_progress_rollup_cells(w, codes.get(pillar.key, ""), pillar.name, pillar, bold=False))
    w.append(_progress_rollup_cells(w, "", "Overall", comparison.overall, bold=True))
    w.append(
        [
            w.text(
                "Then and now are the mean stage of the assessed functions on a 0–3 scale "
                "(0 Traditional, 1 Initial, 2 Advanced, 3 Optimal), over the functions in scope now.",
                "note",
            )
        ]
    )
    w.blank()
    w.append([w.text("The baseline", "heading")])
    w.append([w.text("Baseline", "label"), w.text(name)])
    w.append([w.text("Frozen at", "label"), w.date(baseline.created_at if baseline else "", "datetime")])
    w.append([w.text("Frozen by", "label"), w.text(baseline.created_by if baseline is not None else "")])
    w.append([w.text("Compared at", "label"), w.date(snapshot.meta.generated_at, "datetime")])


def _progress_rollup_cells(w: _Writer, code: str, name: str, r: RollupProgress, *, bold: bool) -> list[Cell | None]:
    prefix = "bold " if bold else ""
    text_style = "bold" if bold else "plain"

    def score(side: Rollup) -> Cell | None:
        shown = figures.mean_number(side.score)
        if shown is None:
            return w.text("not assessed", prefix + "centre")
        return w.number(shown, prefix + "centre score")

    delta = figures.rollup_change(r).delta_number
    return [
        w.text(code, text_style),
        w.text(name, text_style),
        w.number(r.now.functions, prefix + "centre int"),
        score(r.then),
        score(r.now),
        w.number(delta, prefix + "centre delta") if delta is not None else w.text("–", prefix + "centre"),
        w.number(r.then.assessed, prefix + "centre int"),
        w.number(r.now.assessed, prefix + "centre int"),
    ]


# -- workshops ---------------------------------------------------------------------------------

WORKSHOP_COLUMNS = (
    _Column("Date", 11),
    _Column("Title", 34),
    _Column("Status", 10),
    _Column("Pillars", 24),
    _Column("Functions", 36),
    _Column("Attendee count", 10),
    _Column("Attendees (name, role, organization)", 48),
    _Column("Notes", 60),
)


def _write_workshops(w: _Writer, snapshot: Snapshot, counter: _Progress) -> None:
    lines = snapshot.workshops
    held = sum(1 for line in lines if line.held)
    header = _table_sheet(
        w,
        snapshot,
        "Workshops",
        WORKSHOP_COLUMNS,
        f"{len(lines)} workshops, oldest first ({held} held); planned ones are marked as such.",
    )
    for line in lines:
        w.append(_workshop_cells(w, line))
        counter.step()
    _finish_table(w, "Workshops", WORKSHOP_COLUMNS, header, "No workshops were recorded.")
    if w.row > header:
        cells = f"C{header + 1}:C{w.row}"
        for label, colour in (("Planned", "DDEBF7"), ("Running", "FFEB9C")):
            w.sheet.conditional_formatting.add(
                cells,
                CellIsRule(
                    operator="equal", formula=[f'"{label}"'], fill=PatternFill("solid", bgColor=colour, fgColor=colour)
                ),
            )


def _workshop_cells(w: _Writer, line: WorkshopLine) -> list[Cell | None]:
    return [
        w.date(line.date),
        w.text(line.title, "wrap"),
        w.text(line.status_text),
        w.text("\n".join(line.pillars), "wrap"),
        w.text("\n".join(line.functions), "wrap"),
        w.number(len(line.attendees), "centre int"),
        w.text("\n".join(attendee_text(a) for a in line.attendees), "wrap"),
        w.text(line.notes, "wrap"),
    ]


# -- pillar sheets -----------------------------------------------------------------------------


def _pillar_columns() -> list[_Column]:
    columns = [
        _Column(layout.FUNCTION_ID, 12, hidden=True),
        _Column("Code", 7),
        _Column("Function", 22),
        _Column(STAGE_HEADER.format(stage=Stage.TRADITIONAL.label), 34),
    ]
    for stage in RATED_STAGES:
        columns += [
            _Column(STAGE_HEADER.format(stage=stage.label), 34),
            _Column(layout.rating_header(stage), 13),
            _Column(layout.comment_header(stage), 30),
        ]
    columns += [
        _Column("Current", 18),
        _Column("Override reason", 24),
        _Column("Target", 11),
        _Column("Gap", 6),
        _Column("Notes", 36),
    ]
    return columns


PILLAR_COLUMNS: tuple[_Column, ...] = tuple(_pillar_columns())
_PILLAR_HEADER_ROW = 3


def _current_text(f: FunctionSheet) -> str:
    r = f.result
    if not r.assessed:
        return "Not assessed"
    if not r.applicable:
        return Rating.NOT_APPLICABLE.label
    return f"{r.current.label} (override)" if r.overridden else r.current.label


def _write_pillar(w: _Writer, snapshot: Snapshot, pillar: PillarSheet, counter: _Progress) -> None:
    sheet = w.sheet
    columns = PILLAR_COLUMNS
    header_row = _PILLAR_HEADER_ROW
    w.columns(columns)
    sheet.freeze_panes = f"D{header_row + 1}"
    _print_setup(sheet, snapshot, title_rows=f"{header_row}:{header_row}")
    # 17 columns of stage texts on one A4 or Letter page would print at a third of their size: two pages
    # wide, each repeating the function's code and name, keep them readable.
    sheet.page_setup.fitToWidth = 2
    sheet.print_title_cols = "B:C"
    r = figures.rollup_figures(pillar.rollup)
    w.append([None, w.text(f"{pillar.pillar.code} {pillar.pillar.name}", "title")])
    target = f"; target {r.target_text()}" if r.target is not None else ""
    w.append(
        [
            None,
            w.text(
                f"Current {r.score_level_text}{target}; {r.assessed} of {r.functions} functions assessed, "
                f"{r.below_target} below target",
                "note",
            ),
        ]
    )
    w.append([w.text(c.header, "header") for c in columns])
    rating_headers = {layout.rating_header(stage) for stage in RATED_STAGES}
    rating_columns = [index for index, c in enumerate(columns, start=1) if c.header in rating_headers]
    for function in pillar.functions:
        result, assessment = function.result, function.assessment
        cells: list[Cell | None] = [
            w.text(function.function.id),
            w.text(function.function.code),
            w.text(function.function.name, "wrap"),
        ]
        if result.assessed or any(line.comment for line in function.stages):
            cells.append(w.text(function.stages[0].text, "small"))
            for line in function.stages[1:]:
                cells += [w.text(line.text, "small"), w.text(line.rating.label), w.text(line.comment, "wrap")]
        else:  # never assessed: one short row, not a row of stage texts over empty ratings
            cells += [w.text("Not assessed; the stage texts are in the model.", "note")]
            cells += [None] * (3 * len(function.stages[1:]))
        cells += [
            w.text(_current_text(function)),
            w.text(result.override_reason, "wrap"),
            w.text(result.target.label if result.target is not None else ""),
            w.number(result.gap, "centre int") if result.gap is not None else None,
            w.text(assessment.notes, "wrap"),
        ]
        w.append(cells)
        counter.step()
    last = max(w.row, header_row + 1)
    sheet.auto_filter.ref = f"A{header_row}:{get_column_letter(len(columns))}{last}"
    ratings = DataValidation(
        type="list",
        formula1='"' + ",".join(RATING_LABELS) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Rating",
        error="Choose a rating from the list: " + ", ".join(RATING_LABELS) + ".",
    )
    for column in rating_columns:
        letter = get_column_letter(column)
        ratings.add(f"{letter}{header_row + 1}:{letter}{last}")
        for label, colour in _RATING_FILLS.items():
            sheet.conditional_formatting.add(
                f"{letter}{header_row + 1}:{letter}{last}",
                CellIsRule(
                    operator="equal", formula=[f'"{label}"'], fill=PatternFill("solid", bgColor=colour, fgColor=colour)
                ),
            )
    sheet.data_validations.append(ratings)


# -- findings, roadmap, evidence -------------------------------------------------------------

FINDING_COLUMNS = (
    _Column("No.", 7),
    _Column("Severity", 10),
    _Column("Code", 7),
    _Column("Function", 22),
    _Column("Stage", 11),
    _Column("Title", 30),
    _Column("Observation", 45),
    _Column("Risk", 36),
    _Column("Recommendation", 45),
    _Column("Owner", 16),
    _Column("Due date", 11),
    _Column("Status", 13),
    _Column("Likelihood (1–5)", 11),
    _Column("Impact (1–5)", 11),
    _Column("Risk score", 10),
    _Column("Risk rating", 10),
    _Column("Created", 11),
    _Column("Created by", 16),
)


def _table_sheet(w: _Writer, snapshot: Snapshot, title: str, columns: Sequence[_Column], note: str) -> int:
    """Columns, frozen header, print set-up, a title and a note above the header row; the header row's number."""
    w.columns(columns)
    w.sheet.freeze_panes = "A4"
    _print_setup(w.sheet, snapshot, title_rows="3:3")
    w.append([w.text(title, "title")])
    w.append([w.text(note, "note")])
    return w.append([w.text(c.header, "header") for c in columns])


def _finish_table(w: _Writer, name: str, columns: Sequence[_Column], header: int, empty: str) -> None:
    if w.row == header:
        w.append([w.text(empty, "note")])
        return
    _add_table(w.sheet, name, columns, header, w.row)


#: The last column of the Findings sheet when the workbook was asked for reviewers' comments (internal notes).
REVIEW_COMMENTS_COLUMN = _Column("Review comments", 50)


def _write_findings(w: _Writer, snapshot: Snapshot, counter: _Progress) -> None:
    reviewed = bool(snapshot.review_comments)
    columns = (*FINDING_COLUMNS, REVIEW_COMMENTS_COLUMN) if reviewed else FINDING_COLUMNS
    header = _table_sheet(
        w, snapshot, "Findings", columns, f"{_count(len(snapshot.findings), 'finding')}, most severe first"
    )
    numbers = snapshot.finding_numbers()
    for finding in snapshot.findings:
        cells = _finding_cells(w, finding, numbers.get(finding.id, ""))
        if reviewed:
            notes = snapshot.review_comments.get(finding.id, ())
            cells.append(w.text("\n".join(f"{c.by}, {c.date} UTC: {c.text}" for c in notes), "wrap"))
        w.append(cells)
        counter.step()
    _finish_table(w, "Findings", columns, header, "No findings were recorded.")


def _finding_cells(w: _Writer, f: FindingLine, number: str) -> list[Cell | None]:
    return [
        w.text(number),
        w.text(_SEVERITY_LABEL.get(f.severity, f.severity)),
        w.text(f.function_code),
        w.text(f.function_name, "wrap"),
        w.text(f.stage.label if f.stage is not None else ""),
        w.text(f.title, "wrap"),
        w.text(f.observation, "wrap"),
        w.text(f.risk, "wrap"),
        w.text(f.recommendation, "wrap"),
        w.text(f.owner, "wrap"),
        w.date(f.due_date),
        w.text(FINDING_STATUS_LABELS.get(f.status, _word(f.status))),
        w.number(f.likelihood, "centre int") if f.likelihood is not None else None,
        w.number(f.impact, "centre int") if f.impact is not None else None,
        w.number(f.risk_score, "centre int") if f.risk_score is not None else None,
        w.text(f.risk_rating),
        w.date(f.created_at),
        w.text(f.created_by),
    ]


#: The consultant's actions, then (unless the deliverable is vendor-neutral) the guidance's suggestions
#: below them on the same columns.
ACTION_COLUMNS = (
    _Column("No.", 10),
    _Column("Phase", 19),
    _Column("Code", 7),
    _Column("Function", 22),
    _Column("Stage", 11),
    _Column("Action", 56),
    _Column("Effort", 9),
    _Column("Cost", 13),
    _Column("Owner", 16),
    _Column("Depends on", 10),
    _Column("Priority", 10),
    _Column("Gap", 6),
)
#: The vendor guidance's suggestions for each function below its target, on their own sheet after the
#: Roadmap (their own header row, repeated on every printed page); no such sheet when vendor-neutral.
SUGGESTION_COLUMNS = (
    _Column("Code", 7),
    _Column("Function", 22),
    _Column("Current", 11),
    _Column("Target", 11),
    _Column("Priority", 10),
    _Column("Owner", 16),
    _Column("Assessment status", 14),
    _Column("Stage to reach", 11),
    _Column("Product or capability", 20),
    _Column("Suggested action", 50),
    _Column("References", 56),
)


def _write_roadmap(w: _Writer, snapshot: Snapshot, counter: _Progress) -> None:
    actions = snapshot.actions
    header = _table_sheet(
        w,
        snapshot,
        "Roadmap",
        ACTION_COLUMNS,
        f"{_count(len(actions), 'action')} in roadmap order: by phase, then the function's priority, then the larger gap.",
    )
    numbers = action_numbers(actions)
    for action in actions:
        w.append(
            [
                w.text(numbers[action.id]),
                w.text(action.phase_label, "wrap"),
                w.text(action.function_code),
                w.text(action.function_name, "wrap"),
                w.text(action.stage.label if action.stage is not None else ""),
                w.text(action.text, "wrap"),
                w.text(action.effort_label),
                w.text(action.cost, "wrap"),
                w.text(action.owner, "wrap"),
                w.text(numbers.get(action.after, "") if action.after else ""),
                w.text(_word(action.priority)),
                w.number(action.gap, "centre int") if action.gap is not None else None,
            ]
        )
        counter.step()
    _finish_table(w, "Actions", ACTION_COLUMNS, header, "No roadmap actions were recorded.")
    if not snapshot.meta.vendor_neutral:
        w.blank()
        w.append(
            [w.text(f"Suggestions from vendor guidance, to weigh beside these actions: see {SUGGESTIONS}.", "note")]
        )


def _write_suggestions(w: _Writer, snapshot: Snapshot, counter: _Progress) -> None:
    header = _table_sheet(
        w,
        snapshot,
        SUGGESTIONS,
        SUGGESTION_COLUMNS,
        "For each function below its target, the stages to climb and what the vendor guidance suggests for each: "
        "suggestions to weigh, not the consultant's roadmap.",
    )
    functions = {f.function.id: f for f in snapshot.functions()}
    for item in snapshot.roadmap:
        sheet_ = functions.get(item.function.id)
        assessment = sheet_.assessment if sheet_ is not None else None
        for step in item.steps:
            recommendations = step.recommendations or (None,)
            for rec in recommendations:
                w.append(
                    [
                        w.text(item.function.code),
                        w.text(item.function.name, "wrap"),
                        w.text(item.current.label),
                        w.text(item.target.label),
                        w.text(_word(assessment.priority) if assessment else ""),
                        w.text(assessment.owner if assessment else "", "wrap"),
                        w.text(words.assessment_status(assessment) if assessment else "", "wrap"),
                        w.text(step.stage.label),
                        w.text(rec.product if rec else "", "wrap"),
                        w.text(rec.action if rec else "The vendor guidance has no suggestion for this stage.", "wrap"),
                        w.text("\n".join(f"{ref.title} – {ref.url}" for ref in rec.references) if rec else "", "small"),
                    ]
                )
                counter.step()
    _finish_table(w, "Suggestions", SUGGESTION_COLUMNS, header, "No function is below its target.")


def _count(number: int, noun: str) -> str:
    """``1 finding``, ``2 findings``, ``1,024 evidence files``."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _word(value: str) -> str:
    return value.replace("-", " ").capitalize()


# -- client answers --------------------------------------------------------------------------------

ANSWER_COLUMNS = (
    _Column("Code", 7),
    _Column("Function", 24),
    _Column("Stage", 11),
    _Column("Respondent", 20),
    _Column("Role", 18),
    _Column("Answer", 14),
    _Column("Comment", 48),
    _Column("Assessor's rating", 14),
    _Column("Differs from rating", 12),
)
#: What the "Differs from rating" column says where a respondent's answer differs from the assessor's rating.
DIFFERS = "Differs"


def _write_answers(w: _Writer, snapshot: Snapshot, counter: _Progress) -> None:
    lines = [(f, a) for f in snapshot.functions() for a in f.answers]
    differ = sum(1 for _, a in lines if a.agrees is False)
    header = _table_sheet(
        w,
        snapshot,
        "Client answers",
        ANSWER_COLUMNS,
        f"{_count(len(lines), 'questionnaire answer')} by function and stage, beside the assessor's rating; "
        f"{differ} {'differs' if differ == 1 else 'differ'} from it.",
    )
    for function, answer in lines:
        ratings = {line.stage: line.rating for line in function.stages}
        rating = ratings.get(answer.stage)
        w.append(
            [
                w.text(function.function.code),
                w.text(function.function.name, "wrap"),
                w.text(answer.stage.label),
                w.text(answer.respondent, "wrap"),
                w.text(answer.role, "wrap"),
                w.text(answer.answer),
                w.text(answer.comment, "wrap"),
                w.text(rating.label if rating is not None else ""),
                w.text(DIFFERS if answer.agrees is False else "", "bold"),
            ]
        )
        counter.step()
    _finish_table(w, "ClientAnswers", ANSWER_COLUMNS, header, "No questionnaire answers were imported.")
    if w.row > header:
        cells = f"I{header + 1}:I{w.row}"
        w.sheet.conditional_formatting.add(
            cells,
            CellIsRule(operator="equal", formula=[f'"{DIFFERS}"'], fill=PatternFill("solid", bgColor="FFC7CE")),
        )


EVIDENCE_COLUMNS = (
    _Column("No.", 10),
    _Column("Title", 34),
    _Column("Original name", 26),
    _Column("Kind", 15),
    _Column("Size (bytes)", 13),
    _Column("SHA-256", 60),
    _Column("Captured", 11),
    _Column("Captured by", 16),
    _Column("Links", 40),
    _Column("Description", 34),
    _Column("Evidence ID", 34),
)


def _write_evidence(w: _Writer, snapshot: Snapshot, counter: _Progress) -> None:
    size = sum(e.size for e in snapshot.evidence)
    header = _table_sheet(
        w,
        snapshot,
        "Evidence",
        EVIDENCE_COLUMNS,
        f"{_count(len(snapshot.evidence), 'evidence file')}, {size:,} bytes; each file's SHA-256 fingerprint lets "
        "anyone check that the copy they hold is the one assessed.",
    )
    numbers = snapshot.evidence_numbers()
    for evidence in snapshot.evidence:
        w.append(_evidence_cells(w, evidence, numbers.get(evidence.id, "")))
        counter.step()
    _finish_table(w, "Evidence", EVIDENCE_COLUMNS, header, "No evidence was attached.")


def _evidence_cells(w: _Writer, e: EvidenceLine, number: str) -> list[Cell | None]:
    return [
        w.text(number),
        w.text(e.title, "wrap"),
        w.text(e.original_name, "wrap"),
        w.text(_word(e.kind)),
        w.number(e.size),
        w.text(e.sha256, "mono"),
        w.date(e.captured_at),
        w.text(e.captured_by),
        w.text("\n".join(e.links), "wrap"),
        w.text(e.description, "wrap"),
        w.text(e.id, "mono"),
    ]


# -- Overview: the consultant's words ------------------------------------------------------------

_OVERVIEW_COLUMNS = (_Column("", 9), _Column("", 110))
#: Lines of wrapped text one row holds at most before a paragraph continues on the next row
#: (Excel caps a row at 409 points).
_LINES_PER_ROW = 24


def has_overview(snapshot: Snapshot) -> bool:
    """Whether the workbook opens on an Overview: the consultant wrote a section or a roadmap action."""
    return bool(snapshot.sections.filled() or snapshot.actions)


def _write_overview(w: _Writer, snapshot: Snapshot) -> None:
    meta = snapshot.meta
    sheet = w.sheet
    w.columns(_OVERVIEW_COLUMNS)
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, snapshot)
    sheet.page_setup.orientation = "portrait"  # prose reads down a page
    w.append([w.text(meta.title or "Zero Trust maturity assessment", "title")])
    if meta.marking:
        w.append([w.text(meta.marking, "marking")])
    byline = ", ".join(p for p in (meta.prepared_by, meta.prepared_by_organisation) if p)
    w.append([w.text(meta.client, "bold")])
    if byline:
        w.append([w.text(f"Prepared by {byline}", "note")])
    for _key, title, text in snapshot.sections.filled():
        w.blank()
        w.append([w.text(title, "heading")])
        for number, (kind, items) in enumerate(blocks(text)):
            if number:  # a little space between paragraphs and lists, as on a page
                w.spacer(6)
            if kind == "ul":
                for item in items:
                    for piece, chunk in enumerate(_chunks(item)):
                        w.append([w.text("•" if piece == 0 else "", "bullet"), w.text(chunk, "prose")])
            else:
                for chunk in _chunks(items[0]):
                    w.append([None, w.text(chunk, "prose")])
    if snapshot.actions:
        numbers = action_numbers(snapshot.actions)
        w.blank()
        w.append([w.text("Top priorities", "heading")])
        shown = top_priorities(snapshot.actions)
        for action in shown:
            owner = f" Owner: {action.owner}." if action.owner else ""
            text = f"{action.phase_label} · {action.function_code} {action.function_name}: {action.text}{owner}"
            for number, chunk in enumerate(_chunks(text)):
                w.append([w.text(numbers[action.id] if number == 0 else "", "bold"), w.text(chunk, "prose")])
        more = len(snapshot.actions) - len(shown)
        rest = f"; {more} more actions follow there" if more > 0 else ""
        w.append([None, w.text(f"The whole roadmap is on the Roadmap sheet{rest}.", "note")])


def _chunks(text: str) -> list[str]:
    """``text`` in pieces that each fit one row of the Overview's wide column, split between sentences."""
    per_line = int(_OVERVIEW_COLUMNS[1].width)
    limit = per_line * _LINES_PER_ROW
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        while len(sentence) > limit:  # one endless sentence: cut between words
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        pieces.append(current)
    return pieces


# -- document control ------------------------------------------------------------------------------

_CONTROL_COLUMNS = (_Column("", 24), _Column("", 14), _Column("", 30), _Column("", 60))


def has_document_control(snapshot: Snapshot) -> bool:
    meta = snapshot.meta
    return not snapshot.control.empty or bool(meta.prepared_by or meta.prepared_by_organisation)


def _write_control(w: _Writer, snapshot: Snapshot) -> None:
    control, meta = snapshot.control, snapshot.meta
    sheet = w.sheet
    w.columns(_CONTROL_COLUMNS)
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, snapshot)
    w.append([w.text(DOCUMENT_CONTROL, "title")])
    w.blank()

    def pair(label: str, value: str, when: str | None = None) -> None:
        if value or when:
            w.append([w.text(label, "label"), w.date(when) if when else None, w.text(value)])

    w.append([w.text("Document", "label"), None, w.text(meta.title or "Zero Trust maturity assessment")])
    w.append([w.text("Client", "label"), None, w.text(meta.client)])
    pair("Consultancy", control.consultancy)
    pair("Report version", control.report_version)
    pair("Prepared by", ", ".join(p for p in (meta.prepared_by, meta.prepared_by_organisation) if p))
    pair("Reviewed by", control.reviewer, control.reviewed_on)
    pair("Approved by", control.approver, control.approved_on)
    if meta.marking:
        w.append([w.text("Marking", "label"), None, w.text(meta.marking, "marking")])
    if control.history:
        w.blank()
        w.append([w.text("Version history", "heading")])
        w.append([w.text(h, "header") for h in ("Version", "Date", "Author", "Change")])
        for line in control.history:
            w.append(
                [w.text(line.version), w.date(line.date), w.text(line.author, "wrap"), w.text(line.change, "wrap")]
            )
    if control.distribution:
        w.blank()
        w.append([w.text("Distribution", "heading")])
        w.append([w.text(h, "header") for h in ("Name", " ", "Organization", "Role")])
        for recipient in control.distribution:
            w.append(
                [w.text(recipient.name), None, w.text(recipient.organisation, "wrap"), w.text(recipient.role, "wrap")]
            )


# -- About and the meta sheet ---------------------------------------------------------------

_METHOD = (
    "The assessor rates Initial, Advanced and Optimal for each function: met, partially met, not met, "
    "not applicable, or not assessed, each with a comment. Traditional is the floor and is not rated.",
    "Current stage: the highest stage reached with every rated stage below it met; not applicable stages "
    "are skipped. The assessor may override it, always with a reason, and the override is shown as such.",
    "Gap = target − current, in stages.",
    "Roll-ups (pillar and overall) are worked out from the functions: the mean of the assessed functions' current "
    "stages on a 0–3 scale (Traditional 0, Initial 1, Advanced 2, Optimal 3), with the stage it reaches, the "
    "lowest stage and the number of functions per stage. Each function weighs the same; functions not yet "
    "assessed are counted, not scored.",
)


def _write_about(w: _Writer, snapshot: Snapshot, pillar_titles: Iterable[str]) -> None:
    sheet = w.sheet
    w.columns((_Column("", 26), _Column("", 100)))
    sheet.sheet_view.showGridLines = False
    _print_setup(sheet, snapshot)
    catalog, meta = snapshot.catalog, snapshot.meta

    def pair(label: str, value: str) -> None:
        w.append([w.text(label, "label"), w.text(value, "wrap")])

    w.append([w.text("About this workbook", "title")])
    w.blank()
    pair("Engagement", f"{meta.client}" + (f" — {meta.title}" if meta.title else ""))
    pair("Engagement ID", meta.engagement_id)
    w.append([w.text("Generated", "label"), w.date(meta.generated_at, "datetime")])
    pair("Generated with", meta.generated_with)
    if meta.marking:
        pair("Marking", meta.marking)
    pair("Sheets", ", ".join(sheet_titles(snapshot, pillar_titles)))
    w.blank()
    w.append([w.text("Maturity model", "heading")])
    pair("Title", catalog.title)
    pair("Version", catalog.version)
    pair("Publisher", catalog.publisher)
    pair("Published", catalog.published)
    pair("Model identifier", f"{catalog.id}@{catalog.version}")
    pair(
        "Stage texts",
        "Quoted from the model"
        + (" in its 'Enterprise' wording" if meta.wording == "enterprise" else "")
        + " (a US-government work).",
    )
    for pack in () if meta.vendor_neutral else snapshot.packs:
        w.blank()
        w.append([w.text("Guidance", "heading")])
        pair("Title", pack.title)
        pair("Version", f"{pack.id} {pack.version}")
        pair("Publisher", pack.publisher)
        pair("License", pack.licence)
        for number, paragraph in enumerate(_paragraphs(pack.attribution)):
            pair("Attribution" if number == 0 else "", paragraph)
    w.blank()
    w.append([w.text("How maturity is derived", "heading")])
    for number, rule in enumerate(_METHOD, start=1):
        pair(f"Rule {number}", rule)


def _paragraphs(markdown: str) -> list[str]:
    """A short Markdown text (an attribution file) as plain paragraphs: headings dropped, lines unwrapped."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines or (len(lines) == 1 and lines[0].startswith("#")):
            continue
        if all(line.startswith(("- ", "* ")) for line in lines):
            paragraphs.append("\n".join("• " + line[2:] for line in lines))
        else:
            paragraphs.append(" ".join(lines))
    return paragraphs


def _write_meta(w: _Writer, snapshot: Snapshot) -> None:
    sheet = w.sheet
    sheet.sheet_state = "veryHidden"
    sheet.protection.sheet = True
    catalog = snapshot.catalog
    for key, value in (
        ("format", layout.FORMAT),
        ("version", layout.LAYOUT_VERSION),
        ("kind", layout.KIND_DELIVERABLE),
        ("engagement", snapshot.meta.engagement_id),
        ("catalog", f"{catalog.id}@{catalog.version}"),
        ("respondent", ""),
    ):
        w.append([w.text(key), w.text(value)])


def sheet_titles(snapshot: Snapshot, pillar_titles: Iterable[str] | None = None) -> list[str]:
    """The visible sheets' titles, in order (the pillar sheets as they will be named)."""
    if pillar_titles is None:
        taken = {s.lower() for s in (*_FIXED, layout.META_SHEET)}
        pillar_titles = [_sheet_title(p.pillar.code, p.pillar.name, taken) for p in snapshot.pillars]
    overview = [OVERVIEW] if has_overview(snapshot) else []
    progress = [PROGRESS] if snapshot.progress is not None else []
    workshops = [WORKSHOPS] if snapshot.workshops else []
    answers = [ANSWERS] if has_answers(snapshot) else []
    suggestions = [] if snapshot.meta.vendor_neutral else [SUGGESTIONS]
    control = [DOCUMENT_CONTROL] if has_document_control(snapshot) else []
    return [
        *overview,
        SUMMARY,
        *progress,
        *workshops,
        *pillar_titles,
        FINDINGS,
        ROADMAP,
        *suggestions,
        *answers,
        EVIDENCE,
        *control,
        ABOUT,
    ]


def has_answers(snapshot: Snapshot) -> bool:
    return any(f.answers for f in snapshot.functions())
