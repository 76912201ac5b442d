"""Killing the app while it attaches evidence loses no acknowledged attach and leaves nothing half stored.

An attach in a session that reads its older bytes from the document commits its bytes to the
working copy's write-ahead log and leaves them there until the next save copies them into the
document (no checkpoint writes them a second time). These tests kill a child process with SIGKILL
while it attaches and saves, then check what a consultant relies on: every attach the service
acknowledged is recovered with its SHA-256, no item is half there, the document on disk is the
engagement before or after a save, and recovery then saves a sound document.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from ztmm_desktop.core.errors import Cancelled
from ztmm_desktop.core.progress import CancelToken
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement
from ztmm_desktop.store.document import orphaned_working_copies

MIB = 1024 * 1024
KILLS = 8

#: Attaches item after item (each a few MiB, its bytes a function of its number), saving after
#: every third, and prints each number once ``attach_stream`` returned (acknowledged).
ATTACHER = textwrap.dedent(
    """
    import io, sys
    from pathlib import Path
    from ztmm_desktop.services import evidence as ev
    from ztmm_desktop.services.engagement import open_engagement

    from tests.store.test_attach_crash import item_bytes

    run = int(sys.argv[2])
    engagement = open_engagement(Path(sys.argv[1]))
    link = ev.parse_link(engagement, "1.1/initial")
    n = 0
    while True:
        data = item_bytes(run, n)
        ev.attach_stream(engagement, io.BytesIO(data), original_name=f"{run}-{n}.bin", expected_size=len(data),
                         links=[link])
        print(n, flush=True)  # acknowledged
        if n % 3 == 2:
            engagement.save()
            print("saved", flush=True)
        n += 1
    """
)

#: Attaches one item, says so, then waits to be killed.
ATTACH_THEN_WAIT = textwrap.dedent(
    """
    import io, sys, time
    from pathlib import Path
    from ztmm_desktop.services import evidence as ev
    from ztmm_desktop.services.engagement import open_engagement

    engagement = open_engagement(Path(sys.argv[1]))
    data = bytes(range(256)) * (int(sys.argv[2]) // 256)
    ev.attach_stream(engagement, io.BytesIO(data), original_name="late.bin", expected_size=len(data),
                     links=[ev.parse_link(engagement, "1.1")])
    print("attached", flush=True)
    time.sleep(120)
    """
)


def item_bytes(run: int, number: int) -> bytes:
    """The bytes of one item: 1 to 4 MiB, different for every run and number."""
    seed = hashlib.sha256(f"{run}/{number}".encode()).digest()
    size = MIB + (number % 4) * MIB + number
    return (seed * (size // len(seed) + 1))[:size]


def stored_hashes(engagement: Engagement) -> set[str]:
    return {item.sha256 for item in ev.list_evidence(engagement)}


def start(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=dict(os.environ)
    )


def assert_sound_document(path: Path) -> set[str]:
    """The document on disk opens, every item's bytes match its SHA-256; returns the hashes."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()
    with open_engagement(path, readonly=True) as engagement:
        assert ev.verify(engagement) == []
        return stored_hashes(engagement)


@pytest.mark.slow
def test_sigkill_while_attaching_and_saving_loses_no_acknowledged_attach(tmp_path: Path) -> None:
    document = tmp_path / "attach-crash.ztmm"
    create_engagement(document, Properties(client="Crash Test Dummies Inc")).close()
    rng = random.Random(20261205)
    acknowledged_in_all = 0
    for run in range(KILLS):
        saved_before = assert_sound_document(document)
        child = start(ATTACHER, str(document), str(run))
        assert child.stdout is not None
        first = child.stdout.readline()
        assert first.strip() == "0", f"the attacher did not start: {first!r}"
        deadline = time.monotonic() + rng.uniform(0.0, 1.5)
        while time.monotonic() < deadline:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait()
        lines = ["0", *(line.strip() for line in child.stdout.read().splitlines() if line.strip())]
        child.stdout.close()
        acknowledged = {hashlib.sha256(item_bytes(run, int(n))).hexdigest() for n in lines if n != "saved"}
        acknowledged_in_all += len(acknowledged)

        # the document is the engagement before or after one of the saves, never a mix
        on_disk = assert_sound_document(document)
        assert saved_before <= on_disk
        assert on_disk - saved_before <= acknowledged

        (orphan,) = orphaned_working_copies()
        assert orphan.document == document and orphan.partial
        with open_engagement(document, recover=orphan) as recovered:
            hashes = stored_hashes(recovered)
            missing = acknowledged - hashes
            assert not missing, f"run {run}: acknowledged attaches lost: {len(missing)}"
            assert ev.verify(recovered) == []  # no item without all of its bytes
            recovered.save()
        assert assert_sound_document(document) == hashes
    assert acknowledged_in_all >= KILLS


def test_an_acknowledged_attach_whose_bytes_are_only_in_the_log_survives_sigkill(tmp_path: Path) -> None:
    document = tmp_path / "client.ztmm"
    with create_engagement(document, Properties(client="Fabrikam")) as engagement:
        engagement.save()
    size = 6 * MIB
    child = start(ATTACH_THEN_WAIT, str(document), str(size))
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "attached"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    (orphan,) = orphaned_working_copies()
    log = orphan.working.with_name(orphan.working.name + "-wal")
    # the bytes were committed to the log and never written into the working copy's file
    assert orphan.working.stat().st_size < size <= log.stat().st_size
    data = bytes(range(256)) * (size // 256)
    with open_engagement(document, recover=orphan) as recovered:
        assert stored_hashes(recovered) == {hashlib.sha256(data).hexdigest()}
        assert ev.verify(recovered) == []
        recovered.save()
    assert assert_sound_document(document) == {hashlib.sha256(data).hexdigest()}


def working_files_size(working: Path) -> int:
    return sum(p.stat().st_size for p in working.parent.glob(working.name + "*"))


def chunk_rows(working: Path) -> int:
    conn = sqlite3.connect(working)
    try:
        return int(conn.execute("SELECT count(*) FROM blob_chunk").fetchone()[0])
    finally:
        conn.close()


def test_the_working_copy_lets_go_of_the_bytes_a_save_put_into_the_document(tmp_path: Path) -> None:
    document = tmp_path / "client.ztmm"
    with create_engagement(document, Properties(client="Fabrikam")) as engagement:
        engagement.save()
    first, second = os.urandom(8 * MIB + 3), os.urandom(6 * MIB)
    with open_engagement(document) as engagement:
        working = engagement.document.working
        assert working is not None
        link = ev.parse_link(engagement, "1.1")
        ev.attach_stream(engagement, io.BytesIO(first), original_name="a.bin", expected_size=len(first), links=[link])
        engagement.save()
        assert chunk_rows(working) == 0
        assert working.stat().st_size < 4 * MIB < len(first)  # the records, never the bytes
        after_first = working_files_size(working)
        ev.attach_stream(engagement, io.BytesIO(second), original_name="b.bin", expected_size=len(second), links=[link])
        engagement.save()
        assert chunk_rows(working) == 0
        # the second attach reused the log's space: the working copy holds at most what was
        # attached between two saves, not everything attached in the session
        assert working_files_size(working) <= after_first + MIB
        assert ev.verify(engagement) == []  # the saved bytes are read from the document now
        (item,) = (i for i in ev.list_evidence(engagement) if i.original_name == "a.bin")
        assert ev.extract(engagement, item.id, tmp_path).read_bytes() == first
    assert assert_sound_document(document) == {hashlib.sha256(b).hexdigest() for b in (first, second)}


def test_a_cancelled_attach_in_a_session_on_a_saved_document_stores_nothing(tmp_path: Path) -> None:
    document = tmp_path / "client.ztmm"
    with create_engagement(document, Properties(client="Cancel Ltd")) as engagement:
        engagement.save()
    token = CancelToken()

    def cancel_midway(done: int, total: int, message: str) -> None:
        if done >= 3 * MIB:
            token.cancel()

    data = os.urandom(6 * MIB)
    with open_engagement(document) as engagement:
        link = ev.parse_link(engagement, "1.1")
        with pytest.raises(Cancelled):
            ev.attach_stream(engagement, io.BytesIO(data), original_name="big.bin", expected_size=len(data),
                             links=[link], progress=cancel_midway, cancel=token)  # fmt: skip
        assert ev.list_evidence(engagement) == []
        working = engagement.document.working
        assert working is not None
        conn = sqlite3.connect(working)
        try:
            assert conn.execute("SELECT count(*) FROM blob_chunk").fetchone()[0] == 0
        finally:
            conn.close()
        attached = ev.attach_stream(engagement, io.BytesIO(data), original_name="big.bin", expected_size=len(data),
                                    links=[link]).evidence  # fmt: skip
        assert attached.sha256 == hashlib.sha256(data).hexdigest()
        engagement.save()
    assert assert_sound_document(document) == {hashlib.sha256(data).hexdigest()}
