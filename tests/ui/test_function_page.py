"""The function page, driven as a consultant would: every change becomes exactly one edit request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QDialog, QLabel, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.services.engagement import (
    Engagement,
    FindingDraft,
    Properties,
    create_engagement,
    open_engagement,
)
from ztmm_desktop.ui.editing.requests import (
    AddFinding,
    EditFinding,
    EditRequest,
    RemoveFinding,
    SetComment,
    SetField,
    SetOverride,
    SetRating,
    SetTarget,
)
from ztmm_desktop.ui.function.finding_dialog import FindingDialog
from ztmm_desktop.ui.function.page import FunctionPage, StageBox

pytestmark = pytest.mark.gui

THREAT = "devices.device_threat_protection"  # 2.4: overridden to Advanced, derived Initial
AUTH = "identity.authentication"  # 1.1
LEFT = Qt.MouseButton.LeftButton


@dataclass
class Harness:
    qtbot: QtBot
    engagement: Engagement
    page: FunctionPage
    requests: list[EditRequest] = field(default_factory=list)

    def box(self, stage: Stage) -> StageBox:
        return self.page.stage_boxes[stage]

    def click(self, widget: QWidget) -> None:
        self.qtbot.mouseClick(widget, LEFT)

    def click_rating(self, stage: Stage, rating: Rating) -> None:
        self.click(self.box(stage).rating_buttons[rating])

    def choose(self, combo: QComboBox, text: str) -> None:
        """Open the combo's list with the mouse and click an entry."""
        row = combo.findText(text)
        assert row >= 0, f"{text!r} is not in the combo"
        self.click(combo)
        view = combo.view()
        self.qtbot.waitUntil(view.isVisible)
        # The popup ignores a release that comes as fast as a double click (the opening click's own).
        self.qtbot.wait(QApplication.doubleClickInterval() + 20)
        centre = view.visualRect(view.model().index(row, 0)).center()
        self.qtbot.mouseMove(view.viewport(), centre)
        self.qtbot.mouseClick(view.viewport(), LEFT, pos=centre)
        self.qtbot.waitUntil(lambda: not view.isVisible())

    def focus(self, widget: QWidget) -> None:
        widget.setFocus(Qt.FocusReason.MouseFocusReason)
        self.qtbot.waitUntil(widget.hasFocus)


def show_page(qtbot: QtBot, engagement: Engagement, height: int = 760) -> Harness:
    page = FunctionPage(engagement)
    qtbot.addWidget(page)
    page.resize(880, height)
    page.show()
    qtbot.waitExposed(page)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    harness = Harness(qtbot, engagement, page)
    page.editRequested.connect(harness.requests.append)
    return harness


@pytest.fixture
def ui(qtbot: QtBot, demo: Engagement) -> Harness:
    return show_page(qtbot, demo)


def apply(engagement: Engagement, request: EditRequest) -> None:
    """What the main window does with a request (without the undo stack)."""
    match request:
        case SetRating(fid, stage, rating):
            engagement.assess(fid, ratings={stage: rating})
        case SetComment(fid, stage, comment):
            engagement.assess(fid, comments={stage: comment})
        case SetOverride(fid, None, _):
            engagement.assess(fid, clear_override=True)
        case SetOverride(fid, stage, reason) if stage is not None:
            engagement.assess(fid, override=(stage, reason))
        case SetTarget(fid, None):
            engagement.assess(fid, clear_target=True)
        case SetTarget(fid, stage):
            engagement.assess(fid, target=stage)
        case SetField(fid, "notes", value):
            engagement.assess(fid, note=value)
        case SetField(fid, name, value):
            engagement.assess(fid, **{name: value})
        case AddFinding(fid, draft):
            engagement.restore_finding(fid, draft, finding_id=f"f-{len(engagement.findings())}")
        case EditFinding(finding_id, draft):
            engagement.update_finding(finding_id, draft)
        case RemoveFinding(finding_id):
            engagement.remove_finding(finding_id)


def when_modal(qtbot: QtBot, action: Callable[[QWidget], None]) -> None:
    """Run ``action`` on the next modal dialog once it is open; never leave it open."""

    def run() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, run)
            return
        try:
            action(dialog)
        finally:
            if dialog.isVisible():
                assert isinstance(dialog, QDialog)
                dialog.reject()

    QTimer.singleShot(0, run)


# -- showing ------------------------------------------------------------------------


def test_demo_override_is_shown_with_derived_stage_reason_and_comments(ui: Harness) -> None:
    page = ui.page
    assert page.current_function_id is None
    page.show_function("2.4")
    assert page.current_function_id == THREAT
    assert page.title_label.text() == "2.4 Device Threat Protection"
    assert page.current_label.text() == "Advanced"
    assert page.override_banner.isVisible()
    assert page.override_label.text().startswith(
        "Overridden: Advanced (derived: Initial) — EDR covers 97% of endpoints"
    )
    assert page.override_check.isChecked()
    assert page.target_combo.currentText() == "Optimal"
    assert page.gap_label.text() == "gap: 1 stage"
    assert page.priority_combo.currentText() == "Critical"
    assert page.status_combo.currentText() == "Done"
    assert page.confidence_combo.currentText() == "—"
    initial, advanced = ui.box(Stage.INITIAL), ui.box(Stage.ADVANCED)
    assert initial.checked_rating() is Rating.MET
    assert advanced.checked_rating() is Rating.NOT_MET
    assert ui.box(Stage.OPTIMAL).checked_rating() is Rating.NOT_ASSESSED
    assert initial.comment_edit is not None and advanced.comment_edit is not None
    assert initial.comment_edit.toPlainText() == "EDR on all Windows and macOS endpoints."
    assert advanced.comment_edit.toPlainText() == "Linux servers have no EDR agent; the exception is not time-limited."
    # The stage the derived current stage reached is marked, and so is the override.
    assert initial.property("current") is True
    assert "Reached" in initial.badge_label.text() and initial.badge_label.isVisible()
    assert "Override" in advanced.badge_label.text()
    assert not ui.box(Stage.TRADITIONAL).badge_label.isVisible()
    # Stage texts in the engagement's wording; Traditional has no rating.
    assert ui.box(Stage.TRADITIONAL).text_label.text() == (
        "Enterprise manually deploys threat protection capabilities to some devices."
    )
    assert ui.box(Stage.TRADITIONAL).rating_buttons == {}
    assert ui.box(Stage.TRADITIONAL).comment_edit is None
    listing = page.findings_list
    assert listing.topLevelItemCount() == 1
    item = listing.topLevelItem(0)
    assert [item.text(c) for c in range(3)] == ["Linux servers without endpoint detection", "High", "Advanced"]
    assert ui.requests == []


def test_unassessed_function_says_so_and_marks_no_stage(ui: Harness) -> None:
    ui.page.show_function("3.2")
    assert ui.page.current_label.text() == "Not assessed"
    assert not ui.page.override_banner.isVisible()
    assert not any(box.property("current") for box in ui.page.stage_boxes.values())
    assert ui.page.no_findings_label.isVisible() and not ui.page.findings_list.isVisible()


def test_filling_and_refreshing_never_emit_requests(ui: Harness) -> None:
    page = ui.page
    functions = list(ui.engagement.catalog.functions())
    assert len(functions) == 40
    page.show_function(functions[0].id)
    comment = ui.box(Stage.INITIAL).comment_edit
    assert comment is not None
    ui.focus(comment)  # focus in an editor must not turn filling into an edit
    for function in functions:
        page.show_function(function.id)
        page.refresh()
        for stage in Stage:
            page.show_function(function.code, stage)
            page.refresh()
    page.set_engagement(ui.engagement)
    page.refresh()
    QApplication.processEvents()
    ui.focus(page.owner_edit)
    ui.focus(ui.box(Stage.ADVANCED))
    assert ui.requests == []


# -- ratings ------------------------------------------------------------------------


def test_clicking_a_rating_emits_set_rating_once(ui: Harness) -> None:
    ui.page.show_function("2.4")
    ui.click_rating(Stage.OPTIMAL, Rating.PARTIAL)
    ui.click_rating(Stage.OPTIMAL, Rating.PARTIAL)  # already so: nothing more
    ui.click_rating(Stage.ADVANCED, Rating.MET)
    assert ui.requests == [
        SetRating(THREAT, Stage.OPTIMAL, Rating.PARTIAL),
        SetRating(THREAT, Stage.ADVANCED, Rating.MET),
    ]


def test_keys_one_to_five_rate_the_focused_stage_box(ui: Harness) -> None:
    page = ui.page
    page.show_function(AUTH)
    advanced = ui.box(Stage.ADVANCED)
    ui.click(advanced)  # a click on the box selects it
    assert advanced.hasFocus() and advanced.property("highlighted") is True
    assert advanced.hint_label.isVisible() and advanced.hint_label.text() == "keys 1–5"
    for key, rating in (
        (Qt.Key.Key_2, Rating.PARTIAL),
        (Qt.Key.Key_3, Rating.NOT_MET),
        (Qt.Key.Key_4, Rating.NOT_APPLICABLE),
        (Qt.Key.Key_5, Rating.NOT_ASSESSED),
        (Qt.Key.Key_1, Rating.MET),
    ):
        ui.qtbot.keyClick(advanced, key)
        assert advanced.checked_rating() is rating
    assert ui.requests == [
        SetRating(AUTH, Stage.ADVANCED, Rating.PARTIAL),
        SetRating(AUTH, Stage.ADVANCED, Rating.NOT_MET),
        SetRating(AUTH, Stage.ADVANCED, Rating.NOT_APPLICABLE),
        SetRating(AUTH, Stage.ADVANCED, Rating.NOT_ASSESSED),
        SetRating(AUTH, Stage.ADVANCED, Rating.MET),
    ]
    ui.requests.clear()
    # A rating button inside the box passes the keys on to its box.
    ui.click_rating(Stage.OPTIMAL, Rating.NOT_MET)
    button = ui.box(Stage.OPTIMAL).rating_buttons[Rating.NOT_MET]
    assert button.hasFocus() and ui.box(Stage.OPTIMAL).property("highlighted") is True
    assert advanced.property("highlighted") is False
    ui.qtbot.keyClick(button, Qt.Key.Key_4)
    # Typing digits in a comment types digits; Traditional has nothing to rate.
    comment = ui.box(Stage.OPTIMAL).comment_edit
    assert comment is not None
    optimal_comment = comment.toPlainText()
    ui.focus(comment)
    ui.qtbot.keyClicks(comment, "12")
    ui.focus(ui.box(Stage.TRADITIONAL))
    ui.qtbot.keyClick(ui.box(Stage.TRADITIONAL), Qt.Key.Key_1)
    assert ui.requests == [
        SetRating(AUTH, Stage.OPTIMAL, Rating.NOT_MET),
        SetRating(AUTH, Stage.OPTIMAL, Rating.NOT_APPLICABLE),
        SetComment(AUTH, Stage.OPTIMAL, "12" + optimal_comment),  # emitted as focus left the comment
    ]


def test_focus_stage_scrolls_to_the_box_focuses_and_highlights_it(qtbot: QtBot, demo: Engagement) -> None:
    ui = show_page(qtbot, demo, height=420)
    page = ui.page
    page.show_function("2.4")
    assert page.scroll_area.verticalScrollBar().value() == 0
    page.show_function("2.4", Stage.OPTIMAL)
    optimal = ui.box(Stage.OPTIMAL)
    qtbot.waitUntil(optimal.hasFocus)
    assert optimal.property("highlighted") is True
    assert [s for s, b in page.stage_boxes.items() if b.property("highlighted")] == [Stage.OPTIMAL]

    def box_visible() -> None:
        viewport = page.scroll_area.viewport()
        top = optimal.mapTo(viewport, QPoint(0, 0)).y()
        assert 0 <= top < viewport.height()

    qtbot.waitUntil(box_visible)
    # A function without a stage starts at the top, with no stage highlighted.
    page.show_function("1.1")
    assert page.scroll_area.verticalScrollBar().value() == 0
    assert not any(b.property("highlighted") for b in page.stage_boxes.values())
    assert ui.requests == []


# -- comments and text fields ---------------------------------------------------------


def test_comment_is_emitted_when_editing_finishes_and_only_if_changed(ui: Harness) -> None:
    ui.page.show_function("2.4")
    comment = ui.box(Stage.OPTIMAL).comment_edit
    initial_comment = ui.box(Stage.INITIAL).comment_edit
    assert comment is not None and initial_comment is not None
    ui.click(comment)
    ui.qtbot.keyClicks(comment, "No unified view yet.")
    assert ui.requests == []  # not on every keystroke
    ui.click(ui.page.owner_edit)  # focus moves on
    assert ui.requests == [SetComment(THREAT, Stage.OPTIMAL, "No unified view yet.")]
    ui.click(comment)
    ui.click(ui.page.owner_edit)  # in and out without a change: nothing
    assert len(ui.requests) == 1
    # Ctrl+Enter finishes an edit and keeps the focus.
    ui.click(initial_comment)
    initial_comment.moveCursor(initial_comment.textCursor().MoveOperation.End)
    ui.qtbot.keyClicks(initial_comment, " Checked in the console.")
    ui.qtbot.keyClick(initial_comment, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert initial_comment.hasFocus()
    ui.click(ui.page.owner_edit)
    assert ui.requests[1:] == [
        SetComment(THREAT, Stage.INITIAL, "EDR on all Windows and macOS endpoints. Checked in the console.")
    ]


def test_a_comment_in_progress_is_kept_for_its_function_when_another_is_shown(ui: Harness) -> None:
    ui.page.show_function("2.4")
    comment = ui.box(Stage.OPTIMAL).comment_edit
    assert comment is not None
    ui.click(comment)
    ui.qtbot.keyClicks(comment, "Half a thought")
    ui.page.show_function("1.1")  # e.g. chosen in the tree with the keyboard
    assert ui.requests == [SetComment(THREAT, Stage.OPTIMAL, "Half a thought")]
    assert comment.toPlainText() == ui.engagement.assessment(AUTH).rating(Stage.OPTIMAL).comment


def test_fields_target_and_notes(ui: Harness) -> None:
    page = ui.page
    page.show_function("2.4")
    ui.choose(page.target_combo, "No target")
    ui.choose(page.target_combo, "Advanced")
    ui.choose(page.confidence_combo, "High")
    ui.choose(page.priority_combo, "Critical")  # unchanged: nothing
    ui.choose(page.status_combo, "In progress")
    ui.choose(page.status_combo, "Done (from the ratings)")  # not recorded: derived, as the tree shows it
    ui.click(page.owner_edit)
    ui.qtbot.keyClicks(page.owner_edit, "Infrastructure team")
    ui.qtbot.keyClick(page.owner_edit, Qt.Key.Key_Return)
    ui.click(page.notes_edit)
    ui.qtbot.keyClicks(page.notes_edit, "Ask about the Linux exception.")
    ui.click(page.owner_edit)
    assert ui.requests == [
        SetTarget(THREAT, None),
        SetTarget(THREAT, Stage.ADVANCED),
        SetField(THREAT, "confidence", "high"),
        SetField(THREAT, "status", "in-progress"),
        SetField(THREAT, "status", ""),
        SetField(THREAT, "owner", "Infrastructure team"),
        SetField(THREAT, "notes", "Ask about the Linux exception."),
    ]


def test_scrolling_over_a_combo_does_not_change_it(ui: Harness) -> None:
    page = ui.page
    page.show_function("2.4")
    ui.focus(ui.box(Stage.TRADITIONAL))
    before = page.status_combo.currentText()
    centre = QPointF(page.status_combo.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(page.status_combo.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(page.status_combo, event)
    assert page.status_combo.currentText() == before
    assert ui.requests == []


# -- override ------------------------------------------------------------------------


def test_override_needs_a_reason(ui: Harness) -> None:
    page = ui.page
    page.show_function(AUTH)
    assert not page.override_check.isChecked() and not page.override_editor.isVisible()
    ui.click(page.override_check)
    assert page.override_editor.isVisible()
    ui.choose(page.override_stage_combo, "Optimal")
    ui.click(page.override_apply_button)
    assert ui.requests == []
    assert page.override_message.isVisible()
    assert "needs a reason" in page.override_message.text()
    ui.click(page.override_reason_edit)
    ui.qtbot.keyClicks(page.override_reason_edit, "   ")
    ui.click(page.override_apply_button)
    assert ui.requests == []
    ui.qtbot.keyClicks(page.override_reason_edit, "Passkeys everywhere, seen in the sign-in logs.")
    ui.click(page.override_apply_button)
    assert ui.requests == [SetOverride(AUTH, Stage.OPTIMAL, "Passkeys everywhere, seen in the sign-in logs.")]
    assert not page.override_editor.isVisible()


def test_clearing_and_changing_an_override(ui: Harness) -> None:
    page = ui.page
    page.show_function("2.4")
    ui.click(page.override_check)  # unchecking clears the override
    assert ui.requests == [SetOverride(THREAT, None)]
    page.refresh()  # the window did not apply it: the page still shows the stored override
    assert page.override_check.isChecked() and page.override_banner.isVisible()
    ui.requests.clear()
    ui.click(page.override_change_button)
    assert page.override_editor.isVisible()
    assert page.override_stage_combo.currentText() == "Advanced"
    assert page.override_reason_edit.toPlainText().startswith("EDR covers 97%")
    ui.click(page.override_apply_button)  # unchanged: nothing to do
    assert ui.requests == []
    ui.click(page.override_change_button)
    ui.choose(page.override_stage_combo, "Initial")
    ui.click(page.override_apply_button)
    reason = ui.engagement.assessment(THREAT).override_reason
    assert ui.requests == [SetOverride(THREAT, Stage.INITIAL, reason)]


def test_requests_round_trip_through_the_engagement(ui: Harness) -> None:
    page = ui.page
    page.editRequested.connect(lambda request: (apply(ui.engagement, request), page.refresh()))
    page.show_function("2.4")
    ui.click(page.override_check)
    assert page.current_label.text() == "Initial"
    assert not page.override_banner.isVisible()
    ui.click_rating(Stage.ADVANCED, Rating.MET)
    assert page.current_label.text() == "Advanced"
    assert ui.box(Stage.ADVANCED).property("current") is True
    assert page.gap_label.text() == "gap: 1 stage"
    ui.focus(ui.box(Stage.OPTIMAL))
    ui.qtbot.keyClick(ui.box(Stage.OPTIMAL), Qt.Key.Key_1)
    assert page.current_label.text() == "Optimal"
    assert page.gap_label.text() == "target reached"
    assert ui.engagement.results()[THREAT].current is Stage.OPTIMAL


# -- refresh keeps the consultant's place ------------------------------------------------


def test_refresh_keeps_scroll_position_and_the_comment_being_typed(qtbot: QtBot, demo: Engagement) -> None:
    ui = show_page(qtbot, demo, height=420)
    page = ui.page
    page.show_function("2.4", Stage.OPTIMAL)
    comment = ui.box(Stage.OPTIMAL).comment_edit
    assert comment is not None
    ui.click(comment)
    qtbot.keyClicks(comment, "Typing")
    bar = page.scroll_area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.value() > 0)
    viewport = page.scroll_area.viewport()
    on_screen = comment.mapTo(viewport, QPoint(0, 0))
    # The change re-rates Initial, above the comment: its client-response strip changes height.
    demo.assess(THREAT, ratings={Stage.INITIAL: Rating.PARTIAL}, comments={Stage.OPTIMAL: "Stored elsewhere"})
    page.refresh()
    assert comment.hasFocus()
    assert comment.toPlainText() == "Typing"
    assert comment.textCursor().position() == len("Typing")
    assert comment.mapTo(viewport, QPoint(0, 0)) == on_screen  # what is being typed stays where it was
    assert bar.value() > 0
    assert ui.box(Stage.INITIAL).checked_rating() is Rating.PARTIAL
    assert ui.requests == []
    ui.focus(ui.box(Stage.OPTIMAL))
    assert ui.requests == [SetComment(THREAT, Stage.OPTIMAL, "Typing")]


# -- findings --------------------------------------------------------------------------


def test_add_finding_through_the_real_dialog(ui: Harness) -> None:
    page = ui.page
    page.show_function("2.4")
    seen: dict[str, object] = {}

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, FindingDialog)
        ok = dialog.ok_button
        assert ok is not None
        seen["ok_while_empty"] = ok.isEnabled()
        ui.qtbot.keyClicks(dialog.title_edit, "  EDR alerts not triaged at night ")
        seen["ok_with_title"] = ok.isEnabled()
        dialog.stage_combo.setCurrentIndex(dialog.stage_combo.findText("Optimal"))
        dialog.severity_combo.setCurrentIndex(dialog.severity_combo.findText("Critical"))
        ui.qtbot.keyClicks(dialog.observation_edit, "Nobody on call.")
        ui.qtbot.keyClicks(dialog.risk_edit, "Attacks run for hours.")
        ui.qtbot.keyClicks(dialog.recommendation_edit, "Managed detection service.")
        ui.qtbot.mouseClick(ok, LEFT)

    when_modal(ui.qtbot, fill)
    ui.click(page.add_finding_button)
    assert seen == {"ok_while_empty": False, "ok_with_title": True}
    assert ui.requests == [
        AddFinding(
            THREAT,
            FindingDraft(
                title="EDR alerts not triaged at night",
                stage=Stage.OPTIMAL,
                observation="Nobody on call.",
                risk="Attacks run for hours.",
                recommendation="Managed detection service.",
                severity="critical",
            ),
        )
    ]
    # Cancel: nothing.
    when_modal(ui.qtbot, lambda dialog: ui.qtbot.keyClick(dialog, Qt.Key.Key_Escape))
    ui.click(page.add_finding_button)
    assert len(ui.requests) == 1


def test_edit_and_remove_a_finding(ui: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    page = ui.page
    page.show_function("2.4")
    finding = ui.engagement.findings(THREAT)[0]
    assert not page.edit_finding_button.isEnabled() and not page.remove_finding_button.isEnabled()
    listing = page.findings_list
    rect = listing.visualItemRect(listing.topLevelItem(0))
    ui.qtbot.mouseClick(listing.viewport(), LEFT, pos=rect.center())
    assert page.edit_finding_button.isEnabled() and page.remove_finding_button.isEnabled()

    opened: list[FindingDraft] = []

    def edit(dialog: FindingDialog) -> int:
        opened.append(dialog.draft())
        dialog.severity_combo.setCurrentIndex(dialog.severity_combo.findText("Medium"))
        dialog.stage_combo.setCurrentIndex(0)  # none: the function as a whole
        return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr(FindingDialog, "exec", edit)
    ui.click(page.edit_finding_button)
    assert opened == [finding.draft()]
    assert ui.requests == [EditFinding(finding.id, replace(finding.draft(), severity="medium", stage=None))]

    # Unchanged on OK: nothing.
    monkeypatch.setattr(FindingDialog, "exec", lambda dialog: QDialog.DialogCode.Accepted.value)
    ui.click(page.edit_finding_button)
    assert len(ui.requests) == 1

    # Remove asks first; Cancel keeps the finding.
    asked: list[str] = []

    def answer(button: QMessageBox.StandardButton) -> Callable[[QWidget], None]:
        def press(box: QWidget) -> None:
            assert isinstance(box, QMessageBox)
            asked.append(box.text())
            target = box.button(button)
            assert target is not None
            ui.qtbot.mouseClick(target, LEFT)

        return press

    when_modal(ui.qtbot, answer(QMessageBox.StandardButton.Cancel))
    ui.click(page.remove_finding_button)
    assert len(ui.requests) == 1
    when_modal(ui.qtbot, answer(QMessageBox.StandardButton.Yes))
    ui.click(page.remove_finding_button)
    assert ui.requests[1:] == [RemoveFinding(finding.id)]
    assert asked == ["Remove the finding “Linux servers without endpoint detection”?"] * 2


def test_finding_dialog_needs_a_title(qtbot: QtBot) -> None:
    dialog = FindingDialog(function_label="1.1 Authentication")
    qtbot.addWidget(dialog)
    ok = dialog.ok_button
    assert ok is not None and not ok.isEnabled()
    qtbot.keyClicks(dialog.title_edit, "   ")
    assert not ok.isEnabled()
    qtbot.keyClick(dialog.title_edit, Qt.Key.Key_Return)  # Enter does not slip past
    assert dialog.result() != QDialog.DialogCode.Accepted.value
    qtbot.keyClicks(dialog.title_edit, "x")
    assert ok.isEnabled()
    assert dialog.draft() == FindingDraft(title="x", stage=None, severity="medium")
    assert "1.1 Authentication" in dialog.windowTitle()


# -- read-only and hostile text ------------------------------------------------------------


def test_read_only_disables_editing(ui: Harness) -> None:
    page = ui.page
    page.show_function("2.4")
    page.set_read_only(True)
    assert page.read_only and page.read_only_banner.isVisible()
    for box in page.stage_boxes.values():
        assert all(not b.isEnabled() for b in box.rating_buttons.values())
        assert box.comment_edit is None or box.comment_edit.isReadOnly()
    for combo in (page.target_combo, page.confidence_combo, page.priority_combo, page.status_combo):
        assert not combo.isEnabled()
    assert page.owner_edit.isReadOnly() and page.notes_edit.isReadOnly()
    assert not page.override_check.isEnabled() and not page.override_change_button.isVisible()
    assert not page.add_finding_button.isEnabled()
    advanced = ui.box(Stage.ADVANCED)
    ui.click(advanced)
    ui.qtbot.keyClick(advanced, Qt.Key.Key_1)
    assert advanced.checked_rating() is Rating.NOT_MET
    comment = advanced.comment_edit
    assert comment is not None
    ui.click(comment)
    ui.qtbot.keyClicks(comment, "typed")
    ui.click(advanced)
    assert comment.toPlainText() == "Linux servers have no EDR agent; the exception is not time-limited."
    # Findings can still be read.
    listing = page.findings_list
    listing.setCurrentItem(listing.topLevelItem(0))
    assert page.edit_finding_button.text() == "View…" and page.edit_finding_button.isEnabled()
    assert not page.remove_finding_button.isEnabled()
    assert ui.requests == []
    page.set_read_only(False)
    ui.click_rating(Stage.ADVANCED, Rating.MET)
    assert ui.requests == [SetRating(THREAT, Stage.ADVANCED, Rating.MET)]


def test_a_read_only_engagement_opens_read_only(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "x.ztmm"
    create_engagement(path, Properties(client="Read Only Ltd")).close()
    engagement = open_engagement(path, readonly=True)
    try:
        ui = show_page(qtbot, engagement)
        assert ui.page.read_only
        ui.page.show_function("1.1")
        assert not ui.box(Stage.INITIAL).rating_buttons[Rating.MET].isEnabled()
    finally:
        engagement.close()


def test_set_engagement_shows_the_new_document(ui: Harness, tmp_path: Path) -> None:
    page = ui.page
    page.show_function("2.4")
    other = create_engagement(tmp_path / "x.ztmm", Properties(client="Other Ltd"))
    try:
        page.set_engagement(other)
        assert page.engagement is other and page.current_function_id == THREAT
        assert page.current_label.text() == "Not assessed"
        assert not page.override_banner.isVisible()
        assert page.findings_list.topLevelItemCount() == 0
        ui.click_rating(Stage.INITIAL, Rating.MET)
        assert ui.requests == [SetRating(THREAT, Stage.INITIAL, Rating.MET)]
    finally:
        other.close()


def test_long_comments_and_markup_are_plain_text(qtbot: QtBot, tmp_path: Path) -> None:
    engagement = create_engagement(tmp_path / "x.ztmm", Properties(client="Markup <i>Ltd</i>"))
    try:
        long = ("<b>x</b> " * 6250)[:50_000]
        engagement.assess(
            "1.1",
            comments={Stage.INITIAL: long, Stage.ADVANCED: "<b>x</b>"},
            override=(Stage.ADVANCED, "<b>x</b> & <a href='http://example.com'>y</a>"),
            owner="<b>x</b>",
            note="<script>alert(1)</script>",
        )
        engagement.add_finding("1.1", "<b>x</b>", observation="<img src=x>")
        ui = show_page(qtbot, engagement)
        page = ui.page
        page.show_function("1.1")
        initial, advanced = ui.box(Stage.INITIAL).comment_edit, ui.box(Stage.ADVANCED).comment_edit
        assert initial is not None and advanced is not None
        assert initial.toPlainText() == long and len(initial.toPlainText()) == 50_000
        assert advanced.toPlainText() == "<b>x</b>"
        assert page.override_label.text().endswith("— <b>x</b> & <a href='http://example.com'>y</a>")
        assert page.owner_edit.text() == "<b>x</b>"
        assert page.notes_edit.toPlainText() == "<script>alert(1)</script>"
        item = page.findings_list.topLevelItem(0)
        assert item is not None and item.text(0) == "<b>x</b>"
        assert "&lt;img src=x&gt;" in item.toolTip(0)  # the tooltip is rich text, so the observation is escaped
        labels = page.findChildren(QLabel)
        shown = [label for label in labels if label.text()]
        assert shown and all(label.textFormat() == Qt.TextFormat.PlainText for label in shown)
        assert all(label.textFormat() == Qt.TextFormat.PlainText for label in (page.override_label, page.title_label))
        assert all(b.text_label.textFormat() == Qt.TextFormat.PlainText for b in page.stage_boxes.values())
        assert ui.requests == []
    finally:
        engagement.close()


def test_text_follows_a_new_application_font_and_palette(ui: Harness) -> None:
    """Workshop mode enlarges the font and turns the palette dark while the page is open."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    font, palette = QFont(app.font()), QPalette(app.palette())
    page = ui.page
    page.show_function("2.4")
    comment = ui.box(Stage.INITIAL).comment_edit
    assert comment is not None
    title_size, comment_height = page.title_label.font().pointSizeF(), comment.height()
    try:
        bigger = QFont(font)
        bigger.setPointSizeF(font.pointSizeF() * 1.5)
        app.setFont(bigger)
        dark = QPalette(palette)
        dark.setColor(QPalette.ColorRole.Window, QColor("black"))
        dark.setColor(QPalette.ColorRole.WindowText, QColor("white"))
        app.setPalette(dark)
        QApplication.processEvents()
        assert page.title_label.font().pointSizeF() == pytest.approx(title_size * 1.5)
        assert comment.height() > comment_height * 1.3
        quiet = page.gap_label.palette().color(QPalette.ColorRole.WindowText)
        assert (quiet.red(), quiet.green(), quiet.blue()) == (255, 255, 255) and quiet.alphaF() < 1
    finally:
        app.setFont(font)
        app.setPalette(palette)
    assert ui.requests == []


def test_rated_stages_have_all_five_ratings_in_key_order(ui: Harness) -> None:
    ui.page.show_function("1.1")
    for stage in RATED_STAGES:
        buttons = ui.box(stage).rating_buttons
        assert [b.text() for b in buttons.values()] == [
            "Met",
            "Partially met",
            "Not met",
            "Not applicable",
            "Not assessed",
        ]
        assert buttons[Rating.MET].toolTip() == "Met (key 1)"
        assert buttons[Rating.NOT_ASSESSED].toolTip() == "Not assessed (key 5)"
