"""Every command meets every kind of hostile engagement file: one line, exit 2, nothing changed.

The files come from ``tests/support/hostile_files.py`` (foreign tables, triggers and
views, values out of their domain, damaged structure). Each read command runs
in-process through ``cli.main`` (as the ``ztmm`` command does) against each file, as
the file itself or as the other file of ``compare --with`` and ``merge``; a few run as
real processes with a timeout, so that a hang would fail the test instead of freezing
the run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support import hostile_files
from ztmm_desktop import cli
from ztmm_desktop.store.lock import lock_path_for


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


#: Each read command (and ``assess``, which writes): the arguments for a hostile file
#: ``h``, a sound engagement ``g`` and an output folder ``o``.
COMMANDS: dict[str, Callable[[Path, Path, Path], list[str]]] = {
    "info": lambda h, g, o: ["info", str(h)],
    "info --json": lambda h, g, o: ["info", str(h), "--json"],
    "verify": lambda h, g, o: ["verify", str(h)],
    "evidence": lambda h, g, o: ["evidence", str(h)],
    "compare --with": lambda h, g, o: ["compare", str(g), "--with", str(h), "--force"],
    "merge": lambda h, g, o: ["merge", str(g), str(h), "--force"],
    "export": lambda h, g, o: ["export", str(h), str(o / "out.xlsx")],
    "report": lambda h, g, o: ["report", str(h), str(o / "out.pdf")],
    "assess": lambda h, g, o: ["assess", str(h), "1.1", "--rate", "initial=met", "--by", "Tester"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("kind", list(hostile_files.KINDS))
def test_every_command_refuses_every_hostile_file_with_one_line_and_changes_nothing(
    kind: str,
    command: str,
    hostile: Callable[[str], Path],
    tmp_path: Path,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = hostile(kind)
    good = tmp_path / "mine.ztmm"
    shutil.copyfile(hostile.base, good)  # type: ignore[attr-defined]
    out = tmp_path / "out"
    out.mkdir()
    before = (digest(path), digest(good), sorted(os.listdir(path.parent)))

    code = cli.main(COMMANDS[command](path, good, out))

    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == cli.EXIT_BAD_INPUT, captured.err
    assert len(lines) == 1 and lines[0].startswith(f"error: {path.name}: "), lines
    assert "unexpected failure" not in lines[0]
    assert all(ch.isprintable() for ch in lines[0]), lines[0]  # nothing from the file reaches the terminal raw
    assert (digest(path), digest(good), sorted(os.listdir(path.parent))) == before
    assert not lock_path_for(path).exists() and not lock_path_for(good).exists()
    assert list(out.iterdir()) == []
    assert files_under(data_dir) == []  # no working copy, no backup, no sidecar


def test_the_base_file_itself_passes(hostile: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["info", str(hostile.base)]) == cli.EXIT_OK  # type: ignore[attr-defined]
    assert cli.main(["verify", str(hostile.base)]) == cli.EXIT_OK  # type: ignore[attr-defined]


#: Kinds that once hung the app or ran out of memory, as real processes.
HANG_PRONE = (
    "recursive-view-replacing-a-table",
    "view-expanding-the-audit-trail",
    "huge-text-value",
    "deeply-nested-json",
    "trigger-growing-the-file",
)


@pytest.mark.parametrize("command", ["info", "merge"])
@pytest.mark.parametrize("kind", HANG_PRONE)
def test_hang_prone_files_are_refused_by_a_real_process_within_seconds(
    kind: str, command: str, hostile: Callable[[str], Path], tmp_path: Path, data_dir: Path
) -> None:
    path = hostile(kind)
    good = tmp_path / "mine.ztmm"
    shutil.copyfile(hostile.base, good)  # type: ignore[attr-defined]
    before = digest(path)
    args = COMMANDS[command](path, good, tmp_path)
    # The timeout only stops a hang from freezing the run: without the gate these never ended.
    done = subprocess.run(
        [sys.executable, "-m", "ztmm_desktop.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ZTMM_DATA_DIR": str(data_dir)},
        timeout=5,
    )
    assert done.returncode == cli.EXIT_BAD_INPUT, done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert digest(path) == before
    assert files_under(data_dir) == []


@pytest.mark.parametrize("kind", list(hostile_files.EVIDENCE_BYTES_KINDS))
def test_damaged_evidence_bytes_leave_the_file_readable_and_verify_names_the_evidence(
    kind: str, hostile: Callable[[str], Path], data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = hostile(kind)
    before = digest(path)
    assert cli.main(["info", str(path)]) == cli.EXIT_OK
    capsys.readouterr()

    assert cli.main(["verify", str(path)]) == cli.EXIT_PROBLEMS

    report = capsys.readouterr().out.splitlines()
    assert any("export-" in line and "bytes" in line for line in report), report
    assert report[-1].endswith("evidence files match their SHA-256")
    assert digest(path) == before and files_under(data_dir) == []
