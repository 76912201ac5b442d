"""The client deliverable workbook: summary with a chart, progress, workshops, a sheet per pillar, findings, roadmap,
evidence, about.

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
import re
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

from ..core import figures
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
from ..core.scoring import Rollup
from ..core.stages import RATED_STAGES, Rating, Stage
from . import layout
from .cells import clean, set_text

#: Sheet names of the fixed sheets; pillar sheets are named "<code> <pillar name>".
SUMMARY, FINDINGS, ROADMAP, EVIDENCE, ABOUT = "Summary", "Findings", "Roadmap", "Evidence", "About"
PROGRESS, WORKSHOPS = "Progress", "Workshops"
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
        self._sheet = sheet
        self._make("plain", alignment=top)
        self._make("centre", alignment=Alignment(vertical="top", horizontal="center"))
        self._make(
            "bold centre",
            alignment=Alignment(vertical="top", horizontal="center"),
            font=Font(name="Calibri", bold=True),
        )
        self._make("wrap", alignment=wrap)
        self._make("small", alignment=wrap, font=Font(name="Calibri", size=9))
        self._make("int", alignment=top, number_format="#,##0")
        centre = Alignment(vertical="top", horizontal="center")
        bold = Font(name="Calibri", bold=True)
        self._make("centre int", alignment=centre, number_format="0")
        self._make("centre score", alignment=centre, number_format="0.0")
        self._make("bold centre int", alignment=centre, font=bold, number_format="0")
        self._make("bold centre score", alignment=centre, font=bold, number_format="0.0")
        self._make("centre steps", alignment=centre, number_format="+0;-0;0")
        self._make("centre delta", alignment=centre, number_format="+0.0;-0.0;0.0")
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
            # A unit of column width is one "0" of 11-point Calibri; prose runs a little narrower, bold wider.
            per_unit = 11 / size * (1.05 if font.b else 1.2)
            self.wrapping[name] = (per_unit, round(size * 1.32 + 0.5, 1))


class _StyledCell(Cell):  # type: ignore[misc]
    """A cell sharing one of the workbook's styles, whose index is known when it is made.

    openpyxl looks a cell's style up by value each time it writes one; for tens
    of thousands of cells of a dozen styles, knowing the index saves that.
    """

    __slots__ = ("_style_index", "_wrap")

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
        if set_text(cell, value):
            self.cut += 1
        if shared.quotePrefix:  # set_text marked the text as text: that cell alone gets the quoted style
            shared.quotePrefix = 0
            cell._style, cell._style_index = self.quoted[style]
        return cell

    def number(self, value: float | int | None, style: str = "int") -> Cell:
        cell = _StyledCell(self.sheet, row=1, column=1, value=value)
        cell._style = self.arrays[style]
        cell._style_index = self.ids[style]
        cell._wrap = None
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
        tallest = 0.0
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


@dataclass(frozen=True)
class _Column:
    header: str
    width: float
    hidden: bool = False


def _print_setup(sheet: Any, snapshot: Snapshot, *, title_rows: str | None = None, wide: bool = False) -> None:
    """Landscape, fit to one page wide, header rows repeated, marking and page x of y on every page.

    ``wide`` sheets (a pillar's 17 columns of stage texts) print on A3, where they stay readable.
    """
    sheet.page_setup.orientation = "landscape"
    if wide:
        sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A3
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
    sheet.oddHeader.left.text = _header_text(snapshot.meta.client, 60)
    sheet.oddFooter.left.text = "&A"
    sheet.oddFooter.right.text = "Page &P of &N"


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
    snapshot: Snapshot, out: Path, *, progress: Progress = no_progress, cancel: CancelToken | None = None
) -> None:
    """Write the deliverable workbook of ``snapshot`` to ``out`` (the caller makes it atomic)."""
    roadmap_rows = sum(max(1, len(s.recommendations)) for item in snapshot.roadmap for s in item.steps)
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
        book.properties.creator = snapshot.meta.generated_with
        taken = {
            s.lower() for s in (SUMMARY, PROGRESS, WORKSHOPS, FINDINGS, ROADMAP, EVIDENCE, ABOUT, layout.META_SHEET)
        }
        summary = book.create_sheet(SUMMARY)
        styles = _Styles(summary)
        pillar_titles = [_sheet_title(p.pillar.code, p.pillar.name, taken) for p in snapshot.pillars]
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
        counter.sheet(EVIDENCE)
        _write_evidence(_Writer(book.create_sheet(EVIDENCE), styles), snapshot, counter)
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
    w.append([w.text(meta.title or "Zero Trust maturity assessment", "title")])
    if meta.marking:
        w.append([w.text(meta.marking, "marking")])
    w.blank()
    dates = " to ".join(d for d in (meta.start_date, meta.end_date) if d) or "–"
    for label, value in (
        ("Client", meta.client),
        ("Assessors", ", ".join(meta.assessors) or "–"),
        ("Dates", dates),
        ("Model", f"{snapshot.catalog.title} {snapshot.catalog.version}"),
        ("Generated", f"{meta.generated_at} with {meta.generated_with}"),
    ):
        w.append([w.text(label, "label"), w.text(value)])
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
    """The row of the Progress sheet's function table header.

    Above it: the title, the summary, a blank row, four rows on the baseline, a blank row (8 rows); the
    pillar header, a row a pillar, the overall row and a note; a blank row and the table's heading.
    """
    comparison = snapshot.progress
    pillars = len(comparison.pillars) if comparison is not None else 0
    return 8 + (1 + pillars + 2) + 2 + 1


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
    w.blank()  # 3
    for label, value in (  # 4-7
        ("Baseline", name),
        ("Frozen at", baseline.created_at if baseline is not None else ""),
        ("Frozen by", baseline.created_by if baseline is not None else ""),
        ("Compared at", snapshot.meta.generated_at),
    ):
        w.append([w.text(label, "label"), w.text(value)])
    w.blank()  # 8
    w.append([w.text(h, "header" if i < 2 else "header centre") for i, h in enumerate(_PROGRESS_PILLAR_HEADERS)])  # 9
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
    w.append([w.text("Every function in scope, then and now", "heading")])
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
    _Column("Attendees (name, role, organisation)", 48),
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
        w.text(line.date),
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
    _print_setup(sheet, snapshot, title_rows=f"{header_row}:{header_row}", wide=True)
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
            w.text(function.stages[0].text, "small"),
        ]
        for line in function.stages[1:]:
            cells += [w.text(line.text, "small"), w.text(line.rating.label), w.text(line.comment, "wrap")]
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
    _Column("Severity", 10),
    _Column("Code", 7),
    _Column("Function", 22),
    _Column("Stage", 11),
    _Column("Title", 30),
    _Column("Observation", 45),
    _Column("Risk", 36),
    _Column("Recommendation", 45),
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


def _write_findings(w: _Writer, snapshot: Snapshot, counter: _Progress) -> None:
    header = _table_sheet(
        w, snapshot, "Findings", FINDING_COLUMNS, f"{len(snapshot.findings)} findings, most severe first"
    )
    for finding in snapshot.findings:
        w.append(_finding_cells(w, finding))
        counter.step()
    _finish_table(w, "Findings", FINDING_COLUMNS, header, "No findings were recorded.")


def _finding_cells(w: _Writer, f: FindingLine) -> list[Cell | None]:
    return [
        w.text(_SEVERITY_LABEL.get(f.severity, f.severity)),
        w.text(f.function_code),
        w.text(f.function_name, "wrap"),
        w.text(f.stage.label if f.stage is not None else ""),
        w.text(f.title, "wrap"),
        w.text(f.observation, "wrap"),
        w.text(f.risk, "wrap"),
        w.text(f.recommendation, "wrap"),
        w.text(f.created_at[:10]),
        w.text(f.created_by),
    ]


ROADMAP_COLUMNS = (
    _Column("Code", 7),
    _Column("Function", 22),
    _Column("Current", 12),
    _Column("Target", 11),
    _Column("Priority", 10),
    _Column("Owner", 16),
    _Column("Status", 12),
    _Column("Stage to reach", 12),
    _Column("Product or capability", 24),
    _Column("Action", 48),
    _Column("References", 56),
)


def _write_roadmap(w: _Writer, snapshot: Snapshot, counter: _Progress) -> None:
    header = _table_sheet(
        w,
        snapshot,
        "Roadmap",
        ROADMAP_COLUMNS,
        "For each function below its target: the stages to climb and the guidance recommendations for each.",
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
                        w.text(_word(assessment.status) if assessment else ""),
                        w.text(step.stage.label),
                        w.text(rec.product if rec else "", "wrap"),
                        w.text(rec.action if rec else "No guidance recommendation for this stage.", "wrap"),
                        w.text("\n".join(f"{ref.title} – {ref.url}" for ref in rec.references) if rec else "", "small"),
                    ]
                )
                counter.step()
    _finish_table(w, "Roadmap", ROADMAP_COLUMNS, header, "No function is below its target.")


def _word(value: str) -> str:
    return value.replace("-", " ").capitalize()


EVIDENCE_COLUMNS = (
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
        f"{len(snapshot.evidence):,} evidence files, {size:,} bytes; each is kept in the engagement file "
        "under its SHA-256 ('ztmm verify' checks them all).",
    )
    for evidence in snapshot.evidence:
        w.append(_evidence_cells(w, evidence))
        counter.step()
    _finish_table(w, "Evidence", EVIDENCE_COLUMNS, header, "No evidence was attached.")


def _evidence_cells(w: _Writer, e: EvidenceLine) -> list[Cell | None]:
    return [
        w.text(e.title, "wrap"),
        w.text(e.original_name, "wrap"),
        w.text(_word(e.kind)),
        w.number(e.size),
        w.text(e.sha256, "mono"),
        w.text(e.captured_at[:10]),
        w.text(e.captured_by),
        w.text("\n".join(e.links), "wrap"),
        w.text(e.description, "wrap"),
        w.text(e.id, "mono"),
    ]


# -- About and the meta sheet ---------------------------------------------------------------

_METHOD = (
    "The assessor rates Initial, Advanced and Optimal for each function: met, partially met, not met, "
    "not applicable, or not assessed, each with a comment. Traditional is the floor and is not rated.",
    "Current stage: the highest stage reached with every rated stage below it met; not applicable stages "
    "are skipped. The assessor may override it, always with a reason, and the override is shown as such.",
    "Gap = target − current, in stages.",
    "Roll-ups (pillar and overall) are computed, never stored: the mean of the assessed functions' current "
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
    pair("Generated", f"{meta.generated_at} with {meta.generated_with}")
    if meta.marking:
        pair("Marking", meta.marking)
    pair("Sheets", ", ".join(sheet_titles(snapshot, pillar_titles)))
    w.blank()
    w.append([w.text("Maturity model", "heading")])
    pair("Title", catalog.title)
    pair("Version", catalog.version)
    pair("Publisher", catalog.publisher)
    pair("Published", catalog.published)
    pair("Catalog ID", f"{catalog.id}@{catalog.version}")
    pair(
        "Stage texts",
        "Quoted from the model"
        + (" in its 'Enterprise' wording" if meta.wording == "enterprise" else "")
        + " (a US-government work).",
    )
    for pack in snapshot.packs:
        w.blank()
        w.append([w.text("Guidance", "heading")])
        pair("Title", pack.title)
        pair("Version", f"{pack.id} {pack.version}")
        pair("Publisher", pack.publisher)
        pair("Licence", pack.licence)
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
        taken = {
            s.lower() for s in (SUMMARY, PROGRESS, WORKSHOPS, FINDINGS, ROADMAP, EVIDENCE, ABOUT, layout.META_SHEET)
        }
        pillar_titles = [_sheet_title(p.pillar.code, p.pillar.name, taken) for p in snapshot.pillars]
    progress = [PROGRESS] if snapshot.progress is not None else []
    workshops = [WORKSHOPS] if snapshot.workshops else []
    return [SUMMARY, *progress, *workshops, *pillar_titles, FINDINGS, ROADMAP, EVIDENCE, ABOUT]
