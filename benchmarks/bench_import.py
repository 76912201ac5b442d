"""Importing questionnaires: five respondents, every function answered; and refusing hostile files.

Value: ``read_responses`` + ``apply_responses`` (one committed transaction) for
five questionnaires, each answering all 120 rated stages of the 40 functions
with a comment, into an engagement that has none of their answers yet (the
answers are removed again, untimed, between runs). Floor: openpyxl's read-only
load of the same five files reading every cell of every sheet, the least any
reader of these workbooks does. Runs alternate with floor runs; medians of 5.

Then each hostile file of ``tests/support/hostile_workbooks.py`` is given to
``read_responses``: the time until it is refused (absolute target 2 s, SECURITY
items 6–9) and the peak of Python allocations while refusing it (tracemalloc,
target 300 MiB).
"""

from __future__ import annotations

import random
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import openpyxl

from benchmarks.common import Result, median, ms, peak_rss_mib
from tests.support import hostile_workbooks as hostile
from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.core.responses import Answer
from ztmm_desktop.core.stages import RATED_STAGES, Rating
from ztmm_desktop.excel import layout
from ztmm_desktop.services import questionnaire as qs
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement

RESPONDENTS = ("Avery Stone", "Blake Ito", "Casey Novak", "Devon Mensah", "Emery Laine")
RUNS = 5
TARGET = "≤ 4×"


def _filled(engagement: Engagement, folder: Path, seed: int) -> list[Path]:
    rng = random.Random(seed)
    blank = qs.export_questionnaire(engagement, folder / "blank.xlsx")
    answers = [a.label for a in Answer]
    files = []
    for number, name in enumerate(RESPONDENTS):
        book = openpyxl.load_workbook(blank)
        for sheet in book.worksheets:
            if sheet.title in ("Instructions", layout.META_SHEET):
                continue
            for row in range(5, sheet.max_row + 1):
                if sheet.cell(row, 2).value == "traditional":
                    continue
                sheet.cell(row, 7).value = rng.choice(answers)
                sheet.cell(row, 8).value = f"{name}: " + " ".join(
                    rng.choice(("MFA", "EDR", "SIEM", "policy", "most staff", "pilot", "2025")) for _ in range(12)
                )
        book["Instructions"]["B6"] = name
        book["Instructions"]["B7"] = "Respondent"
        path = folder / f"respondent-{number + 1}.xlsx"
        book.save(path)
        files.append(path)
    return files


def _import_all(engagement: Engagement, files: list[Path]) -> tuple[float, list[qs.PriorResponse]]:
    previous: list[qs.PriorResponse] = []
    start = time.perf_counter()
    for path in files:
        plan = qs.read_responses(engagement, path)
        if len(plan.differences) != 120:
            raise AssertionError(f"{path.name}: {len(plan.differences)} differences, expected 120")
        previous.extend(qs.apply_responses(engagement, plan, by="benchmark").previous)
    return time.perf_counter() - start, previous


def _floor(files: list[Path]) -> float:
    start = time.perf_counter()
    cells = 0
    for path in files:
        book = openpyxl.load_workbook(path, read_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
        book.close()
    if not cells:
        raise AssertionError("the floor read no cells")
    return time.perf_counter() - start


def _hostile_rows(engagement: Engagement, folder: Path, questionnaire: Path) -> list[Result]:
    builders: dict[str, Callable[[Path], Path]] = {
        "zip bomb (3 MB → 1 GiB sheet)": lambda t: hostile.zip_bomb(t),
        "member larger than declared": lambda t: hostile.lying_size(questionnaire, t),
        "XML entity bomb": lambda t: hostile.entity_bomb(questionnaire, t),
        "cell at XFD1048576": lambda t: hostile.far_cell(questionnaire, t),
        ".xls renamed": lambda t: hostile.xls_like(t),
        ".ods renamed": lambda t: hostile.ods_like(t),
        ".csv renamed": lambda t: hostile.csv_file(t),
        "PDF renamed": lambda t: hostile.pdf_file(t),
        "password-protected": lambda t: hostile.password_protected(questionnaire, t),
        "truncated": lambda t: hostile.truncated(questionnaire, t),
        "empty": lambda t: hostile.empty(t),
    }
    rows = []
    for number, (what, build) in enumerate(builders.items()):
        path = build(folder / f"hostile-{number}.xlsx")
        tracemalloc.start()
        start = time.perf_counter()
        try:
            qs.read_responses(engagement, path, respondent="benchmark")
        except BadInput:
            pass
        else:
            raise AssertionError(f"{what} was not refused")
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(Result(f"import: refuse {what}, time", ms(elapsed), None, "ms", "≤ 2000 ms"))
        rows.append(Result(f"import: refuse {what}, peak allocations", peak / 2**20, None, "MiB", "≤ 300 MiB"))
    return rows


def run(workdir: Path) -> list[Result]:
    with create_engagement(workdir / "questionnaires.ztmm", Properties(client="Benchmark Client")) as engagement:
        for function in engagement.functions_in_scope()[::3]:
            engagement.assess(function.id, ratings={s: Rating.MET for s in RATED_STAGES[:2]}, by="benchmark")
        files = _filled(engagement, workdir, seed=5)
        _floor(files)  # warm-up of both paths (imports, page cache)
        _, previous = _import_all(engagement, files)
        qs.restore_responses(engagement, previous)
        values, floors = [], []
        for _ in range(RUNS):
            floors.append(_floor(files))
            value, previous = _import_all(engagement, files)
            values.append(value)
            qs.restore_responses(engagement, previous)
        rows = [
            Result(
                "import: 5 questionnaires × 120 answers, median", ms(median(values)), ms(median(floors)), "ms", TARGET
            ),
            Result("import: questionnaire file size", files[0].stat().st_size / 1024, None, "KiB"),
        ]
        rows.extend(_hostile_rows(engagement, workdir, files[0]))
        rows.append(Result("import: peak RSS of the benchmark process", peak_rss_mib(), None, "MiB"))
    return rows
