"""Run every ``benchmarks/bench_*.py`` and report value, floor, ratio and target.

    .venv/bin/python benchmarks/run.py [NAME ...] [--keep]

Each benchmark module exposes ``run(workdir: Path) -> list[Result]`` and runs
in a fresh child process (so a crash is isolated and its peak memory is its
own) with a fresh temp workdir and ``ZTMM_DATA_DIR`` pointing at a temp folder.
The large engagement is built once, through the services (with its 1 GiB of
evidence as a second variant only when a selected module sets
``LARGE_EVIDENCE = True``), and each benchmark gets its own link or copy. The table is printed and written to
``benchmarks/out/results.json``. Missing a target does not fail the run (this
reports, it does not gate); a benchmark that crashes does (exit code 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT) not in sys.path:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import LARGE_ENV, LARGE_EVIDENCE_ENV, Result  # noqa: E402

OUT = BENCH_DIR / "out" / "results.json"
CHILD_TIMEOUT = 600  # seconds per benchmark module (unless it sets ``TIMEOUT``)
BUILD_TIMEOUT = 1800  # seconds for make_large.py (5,000 evidence attaches through the services)
_TIME_LINE = re.compile(r"^time (?P<name>.+): (?P<seconds>[0-9.]+) s$")


@dataclass
class Outcome:
    """What one benchmark module produced (or how it failed)."""

    module: str
    seconds: float
    results: list[Result] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def needs_evidence(modules: list[str]) -> bool:
    """True when a module sets ``LARGE_EVIDENCE = True`` (it uses ``large_engagement(..., evidence=True)``)."""
    return any(getattr(importlib.import_module(m), "LARGE_EVIDENCE", False) for m in modules)


def skip_reason(module: str) -> str | None:
    """Why ``module`` cannot run on this machine (its own ``skip_reason()``, e.g. no bundle built), or None."""
    reason = getattr(importlib.import_module(module), "skip_reason", None)
    return reason() if callable(reason) else None


def discover(names: list[str]) -> list[str]:
    """Module names of ``benchmarks/bench_*.py``, filtered by substrings in ``names``."""
    modules = [f"benchmarks.{p.stem}" for p in sorted(BENCH_DIR.glob("bench_*.py"))]
    if names:
        modules = [m for m in modules if any(n in m for n in names)]
    return modules


# -- child: one module in this process ---------------------------------------------


def run_child(module: str, workdir: Path, result_file: Path) -> int:
    bench = importlib.import_module(module)
    results = bench.run(workdir)
    if not isinstance(results, list) or not all(isinstance(r, Result) for r in results):
        raise TypeError(f"{module}.run() must return a list of Result, not {results!r}")
    result_file.write_text(json.dumps([r.to_json() for r in results], indent=2), encoding="utf-8")
    return 0


# -- parent: build, run each module in a child, report -------------------------------


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def build_shared_large(folder: Path, *, evidence: bool) -> Outcome:
    """Build the large engagement once with ``make_large.py`` as a script (so that path is exercised too).

    ``evidence``: in the same run, also the variant with 5,000 evidence files
    (``large-evidence.ztmm``); the one without is saved before that step.
    """
    folder.mkdir(parents=True)
    base, full = folder / "large.ztmm", folder / "large-evidence.ztmm"
    command = [sys.executable, str(BENCH_DIR / "make_large.py")]
    command += [str(full), "--base", str(base)] if evidence else [str(base), "--no-evidence"]
    env = dict(os.environ, ZTMM_DATA_DIR=str(folder / "data"))
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=folder, timeout=BUILD_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return Outcome("make_large", time.perf_counter() - start, error=f"timed out after {BUILD_TIMEOUT} s")
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not base.is_file() or (evidence and not full.is_file()):
        return Outcome("make_large", seconds, error=_tail(done.stderr or done.stdout))
    times = {m["name"]: float(m["seconds"]) for m in map(_TIME_LINE.match, done.stdout.splitlines()) if m}
    what = "with 1 GiB of evidence" if evidence else "without evidence"
    rows = [Result(f"setup: build large engagement {what} (make_large.py)", seconds, None, "s", note="informational")]
    if evidence:
        rows.append(Result("setup: of which 5,000 evidence attaches", times.get("step_evidence", 0.0), None, "s"))
        rows.extend(
            Result(
                f"setup: one evidence attach, median of the {name.rpartition('median, ')[2]}", value * 1000, None, "ms"
            )
            for name, value in times.items()
            if name.startswith("attach median")
        )
        rows.append(
            Result("setup: large engagement with evidence, file size", full.stat().st_size / 2**20, None, "MiB")
        )
    return Outcome("make_large", seconds, rows)


def run_module(module: str, folder: Path, large: Path | None, large_evidence: Path | None) -> Outcome:
    workdir, data = folder / "work", folder / "data"
    workdir.mkdir(parents=True)
    data.mkdir()
    result_file = folder / "results.json"
    env = dict(os.environ, ZTMM_DATA_DIR=str(data))
    for name, path in ((LARGE_ENV, large), (LARGE_EVIDENCE_ENV, large_evidence)):
        if path is not None:
            env[name] = str(path)
        else:
            env.pop(name, None)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", module, str(workdir), str(result_file)]
    timeout = int(getattr(importlib.import_module(module), "TIMEOUT", CHILD_TIMEOUT))  # its own, when it sets one
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=workdir, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return Outcome(module, time.perf_counter() - start, error=f"timed out after {timeout} s")
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not result_file.is_file():
        return Outcome(module, seconds, error=_tail(done.stderr or done.stdout) or f"exit code {done.returncode}")
    results = [Result.from_json(r) for r in json.loads(result_file.read_text(encoding="utf-8"))]
    leftovers = sorted(p.name for p in (data / "working").glob("*")) if (data / "working").is_dir() else []
    if leftovers:
        return Outcome(module, seconds, results, error=f"left working copies behind: {', '.join(leftovers)}")
    return Outcome(module, seconds, results)


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _verdict(result: Result) -> str:
    met = result.met
    return "info" if met is None else ("yes" if met else "NO")


def table(outcomes: list[Outcome]) -> str:
    header = ("metric", "value", "floor", "ratio", "target", "met")
    rows: list[tuple[str, ...]] = []
    for outcome in outcomes:
        for r in outcome.results:
            ratio = "–" if r.ratio is None else f"{r.ratio:.2f}×"
            rows.append(
                (
                    r.metric,
                    f"{_number(r.value)} {r.unit}",
                    "–" if r.floor is None else f"{_number(r.floor)} {r.unit}",
                    ratio,
                    r.target or "–",
                    _verdict(r),
                )
            )
        if not outcome.ok:
            rows.append((f"{outcome.module}: CRASHED", "", "", "", "", "ERROR"))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    right = {1, 2, 3}  # numbers line up on the right

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "temp": tempfile.gettempdir(),
    }


def write_json(path: Path, outcomes: list[Outcome], seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "total_seconds": round(seconds, 2),
        "benchmarks": [
            {
                "module": o.module,
                "status": "ok" if o.ok else "crashed",
                "seconds": round(o.seconds, 2),
                "error": o.error,
                "results": [r.to_json() for r in o.results],
            }
            for o in outcomes
        ],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the ZTMM Workbench benchmarks.")
    parser.add_argument("names", nargs="*", help="run only benchmarks whose module name contains one of these")
    parser.add_argument("--keep", action="store_true", help="keep the temp folders (path is printed)")
    parser.add_argument("--json", type=Path, default=OUT, help=f"results file (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--child", nargs=3, metavar=("MODULE", "WORKDIR", "RESULTS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        module, workdir, result_file = args.child
        return run_child(module, Path(workdir), Path(result_file))

    modules = discover(args.names)
    if not modules:
        parser.error("no benchmark matches " + ", ".join(args.names))
    for module in list(modules):
        reason = skip_reason(module)
        if reason is not None:
            print(f"skipping {module}: {reason}", flush=True)
            modules.remove(module)
    if not modules:
        return 0
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="ztmm-bench-"))
    outcomes: list[Outcome] = []
    try:
        evidence = needs_evidence(modules)
        what = " (and its variant with 1 GiB of evidence: minutes)" if evidence else ""
        print(f"building the large engagement{what} in {scratch} …", flush=True)
        setup = build_shared_large(scratch / "shared", evidence=evidence)
        outcomes.append(setup)
        large = scratch / "shared" / "large.ztmm" if setup.ok else None
        large_evidence = scratch / "shared" / "large-evidence.ztmm" if setup.ok and evidence else None
        for module in modules:
            print(f"running {module} …", flush=True)
            outcome = run_module(module, scratch / module.rpartition(".")[2], large, large_evidence)
            outcomes.append(outcome)
            if not outcome.ok:
                print(f"  {module} FAILED:\n" + "\n".join("    " + ln for ln in outcome.error.splitlines()), flush=True)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - started
    info = machine()
    print()
    print(
        f"ZTMM Workbench benchmarks: {info['cpus']} CPUs, Python {info['python']}, SQLite {info['sqlite']}, "
        f"{info['platform']}; {seconds:.1f} s"
    )
    print(table(outcomes))
    from benchmarks.growth_table import render

    growth = render([r for o in outcomes for r in o.results])
    if growth:
        print("\nThe growth table (benchmarks/growth_table.py; README, issue 17):\n")
        print(growth)
    write_json(args.json, outcomes, seconds)
    print(f"\nwrote {args.json}")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
