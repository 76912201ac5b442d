"""Wall time of ``ztmm`` commands in fresh processes, and of a script of ratings run as one batch.

Floors, each measured in the same run:

* ``python -c "import sqlite3"``: starting the same interpreter and the database
  module, the least any command that reads an engagement costs. ``ztmm --help``,
  ``ztmm catalog`` and ``ztmm info`` on a small engagement are compared with it.
* ``python -c "import sqlmodel"``: for ``ztmm info`` of the large engagement, the
  interpreter and the ORM the services are built on.
* one ``ztmm info`` of the large engagement: for 120 ratings run as one
  ``ztmm batch`` (one start, one open), against 120 ``ztmm assess`` runs.

Runs alternate with floor runs; the first of each is a warm-up (bytecode caches,
page cache) and is not counted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.common import Result, large_engagement, median, ms, timed

RUNS = 5
BATCH_RUNS = 3
RATINGS = 120  # 40 functions × 3 rated stages
TIMEOUT = 600
ZTMM = [sys.executable, "-m", "ztmm_desktop.cli"]
RATING_CYCLE = ("met", "partial", "not-met")


def _env() -> dict[str, str]:
    """This environment with bytecode caches on: an installed ``ztmm`` runs from them (the warm-ups write them)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(command: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        command,
        capture_output=True,
        cwd=cwd,
        env=_env(),
        timeout=TIMEOUT,
        check=False,
        input=None if stdin is None else stdin.encode(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode(errors='replace')}")
    return done


def _medians(value: list[str], floor: list[str], cwd: Path, runs: int = RUNS) -> tuple[float, float]:
    """Median wall times (ms) of ``value`` and ``floor``, alternating, after one warm-up each."""
    _run(value, cwd)
    _run(floor, cwd)
    values: list[float] = []
    floors: list[float] = []
    for _ in range(runs):
        values.append(timed(lambda: _run(value, cwd)))
        floors.append(timed(lambda: _run(floor, cwd)))
    return ms(median(values)), ms(median(floors))


def start_up(workdir: Path) -> list[Result]:
    """``ztmm --help``, ``ztmm catalog`` and ``ztmm info`` of a small engagement against ``import sqlite3``."""
    small = workdir / "small.ztmm"
    _run([*ZTMM, "new", str(small), "--client", "Small client"], workdir)
    _run([*ZTMM, "batch", str(small)], workdir, "assess 1.1 --rate initial=met\nfinding add 1.1 --title Gap\n")
    floor = [sys.executable, "-c", "import sqlite3"]
    results = []
    for name, command in (
        ("ztmm --help", [*ZTMM, "--help"]),
        ("ztmm catalog", [*ZTMM, "catalog"]),
        ("ztmm info SMALL", [*ZTMM, "info", str(small)]),
    ):
        value, base = _medians(command, floor, workdir)
        results.append(Result(f"cli: {name}, median (floor: python -c 'import sqlite3')", value, base, "ms", "≤ 5×"))
    return results


def info_large(workdir: Path, document: Path) -> list[Result]:
    info = [*ZTMM, "info", str(document), "--json"]
    data = json.loads(_run(info, workdir).stdout)  # check the answer is the whole engagement
    if len(data["functions"]) != 40 or data["findings"] < 400:
        raise AssertionError(f"ztmm info saw {len(data['functions'])} functions, {data['findings']} findings")
    value, base = _medians(info, [sys.executable, "-c", "import sqlmodel"], workdir)
    return [Result("cli: ztmm info LARGE --json, median", value, base, "ms", "≤ 3×")]


def _ratings(document: Path) -> list[tuple[str, str]]:
    """120 ratings, each different from what the large engagement holds (so every one is an edit and a save)."""
    data = json.loads(subprocess.run([*ZTMM, "info", str(document), "--json"], capture_output=True, check=True).stdout)
    lines = []
    for function in data["functions"]:
        for stage in function["stages"][1:]:
            current = stage["rating"]
            new = next(r for r in RATING_CYCLE if r != current)
            lines.append((function["code"], f"{stage['stage']}={new}"))
    return lines[:RATINGS]


def batch(workdir: Path, document: Path) -> list[Result]:
    """120 ratings of the large engagement: one ``ztmm batch`` (and ``--atomic``) against 120 ``ztmm assess``."""
    ratings = _ratings(document)
    if len(ratings) != RATINGS:
        raise AssertionError(f"{len(ratings)} ratings to make, expected {RATINGS}")
    script = "".join(f"assess {code} --rate {rate}\n" for code, rate in ratings)
    info = [*ZTMM, "info", str(document)]

    def fresh() -> Path:
        copy = workdir / "batch.ztmm"
        shutil.copyfile(document, copy)
        return copy

    def one_batch(*options: str) -> float:
        copy = fresh()
        return timed(lambda: _run([*ZTMM, "batch", str(copy), *options], workdir, script))

    def separate() -> float:
        copy = fresh()
        commands = [[*ZTMM, "assess", str(copy), code, "--rate", rate] for code, rate in ratings]
        return timed(lambda: [_run(command, workdir) for command in commands])

    one_batch()  # warm-up
    _run(info, workdir)
    batches: list[float] = []
    atomics: list[float] = []
    infos: list[float] = []
    for _ in range(BATCH_RUNS):
        batches.append(one_batch())
        atomics.append(one_batch("--atomic"))
        infos.append(timed(lambda: _run(info, workdir)))
    loop = separate()  # once: 120 processes
    per_line, atomic, floor = ms(median(batches)), ms(median(atomics)), ms(median(infos))
    return [
        Result("cli: 120 ratings as one ztmm batch on LARGE, median (floor: one ztmm info)", per_line, floor, "ms"),
        Result("cli: 120 ratings as one ztmm batch --atomic on LARGE, median", atomic, floor, "ms", "≤ 3×"),
        Result("cli: 120 ratings, one ztmm batch vs 120 ztmm assess runs", per_line, ms(loop), "ms", "≤ 0.2×"),
    ]


def run(workdir: Path) -> list[Result]:
    document = large_engagement(workdir)
    results = start_up(workdir)
    results.extend(info_large(workdir, document))
    results.extend(batch(workdir, document))
    return results
