"""Test set-up: offscreen Qt, a private app data folder per test, CLI helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENPYXL_LXML", "False")  # as ztmm_desktop/__init__.py: test modules may import openpyxl first

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "fixtures" / "reference"


#: Modules of few tests that run for a minute or more: started first, so that on two cores they do
#: not run last and alone (``make test`` passes ``--no-loadscope-reorder`` so xdist keeps this order).
LONG_MODULES = (
    "tests/store/test_big_document.py",
    "tests/store/test_crash.py",
    "tests/store/test_attach_crash.py",
    "tests/test_encryption.py",
    "tests/test_registers_cli.py",
    "tests/server/test_server_merge.py",
    "tests/server/test_live_concurrency.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long modules first, then the others by their number of tests (what xdist does by default)."""
    counts: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        counts[module] = counts.get(module, 0) + 1

    def rank(item: pytest.Item) -> tuple[int, int]:
        module = item.nodeid.split("::", 1)[0]
        first = LONG_MODULES.index(module) if module in LONG_MODULES else len(LONG_MODULES)
        return (first, -counts[module])

    items.sort(key=rank)  # stable: a module's tests keep their order


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


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Path]]:
    """``hostile(kind)``: a hostile engagement file (``tests/support/hostile_files.py``), alone in a
    folder of its own, made once per session; ``hostile.base`` is the sound file they are made from."""
    from tests.support import hostile_files

    root = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTMM_DATA_DIR", str(root / "appdata"))
        base = hostile_files.base_file(root / "base.ztmm")
    made: dict[str, Path] = {}

    def make(kind: str) -> Path:
        if kind not in made:
            folder = root / kind
            folder.mkdir()
            made[kind] = hostile_files.make(kind, base, folder / f"{kind}.ztmm")
        return made[kind]

    make.base = base  # type: ignore[attr-defined]
    yield make


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """A throw-away PostgreSQL cluster (``tests/support/pg.py``), started the first time a test of
    this process (one per xdist worker) needs it and stopped at the end of the session.

    Without PostgreSQL the tests that need it are skipped on a developer's machine, but fail in
    CI (``CI`` set): there, ``tools/system-deps.sh`` installs it and nothing may be skipped."""
    from tests.support import pg

    if pg.bin_dir() is None:
        message = "PostgreSQL is not installed (tools/system-deps.sh installs the Debian package postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = pg.temp_folder()
    try:
        cluster = pg.Cluster.start(folder)
    except BaseException:
        pg.remove(folder)
        raise
    try:
        yield cluster
    finally:
        pg.remove(folder)
