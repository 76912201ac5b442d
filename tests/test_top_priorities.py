"""The overview's top priorities: one rule, the same actions in the PDF, the Word report and the workbook."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import docx
from openpyxl import load_workbook

from tests.support.full_snapshot import demo_snapshot
from tests.test_report import pages_text
from ztmm_desktop.core.register import TOP_PRIORITIES, ActionLine, action_numbers, top_priorities
from ztmm_desktop.excel.workbook import write_workbook
from ztmm_desktop.paths import fonts_dir
from ztmm_desktop.report.render import render_report
from ztmm_desktop.services.report import default_template
from ztmm_desktop.word.render import render_word
from ztmm_desktop.word.template import load_template


def _action(n: int, function: str, priority: str, phase: str = "now") -> ActionLine:
    return ActionLine(
        id=f"a{n:02d}",
        function_id=function,
        function_code=function,
        function_name=f"Function {function}",
        stage=None,
        text=f"Action number {n}",
        phase=phase,
        effort="M",
        priority=priority,
        gap=1,
    )


def test_the_first_actions_and_every_critical_function_reach_the_summary() -> None:
    plain = [_action(n, f"1.{n}", "high") for n in range(8)]
    late = _action(9, "5.1", "critical", phase="later")  # last in roadmap order: phase later
    twin = _action(10, "5.1", "critical", phase="later")  # the same function: its first action is enough
    actions = [*plain, late, twin]
    chosen = top_priorities(actions)
    assert [a.id for a in chosen] == [a.id for a in plain[:TOP_PRIORITIES]] + ["a09"]
    assert top_priorities(plain[:3]) == plain[:3]
    assert top_priorities([]) == []


def test_the_pdf_the_word_report_and_the_workbook_list_the_same_top_priorities(tmp_path: Path) -> None:
    base = demo_snapshot(tmp_path / "demo")
    functions = [f.function for f in base.functions()]
    first = [
        replace(_action(n, "", "medium"), function_id=f.id, function_code=f.code, function_name=f.name)
        for n, f in enumerate(functions[:9])
    ]
    critical = functions[30]
    late = replace(_action(20, "", "critical", phase="later"), function_id=critical.id,
                   function_code=critical.code, function_name=critical.name)  # fmt: skip
    actions = (*first, late)
    snapshot = replace(base, actions=actions)
    numbers = action_numbers(actions)
    expected = [numbers[a.id] for a in top_priorities(actions)]
    assert numbers[actions[-1].id] in expected and len(expected) == TOP_PRIORITIES + 1

    pdf = tmp_path / "report.pdf"
    render_report(snapshot, pdf, fonts_dir=fonts_dir())
    overview = next(page for page in pages_text(pdf) if "Top priorities" in page and "Key messages" in page)
    listed = overview.split("Top priorities", 1)[1].split("in all: see the roadmap", 1)[0]
    assert re.findall(r"\bA-\d\d\b", listed) == expected

    word = tmp_path / "report.docx"
    render_word(snapshot, word, load_template(default_template()), fonts_dir=fonts_dir())
    document = docx.Document(str(word))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "No." and t.rows[0].cells[1].text == "Action")
    assert [row.cells[0].text for row in table.rows[1:]] == expected

    book = tmp_path / "book.xlsx"
    write_workbook(snapshot, book)
    rows = [[c.value for c in row] for row in load_workbook(book)["Overview"].iter_rows()]
    start = next(i for i, row in enumerate(rows) if row[0] == "Top priorities")
    shown = [row[0] for row in rows[start + 1 :] if isinstance(row[0], str) and re.fullmatch(r"A-\d\d", row[0])]
    assert shown == expected
