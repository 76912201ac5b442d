"""The consultant's registers on the function page, driven through the real window as a person would.

A finding's register fields (owner, due date, status, likelihood and impact, with
the risk rating shown live) and a function's roadmap actions (add, edit, remove,
a dependency, undo and redo of each), checked on the page, in the engagement and
in the saved file.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QComboBox, QDateEdit, QMessageBox, QTreeWidget, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services.actions import Action, ActionDraft, add_action, list_actions
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement, open_engagement
from ztmm_desktop.ui.editing.requests import EditAction
from ztmm_desktop.ui.function.action_dialog import ActionDialog
from ztmm_desktop.ui.function.finding_dialog import FindingDialog
from ztmm_desktop.ui.function.page import FunctionPage
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

AUTH = "identity.authentication"  # 1.1
STORES = "identity.identity_stores"  # 1.2
LEFT = Qt.MouseButton.LeftButton


# -- helpers: what a person does ------------------------------------------------------


def pick(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Choose an entry of a closed combo with the arrow keys, as a keyboard user does."""
    row = combo.findText(text)
    assert row >= 0, f"{text!r} is not in the combo: {[combo.itemText(i) for i in range(combo.count())]}"
    combo.setFocus(Qt.FocusReason.TabFocusReason)
    while combo.currentIndex() != row:
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < row else Qt.Key.Key_Up)


def type_into(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Replace what a text field holds by typing, key by key (also characters no key names, like "–")."""
    widget.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    for char in text:
        for kind in (QKeyEvent.Type.KeyPress, QKeyEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def type_date(qtbot: QtBot, edit: QDateEdit, iso: str) -> None:
    """Type a date into a date box section by section (year, month, day), as a person clicking each does."""
    edit.setFocus(Qt.FocusReason.MouseFocusReason)
    sections = (QDateEdit.Section.YearSection, QDateEdit.Section.MonthSection, QDateEdit.Section.DaySection)
    for section, digits in zip(sections, iso.split("-"), strict=True):
        edit.setSelectedSection(section)
        qtbot.keyClicks(edit, digits)


def click_row(qtbot: QtBot, listing: QTreeWidget, row: int) -> None:
    item = listing.topLevelItem(row)
    assert item is not None
    listing.scrollToItem(item)
    qtbot.mouseClick(listing.viewport(), LEFT, pos=listing.visualItemRect(item).center())
    assert item.isSelected()


def shown(listing: QTreeWidget) -> list[int]:
    """The columns the consultant sees (a file's findings have no review comments column)."""
    return [c for c in range(listing.columnCount()) if not listing.isColumnHidden(c)]


def rows(listing: QTreeWidget) -> list[list[str]]:
    return [
        [listing.topLevelItem(r).text(c) for c in shown(listing)]  # type: ignore[union-attr]
        for r in range(listing.topLevelItemCount())
    ]


def press_ok(qtbot: QtBot, dialog: FindingDialog | ActionDialog) -> None:
    ok = dialog.ok_button
    assert ok is not None and ok.isEnabled()
    qtbot.mouseClick(ok, LEFT)


def undo(qtbot: QtBot, window: MainWindow) -> None:
    _from_the_tree(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def redo(qtbot: QtBot, window: MainWindow) -> None:
    _from_the_tree(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def _from_the_tree(qtbot: QtBot, window: MainWindow) -> None:
    """Ctrl+Z in a text box undoes typing; a person clicks into the tree first."""
    assert window.workbench is not None
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    window.workbench.tree.setFocus()


def saved_actions(window: MainWindow, path: Path) -> dict[str, Action]:
    """Save (Ctrl+S) and read the file as another reader would."""
    assert window.save_now()
    with open_engagement(path, readonly=True) as saved:
        return {a.id: a for a in list_actions(saved)}


def small_engagement(tmp_path: Path) -> Path:
    path = tmp_path / "registers.ztmm"
    create_engagement(path, Properties(client="Northwind Logistics")).close()
    return path


def opened(window: MainWindow, path: Path, function_id: str) -> tuple[Engagement, FunctionPage]:
    assert window.open_path(path)
    bench = window.workbench
    assert bench is not None and window.engagement is not None
    bench.select_function(function_id)
    return window.engagement, bench.page


# -- findings ---------------------------------------------------------------------------


def test_a_finding_with_owner_due_date_status_likelihood_and_impact(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = small_engagement(tmp_path)
    engagement, page = opened(window, path, AUTH)
    assert page.no_findings_label.isVisible()
    seen: dict[str, object] = {}

    def fill(dialog: QWidget) -> None:
        assert isinstance(dialog, FindingDialog)
        seen["risk_at_start"] = dialog.risk_rating_label.text()
        qtbot.keyClicks(dialog.title_edit, "Shared administrator accounts")
        pick(qtbot, dialog.severity_combo, "High")
        pick(qtbot, dialog.status_combo, "In progress")
        type_into(qtbot, dialog.owner_edit, "Identity team lead")
        qtbot.mouseClick(dialog.due_edit.enabled, LEFT)  # a due date, typed
        type_date(qtbot, dialog.due_edit.edit, "2027-03-31")
        pick(qtbot, dialog.likelihood_combo, "4 – Likely")
        seen["risk_half"] = dialog.risk_rating_label.text()
        pick(qtbot, dialog.impact_combo, "3 – Moderate")
        seen["risk_both"] = dialog.risk_rating_label.text()
        pick(qtbot, dialog.impact_combo, "5 – Severe")  # the rating follows every change
        seen["risk_severe"] = dialog.risk_rating_label.text()
        press_ok(qtbot, dialog)

    dialogs.then(fill)
    qtbot.mouseClick(page.add_finding_button, LEFT)
    assert seen == {
        "risk_at_start": "— (rate likelihood and impact)",
        "risk_half": "— (rate likelihood and impact)",
        "risk_both": "High (4 × 3 = 12)",
        "risk_severe": "Critical (4 × 5 = 20)",
    }
    [finding] = engagement.findings(AUTH)
    assert (finding.title, finding.severity, finding.owner, finding.due_date) == (
        "Shared administrator accounts",
        "high",
        "Identity team lead",
        "2027-03-31",
    )
    assert (finding.status, finding.likelihood, finding.impact) == ("in-progress", 4, 5)
    listing = page.findings_list
    assert listing.isVisible() and not page.no_findings_label.isVisible()
    assert [listing.headerItem().text(c) for c in shown(listing)] == [
        "Finding",
        "Severity",
        "Stage",
        "Status",
        "Risk",
        "Workshop",
    ]
    assert rows(listing) == [["Shared administrator accounts", "High", "—", "In progress", "Critical", ""]]
    assert "4 × 5 = 20" in listing.topLevelItem(0).toolTip(4)  # type: ignore[union-attr]

    # Edit: the dialog shows every field as stored; resolve it and clear the likelihood.
    def resolve(dialog: QWidget) -> None:
        assert isinstance(dialog, FindingDialog)
        seen["opened"] = dialog.draft()
        pick(qtbot, dialog.status_combo, "Resolved")
        pick(qtbot, dialog.likelihood_combo, "—")
        seen["risk_cleared"] = dialog.risk_rating_label.text()
        press_ok(qtbot, dialog)

    click_row(qtbot, listing, 0)
    dialogs.then(resolve)
    qtbot.mouseClick(page.edit_finding_button, LEFT)
    assert seen["opened"] == finding.draft()
    assert seen["risk_cleared"] == "— (rate likelihood and impact)"
    assert rows(listing) == [["Shared administrator accounts", "High", "—", "Resolved", "—", ""]]

    # Undo the edit, then the addition; redo both: the register fields come and go with them.
    undo(qtbot, window)
    assert engagement.findings(AUTH)[0].draft() == finding.draft()
    assert rows(listing)[0][3:5] == ["In progress", "Critical"]
    undo(qtbot, window)
    assert engagement.findings(AUTH) == [] and page.no_findings_label.isVisible()
    redo(qtbot, window)
    redo(qtbot, window)
    [again] = engagement.findings(AUTH)
    assert again.id == finding.id
    assert again.draft() == replace(finding.draft(), status="resolved", likelihood=None)

    # And in the file.
    assert window.save_now()
    with open_engagement(path, readonly=True) as saved:
        [stored] = saved.findings(AUTH)
    assert (stored.owner, stored.due_date, stored.status, stored.likelihood, stored.impact) == (
        "Identity team lead",
        "2027-03-31",
        "resolved",
        None,
        5,
    )


def test_a_read_only_finding_dialog_shows_the_register_fields(qtbot: QtBot) -> None:
    from ztmm_desktop.services.engagement import FindingDraft

    draft = FindingDraft(
        "Stale accounts", owner="HR", due_date="2027-01-15", status="risk-accepted", likelihood=2, impact=2
    )
    dialog = FindingDialog(draft=draft, read_only=True)
    qtbot.addWidget(dialog)
    assert dialog.draft() == draft
    assert dialog.risk_rating_label.text() == "Low (2 × 2 = 4)"
    assert dialog.status_combo.currentText() == "Risk accepted"
    assert not dialog.status_combo.isEnabled() and not dialog.due_edit.isEnabled()
    assert dialog.owner_edit.isReadOnly()


# -- actions ----------------------------------------------------------------------------


def test_add_edit_and_remove_actions_with_a_dependency_and_undo_each(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = small_engagement(tmp_path)
    engagement, page = opened(window, path, AUTH)
    assert page.no_actions_label.isVisible() and page.no_actions_label.text() == "No actions for this function yet."
    assert not page.actions_list.isVisible()
    assert not page.edit_action_button.isEnabled() and not page.remove_action_button.isEnabled()
    seen: dict[str, object] = {}

    # Add the first action: the text is required; the stage defaults to the one above the current stage.
    def first(dialog: QWidget) -> None:
        assert isinstance(dialog, ActionDialog)
        ok = dialog.ok_button
        assert ok is not None
        seen["ok_while_empty"] = ok.isEnabled()
        seen["default_stage"] = dialog.stage_combo.currentText()
        seen["phases"] = [dialog.phase_combo.itemText(i) for i in range(dialog.phase_combo.count())]
        seen["efforts"] = [dialog.effort_combo.itemText(i) for i in range(dialog.effort_combo.count())]
        seen["after"] = [dialog.after_combo.itemText(i) for i in range(dialog.after_combo.count())]
        qtbot.keyClicks(dialog.text_edit, "   ")
        seen["ok_with_blanks"] = ok.isEnabled()
        qtbot.keyClicks(dialog.text_edit, "Enforce phishing-resistant MFA for administrators")
        pick(qtbot, dialog.phase_combo, "Now (0–3 months)")
        pick(qtbot, dialog.effort_combo, "Small")
        type_into(qtbot, dialog.cost_edit, "$10k–50k")
        type_into(qtbot, dialog.owner_edit, "Identity team lead")
        press_ok(qtbot, dialog)

    dialogs.then(first)
    qtbot.mouseClick(page.add_action_button, LEFT)
    assert seen == {
        "ok_while_empty": False,
        "ok_with_blanks": False,
        "default_stage": "Initial",  # 1.1 is not assessed: Traditional, so Initial is next
        "phases": ["Now (0–3 months)", "Next (3–12 months)", "Later (12–24 months)"],
        "efforts": ["Small", "Medium", "Large"],
        "after": ["None"],
    }
    [a] = list_actions(engagement, AUTH)
    assert a.draft() == ActionDraft(
        "Enforce phishing-resistant MFA for administrators",
        phase="now",
        effort="S",
        stage=Stage.INITIAL,
        cost="$10k–50k",
        owner="Identity team lead",
    )
    listing = page.actions_list
    assert listing.isVisible() and not page.no_actions_label.isVisible()
    assert [listing.headerItem().text(c) for c in range(4)] == ["Action", "Phase", "Effort", "Owner"]
    assert rows(listing) == [
        ["A-01  Enforce phishing-resistant MFA for administrators", "Now", "Small", "Identity team lead"]
    ]
    assert window.undo_stack.undoText() == "Add action to 1.1: Enforce phishing-resistant MFA for administrators"

    # The second comes after the first: the combo offers it by its number, function and text.
    def second(dialog: QWidget) -> None:
        assert isinstance(dialog, ActionDialog)
        seen["after_offered"] = [dialog.after_combo.itemText(i) for i in range(dialog.after_combo.count())]
        qtbot.keyClicks(dialog.text_edit, "Retire shared administrator accounts")
        pick(qtbot, dialog.stage_combo, "Advanced")
        pick(qtbot, dialog.after_combo, "A-01 1.1 – Enforce phishing-resistant MFA for administrators")
        press_ok(qtbot, dialog)

    dialogs.then(second)
    qtbot.mouseClick(page.add_action_button, LEFT)
    assert seen["after_offered"] == ["None", "A-01 1.1 – Enforce phishing-resistant MFA for administrators"]
    b = next(x for x in list_actions(engagement, AUTH) if x.id != a.id)
    assert (b.after, b.stage, b.phase, b.effort) == (a.id, Stage.ADVANCED, "next", "M")
    assert rows(listing)[1] == ["A-02  Retire shared administrator accounts", "Next", "Medium", ""]
    assert "After: A-01" in listing.topLevelItem(1).toolTip(0)  # type: ignore[union-attr]

    # Edit the second: later, a larger effort, an owner; it never offers itself to depend on.
    def edit_b(dialog: QWidget) -> None:
        assert isinstance(dialog, ActionDialog)
        seen["edit_title"] = dialog.windowTitle()
        seen["edit_offers"] = [dialog.after_combo.itemText(i) for i in range(dialog.after_combo.count())]
        seen["edit_after"] = dialog.after_combo.currentText()
        pick(qtbot, dialog.phase_combo, "Later (12–24 months)")
        pick(qtbot, dialog.effort_combo, "Large")
        type_into(qtbot, dialog.owner_edit, "IT operations")
        press_ok(qtbot, dialog)

    click_row(qtbot, listing, 1)
    assert page.edit_action_button.isEnabled() and page.remove_action_button.isEnabled()
    dialogs.then(edit_b)
    qtbot.mouseClick(page.edit_action_button, LEFT)
    assert seen["edit_title"] == "Edit action — 1.1 Authentication"
    assert seen["edit_offers"] == ["None", "A-01 1.1 – Enforce phishing-resistant MFA for administrators"]
    assert seen["edit_after"] == "A-01 1.1 – Enforce phishing-resistant MFA for administrators"
    edited = next(x for x in list_actions(engagement) if x.id == b.id)
    assert edited.draft() == replace(b.draft(), phase="later", effort="L", owner="IT operations")
    assert ["A-02  Retire shared administrator accounts", "Later", "Large", "IT operations"] in rows(listing)

    # Undo and redo the edit.
    undo(qtbot, window)
    assert next(x for x in list_actions(engagement) if x.id == b.id).draft() == b.draft()
    redo(qtbot, window)
    assert next(x for x in list_actions(engagement) if x.id == b.id).draft() == edited.draft()

    # Remove the first (the second depends on it): asked first, then gone, and the second no longer waits.
    first_row = next(
        r for r in range(listing.topLevelItemCount()) if listing.topLevelItem(r).text(0).startswith("A-01")
    )  # type: ignore[union-attr]
    click_row(qtbot, listing, first_row)
    dialogs.click("Remove")
    qtbot.mouseClick(page.remove_action_button, LEFT)
    assert dialogs.seen[-1] == "Remove the action “Enforce phishing-resistant MFA for administrators”?"
    assert [x.id for x in list_actions(engagement)] == [b.id]
    assert list_actions(engagement)[0].after is None
    assert rows(listing) == [["A-01  Retire shared administrator accounts", "Later", "Large", "IT operations"]]
    stored = saved_actions(window, path)
    assert list(stored) == [b.id] and stored[b.id].after is None

    # Undo the removal: the same action under the same id, and the second comes after it again.
    undo(qtbot, window)
    now = {x.id: x for x in list_actions(engagement)}
    assert set(now) == {a.id, b.id}
    assert now[a.id].draft() == a.draft() and now[b.id].after == a.id
    stored = saved_actions(window, path)
    assert stored[a.id].draft() == a.draft() and stored[b.id].after == a.id
    assert len(rows(listing)) == 2

    # Redo it, undo again; then undo the edit and both additions, and redo them all.
    redo(qtbot, window)
    assert [x.id for x in list_actions(engagement)] == [b.id]
    undo(qtbot, window)
    undo(qtbot, window)  # the edit
    undo(qtbot, window)  # the second addition
    assert [x.id for x in list_actions(engagement)] == [a.id]
    undo(qtbot, window)  # the first addition
    assert list_actions(engagement) == [] and page.no_actions_label.isVisible()
    assert saved_actions(window, path) == {}
    for _ in range(3):
        redo(qtbot, window)
    now = {x.id: x for x in list_actions(engagement)}
    assert now[a.id].draft() == a.draft()
    assert now[b.id].draft() == edited.draft() and now[b.id].after == a.id
    stored = saved_actions(window, path)
    assert stored[b.id].draft() == edited.draft() and stored[b.id].after == a.id


def test_a_dependency_that_would_make_a_cycle_is_refused_and_nothing_changes(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = small_engagement(tmp_path)
    with open_engagement(path) as setup:  # A on 1.1; B on 1.2 comes after A
        a_id, _ = add_action(setup, AUTH, ActionDraft("Enforce phishing-resistant MFA", phase="now"))
        b_id, _ = add_action(setup, STORES, ActionDraft("Consolidate identity stores", after=a_id))
        setup.save()
    engagement, page = opened(window, path, AUTH)
    before = {x.id: x for x in list_actions(engagement)}
    steps = window.undo_stack.count()
    seen: dict[str, object] = {}

    # Edit A to come after B: the dialog says why in one line and stays open; Cancel leaves everything.
    def cycle(dialog: QWidget) -> None:
        assert isinstance(dialog, ActionDialog)
        pick(qtbot, dialog.after_combo, "A-02 1.2 – Consolidate identity stores")
        assert not dialog.error.isVisible()
        press_ok(qtbot, dialog)
        seen["open"] = dialog.isVisible()
        seen["error"] = dialog.error.text() if dialog.error.isVisible() else None
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Cancel), LEFT)

    click_row(qtbot, page.actions_list, 0)
    dialogs.then(cycle)
    qtbot.mouseClick(page.edit_action_button, LEFT)
    assert seen == {"open": True, "error": "That dependency would make a cycle of actions."}
    assert {x.id: x for x in list_actions(engagement)} == before
    assert window.undo_stack.count() == steps

    # The same request reaching the window another way is refused by the engagement: one line, nothing changed.
    messages: list[str] = []

    def read_and_close(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        messages.append(box.text())
        box.accept()

    dialogs.then(read_and_close)
    window.request(EditAction(a_id, replace(before[a_id].draft(), after=b_id)))
    assert messages == ["that dependency would make a cycle of actions"]
    assert {x.id: x for x in list_actions(engagement)} == before
    assert window.undo_stack.count() == steps and not window.isWindowModified()
    assert saved_actions(window, path) == before


def test_read_only_actions_can_be_viewed_not_changed(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path
) -> None:
    path = small_engagement(tmp_path)
    with open_engagement(path) as setup:
        add_action(setup, AUTH, ActionDraft("Enforce phishing-resistant MFA", cost="$10k–50k"))
        setup.save()
    assert window.open_path(path, read_only=True)
    assert window.workbench is not None and window.engagement is not None
    window.workbench.select_function(AUTH)
    page = window.workbench.page
    assert not page.add_action_button.isEnabled()
    assert page.edit_action_button.text() == "View…" and not page.edit_action_button.isEnabled()
    listing = page.actions_list
    item = listing.topLevelItem(0)
    assert item is not None
    seen: dict[str, object] = {}

    def look(dialog: QWidget) -> None:
        assert isinstance(dialog, ActionDialog)
        seen["title"] = dialog.windowTitle()
        seen["read_only"] = dialog.text_edit.isReadOnly() and not dialog.phase_combo.isEnabled()
        seen["cost"] = dialog.cost_edit.text()
        seen["ok"] = dialog.ok_button
        dialog.reject()

    dialogs.then(look)
    centre = listing.visualItemRect(item).center()
    qtbot.mousePress(listing.viewport(), LEFT, pos=centre)  # the first click of a double-click selects the row
    qtbot.mouseRelease(listing.viewport(), LEFT, pos=centre)
    qtbot.mouseDClick(listing.viewport(), LEFT, pos=centre)
    assert seen == {"title": "Action — 1.1 Authentication", "read_only": True, "cost": "$10k–50k", "ok": None}
    assert not page.remove_action_button.isEnabled()
    assert window.undo_stack.count() == 0


def test_an_action_dialog_refuses_blank_text_and_keeps_unknown_dependencies(qtbot: QtBot) -> None:
    dialog = ActionDialog(function_label="1.1 Authentication", default_stage=Stage.ADVANCED)
    qtbot.addWidget(dialog)
    ok = dialog.ok_button
    assert ok is not None and not ok.isEnabled()
    assert dialog.stage_combo.currentText() == "Advanced"
    dialog.accept()  # Enter cannot slip past
    assert dialog.result() == 0
    qtbot.keyClicks(dialog.text_edit, " Segment the admin network ")
    qtbot.keyClick(dialog.text_edit, Qt.Key.Key_Return)  # a new line in the text, not OK
    assert ok.isEnabled()
    assert dialog.draft() == ActionDraft("Segment the admin network", stage=Stage.ADVANCED)
    # An action whose dependency the list does not hold keeps it.
    other = ActionDialog(draft=ActionDraft("x", after="abcdef0123456789"), action_id="1")
    qtbot.addWidget(other)
    assert other.draft().after == "abcdef0123456789"
