"""The storage guarantees at 4 GiB of evidence (issue 17), in real processes.

One engagement with 4 GiB of evidence (four 1 GiB files, attached through
``evidence.attach_stream`` and saved as the app saves) is built once for the module; each
test works on a hard link of it (the app never writes into a document: a save replaces it,
so the shared file stays as built) and removes what it wrote. Then:

* a child process edits, attaches or saves in a loop and is killed with SIGKILL at a random
  moment of one of those (chosen by a seeded generator; the next child recovers its work and
  is killed in turn): every acknowledged edit and attachment is in the working copy left
  behind, the document is the last saved state or the one being saved, and after the last
  recovery and a save the document passes the gate and ``ztmm verify``;
* a sync client's process copies the document again and again while a session saves: every
  copy passes the gate, has all its chunks, and records exactly a saved state;
* a second opener is told which process holds the document.

The seed is printed (shown when a test fails); ``ZTMM_TEST_SEED`` repeats a run's choices.
"""

from __future__ import annotations

import io
import json
import os
import queue
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.support.processes import held_open
from tests.support.records import chunk_problems, records_digest
from ztmm_desktop.core.errors import DocumentLocked
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.paths import data_dir
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.store.document import orphaned_working_copies

pytestmark = pytest.mark.slow

MIB = 1024**2
GIB = 1024**3
#: The evidence, in GiB (``ZTMM_TEST_BIG_GIB`` only to try the module quickly by hand).
SIZE = int(float(os.environ.get("ZTMM_TEST_BIG_GIB", "4")) * GIB)
PARTS = 4
#: Kills per kind of moment (an edit, an attach, a save), in an order the seed shuffles.
KILLS_PER_MOMENT = 2
WAIT = 240.0  # seconds a child may take to reach a step (a save of 4 GiB on a slow disk)

# Each attached file is seeded random bytes, unique per (seed, name): never deduplicated.
PATTERN = textwrap.dedent(
    """
    import io, random

    MIB = 1024 * 1024

    class Pattern(io.RawIOBase):
        def __init__(self, size, name):
            self.left, self.name, self.count = size, name, 0
            self.block = bytearray(random.Random(name).randbytes(MIB))

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.left <= 0:
                return 0
            n = min(len(buffer), self.left, MIB)
            self.block[:40] = f"{self.name}#{self.count}".encode().ljust(40)[:40]
            self.count += 1
            buffer[:n] = self.block[:n]
            self.left -= n
            return n
    """
)
_pattern: dict[str, object] = {}
exec(PATTERN, _pattern)  # the same class in this process as in the children
Pattern = _pattern["Pattern"]

# A session of the app, editing, attaching or saving until it is killed; each step is
# acknowledged on stdout only once the service returned (the edit or attach is committed,
# the save is renamed into place).
SESSION = PATTERN + textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tests.support.records import records_digest
    from ztmm_desktop.core.stages import Rating, Stage
    from ztmm_desktop.services import evidence as ev
    from ztmm_desktop.services.engagement import open_engagement
    from ztmm_desktop.store.document import orphaned_working_copies

    document, tag, moment, frequent = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    rng = random.Random(tag)
    orphans = [o for o in orphaned_working_copies() if o.document == document]
    engagement = open_engagement(document, recover=orphans[0] if orphans else None, frequent_saves=frequent)
    print("open", len(orphans), flush=True)
    functions = [f.id for f in engagement.catalog.functions()]
    ratings = [Rating.MET, Rating.PARTIAL, Rating.NOT_MET]
    link = ev.parse_link(engagement, "1.1/initial")
    n = 0
    while True:
        if moment in ("edit", "save"):
            engagement.assess(
                functions[n % len(functions)],
                ratings={Stage.ADVANCED: ratings[n % 3]},
                comments={Stage.ADVANCED: f"{tag}:{n}"},
            )
            print("edit", n, flush=True)
        if moment == "attach":
            size = rng.randint(8, 48) * MIB
            stream = io.BufferedReader(Pattern(size, f"{tag}:{n}"), buffer_size=MIB)
            print("attaching", n, flush=True)
            started = time.perf_counter()
            item = ev.attach_stream(
                engagement, stream, original_name=f"{tag}-{n}.bin", expected_size=size, links=[link]
            ).evidence
            print("attached", n, item.sha256, time.perf_counter() - started, flush=True)
        if moment == "save":
            print("saving", n, records_digest(engagement.document.working), flush=True)
            started = time.perf_counter()
            engagement.save()
            print("saved", n, time.perf_counter() - started, flush=True)
        n += 1
    """
)

# A sync client: copies the document at random moments, checks each copy, says what it found.
SYNC_CLIENT = textwrap.dedent(
    """
    import json, os, random, shutil, sys, time
    from pathlib import Path
    from tests.support.records import chunk_problems, records_digest
    from ztmm_desktop.services import evidence as ev
    from ztmm_desktop.services.engagement import open_engagement

    document, folder, seed, stop = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    rng = random.Random(seed)
    n = 0
    while not stop.exists():
        time.sleep(rng.uniform(0.0, 0.5))
        copy = folder / f"copy-{n}.ztmm"
        started = time.monotonic()  # one clock for every process
        if n % 2 == 0:
            shutil.copyfile(document, copy)  # front to back
        else:  # back to front, block by block (as a client hashing blocks in another order might):
            with document.open("rb") as source, copy.open("wb") as target:  # a writer going forwards is met
                end = os.fstat(source.fileno()).st_size
                while end > 0:
                    start = max(0, end - (4 << 20))
                    os.pwrite(target.fileno(), os.pread(source.fileno(), end - start, start), start)
                    end = start
        report = {"n": n, "started": started, "copied": time.monotonic() - started}
        try:
            with open_engagement(copy, readonly=True) as engagement:  # the file gate
                items = ev.list_evidence(engagement)
                small = [item for item in items if item.size < 256 * 1024 * 1024]  # the ones the saves added
                report["problems"] = [p.problem for p in ev.verify(engagement, items=small)]
                report["items"] = len(items)
            report["problems"] += chunk_problems(copy)
            report["digest"] = records_digest(copy)
        except Exception as err:
            report["error"] = f"{type(err).__name__}: {err}"
        print(json.dumps(report), flush=True)
        copy.unlink()
        n += 1
    """
)


@dataclass(frozen=True)
class Big:
    path: Path
    hashes: frozenset[str]
    build_seconds: float
    #: About what a save takes here: what cloning 1/8 of the file and fsyncing it takes, times 8.
    save_seconds: float


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Big]:
    """The 4 GiB engagement, built through the services: a few ratings, four 1 GiB files."""
    folder = tmp_path_factory.mktemp("big")
    path = folder / "big.ztmm"
    hashes = set()
    started = time.perf_counter()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("ZTMM_DATA_DIR", str(folder / "appdata"))
            with create_engagement(path, Properties(client="Contoso Big Data")) as engagement:
                for number, function in enumerate(list(engagement.catalog.functions())[:10]):
                    engagement.assess(
                        function.id, ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: f"built {number}"}
                    )
                link = ev.parse_link(engagement, "1.1/initial")
                for part in range(PARTS):
                    size = SIZE // PARTS
                    stream = io.BufferedReader(Pattern(size, f"big:{part}"), buffer_size=MIB)  # type: ignore[operator]
                    item = ev.attach_stream(
                        engagement, stream, original_name=f"capture-{part}.pcap", expected_size=size, links=[link]
                    ).evidence
                    hashes.add(item.sha256)
                engagement.save()
        seconds = time.perf_counter() - started
        assert path.stat().st_size >= SIZE
        eighth = folder / "eighth.bin"
        clone = time.perf_counter()
        _clone_part(path, eighth, path.stat().st_size // 8)
        estimate = 8 * (time.perf_counter() - clone)
        eighth.unlink()
        print(
            f"built a {path.stat().st_size / GIB:.2f} GiB engagement in {seconds:.1f} s; a save takes ~{estimate:.1f} s"
        )
        yield Big(path, frozenset(hashes), seconds, estimate)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _clone_part(source: Path, target: Path, size: int) -> None:
    """The first ``size`` bytes of ``source`` into ``target`` as a save clones them, made durable."""
    with source.open("rb") as src, target.open("wb") as dst:
        done = 0
        while done < size:
            if hasattr(os, "copy_file_range"):
                n = os.copy_file_range(src.fileno(), dst.fileno(), size - done)
            else:
                n = dst.write(src.read(min(size - done, 8 * MIB)))
            if n == 0:
                break
            done += n
        os.fsync(dst.fileno())


@pytest.fixture
def seed() -> int:
    value = int(os.environ.get("ZTMM_TEST_SEED") or secrets.randbits(32))
    print(f"seed {value} (ZTMM_TEST_SEED={value} repeats this run's random choices)")
    return value


@pytest.fixture
def document(big: Big, tmp_path: Path) -> Iterator[Path]:
    """A hard link of the big engagement in a folder of the test's own; what the test wrote is removed after."""
    folder = tmp_path / "synced"
    folder.mkdir()
    path = folder / "big.ztmm"
    try:
        os.link(big.path, path)
    except OSError:
        shutil.copyfile(big.path, path)
    try:
        yield path
    finally:
        for each in (folder, data_dir()):
            shutil.rmtree(each, ignore_errors=True)


class Child:
    """A child process whose stdout lines are read as they come."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self.lines: list[list[str]] = []
        self._queue: queue.Queue[list[str] | None] = queue.Queue()
        with log.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, *args], stdout=subprocess.PIPE, stderr=err, text=True, cwd=ROOT, env=dict(os.environ)
            )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.split())
        self._queue.put(None)

    def wait_for(self, *words: str) -> list[str]:
        """The first line starting with ``words`` (every line before it is kept in ``lines``)."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {' '.join(words)!r} within {WAIT:.0f} s") from None
            if line is None:
                self.process.wait()
                raise AssertionError(
                    f"the child ended (exit {self.process.returncode}) before {' '.join(words)!r}: "
                    + self.log.read_text(errors="replace")[-2000:]
                )
            self.lines.append(line)
            if tuple(line[: len(words)]) == words:
                return line

    def ready(self) -> list[list[str]]:
        """Every line so far, without waiting."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return self.lines
            if line is None:
                self._queue.put(None)  # for kill()
                return self.lines
            self.lines.append(line)

    def kill(self) -> list[list[str]]:
        """SIGKILL; every line it wrote."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._reader.join()
        while (line := self._queue.get()) is not None:
            self.lines.append(line)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return self.lines


@dataclass
class Acknowledged:
    """What the killed sessions were told was done."""

    edits: set[str] = field(default_factory=set)
    attached: set[str] = field(default_factory=set)
    tried: set[str] = field(default_factory=set)  # names of the files attached or being attached
    saved: str = ""  # records digest of the last acknowledged save


def _comments(path: Path) -> set[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok", path.name
        return {str(row[0]) for row in conn.execute("SELECT new FROM audit WHERE field = 'comment'")}
    finally:
        conn.close()


def _working_blobs(path: Path, document: Path) -> dict[str, bool]:
    """The working copy's blobs: whether all of each one's chunks are in it or in the document it
    reads its older bytes from (a save's bytes leave the working copy once the document holds them)."""
    import sqlite3

    conn = sqlite3.connect(path.absolute().as_uri(), uri=True)
    try:
        conn.execute("ATTACH DATABASE ? AS doc", (f"file:{document}?mode=ro&immutable=1",))
        return {
            str(sha): bool(whole)
            for sha, whole in conn.execute(
                "SELECT b.sha256, ((SELECT count(*) FROM main.blob_chunk AS c WHERE c.chunk_key = b.chunk_key) = b.chunks"
                " OR (SELECT count(*) FROM doc.blob_chunk AS c WHERE c.chunk_key = b.chunk_key) = b.chunks) "
                "FROM main.blob AS b"
            )
        }
    finally:
        conn.close()


def test_sigkill_during_edits_attaches_and_saves_loses_nothing_acknowledged(
    big: Big, document: Path, seed: int, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    moments = ["edit", "attach", "save"] * KILLS_PER_MOMENT
    rng.shuffle(moments)
    acked = Acknowledged(saved=records_digest(document))
    temps_left = killed_saving = 0
    left: list[Path] = []
    for run, moment in enumerate(moments):
        frequent = rng.random() < 0.5  # as the window opens (a clone kept ready in the background) or not
        where = f"seed {seed}, run {run} ({moment}, frequent saves {frequent})"
        child = Child(
            ["-c", SESSION, str(document), f"{seed}-{run}", moment, "1" if frequent else "0"], tmp_path / "log"
        )
        assert child.wait_for("open")[1] == ("1" if run else "0"), where  # it recovered the last one's work
        assert not any(temp.exists() for temp in left), f"{where}: the open left a killed save's clone"
        if moment == "edit":
            child.wait_for("edit", "0")
            time.sleep(rng.uniform(0.0, 0.3))
        elif moment == "attach":  # the second attach, at a random moment of the time the first one took
            took = float(child.wait_for("attached", "0")[-1])
            child.wait_for("attaching", "1")
            time.sleep(rng.uniform(0.0, 1.25 * took))
        else:  # the first save (4 GiB cloned on a file system without reflinks), at a random moment
            child.wait_for("saving", "0")
            time.sleep(rng.uniform(0.0, 1.25 * big.save_seconds))
        lines = child.kill()
        in_flight = ""  # the records digest of a save begun and not acknowledged
        for line in lines:
            if line[0] == "edit":
                acked.edits.add(f"{seed}-{run}:{line[1]}")
            elif line[0] == "attaching":
                acked.tried.add(f"{seed}-{run}-{line[1]}.bin")
            elif line[0] == "attached":
                acked.attached.add(line[2])
            elif line[0] == "saving":
                in_flight = line[2]
            elif line[0] == "saved":
                acked.saved, in_flight = in_flight, ""

        killed_saving += bool(in_flight)

        # The work left behind holds every acknowledged edit and attachment, bytes and all.
        (orphan,) = orphaned_working_copies()
        assert orphan.document == document, where
        spares = data_dir() / "spare"
        assert not spares.is_dir() or not any(spares.iterdir()), f"{where}: a dead session's clone was left"
        missing = sorted(acked.edits - _comments(orphan.working))
        assert not missing, f"{where}: acknowledged edits lost: {missing[:5]}"
        blobs = _working_blobs(orphan.working, document)
        lost = sorted(sha for sha in acked.attached if not blobs.get(sha))
        assert not lost, f"{where}: acknowledged attachments lost or incomplete: {lost}"

        # The document is the last saved engagement or the one being saved, never a mix.
        now = records_digest(document)
        assert now in {acked.saved, in_flight}, f"{where}: the document is neither the saved state nor the new one"
        acked.saved = now
        with open_engagement(document, readonly=True) as reader:  # the file gate, in place
            assert big.hashes <= {item.sha256 for item in ev.list_evidence(reader)}, where
        left = list(document.parent.glob(".*.saving"))  # a save killed before its rename (4 GiB each)
        temps_left += bool(left)

    (orphan,) = orphaned_working_copies()
    with open_engagement(document, recover=orphan) as recovered:
        assert acked.attached <= {item.sha256 for item in ev.list_evidence(recovered)}
        assert not any(temp.exists() for temp in left), f"seed {seed}: the open left a killed save's clone"
        recovered.save()
    assert list(document.parent.glob(".*.saving")) == []
    assert not (acked.edits - _comments(document)), f"seed {seed}: an acknowledged edit did not reach the document"
    with open_engagement(document, readonly=True) as again:  # the gate
        items = ev.list_evidence(again)
    stored = {item.sha256 for item in items}
    assert stored >= big.hashes | acked.attached
    assert chunk_problems(document) == []
    # and nothing else (an attach killed after its commit, before it was acknowledged, may be there)
    assert {item.original_name for item in items if item.sha256 not in big.hashes} <= acked.tried
    checked = run_cli("verify", document)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(stored)} of {len(stored)} evidence files match their SHA-256" in checked.stdout
    assert orphaned_working_copies() == []
    print(
        f"{len(acked.edits)} edits and {len(acked.attached)} attachments acknowledged; "
        f"{killed_saving} kill(s) during a save, {temps_left} of them left a temp file beside the document"
    )


def test_a_copy_taken_by_a_sync_client_during_saves_is_a_saved_state(document: Path, seed: int, tmp_path: Path) -> None:
    copies = tmp_path / "sync-client"
    copies.mkdir()
    stop = tmp_path / "stop"
    saved = {records_digest(document)}
    rng = random.Random(seed)
    client = Child(["-c", SYNC_CLIENT, str(document), str(copies), str(seed), str(stop)], tmp_path / "client.log")
    saves = 0
    started = time.monotonic()
    try:
        # Saves, in a session that clones while saving and in one that keeps a clone ready (as the
        # window does), until the sync client has taken at least two copies that began meanwhile.
        while saves < 3 or len(client.ready()) < 2:
            assert saves < 12, f"seed {seed}: the sync client copied too rarely: {client.lines}"
            with open_engagement(document, frequent_saves=saves % 3 != 0) as engagement:
                working = engagement.document.working
                assert working is not None
                for _ in range(1 if saves % 3 == 0 else 2):
                    text = f"state {seed}-{saves}"
                    engagement.assess("1.2", ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: text})
                    if rng.random() < 0.5:
                        size = rng.randint(1, 4) * MIB
                        stream = io.BufferedReader(Pattern(size, text), buffer_size=MIB)  # type: ignore[operator]
                        link = ev.parse_link(engagement, "1.2/initial")
                        ev.attach_stream(
                            engagement, stream, original_name=f"{text}.bin", expected_size=size, links=[link]
                        )
                    state = records_digest(working)
                    saved.add(state)
                    engagement.save()
                    saves += 1
                    assert records_digest(document) == state  # the helper sees what was saved
        saving = time.monotonic() - started
    finally:
        stop.touch()
    client.process.wait(timeout=WAIT)
    reports = [json.loads(" ".join(line)) for line in client.kill()]
    during = [r for r in reports if r["started"] < started + saving]
    print(f"{saves} saves in {saving:.1f} s; {len(reports)} copies, {len(during)} begun while saving")
    for report in reports:
        assert "error" not in report, f"seed {seed}: copy {report['n']} refused: {report['error']}"
        assert report["problems"] == [], f"seed {seed}: copy {report['n']}: {report['problems']}"
        assert report["digest"] in saved, f"seed {seed}: copy {report['n']} is neither the old nor the new state"
    assert list(copies.iterdir()) == []


def test_a_second_opener_of_the_big_engagement_is_told_who_holds_it(big: Big, document: Path) -> None:
    with held_open(document) as holder:
        with pytest.raises(DocumentLocked) as caught:
            open_engagement(document)
        assert f"process {holder.pid}" in str(caught.value)
        refused = run_cli("assess", document, "1.1", "--rate", "initial=met")
        assert refused.returncode != 0 and re.search(rf"process {holder.pid}\b", refused.stderr), refused.stderr
        with open_engagement(document, readonly=True) as reader:  # reading is always possible, in place
            assert {item.sha256 for item in ev.list_evidence(reader)} == big.hashes
