"""Checked evidence reads and forged merge markers: what the guards cost.

1. **Extract.** ``evidence.extract`` of a 256 MiB evidence file, which hashes
   the bytes while they stream into a temp file (fsynced, then renamed), against
   the same stream written without a hash (``blobs.chunks`` into a file, fsynced):
   the ratio is what checking the SHA-256 adds to handing the bytes out. SHA-256
   runs at about the speed SQLite streams the chunks, so checking costs up to one
   more pass over the bytes: the target is 2.5×.
2. **Forged marker.** ``core.merge.read_trail`` of a 20,000-row audit trail
   holding a merge marker that claims 10^8 rows, against the same trail with a
   marker claiming 100: the rows a marker covers are ranges, so the claim costs
   nothing (expanding it one id at a time took gigabytes).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from benchmarks.common import Result, fsync_file, median
from ztmm_desktop.core import merge as core
from ztmm_desktop.services import evidence
from ztmm_desktop.services.engagement import Properties, create_engagement, reading
from ztmm_desktop.store import blobs

SIZE = 256 << 20
RUNS = 3
TRAIL_ROWS = 20_000
TRAIL_RUNS = 21


def _trail(claimed: int) -> list[core.AuditRecord]:
    marker = json.dumps({"from": "x", "upto": 1, "digest": "0" * 64, "rows": claimed})
    rows = [
        core.AuditRecord(n, "2026-12-01T00:00:00+00:00", "a", "stage", f"f{n % 40}/initial", "comment", None, str(n))
        for n in range(1, TRAIL_ROWS + 1)
    ]
    rows[10] = core.AuditRecord(11, "2026-12-01T00:00:00+00:00", "a", "merge", "e", "merged", None, marker)
    return rows


def run(workdir: Path) -> list[Result]:
    source = workdir / "export.bin"
    with source.open("wb") as handle:
        block = os.urandom(8 << 20)
        for _ in range(SIZE // len(block)):
            handle.write(block[1:] + block[:1])
            block = block[1:] + block[:1]
    path = workdir / "e.ztmm"
    out = workdir / "out"
    out.mkdir()
    checked: list[float] = []
    plain: list[float] = []
    with create_engagement(path, Properties(client="Bench Ltd")) as engagement:
        item = evidence.attach(engagement, source, [evidence.parse_link(engagement, "1.1")]).evidence
        source.unlink()
        for _ in range(RUNS):
            start = time.perf_counter()
            written = evidence.extract(engagement, item.id, out)
            checked.append(time.perf_counter() - start)
            written.unlink()
            target = out / "plain.bin"
            start = time.perf_counter()
            with reading(engagement) as conn, target.open("wb") as handle:
                for data in blobs.chunks(conn, item.sha256):
                    handle.write(data)
            fsync_file(target)
            plain.append(time.perf_counter() - start)
            target.unlink()
    forged: list[float] = []
    honest: list[float] = []
    core.read_trail(_trail(100))  # warm-up: the first read pays for what the interpreter caches
    for _ in range(TRAIL_RUNS):  # alternating, so noise hits both alike
        rows = _trail(10**8)
        start = time.perf_counter()
        core.read_trail(rows)
        forged.append(time.perf_counter() - start)
        rows = _trail(100)
        start = time.perf_counter()
        core.read_trail(rows)
        honest.append(time.perf_counter() - start)
    return [
        Result(
            "evidence: extract 256 MiB, SHA-256 checked while streaming",
            median(checked) * 1000,
            median(plain) * 1000,
            "ms",
            "≤ 2.5×",
            "floor: the same chunks written to a file and fsynced, unchecked",
        ),
        Result(
            "merge: read a 20,000-row trail with a marker claiming 10^8 rows",
            median(forged) * 1000,
            median(honest) * 1000,
            "ms",
            "≤ 1.5×",
            "floor: the same trail with a marker claiming 100 rows",
        ),
    ]
