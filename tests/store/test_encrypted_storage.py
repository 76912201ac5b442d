"""An encrypted engagement takes the same storage paths as a plain one (docs/storage.md), every step with its key.

Read-only opens read the encrypted document in place and write nothing anywhere; an editing open
copies the records only into a working copy encrypted with the same key, which attaches the
document with the key for the evidence bytes it does not hold; a save clones the encrypted
document and applies the working copy to the clone with the key; a crash leaves an encrypted
partial working copy that the next start recovers. Through all of it no client text and no
evidence byte is on disk in plaintext.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support import hostile_files
from ztmm_desktop.core.errors import EngagementFileError
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services import passphrase
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement
from ztmm_desktop.store import document as docmod
from ztmm_desktop.store.connect import Key, connect

PASS = "correct horse battery"
MIB = 1024 * 1024
SQLITE_MAGIC = b"SQLite format 3\x00"


@pytest.fixture(autouse=True)
def _fresh_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setenv("SQLITE_TMPDIR", str(temp))
    monkeypatch.delenv("ZTMM_PASSPHRASE", raising=False)
    passphrase.forget_all()
    yield
    passphrase.forget_all()


def attach(engagement: Engagement, data: bytes, name: str) -> str:
    link = ev.parse_link(engagement, "1.1/initial")
    return ev.attach_stream(
        engagement, io.BytesIO(data), original_name=name, expected_size=len(data), links=[link]
    ).evidence.id


def holding(folders: list[Path], *needles: bytes) -> list[Path]:
    return [
        path
        for folder in folders
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink() and any(needle in path.read_bytes() for needle in needles)
    ]


def every_file(*folders: Path) -> dict[Path, tuple[int, int, bytes]]:
    """Each file under ``folders`` with its size, modification time and a hash of its bytes."""
    return {
        path: (path.stat().st_size, path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).digest())
        for folder in folders
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def sealed(tmp_path: Path) -> tuple[Path, Key, bytes, bytes, str]:
    """An encrypted engagement with a marker in a comment and a 3 MiB evidence file holding another."""
    folder = tmp_path / "engagements"
    folder.mkdir()
    path = folder / "client.ztmm"
    key = passphrase.new_key(PASS)
    comment = b"COMMENT-MARKER-" + uuid.uuid4().hex.encode()
    evidence = os.urandom(MIB) + b"EVIDENCE-MARKER-" + uuid.uuid4().hex.encode() + os.urandom(2 * MIB)
    with create_engagement(path, Properties(client="Contoso"), key=key) as engagement:
        engagement.assess("identity.authentication", comments={Stage.INITIAL: comment.decode()})
        evidence_id = attach(engagement, evidence, "console.bin")
        engagement.save()
    passphrase.forget_all()
    return path, key, comment, evidence, evidence_id


def needles(comment: bytes, evidence: bytes) -> tuple[bytes, ...]:
    """The comment's marker, and pieces from the start, middle and end of the evidence bytes."""
    middle = len(evidence) // 2
    return comment, evidence[:4096], evidence[middle : middle + 4096], evidence[-4096:]


def test_a_read_only_open_reads_the_encrypted_document_in_place_and_writes_nothing_anywhere(
    sealed: tuple[Path, Key, bytes, bytes, str], tmp_path: Path, data_dir: Path
) -> None:
    path, key, comment, evidence, evidence_id = sealed
    before = every_file(tmp_path, data_dir)
    with open_engagement(path, readonly=True, key=key) as engagement:
        assert engagement.document.in_place and engagement.document.working is None
        assert engagement.assessment("identity.authentication").rating(Stage.INITIAL).comment == comment.decode()
        assert ev.read_bytes(engagement, evidence_id, len(evidence)) == evidence
        assert ev.verify(engagement) == []
        assert every_file(tmp_path, data_dir) == before  # not a working copy, a journal, a lock or a temp file
    assert every_file(tmp_path, data_dir) == before


def test_an_editing_open_copies_the_records_only_into_an_encrypted_working_copy_that_reads_the_bytes(
    sealed: tuple[Path, Key, bytes, bytes, str], tmp_path: Path, data_dir: Path
) -> None:
    path, key, comment, evidence, evidence_id = sealed
    with open_engagement(path, key=key) as engagement:
        document = engagement.document
        assert document.partial and document.working is not None
        working = document.working
        conn = connect(working, key=key, readonly=True)  # the working copy itself, with the key
        try:
            assert conn.execute("SELECT count(*) FROM blob_chunk").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM blob").fetchone()[0] == 1
        finally:
            conn.close()
        assert working.stat().st_size < len(evidence) // 4  # the records, not the bytes
        assert not working.read_bytes().startswith(SQLITE_MAGIC)
        # yet the evidence reads whole, from the document attached with the key
        assert ev.read_bytes(engagement, evidence_id, len(evidence)) == evidence
        assert ev.verify(engagement) == []
        assert holding([tmp_path, data_dir], *needles(comment, evidence)) == []


def test_a_save_after_one_edit_clones_the_encrypted_document_and_applies_the_change(
    sealed: tuple[Path, Key, bytes, bytes, str], tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, key, comment, evidence, evidence_id = sealed
    salt = path.read_bytes()[:16]
    edit = b"EDIT-MARKER-" + uuid.uuid4().hex.encode()
    added = os.urandom(5000) + b"ADDED-MARKER-" + uuid.uuid4().hex.encode()

    def whole_copy(*_args: object) -> bool:
        raise AssertionError("an encrypted session that reads its bytes from the document was saved whole")

    monkeypatch.setattr(docmod, "snapshot_copy", whole_copy)
    with open_engagement(path, key=key, frequent_saves=True) as engagement:
        assert engagement.document.spare is not None  # the window's clone in the background, encrypted too
        engagement.assess("identity.authentication", ratings={Stage.ADVANCED: Rating.MET})
        engagement.save()
        engagement.assess("identity.authentication", comments={Stage.ADVANCED: edit.decode()})
        added_id = attach(engagement, added, "added.bin")
        engagement.save()  # onto the spare clone made after the first save
        assert holding([tmp_path, data_dir], edit, added[-40:], *needles(comment, evidence)) == []
    assert path.read_bytes()[:16] == salt  # the same key: cloned, not re-encrypted
    assert holding([tmp_path, data_dir], edit, added[-40:], *needles(comment, evidence)) == []
    with open_engagement(path, readonly=True, key=key) as saved:
        rating = saved.assessment("identity.authentication").rating(Stage.ADVANCED)
        assert rating.rating is Rating.MET and rating.comment == edit.decode()
        assert ev.read_bytes(saved, evidence_id, len(evidence)) == evidence
        assert ev.read_bytes(saved, added_id, len(added)) == added
        assert ev.verify(saved) == []
    conn = connect(path, key=key, readonly=True)
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


EDITOR = textwrap.dedent(
    """
    import io, sys
    from pathlib import Path
    from ztmm_desktop.core.stages import Rating, Stage
    from ztmm_desktop.services import evidence as ev
    from ztmm_desktop.services.engagement import open_engagement

    marker, added = sys.argv[2], bytes.fromhex(sys.argv[3])
    engagement = open_engagement(Path(sys.argv[1]), frequent_saves=True)
    assert engagement.document.partial
    link = ev.parse_link(engagement, "1.2/initial")
    ev.attach_stream(engagement, io.BytesIO(added), original_name="late.bin", expected_size=len(added), links=[link])
    functions = [f.id for f in engagement.functions_in_scope()]
    n = 0
    while True:
        engagement.assess(functions[n % len(functions)], comments={Stage.ADVANCED: f"{marker}:{n}"},
                          ratings={Stage.ADVANCED: Rating.MET})
        print(n, flush=True)  # acknowledged
        n += 1
    """
)


def test_kill_9_while_editing_then_the_encrypted_working_copy_is_recovered_with_the_document_attached(
    sealed: tuple[Path, Key, bytes, bytes, str], tmp_path: Path, data_dir: Path
) -> None:
    path, key, comment, evidence, evidence_id = sealed
    live = b"LIVE-" + uuid.uuid4().hex.encode()
    added = os.urandom(3000) + b"LATE-MARKER-" + uuid.uuid4().hex.encode()
    child = subprocess.Popen(
        [sys.executable, "-c", EDITOR, str(path), live.decode(), added.hex()],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ZTMM_PASSPHRASE": PASS},
    )
    assert child.stdout is not None
    acked = [child.stdout.readline().strip() for _ in range(20)]
    assert acked[-1] == "19"
    secrets = (live, added[-40:], *needles(comment, evidence))
    assert holding([tmp_path, data_dir], *secrets) == []
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    (orphan,) = docmod.orphaned_working_copies()
    assert orphan.partial  # the records and the late bytes; the older bytes are in the document
    assert not orphan.working.read_bytes().startswith(SQLITE_MAGIC)
    assert holding([tmp_path, data_dir], *secrets) == []
    with open_engagement(path, recover=orphan, key=key) as engagement:
        assert engagement.document.partial
        comments = {
            engagement.assessments()[f.id].rating(Stage.ADVANCED).comment for f in engagement.functions_in_scope()
        }
        assert f"{live.decode()}:{acked[-1]}" in comments
        assert ev.read_bytes(engagement, evidence_id, len(evidence)) == evidence  # from the attached document
        assert ev.verify(engagement) == []
        engagement.save()
    assert holding([tmp_path, data_dir], *secrets) == []
    with open_engagement(path, readonly=True, key=key) as saved:
        assert {item.original_name for item in ev.list_evidence(saved)} == {"console.bin", "late.bin"}
        assert ev.verify(saved) == []


def test_an_encrypted_and_a_plain_engagement_open_side_by_side_in_one_process(
    sealed: tuple[Path, Key, bytes, bytes, str], tmp_path: Path, data_dir: Path
) -> None:
    path, key, comment, evidence, evidence_id = sealed
    plain = tmp_path / "engagements" / "plain.ztmm"
    plain_bytes = os.urandom(2 * MIB + 11)
    with create_engagement(plain, Properties(client="Fabrikam")) as engagement:
        plain_id = attach(engagement, plain_bytes, "plain.bin")
        engagement.save()
    edit = b"SEALED-EDIT-" + uuid.uuid4().hex.encode()
    with (
        open_engagement(path, key=key, frequent_saves=True) as sealed_one,
        open_engagement(plain, frequent_saves=True) as plain_one,
        open_engagement(path, key=key, readonly=True) as sealed_view,
        open_engagement(plain, readonly=True) as plain_view,
    ):
        assert sealed_one.document.partial and plain_one.document.partial
        assert sealed_view.document.in_place and plain_view.document.in_place
        sealed_one.assess("identity.authentication", comments={Stage.ADVANCED: edit.decode()})
        plain_one.assess("identity.authentication", comments={Stage.ADVANCED: "plain edit"})
        more_sealed, more_plain = os.urandom(4000), os.urandom(4000)
        attach(sealed_one, more_sealed, "more.bin")
        attach(plain_one, more_plain, "more.bin")
        sealed_one.save()
        plain_one.save()
        for opened, item, data in (
            (sealed_one, evidence_id, evidence),
            (sealed_view, evidence_id, evidence),
            (plain_one, plain_id, plain_bytes),
            (plain_view, plain_id, plain_bytes),
        ):
            assert ev.read_bytes(opened, item, len(data)) == data
            assert ev.verify(opened) == []
    assert path.read_bytes()[:16] != SQLITE_MAGIC
    assert plain.read_bytes().startswith(SQLITE_MAGIC)  # each stays as it was: nothing crossed over
    assert b"plain edit" in plain.read_bytes()
    assert holding([tmp_path, data_dir], edit, more_sealed[:2048], *needles(comment, evidence)) == []
    with open_engagement(path, readonly=True, key=key) as saved:
        assert saved.assessment("identity.authentication").rating(Stage.ADVANCED).comment == edit.decode()
        assert len(ev.list_evidence(saved)) == 2 and ev.verify(saved) == []


@pytest.mark.parametrize("readonly", [True, False])
def test_a_trigger_planted_in_an_encrypted_file_is_refused_where_it_lies(
    tmp_path: Path, data_dir: Path, readonly: bool
) -> None:
    plain = hostile_files.make(
        "trigger-forging-ratings", hostile_files.base_file(tmp_path / "base.ztmm"), tmp_path / "hostile.ztmm"
    )
    path = tmp_path / "sealed-hostile.ztmm"
    key = passphrase.new_key(PASS)
    docmod.convert_file(plain, path, key=None, target_key=key)
    before = path.read_bytes()
    assert not before.startswith(SQLITE_MAGIC)
    with pytest.raises(EngagementFileError, match=r"^sealed-hostile\.ztmm: refused: it holds a trigger 'forge'"):
        open_engagement(path, key=key, readonly=readonly)
    assert path.read_bytes() == before
    working = data_dir / "working"
    assert not working.is_dir() or list(working.iterdir()) == []
