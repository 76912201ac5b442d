"""Encrypted engagements as a consultant uses them: nothing of the client's readable on disk.

A marker string in a comment and a random marker inside an evidence file must not
appear in the engagement file, nor in any file the app wrote while it had the
engagement open (the app's data folder, the temp folder), through edits, saves, a
crash and its recovery, merges and exports. Wrong or missing passphrases are one
line and exit 2, with the file untouched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from ztmm_desktop.core.errors import EngagementFileError
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import encryption, passphrase, sealed
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.store.connect import PassphraseNeeded, WrongKey
from ztmm_desktop.store.document import check_document, orphaned_working_copies

PASS = "correct horse battery"
ZIP_PASS = "zip passphrase 1"
SQLITE_MAGIC = b"SQLite format 3\x00"


@pytest.fixture
def tmpdir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp folder of the test's own (TMPDIR: Python's and SQLite's temp files go there)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setenv("SQLITE_TMPDIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def _fresh_keys() -> Iterator[None]:
    passphrase.forget_all()
    passphrase.set_asker(None)
    yield
    passphrase.forget_all()
    passphrase.set_asker(None)


@pytest.fixture
def markers() -> tuple[bytes, bytes]:
    return b"COMMENT-MARKER-" + uuid.uuid4().hex.encode(), b"EVIDENCE-MARKER-" + uuid.uuid4().hex.encode()


def files_holding(folders: list[Path], *needles: bytes) -> list[Path]:
    """Every file under ``folders`` that holds one of ``needles`` (what grep -r would find)."""
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                if any(needle in data for needle in needles):
                    found.append(path)
    return found


def assert_refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert result.stdout == ""


def make_encrypted(folder: Path, markers: tuple[bytes, bytes], evidence_dir: Path) -> Path:
    """``ztmm new --encrypt``, a comment with the marker, evidence holding the other marker."""
    path = folder / "client.ztmm"
    env = {"ZTMM_PASSPHRASE": PASS}
    result = run_cli("new", path, "--client", "Contoso", "--encrypt", env=env)
    assert result.returncode == 0, result.stderr
    assert "encrypted engagement" in result.stdout
    result = run_cli(
        "assess", path, "1.1", "--rate", "initial=met", "--comment", f"initial={markers[0].decode()}", env=env
    )
    assert result.returncode == 0, result.stderr
    evidence_dir.mkdir(exist_ok=True)
    source = evidence_dir / "console.txt"
    source.write_bytes(os.urandom(5000) + markers[1] + os.urandom(5000))
    result = run_cli("attach", path, source, "--to", "1.1/initial", env=env)
    assert result.returncode == 0, result.stderr
    return path


def test_encrypted_engagement_has_no_sqlite_header_and_no_readable_client_data(
    tmp_path: Path, tmpdir_env: Path, data_dir: Path, markers: tuple[bytes, bytes]
) -> None:
    folder = tmp_path / "engagements"
    folder.mkdir()
    path = make_encrypted(folder, markers, tmp_path / "outside")
    assert not path.read_bytes().startswith(SQLITE_MAGIC)
    assert files_holding([folder, data_dir, tmpdir_env], *markers) == []
    # and it reads back with the passphrase: the comment and the evidence bytes are there
    env = {"ZTMM_PASSPHRASE": PASS}
    result = run_cli("info", path, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert markers[0].decode() in result.stdout
    assert '"encrypted": true' in result.stdout
    out = tmp_path / "extracted"
    out.mkdir()
    listing = run_cli("evidence", path, env=env)
    evidence_id = listing.stdout.split()[0]
    assert run_cli("extract", path, evidence_id, out, env=env).returncode == 0
    assert markers[1] in (out / "console.txt").read_bytes()


def test_check_document_says_an_encrypted_file_needs_its_passphrase(
    tmp_path: Path, markers: tuple[bytes, bytes]
) -> None:
    path = make_encrypted(tmp_path, markers, tmp_path / "outside")
    with pytest.raises(PassphraseNeeded, match="encrypted engagement file; its passphrase is needed"):
        check_document(path)
    result = run_cli("info", path, stdin=subprocess.DEVNULL)
    assert_refused(result, "an encrypted engagement file; set ZTMM_PASSPHRASE")


def test_wrong_passphrase_is_one_line_exit_2_and_the_file_is_untouched(
    tmp_path: Path, markers: tuple[bytes, bytes], data_dir: Path
) -> None:
    path = make_encrypted(tmp_path, markers, tmp_path / "outside")
    before = path.read_bytes()
    env = {"ZTMM_PASSPHRASE": "not the passphrase"}
    assert_refused(run_cli("info", path, env=env), "wrong passphrase")
    assert_refused(run_cli("assess", path, "1.1", "--rate", "advanced=met", env=env), "wrong passphrase")
    assert_refused(run_cli("evidence-pack", path, tmp_path / "p.zip", env=env), "wrong passphrase")
    assert path.read_bytes() == before
    assert not (tmp_path / "p.zip").exists()
    assert list((data_dir / "working").glob("*")) == [] if (data_dir / "working").exists() else True


def test_new_encrypted_without_the_binding_says_so_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "plain-by-mistake.ztmm"
    code = (
        "import sys; sys.modules['sqlcipher3'] = None\n"
        "from ztmm_desktop.cli import main\n"
        f"sys.exit(main(['new', {str(path)!r}, '--client', 'Contoso', '--encrypt']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ZTMM_PASSPHRASE": PASS},
        timeout=60,
    )
    assert_refused(result, "encryption is not available on this computer")
    assert not path.exists()
    plain = tmp_path / "plain.ztmm"
    assert run_cli("new", plain, "--client", "Contoso").returncode == 0
    before = plain.read_bytes()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code.replace(f"'new', {str(path)!r}, '--client', 'Contoso', '--encrypt'", f"'encrypt', {str(plain)!r}"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ZTMM_PASSPHRASE": PASS},
        timeout=60,
    )
    assert_refused(result, "encryption is not available on this computer")
    assert plain.read_bytes() == before


def test_passphrase_too_short_is_refused(tmp_path: Path) -> None:
    result = run_cli("new", tmp_path / "a.ztmm", "--client", "C", "--encrypt", env={"ZTMM_PASSPHRASE": "short"})
    assert_refused(result, "at least 8 characters")
    assert not (tmp_path / "a.ztmm").exists()


EDITOR = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ztmm_desktop.core.stages import Rating, Stage
    from ztmm_desktop.services.engagement import open_engagement

    marker = sys.argv[2]
    engagement = open_engagement(Path(sys.argv[1]))
    functions = [f.id for f in engagement.functions_in_scope()]
    n = 0
    while True:
        engagement.assess(functions[n % len(functions)], comments={Stage.ADVANCED: f"{marker}:{n}"},
                          ratings={Stage.ADVANCED: Rating.MET})
        print(n, flush=True)  # acknowledged
        n += 1
    """
)


def test_crash_while_open_leaves_only_encrypted_files_and_the_work_is_recovered(
    tmp_path: Path, tmpdir_env: Path, data_dir: Path, markers: tuple[bytes, bytes]
) -> None:
    folder = tmp_path / "engagements"
    folder.mkdir()
    path = make_encrypted(folder, markers, tmp_path / "outside")
    live = b"LIVE-" + uuid.uuid4().hex.encode()
    child = subprocess.Popen(
        [sys.executable, "-c", EDITOR, str(path), live.decode()],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ZTMM_PASSPHRASE": PASS},
    )
    assert child.stdout is not None
    acked = [child.stdout.readline().strip() for _ in range(30)]
    # while it is open and editing: the working copy, its WAL, the temp folder hold nothing readable
    assert files_holding([folder, data_dir, tmpdir_env], *markers, live) == []
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    (orphan,) = orphaned_working_copies()
    assert not orphan.working.read_bytes().startswith(SQLITE_MAGIC)
    assert files_holding([folder, data_dir, tmpdir_env], *markers, live) == []
    # the next start recovers it with the passphrase, and the acknowledged edits are all there
    os.environ["ZTMM_PASSPHRASE"] = PASS
    try:
        with open_engagement(path, recover=orphan) as engagement:
            comments = {
                engagement.assessments()[f.id].rating(Stage.ADVANCED).comment for f in engagement.functions_in_scope()
            }
            assert f"{live.decode()}:{acked[-1]}" in comments
            engagement.save()
    finally:
        del os.environ["ZTMM_PASSPHRASE"]
    assert not path.read_bytes().startswith(SQLITE_MAGIC)
    assert files_holding([folder, data_dir, tmpdir_env], *markers, live) == []


def test_merge_between_an_encrypted_and_a_plain_copy(tmp_path: Path, markers: tuple[bytes, bytes]) -> None:
    plain = tmp_path / "mine.ztmm"
    assert run_cli("new", plain, "--client", "Contoso").returncode == 0
    theirs = tmp_path / "theirs.ztmm"
    shutil.copy(plain, theirs)
    env = {"ZTMM_PASSPHRASE": PASS}
    assert run_cli("encrypt", theirs, env=env).returncode == 0
    assert not theirs.read_bytes().startswith(SQLITE_MAGIC)
    result = run_cli("assess", theirs, "1.1", "--comment", f"initial={markers[0].decode()}", env=env)
    assert result.returncode == 0, result.stderr
    assert run_cli("assess", plain, "1.2", "--rate", "initial=met").returncode == 0
    # their encrypted changes into my plain copy
    result = run_cli("merge", plain, theirs, env=env)
    assert result.returncode == 0, result.stderr
    assert markers[0] in plain.read_bytes()  # mine stays plain: the user's choice for that file
    # my plain changes into their encrypted copy, which stays encrypted
    result = run_cli("merge", theirs, plain, env=env)
    assert result.returncode == 0, result.stderr
    assert not theirs.read_bytes().startswith(SQLITE_MAGIC)
    with open_engagement(theirs, key=passphrase.try_passphrase(theirs, PASS), readonly=True) as engagement:
        function = engagement.catalog.function("1.2")
        assert engagement.assessments()[function.id].rating(Stage.INITIAL).rating is Rating.MET
    # without the passphrase the merge is refused in one line, nothing changed
    before = plain.read_bytes()
    assert_refused(run_cli("merge", plain, theirs, env={"ZTMM_PASSPHRASE": "wrong passphrase"}), "wrong passphrase")
    assert plain.read_bytes() == before


def test_rekey_decrypt_encrypt(tmp_path: Path, markers: tuple[bytes, bytes]) -> None:
    path = make_encrypted(tmp_path, markers, tmp_path / "outside")
    salt = path.read_bytes()[:16]
    result = run_cli("rekey", path, env={"ZTMM_PASSPHRASE": PASS, "ZTMM_NEW_PASSPHRASE": "a new passphrase"})
    assert result.returncode == 0, result.stderr
    assert path.read_bytes()[:16] != salt  # a new salt: a new key
    assert_refused(run_cli("info", path, env={"ZTMM_PASSPHRASE": PASS}), "wrong passphrase")
    env = {"ZTMM_PASSPHRASE": "a new passphrase"}
    assert run_cli("info", path, env=env).returncode == 0
    assert_refused(run_cli("encrypt", path, env=env), "already encrypted")
    assert run_cli("decrypt", path, env=env).returncode == 0
    assert path.read_bytes().startswith(SQLITE_MAGIC)
    assert markers[0] in path.read_bytes()
    assert_refused(run_cli("decrypt", path), "is not encrypted")
    assert_refused(run_cli("rekey", path), "is not encrypted")
    assert run_cli("encrypt", path, env={"ZTMM_PASSPHRASE": PASS}).returncode == 0
    assert not path.read_bytes().startswith(SQLITE_MAGIC)
    result = run_cli("info", path, "--json", env={"ZTMM_PASSPHRASE": PASS})
    assert markers[0].decode() in result.stdout


def test_exports_and_evidence_pack_are_aes_zips_that_read_back(
    tmp_path: Path, tmpdir_env: Path, data_dir: Path, markers: tuple[bytes, bytes]
) -> None:
    folder = tmp_path / "engagements"
    folder.mkdir()
    path = make_encrypted(folder, markers, tmp_path / "outside")
    out = tmp_path / "out"
    out.mkdir()
    env = {"ZTMM_PASSPHRASE": PASS, "ZTMM_EXPORT_PASSPHRASE": ZIP_PASS}
    for args in (
        ["evidence-pack", path, out / "pack.zip", "--encrypt"],
        ["report", path, out / "report.pdf.zip", "--encrypt"],
        ["report", path, out / "report.docx.zip", "--encrypt"],
        ["export", path, out / "client.xlsx.zip", "--encrypt"],
    ):
        result = run_cli(*args, env=env)
        assert result.returncode == 0, (args, result.stderr)
    assert files_holding([out, folder, data_dir, tmpdir_env], *markers) == []
    assert sorted(p.name for p in out.iterdir()) == ["client.xlsx.zip", "pack.zip", "report.docx.zip", "report.pdf.zip"]
    assert sealed.read_member(out / "report.pdf.zip", ZIP_PASS, "report.pdf").startswith(b"%PDF")
    assert sealed.read_member(out / "report.docx.zip", ZIP_PASS, "report.docx").startswith(b"PK")
    assert sealed.read_member(out / "client.xlsx.zip", ZIP_PASS, "client.xlsx").startswith(b"PK")
    manifest = sealed.read_member(out / "pack.zip", ZIP_PASS, "manifest.csv").decode()
    assert "console.txt" in manifest
    member = manifest.splitlines()[1].split(",")[3]
    assert markers[1] in sealed.read_member(out / "pack.zip", ZIP_PASS, member)
    with pytest.raises(RuntimeError):
        sealed.read_member(out / "pack.zip", "not the passphrase", "manifest.csv")
    seven = shutil.which("7z")
    if seven is None:
        pytest.skip("7z is not installed (tools/system-deps.sh installs p7zip-full)")
    for name in ("pack.zip", "report.pdf.zip", "client.xlsx.zip"):
        target = tmp_path / "7z" / name
        done = subprocess.run(
            [seven, "x", f"-p{ZIP_PASS}", f"-o{target}", str(out / name)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert markers[1] in (tmp_path / "7z" / "pack.zip" / member).read_bytes()
    assert (tmp_path / "7z" / "report.pdf.zip" / "report.pdf").read_bytes().startswith(b"%PDF")
    wrong = subprocess.run(
        [seven, "x", "-pwrong", f"-o{tmp_path / 'bad'}", str(out / "pack.zip")], capture_output=True, timeout=60
    )
    assert wrong.returncode != 0


def test_encrypted_export_must_be_named_zip(tmp_path: Path, markers: tuple[bytes, bytes]) -> None:
    path = make_encrypted(tmp_path, markers, tmp_path / "outside")
    env = {"ZTMM_PASSPHRASE": PASS, "ZTMM_EXPORT_PASSPHRASE": ZIP_PASS}
    assert_refused(run_cli("report", path, tmp_path / "r.pdf", "--encrypt", env=env), "name it r.pdf.zip")
    assert_refused(run_cli("export", path, tmp_path / "c.xlsx", "--encrypt", env=env), "name it c.xlsx.zip")
    assert_refused(
        run_cli("evidence-pack", path, tmp_path / "p.zip", "--encrypt", env={"ZTMM_PASSPHRASE": PASS}),
        "ZTMM_EXPORT_PASSPHRASE",
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["client.ztmm"]


def test_an_old_schema_file_encrypted_migrates_and_stays_encrypted(tmp_path: Path, data_dir: Path) -> None:
    from ztmm_desktop.store.document import convert_file

    source = ROOT / "tests" / "fixtures" / "schema-v1.ztmm"
    path = tmp_path / "old.ztmm"
    key = passphrase.new_key(PASS)
    convert_file(source, path, key=None, target_key=key)
    assert not path.read_bytes().startswith(SQLITE_MAGIC)
    with open_engagement(path, key=key) as engagement:
        assert engagement.document.migrated_from == 1
        engagement.save()
    backups = list((data_dir / "backups").iterdir())
    assert backups and not backups[0].read_bytes().startswith(SQLITE_MAGIC)
    assert not path.read_bytes().startswith(SQLITE_MAGIC)
    with open_engagement(path, key=key, readonly=True):
        pass


class MemoryKeyring:
    """A keyring backend in memory (the real ones need a desktop session)."""

    priority = 1

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.saved.get((service, user))

    def set_password(self, service: str, user: str, value: str) -> None:
        self.saved[(service, user)] = value

    def delete_password(self, service: str, user: str) -> None:
        self.saved.pop((service, user), None)


def test_a_remembered_passphrase_comes_from_the_keyring_and_follows_a_rekey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring

    memory = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_password", memory.get_password)
    monkeypatch.setattr(keyring, "set_password", memory.set_password)
    monkeypatch.setattr(keyring, "delete_password", memory.delete_password)
    monkeypatch.delenv("ZTMM_PASSPHRASE", raising=False)
    path = tmp_path / "kept.ztmm"
    key = passphrase.new_key(PASS)
    create_engagement(path, Properties(client="Contoso"), key=key).close()
    assert passphrase.remember(key, PASS)
    assert list(memory.saved.values()) == [PASS]
    passphrase.forget_all()
    with open_engagement(path) as engagement:  # no prompt, no variable: the keyring
        encryption.rekey(engagement, "a new passphrase")
    assert list(memory.saved.values()) == ["a new passphrase"]  # the old entry went, the new one is kept
    passphrase.forget_all()
    with open_engagement(path) as engagement:
        encryption.decrypt(engagement)
    assert memory.saved == {}


def test_no_keyring_backend_is_one_notice_and_the_passphrase_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.errors import NoKeyringError

    def unavailable(*_args: object) -> None:
        raise NoKeyringError("No recommended backend was available.")

    monkeypatch.setattr(keyring, "get_password", unavailable)
    monkeypatch.setattr(keyring, "set_password", unavailable)
    monkeypatch.delenv("ZTMM_PASSPHRASE", raising=False)
    notices: list[str] = []
    asked: list[int] = []

    def ask(_path: Path, wrong: int) -> passphrase.Answer | None:
        asked.append(wrong)
        return passphrase.Answer("wrong guess 1" if wrong == 0 else PASS, remember=True)

    passphrase.set_asker(ask, notices.append)
    path = tmp_path / "e.ztmm"
    create_engagement(path, Properties(client="Contoso"), key=passphrase.new_key(PASS)).close()
    passphrase.forget_all()
    with open_engagement(path, readonly=True):
        pass
    assert asked == [0, 1]
    assert len(notices) == 1 and "no usable system keyring" in notices[0] and "\n" not in notices[0]
    passphrase.set_asker(lambda _p, _w: None)
    passphrase.forget_all()
    with pytest.raises(EngagementFileError, match="no passphrase given"):
        open_engagement(path)


def test_wrong_key_in_process_is_refused_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "e.ztmm"
    create_engagement(path, Properties(client="Contoso"), key=passphrase.new_key(PASS)).close()
    before = path.read_bytes()
    with pytest.raises(WrongKey):
        passphrase.try_passphrase(path, "not it at all")
    assert path.read_bytes() == before


def _comments(path: Path, key: object) -> set[str]:
    from ztmm_desktop.store.connect import connect

    conn = connect(path, key=key, readonly=True)  # type: ignore[arg-type]
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        return {row[0] for row in conn.execute("SELECT new FROM audit WHERE field = 'comment'")}
    finally:
        conn.close()


def test_a_save_copies_the_encrypted_pages_as_they_are_and_the_copy_is_whole(tmp_path: Path) -> None:
    from ztmm_desktop.store.document import snapshot_copy

    key = passphrase.new_key(PASS)
    with create_engagement(tmp_path / "e.ztmm", Properties(client="Contoso"), key=key) as engagement:
        engagement.assess(engagement.functions_in_scope()[0].id, comments={Stage.INITIAL: "committed"})
        target = tmp_path / "copy.ztmm"
        assert snapshot_copy(engagement.document.working, target, key)  # the fast path, nothing re-encrypted
    assert "committed" in _comments(target, key)


def test_saving_while_edits_go_on_gives_whole_files_with_every_edit_made_before(tmp_path: Path) -> None:
    from ztmm_desktop.store.document import snapshot_copy

    key = passphrase.new_key(PASS)
    engagement = create_engagement(tmp_path / "busy.ztmm", Properties(client="Contoso"), key=key)
    functions = [f.id for f in engagement.functions_in_scope()]
    stop = threading.Event()
    acked: list[int] = []

    def edit() -> None:
        n = 0
        while not stop.is_set():
            engagement.assess(functions[n % len(functions)], comments={Stage.ADVANCED: f"edit {n}"})
            acked.append(n)
            n += 1

    editor = threading.Thread(target=edit)
    editor.start()
    try:
        for attempt in range(6):
            while len(acked) < 5 * (attempt + 1):
                stop.wait(0.01)
            done_before = len(acked)
            target = tmp_path / f"save{attempt}.ztmm"
            snapshot_copy(engagement.document.working, target, key)
            assert f"edit {done_before - 1}" in _comments(target, key)
    finally:
        stop.set()
        editor.join()
        engagement.close()
