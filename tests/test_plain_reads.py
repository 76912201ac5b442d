"""``ztmm info``, ``evidence`` and ``verify`` read a plain document with sqlite3, without the ORM.

What they print and their exit codes must be exactly what the read-only open through the
services prints (``services.records``): on a realistic engagement, on damaged evidence and on
every kind of bad input. They must apply the same checks (header, file gate, the file's
identity), read a document someone else holds, and never import SQLAlchemy or SQLModel.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.support.realistic import build_realistic
from ztmm_desktop import cli
from ztmm_desktop.core.errors import EngagementFileError
from ztmm_desktop.services import records
from ztmm_desktop.services.engagement import open_engagement
from ztmm_desktop.store import document

COMMANDS = (["info"], ["info", "--json"], ["evidence"], ["evidence", "--json"], ["verify"])
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="module")
def engagements(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The realistic engagement and variants of it: damaged evidence, bad records, not engagements."""
    folder = tmp_path_factory.mktemp("plain")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTMM_DATA_DIR", str(tmp_path_factory.mktemp("appdata")))
        source = build_realistic(folder)

    def variant(name: str, sql: str) -> None:
        shutil.copy(source, folder / name)
        with sqlite3.connect(folder / name) as conn:
            conn.executescript(sql)
        conn.close()

    variant("tampered.ztmm", "UPDATE blob_chunk SET data = zeroblob(length(data)) WHERE seq = 1;")
    variant("missing-chunk.ztmm", "DELETE FROM blob_chunk WHERE seq = 2;")
    variant("wrong-type.ztmm", "UPDATE blob_chunk SET data = 'text' WHERE seq = 1;")
    variant(
        "replaced.ztmm",
        "UPDATE evidence SET sha256 = (SELECT sha256 FROM evidence WHERE original_name = 'export.csv'),"
        " size = (SELECT size FROM evidence WHERE original_name = 'export.csv') WHERE original_name = 'empty.txt';",
    )
    variant("wrong-size.ztmm", "UPDATE evidence SET size = size + 1 WHERE original_name = 'policy.pdf';")
    variant("newer.ztmm", "PRAGMA user_version = 99;")
    variant("other-catalog.ztmm", "UPDATE engagement SET catalog_id = 'another-model';")
    variant(
        "bad-value.ztmm",
        "UPDATE stage_rating SET rating = 'bogus' WHERE rowid = (SELECT min(rowid) FROM stage_rating);",
    )
    (folder / "text.ztmm").write_bytes(b"hello world" * 20)
    (folder / "empty.ztmm").write_bytes(b"")
    (folder / "truncated.ztmm").write_bytes(source.read_bytes()[:50])
    with sqlite3.connect(folder / "other.sqlite") as other:
        other.execute("CREATE TABLE t (x)")
    other.close()
    yield folder


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _both_paths(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """``ztmm ARGV`` read with plain sqlite3, and through ``open_engagement(readonly=True)``."""
    plain = _run(argv, capsys)
    with monkeypatch.context() as patch:
        patch.setattr(records, "read_in_place", lambda path: None)
        services = _run(argv, capsys)
    return plain, services


NAMES = (
    "realistic.ztmm",
    "tampered.ztmm",
    "missing-chunk.ztmm",
    "wrong-type.ztmm",
    "replaced.ztmm",
    "wrong-size.ztmm",
    "newer.ztmm",
    "other-catalog.ztmm",
    "bad-value.ztmm",
    "text.ztmm",
    "empty.ztmm",
    "truncated.ztmm",
    "other.sqlite",
    "no-such.ztmm",
    ".",  # a folder
)


@pytest.mark.parametrize("name", NAMES)
def test_plain_reads_print_exactly_what_the_services_print(
    engagements: Path, name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in COMMANDS:
        argv = [command[0], str(engagements / name), *command[1:]]
        plain, services = _both_paths(argv, capsys, monkeypatch)
        assert plain == services, argv


def test_the_realistic_engagement_is_read_in_place_and_shows_everything(
    engagements: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[records.PlainReader] = []
    original = records.PlainReader.__init__

    def spy(self: records.PlainReader, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(records.PlainReader, "__init__", spy)
    code, out, err = _run(["info", str(engagements / "realistic.ztmm")], capsys)
    assert (code, err, len(made)) == (0, "", 1)
    assert "(override: Compensating controls seen)" in out and "(override: Coverage gaps found)" in out
    assert "Not applicable" in out
    code, out, _ = _run(["verify", str(engagements / "realistic.ztmm")], capsys)
    assert (code, out.splitlines()[-1]) == (0, "4 of 4 evidence files match their SHA-256")
    code, out, _ = _run(["verify", str(engagements / "tampered.ztmm")], capsys)
    assert code == 1 and "bytes changed (SHA-256 does not match)" in out
    code, out, _ = _run(["verify", str(engagements / "missing-chunk.ztmm")], capsys)
    assert code == 1 and "bytes missing (2 of 3 chunks stored)" in out


def test_an_older_schema_is_opened_as_before(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    older = tmp_path / "v6.ztmm"
    shutil.copy(FIXTURES / "schema-v6.ztmm", older)
    assert records.read_in_place(older) is None  # migrated in a whole copy by open_engagement
    code, out, err = _run(["info", str(older)], capsys)
    assert code == 0 and err == "" and "Overall" in out


def test_an_encrypted_engagement_is_read_in_place_with_its_key(
    engagements: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.ztmm"
    shutil.copy(engagements / "realistic.ztmm", tmp_path / "plain.ztmm")
    monkeypatch.setenv("ZTMM_PASSPHRASE", "correct horse battery staple")
    assert cli.main(["encrypt", str(tmp_path / "plain.ztmm")]) == 0
    (tmp_path / "plain.ztmm").rename(secret)
    capsys.readouterr()
    with records.read_in_place(secret) as reader:  # type: ignore[union-attr]
        assert reader.encrypted
    for command in COMMANDS:
        plain, services = _both_paths([command[0], str(secret), *command[1:]], capsys, monkeypatch)
        assert plain == services and plain[0] == 0, command


def test_a_document_someone_holds_is_read(
    engagements: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = tmp_path / "held.ztmm"
    shutil.copy(engagements / "realistic.ztmm", held)
    expected = _run(["info", str(held)], capsys)
    with open_engagement(held):  # holds the lock, as another consultant's window would
        assert _run(["info", str(held)], capsys) == expected
        assert _run(["verify", str(held)], capsys)[0] == 0


def test_a_file_swapped_after_the_check_is_refused_never_read(
    engagements: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "swapped.ztmm"
    shutil.copy(engagements / "realistic.ztmm", path)
    checked = document.checked_in_place

    def then_swap(*args: object) -> bool:
        result = checked(*args)  # type: ignore[arg-type]
        shutil.copy(engagements / "replaced.ztmm", tmp_path / "other.ztmm")
        os.replace(tmp_path / "other.ztmm", path)  # a sync client puts another version in its place
        return result

    monkeypatch.setattr(document, "checked_in_place", then_swap)
    with pytest.raises(EngagementFileError, match="replaced while it was being opened"):
        records.read_in_place(path)


@pytest.mark.parametrize("command", COMMANDS)
def test_the_read_only_commands_import_no_orm_and_no_output_libraries(engagements: Path, command: list[str]) -> None:
    script = (
        "import sys\n"
        "from ztmm_desktop.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "heavy = ('sqlalchemy', 'sqlmodel', 'PySide6', 'openpyxl', 'reportlab', 'docx')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}), code, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, command[0], str(engagements / "realistic.ztmm"), *command[1:]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
        check=False,
        timeout=120,
    )
    assert done.stderr.strip().splitlines()[-1] == "[] 0", done.stderr
