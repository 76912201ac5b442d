"""The document behind a link, odd lock files, a file swapped while opening, copies left by killed
runs, backups of read-only opens and a full disk: each is one line and exit 2, nothing lost."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.support.inprocess import assert_refused_in_process, ztmm
from tests.support.processes import held_open
from ztmm_desktop.core.errors import DocumentLocked, EngagementFileError
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.store import document
from ztmm_desktop.store.document import orphaned_working_copies
from ztmm_desktop.store.lock import lock_path_for

FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def real(tmp_path: Path) -> Path:
    path = tmp_path / "real" / "contoso.ztmm"
    path.parent.mkdir()
    create_engagement(path, Properties(client="Contoso Ltd")).close()
    return path


@pytest.fixture
def link(real: Path, tmp_path: Path) -> Path:
    path = tmp_path / "shortcut.ztmm"
    path.symlink_to(real)
    return path


def findings(path: Path) -> list[str]:
    with open_engagement(path, readonly=True) as engagement:
        return sorted(f.title for f in engagement.findings())


# -- a document reached through a link -----------------------------------------------------------


def test_an_edit_through_a_link_lands_in_the_real_file_and_the_link_stays(
    real: Path, link: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ztmm(capsys, "finding", "add", link, "1.1", "--title", "Via the link").code == 0
    assert link.is_symlink() and os.path.realpath(link) == str(real)
    assert findings(real) == ["Via the link"]
    with open_engagement(link) as engagement:
        assert engagement.path == real
        engagement.save_as(link)  # Save As to the link's name saves the real file
    assert link.is_symlink()


def test_a_writer_through_the_link_and_one_through_the_real_name_exclude_each_other(
    real: Path, link: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with held_open(link):
        result = ztmm(capsys, "finding", "add", real, "1.1", "--title", "Blocked")
        assert_refused_in_process(result, "contoso.ztmm is open by")
        with pytest.raises(DocumentLocked):
            open_engagement(real)
    with held_open(real):
        assert_refused_in_process(ztmm(capsys, "finding", "add", link, "1.1", "--title", "No"), "is open by")
    assert findings(real) == []


def test_concurrent_commands_through_both_names_lose_no_acknowledged_edit(real: Path, link: Path) -> None:
    """Two real processes at once, one per name: every run that exited 0 has its finding in the real file."""
    acknowledged: list[str] = []
    lock = threading.Lock()

    def writer(name: str, path: Path) -> None:
        for n in range(8):
            title = f"{name} {n}"
            result = run_cli("finding", "add", path, "1.1", "--title", title)
            if result.returncode == 0:
                with lock:
                    acknowledged.append(title)
            else:
                assert result.returncode == 2 and "is open by" in result.stderr, result.stderr

    threads = [threading.Thread(target=writer, args=args) for args in (("link", link), ("real", real))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert acknowledged, "no run got through"
    assert link.is_symlink()
    assert set(acknowledged) <= set(findings(real))
    assert orphaned_working_copies() == []


# -- odd lock files ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["folder", "fifo", "link"])
def test_a_lock_file_that_is_not_a_file_is_one_line_and_never_waits(real: Path, kind: str) -> None:
    lock = lock_path_for(real)
    if kind == "folder":
        lock.mkdir()
        (lock / "keep").write_text("x")
        old = time.time() - 3600  # old enough to pass for a crash leftover
        os.utime(lock, (old, old))
    elif kind == "fifo":
        os.mkfifo(lock)
    else:
        lock.symlink_to(real.parent / "elsewhere")
    before = real.read_bytes()
    result = run_cli("finding", "add", real, "1.1", "--title", "x")  # a FIFO read would hang
    what = {"folder": "a folder", "fifo": "a FIFO (named pipe)", "link": "a symbolic link"}[kind]
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"error: cannot lock contoso.ztmm: its lock file {lock.name} is {what}; remove it"
    ]
    assert real.read_bytes() == before
    assert os.path.lexists(lock)  # not ours to remove
    assert run_cli("info", real).returncode == 0  # reading needs no lock


def test_a_fifo_in_place_of_the_document_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.ztmm"
    os.mkfifo(fifo)
    for args in (("info", fifo), ("assess", fifo, "1.1", "--rate", "initial=met")):
        result = run_cli(*args)
        assert result.returncode == 2 and result.stderr.splitlines() == [
            f"error: {fifo}: is a FIFO (named pipe), not an engagement file"
        ]


# -- saving over what is not a file ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_save_as_never_replaces_a_folder_or_a_fifo(real: Path, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target.ztmm"
    if kind == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)
    with open_engagement(real) as engagement:
        with pytest.raises(EngagementFileError, match=r"it is a (folder|FIFO)"):
            engagement.save_as(target)
        assert engagement.path == real
    assert target.is_dir() if kind == "folder" else stat.S_ISFIFO(target.lstat().st_mode)


# -- a file swapped between the check and the copy ------------------------------------------------


@pytest.mark.parametrize("swap_to", ["pdf", "foreign database", "other engagement"])
def test_what_is_checked_is_the_copy_not_the_original(
    real: Path, tmp_path: Path, swap_to: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    replacement = tmp_path / "replacement"
    if swap_to == "pdf":
        replacement.write_bytes(b"%PDF-1.7\n" + b"x" * 5000)
    elif swap_to == "foreign database":
        conn = sqlite3.connect(replacement)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    else:
        create_engagement(replacement, Properties(client="Fabrikam")).close()
        conn = sqlite3.connect(replacement)
        conn.execute("PRAGMA user_version = 99")  # not a version this app reads: refused if copied
        conn.close()
    checked = document.check_document

    def check_then_swap(path: Path) -> int:
        version = checked(path)
        os.replace(replacement, path)  # swapped right after the check, before the copy
        return version

    monkeypatch.setattr(document, "check_document", check_then_swap)
    result = ztmm(capsys, "info", real)
    assert result.code == 2 and len(result.err.splitlines()) == 1, result
    assert "contoso.ztmm" in result.err and "Traceback" not in result.err
    assert orphaned_working_copies() == []


# -- working copies of processes that are gone --------------------------------------------------

KILLED_WHILE = textwrap.dedent(
    """
    import sys, time
    from ztmm_desktop import cli
    from ztmm_desktop.services import merge
    from ztmm_desktop.store import document

    def stall(*args, **kwargs):
        print("ready", flush=True)
        time.sleep(120)

    if sys.argv[1] == "editing":  # killed in the middle of 'ztmm merge' (the working copy is open)
        merge.plan_merge = stall
        cli.main(["merge", sys.argv[2], sys.argv[2] + ".other"])
    else:  # killed while the working copy is being made (reading commands make none)
        copy = document.copy_records
        def slow(source, target, **kwargs):
            copy(source, target, **kwargs)
            stall()
        document.copy_records = slow
        cli.main(["finding", "add", sys.argv[2], "1.1", "--title", "Killed"])
    """
)


@pytest.mark.parametrize("moment", ["editing", "copying"])
def test_copies_left_by_killed_commands_are_removed_by_the_next_command(real: Path, moment: str) -> None:
    working = Path(os.environ["ZTMM_DATA_DIR"]) / "working"
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED_WHILE, moment, str(real)], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert len(list(working.glob("*.ztmm"))) == 1  # each run removed what the kill before it left
    result = run_cli("finding", "add", real, "1.1", "--title", "After the kills")
    assert result.returncode == 0, result.stderr  # the dead holders' locks are reclaimed too
    assert list(working.iterdir()) == []
    assert findings(real) == ["After the kills"]


def sidecar(working: Path, **info: object) -> None:
    working.write_bytes(b"a working copy")
    defaults = {"document": "/nowhere/x.ztmm", "pid": 2**22 + 17, "host": socket.gethostname(),
                "opened": "2026-12-01T10:00:00", "readonly": False}  # fmt: skip
    working.with_name(working.name + ".json").write_text(json.dumps({**defaults, **info}))


def test_the_next_start_keeps_only_work_someone_would_recover(real: Path) -> None:
    folder = Path(os.environ["ZTMM_DATA_DIR"]) / "working"
    folder.mkdir(parents=True, exist_ok=True)
    old = time.time() - 2 * document.STRAY_COPY_GRACE_SECONDS
    sidecar(folder / "window.ztmm", state="open", disposable=False)  # the window's: offered for recovery
    sidecar(folder / "older-version.ztmm")  # no state, no mark: an older version's window copy
    sidecar(folder / "command.ztmm", state="open", disposable=True)
    sidecar(folder / "reader.ztmm", state="open", readonly=True)
    sidecar(folder / "copying.ztmm", state="opening", disposable=False)
    (folder / "no-sidecar.ztmm").write_bytes(b"killed before sidecars existed")
    os.utime(folder / "no-sidecar.ztmm", (old, old))
    (folder / "garbled.ztmm").write_bytes(b"x")
    (folder / "garbled.ztmm.json").write_text("{not json")
    os.utime(folder / "garbled.ztmm.json", (old, old))
    (folder / "fresh.ztmm").write_bytes(b"another process is making this one right now")
    assert run_cli("info", real).returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "fresh.ztmm",
        "older-version.ztmm", "older-version.ztmm.json",
        "window.ztmm", "window.ztmm.json",
    ]  # fmt: skip
    assert sorted(o.working.name for o in orphaned_working_copies()) == ["older-version.ztmm", "window.ztmm"]


# -- backups -------------------------------------------------------------------------------------


def test_reading_an_old_file_leaves_no_backup_and_editing_makes_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v1.ztmm", old)
    before = old.read_bytes()
    backups = Path(os.environ["ZTMM_DATA_DIR"]) / "backups"
    for args in (("info", old), ("evidence", old), ("verify", old), ("finding", "list", old)):
        assert ztmm(capsys, *args).code == 0
    assert not backups.exists() or list(backups.iterdir()) == []
    assert old.read_bytes() == before
    assert ztmm(capsys, "finding", "add", old, "1.1", "--title", "Upgraded").code == 0
    (backup,) = backups.iterdir()
    assert backup.read_bytes() == before


# -- a full disk ---------------------------------------------------------------------------------


def full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_on_save_leaves_the_document_as_it_was(
    real: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = real.read_bytes()
    flush = document.fsync_file

    def full_when_saving(path: Path) -> None:
        if path.name.endswith(".saving"):  # the bytes went out, the flush failed
            full()
        flush(path)

    monkeypatch.setattr(document, "fsync_file", full_when_saving)
    result = ztmm(capsys, "finding", "add", real, "1.1", "--title", "Lost?")
    assert_refused_in_process(result, "cannot save contoso.ztmm: No space left on device")
    assert real.read_bytes() == before
    assert sorted(p.name for p in real.parent.iterdir()) == ["contoso.ztmm"]


def test_a_full_disk_while_attaching_changes_nothing(
    real: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SQLite itself reports the disk full: the working copy may not grow past 1 MiB."""
    big = tmp_path / "capture.pcap"
    big.write_bytes(os.urandom(3 * 1024 * 1024))
    before = real.read_bytes()
    pages = 1024 * 1024 // document.PAGE_SIZE
    monkeypatch.setattr(
        document, "CONNECTION_PRAGMAS", (*document.CONNECTION_PRAGMAS, f"PRAGMA max_page_count = {pages}")
    )
    result = ztmm(capsys, "attach", real, big, "--to", "1.1")
    assert_refused_in_process(result, "contoso.ztmm: nothing was changed: the disk is full")
    assert real.read_bytes() == before


def test_a_full_disk_while_opening_is_one_line(
    real: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Opening writes only when it makes a working copy: for editing (the records), or to read an
    older schema (a whole copy, migrated); a read-only look at a current file writes nothing."""
    old = tmp_path / "old.ztmm"
    shutil.copy(FIXTURES / "schema-v1.ztmm", old)

    def no_room(source: Path, target: Path, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(document, "copy_records", no_room)
    monkeypatch.setattr(document, "backup_file", no_room)
    edit = ("finding", "add", real, "1.1", "--title", "No room")
    assert_refused_in_process(ztmm(capsys, *edit), "cannot open contoso.ztmm: the disk is full")
    assert_refused_in_process(ztmm(capsys, "info", old), "cannot open old.ztmm: the disk is full")
    monkeypatch.setattr(document, "_write_sidecar_file", full)
    assert_refused_in_process(ztmm(capsys, *edit), "the app's data folder cannot be written (No space left")
    assert_refused_in_process(ztmm(capsys, "info", old), "the app's data folder cannot be written (No space left")
    assert ztmm(capsys, "info", real).code == 0  # read in place: nothing to write
    assert orphaned_working_copies() == []
