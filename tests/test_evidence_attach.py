"""Before attaching: the kind a file most likely is, and whether its bytes are already in the engagement."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement


@pytest.fixture
def engagement(tmp_path: Path) -> Iterator[Engagement]:
    made = create_engagement(tmp_path / "client.ztmm", Properties(client="Attach Ltd"))
    try:
        yield made
    finally:
        made.close()


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("conditional-access.png", "screenshot"),
        ("CA Policies.JPG", "screenshot"),
        ("photo.jpeg", "screenshot"),
        ("MFA policy.pdf", "document"),
        ("Access standard v3.docx", "document"),
        ("interview notes.txt", "document"),
        ("pim-roles.csv", "configuration-export"),
        ("Intune compliance.xlsx", "configuration-export"),
        ("tenant-settings.json", "configuration-export"),
        ("firewall.conf", "configuration-export"),
        ("bundle.zip", "other"),
        ("no-suffix", "other"),
        (r"C:\Users\someone\Desktop\shot.PNG", "screenshot"),
    ],
)
def test_the_kind_is_guessed_from_the_file_type(name: str, kind: str) -> None:
    assert ev.guess_kind(name) == kind
    assert kind in ev.KINDS


def test_the_media_type_decides_when_the_name_does_not() -> None:
    assert ev.guess_kind("clipboard", "image/png") == "screenshot"
    assert ev.guess_kind("export", "text/plain") == "document"
    assert ev.guess_kind("blob", "application/octet-stream") == "other"


def test_sha256_of_a_stream_matches_hashlib() -> None:
    data = b"x" * (3 * 1024 * 1024 + 5)
    assert ev.sha256_of(io.BytesIO(data)) == hashlib.sha256(data).hexdigest()


def test_same_bytes_finds_every_record_over_them(engagement: Engagement, tmp_path: Path) -> None:
    shot = write(tmp_path, "shot.png", b"\x89PNG same bytes")
    first = ev.attach(engagement, shot, [ev.parse_link(engagement, "2.3/advanced")], title="CA policy list")
    sha = hashlib.sha256(shot.read_bytes()).hexdigest()
    assert [e.id for e in ev.same_bytes(engagement, sha)] == [first.evidence.id]
    (found,) = ev.same_bytes(engagement, sha)
    assert found.title == "CA policy list"
    assert found.links == (ev.EvidenceLink(found.links[0].function_id, Stage.ADVANCED),)
    assert ev.same_bytes(engagement, hashlib.sha256(b"other").hexdigest()) == []


def test_check_flags_files_whose_bytes_are_already_attached(engagement: Engagement, tmp_path: Path) -> None:
    original = write(tmp_path, "policy.pdf", b"%PDF policy text")
    attached = ev.attach(engagement, original, [ev.parse_link(engagement, "1.1")]).evidence
    copy = write(tmp_path, "policy (copy).pdf", b"%PDF policy text")  # same bytes, another name
    same_size = write(tmp_path, "other.pdf", b"%PDF other  text")  # same size, other bytes
    new = write(tmp_path, "new.csv", b"a,b\n1,2\n")
    checks = ev.check_new_files(engagement, [copy, same_size, new])
    assert [c.path for c in checks] == [copy, same_size, new]
    assert [e.id for e in checks[0].existing] == [attached.id]
    assert checks[1].existing == () and checks[1].sha256 is not None  # hashed (same size), not a match
    assert checks[2] == ev.FileCheck(new)  # no record of that size: not even read


def test_check_flags_a_file_repeated_in_the_batch(engagement: Engagement, tmp_path: Path) -> None:
    one = write(tmp_path, "one.png", b"identical")
    two = write(tmp_path, "two.png", b"identical")
    three = write(tmp_path, "three.png", b"different")
    checks = ev.check_new_files(engagement, [one, two, three])
    assert [(c.same_as, c.existing) for c in checks] == [(None, ()), (one, ()), (None, ())]


def test_check_passes_on_a_file_that_cannot_be_read(engagement: Engagement, tmp_path: Path) -> None:
    gone = tmp_path / "gone.png"
    assert ev.check_new_files(engagement, [gone]) == [ev.FileCheck(gone)]


def test_counts_per_function_and_stage_include_findings(engagement: Engagement, tmp_path: Path) -> None:
    link = ev.parse_link
    a = write(tmp_path, "a.txt", b"a")
    b = write(tmp_path, "b.txt", b"b")
    c = write(tmp_path, "c.txt", b"c")
    ev.attach(engagement, a, [link(engagement, "1.1/initial"), link(engagement, "1.1/advanced")])
    ev.attach(engagement, b, [link(engagement, "1.1"), link(engagement, "2.3/optimal")])
    finding_id, _changes = engagement.add_finding("3.1", "Flat network")
    ev.attach(engagement, c, [ev.EvidenceLink(finding_id=finding_id)])
    counted = ev.counts(engagement)
    auth = engagement.catalog.function("1.1").id
    devices = engagement.catalog.function("2.3").id
    segmentation = engagement.catalog.function("3.1").id
    assert counted.of(auth) == 2  # one item linked to two stages counts once
    assert (counted.of(auth, Stage.INITIAL), counted.of(auth, Stage.ADVANCED), counted.of(auth, Stage.OPTIMAL)) == (
        1,
        1,
        0,
    )
    assert (counted.of(devices), counted.of(devices, Stage.OPTIMAL)) == (1, 1)
    assert counted.of(segmentation) == 1  # through its finding
    assert counted.of(engagement.catalog.function("1.2").id) == 0


def test_linked_to_function_lists_direct_stage_and_finding_links(engagement: Engagement, tmp_path: Path) -> None:
    link = ev.parse_link
    direct = ev.attach(engagement, write(tmp_path, "d.txt", b"d"), [link(engagement, "3.1")]).evidence
    staged = ev.attach(engagement, write(tmp_path, "s.txt", b"s"), [link(engagement, "3.1/initial")]).evidence
    ev.attach(engagement, write(tmp_path, "o.txt", b"o"), [link(engagement, "1.1")])
    finding_id, _changes = engagement.add_finding("3.1", "Flat network")
    via = ev.attach(engagement, write(tmp_path, "f.txt", b"f"), [ev.EvidenceLink(finding_id=finding_id)]).evidence
    listed = ev.linked_to_function(engagement, engagement.catalog.function("3.1").id)
    assert [e.id for e in listed] == [direct.id, staged.id, via.id]
    assert listed[1].links[0].stage is Stage.INITIAL
    assert ev.linked_to_function(engagement, engagement.catalog.function("5.1").id) == []
