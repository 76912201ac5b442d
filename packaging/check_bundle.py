"""Smoke test of a built bundle (``make package`` runs it): does ``dist/ztmm-workbench`` work, how big, how fast.

    .venv/bin/python packaging/check_bundle.py [dist/ztmm-workbench]

1. ``ztmm --version`` and ``ztmm-desktop --version`` print the version of ``ztmm_desktop/__init__.py``;
2. ``ztmm catalog --json`` parses and has the 40 functions and the guidance;
3. ``ztmm-desktop --self-test`` exits 0 (the window on the demo, offscreen; the workbook and the report
   exported and read back);
4. the size of the bundle (``du -sh``, and the sum of its files) and the start time: from starting
   ``ztmm-desktop --self-test`` to its ``ok  window opened`` line (the process started, Python and Qt
   loaded, the demo engagement built and the workbench shown), and the whole self-test.

Runs from a temp folder with a private ``ZTMM_DATA_DIR``; exit code 0 when everything passed, 1 otherwise.
``benchmarks/bench_bundle.py`` uses the same helpers for its repeated, floor-relative figures.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = ROOT / "dist" / "ztmm-workbench"
WINDOW_LINE = "ok  window opened"
TIMEOUT = 180


def version() -> str:
    text = (ROOT / "ztmm_desktop" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if match is None:
        raise SystemExit("error: no __version__ in ztmm_desktop/__init__.py")
    return match.group(1)


def executable(bundle: Path, name: str) -> Path:
    return bundle / (f"{name}.exe" if os.name == "nt" else name)


def clean_env(data: Path) -> dict[str, str]:
    """The environment of a user's shell: nothing of the dev venv, a data folder of our own."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["ZTMM_DATA_DIR"] = str(data)
    return env


def bundle_bytes(bundle: Path) -> int:
    return sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())


def du(bundle: Path) -> str:
    """``du -sh`` of the bundle, or the sum of its files where there is no ``du``."""
    if shutil.which("du"):
        done = subprocess.run(["du", "-sh", str(bundle)], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return done.stdout.split()[0]
    return f"{bundle_bytes(bundle) / 2**20:.0f}M"


def time_to_line(command: list[str], marker: str, env: dict[str, str], cwd: Path) -> tuple[float, float, str, int]:
    """Run ``command``; seconds until a stdout line starts with ``marker``, seconds until exit, stdout, exit code."""
    start = time.perf_counter()
    seen = float("nan")
    lines: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(marker) and seen != seen:  # the first one (nan != nan)
                seen = time.perf_counter() - start
            lines.append(line)
        code = process.wait(timeout=TIMEOUT)
    return seen, time.perf_counter() - start, "".join(lines), code


def check(bundle: Path) -> list[str]:
    """The problems found (empty: the bundle works); prints what it checked."""
    problems: list[str] = []
    desktop, cli = executable(bundle, "ztmm-desktop"), executable(bundle, "ztmm")
    for path in (desktop, cli):
        if not path.is_file():
            return [f"{path} is missing (build with: make package)"]
    want = version()
    with tempfile.TemporaryDirectory(prefix="ztmm-bundle-check-") as folder:
        work = Path(folder)
        env = clean_env(work / "data")

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                list(args), capture_output=True, text=True, env=env, cwd=work, timeout=TIMEOUT, check=False
            )

        for path, name in ((cli, "ztmm"), (desktop, "ztmm-desktop")):
            done = run(str(path), "--version")
            if done.returncode != 0 or done.stdout.strip() != f"{name} {want}":
                problems.append(f"{name} --version printed {done.stdout.strip()!r} (exit {done.returncode})")
            else:
                print(f"ok  {name} --version: {done.stdout.strip()}")

        done = run(str(cli), "catalog", "--json")
        try:
            data = json.loads(done.stdout)
            functions = sum(len(p["functions"]) for p in data["pillars"])
            packs = [p["id"] for p in data["packs"]]
            if done.returncode != 0 or functions != 40 or not packs:
                raise ValueError(f"{functions} functions, packs {packs}, exit {done.returncode}")
            print(f"ok  ztmm catalog --json: {data['catalog']['title']} {data['catalog']['version']},")
            print(f"    {len(data['pillars'])} pillars, {functions} functions, guidance: {', '.join(packs)}")
        except (ValueError, KeyError, TypeError) as err:
            problems.append(f"ztmm catalog --json: {err} {done.stderr.strip()[:200]}")

        window, total, output, code = time_to_line([str(desktop), "--self-test"], WINDOW_LINE, env, work)
        print("    " + output.rstrip().replace("\n", "\n    "))
        if code != 0:
            problems.append(f"ztmm-desktop --self-test exited {code}")
        else:
            print(f"ok  ztmm-desktop --self-test: window on the demo after {window:.2f} s, all checks in {total:.2f} s")
        leftovers = sorted(p.name for p in (work / "data").glob("*")) if (work / "data").exists() else []
        if leftovers:
            problems.append(f"the self-test wrote into the user's data folder: {', '.join(leftovers)}")

    dangling = sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_symlink() and not p.exists())
    if dangling:  # codesign refuses them on macOS; an installer copies them as they are
        problems.append(f"{len(dangling)} link(s) to nothing in the bundle: {', '.join(dangling[:5])}")
    else:
        print("ok  no link in the bundle points at nothing")
    print(f"    bundle: {bundle}  {du(bundle)}  ({bundle_bytes(bundle) / 2**20:.1f} MiB in files)")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    bundle = (Path(args[0]) if args else DEFAULT_BUNDLE).resolve()  # the checks run from a temp folder
    problems = check(bundle)
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    print("bundle check passed" if not problems else "bundle check FAILED")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
