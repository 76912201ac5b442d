"""Outputs never replace what they must not: the engagement, another engagement, a device, a FIFO,
a folder; a link is written through; every expected failure is one line and exit 2.

Every command that writes a file goes through ``services/output.written``; each
case runs the commands in-process through ``cli.main`` and checks that nothing
changed, that nothing was left behind, and (for FIFOs) that nothing waited.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

import pytest

from tests.support.inprocess import assert_refused_in_process, ztmm
from tests.support.processes import held_open
from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.services import evidence
from ztmm_desktop.services import output as output_module
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.services.output import written

#: Each output command with the arguments before the output name (ENGAGEMENT stands for the file).
WRITERS: dict[str, tuple[str, ...]] = {
    "evidence-pack": ("evidence-pack", "ENGAGEMENT"),
    "report": ("report", "ENGAGEMENT"),
    "word": ("report", "ENGAGEMENT"),
    "export": ("export", "ENGAGEMENT"),
    "questionnaire": ("export", "ENGAGEMENT", "--questionnaire"),
}
SUFFIX = {"evidence-pack": ".zip", "report": ".pdf", "word": ".docx", "export": ".xlsx", "questionnaire": ".xlsx"}


@pytest.fixture
def engagement_file(tmp_path: Path) -> Path:
    path = tmp_path / "v.ztmm"
    with create_engagement(path, Properties(client="Contoso Ltd")) as engagement:
        evidence.attach_stream(engagement, io.BytesIO(b"mfa"), original_name="mfa.txt", expected_size=3,
                               links=[evidence.parse_link(engagement, "1.1")])  # fmt: skip
        engagement.save()
    return path


def command(kind: str, engagement: Path, out: Path) -> list[str | Path]:
    args: list[str | Path] = [engagement if a == "ENGAGEMENT" else a for a in WRITERS[kind]]
    if kind == "questionnaire":
        return [*args[:2], out, *args[2:]]
    return [*args, out]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize("kind", ["evidence-pack", "report"])  # the others refuse a name not *.xlsx
def test_the_engagement_itself_is_never_an_output(
    kind: str, engagement_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = engagement_file.read_bytes()
    for out in (engagement_file, engagement_file.parent / "." / engagement_file.name):
        result = ztmm(capsys, *command(kind, engagement_file, out))
        assert_refused_in_process(result, "is the engagement file itself; choose another name")
    assert engagement_file.read_bytes() == before
    assert leftovers(engagement_file.parent) == []


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_another_engagement_is_never_an_output(
    kind: str, engagement_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / f"fabrikam{SUFFIX[kind]}"  # named like the output, but an engagement
    create_engagement(other, Properties(client="Fabrikam")).close()
    before = other.read_bytes()
    result = ztmm(capsys, *command(kind, engagement_file, other))
    assert_refused_in_process(result, "is an engagement file; choose another name")
    assert other.read_bytes() == before


def test_an_engagement_locked_by_another_process_is_never_replaced(
    engagement_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "fabrikam.zip"
    create_engagement(other, Properties(client="Fabrikam")).close()
    before = other.read_bytes()
    with held_open(other):
        result = ztmm(capsys, "evidence-pack", engagement_file, other)
        assert_refused_in_process(result, "is an engagement file")
    assert other.read_bytes() == before


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_folder_a_fifo_and_a_device_are_refused_without_waiting(
    kind: str, engagement_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / f"folder{SUFFIX[kind]}"
    folder.mkdir()
    fifo = tmp_path / f"fifo{SUFFIX[kind]}"
    os.mkfifo(fifo)
    cases = [(folder, "is a folder, not a file"), (fifo, "is a FIFO (named pipe), not a file")]
    device = tmp_path / f"null{SUFFIX[kind]}"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
        cases.append((device, "is a device, not a file"))
    except (PermissionError, AttributeError):
        pass  # creating device nodes needs privileges this machine does not give
    for target, message in cases:
        result = ztmm(capsys, *command(kind, engagement_file, target))
        assert_refused_in_process(result, message)
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    if len(cases) == 3:
        assert stat.S_ISCHR(device.lstat().st_mode)
    assert leftovers(tmp_path) == []


def test_a_link_is_written_through_and_stays_a_link(
    engagement_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "shared" / "pack.zip"
    real.parent.mkdir()
    real.write_bytes(b"old pack")
    link = tmp_path / "pack.zip"
    link.symlink_to(real)
    result = ztmm(capsys, "evidence-pack", engagement_file, link)
    assert result.code == 0, result.err
    assert link.is_symlink() and real.read_bytes().startswith(b"PK")
    to_engagement = tmp_path / "sneaky.zip"
    to_engagement.symlink_to(engagement_file)
    before = engagement_file.read_bytes()
    assert_refused_in_process(ztmm(capsys, "evidence-pack", engagement_file, to_engagement), "itself")
    assert engagement_file.read_bytes() == before and to_engagement.is_symlink()


def test_a_plain_file_is_replaced(engagement_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pack.zip"
    out.write_bytes(b"an older pack")
    assert ztmm(capsys, "evidence-pack", engagement_file, out).code == 0
    assert out.read_bytes().startswith(b"PK") and leftovers(tmp_path) == []


def test_a_name_over_255_bytes_is_one_line(
    engagement_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = tmp_path / ("é" * 130 + ".zip")
    result = ztmm(capsys, "evidence-pack", engagement_file, long)
    assert_refused_in_process(result, "the name is 264 bytes long; the limit is 255")
    result = ztmm(capsys, "report", engagement_file, tmp_path / ("📊" * 70 + ".pdf"))
    assert_refused_in_process(result, "the name is 284 bytes long; the limit is 255")
    assert leftovers(tmp_path) == []


def test_a_name_of_250_bytes_still_gets_its_temp_file(
    engagement_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / ("p" * 246 + ".zip")
    assert ztmm(capsys, "evidence-pack", engagement_file, out).code == 0
    assert out.read_bytes().startswith(b"PK")


def test_a_read_only_folder_is_one_line(
    engagement_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "usb"
    folder.mkdir()
    real_open = os.open

    def read_only(path: str | os.PathLike[str], flags: int, *args: int, **kwargs: object) -> int:
        if Path(os.fspath(path)).parent == folder and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    if os.geteuid() == 0:  # root writes into a read-only folder: emulate a read-only filesystem
        monkeypatch.setattr(os, "open", read_only)
    else:
        folder.chmod(0o555)
    try:
        for kind in sorted(WRITERS):
            result = ztmm(capsys, *command(kind, engagement_file, folder / f"out{SUFFIX[kind]}"))
            assert_refused_in_process(result, f"cannot write in {folder} (")
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("failing", ["writer", "fsync"])
def test_a_full_disk_leaves_the_old_file_and_no_temp_file(
    failing: str, engagement_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    out = tmp_path / "client.xlsx"
    out.write_bytes(b"last week's workbook")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if failing == "writer":
        monkeypatch.setattr("ztmm_desktop.services.workbook.write_workbook", full)
    else:  # the bytes are written but cannot be flushed: never renamed into place
        monkeypatch.setattr(output_module, "fsync_file", full)
    result = ztmm(capsys, "export", engagement_file, out)
    assert_refused_in_process(result, "No space left on device")
    assert out.read_bytes() == b"last week's workbook"
    assert leftovers(tmp_path) == []


def test_a_target_replaced_while_being_written_is_not_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    with pytest.raises(BadInput, match="is a folder"), written(out) as temp:
        temp.write_bytes(b"%PDF")
        out.mkdir()  # swapped for a folder while the report was rendered
    assert out.is_dir() and leftovers(tmp_path) == []
