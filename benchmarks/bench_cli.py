"""Wall time of ``ztmm info LARGE --json`` in a fresh process.

The floor is what no Python CLI on this ORM can avoid: starting the same
interpreter and importing ``sqlmodel``. Runs alternate with floor runs; the
first of each is a warm-up (bytecode caches, page cache) and is not counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.common import Result, large_engagement, median, ms, timed

RUNS = 5
TIMEOUT = 60


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(command, capture_output=True, cwd=cwd, env=dict(os.environ), timeout=TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.decode(errors='replace')}")
    return done


def run(workdir: Path) -> list[Result]:
    document = large_engagement(workdir)
    info = [sys.executable, "-m", "ztmm_desktop.cli", "info", str(document), "--json"]
    floor = [sys.executable, "-c", "import sqlmodel"]

    data = json.loads(_run(info, workdir).stdout)  # warm-up, and check the answer is the whole engagement
    if len(data["functions"]) != 40 or data["findings"] < 400:
        raise AssertionError(f"ztmm info saw {len(data['functions'])} functions, {data['findings']} findings")
    _run(floor, workdir)

    infos: list[float] = []
    floors: list[float] = []
    for _ in range(RUNS):
        infos.append(timed(lambda: _run(info, workdir)))
        floors.append(timed(lambda: _run(floor, workdir)))
    return [Result("cli: ztmm info LARGE --json, median", ms(median(infos)), ms(median(floors)), "ms", "≤ 3×")]
