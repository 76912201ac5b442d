"""``ztmm-desktop --self-test`` from the source checkout: what a packager or a support call relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import ROOT
from ztmm_desktop import __version__

pytestmark = pytest.mark.gui

WORKBOOK, REPORT = "ZTMM self-test workbook.xlsx", "ZTMM self-test report.pdf"


def desktop(*args: str | os.PathLike[str], cwd: Path, data: Path) -> subprocess.CompletedProcess[str]:
    """``ztmm-desktop ARGS`` in a fresh process, with no display and no platform chosen, as on a bare server."""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["ZTMM_DATA_DIR"] = str(data)  # the "user's" data folder: the self-test must leave it alone
    return subprocess.run(
        [sys.executable, "-m", "ztmm_desktop.ui.app", *map(os.fsdecode, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=180,
        check=False,
    )


def test_self_test_passes_and_keeps_the_exports_when_asked(tmp_path: Path) -> None:
    data, out = tmp_path / "user-data", tmp_path / "out"
    data.mkdir()
    done = desktop("--self-test", "--self-test-output", out, cwd=tmp_path, data=data)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "ok  window opened: 6 pillars, 40 functions, Northwind Logistics (fictional)"
    assert any(line.startswith("ok  workbook exported: ") for line in lines)
    assert any(line.startswith("ok  report exported: ") for line in lines)
    assert lines[-1].startswith(f"self-test passed: ZTMM Workbench {__version__}")
    assert done.stderr == ""
    assert list(data.iterdir()) == []  # the user's settings, recent files and working copies untouched
    book = openpyxl.load_workbook(out / WORKBOOK, read_only=True)
    assert "Summary" in book.sheetnames
    book.close()
    assert (out / REPORT).read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in out.iterdir()) == sorted([REPORT, WORKBOOK])  # no temp files left


def test_a_failed_check_exits_1_with_a_one_line_reason(tmp_path: Path) -> None:
    data, out = tmp_path / "user-data", tmp_path / "out"
    data.mkdir()
    (out / WORKBOOK).mkdir(parents=True)  # a folder where the workbook must go: the export cannot write it
    done = desktop("--self-test", "--self-test-output", out, cwd=tmp_path, data=data)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith("ok  window opened: ")
    assert "self-test passed" not in done.stdout
    assert done.stderr.splitlines() == [
        f"self-test FAILED: workbook: {out / WORKBOOK} is a folder, not a file; choose another name"
    ]


def test_version_and_usage() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ztmm_desktop.ui.app", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, f"ztmm-desktop {__version__}")
    done = subprocess.run(
        [sys.executable, "-m", "ztmm_desktop.ui.app", "--self-test-output", "x"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--self-test-output needs --self-test" in done.stderr.splitlines()[-1]
