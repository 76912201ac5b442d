"""What the file gate costs when an engagement is opened.

Every open passes the file through ``store.gate`` (schema compared with the frozen
one, ``integrity_check``, every value in its domain): a current plain file where it
lies, others as a private copy. The floor is the same ``open_engagement`` with the
gate replaced by what opening checked before it: ``PRAGMA quick_check`` of the
document (then the copy, where one is made). Runs alternate. Measured on the
demo engagement (every table holds rows) and on the large engagement (1,400 records,
400 findings with long texts); with ``ZTMM_BENCH_GATE_EVIDENCE=1`` also on the large
engagement with its 1 GiB of evidence (building that takes minutes). The gate alone is
timed on a copy, by itself.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.common import Result, large_engagement, median, ms, timed
from ztmm_desktop.services import evidence
from ztmm_desktop.services.demo import build_demo
from ztmm_desktop.services.engagement import Engagement, open_engagement
from ztmm_desktop.store import document, gate

OPENS = 21
LARGE_EVIDENCE = os.environ.get("ZTMM_BENCH_GATE_EVIDENCE") == "1"


def _before_the_gate(
    path: Path, working: Path, vocabulary: gate.Vocabulary | None, leave_out_damaged: bool
) -> tuple[int, list[gate.Problem]]:
    """What opening did before the gate: ``quick_check`` of the document, then the copy."""
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    try:
        assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()
    document.backup_file(path, working, source_readonly=True)
    return version, []


def _in_place_before_the_gate(path: Path, identity: object, vocabulary: gate.Vocabulary | None) -> int:
    """What a current file's open checked before the gate, where it lies: ``quick_check`` only."""
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
    try:
        assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


@contextmanager
def _without_gate() -> Iterator[None]:
    """Both ways a file is gated: a copy (older schemas, salvage, encrypted) and in place (current files)."""
    real_copy, real_in_place = document._copy_document, document._gate_in_place
    document._copy_document = _before_the_gate
    document._gate_in_place = _in_place_before_the_gate
    try:
        yield
    finally:
        document._copy_document, document._gate_in_place = real_copy, real_in_place


def _open_close(path: Path, read: Callable[[Engagement], object] | None = None) -> float:
    def work() -> None:
        with open_engagement(path) as engagement:
            if read is not None:
                read(engagement)

    return timed(work)


def _read_everything(engagement: Engagement) -> None:
    """What the window reads to show an engagement: properties, assessments, roll-ups, findings, evidence."""
    engagement.meta()
    engagement.rollups()
    engagement.findings()
    evidence.list_evidence(engagement)


def _compare(label: str, path: Path, read: Callable[[Engagement], object] | None, opens: int) -> tuple[float, float]:
    _open_close(path, read)  # warm up caches (page cache, catalog, compiled statements, expected schema)
    with _without_gate():
        _open_close(path, read)
    gated: list[float] = []
    floor: list[float] = []
    for _ in range(opens):
        gated.append(_open_close(path, read))
        with _without_gate():
            floor.append(_open_close(path, read))
    return median(gated), median(floor)


def _gate_alone(path: Path, runs: int = 9) -> float:
    """The gate on a copy of ``path`` by itself (no copy, no lock, no engine)."""
    copy = path.with_name(f"gate-{path.name}")
    document.backup_file(path, copy, source_readonly=True)
    samples = []
    for _ in range(runs):
        samples.append(timed(lambda: document._check_working_copy(copy, copy.name, None)))
    copy.unlink()
    return median(samples)


def run(workdir: Path) -> list[Result]:
    demo = workdir / "demo.ztmm"
    build_demo(demo).close()
    files = [("demo", demo, OPENS), ("large", large_engagement(workdir), OPENS)]
    if LARGE_EVIDENCE:
        files.append(("large with 1 GiB evidence", large_engagement(workdir, evidence=True), 3))
    results = []
    for label, path, opens in files:
        gated, floor = _compare(label, path, None, opens)
        results.append(Result(f"gate: open {label}, median", ms(gated), ms(floor), "ms", "≤ 1.2×"))
        if label != "large with 1 GiB evidence":
            gated, floor = _compare(label, path, _read_everything, opens)
            results.append(
                Result(f"gate: open {label} and read it whole, median", ms(gated), ms(floor), "ms", "≤ 1.2×")
            )
        results.append(Result(f"gate: {label}, the gate alone, median", ms(_gate_alone(path)), None, "ms"))
    return results
