"""Evidence at scale: ingesting a 1 GiB file, verifying 1 GiB of evidence, opening an engagement that holds it.

1. **Ingest.** A 1 GiB file of random bytes is written once into the workdir. A
   fresh child process opens a fresh engagement (``open_engagement``), attaches
   the file (``evidence.attach``: stream, hash, store in 1 MiB chunks, commit)
   and saves. Throughput of the attach alone (not the save) against
   ``sha256sum FILE`` over the same file, runs alternating; and the child's
   peak RSS (its own ``ru_maxrss``, so the harness's memory does not count)
   against its RSS after the imports.
2. **Verify.** ``evidence.verify`` over the large engagement with its 5,000
   evidence files (1 GiB, exactly the size of the ingest file): throughput over
   the stored bytes against ``sha256sum`` over the 1 GiB file.
3. **Open.** ``open_engagement`` of the large engagement with evidence until it
   returns, and ``MainWindow.open_path`` until the workbench has painted
   (offscreen), against a durable copy of the same file (``cp`` as a
   subprocess, then ``fsync``: opening copies the document into a private
   working copy and fsyncs it) and against opening the same engagement without
   evidence.

Every file is made inside the workdir and removed at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from benchmarks.common import Result, fsync_file, large_engagement, median, ms, timed
from benchmarks.make_large import EVIDENCE_BYTES, EVIDENCE_ITEMS
from ztmm_desktop.services import evidence
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement

#: ``run.py`` builds the large engagement with its evidence for this module.
LARGE_EVIDENCE = True

INGEST_BYTES = EVIDENCE_BYTES  # 1 GiB: the same size as all the evidence of the large engagement
INGEST_RUNS = 2  # each is ~1 GiB written twice (attach, save); long enough that two are stable
VERIFY_RUNS = 3
OPEN_RUNS = 3
BLOCK = 64 << 20  # the ingest file is written in blocks of this many bytes
CHILD_TIMEOUT = 300  # seconds one ingest child may take
MB = 1_000_000

ROOT = Path(__file__).resolve().parent.parent

#: One ingest, in a process of its own: open a fresh engagement, attach FILE, save, report.
INGEST_CHILD = textwrap.dedent(
    """
    import json
    import sys
    import time
    from pathlib import Path

    from benchmarks.common import peak_rss_mib
    from ztmm_desktop.services import evidence
    from ztmm_desktop.services.engagement import open_engagement

    document, source = Path(sys.argv[1]), Path(sys.argv[2])
    baseline = peak_rss_mib()  # the interpreter and the imports: what any ingest process holds
    with open_engagement(document) as engagement:
        link = evidence.EvidenceLink(engagement.functions_in_scope()[0].id)
        start = time.perf_counter()
        attached = evidence.attach(engagement, source, [link], title="Tenant export", kind="configuration-export")
        attach_seconds = time.perf_counter() - start
        start = time.perf_counter()
        engagement.save()
        save_seconds = time.perf_counter() - start
    report = {
        "attach": attach_seconds,
        "save": save_seconds,
        "size": attached.evidence.size,
        "sha256": attached.evidence.sha256,
        "baseline_rss": baseline,
        "peak_rss": peak_rss_mib(),
    }
    print(json.dumps(report), flush=True)
    """
)


# -- files and floors -------------------------------------------------------------------


def write_random_file(path: Path, size: int, seed: int = 1) -> None:
    """``size`` seeded random bytes, fast: one random block, rotated by a different amount for each block."""
    import random

    rng = random.Random(seed)
    pool = memoryview(rng.randbytes(BLOCK))
    written = 0
    with path.open("wb") as handle:
        while written < size:
            shift = rng.randrange(BLOCK)
            block = min(BLOCK, size - written)
            head = pool[shift : shift + block]
            handle.write(head)
            handle.write(pool[: block - len(head)])
            written += block
        handle.flush()
        os.fsync(handle.fileno())  # written back now, not in the middle of a measurement


def sha256sum(path: Path) -> tuple[float, str]:
    """Seconds ``sha256sum FILE`` takes as a subprocess, and the hash it printed."""
    start = time.perf_counter()
    done = subprocess.run(["sha256sum", str(path)], capture_output=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, done.stdout.split()[0].decode()


def hashlib_sha256(path: Path) -> float:
    """Seconds Python's ``hashlib`` (OpenSSL) takes to hash the file in 1 MiB reads, as the ingest reads it."""
    start = time.perf_counter()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while data := handle.read(1 << 20):
            digest.update(data)
    return time.perf_counter() - start


def durable_copy(source: Path, target: Path) -> float:
    """Seconds of ``cp SOURCE TARGET`` as a subprocess plus an fsync of the copy (the floor of opening)."""
    target.unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    fsync_file(target)
    seconds = time.perf_counter() - start
    target.unlink()
    return seconds


def _mb_per_s(size: int, seconds: float) -> float:
    return size / MB / seconds


# -- 1. ingest --------------------------------------------------------------------------


def _ingest_once(script: Path, source: Path, workdir: Path, number: int) -> dict[str, float | str]:
    """One fresh engagement, one child process attaching ``source`` to it; the child's report."""
    document = workdir / f"ingest-{number}.ztmm"
    create_engagement(document, Properties(client="Ingest benchmark", title="1 GiB ingest")).close()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    try:
        done = subprocess.run(
            [sys.executable, str(script), str(document), str(source)],
            capture_output=True,
            text=True,
            cwd=workdir,
            env=env,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the ingest child exited {done.returncode}:\n{done.stderr[-2000:]}")
        report: dict[str, float | str] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        document.unlink(missing_ok=True)
    return report


def ingest(workdir: Path, source: Path) -> list[Result]:
    script = workdir / "child_ingest.py"
    script.write_text(INGEST_CHILD, encoding="utf-8")
    reports: list[dict[str, float | str]] = []
    floors: list[float] = []
    hashing: list[float] = []
    expected = ""
    for number in range(INGEST_RUNS):
        reports.append(_ingest_once(script, source, workdir, number))
        seconds, expected = sha256sum(source)
        floors.append(seconds)
        hashing.append(hashlib_sha256(source))
    for report in reports:
        if report["sha256"] != expected or report["size"] != INGEST_BYTES:
            raise AssertionError(f"the ingest stored {report['size']} bytes as {report['sha256']}, not {expected}")
    attach = median([float(r["attach"]) for r in reports])
    peak = max(float(r["peak_rss"]) for r in reports)
    baseline = median([float(r["baseline_rss"]) for r in reports])
    return [
        Result(
            "evidence: ingest 1 GiB file (attach), throughput",
            _mb_per_s(INGEST_BYTES, attach),
            _mb_per_s(INGEST_BYTES, median(floors)),
            "MB/s",
            "≥ 0.5×",
        ),
        Result("evidence: ingest 1 GiB file, peak RSS of the process", peak, baseline, "MiB", "≤ 200 MiB"),
        Result("evidence: save after the 1 GiB ingest, median", median([float(r["save"]) for r in reports]), None, "s"),
        Result(
            "evidence: SHA-256 of 1 GiB, hashlib vs sha256sum",
            _mb_per_s(INGEST_BYTES, median(hashing)),
            _mb_per_s(INGEST_BYTES, median(floors)),
            "MB/s",
        ),
    ]


# -- 2. verify --------------------------------------------------------------------------


def verify(large: Path, source: Path) -> list[Result]:
    runs: list[float] = []
    floors: list[float] = []
    with open_engagement(large, readonly=True) as engagement:
        items = evidence.list_evidence(engagement)
        stored = sum(e.size for e in {e.sha256: e for e in items}.values())
        if len(items) != EVIDENCE_ITEMS or stored != INGEST_BYTES:
            raise AssertionError(f"the large engagement holds {len(items)} evidence files, {stored} bytes")
        for _ in range(VERIFY_RUNS):
            start = time.perf_counter()
            problems = evidence.verify(engagement)
            runs.append(time.perf_counter() - start)
            if problems:
                raise AssertionError(f"verify found {len(problems)} problems, e.g. {problems[0].problem}")
            floors.append(sha256sum(source)[0])
    return [
        Result(
            f"evidence: verify large ({EVIDENCE_ITEMS:,} files, 1 GiB), throughput",
            _mb_per_s(stored, median(runs)),
            _mb_per_s(INGEST_BYTES, median(floors)),
            "MB/s",
            "≥ 0.5×",
        )
    ]


# -- 3. open ----------------------------------------------------------------------------


def _open_close(document: Path) -> float:
    holder: list[Engagement] = []
    seconds = timed(lambda: holder.append(open_engagement(document)))
    holder[0].close()
    return seconds


def open_in_process(large: Path, small: Path, workdir: Path) -> list[Result]:
    copy = workdir / "floor-copy.ztmm"
    _open_close(small)  # warm-up: catalog, SQLAlchemy compiled statements
    opens: list[float] = []
    copies: list[float] = []
    smalls: list[float] = []
    for _ in range(OPEN_RUNS):
        opens.append(_open_close(large))
        copies.append(durable_copy(large, copy))
        smalls.append(_open_close(small))
    return [
        Result("evidence: open large with 1 GiB evidence, median", ms(median(opens)), ms(median(copies)), "ms", "≤ 5×"),
        Result("evidence: open large, with vs without evidence, median", ms(median(opens)), ms(median(smalls)), "ms"),
    ]


def open_in_window(large: Path, small: Path, workdir: Path) -> list[Result]:
    from benchmarks.bench_ui import PaintWatch, _application, _dispose, _spin_until
    from ztmm_desktop.ui.shell.main_window import MainWindow

    _application()
    window = MainWindow()
    copy = workdir / "floor-copy.ztmm"

    def open_until_painted(document: Path) -> float:
        start = time.perf_counter()
        if not window.open_path(document):
            raise RuntimeError(f"could not open {document}")
        bench = window.workbench
        assert bench is not None
        watch = PaintWatch(bench)  # open_path runs no event loop: the first paint of the workbench is still to come
        _spin_until(lambda: watch.saw(bench), f"the workbench of {document.name} to paint")
        seconds = time.perf_counter() - start
        if not window.close_engagement():
            raise RuntimeError(f"could not close {document}")
        return seconds

    opens: list[float] = []
    copies: list[float] = []
    smalls: list[float] = []
    try:
        window.show()
        from PySide6.QtTest import QTest

        QTest.qWaitForWindowExposed(window)
        open_until_painted(small)  # warm-up: the workbench's first build (fonts, style sheets)
        for _ in range(OPEN_RUNS):
            opens.append(open_until_painted(large))
            copies.append(durable_copy(large, copy))
            smalls.append(open_until_painted(small))
    finally:
        _dispose(window)
    return [
        Result(
            "ui: open large with 1 GiB evidence to workbench painted, median",
            ms(median(opens)),
            ms(median(copies)),
            "ms",
            "≤ 5×",
        ),
        Result("ui: open large in the window, with vs without evidence", ms(median(opens)), ms(median(smalls)), "ms"),
    ]


def run(workdir: Path) -> list[Result]:
    large = large_engagement(workdir, evidence=True)
    small = large_engagement(workdir)
    source = workdir / "tenant-export.bin"
    try:
        write_random_file(source, INGEST_BYTES)
        results = ingest(workdir, source)
        results.extend(verify(large, source))
        results.extend(open_in_process(large, small, workdir))
        results.extend(open_in_window(large, small, workdir))
    finally:
        for path in (source, large, small):
            path.unlink(missing_ok=True)
    return results
