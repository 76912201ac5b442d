"""The workbook's consultant registers: Overview, document control, finding and evidence numbers, the roadmap's
actions and the vendor suggestions, client answers; real dates, paper, named fonts, compact unassessed rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.support.full_workbook_snapshot import full_snapshot
from tests.test_workbook import PAYLOADS, header_map, make_engagement, sheet_xml, trimmed
from ztmm_desktop.core.deliverable import Snapshot
from ztmm_desktop.core.register import Sections
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.excel.workbook import write_workbook
from ztmm_desktop.services import questionnaire
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement


@pytest.fixture
def contoso(tmp_path: Path) -> Iterator[Engagement]:
    with make_engagement(tmp_path / "contoso.ztmm", tmp_path) as engagement:
        yield engagement


@pytest.fixture
def full(contoso: Engagement) -> Snapshot:
    return full_snapshot(build_snapshot(contoso))


def written(snapshot: Snapshot, tmp_path: Path, name: str = "full.xlsx") -> Any:
    out = tmp_path / name
    write_workbook(snapshot, out)
    return load_workbook(out)


def table_rows(sheet: Any) -> list[dict[str, Any]]:
    """The rows of a sheet's table under its header row, by header, up to the first empty row."""
    header, columns = header_map(sheet)
    rows = []
    for row in sheet.iter_rows(min_row=header + 1):
        if all(c.value is None for c in row):
            break
        rows.append({name: row[column - 1] for name, column in columns.items()})
    return rows


def texts(sheet: Any) -> list[list[Any]]:
    return [trimmed([c.value for c in row]) for row in sheet.iter_rows()]


# -- the sheets and their order --------------------------------------------------------------------


def test_the_full_workbook_opens_on_the_overview_and_keeps_control_beside_about(full: Snapshot, tmp_path: Path) -> None:
    book = written(full, tmp_path)
    visible = [s.title for s in book.worksheets if s.sheet_state == "visible"]
    assert visible[:2] == ["Overview", "Summary"]
    assert visible[-7:] == [
        "Findings",
        "Roadmap",
        "Vendor suggestions",
        "Client answers",
        "Evidence",
        "Document control",
        "About",
    ]
    sheets = {row[0]: row[1] for row in texts(book["About"]) if len(row) > 1}
    assert sheets["Sheets"] == ", ".join(visible)


def test_without_the_consultants_words_there_is_no_overview(contoso: Engagement, tmp_path: Path) -> None:
    book = written(build_snapshot(contoso), tmp_path)
    assert not {"Overview", "Document control", "Client answers"} & set(book.sheetnames)


# -- Overview -----------------------------------------------------------------------------------------


def test_the_overview_has_each_written_section_in_order_and_no_empty_one(full: Snapshot, tmp_path: Path) -> None:
    sheet = written(full, tmp_path)["Overview"]
    rows = texts(sheet)
    headings = [row[0] for row in rows if len(row) == 1 and sheet.cell(rows.index(row) + 1, 1).font.sz == 12]
    assert headings == [
        "Executive summary",
        "Key messages",
        "Scope and exclusions",
        "Approach",
        "Disclaimer",  # Limitations is empty: left out, no heading over nothing
        "Top priorities",
    ]
    first = rows.index([None, "The organization has a sound identity foundation but a flat network."])
    assert rows[first + 1] == [] and sheet.row_dimensions[first + 2].height == 6  # space between paragraphs
    assert rows[first + 2] == [None, "Three actions in the next quarter would close the largest gaps:"]
    assert ["•", "Segment the data center network by business function"] in rows  # a continued item joined
    priorities = [row for row in rows if row and isinstance(row[0], str) and re.fullmatch(r"A-\d\d", row[0])]
    assert [row[0] for row in priorities] == ["A-01", "A-02"]  # roadmap order
    assert priorities[0][1].startswith("Now (0–3 months) · 1.1 Authentication: Enforce phishing-resistant MFA")
    assert priorities[0][1].endswith("Owner: Identity team.")
    assert sheet.page_setup.orientation == "portrait"


def test_a_long_section_is_split_into_rows_tall_enough_to_show_it(full: Snapshot, tmp_path: Path) -> None:
    long = " ".join(f"Sentence number {n} says something about the network and its segments." for n in range(400))
    snapshot = dataclasses.replace(full, sections=Sections(executive_summary=long))
    sheet = written(snapshot, tmp_path)["Overview"]
    pieces = [(row[1].value, row[1].row) for row in sheet.iter_rows(min_col=1, max_col=2) if row[1].value]
    body = [(text, number) for text, number in pieces if text.startswith("Sentence")]
    assert len(body) > 1 and " ".join(text for text, _ in body) == long  # nothing lost between rows
    width = sheet.column_dimensions["B"].width
    for text, number in body:
        lines = -(-len(text) // int(width))
        height = sheet.row_dimensions[number].height
        assert height is not None and height <= 409 and height >= lines * 14, (number, lines, height)
        assert sheet.cell(number, 2).alignment.wrap_text


# -- document control and the file's author ------------------------------------------------------------


def test_document_control_lists_version_history_distribution_and_sign_off(full: Snapshot, tmp_path: Path) -> None:
    book = written(full, tmp_path)
    rows = texts(book["Document control"])
    pairs = {row[0]: row[1:] for row in rows if row}
    assert pairs["Consultancy"] == [None, "Northwind Advisory"]
    assert pairs["Report version"] == [None, "1.1"]
    assert pairs["Prepared by"] == [None, "Lead assessor, Northwind Advisory"]
    assert pairs["Reviewed by"] == [dt.datetime(2026, 3, 12), "Quality reviewer"]
    assert pairs["Approved by"] == [dt.datetime(2026, 3, 15), "Engagement partner"]
    history = rows.index(["Version", "Date", "Author", "Change"])
    assert rows[history + 1 : history + 4] == [
        ["0.9", dt.datetime(2026, 3, 2), "Lead assessor", "Draft for review"],
        ["1.0", dt.datetime(2026, 3, 9), "Lead assessor", "Issued"],
        ["1.1", dt.datetime(2026, 3, 16), "Lead assessor", "Client comments addressed"],
    ]
    distribution = rows.index(["Name", " ", "Organization", "Role"])
    assert rows[distribution + 1 : distribution + 3] == [
        ["Chief Information Security Officer", None, "Contoso Ltd", "Sponsor"],
        ["Archive"],
    ]
    assert book.properties.creator == book.properties.lastModifiedBy == "Lead assessor"


def test_without_a_preparer_the_file_names_the_tool_never_the_login(contoso: Engagement, tmp_path: Path) -> None:
    snapshot = build_snapshot(contoso)
    book = written(dataclasses.replace(snapshot, meta=dataclasses.replace(snapshot.meta, prepared_by="")), tmp_path)
    assert book.properties.creator == snapshot.meta.generated_with
    assert getpass.getuser() not in {book.properties.creator, book.properties.lastModifiedBy}


# -- findings and evidence: the report's numbers -----------------------------------------------------------


def test_findings_carry_the_reports_numbers_and_the_register_fields(full: Snapshot, tmp_path: Path) -> None:
    sheet = written(full, tmp_path)["Findings"]
    rows = table_rows(sheet)
    numbers = full.finding_numbers()
    assert [row["No."].value for row in rows] == [numbers[f.id] for f in full.findings] == ["F-01", "F-02"]
    for row, finding in zip(rows, full.findings, strict=True):
        assert row["Owner"].value == finding.owner
        assert row["Status"].value == {"open": "Open", "in-progress": "In progress"}[finding.status]
        assert (row["Likelihood (1–5)"].value, row["Impact (1–5)"].value) == (finding.likelihood, finding.impact)
        assert row["Risk score"].value == finding.risk_score
        assert row["Risk rating"].value == finding.risk_rating
        created = row["Created"]
        assert isinstance(created.value, dt.datetime) and created.number_format == "yyyy-mm-dd"
    due = rows[1]["Due date"]
    assert full.findings[1].due_date == "2026-02-15"
    assert due.value == dt.datetime(2026, 2, 15) and due.is_date and due.number_format == "yyyy-mm-dd"
    assert rows[0]["Due date"].value is None  # no due date: an empty cell, not a word


def test_evidence_carries_the_reports_numbers_and_real_dates(full: Snapshot, tmp_path: Path) -> None:
    (row,) = table_rows(written(full, tmp_path)["Evidence"])
    assert row["No."].value == full.evidence_numbers()[full.evidence[0].id] == "E-01"
    assert row["Captured"].is_date and row["Captured"].value.date().isoformat() == full.evidence[0].captured_at[:10]


def test_engagement_dates_are_dates(tmp_path: Path) -> None:
    properties = Properties(client="Dated Ltd", start_date="2026-03-02", end_date="2026-03-20")
    with create_engagement(tmp_path / "d.ztmm", properties) as engagement:
        book = written(build_snapshot(engagement), tmp_path)
    (dates,) = [row for row in book["Summary"].iter_rows() if row[0].value == "Dates"]
    assert [c.value for c in dates[:4]] == ["Dates", dt.datetime(2026, 3, 2), "to", dt.datetime(2026, 3, 20)]
    assert dates[1].number_format == dates[3].number_format == "yyyy-mm-dd"
    (generated,) = [row for row in book["About"].iter_rows() if row[0].value == "Generated"]
    assert isinstance(generated[1].value, dt.datetime) and "UTC" in generated[1].number_format


# -- the roadmap: actions, then vendor suggestions -------------------------------------------------------------


def test_the_roadmap_lists_the_actions_in_order_with_their_numbers(full: Snapshot, tmp_path: Path) -> None:
    sheet = written(full, tmp_path)["Roadmap"]
    rows = table_rows(sheet)
    assert [{k: c.value for k, c in row.items()} for row in rows] == [
        {
            "No.": "A-01",
            "Phase": "Now (0–3 months)",
            "Code": "1.1",
            "Function": "Authentication",
            "Stage": "Advanced",
            "Action": full.actions[0].text,
            "Effort": "Medium",
            "Cost": "$10k–50k",
            "Owner": "Identity team",
            "Depends on": None,
            "Priority": "High",
            "Gap": 2,
        },
        {
            "No.": "A-02",
            "Phase": "Next (3–12 months)",
            "Code": "1.2",
            "Function": "Identity Stores",
            "Stage": None,
            "Action": full.actions[1].text,
            "Effort": "Large",
            "Cost": None,
            "Owner": None,
            "Depends on": "A-01",
            "Priority": "Medium",
            "Gap": 1,
        },
    ]
    long = rows[1]["Action"]  # 300 characters in a 56-wide column: wrapped, and the row tall enough
    assert long.alignment.wrap_text
    lines = -(-len(long.value) // 56)
    assert (sheet.row_dimensions[long.row].height or 0) >= lines * 14
    (table,) = sheet.tables.values()
    assert table.displayName == "Actions"
    assert any("see Vendor suggestions" in str(row) for row in texts(sheet))


def test_vendor_suggestions_are_marked_as_such_with_the_assessment_status(full: Snapshot, tmp_path: Path) -> None:
    function = full.pillars[0].functions[0]
    done = dataclasses.replace(function, assessment=dataclasses.replace(function.assessment, status="done"))
    pillar = dataclasses.replace(full.pillars[0], functions=(done, *full.pillars[0].functions[1:]))
    book = written(dataclasses.replace(full, pillars=(pillar, *full.pillars[1:])), tmp_path)
    rows = table_rows(book["Vendor suggestions"])
    assert rows and {row["Code"].value for row in rows} == {"1.1"}
    assert {row["Assessment status"].value for row in rows} == {"Assessment: done"}  # not remediation done
    assert "Suggested action" in header_map(book["Vendor suggestions"])[1]


def test_vendor_neutral_leaves_every_vendor_word_out(full: Snapshot, tmp_path: Path) -> None:
    neutral = dataclasses.replace(full, meta=dataclasses.replace(full.meta, vendor_neutral=True))
    out = tmp_path / "neutral.xlsx"
    write_workbook(neutral, out)
    book = load_workbook(out)
    assert "Vendor suggestions" not in book.sheetnames
    every = " ".join(str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row if c.value)
    for word in ("Microsoft", "Guidance", "vendor", "Attribution", "learn.microsoft.com"):
        assert word.lower() not in every.lower(), word
    assert table_rows(book["Roadmap"])[0]["No."].value == "A-01"  # the consultant's own actions stay


# -- client answers ----------------------------------------------------------------------------------------------


def test_client_answers_sit_beside_the_assessors_rating(full: Snapshot, tmp_path: Path) -> None:
    rows = table_rows(written(full, tmp_path)["Client answers"])
    assert [{k: c.value for k, c in row.items()} for row in rows] == [
        {
            "Code": "1.1",
            "Function": "Authentication",
            "Stage": "Initial",
            "Respondent": "Pat Example",
            "Role": "IT manager",
            "Answer": "Met",
            "Comment": "MFA is on for everyone",
            "Assessor's rating": "Met",
            "Differs from rating": None,
        },
        {
            "Code": "1.1",
            "Function": "Authentication",
            "Stage": "Advanced",
            "Respondent": "Pat Example",
            "Role": "IT manager",
            "Answer": "Met",
            "Comment": None,
            "Assessor's rating": "Partially met",
            "Differs from rating": "Differs",
        },
        {
            "Code": "1.1",
            "Function": "Authentication",
            "Stage": "Optimal",
            "Respondent": "Sam Example",
            "Role": None,
            "Answer": "Don't know",
            "Comment": None,
            "Assessor's rating": "Not met",
            "Differs from rating": None,  # nothing to compare: not marked
        },
    ]


# -- print, fonts, compact rows -----------------------------------------------------------------------------------


def test_every_sheet_prints_on_the_engagements_paper(full: Snapshot, tmp_path: Path) -> None:
    assert full.meta.paper == "Letter"
    book = written(full, tmp_path)
    for sheet in book.worksheets[:-1]:
        assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_LETTER, sheet.title
        assert sheet.page_setup.fitToWidth in (1, 2) and sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
    assert book["Summary"].page_setup.fitToHeight == 1  # its chart is never cut across two printed pages


def test_a_long_client_name_never_runs_into_the_marking_in_the_page_header(full: Snapshot, tmp_path: Path) -> None:
    client = "Contoso Pharmaceuticals International Holdings (Europe, Middle East and Africa) Ltd"
    meta = dataclasses.replace(full.meta, client=client)
    book = written(dataclasses.replace(full, meta=meta), tmp_path)
    assert len(book["About"].oddHeader.left.text) <= 40
    marked = dataclasses.replace(meta, marking="CONFIDENTIAL – for the board and the audit committee only")
    book = written(dataclasses.replace(full, meta=marked), tmp_path, "marked.xlsx")
    assert not book["About"].oddHeader.left.text  # beside a long marking, no room: left out


def test_every_font_has_a_name(full: Snapshot, contoso: Engagement, tmp_path: Path) -> None:
    book = written(full, tmp_path)
    assert book._fonts and all(font.name for font in book._fonts)
    survey = load_workbook(questionnaire.export_questionnaire(contoso, tmp_path / "q.xlsx"))
    assert survey._fonts and all(font.name for font in survey._fonts)
    assert {font.name for font in survey._fonts} == {"Calibri"}


def test_a_function_never_assessed_is_one_short_row(full: Snapshot, tmp_path: Path) -> None:
    sheet = written(full, tmp_path)["1 Identity"]
    header, columns = header_map(sheet)
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=header + 1)}
    never = rows["identity.risk_assessments"]
    assert never[columns["Current"] - 1].value == "Not assessed"
    assert never[columns["Traditional stage"] - 1].value == "Not assessed; the stage texts are in the model."
    for stage in (Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL):
        assert never[columns[f"{stage.label} stage"] - 1].value is None
        assert never[columns[f"{stage.label} rating"] - 1].value is None
    assert sheet.row_dimensions[never[0].row].height is None  # one line
    assessed = rows["identity.authentication"]
    assert assessed[columns["Initial stage"] - 1].value  # an assessed function keeps its stage texts


# -- formula injection in the new fields (SECURITY.md item 10) ---------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS[:4] + PAYLOADS[7:8])
def test_hostile_text_in_every_new_field_stays_text(contoso: Engagement, tmp_path: Path, payload: str) -> None:
    snapshot = full_snapshot(build_snapshot(contoso), text=payload)
    out = tmp_path / "hostile.xlsx"
    write_workbook(snapshot, out)
    book = load_workbook(out)
    found: dict[str, int] = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(payload):
                    assert cell.data_type == "s" and cell.quotePrefix, (sheet.title, cell.coordinate)
                    found[sheet.title] = found.get(sheet.title, 0) + 1
    assert found["Overview"] >= 6  # five sections and the sections' bullets or paragraphs
    assert found["Document control"] >= 8  # consultancy, version, reviewer, approver, history, distribution
    assert found["Findings"] >= 2 and found["Roadmap"] >= 3 and found["Client answers"] >= 4
    for name, xml in sheet_xml(out).items():
        assert not re.search(r"<(\w+:)?f[ >/]", xml), f"{name} holds a formula"
