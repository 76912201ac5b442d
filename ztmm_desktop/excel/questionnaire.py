"""The questionnaire workbook client staff fill in, and the app reads back.

An instructions sheet (who answers, how, what each answer means) with the
respondent's name and role cells, then one sheet per pillar in scope: one row
per function and stage with the standard's stage text, an Answer dropdown and a
Comment cell. Traditional rows give context only (no dropdown). The workbook is
marked as the app's own (``layout.py``): a very hidden meta sheet with the
engagement id, and hidden ``FUNCTION_ID`` / ``STAGE_ID`` columns on every
pillar sheet. Sheets and the workbook structure are protected without a
password — against accidents, not against people — and only the answer,
comment, name and role cells are unlocked.

Every string goes into a cell through ``cells.set_text``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.workbook.defined_name import DefinedName  # type: ignore[import-untyped]
from openpyxl.workbook.protection import WorkbookProtection  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]

from ..core.progress import CancelToken, Progress, no_progress
from ..core.responses import Answer
from ..core.stages import Stage
from . import layout
from .cells import set_text

INSTRUCTIONS = "Instructions"
#: Visible columns of a pillar sheet after the two hidden id columns: header, width.
COLUMNS: tuple[tuple[str, float], ...] = (
    (layout.FUNCTION_ID, 14),
    (layout.STAGE_ID, 10),
    ("Code", 7),
    ("Function", 26),
    ("Stage", 11),
    ("What this stage looks like", 64),
    (layout.ANSWER_HEADER, 16),
    (layout.COMMENT_HEADER, 48),
)
HEADER_ROW = 4
ANSWER_LIST = ",".join(a.label for a in Answer)

MEANINGS: tuple[tuple[Answer, str], ...] = (
    (Answer.MET, "This describes how the organization works today, for the systems and people it covers."),
    (Answer.PARTIAL, "True for some systems, teams or cases, or work under way but not finished."),
    (Answer.NOT_MET, "This does not describe how the organization works today."),
    (Answer.NOT_APPLICABLE, "This does not apply to the organization (please say why in the comment)."),
    (Answer.DONT_KNOW, "You cannot say; someone else may know. A fine answer: please do not guess."),
)

#: Every font is named, so no spreadsheet program falls back to its own (LibreOffice picks a serif one).
_FONT = "Calibri"
_INK = "1F2937"
_MUTED = "6B7280"
_HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
_ANSWER_FILL = PatternFill("solid", fgColor="FFF4C2")
_COMMENT_FILL = PatternFill("solid", fgColor="FFFBEA")
_CONTEXT_FILL = PatternFill("solid", fgColor="F1F3F5")
_THIN = Side(style="thin", color="C9CED6")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_FUNCTION_TOP = Border(left=_THIN, right=_THIN, top=Side(style="medium", color="1F3A5F"), bottom=_THIN)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_UNLOCKED = Protection(locked=False)


@dataclass(frozen=True)
class StageQuestion:
    stage: Stage
    text: str  # the standard's text in the engagement's wording
    answer: Answer | None = None  # prefilled from what this respondent said before
    comment: str = ""


@dataclass(frozen=True)
class FunctionQuestions:
    function_id: str
    code: str
    name: str
    stages: tuple[StageQuestion, ...]  # Traditional, Initial, Advanced, Optimal


@dataclass(frozen=True)
class PillarQuestions:
    pillar_id: str
    code: str
    name: str
    functions: tuple[FunctionQuestions, ...]


@dataclass(frozen=True)
class Questionnaire:
    """Everything the questionnaire shows; the service builds it from an engagement."""

    engagement_id: str
    catalog: str  # "<catalog id>@<version>"
    catalog_title: str
    client: str
    title: str
    marking: str
    respondent: str
    role: str
    generated_at: str
    generated_with: str
    pillars: tuple[PillarQuestions, ...]


def sheet_title(name: str, taken: Sequence[str]) -> str:
    """A valid, unique sheet title (31 characters, none of ``[]:*?/\\``)."""
    clean = "".join(ch for ch in name if ch not in "[]:*?/\\").strip("' ") or "Sheet"
    title = clean[:31]
    number = 2
    while title.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({number})"
        title = clean[: 31 - len(suffix)] + suffix
        number += 1
    return title


def _footer_text(text: str) -> str:
    return text.replace("&", "&&")[:200]


def _lines(text: str, width: float) -> int:
    """Rough number of wrapped lines ``text`` takes in a column ``width`` characters wide."""
    per_line = max(int(width * 1.15), 8)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in (text or " ").split("\n"))


def _page_setup(sheet: Any, marking: str, *, landscape: bool, title_rows: str | None = None) -> None:
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = False
    if title_rows:
        sheet.print_title_rows = title_rows
    if marking:
        sheet.oddHeader.center.text = _footer_text(marking)
        sheet.oddHeader.center.size = 8
    sheet.oddFooter.left.text = "&A"
    sheet.oddFooter.right.text = "Page &P of &N"
    sheet.oddFooter.left.size = sheet.oddFooter.right.size = 8


def _protect(sheet: Any) -> None:
    """Structure locked, unlocked cells editable, row heights adjustable; no password (prevents accidents only)."""
    protection = sheet.protection
    protection.sheet = True
    protection.formatRows = False  # allowed: a long comment needs a taller row
    protection.selectLockedCells = False
    protection.selectUnlockedCells = False


def _instructions(sheet: Any, q: Questionnaire) -> None:
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 92
    sheet.sheet_view.showGridLines = False
    row = 1
    if q.marking:
        cell = sheet.cell(row, 1)
        set_text(cell, q.marking)
        cell.font = Font(name=_FONT, bold=True, color="B42318", size=9)
    row = 2
    title = sheet.cell(row, 1)
    set_text(title, "Zero Trust maturity questionnaire")
    title.font = Font(name=_FONT, bold=True, size=18, color=_INK)
    sheet.row_dimensions[row].height = 28
    row = 3
    subtitle = sheet.cell(row, 1)
    set_text(subtitle, f"{q.client} — {q.title}" if q.title else q.client)
    subtitle.font = Font(name=_FONT, size=12, color=_INK)

    row = 5
    heading = sheet.cell(row, 1)
    set_text(heading, "About you")
    heading.font = Font(name=_FONT, bold=True, size=12, color=_INK)
    for offset, (label, value, defined) in enumerate(
        (("Your name", q.respondent, layout.RESPONDENT_NAME), ("Your role", q.role, layout.RESPONDENT_ROLE)),
        start=1,
    ):
        label_cell = sheet.cell(row + offset, 1)
        set_text(label_cell, label)
        label_cell.font = Font(name=_FONT, bold=True)
        label_cell.alignment = Alignment(vertical="center")
        value_cell = sheet.cell(row + offset, 2)
        set_text(value_cell, value)
        value_cell.fill = _ANSWER_FILL
        value_cell.border = _BOX
        value_cell.protection = _UNLOCKED
        value_cell.alignment = Alignment(vertical="center")
        sheet.row_dimensions[row + offset].height = 20
        sheet.parent.defined_names[defined] = DefinedName(
            defined, attr_text=f"'{sheet.title}'!${value_cell.column_letter}${value_cell.row}"
        )

    row = 9
    heading = sheet.cell(row, 1)
    set_text(heading, "How to answer")
    heading.font = Font(name=_FONT, bold=True, size=12, color=_INK)
    steps = (
        "Each pillar of the CISA Zero Trust Maturity Model v2.0 has a sheet of its own. For every function it "
        "lists the stages: Traditional (the starting point, shown for context only), then Initial, Advanced "
        "and Optimal.",
        "For each Initial, Advanced and Optimal stage, pick an answer in the yellow Answer column: "
        + ", ".join(a.label for a in Answer)
        + ". You may also type it.",
        "Use the Comment column to explain, give examples or name evidence (a policy, a report, a screenshot).",
        "Leave an answer blank to skip a stage. Answer only what you know about.",
        "Send the file back as an Excel workbook (.xlsx). Adding sheets, columns or notes, sorting or "
        "re-saving it in Excel or LibreOffice is fine; please leave the hidden columns as they are.",
        "The sheets are protected against accidental changes, without a password: only the yellow cells "
        "(answers, comments, your name and role) are meant to be edited.",
    )
    for number, step in enumerate(steps, start=1):
        r = row + number
        number_cell = sheet.cell(r, 1)
        set_text(number_cell, f"{number}.")
        number_cell.alignment = Alignment(horizontal="right", vertical="top")
        text_cell = sheet.cell(r, 2)
        set_text(text_cell, step)
        text_cell.alignment = _WRAP_TOP
        sheet.row_dimensions[r].height = 15 * _lines(step, 92) + 3

    row = row + len(steps) + 2
    heading = sheet.cell(row, 1)
    set_text(heading, "The answers")
    heading.font = Font(name=_FONT, bold=True, size=12, color=_INK)
    for offset, (answer, meaning) in enumerate(MEANINGS, start=1):
        label_cell = sheet.cell(row + offset, 1)
        set_text(label_cell, answer.label)
        label_cell.font = Font(name=_FONT, bold=True)
        label_cell.alignment = _WRAP_TOP
        meaning_cell = sheet.cell(row + offset, 2)
        set_text(meaning_cell, meaning)
        meaning_cell.alignment = _WRAP_TOP

    row = row + len(MEANINGS) + 2
    heading = sheet.cell(row, 1)
    set_text(heading, "The sheets")
    heading.font = Font(name=_FONT, bold=True, size=12, color=_INK)
    for offset, pillar in enumerate(q.pillars, start=1):
        code_cell = sheet.cell(row + offset, 1)
        set_text(code_cell, f"Pillar {pillar.code}" if pillar.code.isdigit() else pillar.code)
        stages = sum(1 for f in pillar.functions for s in f.stages if s.stage is not Stage.TRADITIONAL)
        set_text(sheet.cell(row + offset, 2), f"{pillar.name}: {len(pillar.functions)} functions, {stages} answers")

    row = row + len(q.pillars) + 2
    note = sheet.cell(row, 1)
    set_text(
        note,
        f"Stage texts: {q.catalog_title}, as published by CISA. Prepared {q.generated_at[:10]} "
        f"with {q.generated_with}.",
    )
    note.font = Font(name=_FONT, size=8, color=_MUTED)
    _page_setup(sheet, q.marking, landscape=False)
    _protect(sheet)


def _pillar_sheet(sheet: Any, pillar: PillarQuestions, q: Questionnaire) -> None:
    sheet.sheet_view.showGridLines = False
    for index, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.column_dimensions["A"].hidden = True
    sheet.column_dimensions["B"].hidden = True
    title = sheet.cell(1, 3)
    set_text(title, f"{pillar.code}  {pillar.name}")
    title.font = Font(name=_FONT, bold=True, size=14, color=_INK)
    sheet.row_dimensions[1].height = 22
    hint = sheet.cell(2, 3)
    set_text(
        hint,
        "Pick an answer for each Initial, Advanced and Optimal stage and add a comment where it helps. "
        "Traditional is the starting point, shown for context.",
    )
    hint.font = Font(name=_FONT, italic=True, color=_MUTED)
    for index, (header, _) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(HEADER_ROW, index)
        set_text(cell, header)
        cell.font = Font(name=_FONT, bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        cell.border = _BOX
    sheet.row_dimensions[HEADER_ROW].height = 20
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 3)

    validation = DataValidation(
        type="list",
        formula1=f'"{ANSWER_LIST}"',
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Not one of the answers",
        error="Please pick one of the listed answers: " + ", ".join(a.label for a in Answer) + ".",
        showInputMessage=True,
        promptTitle="Your answer",
        prompt="Met, Partially met, Not met, Not applicable or Don't know",
    )
    sheet.add_data_validation(validation)

    row = HEADER_ROW + 1
    for function in pillar.functions:
        for position, question in enumerate(function.stages):
            context = question.stage is Stage.TRADITIONAL
            values = (
                function.function_id,
                question.stage.key,
                function.code,
                function.name,
                question.stage.label,
                question.text,
            )
            for column, value in enumerate(values, start=1):
                cell = sheet.cell(row, column)
                set_text(cell, value)
                cell.alignment = _WRAP_TOP
                cell.border = _FUNCTION_TOP if position == 0 else _BOX
                if context:
                    cell.fill = _CONTEXT_FILL
                    cell.font = Font(name=_FONT, color=_MUTED)
            if position == 0:
                sheet.cell(row, 3).font = Font(name=_FONT, bold=True, color=_INK)
                sheet.cell(row, 4).font = Font(name=_FONT, bold=True, color=_INK)
            answer = sheet.cell(row, 7)
            comment = sheet.cell(row, 8)
            answer.border = comment.border = _FUNCTION_TOP if position == 0 else _BOX
            answer.alignment = Alignment(vertical="top")
            comment.alignment = _WRAP_TOP
            if context:
                set_text(answer, "(context)")
                answer.font = Font(name=_FONT, italic=True, color=_MUTED)
                answer.fill = comment.fill = _CONTEXT_FILL
            else:
                set_text(answer, question.answer.label if question.answer is not None else "")
                set_text(comment, question.comment)
                answer.fill = _ANSWER_FILL
                comment.fill = _COMMENT_FILL
                answer.protection = comment.protection = _UNLOCKED
                validation.add(answer)
            lines = max(_lines(question.text, COLUMNS[5][1]), _lines(function.name, COLUMNS[3][1]))
            if question.comment:
                lines = max(lines, _lines(question.comment, COLUMNS[7][1]))
            sheet.row_dimensions[row].height = min(15 * lines + 4, 409)
            row += 1
    sheet.auto_filter.ref = None
    _page_setup(sheet, q.marking, landscape=True, title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    sheet.print_area = f"C1:H{max(row - 1, HEADER_ROW)}"
    _protect(sheet)


def _meta(sheet: Any, q: Questionnaire) -> None:
    rows = (
        ("format", layout.FORMAT),
        ("version", layout.LAYOUT_VERSION),
        ("kind", layout.KIND_QUESTIONNAIRE),
        ("engagement", q.engagement_id),
        ("catalog", q.catalog),
        ("respondent", q.respondent),
        ("generated", q.generated_at),
    )
    for number, (key, value) in enumerate(rows, start=1):
        set_text(sheet.cell(number, 1), key)
        set_text(sheet.cell(number, 2), value)
    sheet.sheet_state = "veryHidden"
    sheet.protection.sheet = True


def write_questionnaire(
    q: Questionnaire, path: Path | IO[bytes], *, progress: Progress = no_progress, cancel: CancelToken | None = None
) -> None:
    """Write ``q`` as an .xlsx workbook at ``path`` (the caller makes it all-or-nothing)."""
    total = len(q.pillars) + 2
    progress(0, total, "Writing the instructions…")
    workbook = Workbook()
    instructions = workbook.active
    instructions.title = INSTRUCTIONS
    _instructions(instructions, q)
    taken = [INSTRUCTIONS, layout.META_SHEET]
    for number, pillar in enumerate(q.pillars, start=1):
        if cancel is not None:
            cancel.check()
        progress(number, total, f"Writing {pillar.name}…")
        title = sheet_title(pillar.name, taken)
        taken.append(title)
        _pillar_sheet(workbook.create_sheet(title), pillar, q)
    _meta(workbook.create_sheet(layout.META_SHEET), q)
    workbook.security = WorkbookProtection(lockStructure=True)
    workbook.properties.title = "Zero Trust maturity questionnaire"
    workbook.properties.creator = q.generated_with
    workbook.active = 0
    if cancel is not None:
        cancel.check()
    progress(total - 1, total, "Saving…")
    workbook.save(path)
    progress(total, total, "Done")
