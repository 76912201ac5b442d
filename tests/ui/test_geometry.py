"""The window at projector sizes: every visible control is on screen or a scroll bar away, no label is cut.

A consultant plugs a laptop into a client's projector at 1024×768, 1280×720 or
1366×768, often in workshop mode (F11: large type, high contrast). The window
must reflow to those sizes rather than clip: controls wrap or stack, long
texts wrap, and where nothing else helps a scroll bar reaches what is off the
edge. These tests walk every visible widget of the real window and fail with a
list of the ones a person could not see in full.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QModelIndex, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QScrollBar,
    QSizeGrip,
    QSplitterHandle,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionViewItem,
    QTabBar,
    QTreeView,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer
from ztmm_desktop.ui.common.theme import apply_workshop_mode
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

SIZES = (QSize(1024, 768), QSize(1280, 720), QSize(1366, 768))
#: Function pages with what makes a page long or wide: an override, findings, actions and client responses
#: (2.4), the longest stage texts and name (2.1, 4.4), a finding and an action (1.2), responses (1.1).
FUNCTIONS = (
    "devices.device_threat_protection",
    "devices.policy_enforcement_and_compliance_monitoring",
    "applications_and_workloads.secure_application_development_and_deployment_workflow",
    "identity.identity_stores",
    "identity.authentication",
)
#: Rounding of fractional font metrics.
SLACK = 2


def _describe(widget: QWidget) -> str:
    name = widget.objectName() or "-"
    text = ""
    if isinstance(widget, (QLabel, QAbstractButton)):
        text = widget.text()
    elif isinstance(widget, QComboBox):
        text = widget.currentText()
    text = " ".join(text.split())
    if len(text) > 50:
        text = text[:47] + "…"
    return f"{type(widget).__name__}#{name} {text!r}" if text else f"{type(widget).__name__}#{name}"


def _is_part_of_a_complex_widget(widget: QWidget) -> bool:
    """Scroll bars, splitter handles, the insides of item views, combos and tab bars are the style's business."""
    if isinstance(widget, (QScrollBar, QSizeGrip, QSplitterHandle)):
        return True
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractItemView, QComboBox, QTabBar)):
            return True
        parent = parent.parentWidget()
    return False


def _scroll_area_of(viewport: QWidget) -> QAbstractScrollArea | None:
    area = viewport.parentWidget()
    if isinstance(area, QAbstractScrollArea) and area.viewport() is viewport:
        return area
    return None


def _clip(widget: QWidget) -> tuple[QWidget, QAbstractScrollArea | None]:
    """The nearest ancestor that cuts the widget off at its edge: a scroll area's viewport, or the window."""
    parent = widget.parentWidget()
    while parent is not None and not parent.isWindow():
        area = _scroll_area_of(parent)
        if area is not None:
            return parent, area
        parent = parent.parentWidget()
    return widget.window(), None


def _unreachable(rect: QRect, viewport: QWidget, area: QAbstractScrollArea) -> str:
    """Why scrolling ``area`` does not bring the right and bottom edges of ``rect`` (viewport coordinates) into
    view; empty when it does.

    Pages reflow to the width they get: reaching a control by scrolling sideways counts as cut off (a
    horizontal bar is the last resort, for widths below the ones tested here).
    """
    where = f"{type(area).__name__}#{area.objectName() or '-'}"
    if rect.x() + rect.width() - viewport.width() > SLACK:
        return f"ends past the right edge of {where} (only sideways scrolling reaches it)"
    overflow, bar = rect.y() + rect.height() - viewport.height(), area.verticalScrollBar()
    if overflow > SLACK and (not bar.isVisible() or bar.maximum() - bar.value() < overflow - SLACK):
        return f"ends below {where} with no scroll bar to reach it"
    return ""


def _visible_widgets(root: QWidget) -> Iterator[QWidget]:
    for widget in root.findChildren(QWidget):
        if widget.isVisible() and widget.window() is root and not _is_part_of_a_complex_widget(widget):
            yield widget


def cut_off(root: QWidget) -> list[str]:
    """Every visible control of ``root`` that a person could not see in full, with why.

    Painted views (the dashboard) list the texts they had to shorten in ``cut_texts``; ``root`` is
    drawn first so that the list is current.
    """
    problems: list[str] = []
    root.grab()
    for widget in _visible_widgets(root):
        for text in getattr(widget, "cut_texts", []):
            problems.append(f"{_describe(widget)}: draws {text!r} cut short")
        if widget.width() <= 0 or widget.height() <= 0:
            continue
        clip, area = _clip(widget)
        rect = QRect(widget.mapTo(clip, QPoint(0, 0)), widget.size())
        over = rect.x() + rect.width() - clip.width() > SLACK or rect.y() + rect.height() - clip.height() > SLACK
        why = "ends outside the window" if area is None else _unreachable(rect, clip, area)
        if over and why:
            problems.append(f"{_describe(widget)}: {why}")
            continue
        parent = widget.parentWidget()
        if parent is not None and parent is not clip and _scroll_area_of(parent) is None:
            inside = QRect(widget.pos(), widget.size())
            if inside.right() - parent.rect().right() > SLACK or inside.bottom() - parent.rect().bottom() > SLACK:
                problems.append(f"{_describe(widget)}: cut off by its parent {_describe(parent)}")
                continue
        if isinstance(widget, QLabel) and widget.text() and widget.pixmap().isNull():
            if not widget.wordWrap() and widget.sizeHint().width() - widget.width() > SLACK:
                problems.append(f"{_describe(widget)}: text cut ({widget.width()} of {widget.sizeHint().width()} px)")
            elif widget.wordWrap() and widget.heightForWidth(widget.width()) - widget.height() > SLACK:
                problems.append(
                    f"{_describe(widget)}: wrapped text cut ({widget.height()} of"
                    f" {widget.heightForWidth(widget.width())} px high)"
                )
        elif isinstance(widget, QAbstractButton) and widget.minimumSizeHint().width() - widget.width() > SLACK:
            problems.append(
                f"{_describe(widget)}: squeezed ({widget.width()} of {widget.minimumSizeHint().width()} px)"
            )
    return problems


def _settle() -> None:
    for _ in range(3):
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        QApplication.processEvents()


@pytest.fixture(params=[False, True], ids=["normal", "workshop"])
def mode(request: pytest.FixtureRequest, window: MainWindow) -> Iterator[bool]:
    """Normal mode, or workshop mode switched on with F11 as a consultant does."""
    if request.param:
        window.workshop_action.trigger()
    try:
        yield request.param
    finally:
        apply_workshop_mode(False)


def _problems_at(window: MainWindow, size: QSize, views: list[tuple[str, object]]) -> list[str]:
    window.resize(size)
    _settle()
    assert window.size() == size, f"the window cannot be as small as {size.width()}×{size.height()}"
    found: list[str] = []
    for label, show in views:
        show()  # type: ignore[operator]
        _settle()
        found.extend(f"{label}: {problem}" for problem in cut_off(window))
    return found


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s.width()}x{s.height()}")
def test_every_control_is_in_view_or_a_scroll_bar_away(window: MainWindow, mode: bool, size: QSize) -> None:
    window.open_demo()
    bench = window.workbench
    assert bench is not None
    views: list[tuple[str, object]] = []
    for function_id in FUNCTIONS:

        def page(function_id: str = function_id) -> None:
            window.show_tab(0)
            bench.select_function(function_id)

        views.append((f"function page {function_id}", page))
    views.append(("evidence pane", lambda: window.show_tab(1)))
    views.append(("dashboard", lambda: window.show_tab(2)))
    views.append(("progress view", lambda: window.show_tab(3)))
    problems = _problems_at(window, size, views)
    assert problems == [], f"{len(problems)} cut off at {size.width()}×{size.height()}:\n" + "\n".join(problems)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s.width()}x{s.height()}")
def test_the_start_page_with_recent_files_and_team_server_engagements_fits(
    window: MainWindow, mode: bool, size: QSize, tmp_path: Path
) -> None:
    from ztmm_desktop.server.store import Listed

    window.start_page.set_recent([tmp_path / f"client {n} assessment.ztmm" for n in range(6)])
    section = window.start_page.server_section
    section.set_servers(["postgresql://consultant1@db.example.org:5432/ztmm?sslmode=verify-full"], "")
    section.show_listing(
        [
            Listed(
                f"eng_2026_{n:03}",
                f"Client {n} Federal Agency",
                "Zero Trust maturity baseline",
                "2026-10-05",
                "2026-11-20",
                n / 10,
                ("lead", "assessor", "reviewer")[n % 3],
            )
            for n in range(8)
        ]
    )
    problems = _problems_at(window, size, [("start page", lambda: None)])
    assert problems == [], f"{len(problems)} cut off at {size.width()}×{size.height()}:\n" + "\n".join(problems)


def _dialog_problems(dialog: QWidget) -> list[str]:
    """A dialog as it opens: no larger than a 1024×768 screen, nothing in it cut off."""
    _settle()
    title = dialog.windowTitle() or type(dialog).__name__
    found = [f"{title}: {problem}" for problem in cut_off(dialog)]
    least = dialog.minimumSizeHint().expandedTo(dialog.minimumSize())
    for what, size in (("opens at", dialog.size()), ("needs at least", least)):
        if size.width() > SIZES[0].width() or size.height() > SIZES[0].height():
            found.append(f"{title}: {what} {size.width()}×{size.height()}, larger than a 1024×768 screen")
    return found


def test_dialogs_fit_a_small_screen_and_cut_nothing_off(
    window: MainWindow, mode: bool, dialogs: DialogAnswerer
) -> None:
    window.resize(SIZES[0])
    window.open_demo()
    bench = window.workbench
    assert bench is not None
    bench.select_function("devices.device_threat_protection")
    _settle()
    found: list[str] = []

    def look_and_close(dialog: QWidget) -> None:
        found.extend(_dialog_problems(dialog))
        assert isinstance(dialog, QDialog)
        dialog.reject()

    page = bench.page
    openers = [
        window.new_action.trigger,
        window.properties_action.trigger,
        window.report_contents_action.trigger,
        window.assessor_action.trigger,
        window.workshops_action.trigger,
        window.deliverables.questionnaire_action.trigger,
        window.freeze_action.trigger,
        page.add_finding_button.click,
        page.add_action_button.click,
        window.about,
        window.team.open_action.trigger,  # File → Open from server…
        window.team.publish_action.trigger,
    ]
    for open_dialog in openers:
        dialogs.then(look_and_close)
        open_dialog()
    findings = page.findings_list
    findings.setCurrentItem(findings.topLevelItem(0))
    dialogs.then(look_and_close)
    page.edit_finding_button.click()
    actions = page.actions_list
    actions.setCurrentItem(actions.topLevelItem(0))
    dialogs.then(look_and_close)
    page.edit_action_button.click()
    assert found == [], f"{len(found)} problems in dialogs:\n" + "\n".join(found)


# -- the panes give way -------------------------------------------------------------------------------------


def test_the_tree_and_guidance_panes_hide_and_show_from_the_view_menu_and_are_remembered(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.resize(SIZES[0])
    window.open_demo()
    bench = window.workbench
    assert bench is not None
    _settle()
    centre = bench.tabs.width()
    assert window.tree_pane_action.isChecked() and window.guidance_pane_action.isChecked()

    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    _settle()
    assert not bench.guidance.isVisible() and not window.guidance_pane_action.isChecked()
    assert bench.tabs.width() > centre  # the centre takes the width
    window.tree_pane_action.trigger()  # View → Model tree
    _settle()
    assert not bench.panel.isVisible() and not window.tree_pane_action.isChecked()
    assert bench.tabs.width() >= SIZES[0].width() - 20

    window.close()  # the next start shows the panes as they were left
    again = MainWindow()
    again.show()
    try:
        again.resize(SIZES[0])
        again.open_demo()
        assert again.workbench is not None
        _settle()
        assert not again.workbench.guidance.isVisible() and not again.workbench.panel.isVisible()
        assert not again.tree_pane_action.isChecked()
        again.tree_pane_action.trigger()
        again.guidance_pane_action.trigger()
        _settle()
        assert again.workbench.panel.isVisible() and again.workbench.guidance.isVisible()
        assert again.workbench.panel.width() > 150 and again.workbench.guidance.width() > 150
        assert cut_off(again) == []
    finally:
        if again.engagement is not None:
            again.engagement.close()
            again.engagement = None
        again.close()


def _shown_text(view: QTreeView, index: QModelIndex) -> str:
    """The text of a tree cell as drawn: elided by the view's delegate to the cell's width."""
    option = QStyleOptionViewItem()
    option.textElideMode = view.textElideMode()
    option.rect = view.visualRect(index)
    option.font = view.font()
    option.fontMetrics = view.fontMetrics()
    delegate = view.itemDelegateForIndex(index)
    assert isinstance(delegate, QStyledItemDelegate)
    delegate.initStyleOption(option, index)
    room = option.rect.width() - 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
    return option.fontMetrics.elidedText(option.text, option.textElideMode, room)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s.width()}x{s.height()}")
def test_the_tree_shows_names_and_a_state_keeps_its_target(window: MainWindow, mode: bool, size: QSize) -> None:
    window.resize(size)
    window.open_demo()
    bench = window.workbench
    assert bench is not None
    bench.select_function("devices.device_threat_protection")
    _settle()
    view = bench.panel.tree
    assert isinstance(view, QTreeView)
    index = view.currentIndex()
    name = _shown_text(view, index.siblingAtColumn(0))
    assert name.startswith("2.4 Device"), name  # a code and a word of the name, at every size
    state = index.siblingAtColumn(1)
    if not view.isColumnHidden(1):
        shown = _shown_text(view, state)
        assert shown.startswith("Advanced") and shown.endswith("→ Optimal"), shown
    window.guidance_pane_action.trigger()  # the consultant hides the guidance and drags the tree wider
    sizes = bench.splitter.sizes()
    bench.splitter.setSizes([sizes[0] + 300, sizes[1] - 300, 0])
    _settle()
    assert not view.isColumnHidden(1), (bench.splitter.sizes(), view.viewport().width())
    shown = _shown_text(view, state)
    assert shown.startswith("Advanced") and shown.endswith("→ Optimal"), shown


# -- workshop mode contrast ----------------------------------------------------------------------------------


def _luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def _contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _strongest_contrast(widget: QWidget, rect: QRect, against: QColor) -> float:
    image = widget.grab(rect).toImage()
    return max(_contrast(image.pixelColor(x, y), against) for x in range(image.width()) for y in range(image.height()))


def test_an_unchecked_box_and_a_text_field_show_against_the_window(window: MainWindow, mode: bool) -> None:
    """The unchecked Override box and the Owner field's edge: at least 3:1 against the window (WCAG, non-text)."""
    window.resize(SIZES[1])
    window.open_demo()
    bench = window.workbench
    assert bench is not None
    bench.select_function("devices.policy_enforcement_and_compliance_monitoring")  # not overridden
    _settle()
    page = bench.page
    check = page.override_check
    assert check.isVisible() and not check.isChecked()
    background = check.palette().color(QPalette.ColorRole.Window)
    option = QStyleOptionButton()
    check.initStyleOption(option)
    box = check.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, check)
    assert box.height() >= check.fontMetrics().height() * 0.8  # as large as its text
    assert _strongest_contrast(check, box, background) >= 3
    owner = page.owner_edit
    edge = QRect(0, owner.height() // 4, 3, owner.height() // 2)  # the left edge, not the text
    assert _strongest_contrast(owner, edge, owner.palette().color(QPalette.ColorRole.Window)) >= 3
