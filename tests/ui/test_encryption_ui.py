"""Encrypted engagements in the window: the passphrase dialog, File → Encrypt…/Remove encryption…."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer, no_file_dialog
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services import passphrase
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

PASS = "correct horse battery"
AUTH = "identity.authentication"
SQLITE_MAGIC = b"SQLite format 3\x00"


@pytest.fixture(autouse=True)
def _fresh_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("ZTMM_PASSPHRASE", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    passphrase.forget_all()
    yield
    passphrase.forget_all()
    passphrase.set_asker(None)


def button(dialog: QWidget, text: str) -> QPushButton:
    return next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == text)


def type_passphrase(qtbot: QtBot, dialog: QWidget, text: str, name: str = "passphrase") -> None:
    field = dialog.findChild(QLineEdit, name)
    assert field is not None and field.echoMode() is QLineEdit.EchoMode.Password
    field.clear()
    qtbot.keyClicks(field, text)


def unlock_with(qtbot: QtBot, text: str, seen: list[str] | None = None):  # type: ignore[no-untyped-def]
    def answer(dialog: QWidget) -> None:
        problem = dialog.findChild(QLabel, "passphraseProblem")
        if seen is not None:
            seen.append(problem.text() if problem is not None and problem.isVisible() else "")
        type_passphrase(qtbot, dialog, text)
        button(dialog, "Open").click()

    return answer


def holding(folders: list[Path], *needles: bytes) -> list[Path]:
    return [
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and any(needle in path.read_bytes() for needle in needles)
    ]


def test_opening_an_encrypted_engagement_asks_its_passphrase_and_waits_after_five_wrong_tries(
    window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot, tmp_path: Path, data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    path = tmp_path / "secret.ztmm"
    create_engagement(path, Properties(client="Contoso"), key=passphrase.new_key(PASS)).close()
    passphrase.forget_all()
    monkeypatch.setattr(passphrase, "wait_after", lambda wrong: 0.0 if wrong < 5 else 0.2 * (wrong - 4))
    seen: list[str] = []
    for n in range(5):
        dialogs.then(unlock_with(qtbot, f"wrong guess {n}", seen))

    def after_five(dialog: QWidget) -> None:
        open_button = button(dialog, "Open")
        problem = dialog.findChild(QLabel, "passphraseProblem")
        assert problem is not None
        seen.append(problem.text())
        assert not open_button.isEnabled()  # a moment's wait before the sixth try
        qtbot.waitUntil(open_button.isEnabled, timeout=5000)
        type_passphrase(qtbot, dialog, PASS)
        open_button.click()

    dialogs.then(after_five)
    no_file_dialog(monkeypatch, path)
    window.open_action.trigger()
    assert seen[0] == "" and seen[1] == "Wrong passphrase (1 try)."
    assert "Wait 1 s before trying again" in seen[5]
    assert window.engagement is not None and window.engagement.path == path
    assert window.windowTitle().startswith("secret.ztmm")
    # the passphrase is in no setting and not in the recent list, only the path is
    settings = window.settings
    assert PASS not in repr([settings.recent_files(), settings.last_folder()])

    # edit as a person would, save, and nothing readable lands on disk
    window.activateWindow()  # the passphrase dialog had the focus; a person clicks back into the window
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    bench = window.workbench
    assert bench is not None
    bench.select_function(AUTH)
    page = bench.page
    qtbot.mouseClick(page.stage_boxes[Stage.INITIAL].rating_buttons[Rating.MET], Qt.MouseButton.LeftButton)
    marker = "MARKER-" + uuid.uuid4().hex
    comment = page.stage_boxes[Stage.INITIAL].comment_edit
    assert comment is not None
    comment.setFocus()
    qtbot.keyClicks(comment, marker)
    page.stage_boxes[Stage.ADVANCED].rating_buttons[Rating.PARTIAL].setFocus()  # leaving the comment commits it
    qtbot.waitUntil(lambda: window.engagement.assessment(AUTH).rating(Stage.INITIAL).comment == marker)
    assert holding([tmp_path, data_dir], marker.encode()) == []  # while open: working copy and WAL encrypted
    assert window.save_now()
    assert not path.read_bytes().startswith(SQLITE_MAGIC)
    assert holding([tmp_path, data_dir], marker.encode()) == []
    window.close_engagement()
    with open_engagement(path, key=passphrase.try_passphrase(path, PASS), readonly=True) as saved:
        assert saved.assessment(AUTH).rating(Stage.INITIAL).comment == marker


def test_cancelling_the_passphrase_opens_nothing_and_says_nothing(
    window: MainWindow, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = tmp_path / "secret.ztmm"
    create_engagement(path, Properties(client="Contoso"), key=passphrase.new_key(PASS)).close()
    passphrase.forget_all()
    dialogs.then(lambda dialog: button(dialog, "Cancel").click())
    assert not window.open_path(path)
    assert window.engagement is None


def test_encrypt_and_remove_encryption_from_the_file_menu(
    window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot, tmp_path: Path
) -> None:
    path = tmp_path / "plain.ztmm"
    create_engagement(path, Properties(client="Contoso")).close()
    assert window.open_path(path)
    actions = window.encryption
    assert actions.encrypt_action.isEnabled() and not actions.decrypt_action.isEnabled()

    def mismatched(dialog: QWidget) -> None:
        type_passphrase(qtbot, dialog, PASS)
        type_passphrase(qtbot, dialog, PASS + "x", "again")
        button(dialog, "OK").click()
        problem = dialog.findChild(QLabel, "passphraseProblem")
        assert problem is not None and problem.text() == "The two passphrases differ."
        assert dialog.isVisible()  # the dialog stays open to correct it
        type_passphrase(qtbot, dialog, PASS, "again")
        remember = dialog.findChild(QCheckBox, "remember")
        assert remember is not None and not remember.isChecked()
        button(dialog, "OK").click()

    dialogs.then(mismatched)
    actions.encrypt_action.trigger()
    assert not path.read_bytes().startswith(SQLITE_MAGIC)
    assert not actions.encrypt_action.isEnabled()
    assert actions.decrypt_action.isEnabled() and actions.rekey_action.isEnabled()
    assert "encrypted and saved" in window.statusBar().currentMessage()
    passphrase.forget_all()
    passphrase.try_passphrase(path, PASS)  # the file opens with it

    dialogs.click("Yes")
    actions.decrypt_action.trigger()
    assert "unencrypted" in dialogs.seen[-1]
    assert path.read_bytes().startswith(SQLITE_MAGIC)
    assert actions.encrypt_action.isEnabled()


def test_merging_a_colleagues_encrypted_copy_into_a_plain_one(
    window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ztmm_desktop.services import encryption
    from ztmm_desktop.ui.deliverables.merge import MergeDialog

    mine = tmp_path / "mine.ztmm"
    create_engagement(mine, Properties(client="Contoso")).close()
    theirs = tmp_path / "theirs.ztmm"
    theirs.write_bytes(mine.read_bytes())
    with open_engagement(theirs) as copy:
        encryption.encrypt(copy, PASS)
        copy.assess(AUTH, ratings={Stage.INITIAL: Rating.MET}, comments={Stage.INITIAL: "seen in the workshop"})
        copy.save()
    passphrase.forget_all()
    assert window.open_path(mine)
    engagement = window.engagement
    assert engagement is not None

    def merge(dialog: QWidget) -> None:
        assert isinstance(dialog, MergeDialog)
        assert dialog.applied.topLevelItemCount() == 2
        dialog.buttons.accepted.emit()

    no_file_dialog(monkeypatch, theirs)
    dialogs.then(unlock_with(qtbot, PASS)).then(merge)
    window.deliverables.merge_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=20_000)
    assert engagement.assessment(AUTH).rating(Stage.INITIAL).comment == "seen in the workshop"
    # undo and redo open their copy again without asking: it was unlocked in this session
    window.undo_stack.undo()
    window.undo_stack.redo()
    assert engagement.assessment(AUTH).rating(Stage.INITIAL).rating is Rating.MET


def test_unsaved_work_of_a_killed_window_on_an_encrypted_engagement_is_recovered_with_its_passphrase(
    window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot, tmp_path: Path, data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from tests.ui.test_recovery import crash_after_editing

    path = tmp_path / "workshop.ztmm"
    create_engagement(path, Properties(client="Crash Ltd"), key=passphrase.new_key(PASS)).close()
    passphrase.forget_all()
    monkeypatch.setenv("ZTMM_PASSPHRASE", PASS)  # the killed window's session opened it with this
    crash_after_editing(path)
    monkeypatch.delenv("ZTMM_PASSPHRASE")
    marker = b"Depots are flat; typed before the crash"
    assert holding([tmp_path, data_dir], marker) == []  # the working copy left behind is encrypted
    dialogs.click("Recover").then(unlock_with(qtbot, PASS))
    window.offer_recovery()
    engagement = window.engagement
    assert engagement is not None and engagement.path == path
    assert engagement.assessment("3.1").rating(Stage.INITIAL).comment == marker.decode()
    assert window.save_now()
    assert holding([tmp_path, data_dir], marker) == []
    assert not path.read_bytes().startswith(SQLITE_MAGIC)


def test_opening_an_encrypted_engagement_derives_its_key_and_checks_it_off_the_ui_thread(
    window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from PySide6.QtCore import QTimer

    from ztmm_desktop.store import document as docmod
    from ztmm_desktop.store.connect import Key

    path = tmp_path / "secret.ztmm"
    create_engagement(path, Properties(client="Contoso"), key=passphrase.new_key(PASS)).close()
    passphrase.forget_all()
    seen: dict[str, object] = {}
    ui_thread = threading.current_thread()
    alive = threading.Event()  # set by a timer on the UI thread, each time its event loop runs
    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(alive.set)
    derive = Key.derive.__func__  # type: ignore[attr-defined]

    def recording_derive(cls: type[Key], secret: str, salt: bytes | None = None) -> Key:
        seen.setdefault("derived on", threading.current_thread())
        return derive(cls, secret, salt)  # type: ignore[no-any-return]

    gate_in_place = docmod._gate_in_place

    def watched_gate(*args: object, **kwargs: object) -> int:
        seen["gated on"] = threading.current_thread()
        alive.clear()
        seen["window went on meanwhile"] = alive.wait(20)  # only if the UI thread keeps running its loop
        return gate_in_place(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Key, "derive", classmethod(recording_derive))
    monkeypatch.setattr(docmod, "_gate_in_place", watched_gate)

    def answer(dialog: QWidget) -> None:
        seen["asked on"] = threading.current_thread()
        unlock_with(qtbot, PASS)(dialog)

    dialogs.then(answer)
    heartbeat.start()
    try:
        assert window.open_path(path)
    finally:
        heartbeat.stop()
    assert seen["asked on"] is ui_thread  # the dialog is the window's
    assert seen["derived on"] is not ui_thread and seen["gated on"] is not ui_thread
    assert seen["window went on meanwhile"] is True
    engagement = window.engagement
    assert engagement is not None and engagement.document.partial  # records only, the bytes stay in the document
