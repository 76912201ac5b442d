"""The window started on a team server's address opens that engagement, as it opens a file given to it."""

# ruff: noqa: F811  (the team fixtures ``server`` and ``realistic`` are imported, and named by the tests)
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.conftest import run_cli
from tests.server.conftest import realistic, server  # noqa: F401  (the team fixtures)
from tests.support.team import Server
from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.services.engagement import open_engagement
from ztmm_desktop.ui.shell.main_window import MainWindow, start

pytestmark = pytest.mark.gui


def _close(window: MainWindow) -> None:
    window.tasks.wait()
    window.team.shutdown()
    if window.engagement is not None:
        window.engagement.close()
        window.engagement = None
    window.close()
    window.deleteLater()


def test_the_window_started_on_a_server_address_opens_that_engagement(
    qtbot: QtBot, server: Server, realistic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = server.login("lead")
    engagement = f"acme_{server.db}"
    source = tmp_path / "source.ztmm"
    shutil.copyfile(realistic, source)
    assert run_cli("publish", source, server.url(lead, engagement), env=server.env(lead)).returncode == 0
    monkeypatch.setenv("ZTMM_ASSESSOR", "Lead assessor")
    monkeypatch.setenv("PGPASSWORD", server.passwords[lead])
    window = start([server.url(lead, engagement)])
    try:
        assert window.opening is not None
        assert window.opening.message.text() == "Opening an engagement on the team server…"
        qtbot.waitUntil(lambda: window.engagement is not None, timeout=30000)
        assert window.team.copy is not None and window.team.copy.url.engagement == engagement
        with open_engagement(source, readonly=True) as published:
            assert window.engagement is not None
            assert window.engagement.meta().client == published.meta().client
            assert window.engagement.findings() == published.findings()
            assert published.meta().client in window.windowTitle()
    finally:
        _close(window)


def test_a_malformed_address_at_start_says_so_in_one_line_and_leaves_the_start_page(
    qtbot: QtBot, dialogs: DialogAnswerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTMM_ASSESSOR", "Lead assessor")
    dialogs.click("OK")
    window = start(["postgresql://lead@127.0.0.1:1/firm?engagement=acme&options=-csearch_path%3Devil"])
    try:
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.start_page, timeout=10000)
        assert len(dialogs.seen) == 1 and "options" in dialogs.seen[0]
        assert "\n" not in dialogs.seen[0].strip()
        assert window.engagement is None and window.team.copy is None
    finally:
        _close(window)
