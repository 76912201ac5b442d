"""The project as a user gets it from ``pip install``: sdist → wheel → a fresh venv, run from outside the checkout.

The wheel is built without build isolation (this venv's setuptools) from an
sdist of a copy of the sources, so the sdist's manifest is checked on the way.
It is installed with ``--no-deps`` into a fresh venv; the third-party packages
of this venv are made visible there by a ``.pth`` line naming this venv's
site-packages (a ``.pth`` line adds a folder to ``sys.path`` without running
the ``.pth`` files inside it, so the editable install of the checkout stays
inactive and ``ztmm_desktop`` comes from the wheel alone: checked below).
"""

from __future__ import annotations

import ast
import email.parser
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from ztmm_desktop import __version__

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "ztmm_desktop", "catalog", "resources")
TIMEOUT = 180


def run(command: list[str | os.PathLike[str]], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [os.fsdecode(c) for c in command],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match is not None, requirement
    return _normal(match.group(1))


def third_party_imports() -> set[str]:
    """Top-level modules outside the standard library that ``ztmm_desktop`` imports anywhere."""
    found: set[str] = set()
    for path in (ROOT / "ztmm_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.partition(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in ("ztmm_desktop", "__future__")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """(the wheel, the fresh venv, a work folder outside the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "_data")
    for name in SOURCES:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name, ignore=ignore)
        else:
            shutil.copy2(item, source / name)
    sdists, wheels = base / "sdist", base / "wheels"
    run([sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(sdists)!r})"], source)
    (sdist,) = sdists.glob("*.tar.gz")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, sdist], base)
    (wheel,) = wheels.glob("*.whl")

    venv = base / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], base)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base).strip())
    (site / "zz_dev_venv_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel], base)
    work = base / "work"
    work.mkdir()
    yield wheel, venv, work


def venv_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["ZTMM_DATA_DIR"] = str(work / "data")
    return env


def tool(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / (f"{name}.exe" if os.name == "nt" else name)


def test_wheel_carries_catalog_resources_and_metadata(installed: tuple[Path, Path, Path]) -> None:
    wheel, _venv, _work = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = (n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode("utf-8"))
    for shipped in (ROOT / "catalog", ROOT / "resources"):
        for path in shipped.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert f"ztmm_desktop/_data/{path.relative_to(ROOT).as_posix()}" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for step in (ROOT / "ztmm_desktop" / "server" / "migrations").rglob("*.py"):  # ztmm server init needs them
        assert step.relative_to(ROOT).as_posix() in names
    assert metadata["Version"] == __version__

    requires = {_requirement_name(r) for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert {_requirement_name(r) for r in declared} <= requires
    assert {"pyside6-essentials", "pyside6-addons", "sqlmodel", "openpyxl", "reportlab", "pyyaml"} <= requires
    providers = importlib.metadata.packages_distributions()
    for module in sorted(third_party_imports()):  # every package the code imports is a dependency of the wheel
        distributions = {_normal(d) for d in providers.get(module, [])}
        assert distributions & requires, (
            f"ztmm_desktop imports {module} ({distributions}) but the wheel does not require it"
        )


def test_installed_commands_work_from_outside_the_checkout(installed: tuple[Path, Path, Path]) -> None:
    _wheel, venv, work = installed
    env = venv_env(work)
    python = tool(venv, "python")
    where = json.loads(
        run(
            [
                python,
                "-c",
                "import json, ztmm_desktop, ztmm_desktop.paths as p; print(json.dumps({'file': ztmm_desktop.__file__,"
                " 'catalog': str(p.catalog_dir()), 'fonts': str(p.fonts_dir())}))",
            ],
            work,
            env,
        )
    )
    root = venv.resolve()
    for key in ("file", "catalog", "fonts"):
        assert Path(where[key]).resolve().is_relative_to(root), f"{key}: {where[key]} is not in the fresh venv"
    package = Path(where["file"]).parent
    assert (package / "_data" / "catalog" / "cisa-ztmm-v2.yaml").is_file()
    assert any((package / "_data" / "resources" / "fonts").glob("*.ttf"))

    assert run([tool(venv, "ztmm"), "--version"], work, env).strip() == f"ztmm {__version__}"
    assert run([tool(venv, "ztmm-desktop"), "--version"], work, env).strip() == f"ztmm-desktop {__version__}"
    catalog = json.loads(run([tool(venv, "ztmm"), "catalog", "--json"], work, env))
    assert sum(len(p["functions"]) for p in catalog["pillars"]) == 40
    assert [p["id"] for p in catalog["packs"]] == ["microsoft-cisa-ztmm"]
    assert any(s["guidance"] for p in catalog["pillars"] for f in p["functions"] for s in f["stages"])

    out = run([tool(venv, "ztmm-desktop"), "--self-test"], work, env)
    assert out.splitlines()[-1].startswith(f"self-test passed: ZTMM Workbench {__version__}")


def test_a_source_checkout_reads_its_own_catalog_and_resources() -> None:
    """The editable install of ``make test`` (and ``make run``) uses the checkout's files, not a copy."""
    from ztmm_desktop import paths

    assert paths.catalog_dir() == ROOT / "catalog"
    assert paths.resources_dir() == ROOT / "resources"
    assert not (ROOT / "ztmm_desktop" / "_data").exists()
