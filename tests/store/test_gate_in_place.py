"""The storage redesign (docs/storage.md) with the file gate and encryption.

A plain document of the current schema is gated where it lies, read-only, before anything
reads it: a read-only open then reads it in place, an editing open copies its records. An
encrypted engagement takes the same paths with its key (tests/store/test_encrypted_storage.py),
and nothing of it reaches the disk in plaintext.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from tests.support import hostile_files
from ztmm_desktop.core.errors import EngagementFileError
from ztmm_desktop.paths import data_dir
from ztmm_desktop.services import encryption, passphrase
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement
from ztmm_desktop.store import document as docmod

PASS = "correct horse battery"
MIB = 1024 * 1024


def attach(engagement: Engagement, data: bytes, name: str) -> None:
    link = ev.parse_link(engagement, "1.1/initial")
    ev.attach_stream(engagement, io.BytesIO(data), original_name=name, expected_size=len(data), links=[link])


def leftovers() -> list[Path]:
    folders = [data_dir() / "working", data_dir() / "spare"]
    return sorted(p for folder in folders if folder.is_dir() for p in folder.iterdir())


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_files.base_file(tmp_path_factory.mktemp("base") / "base.ztmm")


@pytest.mark.parametrize("kind", ["trigger-forging-ratings", "recursive-view-replacing-a-table", "rating-excellent"])
@pytest.mark.parametrize("readonly", [True, False])
def test_a_hostile_document_is_refused_where_it_lies_before_anything_is_copied(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, readonly: bool
) -> None:
    path = hostile_files.make(kind, base, tmp_path / f"{kind}.ztmm")
    before = path.read_bytes()

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the records were copied before the gate refused the file")

    monkeypatch.setattr(docmod, "copy_records", never)
    with pytest.raises(EngagementFileError, match=rf"^{path.name}: "):
        open_engagement(path, readonly=readonly)
    assert path.read_bytes() == before  # checked read-only: not even a journal mode was written
    assert leftovers() == []


def test_a_file_swapped_after_the_gate_is_refused_not_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "client.ztmm"
    other = tmp_path / "other.ztmm"
    create_engagement(path, Properties(client="Checked")).close()
    create_engagement(other, Properties(client="Swapped in")).close()
    gate_in_place = docmod._gate_in_place

    def then_swap(*args: object, **kwargs: object) -> int:
        version = gate_in_place(*args, **kwargs)  # type: ignore[arg-type]
        os.replace(other, path)  # a sync client, between the check and the copy
        return version

    monkeypatch.setattr(docmod, "_gate_in_place", then_swap)
    with pytest.raises(EngagementFileError, match="replaced while it was being opened"):
        open_engagement(path)
    assert leftovers() == []


def test_encrypting_a_session_that_reads_its_evidence_from_the_document_keeps_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "client.ztmm"
    blobs = [os.urandom(2 * MIB + 7), os.urandom(3000)]
    with create_engagement(path, Properties(client="Fabrikam")) as engagement:
        for number, data in enumerate(blobs):
            attach(engagement, data, f"e{number}.bin")
        engagement.save()
    with open_engagement(path, frequent_saves=True) as engagement:
        assert engagement.document.partial  # the older bytes are read from the document
        encryption.encrypt(engagement, PASS)
        key = engagement.document.key
        assert key is not None and not engagement.document.partial
        assert engagement.document.spare is None  # this session's working copy is whole now: saved whole
        assert ev.verify(engagement) == []
    head = path.read_bytes()[:16]
    assert head != docmod.SQLITE_MAGIC
    for data in blobs:  # no evidence bytes in plaintext in the document
        assert data[:4096] not in path.read_bytes()
    with open_engagement(path, key=key) as reopened:  # reopened: records only, the bytes read from the document
        assert reopened.document.working is not None and reopened.document.partial
        for data in blobs:
            assert data[:4096] not in reopened.document.working.read_bytes()
        assert {item.sha256 for item in ev.list_evidence(reopened)} == {hashlib.sha256(b).hexdigest() for b in blobs}
        assert ev.verify(reopened) == []


def test_an_encrypted_engagement_takes_the_same_paths_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "sealed.ztmm"
    key = passphrase.new_key(PASS)
    secret = os.urandom(64 * 1024)
    with create_engagement(path, Properties(client="Contoso"), key=key) as engagement:
        attach(engagement, secret, "secret.bin")
        engagement.save()
    with open_engagement(path, readonly=True, key=key) as engagement:
        assert engagement.document.in_place  # read where it lies, with the key: nothing copied
        assert ev.verify(engagement) == []
    with open_engagement(path, key=key, frequent_saves=True) as engagement:
        assert engagement.document.partial and engagement.document.spare is not None
        assert engagement.document.working is not None
        assert secret[:4096] not in engagement.document.working.read_bytes()
        attach(engagement, os.urandom(1000), "more.bin")
        engagement.save()
        for leftover in leftovers():
            assert not leftover.read_bytes().startswith(docmod.SQLITE_MAGIC), leftover
    assert not path.read_bytes().startswith(docmod.SQLITE_MAGIC)
    assert secret[:4096] not in path.read_bytes()
    with open_engagement(path, readonly=True, key=key) as engagement:
        assert len(ev.list_evidence(engagement)) == 2
        assert ev.verify(engagement) == []
