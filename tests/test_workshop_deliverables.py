"""The workshops held in both deliverables: the report's Workshops section and the workbook's Workshops sheet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.test_progress_deliverables import outline_titles
from tests.test_report import flat, pages_text, pdftotext
from ztmm_desktop.core.deliverable import Snapshot, WorkshopLine, attendee_text
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import workshops
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement
from ztmm_desktop.services.report import export_report
from ztmm_desktop.services.workbook import export_workbook
from ztmm_desktop.services.workshops import Attendee, WorkshopDraft

FORMULA = "=cmd|' /C calc'!A0"  # a formula to a spreadsheet
MARKUP = "<b>R&D"  # markup to reportlab
HELD_TITLE = "Identity deep dive"
PLANNED_TITLE = "Networks and data review"
NOTES = "Agreed to pilot phishing-resistant MFA.\n\nFollow-up on the identity stores next month."


@dataclass
class Built:
    pdf: Path
    xlsx: Path
    snapshot: Snapshot


def build(folder: Path, *, with_workshops: bool, hostile: bool = False) -> Built:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTMM_DATA_DIR", str(folder / "data"))
        path = folder / "contoso.ztmm"
        with create_engagement(path, Properties(client="Contoso Ltd", marking="TLP:AMBER")) as engagement:
            engagement.assess("1.1", ratings={Stage.INITIAL: Rating.MET}, target=Stage.ADVANCED)
            if with_workshops:
                add_workshops(engagement, hostile=hostile)
            snapshot = build_snapshot(engagement)
            pdf = export_report(engagement, folder / "contoso.pdf")
            xlsx = export_workbook(engagement, folder / "contoso.xlsx")
    return Built(pdf, xlsx, snapshot)


def add_workshops(engagement: Engagement, *, hostile: bool) -> None:
    # The planned one is recorded first but is later: the deliverables list them oldest first.
    workshops.create_workshop(
        engagement,
        WorkshopDraft(date="2027-01-20", title=FORMULA if hostile else PLANNED_TITLE, pillars=("networks", "data")),
        by="Consultant",
    )
    held = workshops.create_workshop(
        engagement,
        WorkshopDraft(
            date="2026-12-01",
            title=MARKUP if hostile else HELD_TITLE,
            pillars=("identity",),
            functions=("1.1", "1.2"),
            notes=NOTES,
            attendees=(
                Attendee(FORMULA if hostile else "Attendee One", "CISO", "Client Ltd"),
                Attendee(MARKUP if hostile else "Attendee Two", "Architect", "Partner Co"),
            ),
        ),
        by="Consultant",
    )
    workshops.start(engagement, held.id, by="Consultant")
    workshops.stop(engagement, by="Consultant")


@pytest.fixture(scope="module")
def with_workshops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    yield build(tmp_path_factory.mktemp("workshops"), with_workshops=True)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    yield build(tmp_path_factory.mktemp("hostile"), with_workshops=True, hostile=True)


@pytest.fixture(scope="module")
def without(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    yield build(tmp_path_factory.mktemp("none"), with_workshops=False)


def workshop_pages(pdf: Path) -> str:
    """The text of the Workshops section: from its heading to the next section's."""
    pages = [flat(page) for page in pages_text(pdf)]
    start = next(i for i, page in enumerate(pages) if page.startswith("TLP:AMBER Workshops"))
    end = next(i for i, page in enumerate(pages) if page.startswith("TLP:AMBER Maturity at a glance"))
    return " ".join(pages[start:end])


def workshop_rows(xlsx: Path) -> tuple[Any, list[dict[str, Any]]]:
    sheet = load_workbook(xlsx)["Workshops"]
    names = [c.value for c in sheet[3]]
    rows = [dict(zip(names, values, strict=True)) for values in sheet.iter_rows(min_row=4, values_only=True)]
    return sheet, rows


# -- the snapshot --------------------------------------------------------------------------------


def test_the_snapshot_lists_workshops_oldest_first(with_workshops: Built) -> None:
    lines = with_workshops.snapshot.workshops
    assert [(w.date, w.title, w.status) for w in lines] == [
        ("2026-12-01", HELD_TITLE, "held"),
        ("2027-01-20", PLANNED_TITLE, "planned"),
    ]
    held = lines[0]
    assert held.attendees == (("Attendee One", "CISO", "Client Ltd"), ("Attendee Two", "Architect", "Partner Co"))
    assert held.pillars == ("Identity",)
    assert held.functions == ("1.1 Authentication", "1.2 Identity Stores")
    assert held.notes == NOTES
    assert lines[1].attendees == () and lines[1].functions == ()


def test_a_hand_built_line_has_defaults() -> None:
    line = WorkshopLine(date="2026-12-01", title="Kick-off", status="planned")
    assert (line.attendees, line.pillars, line.functions, line.notes) == ((), (), (), "")
    assert not line.held and line.status_text == "Planned"
    assert attendee_text(("Attendee One", "", "")) == "Attendee One"
    assert attendee_text(("Attendee One", "", "Client Ltd")) == "Attendee One (Client Ltd)"


# -- the report ---------------------------------------------------------------------------------


def test_the_report_has_a_workshops_section(with_workshops: Built) -> None:
    section = workshop_pages(with_workshops.pdf)
    assert "2 workshops, oldest first: 1 held, 1 planned." in section
    held = section.index(f"1 December 2026 · {HELD_TITLE}")
    planned = section.index(f"20 January 2027 · {PLANNED_TITLE} PLANNED")
    assert held < planned
    for words in (
        "Pillars Identity",
        "Functions 1.1 Authentication; 1.2 Identity Stores",
        "Attendee One CISO Client Ltd",
        "Attendee Two Architect Partner Co",
        "Agreed to pilot phishing-resistant MFA.",
        "Follow-up on the identity stores next month.",
        "Pillars Networks, Data",
    ):
        assert words in section, words
    assert f"{HELD_TITLE} HELD" not in section  # only a workshop not yet held is marked
    assert "Workshops" in outline_titles(with_workshops.pdf)
    contents = flat(pages_text(with_workshops.pdf)[1])
    assert contents.index("Executive summary") < contents.index("Workshops") < contents.index("Maturity at a glance")


def test_no_workshops_no_section(without: Built) -> None:
    assert "Workshops" not in outline_titles(without.pdf)
    assert not any(flat(page).startswith("TLP:AMBER Workshops") for page in pages_text(without.pdf))


def test_hostile_text_in_the_report_is_text(hostile: Built) -> None:
    section = workshop_pages(hostile.pdf)
    assert f"1 December 2026 · {MARKUP}" in section
    assert f"{FORMULA} PLANNED" in section
    assert f"{FORMULA} CISO Client Ltd" in section
    assert f"{MARKUP} Architect Partner Co" in section
    assert flat(pdftotext(hostile.pdf)).count(MARKUP) >= 2


# -- the workbook -------------------------------------------------------------------------------


def test_the_workbook_has_a_workshops_sheet(with_workshops: Built) -> None:
    book = load_workbook(with_workshops.xlsx)
    assert book.sheetnames[:2] == ["Summary", "Workshops"]
    sheet, rows = workshop_rows(with_workshops.xlsx)
    assert sheet.freeze_panes == "A4"
    assert sheet.print_title_rows == "$3:$3"
    assert [t.ref for t in sheet.tables.values()] == ["A3:H5"]
    assert rows == [
        {
            "Date": dt.datetime(2026, 12, 1),  # a real date, shown yyyy-mm-dd
            "Title": HELD_TITLE,
            "Status": "Held",
            "Pillars": "Identity",
            "Functions": "1.1 Authentication\n1.2 Identity Stores",
            "Attendee count": 2,
            "Attendees (name, role, organization)": "Attendee One (CISO, Client Ltd)\n"
            "Attendee Two (Architect, Partner Co)",
            "Notes": NOTES,
        },
        {
            "Date": dt.datetime(2027, 1, 20),
            "Title": PLANNED_TITLE,
            "Status": "Planned",
            "Pillars": "Networks\nData",
            "Functions": None,
            "Attendee count": 0,
            "Attendees (name, role, organization)": None,
            "Notes": None,
        },
    ]
    assert sheet["A4"].number_format == "yyyy-mm-dd"
    about = [row for row in book["About"].iter_rows(values_only=True) if row[0] == "Sheets"]
    assert about and "Summary, Workshops, " in about[0][1]


def test_no_workshops_no_sheet(without: Built) -> None:
    book = load_workbook(without.xlsx)
    assert "Workshops" not in book.sheetnames
    about = [row for row in book["About"].iter_rows(values_only=True) if row[0] == "Sheets"]
    assert "Workshops" not in about[0][1]


def test_hostile_text_in_the_workbook_is_text(hostile: Built) -> None:
    sheet, rows = workshop_rows(hostile.xlsx)
    assert [row["Title"] for row in rows] == [MARKUP, FORMULA]
    assert (
        rows[0]["Attendees (name, role, organization)"]
        == f"{FORMULA} (CISO, Client Ltd)\n{MARKUP} (Architect, Partner Co)"
    )
    title = sheet["B5"]
    assert title.value == FORMULA and title.data_type == "s" and title.quotePrefix
