"""Evidence: attach, list, extract, verify and pack; bad input refused with nothing half-stored."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.test_cli import assert_refused, drop_root_file_powers
from ztmm_desktop.core.errors import BadInput, Cancelled
from ztmm_desktop.core.progress import CancelToken
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement


@pytest.fixture
def engagement_file(tmp_path: Path) -> Path:
    path = tmp_path / "client.ztmm"
    assert run_cli("new", path, "--client", "Evidence Ltd").returncode == 0
    return path


def counts(path: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(path)
    try:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("evidence", "blob", "blob_chunk")
        )  # type: ignore[return-value]
    finally:
        conn.close()


def listing(path: Path) -> list[dict]:
    result = run_cli("evidence", path, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_attach_list_extract_verify_and_pack(engagement_file: Path, tmp_path: Path) -> None:
    policy = tmp_path / "MFA policy.pdf"
    policy.write_bytes(b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024 + 17))  # more than one chunk
    shot = tmp_path / "ca-policies.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    result = run_cli("attach", engagement_file, policy, shot, "--to", "1.1/initial", "--to", "4.1", "--by", "Lead")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    first_id, first_sha = lines[0].split()[0], lines[0].split()[1]
    assert first_sha == "sha256:" + hashlib.sha256(policy.read_bytes()).hexdigest()
    items = listing(engagement_file)
    assert [(e["original_name"], e["media_type"], e["size"], e["captured_by"]) for e in items] == [
        ("MFA policy.pdf", "application/pdf", policy.stat().st_size, "Lead"),
        ("ca-policies.png", "image/png", shot.stat().st_size, "Lead"),
    ]
    assert items[0]["links"] == [
        {"function": "identity.authentication", "stage": "initial", "finding": None},
        {"function": "applications_and_workloads.application_access", "stage": None, "finding": None},
    ]
    out = tmp_path / "out"
    out.mkdir()
    extracted = run_cli("extract", engagement_file, first_id, out)
    assert extracted.returncode == 0, extracted.stderr
    assert Path(extracted.stdout.strip()) == out / "MFA policy.pdf"
    assert (out / "MFA policy.pdf").read_bytes() == policy.read_bytes()
    verified = run_cli("verify", engagement_file)
    assert (verified.returncode, verified.stdout.strip()) == (0, "2 of 2 evidence files match their SHA-256")
    pack = tmp_path / "pack.zip"
    packed = run_cli("evidence-pack", engagement_file, pack)
    assert packed.returncode == 0, packed.stderr
    with zipfile.ZipFile(pack) as archive:
        manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))
        assert [m["original_name"] for m in manifest] == ["MFA policy.pdf", "ca-policies.png"]
        for row in manifest:
            data = archive.read(row["file_in_pack"])
            assert hashlib.sha256(data).hexdigest() == row["sha256"] and len(data) == int(row["size"])
        assert manifest[0]["links"] == "identity.authentication/initial; applications_and_workloads.application_access"


def test_the_same_file_twice_is_two_records_over_one_blob(engagement_file: Path, tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text('{"policies": 12}', encoding="utf-8")
    assert run_cli("attach", engagement_file, export, "--to", "1.1").returncode == 0
    again = run_cli("attach", engagement_file, export, "--to", "2.1", "--title", "Same export, devices view")
    assert again.returncode == 0
    assert "same bytes as earlier evidence, stored once" in again.stdout
    assert counts(engagement_file) == (2, 1, 1)


def test_an_empty_file_is_allowed_and_said_so(engagement_file: Path, tmp_path: Path) -> None:
    empty = tmp_path / "interview-notes.txt"
    empty.write_bytes(b"")
    result = run_cli("attach", engagement_file, empty, "--to", "1.3", "--kind", "interview-note")
    assert result.returncode == 0 and "(empty file)" in result.stdout
    assert listing(engagement_file)[0]["size"] == 0


@pytest.mark.parametrize("kind", ["directory", "symlink", "missing", "fifo"])
def test_not_a_file_is_refused_and_nothing_is_stored(engagement_file: Path, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "thing"
    if kind == "directory":
        target.mkdir()
        message = "is a folder; attach the files in it"
    elif kind == "symlink":
        real = tmp_path / "real.txt"
        real.write_text("x")
        target.symlink_to(real)
        message = "is a symbolic link; attach the file it points to"
    elif kind == "fifo":
        os.mkfifo(target)
        message = "is not a regular file"
    else:
        message = "no such file"
    before = engagement_file.read_bytes()
    assert_refused(run_cli("attach", engagement_file, target, "--to", "1.1"), message)
    assert engagement_file.read_bytes() == before


def test_one_bad_file_among_several_stores_none(engagement_file: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("fine")
    before = engagement_file.read_bytes()
    assert_refused(run_cli("attach", engagement_file, good, tmp_path / "gone.txt", "--to", "1.1"), "no such file")
    assert engagement_file.read_bytes() == before


def test_an_unreadable_file(engagement_file: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for you")
    secret.chmod(0)
    before = engagement_file.read_bytes()
    kwargs = {"preexec_fn": drop_root_file_powers} if os.geteuid() == 0 else {}
    assert_refused(
        run_cli("attach", engagement_file, secret, "--to", "1.1", **kwargs), "cannot be read (Permission denied)"
    )  # type: ignore[arg-type]
    assert engagement_file.read_bytes() == before


def test_bad_targets_and_kinds(engagement_file: Path, tmp_path: Path) -> None:
    note = tmp_path / "n.txt"
    note.write_text("n")
    assert_refused(run_cli("attach", engagement_file, note, "--to", "9.9"), "unknown function '9.9'")
    assert_refused(run_cli("attach", engagement_file, note, "--to", "1.1/expert"), "unknown stage 'expert'")
    assert_refused(run_cli("attach", engagement_file, note, "--to", "1.1", "--kind", "gossip"), "unknown kind 'gossip'")
    assert_refused(run_cli("attach", engagement_file, note), "the following arguments are required: --to")
    assert counts(engagement_file) == (0, 0, 0)


def test_a_file_that_shrinks_while_being_read_stores_nothing(tmp_path: Path) -> None:
    source = tmp_path / "growing-log.txt"
    source.write_bytes(b"x" * (3 * 1024 * 1024))
    with create_engagement(tmp_path / "e.ztmm", Properties(client="Shrink Ltd")) as engagement:

        def truncate_after_first_chunk(done: int, total: int, message: str) -> None:
            if done == 1024 * 1024:
                with source.open("r+b") as handle:
                    handle.truncate(1024 * 1024 + 10)

        with pytest.raises(BadInput, match=r"changed while being read .* nothing was stored"):
            ev.attach(engagement, source, [ev.parse_link(engagement, "1.1")], progress=truncate_after_first_chunk)
        assert ev.list_evidence(engagement) == []
        assert counts(engagement.document.working) == (0, 0, 0)
        assert engagement.audit_log() == []


def test_a_cancelled_ingest_leaves_nothing_half_stored(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(5 * 1024 * 1024))
    token = CancelToken()
    with create_engagement(tmp_path / "e.ztmm", Properties(client="Cancel Ltd")) as engagement:

        def cancel_midway(done: int, total: int, message: str) -> None:
            if done >= 2 * 1024 * 1024:
                token.cancel()

        with pytest.raises(Cancelled):
            ev.attach(engagement, source, [ev.parse_link(engagement, "1.1")], progress=cancel_midway, cancel=token)
        assert counts(engagement.document.working) == (0, 0, 0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("C:report.pdf", "C_report.pdf"),
        ("bell\x07and\nnewline.txt", "bell_and_newline.txt"),
        ("CON", "_CON"),
        ("NUL.txt", "_NUL.txt"),
        ("com1.log", "_com1.log"),
        ("...", "evidence"),
        ("trailing dots. . .", "trailing dots"),
        (".hidden", "hidden"),
    ],
)
def test_names_from_outside_become_safe_names(name: str, expected: str) -> None:
    assert ev.safe_filename(name) == expected


def test_extract_keeps_hostile_names_inside_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with create_engagement(tmp_path / "e.ztmm", Properties(client="Names Ltd")) as engagement:
        link = [ev.parse_link(engagement, "1.1")]
        ids = []
        for name in ("../../escape.txt", "..\\evil.bat", "CON", "a:b.txt", "same.txt", "same.txt"):
            attached = ev.attach_stream(
                engagement, io.BytesIO(name.encode()), original_name=name, expected_size=len(name.encode()), links=link
            )
            ids.append(attached.evidence.id)
        written = [ev.extract(engagement, i, out) for i in ids]
    assert [p.name for p in written] == ["escape.txt", "evil.bat", "_CON", "a_b.txt", "same.txt", "same (2).txt"]
    assert all(p.parent == out for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.ztmm", "out"]


def test_extract_refuses_unknown_ids_and_missing_folders(engagement_file: Path, tmp_path: Path) -> None:
    assert_refused(run_cli("extract", engagement_file, "deadbeef", tmp_path), "no evidence 'deadbeef'")
    note = tmp_path / "n.txt"
    note.write_text("n")
    evidence_id = run_cli("attach", engagement_file, note, "--to", "1.1").stdout.split()[0]
    assert_refused(run_cli("extract", engagement_file, evidence_id, tmp_path / "nowhere"), "no such folder")


def test_verify_names_evidence_whose_stored_bytes_were_altered(engagement_file: Path, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.txt", tmp_path / "tampered.csv"
    good.write_text("untouched")
    bad.write_text("user,role\nadmin,global admin\n")
    result = run_cli("attach", engagement_file, good, bad, "--to", "1.4")
    bad_id = result.stdout.splitlines()[1].split()[0]
    conn = sqlite3.connect(engagement_file)
    conn.execute(
        "UPDATE blob_chunk SET data = CAST('user,role\nadmin,reader\n' AS BLOB)"
        " WHERE chunk_key = (SELECT chunk_key FROM blob WHERE sha256 = ?)",
        (hashlib.sha256(bad.read_bytes()).hexdigest(),),
    )
    conn.commit()
    conn.close()
    verified = run_cli("verify", engagement_file)
    assert verified.returncode == 1
    assert verified.stdout.splitlines() == [
        f"{bad_id}  tampered.csv: bytes changed (SHA-256 does not match)",
        "1 of 2 evidence files match their SHA-256",
    ]


def test_verify_reports_missing_bytes(engagement_file: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(2 * 1024 * 1024 + 5))
    evidence_id = run_cli("attach", engagement_file, big, "--to", "1.4").stdout.split()[0]
    conn = sqlite3.connect(engagement_file)
    conn.execute("DELETE FROM blob_chunk WHERE seq = 1")
    conn.commit()
    conn.close()
    verified = run_cli("verify", engagement_file)
    assert verified.returncode == 1
    assert verified.stdout.splitlines()[0].startswith(f"{evidence_id}  big.bin: bytes missing")


def test_evidence_pack_refuses_a_missing_folder(engagement_file: Path, tmp_path: Path) -> None:
    assert_refused(run_cli("evidence-pack", engagement_file, tmp_path / "no" / "pack.zip"), "no such folder")
    assert not (tmp_path / "no").exists()


def test_manifest_cells_never_become_formulas(tmp_path: Path) -> None:
    pack = tmp_path / "p.zip"
    with create_engagement(tmp_path / "e.ztmm", Properties(client="Formula Ltd")) as engagement:
        ev.attach_stream(engagement, io.BytesIO(b"x"), original_name="=HYPERLINK(1).txt", expected_size=1,
                         links=[ev.parse_link(engagement, "1.1")], title="+cmd|' /C calc'!A0")  # fmt: skip
        ev.evidence_pack(engagement, pack)
    with zipfile.ZipFile(pack) as archive:
        (row,) = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))
    assert row["title"] == "'+cmd|' /C calc'!A0" and row["original_name"] == "'=HYPERLINK(1).txt"


def test_evidence_survives_save_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "e.ztmm"
    data = os.urandom(1024 * 1024 * 2 + 3)
    with create_engagement(path, Properties(client="Keep Ltd")) as engagement:
        ev.attach_stream(engagement, io.BytesIO(data), original_name="d.bin", expected_size=len(data),
                         links=[ev.parse_link(engagement, "5.1/advanced")])  # fmt: skip
        engagement.save()
    with open_engagement(path, readonly=True) as again:
        (item,) = ev.list_evidence(again)
        assert item.sha256 == hashlib.sha256(data).hexdigest()
        assert ev.verify(again) == []


def test_details_links_remove_restore_and_compact(tmp_path: Path) -> None:
    with create_engagement(tmp_path / "e.ztmm", Properties(client="Edit Ltd")) as engagement:
        link = ev.parse_link(engagement, "1.1/initial")
        item = ev.attach_stream(
            engagement, io.BytesIO(b"abc"), original_name="a.txt", expected_size=3, links=[link]
        ).evidence
        changes = ev.update_details(
            engagement, item.id, ev.EvidenceDetails("Sign-in log export", "Tenant A", "configuration-export")
        )
        assert changes.functions == {"identity.authentication"}
        assert not ev.update_details(
            engagement, item.id, ev.EvidenceDetails("Sign-in log export", "Tenant A", "configuration-export")
        )
        two = [link, ev.parse_link(engagement, "2.1")]
        assert ev.set_links(engagement, item.id, two).functions == {
            "identity.authentication",
            "devices.policy_enforcement_and_compliance_monitoring",
        }
        assert [e.id for e in ev.for_function(engagement, "devices.policy_enforcement_and_compliance_monitoring")] == [
            item.id
        ]
        assert (
            ev.for_function(engagement, "identity.authentication", ev.parse_link(engagement, "1.1/advanced").stage)
            == []
        )
        with pytest.raises(BadInput, match="say what the evidence supports"):
            ev.set_links(engagement, item.id, [])
        removed, _ = ev.remove(engagement, item.id)
        assert ev.list_evidence(engagement) == []
        assert counts(engagement.document.working)[1] == 1  # bytes kept for undo
        ev.restore(engagement, removed)
        (back,) = ev.list_evidence(engagement)
        assert back == removed and back.title == "Sign-in log export" and len(back.links) == 2
        assert ev.read_bytes(engagement, item.id, 2) == b"ab"
        ev.remove(engagement, item.id)
        assert ev.compact(engagement) == 1
        assert counts(engagement.document.working) == (0, 0, 0)
