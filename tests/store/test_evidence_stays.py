"""Evidence bytes stay in the document: read-only opens copy nothing, the working copy holds
the records and the bytes attached since, a save clones the document and applies the changes.

Each test checks what a consultant relies on: every item's bytes are there (verified by
SHA-256) after opening, editing, attaching, removing, saving, crashing and recovering, and a
copy of the document taken at any moment of a save is the old or the new engagement.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from ztmm_desktop.core.errors import EngagementFileError
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.paths import data_dir
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement
from ztmm_desktop.store.document import check_document, orphaned_working_copies

MIB = 1024 * 1024


def attach(engagement: Engagement, data: bytes, name: str) -> ev.Evidence:
    link = ev.parse_link(engagement, "1.1/initial")
    return ev.attach_stream(
        engagement, io.BytesIO(data), original_name=name, expected_size=len(data), links=[link]
    ).evidence


def hashes(engagement: Engagement) -> set[str]:
    return {item.sha256 for item in ev.list_evidence(engagement)}


def working_files() -> list[Path]:
    folder = data_dir() / "working"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def with_evidence(tmp_path: Path, sizes: tuple[int, ...] = (3 * MIB, 2 * MIB + 5)) -> tuple[Path, list[bytes]]:
    path = tmp_path / "client.ztmm"
    blobs = [os.urandom(size) for size in sizes]
    with create_engagement(path, Properties(client="Fabrikam")) as engagement:
        for number, data in enumerate(blobs):
            attach(engagement, data, f"e{number}.bin")
        engagement.save()
    return path, blobs


def test_a_read_only_open_copies_nothing_and_reads_every_byte(tmp_path: Path) -> None:
    path, blobs = with_evidence(tmp_path)
    before = path.read_bytes()
    with open_engagement(path, readonly=True) as engagement:
        assert engagement.document.working is None
        assert working_files() == []
        assert hashes(engagement) == {hashlib.sha256(b).hexdigest() for b in blobs}
        assert ev.verify(engagement) == []
    assert path.read_bytes() == before


def test_the_working_copy_holds_the_records_not_the_evidence(tmp_path: Path) -> None:
    path, blobs = with_evidence(tmp_path, sizes=(16 * MIB,))
    with open_engagement(path) as engagement:
        working = engagement.document.working
        assert working is not None
        copied = sum(p.stat().st_size for p in working.parent.glob(working.name + "*"))
        # the records in 64 KiB pages (document.WORKING_PAGE_SIZE): about 3 MB whatever the evidence
        assert copied < 4 * MIB < 16 * MIB <= path.stat().st_size
        (item,) = ev.list_evidence(engagement)
        out = ev.extract(engagement, item.id, tmp_path)  # the bytes come from the document
        assert out.read_bytes() == blobs[0]
        assert ev.verify(engagement) == []


def test_save_keeps_old_bytes_adds_new_ones_and_drops_removed_ones(tmp_path: Path) -> None:
    path, (first, second) = with_evidence(tmp_path)
    third = os.urandom(MIB + 17)
    with open_engagement(path) as engagement:
        removed = next(i for i in ev.list_evidence(engagement) if i.sha256 == hashlib.sha256(second).hexdigest())
        ev.remove(engagement, removed.id)
        ev.compact(engagement)
        attach(engagement, third, "third.bin")
        engagement.assess("2.1", ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: "after attach"})
        engagement.save()
        attach(engagement, third + b"!", "fourth.bin")  # a second save in the same session
        engagement.save()
    size_after = path.stat().st_size
    with open_engagement(path, readonly=True) as again:
        assert hashes(again) == {hashlib.sha256(b).hexdigest() for b in (first, third, third + b"!")}
        assert ev.verify(again) == []
        assert again.assessment("2.1").rating(Stage.INITIAL).comment == "after attach"
    conn = sqlite3.connect(path)
    try:  # the removed item's bytes are gone from the file, not merely unlisted
        stored = {row[0] for row in conn.execute("SELECT sha256 FROM blob")}
        assert hashlib.sha256(second).hexdigest() not in stored
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    assert size_after >= len(first) + 2 * len(third)


def test_a_crash_after_attaching_recovers_old_and_new_bytes(tmp_path: Path) -> None:
    path, (first, second) = with_evidence(tmp_path)
    new = os.urandom(MIB * 2)
    engagement = open_engagement(path)
    attach(engagement, new, "unsaved.bin")
    engagement.assess("3.1", ratings={Stage.INITIAL: Rating.PARTIAL}, comments={Stage.INITIAL: "unsaved work"})
    engagement.document.abandon()  # the process dies
    (orphan,) = orphaned_working_copies()
    assert orphan.partial
    with open_engagement(path, recover=orphan) as recovered:
        assert hashes(recovered) == {hashlib.sha256(b).hexdigest() for b in (first, second, new)}
        assert ev.verify(recovered) == []
        recovered.save()
    with open_engagement(path, readonly=True) as again:
        assert ev.verify(again) == []
        assert again.assessment("3.1").rating(Stage.INITIAL).comment == "unsaved work"
        assert len(hashes(again)) == 3


def test_save_as_carries_every_byte_to_the_new_file(tmp_path: Path) -> None:
    path, blobs = with_evidence(tmp_path)
    target = tmp_path / "copy.ztmm"
    with open_engagement(path) as engagement:
        engagement.save_as(target)
        attach(engagement, b"after save as", "late.txt")
        engagement.save()
    check_document(target)
    with open_engagement(target, readonly=True) as again:
        assert ev.verify(again) == []
        assert len(hashes(again)) == len(blobs) + 1
    with open_engagement(path, readonly=True) as original:  # the first file kept what it had
        assert len(hashes(original)) == len(blobs)


def test_a_copy_taken_during_saves_is_the_old_or_the_new_engagement(tmp_path: Path) -> None:
    """A sync client copies the document while the consultant saves again and again."""
    path, _ = with_evidence(tmp_path, sizes=(16 * MIB,))
    copies = tmp_path / "copies"
    copies.mkdir()
    saved_states = {""}
    stop = threading.Event()
    taken: list[Path] = []

    def sync_client() -> None:
        number = 0
        while not stop.is_set():
            target = copies / f"{number}.ztmm"
            try:
                shutil.copyfile(path, target)
            except FileNotFoundError:
                continue
            taken.append(target)
            number += 1

    client = threading.Thread(target=sync_client)
    client.start()
    try:
        with open_engagement(path) as engagement:
            for number in range(6):
                text = f"state {number}"
                engagement.assess("1.2", ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: text})
                if number % 2:
                    attach(engagement, os.urandom(MIB) + text.encode(), f"{number}.bin")
                engagement.save()
                saved_states.add(text)
    finally:
        stop.set()
        client.join()
    assert taken
    for copy in taken:
        conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], copy.name
            row = conn.execute(
                "SELECT comment FROM stage_rating WHERE function_id = '1.2' AND stage = 'initial'"
            ).fetchone()
        finally:
            conn.close()
        assert (row[0] if row else "") in saved_states, copy.name


def test_a_session_that_saves_often_saves_onto_a_ready_clone(tmp_path: Path) -> None:
    path, blobs = with_evidence(tmp_path)
    spare_folder = data_dir() / "spare"
    with open_engagement(path, frequent_saves=True) as engagement:
        for number in range(3):
            spare = engagement.document.spare
            assert spare is not None and spare.take() is not None  # ready before the save
            engagement.assess("4.1", ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: f"save {number}"})
            if number == 1:
                attach(engagement, b"added between saves", "b.txt")
            engagement.save()
            assert not spare.path.exists()  # it became the document
        assert engagement.document.spare is not None  # the next one, already on its way
        assert engagement.document.spare.take() is not None
    assert list(spare_folder.iterdir()) == []  # closing drops it
    with open_engagement(path, readonly=True) as again:
        assert again.assessment("4.1").rating(Stage.INITIAL).comment == "save 2"
        assert ev.verify(again) == []
        assert len(hashes(again)) == len(blobs) + 1


def test_work_is_saved_whole_after_a_sync_client_replaced_the_document(tmp_path: Path) -> None:
    """The session's evidence is still there after another version was dropped in place."""
    path, blobs = with_evidence(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    other, _ = with_evidence(tmp_path / "elsewhere", sizes=(MIB,))
    for frequent in (True, False):
        with open_engagement(path, frequent_saves=frequent) as engagement:
            os.replace(shutil.copy(other, tmp_path / "synced.tmp"), path)  # another version, in place
            engagement.assess("4.2", ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: "mine"})
            with pytest.raises(EngagementFileError, match="changed on disk"):
                engagement.save()
            engagement.save_as(tmp_path / "mine.ztmm")  # what the message asks for
        with open_engagement(tmp_path / "mine.ztmm", readonly=True) as mine:
            assert mine.assessment("4.2").rating(Stage.INITIAL).comment == "mine"
            assert hashes(mine) == {hashlib.sha256(b).hexdigest() for b in blobs}
            assert ev.verify(mine) == []
        path = tmp_path / "mine.ztmm"
