"""Evidence bytes handed out are the bytes attached: every read checks the SHA-256 while streaming.

Bytes altered after they were attached (same length, so sizes agree), chunks
swapped between two blobs, and a blob replaced together with its recorded hash
are refused by extract, the evidence pack and opening a copy, with one line and
exit 2, and nothing written where the user asked; ``verify`` names them.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
from pathlib import Path

import pytest

from tests.support.inprocess import assert_refused_in_process, ztmm
from ztmm_desktop.core.errors import ZtmmError
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.store import blobs

ORIGINAL = b"user,role\nadmin,global admin\n"
ALTERED = b"user,role\nadmin,reader      \n"  # the same length


@pytest.fixture
def file_with_evidence(tmp_path: Path) -> tuple[Path, str, str]:
    path = tmp_path / "e.ztmm"
    with create_engagement(path, Properties(client="Tamper Ltd")) as engagement:
        link = [ev.parse_link(engagement, "1.4")]
        first = ev.attach_stream(
            engagement, io.BytesIO(ORIGINAL), original_name="roles.csv", expected_size=len(ORIGINAL), links=link
        )
        second = ev.attach_stream(
            engagement, io.BytesIO(b"another file!"), original_name="other.txt", expected_size=13, links=link
        )
        engagement.save()
    return path, first.evidence.id, second.evidence.id


def alter(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    conn = sqlite3.connect(path)
    try:
        for sql, params in statements:
            conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


SHA = hashlib.sha256(ORIGINAL).hexdigest()
SAME_LENGTH = ("UPDATE blob_chunk SET data = ? WHERE chunk_key = (SELECT chunk_key FROM blob WHERE sha256 = ?)",
               (ALTERED, SHA))  # fmt: skip


def test_extract_refuses_altered_bytes_and_writes_nothing(
    file_with_evidence: tuple[Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, evidence_id, _ = file_with_evidence
    alter(path, SAME_LENGTH)
    out = tmp_path / "out"
    out.mkdir()
    result = ztmm(capsys, "extract", path, evidence_id, out)
    assert_refused_in_process(result, f"evidence {evidence_id[:8]} 'roles.csv': bytes changed (SHA-256 does not match)")
    assert "nothing was written" in result.err
    assert list(out.iterdir()) == []


def test_the_evidence_pack_refuses_altered_bytes_and_keeps_the_old_pack(
    file_with_evidence: tuple[Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, _ = file_with_evidence
    pack = tmp_path / "pack.zip"
    assert ztmm(capsys, "evidence-pack", path, pack).code == 0
    before = pack.read_bytes()
    alter(path, SAME_LENGTH)
    result = ztmm(capsys, "evidence-pack", path, pack)
    assert_refused_in_process(result, "bytes changed (SHA-256 does not match)")
    assert pack.read_bytes() == before
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_chunks_swapped_between_two_blobs_are_refused(
    file_with_evidence: tuple[Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, first, second = file_with_evidence
    conn = sqlite3.connect(path)
    (a, key_a), (b, key_b) = conn.execute("SELECT sha256, chunk_key FROM blob ORDER BY sha256").fetchall()
    conn.close()
    alter(
        path,
        ("UPDATE blob SET chunk_key = 'moving' WHERE sha256 = ?", (a,)),
        ("UPDATE blob SET chunk_key = ? WHERE sha256 = ?", (key_a, b)),
        ("UPDATE blob SET chunk_key = ? WHERE sha256 = ?", (key_b, a)),
    )
    for evidence_id in (first, second):
        result = ztmm(capsys, "extract", path, evidence_id, tmp_path)
        assert_refused_in_process(result, "bytes changed")
    assert ztmm(capsys, "verify", path).code == 1


def test_a_chunk_list_shared_with_another_blob_is_refused() -> None:
    """A forged file without our unique index: two blobs naming one chunk list."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE blob (sha256 TEXT PRIMARY KEY, size INT, chunks INT, chunk_key TEXT, created_at TEXT)")
    conn.execute("CREATE TABLE blob_chunk (chunk_key TEXT, seq INT, data BLOB, PRIMARY KEY (chunk_key, seq))")
    conn.execute("INSERT INTO blob_chunk VALUES ('k', 0, ?)", (ORIGINAL,))
    for sha in (SHA, "0" * 64):
        conn.execute("INSERT INTO blob VALUES (?, ?, 1, 'k', '')", (sha, len(ORIGINAL)))
    with pytest.raises(blobs.BlobDamaged, match="chunks point at another blob"):
        list(blobs.verified_chunks(conn, SHA))
    conn.execute("DELETE FROM blob WHERE sha256 = ?", ("0" * 64,))
    assert b"".join(blobs.verified_chunks(conn, SHA)) == ORIGINAL


def test_verify_compares_with_the_hash_recorded_when_attached(
    file_with_evidence: tuple[Path, str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Bytes replaced together with their hash still differ from the audit trail's."""
    path, evidence_id, _ = file_with_evidence
    forged = hashlib.sha256(ALTERED).hexdigest()
    alter(
        path,
        SAME_LENGTH,
        ("UPDATE evidence SET sha256 = ? WHERE sha256 = ?", (forged, SHA)),
        ("UPDATE blob SET sha256 = ? WHERE sha256 = ?", (forged, SHA)),
    )
    result = ztmm(capsys, "verify", path)
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{evidence_id}  roles.csv: bytes replaced (attached as sha256:{SHA[:16]}…, now sha256:{forged[:16]}…)",
        "1 of 2 evidence files match their SHA-256",
    ]


def test_long_and_odd_names_are_written_under_a_safe_name(
    file_with_evidence: tuple[Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, evidence_id, other_id = file_with_evidence
    alter(
        path,
        ("UPDATE evidence SET original_name = ? WHERE id = ?", ("😀" * 170 + ".csv", evidence_id)),
        ("UPDATE evidence SET original_name = ? WHERE id = ?", ("invoice\u202etxt.exe", other_id)),
    )
    out = tmp_path / "out"
    out.mkdir()
    for _ in range(2):  # the second time beside the first: " (2)" must still fit
        result = ztmm(capsys, "extract", path, evidence_id, out)
        assert result.code == 0, result.err
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2 and all(len(n.encode()) <= 255 and n.endswith(".csv") for n in names)
    assert ztmm(capsys, "extract", path, other_id, out).code == 0
    assert (out / "invoice_txt.exe").read_bytes() == b"another file!"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("\udcff\ud800report.pdf", "__report.pdf"),
        ("invoice\u202egnp.exe", "invoice_gnp.exe"),
        ("a\x85b.txt", "a_b.txt"),
        ("😀" * 170, "😀" * 50),
        ("é" * 200 + ".docx", "é" * 97 + ".docx"),
    ],
)
def test_safe_names_hold_no_surrogates_or_overrides_and_fit_in_200_bytes(name: str, expected: str) -> None:
    safe = ev.safe_filename(name)
    assert safe == expected
    assert len(safe.encode("utf-8")) <= ev.MAX_FILENAME_BYTES


def test_a_preview_of_altered_bytes_is_refused_but_a_large_files_head_is_not_read_whole(
    file_with_evidence: tuple[Path, str, str],
) -> None:
    path, evidence_id, _ = file_with_evidence
    alter(path, SAME_LENGTH)
    with open_engagement(path, readonly=True) as engagement:
        with pytest.raises(ZtmmError, match="bytes changed"):
            ev.read_bytes(engagement, evidence_id, 1024)
        assert ev.read_bytes(engagement, evidence_id, 4) == ALTERED[:4]  # a head, shown as a preview only
