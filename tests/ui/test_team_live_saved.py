"""Two windows on one engagement on the team server, live, and what is not edited field by field
(properties, evidence, workshops…; ``SAVED_WHEN_LIVE``): each window saves it by itself a moment after
the last edit, and the other brings it in place, without re-reading the engagement and without touching
what its consultant types; two such saves at once are merged when they do not conflict, and the
consultant chooses when they do; offline, the save waits for the server (docs/server.md, "The window")."""

# ruff: noqa: F811  (the team fixtures are imported, and named by the tests)
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget
from pytestqt.qtbot import QtBot

from tests.server.conftest import realistic, server  # noqa: F401  (the team fixtures)
from tests.server.test_live_fault import own_server  # noqa: F401  (a cluster the test stops)
from tests.support.live import publish, url_with_password
from tests.support.team import Server
from tests.ui.conftest import DialogAnswerer
from tests.ui.test_team_live_edit import WAIT, _live, _type_notes, two  # noqa: F401  (``second``: tests/ui/conftest.py)
from tests.ui.test_team_window import _with_password, save, team  # noqa: F401
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.server.live import LiveSession
from ztmm_desktop.server.url import parse
from ztmm_desktop.services import evidence, workshops
from ztmm_desktop.services import team as team_service
from ztmm_desktop.ui.deliverables.merge import MergeDialog
from ztmm_desktop.ui.editing.requests import AddWorkshop, SetProperties, StartWorkshop
from ztmm_desktop.ui.evidence.pane import EVIDENCE_ID_ROLE
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

Two = tuple[Server, str, str, str, str]


def _title(win: MainWindow) -> str:
    assert win.engagement is not None
    return win.engagement.meta().title


def _on_server(server: Server, login: str, engagement: str) -> tuple[str, str]:
    with LiveSession.open(_with_password(server, login, engagement), prompt=None) as live:
        meta = live.engagement.meta()
        return meta.title, meta.client


def _set(win: MainWindow, **fields: str) -> None:
    assert win.engagement is not None
    win.request(SetProperties(replace(win.engagement.properties(), **fields)))


def test_a_property_changed_in_one_window_shows_in_the_other_with_nobody_saving_while_its_consultant_types(
    two: Two, window: MainWindow, second: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    server, engagement, _lead, assessor_a, assessor_b = two
    for win in (window, second):
        win.resize(QSize(1024, 768))
    assert second.engagement is not None
    shown = [f.id for f in second.engagement.functions_in_scope()][3]
    _type_notes(qtbot, second, shown, " and the second consultant types")
    box = second.workbench.page.notes_edit  # type: ignore[union-attr]
    typed, cursor = box.toPlainText(), box.textCursor().position()
    rereads = []
    second.team._reread = lambda author: rereads.append(author)  # type: ignore[method-assign]  # never the whole engagement

    _set(window, title="Zero trust, second round")  # and nobody presses Save
    assert window.isWindowModified()  # until it is saved by itself
    qtbot.waitUntil(lambda: _title(second) == "Zero trust, second round", timeout=WAIT)

    assert not window.isWindowModified() and window.statusBar().currentMessage() in ("Saved.", "")
    assert _on_server(server, assessor_b, engagement)[0] == "Zero trust, second round"
    bench = second.workbench
    assert bench is not None and bench.page.current_function_id == shown  # where the consultant was
    assert box is bench.page.notes_edit  # the page was not rebuilt
    assert box.hasFocus() and box.toPlainText() == typed and box.textCursor().position() == cursor  # typing kept
    assert f"Brought in {assessor_a}'s Save." in second.statusBar().currentMessage()
    assert not second.isWindowModified() and rereads == []
    shots = Path(os.environ.get("ZTMM_SCREENSHOTS") or tmp_path)
    QApplication.processEvents()
    for win, name in ((window, "a"), (second, "b")):
        assert win.grab().save(str(shots / f"team-live-saved-{name}-1024x768.png"))
    # the typing, kept at its pause, still goes live
    box.commit()
    qtbot.waitUntil(lambda: window.engagement.assessment(shown).notes == typed, timeout=WAIT)  # type: ignore[union-attr]


def test_evidence_attached_in_one_window_shows_in_the_others_evidence_list_with_its_bytes(
    two: Two, window: MainWindow, second: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    assert window.engagement is not None and second.engagement is not None
    function = [f.id for f in second.engagement.functions_in_scope()][2]
    bench = second.workbench
    assert bench is not None
    bench.select_function(function)
    second.show_tab(1)  # the second consultant looks at the function's evidence
    source = tmp_path / "conditional-access.json"
    data = b'{"policy": "require MFA", "scope": "all users"}\n' * 3000
    source.write_bytes(data)
    window.attach_files([source], evidence.EvidenceLink(function_id=function, stage=Stage.ADVANCED))

    def listed() -> str | None:
        found = [e.id for e in evidence.list_evidence(second.engagement) if e.original_name == source.name]  # type: ignore[arg-type]
        return found[0] if found else None

    qtbot.waitUntil(lambda: listed() is not None, timeout=WAIT)
    evidence_id = listed()
    assert evidence.read_bytes(second.engagement, evidence_id, len(data) + 1) == data  # type: ignore[arg-type]
    model = bench.evidence.model
    qtbot.waitUntil(
        lambda: any(model.index(r, 0).data(EVIDENCE_ID_ROLE) == evidence_id for r in range(model.rowCount())),
        timeout=WAIT,
    )
    assert not window.isWindowModified() and not second.isWindowModified()


def test_a_workshop_started_in_one_window_shows_running_in_the_other(
    two: Two, window: MainWindow, second: MainWindow, qtbot: QtBot
) -> None:
    assert window.engagement is not None
    window.request(AddWorkshop(workshops.WorkshopDraft(date="2026-12-07", title="Identity pillar walk-through")))
    (added,) = [w for w in workshops.list_workshops(window.engagement) if w.title == "Identity pillar walk-through"]
    window.request(StartWorkshop(added.id))
    qtbot.waitUntil(
        lambda: second.workshop_indicator.text() == "Workshop running: Identity pillar walk-through", timeout=WAIT
    )
    assert second.workshop_indicator.isVisible()
    running = workshops.running(second.engagement)  # type: ignore[arg-type]
    assert running is not None and running.title == "Identity pillar walk-through"


def test_two_windows_saving_different_fields_at_once_both_keep_theirs_and_the_same_field_is_chosen_with_save(
    two: Two, window: MainWindow, second: MainWindow, dialogs: DialogAnswerer, qtbot: QtBot
) -> None:
    server, engagement, _lead, assessor_a, _assessor_b = two
    said: dict[int, list[str]] = {0: [], 1: []}
    for n, win in enumerate((window, second)):
        win.statusBar().messageChanged.connect(said[n].append)
    _set(window, title="Second round")
    _set(second, client="Acme Group")  # the same moment: one of the two autosaves is refused, then merged

    def both(win: MainWindow) -> bool:
        meta = win.engagement.meta()  # type: ignore[union-attr]
        return (meta.title, meta.client) == ("Second round", "Acme Group") and not win.isWindowModified()

    qtbot.waitUntil(lambda: both(window) and both(second), timeout=60_000)
    assert _on_server(server, assessor_a, engagement) == ("Second round", "Acme Group")
    merged = [n for n in said if any("their change and yours are both on the server" in m for m in said[n])]
    assert len(merged) == 1  # the one whose autosave was refused merged the two by itself, with no dialog

    # the same field: the second consultant's title waits (their pause is long) while the first one's is saved
    second.team.autosave_ms = 600_000
    _set(second, title="Third round (ours)")
    _set(window, title="Third round (theirs)")
    qtbot.waitUntil(lambda: _on_server(server, assessor_a, engagement)[0] == "Third round (theirs)", timeout=WAIT)
    assert _title(second) == "Third round (ours)"  # not overwritten: it waits to be saved
    second.team.autosave_ms = 200
    _set(second, title="Third round (ours, final)")
    qtbot.waitUntil(
        lambda: "changed on the server too; Save to choose" in second.statusBar().currentMessage(), timeout=WAIT
    )
    message = second.statusBar().currentMessage()
    assert "\n" not in message and message.startswith("Engagement title changed")
    assert second.isWindowModified() and _title(second) == "Third round (ours, final)"  # the work kept
    assert _on_server(server, assessor_a, engagement)[0] == "Third round (theirs)"
    qtbot.wait(600)  # the autosave does not try again by itself (a choice is the consultant's)
    assert _on_server(server, assessor_a, engagement)[0] == "Third round (theirs)"

    def merge(dialog: QWidget) -> None:
        assert isinstance(dialog, MergeDialog)
        assert dialog.conflicts.topLevelItemCount() == 1
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # yours, as offered

    dialogs.click("Yes").then(merge)
    save(qtbot, second)
    qtbot.waitUntil(lambda: dialogs.done and not second.isWindowModified(), timeout=60_000)
    assert _on_server(server, assessor_a, engagement)[0] == "Third round (ours, final)"
    qtbot.waitUntil(lambda: _title(window) == "Third round (ours, final)", timeout=WAIT)


def test_offline_the_autosave_waits_and_happens_once_the_server_is_back(
    own_server: Server, realistic: Path, tmp_path: Path, window: MainWindow, second: MainWindow, qtbot: QtBot
) -> None:
    published, more = publish(own_server, realistic, tmp_path, assessors=2)
    engagement = published.engagement
    for win, login in zip((window, second), more, strict=True):
        assert win.team.open_url(parse(url_with_password(own_server, login, engagement)))
    _live(qtbot, window, second)
    link = window.team.link
    assert link is not None
    own_server.cluster.stop("immediate")
    qtbot.waitUntil(lambda: not link.mirror.online, timeout=60_000)
    _set(window, title="Written offline")
    qtbot.wait(1500)  # past the pause: nothing tried while offline, nothing lost
    assert window.isWindowModified() and _title(window) == "Written offline"
    assert "Not saved" not in window.statusBar().currentMessage()
    own_server.cluster.restart()
    qtbot.waitUntil(lambda: _title(second) == "Written offline", timeout=60_000)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=WAIT)
    assert _on_server(own_server, more[1], engagement)[0] == "Written offline"


def test_an_autosave_the_server_refuses_is_one_line_and_the_work_is_kept(
    two: Two, window: MainWindow, second: MainWindow, qtbot: QtBot
) -> None:
    server, engagement, lead, _assessor_a, assessor_b = two
    was = _title(second)
    # meanwhile the lead makes the second consultant a reviewer: the server refuses what they save
    team_service.set_member(_with_password(server, lead, engagement), assessor_b, "reviewer", prompt=None)
    _set(second, title="Not to be saved")
    qtbot.waitUntil(lambda: "Not saved to the server" in second.statusBar().currentMessage(), timeout=WAIT)
    message = second.statusBar().currentMessage()
    assert "\n" not in message and "may not change this engagement" in message and "kept here" in message
    assert second.isWindowModified() and _title(second) == "Not to be saved"  # the work kept
    assert _on_server(server, lead, engagement)[0] == was
    assert _title(window) == was
