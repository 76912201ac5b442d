"""What opening, editing, saving and every command cost as the evidence grows (issue 17's table).

The large engagement's records (40 functions rated, 400 findings, no evidence) is the floor
variant; the same records are built with more evidence: a few large files of none, 1 GiB and
4 GiB by default (``ZTMM_BENCH_STORAGE_GIB``, e.g. ``0,1``), and 5,000 and 50,000 small
evidence items by default (``ZTMM_BENCH_STORAGE_ITEMS``, e.g. ``5000``; ``0`` for none). For
each variant it times, in this process or a fresh one:

* open for editing (``open_engagement``), and open as the window opens it
  (``frequent_saves=True``: a clone of the document is made in the background), then close;
* one edit (``Engagement.assess`` of one stage rating, the edit alone);
* the save after one rating, as the window saves (onto the clone it keeps ready);
* ``ztmm info``, ``ztmm assess`` (one rating, saved), ``ztmm verify``, ``ztmm export`` and
  ``ztmm report`` (PDF) as processes, each with its own peak RSS.

Floors measured in the same run: the same operation on the engagement without evidence (measured
first and again last, its samples pooled),
``cp`` + ``fsync`` of the document (a save), writing N bytes with fsync (a save after attaching N
bytes), SHA-256 over the same bytes with ``hashlib`` (verify, attach). ``benchmarks/growth_table.py``
turns the rows into the README's growth table.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.common import Result, copy_and_fsync, fsync_file, large_engagement, median, ms, timed
from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Engagement, open_engagement

GIB = 1024**3
MIB = 1024**2
RUNS = 3
#: Seconds one ``ztmm`` process may take (a report of 50,000 evidence items is a long index).
PROCESS_TIMEOUT = 1800
#: ``run.py`` gives this module this long (the 4 GiB and 50,000-item variants are built first).
TIMEOUT = 5400
SEED = 20_261_205
NONE = "no evidence"

# ``ztmm ARGS`` run as ``python -m ztmm_desktop.cli ARGS`` would be, writing its own peak RSS at exit
# (``VmHWM``: ``ru_maxrss`` of a child started by fork/vfork + exec counts the parent's RSS too).
_PROBE = """
import atexit, os, runpy, sys

def _peak():
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    with open(os.environ["ZTMM_BENCH_PEAK"], "w", encoding="ascii") as out:
        out.write(str(kib))

atexit.register(_peak)
sys.argv = ["ztmm", *sys.argv[1:]]
runpy.run_module("ztmm_desktop.cli", run_name="__main__", alter_sys=True)
"""


class PatternStream(io.RawIOBase):
    """``size`` seeded bytes that differ per MiB (cheap to make, never deduplicated)."""

    def __init__(self, size: int, seed: int) -> None:
        self.left = size
        self.block = bytearray(random.Random(seed).randbytes(MIB))
        self.seed = seed
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.left <= 0:
            return 0
        n = min(len(buffer), self.left, MIB)
        self.block[:16] = f"{self.seed:08d}{self.count:08d}".encode()
        self.count += 1
        buffer[:n] = self.block[:n]
        self.left -= n
        return n


@contextmanager
def _unsynced_commits(engagement: Engagement) -> Iterator[None]:
    """While the variant is built: its working copy's commits are not fsynced one by one.

    Every attach still goes through ``evidence.attach_stream`` and commits; only waiting for the
    disk after each of 50,000 commits is skipped (the build is not a session anyone could lose).
    The save at the end is the app's own, fsync and all.
    """
    from sqlalchemy import event

    engine = engagement.document.engine

    def unsynced(dbapi_connection: sqlite3.Connection, record: object) -> None:
        dbapi_connection.execute("PRAGMA synchronous = OFF")

    engine.dispose()  # pooled connections are made again, with the pragma
    event.listen(engine, "connect", unsynced)
    try:
        yield
    finally:
        event.remove(engine, "connect", unsynced)
        engine.dispose()


def _attach_big(engagement: Engagement, total: int, seed: int) -> None:
    link = ev.parse_link(engagement, "1.1/initial")
    part = 0
    while total > 0:
        size = min(total, GIB)
        stream = io.BufferedReader(PatternStream(size, seed * 1000 + part), buffer_size=MIB)
        ev.attach_stream(engagement, stream, original_name=f"capture-{part}.bin", expected_size=size, links=[link])
        total -= size
        part += 1


def _attach_items(engagement: Engagement, count: int, seed: int) -> None:
    """``count`` small items (300 B to 3 KB of seeded text), each linked to a random function's stage."""
    rng = random.Random(seed)
    functions = [f.id for f in engagement.catalog.functions()]
    links = [ev.EvidenceLink(function, stage) for function in functions for stage in RATED_STAGES]
    words = [f"w{n}" for n in range(500)]
    for number in range(count):
        data = f"item {number}: ".encode() + " ".join(rng.choices(words, k=rng.randint(80, 800))).encode()
        ev.attach_stream(
            engagement,
            io.BytesIO(data),
            original_name=f"note-{number}.txt",
            expected_size=len(data),
            links=[rng.choice(links)],
            kind="interview-note",
            media_type="text/plain",
        )


def _build(workdir: Path, base: Path, name: str, *, gib: float = 0, items: int = 0) -> tuple[Path, float]:
    """The base engagement with ``gib`` GiB in a few large files or ``items`` small ones; seconds it took."""
    target = workdir / f"{name}.ztmm"
    started = time.perf_counter()
    copy_and_fsync(base, target)
    with open_engagement(target) as engagement:
        with _unsynced_commits(engagement):
            if gib:
                _attach_big(engagement, int(gib * GIB), seed=SEED + int(gib * 10))
            if items:
                _attach_items(engagement, items, seed=SEED + items)
        engagement.save()
    return target, time.perf_counter() - started


def _process(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``ztmm ARGS`` in a fresh process."""
    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak"
        env = dict(os.environ, ZTMM_BENCH_PEAK=str(peak_file))
        command = [sys.executable, "-c", _PROBE, *args]

        def go() -> None:
            done = subprocess.run(command, capture_output=True, cwd=cwd, env=env, timeout=PROCESS_TIMEOUT, check=False)
            if done.returncode != 0:
                raise RuntimeError(
                    f"ztmm {' '.join(args)} exited {done.returncode}: {done.stderr.decode(errors='replace')}"
                )

        seconds = timed(go)
        return seconds, int(peak_file.read_text(encoding="ascii")) / 1024


def _process_runs(args: list[str], cwd: Path, runs: int = RUNS) -> list[tuple[float, float]]:
    """Wall seconds and peak RSS (MiB) of ``runs`` runs of ``ztmm ARGS`` after a warm-up."""
    _process(args, cwd)  # warm-up
    return [_process(args, cwd) for _ in range(runs)]


def _open_close(document: Path, *, frequent: bool = False) -> float:
    holder: list[Engagement] = []
    seconds = timed(lambda: holder.append(open_engagement(document, frequent_saves=frequent)))
    holder[0].close()
    return seconds


def _edits(document: Path, count: int = 21) -> float:
    """Median seconds of one ``Engagement.assess`` (one stage rating) in a session opened as the window
    opens, once its background clone is ready (while it is made, the disk is shared with it)."""
    times = []
    with open_engagement(document, frequent_saves=True) as engagement:
        if engagement.document.spare is not None:
            engagement.document.spare.take()
        for number in range(count + 1):
            rating = Rating.MET if number % 2 else Rating.PARTIAL
            times.append(timed(lambda r=rating: engagement.assess("1.4", ratings={Stage.INITIAL: r})))  # type: ignore[misc]
    return median(times[1:])


def _hash_chunks(document: Path) -> float:
    def go() -> None:
        conn = sqlite3.connect(f"file:{document}?mode=ro", uri=True)
        digest = hashlib.sha256()
        for (data,) in conn.execute("SELECT data FROM blob_chunk ORDER BY chunk_key, seq"):
            digest.update(data)
        conn.close()

    return timed(go)


def _chunks(count: int, seed: int) -> Iterator[bytes]:
    stream = PatternStream(count * MIB, seed)
    buffer = bytearray(MIB)
    while (n := stream.readinto(memoryview(buffer))) > 0:
        yield bytes(buffer[:n])


def _sizes(variable: str, default: str) -> list[float]:
    return [float(x) for x in os.environ.get(variable, default).split(",") if x.strip()]


def run(workdir: Path) -> list[Result]:
    base = large_engagement(workdir)  # the records, no evidence
    results: list[Result] = []
    docs = {NONE: base}
    for gib in _sizes("ZTMM_BENCH_STORAGE_GIB", "1,4"):
        if gib:
            label = f"{gib:g} GiB"
            docs[label], seconds = _build(workdir, base, f"e{gib:g}", gib=gib)
            results.append(Result(f"storage: build, {label}", seconds, None, "s", note="setup, informational"))
    for items in _sizes("ZTMM_BENCH_STORAGE_ITEMS", "5000,50000"):
        if items:
            label = f"{int(items):,} items"
            docs[label], seconds = _build(workdir, base, f"i{int(items)}", items=int(items))
            results.append(Result(f"storage: build, {label}", seconds, None, "s", note="setup, informational"))

    floor_import = median(
        [timed(lambda: subprocess.run([sys.executable, "-c", "import sqlite3"], check=True)) for _ in range(RUNS)]
    )
    # Samples per (operation, variant); the variant without evidence is measured first and again
    # last, and its samples pooled, so that what the machine was doing at the start (write-back of
    # the builds, other work) does not make it a floor that only the first pass paid for.
    samples: dict[tuple[str, str], list[float]] = {}
    peaks: dict[tuple[str, str], float] = {}
    targets: dict[str, str] = {}

    def sample(operation: str, label: str, seconds: list[float], target: str = "") -> None:
        samples.setdefault((operation, label), []).extend(seconds)
        targets[operation] = target

    _open_close(base)  # warm-up: the first open in a process pays for what it loads once
    _edits(base, count=3)
    order = [*docs, NONE] if len(docs) > 1 else [NONE]
    for number, label in enumerate(order):
        document = docs[label]
        again = number > 0 and label == NONE  # the floor's second pass: its samples only
        if hasattr(os, "sync"):  # what the builds and the last variant's saves left to write back
            os.sync()  # is not written while this variant (or the floor) is measured
        size = document.stat().st_size
        for operation, args, target, runs in (
            ("ztmm info", ["info", str(document)], "≤ 2×", RUNS),
            (
                "ztmm assess (one rating, saved)",
                ["assess", str(document), "1.2", "--rate", "initial=met"],
                "≤ 1.5×",
                RUNS,
            ),
            ("ztmm verify", ["verify", str(document)], "", 1),
            ("ztmm export", ["export", str(document), str(workdir / f"{document.stem}.xlsx")], "≤ 1.5×", 1),
            ("ztmm report (PDF)", ["report", str(document), str(workdir / f"{document.stem}.pdf")], "≤ 1.5×", 1),
        ):
            measured = _process_runs(args, workdir, runs)
            sample(operation, label, [m[0] for m in measured], target)
            peaks[(operation, label)] = max(peaks.get((operation, label), 0.0), *(m[1] for m in measured))
        if size > 256 * MIB:
            verify_seconds = median(samples[("ztmm verify", label)])
            hashing = median([_hash_chunks(document) for _ in range(RUNS)])
            results.append(Result(f"storage: ztmm verify vs hashlib, {label}", ms(verify_seconds), ms(hashing), "ms",
                                  "≤ 1.25×", "floor: hashlib over the same chunks (≥ 0.8× its speed)"))  # fmt: skip

        sample("open for editing", label, [_open_close(document) for _ in range(RUNS + 1)][1:], "≤ 1.5×")
        sample("open as the window opens (a clone made in the background)", label,
               [_open_close(document, frequent=True) for _ in range(RUNS + 1)][1:], "≤ 1.5×")  # fmt: skip
        sample("one edit (Engagement.assess, one rating)", label, [_edits(document)], "≤ 1.5×")

        saves = []
        with open_engagement(document, frequent_saves=True) as engagement:  # as the window opens it
            for turn in range(RUNS + 1):
                rating = Rating.MET if turn % 2 else Rating.PARTIAL
                engagement.assess("1.3", ratings={Stage.INITIAL: rating})
                if engagement.document.spare is not None:
                    engagement.document.spare.take()  # the consultant rates for a while between saves
                saves.append(timed(engagement.save))
        sample("save after one rating, as the window saves", label, saves[1:])
        if not again:
            copy_floor = median(
                [timed(lambda d=document: copy_and_fsync(d, workdir / "floor.bin")) for _ in range(RUNS)]
            )  # type: ignore[misc]
            (workdir / "floor.bin").unlink(missing_ok=True)
            results.append(Result(f"storage: save after one rating vs cp + fsync, {label}", ms(median(saves[1:])),
                                  ms(copy_floor), "ms", "≤ 100 ms", f"{size / MIB:,.0f} MiB; floor: cp + fsync of the file"))  # fmt: skip
        for output in (workdir / f"{document.stem}.xlsx", workdir / f"{document.stem}.pdf"):
            output.unlink(missing_ok=True)
        if document is not base:
            document.unlink()  # the disk it took (4 GiB) is not needed any more

    # The rows: each variant against the one without evidence (the targets are on evidence
    # bytes; more items are more records to show, so those rows carry no target).
    for (operation, label), seconds in samples.items():
        value = median(seconds)
        if label == NONE:
            results.append(Result(f"storage: {operation}, {label}", ms(value), None, "ms"))
            if operation == "ztmm info":
                results.append(Result("storage: ztmm info without evidence vs python -c 'import sqlite3'",
                                      ms(value), ms(floor_import), "ms", "≤ 5×"))  # fmt: skip
        else:
            floor = median(samples[(operation, NONE)])
            target = "" if label.endswith("items") else targets[operation]
            results.append(Result(f"storage: {operation}, {label}", ms(value), ms(floor), "ms", target,
                                  "floor: same, no evidence"))  # fmt: skip
        if (operation, label) in peaks:
            results.append(Result(f"storage: peak RSS of {operation}, {label}", peaks[(operation, label)],
                                  peaks.get((operation, NONE)) if label != NONE else None, "MiB"))  # fmt: skip

    # Attaching N bytes, and the save after it, against hashing and writing the same N bytes;
    # median of RUNS, each on a fresh copy of the engagement without evidence.
    attach_mib = 256
    attaches, attach_saves = [], []
    for number in range(RUNS):
        target = workdir / "attach.ztmm"
        copy_and_fsync(base, target)
        with open_engagement(target, frequent_saves=True) as engagement:
            if engagement.document.spare is not None:
                engagement.document.spare.take()
            link = ev.parse_link(engagement, "1.1/initial")
            stream = io.BufferedReader(PatternStream(attach_mib * MIB, 7 + number), buffer_size=MIB)
            attaches.append(timed(lambda e=engagement, s=stream, k=link: ev.attach_stream(
                e, s, original_name="a.bin", expected_size=attach_mib * MIB, links=[k])))  # fmt: skip
            attach_saves.append(timed(engagement.save))
        target.unlink()
    attach, save = median(attaches), median(attach_saves)

    def hash_only() -> None:
        digest = hashlib.sha256()
        for chunk in _chunks(attach_mib, 7):
            digest.update(chunk)

    def write_only() -> None:
        with (workdir / "write.bin").open("wb") as handle:
            for chunk in _chunks(attach_mib, 8):
                handle.write(chunk)
        fsync_file(workdir / "write.bin")

    hashing = median([timed(hash_only) for _ in range(RUNS)])
    writing = median([timed(write_only) for _ in range(RUNS)])
    results.append(Result(f"storage: attach {attach_mib} MiB", ms(attach), ms(hashing), "ms", "≤ 2×",
                          "floor: hashlib over the same bytes (≥ 0.5× its speed)"))  # fmt: skip
    results.append(Result(f"storage: save after attaching {attach_mib} MiB", ms(save), ms(writing), "ms", "≤ 1.3×",
                          "floor: writing the same bytes with fsync"))  # fmt: skip
    return results
