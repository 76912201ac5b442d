"""The window's side of the refusals: altered evidence, outputs that are not files, a full disk,
odd lock files and documents behind links each end in one dialog, with nothing lost."""

from __future__ import annotations

import errno
import io
import os
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer, no_file_dialog
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import evidence as ev
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.store import document
from ztmm_desktop.store.lock import lock_path_for
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def engagement_file(tmp_path: Path) -> Path:
    path = tmp_path / "client.ztmm"
    with create_engagement(path, Properties(client="Contoso Ltd")) as engagement:
        ev.attach_stream(engagement, io.BytesIO(b'{"mfa": "required"}'), original_name="config.json",
                         expected_size=19, links=[ev.parse_link(engagement, "1.4/advanced")])  # fmt: skip
        engagement.save()
    return path


def test_opening_altered_evidence_shows_why_and_opens_nothing(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, engagement_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(QUrl(url).toLocalFile())))
    conn = sqlite3.connect(engagement_file)  # the bytes stay in the document (docs/storage.md)
    conn.execute("""UPDATE blob_chunk SET data = CAST('{"mfa": "optional"}' AS BLOB)""")
    conn.commit()
    conn.close()
    assert window.open_path(engagement_file)
    assert window.workbench is not None and window.engagement is not None
    window.workbench.select_function("1.4", Stage.ADVANCED)
    window.show_tab(1)
    pane = window.workbench.evidence
    (item,) = ev.list_evidence(window.engagement)
    pane.select(item.id)
    dialogs.click("OK")
    qtbot.mouseClick(pane.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialogs.done, timeout=5000)
    assert "bytes changed (SHA-256 does not match)" in dialogs.seen[0] and "\n" not in dialogs.seen[0]
    assert opened == []


def test_an_evidence_pack_onto_a_folder_is_refused_in_a_dialog(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, engagement_file: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    folder = tmp_path / "pack.zip"
    folder.mkdir()
    assert window.open_path(engagement_file)
    no_file_dialog(monkeypatch, folder)
    dialogs.click("OK")
    window.deliverables.pack_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=10_000)
    assert dialogs.seen == [f"{folder} is a folder, not a file; choose another name"]
    assert list(folder.iterdir()) == []


def test_a_full_disk_when_closing_says_not_saved_and_keeps_the_window_open(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, engagement_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.open_path(engagement_file)
    assert window.engagement is not None
    window.engagement.assess("1.1", ratings={Stage.INITIAL: Rating.MET})
    window.undo_stack.resetClean()  # as an edit through the window would leave it
    before = engagement_file.read_bytes()
    flush = document.fsync_file

    def full_when_saving(path: Path) -> None:
        if path.name.endswith((".saving", ".spare")):  # the window saves into a spare clone
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        flush(path)

    monkeypatch.setattr(document, "fsync_file", full_when_saving)
    dialogs.click("Save").click("Cancel")
    window.close()
    qtbot.waitUntil(lambda: dialogs.done, timeout=5000)
    assert dialogs.seen[1].startswith("cannot save client.ztmm: No space left on device")
    assert window.engagement is not None and window.isVisible()  # nothing closed, nothing lost
    assert engagement_file.read_bytes() == before
    monkeypatch.setattr(document, "fsync_file", flush)
    assert window.save_now()
    with open_engagement(engagement_file, readonly=True) as saved:
        assert saved.assessment("1.1").rating(Stage.INITIAL).rating is Rating.MET


def test_a_lock_file_that_is_a_folder_is_one_dialog(
    window: MainWindow, dialogs: DialogAnswerer, engagement_file: Path
) -> None:
    lock_path_for(engagement_file).mkdir()
    dialogs.click("OK")
    assert not window.open_path(engagement_file)
    assert dialogs.seen == ["cannot lock client.ztmm: its lock file .client.ztmm.lock is a folder; remove it"]
    assert window.engagement is None


def test_a_document_opened_through_a_link_is_saved_into_the_real_file(
    window: MainWindow, engagement_file: Path, tmp_path: Path
) -> None:
    link = tmp_path / "shortcut.ztmm"
    link.symlink_to(engagement_file)
    assert window.open_path(link)
    assert window.engagement is not None and window.engagement.path == engagement_file
    window.engagement.assess("1.1", ratings={Stage.INITIAL: Rating.PARTIAL})
    assert window.save_now()
    assert link.is_symlink()
    with open_engagement(engagement_file, readonly=True) as saved:
        assert saved.assessment("1.1").rating(Stage.INITIAL).rating is Rating.PARTIAL
