"""Progress since the baseline in both deliverables: the report's section and the workbook's Progress sheet."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.test_report import flat, pages_text, pdftotext
from ztmm_desktop.core.deliverable import Snapshot
from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.core.progress_compare import Movement
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import baselines
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement
from ztmm_desktop.services.report import export_report
from ztmm_desktop.services.workbook import export_workbook

MET, PARTIAL = Rating.MET, Rating.PARTIAL
INITIAL, ADVANCED, OPTIMAL = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL
BASELINE = "Initial assessment 2026-11"
HOSTILE = "=1+1 <b>R&D"  # a formula to a spreadsheet, markup to reportlab
HOSTILE_BY = "<i>Lead & co"
COMPARED_AT = "2026-12-01T09:00:00+00:00"


def make(path: Path) -> Engagement:
    engagement = create_engagement(path, Properties(client="Contoso Ltd", marking="TLP:AMBER"))
    engagement.assess("1.1", ratings={INITIAL: MET}, comments={INITIAL: "MFA everywhere"}, target=OPTIMAL)
    engagement.assess("1.2", ratings={INITIAL: MET, ADVANCED: MET}, target=ADVANCED)
    engagement.assess("2.1", ratings={INITIAL: PARTIAL}, target=ADVANCED)
    engagement.assess("3.1", ratings={INITIAL: MET})
    return engagement


def change_three(engagement: Engagement) -> None:
    engagement.assess("1.1", ratings={ADVANCED: MET})  # Initial → Advanced: improved
    engagement.assess("1.2", ratings={ADVANCED: PARTIAL})  # Advanced → Initial: regressed
    engagement.assess("3.1", comments={INITIAL: "seen in the workshop"})  # a comment only: unchanged, but changed


@dataclass
class Built:
    pdf: Path
    xlsx: Path
    snapshot: Snapshot


def build(folder: Path, *, baseline: str | None, by: str = "Tester") -> Built:
    """An engagement (with ``baseline`` frozen before three changes, if any) as a report and a workbook."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTMM_DATA_DIR", str(folder / "data"))
        with make(folder / "contoso.ztmm") as engagement:
            if baseline is not None:
                baselines.freeze_baseline(engagement, baseline, by=by)
            change_three(engagement)
            snapshot = build_snapshot(engagement)
            pdf = export_report(engagement, folder / "contoso.pdf")
            xlsx = export_workbook(engagement, folder / "contoso.xlsx", generated_at=COMPARED_AT)
    return Built(pdf, xlsx, snapshot)


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    yield build(tmp_path_factory.mktemp("progress"), baseline=BASELINE)


@pytest.fixture(scope="module")
def no_baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    yield build(tmp_path_factory.mktemp("plain"), baseline=None)


def progress_span(pdf: Path) -> tuple[int, int]:
    """The pages (from 1, the last one excluded) of the progress section: from its heading to the next section's."""
    pages = pages_text(pdf)
    start = next(i for i, page in enumerate(pages) if flat(page).startswith("TLP:AMBER Progress since"))
    end = next(i for i, page in enumerate(pages) if flat(page).startswith("TLP:AMBER Maturity at a glance"))
    return start + 1, end + 1


def progress_pages(pdf: Path) -> str:
    """The text of the progress section, in reading order."""
    first, end = progress_span(pdf)
    return flat(" ".join(pages_text(pdf)[first - 1 : end - 1]))


def progress_lines(pdf: Path) -> list[str]:
    """The lines of the progress section as laid out (a table row is a line)."""
    first, end = progress_span(pdf)
    return [flat(line) for line in pdftotext(pdf, "-layout", "-f", str(first), "-l", str(end - 1)).splitlines()]


def outline_titles(pdf: Path) -> list[str]:
    raw = subprocess.run(
        ["qpdf", "--json", "--json-key=outlines", str(pdf)], capture_output=True, text=True, check=True
    )
    return [o["title"] for o in json.loads(raw.stdout)["outlines"]]


def progress_rows(xlsx: Path) -> tuple[Any, int, list[dict[str, Any]]]:
    """The Progress sheet, its function table's header row, and each row of that table by header."""
    sheet = load_workbook(xlsx)["Progress"]
    header = next(r[0].row for r in sheet.iter_rows(max_row=40) if r[3].value == "Stage then")
    names = [c.value for c in sheet[header]]
    rows = [
        dict(zip(names, values, strict=True))
        for values in itertools.takewhile(
            any, sheet.iter_rows(min_row=header + 1, max_col=len(names), values_only=True)
        )  # the table ends at the first empty row
    ]
    return sheet, header, rows


# -- the report ---------------------------------------------------------------------------------


def test_the_report_lists_exactly_the_functions_that_changed_and_counts_the_rest(changed: Built) -> None:
    comparison = changed.snapshot.progress
    assert comparison is not None and [f.function.code for f in comparison.changed] == ["1.1", "1.2", "3.1"]
    section = progress_pages(changed.pdf)
    assert section.startswith(f"TLP:AMBER Progress since {BASELINE} (")
    overall = comparison.overall
    assert (
        "3 functions changed: 1 improved, 1 regressed, 1 at the same stage; 37 unchanged. "
        f"Overall mean stage {overall.then.score_text} → {overall.now.score_text}."
    ) in section
    for pillar in ("1 Identity", "2 Devices", "6 Cross-cutting", "Overall"):
        assert pillar in section
    assert "1.5 (Initial) 1.5 (Initial) 0.0 2 of 7" in section  # Identity: one up, one down
    lines = progress_lines(changed.pdf)
    listed = lines[lines.index("Functions that changed") :]
    assert [line.split()[0] for line in listed if re.match(r"[1-6]\.\d ", line)] == ["1.1", "1.2", "3.1"]
    assert "1.1 Authentication Initial → Advanced Optimal Current stage, ratings" in listed
    assert "1.2 Identity Stores Advanced → Initial Advanced Current stage, ratings" in listed
    assert "3.1 Network Segmentation Initial → Initial — Comments" in listed
    assert [line.replace(" ", "") for line in listed if line.startswith(("▲", "▼"))] == ["▲1", "▼1"]
    assert "37 other functions in scope did not change and are not listed." in listed
    titles = outline_titles(changed.pdf)
    assert titles[1:5] == ["Overview", "Executive summary", f"Progress since {BASELINE} ({section.split('(')[1].split(')')[0]})",
                           "Maturity at a glance"]  # fmt: skip
    contents = flat(pdftotext(changed.pdf, "-f", "2", "-l", "2"))
    assert f"Progress since {BASELINE}" in contents


# -- the workbook --------------------------------------------------------------------------------


def test_the_progress_sheet_lists_every_function_with_its_movement(changed: Built) -> None:
    book = load_workbook(changed.xlsx)
    assert book.sheetnames[:3] == ["Summary", "Progress", "1 Identity"]
    sheet, header, rows = progress_rows(changed.xlsx)
    assert header == 3 and sheet.freeze_panes == "A4"  # only the title, the summary and the header stay put
    block = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=header + 41) if row[0].value}
    assert block["Baseline"] == BASELINE and block["Frozen by"] == "Tester"
    frozen_at = dt.datetime.fromisoformat(changed.snapshot.baseline.created_at)  # type: ignore[union-attr]
    assert block["Frozen at"] == frozen_at.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    assert block["Compared at"] == dt.datetime(2026, 12, 1, 9, 0)  # COMPARED_AT, a real date and time
    assert sheet["A2"].value.startswith(
        "3 functions changed: 1 improved, 1 regressed, 1 at the same stage; 37 unchanged; overall "
    )
    assert len(rows) == 40 and rows[0]["Code"] == "1.1" and rows[-1]["Code"] == "6.3"
    by_code = {row["Code"]: row for row in rows}
    assert {k: by_code["1.1"][k] for k in ("Stage then", "Stage now", "Movement", "Steps", "What changed")} == {
        "Stage then": "Initial",
        "Stage now": "Advanced",
        "Movement": "Improved",
        "Steps": 1,
        "What changed": "Current stage, ratings",
    }
    assert (by_code["1.2"]["Movement"], by_code["1.2"]["Steps"]) == ("Regressed", -1)
    assert (by_code["3.1"]["Movement"], by_code["3.1"]["What changed"]) == ("Same stage", "Comments")
    assert (by_code["2.1"]["Target then"], by_code["2.1"]["Target now"]) == ("Advanced", "Advanced")
    assert by_code["2.1"]["Pillar"] == "Devices" and by_code["2.1"]["What changed"] is None
    assert [row["Code"] for row in rows if row["What changed"]] == ["1.1", "1.2", "3.1"]
    words = ("Improved", "Regressed", "Same stage", "Unchanged")
    counts = {m: sum(1 for row in rows if row["Movement"] == m) for m in words}
    assert counts == {"Improved": 1, "Regressed": 1, "Same stage": 1, "Unchanged": 37}
    pillars = {row[1].value: row for row in sheet.iter_rows(min_row=header + 41) if row[0].value in ("1", "2")}
    assert [c.value for c in pillars["Identity"][2:8]] == [7, 1.5, 1.5, 0, 2, 2]
    assert sheet.freeze_panes == f"A{header + 1}"
    assert sheet.print_title_rows == f"${header}:${header}"
    (table,) = sheet.tables.values()
    assert table.ref == f"A{header}:J{header + 40}"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.oddHeader.center.text == "TLP:AMBER"
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
    assert about["Sheets"].startswith("Summary, Progress, 1 Identity")


# -- without a baseline, and the default baseline -----------------------------------------------------


def test_without_a_baseline_neither_deliverable_has_progress(no_baseline: Built) -> None:
    assert no_baseline.snapshot.progress is None and no_baseline.snapshot.baseline is None
    text = " ".join(pdftotext(no_baseline.pdf).lower().split())  # "in progress": a finding's status (the method)
    assert "progress since" not in text and "progress" not in text.replace("in progress", "")
    assert not any("progress" in title.lower() for title in outline_titles(no_baseline.pdf))
    book = load_workbook(no_baseline.xlsx)
    assert "Progress" not in book.sheetnames
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
    assert "Progress" not in about["Sheets"]


def test_the_latest_baseline_is_the_default_and_another_can_be_asked_for(tmp_path: Path) -> None:
    with make(tmp_path / "contoso.ztmm") as engagement:
        baselines.freeze_baseline(engagement, "First", by="Tester")
        engagement.assess("1.1", ratings={ADVANCED: MET})
        baselines.freeze_baseline(engagement, "Second", by="Tester")  # the same second as First, frozen after it
        engagement.assess("1.2", ratings={ADVANCED: PARTIAL})
        latest = build_snapshot(engagement)
        first = build_snapshot(engagement, baseline_name="first")
        with pytest.raises(BadInput, match="no baseline named 'Third'"):
            build_snapshot(engagement, baseline_name="Third")
    assert latest.baseline is not None and latest.baseline.name == "Second"
    assert latest.progress is not None and [f.function.code for f in latest.progress.changed] == ["1.2"]
    assert first.baseline is not None and first.baseline.name == "First"
    assert first.progress is not None
    assert [(f.function.code, f.movement) for f in first.progress.changed] == [
        ("1.1", Movement.IMPROVED),
        ("1.2", Movement.REGRESSED),
    ]


# -- user text stays text ---------------------------------------------------------------------------


def test_a_baseline_name_with_markup_and_a_formula_comes_back_as_text(tmp_path: Path) -> None:
    built = build(tmp_path, baseline=HOSTILE, by=HOSTILE_BY)
    section = progress_pages(built.pdf)
    assert section.startswith(f"TLP:AMBER Progress since {HOSTILE} (")
    assert f"the baseline {HOSTILE}, frozen on" in section and f"by {HOSTILE_BY}." in section
    assert any(title.startswith(f"Progress since {HOSTILE} (") for title in outline_titles(built.pdf))
    sheet, header, _ = progress_rows(built.xlsx)
    cells = {row[0].value: row[1] for row in sheet.iter_rows(min_row=header + 1) if row[0].value}
    name, by = cells["Baseline"], cells["Frozen by"]
    assert (name.value, name.data_type, name.quotePrefix) == (HOSTILE, "s", True)
    assert (by.value, by.data_type) == (HOSTILE_BY, "s")
