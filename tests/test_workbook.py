"""The client deliverable workbook: content, marking, print set-up, formula injection, LibreOffice, bad output paths."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from tests.conftest import run_cli
from tests.test_cli import drop_root_file_powers
from ztmm_desktop.core import figures
from ztmm_desktop.core.errors import Cancelled
from ztmm_desktop.core.progress import CancelToken
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.excel import layout
from ztmm_desktop.excel.cells import CELL_LIMIT, clean
from ztmm_desktop.excel.workbook import write_workbook
from ztmm_desktop.services import evidence
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement
from ztmm_desktop.services.workbook import export_workbook

#: Strings a spreadsheet would read as a formula (OWASP CSV injection), each of which must stay text.
PAYLOADS = (
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2",
    "@SUM(A1)",
    "\t=1+1",
    "\r=2+2",
    "\n=3+3",
    "=cmd|' /C calc'!A0",
    "=",
    "-",
)
PILLAR_SHEETS = [
    "1 Identity",
    "2 Devices",
    "3 Networks",
    "4 Applications and Workloads",
    "5 Data",
    "6 Cross-cutting capabilities",
]


def make_engagement(path: Path, tmp_path: Path, *, client: str = "Contoso Ltd") -> Engagement:
    """An engagement with ratings, an override, targets, notes, two findings and one evidence file."""
    engagement = create_engagement(
        path,
        Properties(
            client=client,
            title="Zero Trust baseline",
            assessors=("Lead assessor",),
            marking="CONFIDENTIAL – R&D only",
        ),
    )
    engagement.assess(
        "1.1",
        ratings={Stage.INITIAL: Rating.MET, Stage.ADVANCED: Rating.PARTIAL, Stage.OPTIMAL: Rating.NOT_MET},
        comments={Stage.INITIAL: "MFA enforced for all staff", Stage.ADVANCED: "Phishing-resistant for admins"},
        target=Stage.OPTIMAL,
        note="Workshop on 12 March",
    )
    engagement.assess("1.2", ratings={Stage.INITIAL: Rating.MET}, override=(Stage.ADVANCED, "Agreed in read-out"))
    engagement.assess(
        "2.1",
        ratings={stage: Rating.NOT_APPLICABLE for stage in (Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL)},
    )
    engagement.add_finding("1.1", "Legacy protocols enabled", stage=Stage.ADVANCED, severity="high")
    engagement.add_finding("3.1", "Flat network", observation="One VLAN for all", severity="critical")
    screenshot = tmp_path / "ca-policies.png"
    screenshot.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    evidence.attach(engagement, screenshot, [evidence.EvidenceLink("identity.authentication", Stage.ADVANCED)])
    return engagement


@pytest.fixture
def contoso(tmp_path: Path) -> Iterator[Engagement]:
    with make_engagement(tmp_path / "contoso.ztmm", tmp_path) as engagement:
        yield engagement


def header_map(sheet: Any) -> tuple[int, dict[str, int]]:
    """The header row of a sheet (the row holding ``header``) and each header's column number."""
    for row in sheet.iter_rows(min_row=1, max_row=10):
        texts = {cell.value: cell.column for cell in row if isinstance(cell.value, str)}
        if layout.FUNCTION_ID in texts or "Title" in texts or "Code" in texts:
            return row[0].row, texts
    raise AssertionError(f"no header row on {sheet.title}")


def function_row(sheet: Any, function_id: str) -> dict[str, Any]:
    header, columns = header_map(sheet)
    for row in sheet.iter_rows(min_row=header + 1):
        if row[columns[layout.FUNCTION_ID] - 1].value == function_id:
            return {name: row[col - 1] for name, col in columns.items()}
    raise AssertionError(f"{function_id} not on {sheet.title}")


def trimmed(values: list[Any]) -> list[Any]:
    """A row's values without the empty cells at its end."""
    while values and values[-1] is None:
        values.pop()
    return values


def sheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and name.endswith(".xml")
        }


# -- content --------------------------------------------------------------------------------


def test_the_workbook_has_every_sheet_with_the_engagements_figures(contoso: Engagement, tmp_path: Path) -> None:
    out = export_workbook(contoso, tmp_path / "contoso.xlsx")
    snapshot = build_snapshot(contoso)
    book = load_workbook(out)
    assert book.sheetnames == [
        *("Summary", *PILLAR_SHEETS, "Findings", "Roadmap", "Vendor suggestions", "Evidence", "About", "_ztmm")
    ]
    assert [s.title for s in book.worksheets if s.sheet_state == "visible"] == book.sheetnames[:-1]

    summary = book["Summary"]
    values = [trimmed([c.value for c in row]) for row in summary.iter_rows()]
    assert values[3][:2] == ["Client", "Contoso Ltd"]
    rows = {row[0]: row for row in values if row and row[0] in {"Identity", "Devices", "Overall"}}
    identity = next(p.rollup for p in snapshot.pillars if p.pillar.id == "identity")
    assert rows["Identity"][1:6] == [7, 2, 0, round(identity.score or 0, 2), identity.level.label]  # type: ignore[union-attr]
    assert rows["Devices"][1:5] == [7, 1, 1, "not assessed"]  # 2.1 is not applicable: counted, not scored
    assert rows["Overall"][1:3] == [40, 3]
    assert ["Critical", 1] in values and ["High", 1] in values and ["Evidence files", 1] in values

    sheet = book["1 Identity"]
    authentication = function_row(sheet, "identity.authentication")
    assert authentication["Code"].value == "1.1"
    assert authentication[layout.rating_header(Stage.INITIAL)].value == "Met"
    assert authentication[layout.rating_header(Stage.ADVANCED)].value == "Partially met"
    assert authentication[layout.rating_header(Stage.OPTIMAL)].value == "Not met"
    assert authentication[layout.comment_header(Stage.INITIAL)].value == "MFA enforced for all staff"
    assert authentication["Traditional stage"].value == snapshot.pillars[0].functions[0].stages[0].text
    assert (authentication["Current"].value, authentication["Target"].value) == ("Initial", "Optimal")
    assert (authentication["Gap"].value, authentication["Notes"].value) == (2, "Workshop on 12 March")
    stores = function_row(sheet, "identity.identity_stores")
    assert (stores["Current"].value, stores["Override reason"].value) == ("Advanced (override)", "Agreed in read-out")
    assert function_row(sheet, "identity.risk_assessments")["Current"].value == "Not assessed"
    assert function_row(book["2 Devices"], "devices.policy_enforcement_and_compliance_monitoring")["Current"].value == (
        "Not applicable"
    )

    findings = book["Findings"]
    header, columns = header_map(findings)
    first = [c.value for c in next(findings.iter_rows(min_row=header + 1, max_row=header + 1))]
    assert first[columns["Severity"] - 1] == "Critical" and first[columns["Title"] - 1] == "Flat network"
    roadmap = book["Roadmap"]
    header, columns = header_map(roadmap)
    assert roadmap.cell(header + 1, 1).value == "No roadmap actions were recorded."
    suggestions = book["Vendor suggestions"]
    header, columns = header_map(suggestions)
    codes = {row[columns["Code"] - 1].value for row in suggestions.iter_rows(min_row=header + 1)}
    assert codes == {"1.1"}  # the only function below its target
    ev = book["Evidence"]
    header, columns = header_map(ev)
    row = [c.value for c in next(ev.iter_rows(min_row=header + 1, max_row=header + 1))]
    line = snapshot.evidence[0]
    assert row[columns["Original name"] - 1] == "ca-policies.png"
    assert (row[columns["Size (bytes)"] - 1], row[columns["SHA-256"] - 1]) == (line.size, line.sha256)
    assert row[columns["Links"] - 1] == "1.1 Authentication – Advanced"

    about = [trimmed([c.value for c in row]) for row in book["About"].iter_rows()]
    assert ["Version", "2.0"] in about and ["License", "CC-BY-4.0"] in about
    assert any(r[:1] == ["Attribution"] and "Creative Commons" in r[1] for r in about)


def test_the_workbook_is_marked_for_import_and_rating_cells_have_a_dropdown(
    contoso: Engagement, tmp_path: Path
) -> None:
    out = export_workbook(contoso, tmp_path / "contoso.xlsx")
    book = load_workbook(out)
    meta = book[layout.META_SHEET]
    assert meta.sheet_state == "veryHidden" and meta.protection.sheet
    assert {r[0]: r[1] or "" for r in meta.iter_rows(values_only=True)} == {
        "format": layout.FORMAT,
        "version": layout.LAYOUT_VERSION,
        "kind": layout.KIND_DELIVERABLE,
        "engagement": contoso.meta().id,
        "catalog": "cisa-ztmm@2.0",
        "respondent": "",
    }
    for title in PILLAR_SHEETS:
        sheet = book[title]
        header, columns = header_map(sheet)
        assert sheet.column_dimensions["A"].hidden and columns[layout.FUNCTION_ID] == 1
        ids = [r[0] for r in sheet.iter_rows(min_row=header + 1, values_only=True)]
        pillar = contoso.catalog.pillar(title.split()[0])
        assert ids == [f.id for f in pillar.functions]
        (validation,) = sheet.data_validations.dataValidation
        assert validation.type == "list"
        assert validation.formula1 == '"Met,Partially met,Not met,Not applicable,Not assessed"'
        covered = {str(r) for r in validation.sqref.ranges}
        for stage in (Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL):
            letter = sheet.cell(row=header, column=columns[layout.rating_header(stage)]).column_letter
            assert f"{letter}{header + 1}:{letter}{header + len(ids)}" in covered
        assert sheet.freeze_panes == f"D{header + 1}"
        assert sheet.auto_filter.ref.startswith(f"A{header}:")


def test_every_sheet_prints_landscape_one_page_wide_with_header_rows_and_marking(
    contoso: Engagement, tmp_path: Path
) -> None:
    book = load_workbook(export_workbook(contoso, tmp_path / "contoso.xlsx"))
    for sheet in book.worksheets[:-1]:
        assert sheet.page_setup.orientation == "landscape", sheet.title
        wide = sheet.title in PILLAR_SHEETS  # 17 columns of stage texts: two pages wide keep them readable
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == (2 if wide else 1)
        assert (sheet.print_title_cols == "$B:$C") is wide, sheet.title
        assert sheet.page_setup.fitToHeight == (1 if sheet.title == "Summary" else 0), sheet.title  # one page
        assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4, sheet.title  # the engagement's paper
        assert sheet.oddHeader.center.text == "CONFIDENTIAL – R&&D only"  # & doubled: a header's own codes
        assert sheet.oddFooter.right.text == "Page &P of &N"
    for title in [*PILLAR_SHEETS, "Findings", "Roadmap", "Evidence"]:
        header, _ = header_map(book[title])
        assert book[title].print_title_rows == f"${header}:${header}", title
    assert not book["Roadmap"].tables  # no actions yet: no empty table of them
    for title in ("Findings", "Vendor suggestions", "Evidence"):
        (table,) = book[title].tables.values()
        header, columns = header_map(book[title])
        assert [c.name for c in table.tableColumns] == list(columns)
        assert table.ref.startswith(f"A{header}:")
    widths = {book["Evidence"].column_dimensions[c].width for c in "ABCDE"}
    assert min(widths) >= 10


def test_the_summary_charts_current_against_target(contoso: Engagement, tmp_path: Path) -> None:
    out = export_workbook(contoso, tmp_path / "contoso.xlsx")
    with zipfile.ZipFile(out) as archive:
        (chart,) = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        xml = archive.read(chart).decode()
    assert "<barChart>" in xml and xml.count("<ser>") == 2
    assert "'Summary'!$E$12:$E$17" in xml and "'Summary'!$H$12:$H$17" in xml  # current and target, six pillars
    assert "<strRef><f>'Summary'!$A$12:$A$17</f></strRef>" in xml  # pillar names
    assert '<max val="3" />' in xml and '<min val="0" />' in xml


def test_nothing_assessed_says_so_instead_of_an_empty_chart(tmp_path: Path) -> None:
    with create_engagement(tmp_path / "empty.ztmm", Properties(client="Empty Ltd")) as engagement:
        out = export_workbook(engagement, tmp_path / "empty.xlsx")
    book = load_workbook(out)
    texts = [c.value for row in book["Summary"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "Nothing has been assessed yet, so there is no maturity to chart." in texts
    with zipfile.ZipFile(out) as archive:
        assert not [n for n in archive.namelist() if "chart" in n]
    for title in ("Findings", "Evidence"):
        assert any("No " in str(c.value) for row in book[title].iter_rows() for c in row)
        assert not book[title].tables


def test_progress_reaches_the_end(contoso: Engagement, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    export_workbook(contoso, tmp_path / "p.xlsx", progress=lambda done, total, message: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


# -- formula injection (SECURITY.md item 10) ------------------------------------------------------


def test_formula_payloads_round_trip_as_text(tmp_path: Path) -> None:
    with make_engagement(tmp_path / "x.ztmm", tmp_path, client='=HYPERLINK("http://x","client")') as engagement:
        for number, payload in enumerate(PAYLOADS, start=1):
            engagement.assess(
                f"3.{number % 7 + 1}" if number < 8 else f"5.{number - 6}",
                ratings={Stage.INITIAL: Rating.PARTIAL},
                comments={Stage.INITIAL: payload, Stage.OPTIMAL: payload},
                note=payload,
                override=(Stage.INITIAL, payload) if payload.strip() else None,
            )
            engagement.add_finding("4.1", payload if payload.strip() else f"{payload}x", observation=payload)
            sample = tmp_path / f"sample{number}.txt"
            sample.write_text(f"evidence {number}", encoding="utf-8")
            evidence.attach(engagement, sample, [evidence.EvidenceLink("1.1")], title=payload + " title")
        snapshot = build_snapshot(engagement)
        out = export_workbook(engagement, tmp_path / "x.xlsx")

    expected: set[str] = {snapshot.meta.client}
    for function in snapshot.functions():
        expected.add(function.assessment.notes)
        expected.add(function.result.override_reason)
        expected.update(line.comment for line in function.stages)
    for finding in snapshot.findings:
        expected.update((finding.title, finding.observation))
    expected.update(e.title for e in snapshot.evidence)
    triggers = {clean(t)[0].replace("\r", "\n") for t in expected if t and t[0] in "=+-@\t\r\n"}
    assert len(triggers) >= len(PAYLOADS)

    book = load_workbook(out)
    found: dict[str, int] = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and value.replace("\r", "\n") in triggers:
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, value)
                    assert cell.quotePrefix, (sheet.title, cell.coordinate, value)
                    found[value] = found.get(value, 0) + 1
                assert not (isinstance(value, str) and value.startswith("=") and cell.data_type == "f")
    assert {v.replace("\r", "\n") for v in found} == triggers
    for name, xml in sheet_xml(out).items():
        assert not re.search(r"<(\w+:)?f[ >/]", xml), f"{name} holds a formula"


def test_nul_leading_and_overlong_text_is_cleaned_and_cut_visibly(contoso: Engagement, tmp_path: Path) -> None:
    snapshot = build_snapshot(contoso)
    pillar = snapshot.pillars[0]
    first = pillar.functions[0]
    long_note = "x" * (CELL_LIMIT + 10)
    hostile = dataclasses.replace(
        first,
        assessment=dataclasses.replace(first.assessment, notes=long_note),
        stages=(first.stages[0], dataclasses.replace(first.stages[1], comment="\x00=1+1\x07"), *first.stages[2:]),
    )
    findings = (dataclasses.replace(snapshot.findings[0], title="\x00@SUM(A1)"), *snapshot.findings[1:])
    snapshot = dataclasses.replace(
        snapshot,
        pillars=(dataclasses.replace(pillar, functions=(hostile, *pillar.functions[1:])), *snapshot.pillars[1:]),
        findings=findings,
    )
    out = tmp_path / "nul.xlsx"
    write_workbook(snapshot, out)
    book = load_workbook(out)
    row = function_row(book["1 Identity"], first.function.id)
    comment = row[layout.comment_header(Stage.INITIAL)]
    assert (comment.value, comment.data_type, comment.quotePrefix) == ("=1+1", "s", True)
    notes = row["Notes"].value
    assert len(notes) == CELL_LIMIT and notes.endswith("the assessor has the full text]")
    titles = [c.value for r in book["Findings"].iter_rows() for c in r]
    assert "@SUM(A1)" in titles
    for name, xml in sheet_xml(out).items():
        assert not re.search(r"<(\w+:)?f[ >/]", xml), f"{name} holds a formula"


# -- a real client: LibreOffice reads the values --------------------------------------------------


def libreoffice_csv(workbook: Path, folder: Path) -> dict[str, list[list[str]]]:
    """Every sheet of ``workbook`` as LibreOffice reads it (raw values, UTF-8 CSV), by sheet name."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder.mkdir()
    profile = (folder / "profile").as_uri()
    filter_options = "Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", f"csv:{filter_options}",
         "--outdir", str(folder), str(workbook)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sheets = {}
    for path in folder.glob(f"{workbook.stem}-*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            sheets[path.stem.removeprefix(f"{workbook.stem}-")] = list(csv.reader(handle))
    assert sheets, done.stdout + done.stderr
    return sheets


def test_libreoffice_reads_the_values(tmp_path: Path) -> None:
    with make_engagement(tmp_path / "lo.ztmm", tmp_path) as engagement:
        engagement.assess("1.3", ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: "+1+1"})
        engagement.add_finding("1.3", '=HYPERLINK("http://x","y")', severity="low")
        snapshot = build_snapshot(engagement)
        out = export_workbook(engagement, tmp_path / "lo.xlsx")
    sheets = libreoffice_csv(out, tmp_path / "lo")
    assert {"Summary", *PILLAR_SHEETS, "Findings", "Roadmap", "Evidence", "About"} <= set(sheets)

    summary = {row[0]: row for row in sheets["Summary"] if row}
    assert summary["Client"][1] == "Contoso Ltd"
    overall = summary["Overall"]
    assert overall[1:4] == ["40", "4", "1"]
    assert float(overall[4]) == figures.mean_number(snapshot.overall.score)  # the rounded figure, as shown
    identity = sheets["1 Identity"]
    header = next(i for i, row in enumerate(identity) if row and row[0] == layout.FUNCTION_ID)
    columns = {name: i for i, name in enumerate(identity[header])}
    rows = {row[0]: row for row in identity[header + 1 :]}
    auth = rows["identity.authentication"]
    assert auth[columns["Initial rating"]] == "Met" and auth[columns["Advanced rating"]] == "Partially met"
    assert auth[columns["Gap"]] == "2"
    assert rows["identity.risk_assessments"][columns["Initial comment"]] == "+1+1"  # text, not 2
    findings = [row for row in sheets["Findings"] if len(row) > 4]
    assert any(row[5] == '=HYPERLINK("http://x","y")' for row in findings)  # text, not a link showing "y"
    line = snapshot.evidence[0]
    assert any(line.sha256 in row and str(line.size) in row for row in sheets["Evidence"])
    assert any("Creative Commons" in cell for row in sheets["About"] for cell in row)


# -- bad output paths: one line, nothing written ---------------------------------------------------


@pytest.fixture
def engagement_file(tmp_path: Path) -> Path:
    path = tmp_path / "client.ztmm"
    make_engagement(path, tmp_path).close()
    return path


def assert_refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert message in result.stderr


def test_cli_exports_the_workbook(engagement_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "deliverable.xlsx"
    before = engagement_file.read_bytes()
    result = run_cli("export", engagement_file, out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{out}  (deliverable workbook)"
    assert load_workbook(out, read_only=True).sheetnames[0] == "Summary"
    assert engagement_file.read_bytes() == before


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/out.xlsx", "missing: no such folder"),
        ("folder.xlsx", "folder.xlsx is a folder"),
        ("out.csv", "out.csv: the workbook name must end in .xlsx"),
        ("out", "out: the workbook name must end in .xlsx"),
    ],
)
def test_bad_output_paths_are_refused(engagement_file: Path, tmp_path: Path, target: str, message: str) -> None:
    (tmp_path / "folder.xlsx").mkdir()
    before = engagement_file.read_bytes()
    listing = sorted(p.name for p in tmp_path.iterdir())
    assert_refused(run_cli("export", engagement_file, tmp_path / target), message)
    assert engagement_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
    assert not list((tmp_path / "folder.xlsx").iterdir())


def test_a_read_only_folder_is_refused(engagement_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    kwargs: dict[str, Any] = {"preexec_fn": drop_root_file_powers} if os.geteuid() == 0 else {}
    folder.chmod(0o555)
    try:
        result = run_cli("export", engagement_file, folder / "out.xlsx", **kwargs)
    finally:
        folder.chmod(0o755)
    assert_refused(result, "cannot write")
    assert "Permission denied" in result.stderr
    assert list(folder.iterdir()) == []


def test_options_of_the_questionnaire_need_it(engagement_file: Path, tmp_path: Path) -> None:
    assert_refused(
        run_cli("export", engagement_file, tmp_path / "x.xlsx", "--respondent", "Service desk"),
        "--respondent and --scope go with --questionnaire",
    )
    assert not (tmp_path / "x.xlsx").exists()


def test_cancel_leaves_no_file_and_keeps_an_existing_one(
    contoso: Engagement, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))  # where openpyxl streams its sheets
    out = tmp_path / "out" / "deliverable.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"an earlier deliverable")
    token = CancelToken()

    def cancel_midway(done: int, total: int, message: str) -> None:
        if message != "Writing Summary":
            token.cancel()

    with pytest.raises(Cancelled):
        export_workbook(contoso, out, progress=cancel_midway, cancel=token)
    assert out.read_bytes() == b"an earlier deliverable"
    assert [p.name for p in out.parent.iterdir()] == ["deliverable.xlsx"]
    assert list(scratch.iterdir()) == []
