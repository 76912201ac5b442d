"""Test set-up: offscreen Qt, a private app data folder per test, CLI helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENPYXL_LXML", "False")  # as ztmm_desktop/__init__.py: test modules may import openpyxl first

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "fixtures" / "reference"


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Working copies, backups and settings of each test go to a folder of its own."""
    folder = tmp_path_factory.mktemp("appdata")
    monkeypatch.setenv("ZTMM_DATA_DIR", str(folder))
    monkeypatch.delenv("ZTMM_ASSESSOR", raising=False)  # who edits is the test's to say
    yield folder


def run_cli(
    *args: str | os.PathLike[str], env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run ``ztmm`` in a fresh process, as a user would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "ztmm_desktop.cli", *map(os.fsdecode, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=120,
        **kwargs,
    )
