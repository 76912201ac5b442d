"""What opening, saving and every command cost as the evidence grows (issue 17's table).

An engagement with the large engagement's records (40 functions rated, 400 findings) is
built at several evidence sizes — none, 1 GiB and 4 GiB by default (``ZTMM_BENCH_STORAGE_GIB``,
e.g. ``0,1``) — as a few large files, plus variants with 5,000 and 50,000 small evidence
items (``ZTMM_BENCH_STORAGE_ITEMS``). For each it times, in this process or a fresh one:

* open for editing (``open_engagement``) and close;
* one rating, then the save after it, as the window saves (onto the clone it keeps ready);
* ``ztmm info``, ``ztmm assess`` (one rating, saved), ``ztmm verify``, ``ztmm export`` as processes;
* the peak RSS of each command.

Floors measured in the same run: the same operation on the engagement without evidence
(``info``, open, ``assess``), ``cp`` + ``fsync`` of the document, writing N bytes with fsync (a
save after attaching N bytes), SHA-256 over the same bytes with ``hashlib`` (verify, attach).
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import Result, copy_and_fsync, fsync_file, large_engagement, median, ms, timed
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Engagement, open_engagement

GIB = 1024**3
MIB = 1024**2
RUNS = 3
TIMEOUT = 900


class PatternStream(io.RawIOBase):
    """``size`` bytes that differ per MiB (cheap to make, never deduplicated)."""

    def __init__(self, size: int, seed: int) -> None:
        self.left = size
        self.block = bytearray(os.urandom(MIB))
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


def _attach_big(engagement: Engagement, total: int, seed: int) -> None:
    link = ev.parse_link(engagement, "1.1/initial")
    part = 0
    while total > 0:
        size = min(total, GIB)
        stream = io.BufferedReader(PatternStream(size, seed * 1000 + part), buffer_size=MIB)
        ev.attach_stream(engagement, stream, original_name=f"capture-{part}.bin", expected_size=size, links=[link])
        total -= size
        part += 1


def _attach_items(engagement: Engagement, count: int) -> None:
    link = ev.parse_link(engagement, "2.1/initial")
    for number in range(count):
        data = f"item {number} ".encode() * 20
        ev.attach_stream(
            engagement, io.BytesIO(data), original_name=f"i{number}.txt", expected_size=len(data), links=[link]
        )


def _build(workdir: Path, base: Path, name: str, *, gib: float = 0, items: int = 0) -> Path:
    target = workdir / f"{name}.ztmm"
    copy_and_fsync(base, target)
    with open_engagement(target) as engagement:
        if gib:
            _attach_big(engagement, int(gib * GIB), seed=int(gib * 10))
        if items:
            _attach_items(engagement, items)
        engagement.save()
    return target


def _process(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``ztmm ARGS`` in a fresh process."""
    command = [sys.executable, "-m", "ztmm_desktop.cli", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

    def go() -> None:
        done = subprocess.run(command, capture_output=True, cwd=cwd, timeout=TIMEOUT, check=False)
        if done.returncode not in (0, 1):
            raise RuntimeError(
                f"ztmm {' '.join(args)} exited {done.returncode}: {done.stderr.decode(errors='replace')}"
            )

    seconds = timed(go)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def _median_process(args: list[str], cwd: Path) -> tuple[float, float]:
    _process(args, cwd)  # warm-up
    runs = [_process(args, cwd) for _ in range(RUNS)]
    return median([r[0] for r in runs]), max(r[1] for r in runs)


def _open_close(document: Path) -> float:
    holder: list[Engagement] = []
    seconds = timed(lambda: holder.append(open_engagement(document)))
    holder[0].close()
    return seconds


def _hash_chunks(document: Path) -> float:
    import sqlite3

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
    docs = {"no evidence": base}
    for gib in _sizes("ZTMM_BENCH_STORAGE_GIB", "1,4"):
        if gib:
            docs[f"{gib:g} GiB"] = _build(workdir, base, f"e{gib:g}", gib=gib)
    for items in _sizes("ZTMM_BENCH_STORAGE_ITEMS", "5000"):
        if items:
            docs[f"{int(items):,} items"] = _build(workdir, base, f"i{int(items)}", items=int(items))

    floor_info, _ = _median_process(["info", str(base)], workdir)
    floor_assess, _ = _median_process(["assess", str(base), "1.2", "--rate", "initial=met"], workdir)
    floor_open = median([_open_close(base) for _ in range(RUNS + 1)][1:])
    floor_import = median(
        [timed(lambda: subprocess.run([sys.executable, "-c", "import sqlite3"], check=True)) for _ in range(RUNS)]
    )
    results.append(Result("storage: ztmm info, no evidence", ms(floor_info), ms(floor_import), "ms", "≤ 5×",
                          "floor: python -c 'import sqlite3'"))  # fmt: skip

    for label, document in docs.items():
        size = document.stat().st_size
        if document is not base:
            info, info_rss = _median_process(["info", str(document)], workdir)
            results.append(Result(f"storage: ztmm info, {label}", ms(info), ms(floor_info), "ms", "≤ 2×",
                                  f"peak RSS {info_rss:.0f} MiB; floor: same, no evidence"))  # fmt: skip
            assess, assess_rss = _median_process(["assess", str(document), "1.2", "--rate", "initial=met"], workdir)
            results.append(Result(f"storage: ztmm assess (one rating, saved), {label}", ms(assess), ms(floor_assess),
                                  "ms", "≤ 1.5×", f"peak RSS {assess_rss:.0f} MiB; floor: same, no evidence"))  # fmt: skip
            opened = median([_open_close(document) for _ in range(RUNS + 1)][1:])
            results.append(Result(f"storage: open for editing, {label}", ms(opened), ms(floor_open), "ms", "≤ 1.5×",
                                  "floor: same, no evidence"))  # fmt: skip
        saves = []
        with open_engagement(document, frequent_saves=True) as engagement:  # as the window opens it
            for number in range(RUNS + 1):
                rating = Rating.MET if number % 2 else Rating.PARTIAL
                engagement.assess("1.3", ratings={Stage.INITIAL: rating})
                if engagement.document.spare is not None:
                    engagement.document.spare.take()  # the consultant rates for a while between saves
                saves.append(timed(engagement.save))
        copy_floor = median([timed(lambda d=document: copy_and_fsync(d, workdir / "floor.bin")) for _ in range(RUNS)])
        results.append(Result(f"storage: save after one rating, {label}", ms(median(saves[1:])), ms(copy_floor), "ms",
                              "≤ 100 ms", f"{size / MIB:,.0f} MiB; floor: cp + fsync of the file"))  # fmt: skip
        if size > 256 * MIB:
            verify, verify_rss = _median_process(["verify", str(document)], workdir)
            hashing = median([_hash_chunks(document) for _ in range(RUNS)])
            results.append(Result(f"storage: ztmm verify, {label}", ms(verify), ms(hashing), "ms", "≤ 1.25×",
                                  f"peak RSS {verify_rss:.0f} MiB; floor: hashlib over the same chunks (≥ 0.8× its speed)"))  # fmt: skip
        export, export_rss = _median_process(["export", str(document), str(workdir / f"{document.stem}.xlsx")], workdir)
        results.append(Result(f"storage: ztmm export, {label}", ms(export), None, "ms", "",
                              f"peak RSS {export_rss:.0f} MiB"))  # fmt: skip
        (workdir / "floor.bin").unlink(missing_ok=True)

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
