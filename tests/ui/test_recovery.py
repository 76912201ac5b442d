"""A killed app offers its unsaved work at the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.conftest import ROOT
from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.services.recovery import unsaved_work
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

APP_SESSION = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from ztmm_desktop.core.stages import Rating, Stage
    from ztmm_desktop.ui.shell.main_window import MainWindow
    from ztmm_desktop.ui.editing.requests import SetComment, SetRating
    window = MainWindow()
    window.show()
    assert window.open_path(Path(sys.argv[1]))
    window.request(SetRating("networks.network_segmentation", Stage.INITIAL, Rating.PARTIAL))
    window.request(SetComment("networks.network_segmentation", Stage.INITIAL, "Depots are flat; typed before the crash"))
    print("edited", flush=True)
    app.exec()
    """
)


def crash_after_editing(path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", APP_SESSION, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "edited"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()


@pytest.fixture
def engagement_file(tmp_path: Path) -> Path:
    path = tmp_path / "workshop.ztmm"
    create_engagement(path, Properties(client="Crash Ltd")).close()
    return path


def test_recover_after_the_app_was_killed(window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot,
                                          engagement_file: Path) -> None:  # fmt: skip
    before = engagement_file.read_bytes()
    crash_after_editing(engagement_file)
    assert engagement_file.read_bytes() == before  # the document itself was never touched
    dialogs.click("Recover")
    window.offer_recovery()
    assert "ended without saving workshop.ztmm" in dialogs.seen[0]
    engagement = window.engagement
    assert engagement is not None and engagement.path == engagement_file
    rating = engagement.assessment("3.1").rating(Stage.INITIAL)
    assert (rating.rating, rating.comment) == (Rating.PARTIAL, "Depots are flat; typed before the crash")
    assert window.isWindowModified()  # recovered work is not in the file until saved
    assert window.save_now()
    assert not window.isWindowModified()
    window.close_engagement()
    with open_engagement(engagement_file, readonly=True) as saved:
        assert saved.assessment("3.1").rating(Stage.INITIAL).rating is Rating.PARTIAL
    assert unsaved_work() == []


def test_discarding_the_unsaved_work(window: MainWindow, dialogs: DialogAnswerer, engagement_file: Path) -> None:
    before = engagement_file.read_bytes()
    crash_after_editing(engagement_file)
    dialogs.click("Discard")
    window.offer_recovery()
    assert window.engagement is None
    assert unsaved_work() == []
    assert engagement_file.read_bytes() == before


def test_deciding_later_keeps_the_work_for_next_time(window: MainWindow, dialogs: DialogAnswerer,
                                                     engagement_file: Path) -> None:  # fmt: skip
    crash_after_editing(engagement_file)
    dialogs.click("Decide later")
    window.offer_recovery()
    assert window.engagement is None
    assert [o.document for o in unsaved_work()] == [engagement_file]
