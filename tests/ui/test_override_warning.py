"""Warnings, not refusals: an override above a stage rated Not met is asked about, then marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.shell.main_window import MainWindow
from ztmm_desktop.ui.tree.model import NAME_COLUMN, STATE_COLUMN

pytestmark = pytest.mark.gui

AUTH = "identity.authentication"
LEFT = Qt.MouseButton.LeftButton
WARNING = "Overridden to Advanced although Advanced is rated Not met."


def test_an_override_above_a_stage_rated_not_met_asks_then_marks_the_function(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = tmp_path / "contradiction.ztmm"
    with create_engagement(path, Properties(client="Warn Ltd", scope=("identity",))) as made:
        made.assess("1.1", ratings={Stage.INITIAL: Rating.MET, Stage.ADVANCED: Rating.NOT_MET})
        made.save()
    assert window.open_path(path)
    bench, engagement = window.workbench, window.engagement
    assert bench is not None and engagement is not None
    page = bench.page
    bench.select_function(AUTH)

    qtbot.mouseClick(page.override_check, LEFT)
    page.override_stage_combo.setCurrentIndex(list(Stage).index(Stage.ADVANCED))
    page.override_reason_edit.setFocus()
    qtbot.keyClicks(page.override_reason_edit, "The Not met rating predates the rollout")

    # Cancel: nothing changes, the editor stays open to choose another stage.
    dialogs.click("Cancel")
    qtbot.mouseClick(page.override_apply_button, LEFT)
    assert dialogs.seen == ["Advanced is rated Not met. Override anyway?"]
    assert engagement.assessment(AUTH).override_stage is None
    assert page.override_editor.isVisible() and not page.override_warning.isVisible()

    # Accepted: applied, and marked on the page and in the tree.
    dialogs.click("Override anyway")
    qtbot.mouseClick(page.override_apply_button, LEFT)
    assert engagement.assessment(AUTH).override_stage is Stage.ADVANCED
    assert page.override_warning.isVisible()
    assert page.override_warning.text() == f"⚠ {WARNING}"
    row = bench.model.index_for_function(AUTH)
    assert f"⚠ {WARNING}" in row.siblingAtColumn(STATE_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    assert f"⚠ {WARNING}" in row.siblingAtColumn(NAME_COLUMN).data(Qt.ItemDataRole.ToolTipRole)

    # The mark goes when the two agree again (Advanced rated Met), with no question asked.
    advanced = page.stage_boxes[Stage.ADVANCED]
    qtbot.mouseClick(advanced.rating_buttons[Rating.MET], LEFT)
    assert not page.override_warning.isVisible()
    assert "⚠" not in row.siblingAtColumn(STATE_COLUMN).data(Qt.ItemDataRole.ToolTipRole)


def test_an_override_that_agrees_with_the_ratings_asks_nothing(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = tmp_path / "agrees.ztmm"
    with create_engagement(path, Properties(client="Calm Ltd", scope=("identity",))) as made:
        made.assess("1.1", ratings={Stage.INITIAL: Rating.MET, Stage.ADVANCED: Rating.PARTIAL})
        made.save()
    assert window.open_path(path)
    bench = window.workbench
    assert bench is not None and window.engagement is not None
    page = bench.page
    bench.select_function(AUTH)
    qtbot.mouseClick(page.override_check, LEFT)
    page.override_stage_combo.setCurrentIndex(list(Stage).index(Stage.ADVANCED))
    page.override_reason_edit.setFocus()
    qtbot.keyClicks(page.override_reason_edit, "Partly met is enough here")
    qtbot.mouseClick(page.override_apply_button, LEFT)  # the dialogs fixture fails on any dialog
    assert window.engagement.assessment(AUTH).override_stage is Stage.ADVANCED
    assert not page.override_warning.isVisible()


def test_the_report_notes_the_contradiction_beside_the_override(tmp_path: Path) -> None:
    from docx import Document

    from tests.test_report import pdftotext
    from ztmm_desktop.services.report import export_report

    with create_engagement(tmp_path / "noted.ztmm", Properties(client="Noted Ltd", scope=("identity",))) as made:
        made.assess("1.1", ratings={Stage.ADVANCED: Rating.NOT_MET}, override=(Stage.ADVANCED, "Seen in the lab"))
        export_report(made, tmp_path / "report.pdf")
        export_report(made, tmp_path / "report.docx")
    pdf = " ".join(pdftotext(tmp_path / "report.pdf").split())
    assert "Reason: Seen in the lab Note: Advanced is rated Not met." in pdf
    word = " ".join(p.text for p in Document(str(tmp_path / "report.docx")).paragraphs)
    assert "Reason: Seen in the lab Note: Advanced is rated Not met." in word


def test_the_command_warns_too_and_still_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ztmm_desktop.cli import main
    from ztmm_desktop.services.engagement import open_engagement

    path = tmp_path / "cli.ztmm"
    with create_engagement(path, Properties(client="Cli Ltd", scope=("identity",))) as made:
        made.assess("1.1", ratings={Stage.INITIAL: Rating.NOT_MET})
        made.save()
    assert main(["assess", str(path), "1.1", "--current", "advanced", "--reason", "Seen in the lab"]) == 0
    out = capsys.readouterr()
    assert out.err == "warning: 1.1: Overridden to Advanced although Initial is rated Not met.\n"
    with open_engagement(path, readonly=True) as engagement:
        assert engagement.assessment("1.1").override_stage is Stage.ADVANCED
