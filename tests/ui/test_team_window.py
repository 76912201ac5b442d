"""The window with the team server, driven as a consultant would, against a real PostgreSQL cluster:
the start page's server list, opening and saving a server engagement, a save refused because someone
else saved (and the merge that follows), merging either way, publishing, taking a copy offline."""

# ruff: noqa: F811  (the team fixtures ``server`` and ``realistic`` are imported, and named by the tests)
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests.conftest import run_cli
from tests.server.conftest import realistic, server  # noqa: F401  (the team fixtures, for the window's tests)
from tests.support.team import Server
from tests.ui.conftest import DialogAnswerer, no_file_dialog
from tests.ui.test_geometry import cut_off
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.server.url import ServerUrl, parse
from ztmm_desktop.services import server_copy
from ztmm_desktop.ui.deliverables.merge import MergeDialog
from ztmm_desktop.ui.shell.main_window import MainWindow
from ztmm_desktop.ui.team.dialogs import ServerAddressDialog

pytestmark = pytest.mark.gui

KEYS = {Rating.MET: Qt.Key.Key_1, Rating.PARTIAL: Qt.Key.Key_2, Rating.NOT_MET: Qt.Key.Key_3}


@pytest.fixture
def team(server: Server, realistic: Path, tmp_path: Path) -> Iterator[tuple[Server, str, str]]:
    """The realistic engagement published by a lead; (server, lead login, engagement id)."""
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    source = tmp_path / "source.ztmm"
    shutil.copyfile(realistic, source)
    done = run_cli("publish", source, server.url(lead, engagement), env=server.env(lead))
    assert done.returncode == 0, done.stderr
    yield server, lead, engagement


def _with_password(server: Server, role: str, engagement: str | None = None) -> ServerUrl:
    return replace(parse(server.url(role, engagement)), password=server.passwords[role])


def server_rating(server: Server, role: str, engagement: str, function: str, stage: Stage) -> Rating:
    copy = server_copy.open_copy(_with_password(server, role, engagement))
    try:
        return copy.engagement.assessment(function).rating(stage).rating
    finally:
        copy.close()


def address_answer(address: str, engagement: str | None = None) -> Callable[[QWidget], None]:
    """Type the server's address (and the engagement's id) into the address dialog and press its button."""

    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, ServerAddressDialog), dialog
        line = dialog.address.lineEdit()
        assert line is not None
        line.clear()
        line.insert(address)
        if engagement is not None:
            assert dialog.engagement is not None
            dialog.engagement.clear()
            dialog.engagement.insert(engagement)
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    return answer


def password_answer(password: str, seen: list[str] | None = None) -> Callable[[QWidget], None]:
    def answer(dialog: QWidget) -> None:
        assert dialog.windowTitle() == "Server password", dialog.windowTitle()
        if seen is not None:
            seen.append(" ".join(label.text() for label in dialog.findChildren(QLabel)))
        field = dialog.findChild(QLineEdit, "password")
        assert field is not None and field.echoMode() == QLineEdit.EchoMode.Password
        field.insert(password)
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    return answer


def click_button(text: str) -> Callable[[QWidget], None]:
    def press(dialog: QWidget) -> None:
        for button in dialog.findChildren(QPushButton):
            if button.text().replace("&", "") == text:
                button.click()
                return
        raise AssertionError(f"no button {text!r}")

    return press


def rate(qtbot: QtBot, window: MainWindow, function_id: str, stage: Stage, rating: Rating) -> None:
    """Pick the function in the tree and press the rating's key on the stage, as a consultant does."""
    bench = window.workbench
    assert bench is not None
    bench.select_function(function_id)
    box = bench.page.stage_boxes[stage]
    box.setFocus()
    qtbot.keyClick(box, KEYS[rating])


def save(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()  # after a dialog: the shortcut goes to the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)


def test_the_start_page_lists_the_server_engagements_and_opens_and_saves_one(
    team: tuple[Server, str, str], window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot
) -> None:
    server, lead, engagement = team
    password = server.passwords[lead]
    window.team.live_enabled = False  # the copy saved whole (live editing: test_team_live_edit.py)
    section = window.start_page.server_section
    address = server.url(lead)
    typed = address.replace(f"{lead}@", f"{lead}:{password}@")  # pasted with its password: taken out
    dialogs.then(address_answer(typed))
    qtbot.mouseClick(section.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: section.list.topLevelItemCount() == 1, timeout=30000)
    assert "password was taken out" in window.statusBar().currentMessage()
    assert window.settings.team_servers() == [address]
    window.settings.sync()
    stored = (Path(os.environ["ZTMM_DATA_DIR"]) / "settings.ini").read_text(encoding="utf-8")
    assert address in stored and password not in stored
    item = section.list.topLevelItem(0)
    client, title, dates, progress, role = (item.text(i) for i in range(5))
    assert role == "lead" and progress.endswith("%") and progress != "0%"

    section.list.setFocus()  # Enter opens it
    section.list.setCurrentItem(item)
    qtbot.keyClick(section.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.team.copy is not None, timeout=30000)
    display = parse(server.url(lead, engagement)).display
    assert window.windowTitle().startswith(f"{display}[*] — lead — ")
    status = window.team.server_label
    assert status.isVisible() and status.text() == f"{engagement} · lead"
    assert display in status.toolTip()
    for shown in (window.windowTitle(), status.text(), status.toolTip()):
        assert password not in shown
    assert window.save_action.isEnabled() and not window.workbench.banner.isVisible()  # type: ignore[union-attr]
    assert not window.encryption.encrypt_action.isEnabled()  # the server's copy is no file to encrypt
    assert not window.team.publish_action.isEnabled() and not window.team.merge_into_action.isEnabled()
    assert window.engagement is not None and client == window.engagement.meta().client
    assert title == window.engagement.meta().title and dates.startswith(window.engagement.meta().start_date or "")

    engagement_row = window.engagement
    assert engagement_row is not None
    first = next(iter(engagement_row.functions_in_scope())).id
    before = server_rating(server, lead, engagement, first, Stage.OPTIMAL)
    wanted = Rating.PARTIAL if before != Rating.PARTIAL else Rating.MET
    rate(qtbot, window, first, Stage.OPTIMAL, wanted)
    assert window.isWindowModified()
    save(qtbot, window)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=30000)
    assert "Saved to" in window.statusBar().currentMessage()
    assert server_rating(server, lead, engagement, first, Stage.OPTIMAL) == wanted
    # Revert to saved: the engagement as the server has it
    rate(qtbot, window, first, Stage.OPTIMAL, Rating.NOT_MET if wanted != Rating.NOT_MET else Rating.MET)
    dialogs.click("Discard")
    window.revert_action.trigger()
    qtbot.waitUntil(lambda: window.team.copy is not None and not window.isWindowModified(), timeout=30000)
    assert window.engagement is not None
    assert window.engagement.assessment(first).rating(Stage.OPTIMAL).rating == wanted
    folder = window.team.copy.folder  # type: ignore[union-attr]
    window.close_action.trigger()
    assert window.team.copy is None and not folder.exists()  # the copy goes with the engagement


def test_the_server_list_asks_for_the_password_and_says_in_one_line_what_is_wrong(
    team: tuple[Server, str, str], window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot
) -> None:
    server, lead, _engagement = team
    password = server.passwords[lead]
    section = window.start_page.server_section
    address = server.url(lead)
    seen: list[str] = []
    dialogs.then(address_answer(address)).then(password_answer("not-the-password")).then(
        password_answer(password, seen)
    )
    qtbot.mouseClick(section.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: section.list.topLevelItemCount() == 1, timeout=30000)
    assert dialogs.done and "not accepted" in seen[0]

    def failure(typed: str) -> str:
        dialogs.then(address_answer(typed))
        qtbot.mouseClick(section.add_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: section.list.isHidden() and "Loading" not in section.message.text(), timeout=30000)
        text = section.message.text()
        assert "\n" not in text and password not in text and "not-the-password" not in text
        return text

    from tests.support.pg import free_port

    assert "Cannot connect to" in failure(f"postgresql://{lead}@127.0.0.1:{free_port()}/{server.db}")
    not_ours = f"postgresql://{lead}:{password}@{server.cluster.host}:{server.cluster.port}/postgres"
    assert "holds no ZTMM engagements (the DBA sets it up" in failure(not_ours)
    server.cluster.sql("UPDATE ztmm.alembic_version SET version_num = '9999'", db=server.db)
    section.servers.setCurrentIndex(section.servers.findText(address))
    qtbot.mouseClick(section.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "upgrade ztmm" in section.message.text(), timeout=30000)
    assert section.list.isHidden()
    assert password not in (Path(os.environ["ZTMM_DATA_DIR"]) / "settings.ini").read_text(encoding="utf-8")


def test_a_reviewer_opens_from_the_file_menu_and_the_window_is_read_only(
    team: tuple[Server, str, str], window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot
) -> None:
    server, lead, engagement = team
    reviewer = server.login("reviewer")
    added = run_cli(
        "server", "members", server.url(lead, engagement), "add", reviewer, "--as", "reviewer", env=server.env(lead)
    )
    assert added.returncode == 0, added.stderr
    dialogs.then(address_answer(server.url(reviewer), engagement)).then(password_answer(server.passwords[reviewer]))
    window.team.open_action.trigger()
    qtbot.waitUntil(lambda: window.team.copy is not None, timeout=30000)
    bench = window.workbench
    assert bench is not None
    assert "reviewer (read-only)" in window.windowTitle()
    assert bench.banner.isVisible() and "reviewer" in bench.banner.text()
    assert not window.save_action.isEnabled() and not window.deliverables.merge_action.isEnabled()
    assert "reviewer" in window.team.server_label.text()
    assert window.engagement is not None
    first = next(iter(window.engagement.functions_in_scope())).id
    before = window.engagement.assessment(first).rating(Stage.OPTIMAL).rating
    rate(qtbot, window, first, Stage.OPTIMAL, Rating.PARTIAL if before != Rating.PARTIAL else Rating.MET)
    assert window.engagement.assessment(first).rating(Stage.OPTIMAL).rating == before
    assert not window.isWindowModified()


def test_a_save_after_someone_else_saved_is_refused_and_the_merge_keeps_both(
    team: tuple[Server, str, str], window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot
) -> None:
    server, lead, engagement = team
    assessor = server.login("assessor")
    window.team.live_enabled = False  # the copy saved whole: a Save after someone else's is refused
    added = run_cli(
        "server", "members", server.url(lead, engagement), "add", assessor, "--as", "assessor", env=server.env(lead)
    )
    assert added.returncode == 0, added.stderr
    dialogs.then(address_answer(server.url(lead), engagement)).then(password_answer(server.passwords[lead]))
    window.team.open_action.trigger()
    qtbot.waitUntil(lambda: window.team.copy is not None, timeout=30000)
    assert window.engagement is not None
    functions = [f.id for f in window.engagement.functions_in_scope()]
    both, theirs_only = functions[5], functions[6]
    codes = {f.id: f.code for f in window.engagement.functions_in_scope()}
    # someone else saves first: the same stage differently, and another function
    for function, rating in ((both, "not-met"), (theirs_only, "met")):
        done = run_cli(
            "assess",
            server.url(assessor, engagement),
            codes[function],
            "--rate",
            f"optimal={rating}",
            "--by",
            "Other assessor",
            env=server.env(assessor),
        )
        assert done.returncode == 0, done.stderr
    rate(qtbot, window, both, Stage.OPTIMAL, Rating.PARTIAL)
    conflicts: list[str] = []

    def merge(dialog: QWidget) -> None:
        assert isinstance(dialog, MergeDialog)
        conflicts.extend(dialog.conflicts.topLevelItem(i).text(0) for i in range(dialog.conflicts.topLevelItemCount()))
        assert [c.currentText() for c in dialog.choices.values()] == ["Yours"]  # your work is kept unless you choose
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    dialogs.click("Yes").then(merge)
    save(qtbot, window)
    qtbot.waitUntil(lambda: dialogs.done and not window.isWindowModified(), timeout=60000)
    assert "someone else saved this engagement since you opened it" in dialogs.seen[-2]
    assert dialogs.seen[-1] == "Merge with the changes on the server"
    assert len(conflicts) == 1
    assert "merged in" in window.statusBar().currentMessage()
    assert server_rating(server, lead, engagement, both, Stage.OPTIMAL) == Rating.PARTIAL  # mine, chosen
    assert server_rating(server, lead, engagement, theirs_only, Stage.OPTIMAL) == Rating.MET  # theirs, kept
    assert window.engagement.assessment(theirs_only).rating(Stage.OPTIMAL).rating == Rating.MET  # shown here too
    rate(qtbot, window, theirs_only, Stage.INITIAL, Rating.NOT_MET)  # and the window goes on saving to the server
    save(qtbot, window)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=30000)
    assert server_rating(server, lead, engagement, theirs_only, Stage.INITIAL) == Rating.NOT_MET


def test_merge_from_the_server_into_the_open_file_and_from_it_into_the_server(
    team: tuple[Server, str, str], window: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot, tmp_path: Path
) -> None:
    server, lead, engagement = team
    laptop = tmp_path / "laptop.ztmm"
    done = run_cli("checkout", server.url(lead, engagement), laptop, env=server.env(lead))
    assert done.returncode == 0, done.stderr
    assert window.open_path(laptop)
    assert window.engagement is not None
    functions = list(window.engagement.functions_in_scope())
    online, offline = functions[7], functions[8]
    done = run_cli("assess", server.url(lead, engagement), online.code, "--rate", "optimal=met", env=server.env(lead))
    assert done.returncode == 0, done.stderr

    def merge(dialog: QWidget) -> None:
        assert isinstance(dialog, MergeDialog), dialogs.seen[-1]
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    # the server's work into the open file: the merge dialog, one undo step
    dialogs.then(address_answer(server.url(lead), engagement)).then(password_answer(server.passwords[lead]))
    dialogs.then(merge)
    window.team.merge_from_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=30000)
    assert window.engagement.assessment(online.id).rating(Stage.OPTIMAL).rating == Rating.MET
    assert window.undo_stack.undoText().startswith("Merge from")

    # the file's work into the server (the password given above is remembered for the session)
    was = window.engagement.assessment(offline.id).rating(Stage.OPTIMAL).rating
    wanted = Rating.NOT_MET if was != Rating.NOT_MET else Rating.PARTIAL
    rate(qtbot, window, offline.id, Stage.OPTIMAL, wanted)
    dialogs.click("Save").then(address_answer(server.url(lead), engagement)).then(merge)
    window.team.merge_into_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done, timeout=30000)
    assert "into" in window.statusBar().currentMessage()
    assert not window.isWindowModified()  # saved first, as asked
    assert server_rating(server, lead, engagement, offline.id, Stage.OPTIMAL) == wanted


def test_publish_from_the_window_then_take_the_server_engagement_offline(
    server: Server,
    realistic: Path,
    window: MainWindow,
    dialogs: DialogAnswerer,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lead = server.login("lead")
    source = tmp_path / "acme.ztmm"
    shutil.copyfile(realistic, source)
    assert window.open_path(source)
    published = f"pub_{server.db}"
    suggested: list[str] = []

    def publish(dialog: QWidget) -> None:
        assert isinstance(dialog, ServerAddressDialog) and dialog.engagement is not None
        suggested.append(dialog.engagement.text())
        address_answer(server.url(lead), published)(dialog)

    dialogs.then(publish).then(password_answer(server.passwords[lead]))
    window.team.publish_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done, timeout=30000)
    assert suggested[0] and suggested[0][0].isalpha()
    assert f"Published {source.name}" in window.statusBar().currentMessage()
    assert window.settings.team_servers() == [server.url(lead)]

    window.close_action.trigger()  # the start page lists it now
    section = window.start_page.server_section
    qtbot.waitUntil(lambda: section.list.topLevelItemCount() == 1, timeout=30000)
    where = section.list.visualItemRect(section.list.topLevelItem(0)).center()
    qtbot.mouseClick(section.list.viewport(), Qt.MouseButton.LeftButton, pos=where)  # a double-click opens it
    qtbot.mouseDClick(section.list.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: window.team.copy is not None, timeout=30000)
    assert window.team.copy.role == "lead"  # type: ignore[union-attr]

    offline = tmp_path / "offline.ztmm"
    no_file_dialog(monkeypatch, offline)
    window.save_as_action.trigger()
    assert offline.exists() and window.team.copy is None
    assert window.engagement is not None and window.engagement.path == offline
    assert window.windowTitle().startswith("offline.ztmm")
    assert "offline" in window.statusBar().currentMessage()


@pytest.mark.parametrize("size", [QSize(1024, 768), QSize(1280, 720)], ids=lambda s: f"{s.width()}x{s.height()}")
def test_the_start_page_with_the_server_list_and_a_server_engagement_fit_the_screen(
    team: tuple[Server, str, str],
    window: MainWindow,
    dialogs: DialogAnswerer,
    qtbot: QtBot,
    size: QSize,
    tmp_path: Path,
) -> None:
    server, lead, engagement = team
    window.resize(size)
    section = window.start_page.server_section
    dialogs.then(address_answer(server.url(lead))).then(password_answer(server.passwords[lead]))
    qtbot.mouseClick(section.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: section.list.topLevelItemCount() == 1, timeout=30000)
    QApplication.processEvents()
    assert cut_off(window) == []
    shots = Path(os.environ.get("ZTMM_SCREENSHOTS") or tmp_path)
    start = window.grab()
    assert start.save(str(shots / f"team-start-{size.width()}x{size.height()}.png"))
    window.team.open_url(parse(server.url(lead, engagement)))  # the password is known for this session
    assert window.team.copy is not None
    QApplication.processEvents()
    assert cut_off(window) == []
    assert window.grab().save(str(shots / f"team-open-{size.width()}x{size.height()}.png"))
    assert not isinstance(QApplication.activeModalWidget(), QDialog)
