"""A reviewer comments on a finding through the window; an assessor's window on the same engagement shows
the comment within moments, under the finding, without re-reading the engagement (``ui/team/comments.py``,
the function page's comments; docs/server.md)."""

# ruff: noqa: F811  (the team fixtures ``server`` and ``realistic`` are imported, and named by the tests)
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests.conftest import run_cli
from tests.server.conftest import realistic, server  # noqa: F401  (the team fixtures)
from tests.support.team import Server
from tests.ui.conftest import DialogAnswerer
from tests.ui.test_team_window import _with_password, team  # noqa: F401
from ztmm_desktop.services import comments
from ztmm_desktop.ui.function.comments import CommentDialog
from ztmm_desktop.ui.function.page import COMMENTS_COLUMN
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

WAIT = 30_000  # generous: the CI machine is shared; this is no timing assertion


def _function_with_findings(window: MainWindow) -> str:
    assert window.engagement is not None
    return next(f.function_id for f in window.engagement.findings())


def _comment_texts(window: MainWindow) -> list[str]:
    bench = window.workbench
    assert bench is not None
    section = bench.page.comments_section
    return [label.text() for entry in section.entries for label in entry.findChildren(QLabel)]


def _select_first_finding(window: MainWindow, function: str) -> str:
    bench = window.workbench
    assert bench is not None
    bench.select_function(function)
    listing = bench.page.findings_list
    item = listing.topLevelItem(0)
    assert item is not None
    listing.setCurrentItem(item)
    return str(item.data(0, Qt.ItemDataRole.UserRole))


def test_a_reviewer_comments_through_the_window_and_an_assessors_window_shows_it(
    team: tuple[Server, str, str],
    window: MainWindow,
    second: MainWindow,
    dialogs: DialogAnswerer,
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    server, lead, engagement = team
    reviewer, assessor = server.login("reviewer"), server.login("assessor")
    for login, role in ((reviewer, "reviewer"), (assessor, "assessor")):
        added = run_cli(
            "server", "members", server.url(lead, engagement), "add", login, "--as", role, env=server.env(lead)
        )
        assert added.returncode == 0, added.stderr
    assert window.team.open_url(_with_password(server, reviewer, engagement))
    assert second.team.open_url(_with_password(server, assessor, engagement))
    qtbot.waitUntil(lambda: window.team.watching and second.team.watching, timeout=WAIT)
    assert window.engagement is not None and window.engagement.readonly  # a reviewer's window: read-only

    function = _function_with_findings(window)
    finding = _select_first_finding(window, function)
    assert _select_first_finding(second, function) == finding
    bench = window.workbench
    assert bench is not None
    page = bench.page
    qtbot.waitUntil(lambda: page.comments == {}, timeout=WAIT)  # read: none yet
    assert not page.findings_list.isColumnHidden(COMMENTS_COLUMN)
    assert not page.add_finding_button.isEnabled()  # read-only for everything else …
    button = page.comments_section.comment_button
    assert isinstance(button, QPushButton) and button.isEnabled()  # … but a comment is possible

    text = "The observation names no system; which one was seen?"

    def write(dialog: QWidget) -> None:
        assert isinstance(dialog, CommentDialog), dialog
        dialog.text_edit.setPlainText(text)
        dialog.ok_button.click()

    dialogs.then(write)
    button.click()
    qtbot.waitUntil(lambda: text in _comment_texts(window), timeout=WAIT)
    item = page.findings_list.topLevelItem(0)
    assert item is not None and item.text(COMMENTS_COLUMN) == "1"
    assert any(t.startswith(f"{reviewer} · ") for t in _comment_texts(window))

    # the assessor's window shows it under the same finding, with its author, and brought nothing else in
    qtbot.waitUntil(lambda: text in _comment_texts(second), timeout=WAIT)
    assert any(t.startswith(f"{reviewer} · ") and t.endswith(" UTC") for t in _comment_texts(second))
    second_bench = second.workbench
    assert second_bench is not None
    seconds_item = second_bench.page.findings_list.topLevelItem(0)
    assert seconds_item is not None and seconds_item.text(COMMENTS_COLUMN) == "1"
    assert not second.isWindowModified()
    assert "Brought in" not in second.statusBar().currentMessage()
    assert [(c.by, c.text) for c in comments.read_comments(_with_password(server, lead, engagement))] == [
        (reviewer, text)
    ]

    # the window at 1024 × 768 with the comments showing (looked at by eye; kept when asked)
    window.resize(1024, 768)
    page.reveal("findings")
    qtbot.wait(200)
    shot = window.grab()
    assert shot.width() == 1024
    keep = os.environ.get("ZTMM_SHOTS")
    shot.save(str(Path(keep) / "comments-window.png") if keep else str(tmp_path / "comments-window.png"))


def test_a_file_shows_no_comments(window: MainWindow, realistic: Path, tmp_path: Path) -> None:
    import shutil

    path = tmp_path / "local.ztmm"
    shutil.copyfile(realistic, path)
    assert window.open_path(path) is not False
    bench = window.workbench
    assert bench is not None
    bench.select_function(_function_with_findings(window))
    assert bench.page.comments is None
    assert bench.page.findings_list.isColumnHidden(COMMENTS_COLUMN)
    assert not bench.page.comments_section.isVisibleTo(bench.page)


def test_an_export_from_the_window_carries_the_comments_only_when_the_consultant_says_so(
    team: tuple[Server, str, str],
    window: MainWindow,
    dialogs: DialogAnswerer,
    qtbot: QtBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import openpyxl
    from PySide6.QtGui import QDesktopServices

    from tests.ui.conftest import no_file_dialog

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: True))
    server, lead, engagement = team
    assert window.team.open_url(_with_password(server, lead, engagement))
    assert window.engagement is not None
    finding = window.engagement.findings()[0]
    text = "Which system was the observation made on?"
    comments.add_comment(_with_password(server, lead, engagement), finding.id, text, prompt=None)
    window.team.comments.reload()
    qtbot.waitUntil(lambda: bool(window.review_comments()), timeout=WAIT)

    def comment_cells(path: Path) -> list[str]:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            return [str(c) for row in book["Findings"].iter_rows(values_only=True) for c in row if c and text in str(c)]
        finally:
            book.close()

    # the default button leaves them out: the client's workbook has no review notes
    left_out = tmp_path / "client.xlsx"
    no_file_dialog(monkeypatch, left_out)
    dialogs.click("Leave them out").click("Close")
    window.deliverables.workbook_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=WAIT)
    assert "internal review notes" in dialogs.seen[0] and "1 comment" in dialogs.seen[0]
    assert comment_cells(left_out) == []

    included = tmp_path / "review.xlsx"
    no_file_dialog(monkeypatch, included)
    dialogs.click("Include them").click("Close")
    window.deliverables.workbook_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done and not window.tasks.busy, timeout=WAIT)
    assert len(comment_cells(included)) == 1

    # Cancel writes nothing and asks for no file
    cancelled = tmp_path / "cancelled.pdf"
    no_file_dialog(monkeypatch, cancelled)
    dialogs.click("Cancel")
    window.deliverables.report_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done, timeout=WAIT)
    assert not window.tasks.busy and not cancelled.exists()
