"""Two windows editing one engagement on the team server live, as two assessors in the same workshop
(``services.live_mirror``, ``ui/team/live.py``; docs/server.md): an edit in one shows in the other
without Save, where its consultant was and without touching what they type; the same field changed in
both is a conflict to resolve, never overwritten; the server going away is said, and nothing is lost."""

# ruff: noqa: F811  (the team fixtures ``server``, ``realistic`` and ``own_server`` are imported, and named by the tests)
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.conftest import run_cli
from tests.server.conftest import realistic, server  # noqa: F401  (the team fixtures)
from tests.server.test_live_fault import own_server  # noqa: F401  (a cluster the test stops)
from tests.support.live import publish, url_with_password
from tests.support.team import Server
from tests.ui.conftest import DialogAnswerer
from tests.ui.test_geometry import cut_off
from tests.ui.test_team_window import _with_password, rate, save, team  # noqa: F401
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.server.live import LiveSession
from ztmm_desktop.server.url import parse
from ztmm_desktop.services import team as team_service
from ztmm_desktop.ui.editing.requests import FreezeBaseline, SetField, SetProperties
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

WAIT = 30_000  # generous: the machine is shared; this is no timing assertion


def _live(qtbot: QtBot, *windows: MainWindow) -> None:
    for win in windows:
        qtbot.waitUntil(
            lambda w=win: w.team.link is not None and w.team.link.mirror.online and w.team.watching, timeout=WAIT
        )


@pytest.fixture
def two(
    team: tuple[Server, str, str], window: MainWindow, second: MainWindow, qtbot: QtBot
) -> Iterator[tuple[Server, str, str, str, str]]:
    """Two assessors with a window each on the engagement, live; (server, engagement, lead, login A, login B)."""
    server, lead, engagement = team
    logins = []
    for name in ("assessor_a", "assessor_b"):
        login = server.login(name)
        added = run_cli(
            "server", "members", server.url(lead, engagement), "add", login, "--as", "assessor", env=server.env(lead)
        )
        assert added.returncode == 0, added.stderr
        logins.append(login)
    for win, login in zip((window, second), logins, strict=True):
        assert win.team.open_url(_with_password(server, login, engagement))
    _live(qtbot, window, second)
    yield server, engagement, lead, logins[0], logins[1]
    window.team.closed()


def _on_server(server: Server, login: str, engagement: str, table: str, key: str, name: str) -> object:
    with LiveSession.open(_with_password(server, login, engagement), prompt=None) as live:
        return live.value(table, key, name)


def _audit(server: Server, engagement: str, entity: str, key: str, name: str) -> list[tuple[object, ...]]:
    return server.cluster.sql(
        f'SELECT "by", old, new FROM "e_{engagement}".audit WHERE entity = %s AND key = %s AND field = %s ORDER BY id',
        (entity, key, name),
        db=server.db,
    )


def _notes(win: MainWindow, function: str) -> str:
    assert win.engagement is not None
    return win.engagement.assessment(function).notes


def _type_notes(qtbot: QtBot, win: MainWindow, function: str, text: str) -> None:
    """The consultant clicks into the function's notes and types, and is still typing (no pause yet)."""
    bench = win.workbench
    assert bench is not None
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=3000)
    bench.select_function(function)
    box = bench.page.notes_edit
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=3000)
    box.moveCursor(box.textCursor().MoveOperation.End)
    qtbot.keyClicks(box, text)
    box.pause.stop()  # their pause has not come: the text is not kept yet


def test_an_edit_in_one_window_shows_in_the_other_without_save_where_its_consultant_types(
    two: tuple[Server, str, str, str, str], window: MainWindow, second: MainWindow, qtbot: QtBot
) -> None:
    server, engagement, _lead, assessor_a, _assessor_b = two
    assert window.engagement is not None
    functions = [f.id for f in window.engagement.functions_in_scope()]
    shown = functions[3]
    _type_notes(qtbot, second, shown, " and the second consultant types")
    box = second.workbench.page.notes_edit  # type: ignore[union-attr]
    typed, cursor = box.toPlainText(), box.textCursor().position()
    was = window.engagement.assessment(shown).rating(Stage.OPTIMAL).rating
    wanted = Rating.PARTIAL if was != Rating.PARTIAL else Rating.MET
    rate(qtbot, window, shown, Stage.OPTIMAL, wanted)  # no Save
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=WAIT)  # sent as made: nothing to save

    def shown_in_second() -> bool:
        bench = second.workbench
        return (
            bench is not None
            and bench.page.stage_boxes[Stage.OPTIMAL].checked_rating() == wanted  # the page
            and bench.model.assessment(shown).rating(Stage.OPTIMAL).rating == wanted  # the tree
        )

    qtbot.waitUntil(shown_in_second, timeout=WAIT)
    bench = second.workbench
    assert bench is not None and bench.page.current_function_id == shown  # where the second consultant was
    assert box.hasFocus() and box.toPlainText() == typed and box.textCursor().position() == cursor  # typing kept
    assert "Brought in a change made on the server by" in second.statusBar().currentMessage()
    key = f"{shown}/{Stage.OPTIMAL.key}"
    assert _on_server(server, assessor_a, engagement, "stage_rating", key, "rating") == wanted.value
    ratings = [r for r in _audit(server, engagement, "stage", key, "rating") if r[2] == wanted.value]
    assert [r[0] for r in ratings] == [assessor_a]  # once, authored by the login that made it
    assert window.team.link is not None and not window.team.link.indicator.isVisible()  # online: nothing to say
    assert " — assessor, live — " in window.windowTitle()

    # the second consultant's typing, kept at its pause, reaches the first window the same way
    box.commit()
    qtbot.waitUntil(lambda: _notes(window, shown) == typed, timeout=WAIT)
    assert window.workbench is not None and window.workbench.page.current_function_id == shown


def test_the_same_notes_changed_in_both_windows_is_a_conflict_resolved_either_way(
    two: tuple[Server, str, str, str, str], window: MainWindow, second: MainWindow, qtbot: QtBot
) -> None:
    server, engagement, _lead, assessor_a, assessor_b = two
    assert window.engagement is not None
    function = [f.id for f in window.engagement.functions_in_scope()][2]
    field = ("function_assessment", function, "notes")
    original = _notes(second, function)
    link = second.team.link
    assert link is not None and link.bar is not None

    for keep in (True, False):
        theirs, mine = f"Theirs {keep}: MFA for admins only", f"Mine {keep}: MFA everywhere"
        _type_notes(qtbot, second, function, "")
        box = second.workbench.page.notes_edit  # type: ignore[union-attr]
        box.selectAll()
        qtbot.keyClicks(box, mine)
        box.pause.stop()
        window.request(SetField(function, "notes", theirs))  # the first consultant's notes, sent live
        qtbot.waitUntil(lambda: field in link.mirror.held_back, timeout=WAIT)
        assert box.toPlainText() == mine and _notes(second, function) == original  # nothing overwritten
        box.finish()  # the second consultant's text is kept: it meets theirs on the server
        qtbot.waitUntil(link.bar.isVisible, timeout=WAIT)
        shown = link.bar.text.text()
        assert "notes of" in shown and theirs in shown and mine in shown and assessor_a in shown
        assert _on_server(server, assessor_b, engagement, *field) == theirs  # nothing overwritten there either
        assert _notes(second, function) == mine and _notes(window, function) == theirs
        qtbot.mouseClick(link.bar.keep_button if keep else link.bar.take_button, Qt.MouseButton.LeftButton)
        agreed = mine if keep else theirs
        qtbot.waitUntil(
            lambda: _notes(window, function) == agreed and _notes(second, function) == agreed,  # noqa: B023
            timeout=WAIT,
        )
        assert _on_server(server, assessor_b, engagement, *field) == agreed
        assert not link.bar.isVisible()
        assert second.workbench is not None and second.workbench.page.notes_edit.toPlainText() == agreed
        original = agreed


def test_undo_of_a_live_edit_reaches_the_server_and_the_other_window(
    two: tuple[Server, str, str, str, str], window: MainWindow, second: MainWindow, qtbot: QtBot
) -> None:
    server, engagement, _lead, assessor_a, _assessor_b = two
    assert window.engagement is not None
    function = [f.id for f in window.engagement.functions_in_scope()][5]
    key = f"{function}/{Stage.ADVANCED.key}"
    was = window.engagement.assessment(function).rating(Stage.ADVANCED).rating
    wanted = Rating.NOT_MET if was != Rating.NOT_MET else Rating.MET

    def in_second(rating: Rating) -> bool:
        return (
            second.engagement is not None
            and second.engagement.assessment(function).rating(Stage.ADVANCED).rating == rating
        )

    rate(qtbot, window, function, Stage.ADVANCED, wanted)
    qtbot.waitUntil(lambda: in_second(wanted), timeout=WAIT)
    window.undo()
    qtbot.waitUntil(lambda: in_second(was), timeout=WAIT)
    assert _on_server(server, assessor_a, engagement, "stage_rating", key, "rating") == was.value
    window.redo()
    qtbot.waitUntil(lambda: in_second(wanted), timeout=WAIT)


def test_save_of_properties_after_live_edits_by_both_windows_is_not_refused(
    two: tuple[Server, str, str, str, str],
    window: MainWindow,
    second: MainWindow,
    qtbot: QtBot,
) -> None:
    server, engagement, _lead, _assessor_a, assessor_b = two
    assert window.engagement is not None and second.engagement is not None
    functions = [f.id for f in window.engagement.functions_in_scope()]
    rate(qtbot, window, functions[0], Stage.OPTIMAL, Rating.MET)
    second.request(SetField(functions[1], "notes", "Reviewed with the network team"))
    qtbot.waitUntil(lambda: _notes(window, functions[1]) == "Reviewed with the network team", timeout=WAIT)
    qtbot.waitUntil(
        lambda: (
            second.engagement is not None
            and second.engagement.assessment(functions[0]).rating(Stage.OPTIMAL).rating == Rating.MET
        ),
        timeout=WAIT,
    )
    # live edits are on the server as they are made: neither window has anything to save
    qtbot.waitUntil(lambda: not window.isWindowModified() and not second.isWindowModified(), timeout=WAIT)
    window.team.autosave_ms = 600_000  # the consultant's own Save, before any autosave
    properties = window.engagement.properties()
    window.request(SetProperties(replace(properties, title="Zero trust baseline, second round")))
    assert window.isWindowModified()  # what Save writes: the properties are not edited live
    window.request(SetField(functions[2], "owner", "Network team"))
    qtbot.wait(50)
    assert window.isWindowModified()  # a live edit after it leaves it unsaved
    save(qtbot, window)  # no "someone else saved": live edits are no Save of anyone's
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=WAIT)
    assert "Saved to" in window.statusBar().currentMessage()
    # the second window, with only live edits of its own, brings the Save in (nothing to merge)
    qtbot.waitUntil(
        lambda: second.engagement is not None and second.engagement.meta().title == "Zero trust baseline, second round",
        timeout=WAIT,
    )
    assert not second.isWindowModified()
    with LiveSession.open(_with_password(server, assessor_b, engagement), prompt=None) as live:
        assert live.engagement.meta().title == "Zero trust baseline, second round"
        assert live.value("function_assessment", functions[1], "notes") == "Reviewed with the network team"
    # each live edit's audit row is on the server once: the Save sent none of them again
    assert len(_audit(server, engagement, "function", functions[1], "notes")) == 1


def test_an_edit_the_server_refuses_is_one_line_and_changes_nothing(
    two: tuple[Server, str, str, str, str], window: MainWindow, second: MainWindow, qtbot: QtBot
) -> None:
    server, engagement, lead, _assessor_a, assessor_b = two
    assert second.engagement is not None
    function = [f.id for f in second.engagement.functions_in_scope()][4]
    was = second.engagement.assessment(function).rating(Stage.INITIAL).rating
    wanted = Rating.NOT_MET if was != Rating.NOT_MET else Rating.MET
    # meanwhile the lead makes the second consultant a reviewer: the server refuses their edits
    team_service.set_member(_with_password(server, lead, engagement), assessor_b, "reviewer", prompt=None)
    rate(qtbot, second, function, Stage.INITIAL, wanted)
    qtbot.waitUntil(lambda: "Not changed on the server" in second.statusBar().currentMessage(), timeout=WAIT)
    message = second.statusBar().currentMessage()
    assert "\n" not in message and "may not change this engagement" in message
    qtbot.waitUntil(lambda: second.engagement.assessment(function).rating(Stage.INITIAL).rating == was, timeout=WAIT)  # type: ignore[union-attr]
    key = f"{function}/{Stage.INITIAL.key}"
    assert _on_server(server, lead, engagement, "stage_rating", key, "rating") == was.value


def test_offline_the_window_says_so_keeps_the_edits_and_sends_them_once_when_the_server_is_back(
    own_server: Server,
    realistic: Path,
    tmp_path: Path,
    window: MainWindow,
    second: MainWindow,
    dialogs: DialogAnswerer,
    qtbot: QtBot,
) -> None:
    published, more = publish(own_server, realistic, tmp_path, assessors=2)
    engagement = published.engagement
    for win, login in zip((window, second), more, strict=True):
        assert win.team.open_url(parse(url_with_password(own_server, login, engagement)))
    _live(qtbot, window, second)
    assert window.engagement is not None
    functions = [f.id for f in window.engagement.functions_in_scope()][:4]
    window.request(SetField(functions[0], "notes", "Before the outage"))
    qtbot.waitUntil(lambda: _notes(second, functions[0]) == "Before the outage", timeout=WAIT)

    own_server.cluster.stop("immediate")  # mid-session: no goodbye to the clients
    made = {fid: f"Written offline {n}" for n, fid in enumerate(functions)}
    for fid, text in made.items():
        window.request(SetField(fid, "notes", text))  # each a local edit at once, the window never waits
    rate(qtbot, window, functions[1], Stage.OPTIMAL, Rating.NOT_MET)
    link = window.team.link
    assert link is not None
    qtbot.waitUntil(lambda: link.indicator.text().startswith("Offline — "), timeout=WAIT)
    qtbot.waitUntil(lambda: link.mirror.kept == len(made) + 1, timeout=WAIT)
    assert link.indicator.text() == f"Offline — {len(made) + 1} edits kept on this computer"
    assert "sent in order once it is back" in link.indicator.toolTip()
    assert link.indicator.isVisible() and not window.team.server_label.isVisible()
    for fid, text in made.items():
        assert _notes(window, fid) == text  # the work goes on locally
    dialogs.click("Cancel")  # closing now says where the edits are
    assert not window.maybe_close_engagement()
    assert "5 edits made here are kept on this computer and sent the next time" in dialogs.seen[-1]

    own_server.cluster.restart()
    qtbot.waitUntil(lambda: not link.indicator.isVisible() and link.mirror.kept == 0, timeout=60_000)
    assert window.team.server_label.isVisible()

    def all_in_second() -> bool:
        return (
            all(_notes(second, fid) == text for fid, text in made.items())
            and second.engagement is not None
            and second.engagement.assessment(functions[1]).rating(Stage.OPTIMAL).rating == Rating.NOT_MET
        )

    qtbot.waitUntil(all_in_second, timeout=60_000)
    engagement_schema = f"e_{engagement}"
    for fid, text in made.items():
        rows = own_server.cluster.sql(
            f'SELECT "by" FROM "{engagement_schema}".audit WHERE entity = %s AND key = %s AND field = %s AND new = %s',
            ("function", fid, "notes", text),
            db=own_server.db,
        )
        assert [r[0] for r in rows] == [more[0]]  # on the server once, authored by its login
    second.team.closed()  # its session ends before this test's own cluster goes


@pytest.mark.parametrize("size", [QSize(1024, 768), QSize(1280, 720)], ids=["1024x768", "1280x720"])
def test_the_conflict_bar_and_the_offline_line_fit_a_small_screen(
    own_server: Server, realistic: Path, tmp_path: Path, window: MainWindow, qtbot: QtBot, size: QSize
) -> None:
    published, more = publish(own_server, realistic, tmp_path, assessors=2)
    engagement = published.engagement
    window.resize(size)
    assert window.team.open_url(parse(url_with_password(own_server, more[0], engagement)))
    _live(qtbot, window)
    assert window.engagement is not None
    function = [f.id for f in window.engagement.functions_in_scope()][1]
    link = window.team.link
    assert link is not None and link.bar is not None
    _type_notes(qtbot, window, function, " Admin accounts share one password vault")
    field = ("function_assessment", function, "notes")
    with LiveSession.open(url_with_password(own_server, more[1], engagement), prompt=None) as other:
        other.assess(function, "notes", "Vault reviewed: no shared admin accounts", base=other.value(*field))
    qtbot.waitUntil(lambda: field in link.mirror.held_back, timeout=WAIT)
    window.workbench.page.notes_edit.finish()  # type: ignore[union-attr]
    qtbot.waitUntil(link.bar.isVisible, timeout=WAIT)
    own_server.cluster.stop("immediate")
    was = window.engagement.assessment(function).rating(Stage.INITIAL).rating
    rate(qtbot, window, function, Stage.INITIAL, Rating.PARTIAL if was != Rating.PARTIAL else Rating.MET)
    qtbot.waitUntil(lambda: link.indicator.isVisible() and link.mirror.kept == 1, timeout=WAIT)
    window.statusBar().clearMessage()  # the status bar as it stays: the roll-up beside the offline line
    QApplication.processEvents()
    shots = Path(os.environ.get("ZTMM_SCREENSHOTS") or tmp_path)
    name = f"team-live-conflict-offline-{size.width()}x{size.height()}.png"
    assert window.grab().save(str(shots / name))
    assert cut_off(window) == []
    own_server.cluster.restart()
    qtbot.waitUntil(lambda: link.mirror.kept == 0 and not link.indicator.isVisible(), timeout=60_000)


def test_a_save_refused_because_someone_else_saved_merges_and_the_window_goes_on_live(
    two: tuple[Server, str, str, str, str],
    window: MainWindow,
    second: MainWindow,
    dialogs: DialogAnswerer,
    qtbot: QtBot,
) -> None:
    server, engagement, _lead, _assessor_a, assessor_b = two
    assert window.engagement is not None and second.engagement is not None
    functions = [f.id for f in window.engagement.functions_in_scope()]
    window.team.autosave_ms = second.team.autosave_ms = 600_000  # each consultant's own Save
    properties = window.engagement.properties()
    window.request(SetProperties(replace(properties, title="After the workshop")))  # unsaved here
    second.request(FreezeBaseline("Before the workshop"))  # not live: written by the second window's Save
    save(qtbot, second)
    qtbot.waitUntil(lambda: not second.isWindowModified(), timeout=WAIT)
    dialogs.click("Yes")  # "someone else saved": merge their changes with mine
    save(qtbot, window)
    qtbot.waitUntil(lambda: dialogs.done and not window.isWindowModified(), timeout=60_000)
    assert "someone else saved this engagement since you opened it" in dialogs.seen[-1]
    with LiveSession.open(_with_password(server, assessor_b, engagement), prompt=None) as live:
        assert live.engagement.meta().title == "After the workshop"  # mine
    frozen = server.cluster.sql(f'SELECT name FROM "e_{engagement}".baseline', db=server.db)
    assert ("Before the workshop",) in frozen  # and theirs, kept
    # the merged copy is the window's, still live: an edit in it reaches the other window
    window.request(SetField(functions[7], "notes", "Merged and still live"))
    qtbot.waitUntil(lambda: _notes(second, functions[7]) == "Merged and still live", timeout=WAIT)
    assert window.team.link is not None and window.team.link.mirror.engagement is window.engagement
