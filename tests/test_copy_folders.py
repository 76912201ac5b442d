"""Server copies left behind by a session that ended unexpectedly are removed by the next run, unless
their process still runs or the crash recovery may offer their unsaved work (services/copy_folders.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.conftest import run_cli
from ztmm_desktop.services import recovery
from ztmm_desktop.services.copy_folders import (
    COPIES,
    LEFT_OVER_GRACE_SECONDS,
    OWNER,
    clean_up_left_copies,
    new_copy_folder,
)


def _in_child(code: str) -> str:
    """Run ``code`` in a child process that ends without tidying up (as a crash would); its printout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=dict(os.environ), timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_left_over_copy_goes_and_the_copies_of_live_sessions_and_unsaved_work_stay(data_dir: Path) -> None:
    gone = Path(_in_child("from ztmm_desktop.services.copy_folders import new_copy_folder; print(new_copy_folder())"))
    (gone / "eng.ztmm").write_bytes(b"what was on the server")
    mine = new_copy_folder()  # this process's: in use
    # a session killed with unsaved edits in its copy: the recovery offers them, so the copy stays
    unsaved = Path(
        _in_child(
            """
            import os
            from ztmm_desktop.services.copy_folders import new_copy_folder
            from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
            folder = new_copy_folder()
            path = folder / "eng.ztmm"
            create_engagement(path, Properties(client="Acme")).close()
            engagement = open_engagement(path)
            engagement.assess(engagement.functions_in_scope()[0].id, note="typed, never saved", by="Lead")
            print(folder, flush=True)
            os._exit(0)  # no close, no clean-up: as a crash
            """
        )
    )
    elsewhere = data_dir / COPIES / "from-another-host"
    elsewhere.mkdir()
    (elsewhere / OWNER).write_text(json.dumps({"pid": 1, "host": "another-host.example"}), encoding="utf-8")

    assert clean_up_left_copies() == 1
    assert not gone.exists()
    assert mine.is_dir() and unsaved.is_dir() and elsewhere.is_dir()
    (orphan,) = recovery.unsaved_work()
    assert orphan.document.parent == unsaved

    recovery.discard_unsaved(orphan)  # the consultant says no to recovering it
    old = time.time() - LEFT_OVER_GRACE_SECONDS - 60
    os.utime(elsewhere, (old, old))  # another host's, a day old: its session is long over
    assert clean_up_left_copies() == 2
    assert not unsaved.exists() and not elsewhere.exists() and mine.is_dir()


def test_every_ztmm_command_tidies_up_what_a_killed_run_left(data_dir: Path) -> None:
    left = Path(_in_child("from ztmm_desktop.services.copy_folders import new_copy_folder; print(new_copy_folder())"))
    assert left.is_dir()
    done = run_cli("catalog")
    assert done.returncode == 0, done.stderr
    assert not left.exists()


@pytest.mark.gui
def test_the_window_tidies_up_at_start(data_dir: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    from ztmm_desktop.ui.shell.main_window import start

    monkeypatch.setenv("ZTMM_ASSESSOR", "Lead assessor")
    left = Path(_in_child("from ztmm_desktop.services.copy_folders import new_copy_folder; print(new_copy_folder())"))
    window = start([])
    try:
        qtbot.waitUntil(lambda: not left.exists(), timeout=10_000)
    finally:
        window.close()
        window.deleteLater()
