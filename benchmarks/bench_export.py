"""Export of the client workbook of the large engagement, against a bare dump of the same cells.

Value: ``export_workbook`` of the large engagement with its 5,000 evidence
records and 400 findings (opened read-only beforehand, untimed): building the
snapshot, every sheet with its styles, widths, row heights, tables, filters,
dropdowns, conditional formats and chart, the temp file, fsync and rename.

Floor: openpyxl in write-only mode writing the same cells (every value of every
sheet of the exported workbook, read back untimed) with no styling at all, then
saving; the least any openpyxl export of this content can cost. Runs alternate
with floor runs after a warm-up of each; medians of ``RUNS``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from benchmarks.common import Result, fsync_file, large_engagement, median, ms, peak_rss_mib
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.engagement import open_engagement
from ztmm_desktop.services.workbook import export_workbook

LARGE_EVIDENCE = True
RUNS = 5


def _cells(path: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Every sheet's title and rows of values, as the exported workbook holds them."""
    book = load_workbook(path, read_only=True)
    try:
        return [(sheet.title, list(sheet.iter_rows(values_only=True))) for sheet in book.worksheets]
    finally:
        book.close()


def _bare_dump(sheets: list[tuple[str, list[tuple[Any, ...]]]], out: Path) -> None:
    book = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(out)
    fsync_file(out)


def run(workdir: Path) -> list[Result]:
    document = large_engagement(workdir, evidence=True)
    out, floor_out = workdir / "deliverable.xlsx", workdir / "floor.xlsx"
    with open_engagement(document, readonly=True) as engagement:
        export_workbook(engagement, out)  # warm-up, and the cells the floor writes
        sheets = _cells(out)
        rows = {title: len(r) for title, r in sheets}
        if rows.get("Evidence", 0) < 5_000 or rows.get("Findings", 0) < 400:
            raise AssertionError(f"the workbook of the large engagement has too few rows: {rows}")
        _bare_dump(sheets, floor_out)
        cells = sum(1 for _, r in sheets for row in r for value in row if value is not None)

        exports: list[float] = []
        floors: list[float] = []
        snapshots: list[float] = []
        for _ in range(RUNS):
            out.unlink()
            started = time.perf_counter()
            export_workbook(engagement, out)
            exports.append(time.perf_counter() - started)
            floor_out.unlink()
            started = time.perf_counter()
            _bare_dump(sheets, floor_out)
            floors.append(time.perf_counter() - started)
            started = time.perf_counter()
            build_snapshot(engagement)
            snapshots.append(time.perf_counter() - started)
        size = out.stat().st_size
    return [
        Result(
            "export: workbook of large (5,000 evidence, 400 findings), median",
            ms(median(exports)),
            ms(median(floors)),
            "ms",
            "≤ 2×",
            note=f"{cells:,} cells in {len(sheets)} sheets",
        ),
        Result("export: of which building the snapshot, median", ms(median(snapshots)), None, "ms"),
        Result("export: workbook of large, file size", size / 2**20, None, "MiB"),
        Result("export: peak RSS of the process", peak_rss_mib(), None, "MiB"),
    ]
