"""Hostile and foreign files given to ``ztmm import``: one clear line each, nothing changed (SECURITY.md 6–9).

The files are made here (``tests/support/hostile_workbooks.py``). How long each
took to refuse and the peak memory are measured by ``benchmarks/bench_import.py``;
here the child-process test asserts the memory bound (not a timing).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import ROOT, run_cli
from tests.support import hostile_workbooks as hostile
from tests.test_questionnaire import _soffice
from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.excel import reader
from ztmm_desktop.services import questionnaire as qs
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement

MEMORY_LIMIT_MIB = 300


@pytest.fixture
def engagement(tmp_path: Path) -> Iterator[Engagement]:
    with create_engagement(tmp_path / "client.ztmm", Properties(client="Contoso")) as e:
        yield e


@pytest.fixture
def questionnaire(engagement: Engagement, tmp_path: Path) -> Path:
    return qs.export_questionnaire(engagement, tmp_path / "questionnaire.xlsx", respondent="Identity team lead")


def _foreign_huge_dimension(source: Path, target: Path) -> Path:
    book = openpyxl.Workbook()
    book.active["A1"] = "Answer"
    book.save(target)
    return hostile.huge_dimension(target, target.with_name("dim-" + target.name))


#: name → (builder(questionnaire, target) → path, what the one-line error says)
CASES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "zip-bomb": (lambda q, t: hostile.zip_bomb(t), r"unpacks to 1,07\d,\d{3},\d{3} bytes .*possible zip bomb"),
    "lying-size": (hostile.lying_size, r"part xl/worksheets/sheet2\.xml is damaged"),
    "entity-bomb": (hostile.entity_bomb, r"declares an XML document type or entities; refused"),
    "far-cell": (hostile.far_cell, r"sheet 'Identity' has more than 10,000 rows; refused"),
    "foreign-huge-dimension": (_foreign_huge_dimension, r"not a workbook exported by ZTMM Workbench"),
    "xls": (lambda q, t: hostile.xls_like(t), r"old-style Excel \.xls workbook"),
    "ods": (lambda q, t: hostile.ods_like(t), r"OpenDocument spreadsheet \(\.ods\)"),
    "csv": (lambda q, t: hostile.csv_file(t), r"text or CSV file, not an Excel workbook"),
    "pdf": (lambda q, t: hostile.pdf_file(t), r"PDF document, not an Excel workbook"),
    "password": (hostile.password_protected, r"password-protected workbook"),
    "truncated": (hostile.truncated, r"damaged or truncated"),
    "empty": (lambda q, t: hostile.empty(t), r"empty \(0 bytes\)"),
}


def _state(engagement: Engagement) -> tuple[object, ...]:
    return (engagement.assessments(), qs.responses(engagement), len(engagement.audit_log()))


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_file_is_refused_in_one_line_and_changes_nothing(
    engagement: Engagement, questionnaire: Path, tmp_path: Path, case: str
) -> None:
    build, message = CASES[case]
    bad = build(questionnaire, tmp_path / f"{case}.xlsx")
    state = _state(engagement)
    with pytest.raises(BadInput, match=message) as caught:
        qs.read_responses(engagement, bad, respondent="Identity team lead")
    text = str(caught.value)
    assert "\n" not in text and bad.name in text
    assert _state(engagement) == state


def test_declared_dimension_is_ignored(engagement: Engagement, questionnaire: Path, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(questionnaire)
    book["Identity"]["G6"] = "Met"
    book.save(tmp_path / "filled.xlsx")
    lying = hostile.huge_dimension(tmp_path / "filled.xlsx", tmp_path / "dimension.xlsx")
    plan = qs.read_responses(engagement, lying)
    assert [(d.function_code, d.new_answer and d.new_answer.label) for d in plan.differences] == [("1.1", "Met")]


def test_entity_bomb_is_refused_by_the_parser_too(
    engagement: Engagement, questionnaire: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: without the reader's own DTD check, defusedxml still refuses it."""
    monkeypatch.setattr(reader, "_DTD", re.compile(rb"(?!)"))
    bad = hostile.entity_bomb(questionnaire, tmp_path / "entity.xlsx")
    with pytest.raises(BadInput, match="declares XML entities; refused"):
        qs.read_responses(engagement, bad)


def test_member_shorter_than_declared_is_damaged(engagement: Engagement, questionnaire: Path, tmp_path: Path) -> None:
    import zipfile
    import zlib

    with zipfile.ZipFile(questionnaire) as archive:
        members = []
        for info in archive.infolist():
            data = archive.read(info)
            declared = len(data) + 5000 if info.filename == "xl/worksheets/sheet2.xml" else len(data)
            packed = zlib.compressobj(9, zlib.DEFLATED, -15)
            members.append((info.filename, packed.compress(data) + packed.flush(), zlib.crc32(data), declared))
    bad = hostile.raw_zip(tmp_path / "short.xlsx", members)
    with pytest.raises(BadInput, match=r"sheet2\.xml (is damaged|is shorter than it declares)"):
        qs.read_responses(engagement, bad)


def test_reading_needs_defusedxml(engagement: Engagement, questionnaire: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    with pytest.raises(BadInput, match="defusedxml"):
        qs.read_responses(engagement, questionnaire)


def test_cli_refuses_hostile_files_with_exit_2_and_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "c.ztmm"
    assert run_cli("new", path, "--client", "Contoso").returncode == 0
    before = path.read_bytes()
    for bad in (hostile.zip_bomb(tmp_path / "bomb.xlsx"), hostile.empty(tmp_path / "empty.xlsx")):
        done = run_cli("import", path, bad)
        assert done.returncode == 2, done.stderr
        assert done.stdout == "" and done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert path.read_bytes() == before


_CHILD = textwrap.dedent(
    """
    import json, sys, time, contextlib, io
    from ztmm_desktop import cli

    def peak_mib():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    engagement, *files = sys.argv[1:]
    report = []
    for name in files:
        err = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["import", engagement, name, "--respondent", "Identity team lead"])
        report.append({"file": name, "code": code, "error": err.getvalue(),
                       "seconds": time.perf_counter() - start, "peak_mib": peak_mib()})
    print(json.dumps(report))
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads VmHWM from /proc")
def test_every_hostile_file_is_refused_within_the_memory_bound(tmp_path: Path) -> None:
    engagement = tmp_path / "own" / "client.ztmm"
    engagement.parent.mkdir()
    with create_engagement(engagement, Properties(client="Contoso")) as e:  # closed before the child opens it
        questionnaire = qs.export_questionnaire(e, tmp_path / "questionnaire.xlsx", respondent="Identity team lead")
    files = [str(build(questionnaire, tmp_path / f"{case}.xlsx")) for case, (build, _) in sorted(CASES.items())]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(engagement), *files],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout)
    assert len(report) == len(files)
    for item, (_, (_, message)) in zip(report, sorted(CASES.items()), strict=True):
        assert item["code"] == 2, item
        assert re.search(message, item["error"]), item
        assert item["error"].startswith("error: ") and item["error"].count("\n") == 1, item
    assert report[-1]["peak_mib"] < MEMORY_LIMIT_MIB, report


@pytest.mark.slow
def test_real_xls_and_ods_from_libreoffice_are_named(
    engagement: Engagement, questionnaire: Path, tmp_path: Path
) -> None:
    for target_format, message in (("xls", r"old-style Excel \.xls"), ("ods", r"OpenDocument spreadsheet")):
        converted = _soffice(questionnaire, tmp_path, target_format)
        renamed = converted.rename(converted.with_name(f"{target_format}-renamed.xlsx"))
        with pytest.raises(BadInput, match=message):
            qs.read_responses(engagement, renamed)
