"""Two windows on one engagement on the team server that save their copies whole (live editing off, as
for a window whose server refuses a live session; live editing: test_team_live_edit.py): a rating
saved in one appears in the other without anyone pressing anything, where its consultant was; a window
with unsaved work keeps it and says that the server changed (``server.watch``, the team controller;
docs/server.md)."""

# ruff: noqa: F811  (the team fixtures ``server`` and ``realistic`` are imported, and named by the tests)
from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from tests.conftest import run_cli
from tests.server.conftest import realistic, server  # noqa: F401  (the team fixtures)
from tests.support.team import Server
from tests.ui.test_team_window import _with_password, rate, save, server_rating, team  # noqa: F401
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.server.live import LiveSession
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

WAIT = 30_000  # generous: the CI machine is shared; this is no timing assertion


@pytest.fixture
def two(
    team: tuple[Server, str, str], window: MainWindow, second: MainWindow
) -> Iterator[tuple[Server, str, str, str]]:
    """Two assessors of the engagement, each with a window open on it; (server, engagement, login A, login B)."""
    server, lead, engagement = team
    logins = []
    for name in ("lead_a", "assessor_b"):
        login = server.login(name)
        added = run_cli(
            "server", "members", server.url(lead, engagement), "add", login, "--as", "assessor", env=server.env(lead)
        )
        assert added.returncode == 0, added.stderr
        logins.append(login)
    for win, login in zip((window, second), logins, strict=True):
        win.team.live_enabled = False  # the copy saved whole (a reviewer's window, a server without live)
        assert win.team.open_url(_with_password(server, login, engagement))
    yield server, engagement, logins[0], logins[1]
    window.team.closed()


def _wanted(window: MainWindow, function: str) -> Rating:
    assert window.engagement is not None
    was = window.engagement.assessment(function).rating(Stage.OPTIMAL).rating
    return Rating.PARTIAL if was != Rating.PARTIAL else Rating.MET


def test_a_rating_saved_in_one_window_appears_in_the_other_where_its_consultant_is(
    two: tuple[Server, str, str, str], window: MainWindow, second: MainWindow, qtbot: QtBot
) -> None:
    server, engagement, lead_a, _assessor_b = two
    assert window.engagement is not None and second.workbench is not None
    functions = [f.id for f in window.engagement.functions_in_scope()]
    shown, elsewhere = functions[3], functions[4]
    second.workbench.select_function(shown)  # the second consultant looks at the function the first consultant rates
    qtbot.waitUntil(lambda: window.team.watching and second.team.watching, timeout=WAIT)
    wanted = _wanted(window, shown)
    rate(qtbot, window, shown, Stage.OPTIMAL, wanted)
    save(qtbot, window)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=WAIT)
    assert server_rating(server, lead_a, engagement, shown, Stage.OPTIMAL) == wanted

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
    assert not second.isWindowModified()
    assert "Brought in the changes made on the server by lead_a" in second.statusBar().currentMessage()
    # the first consultant's own save brought nothing in to her window (it was hers)
    assert "Brought in" not in window.statusBar().currentMessage()

    # a change made through a live session reaches the window the same way, the second consultant still where he was
    with LiveSession.open(_with_password(server, lead_a, engagement), prompt=None) as live:
        base = live.engagement.assessment(elsewhere).ratings[Stage.INITIAL].rating
        other = Rating.NOT_MET if base != Rating.NOT_MET else Rating.MET
        live.rate(elsewhere, Stage.INITIAL, other, base=base)
    qtbot.waitUntil(
        lambda: (
            second.workbench is not None
            and second.workbench.model.assessment(elsewhere).rating(Stage.INITIAL).rating == other
        ),
        timeout=WAIT,
    )
    assert second.workbench.page.current_function_id == shown


def test_unsaved_work_is_kept_and_the_window_says_the_server_changed(
    two: tuple[Server, str, str, str], window: MainWindow, second: MainWindow, qtbot: QtBot
) -> None:
    _server, _engagement, _lead_a, _assessor_b = two
    assert window.engagement is not None
    functions = [f.id for f in window.engagement.functions_in_scope()]
    firsts_function, seconds_function = functions[3], functions[4]
    qtbot.waitUntil(lambda: window.team.watching and second.team.watching, timeout=WAIT)
    mine = _wanted(second, seconds_function)
    rate(qtbot, second, seconds_function, Stage.OPTIMAL, mine)  # the second consultant's edit, not saved
    assert second.isWindowModified()
    theirs = _wanted(window, firsts_function)
    rate(qtbot, window, firsts_function, Stage.OPTIMAL, theirs)
    save(qtbot, window)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=WAIT)
    qtbot.waitUntil(lambda: "Changed on the server by lead_a" in second.statusBar().currentMessage(), timeout=WAIT)
    assert "Save to merge" in second.statusBar().currentMessage()
    assert second.isWindowModified()
    assert second.engagement is not None
    assert second.engagement.assessment(seconds_function).rating(Stage.OPTIMAL).rating == mine  # kept, not overwritten
    assert second.workbench is not None and second.workbench.page.current_function_id == seconds_function
