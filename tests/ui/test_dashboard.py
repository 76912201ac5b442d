"""The dashboard: headline, current against target per pillar, and the clickable heat map."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.demo import open_demo
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.dashboard.view import Dashboard

pytestmark = pytest.mark.gui

THREAT_PROTECTION = "devices.device_threat_protection"  # 2.4, overridden in the demo


def shown(qtbot: QtBot, dashboard: Dashboard, width: int = 900, height: int = 600) -> Dashboard:
    qtbot.addWidget(dashboard)
    dashboard.resize(width, height)
    dashboard.show()
    qtbot.waitExposed(dashboard)
    return dashboard


def distinct_colours(image: QImage, step: int = 7) -> int:
    colours = {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}
    return len(colours)


def test_clicking_a_cell_emits_its_function(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        dashboard = shown(qtbot, Dashboard(engagement))
        rect = dashboard.cell_rect(THREAT_PROTECTION)
        assert rect.isValid()
        assert dashboard.rect().contains(rect)
        assert dashboard.cell_rect("2.4") == rect  # the display code finds the same cell
        assert dashboard.function_at(rect.center()) == THREAT_PROTECTION
        with qtbot.waitSignal(dashboard.functionActivated, timeout=1000) as blocker:
            qtbot.mouseClick(dashboard, Qt.MouseButton.LeftButton, pos=rect.center())
        assert blocker.args == [THREAT_PROTECTION]
        tip = dashboard.tooltip_text(THREAT_PROTECTION)
        assert "2.4 Device Threat Protection" in tip
        assert "Advanced (override) → Optimal" in tip
    finally:
        engagement.close()


def test_clicking_outside_the_cells_emits_nothing(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        dashboard = shown(qtbot, Dashboard(engagement))
        received: list[str] = []
        dashboard.functionActivated.connect(received.append)
        qtbot.mouseClick(dashboard, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
        headline = dashboard.cell_rect("1.1").topLeft() - QPoint(0, 40)
        qtbot.mouseClick(dashboard, Qt.MouseButton.LeftButton, pos=headline)
        assert received == []
    finally:
        engagement.close()


def test_keyboard_moves_between_cells_and_activates(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        dashboard = shown(qtbot, Dashboard(engagement))
        dashboard.setFocus()
        qtbot.mouseClick(dashboard, Qt.MouseButton.LeftButton, pos=dashboard.cell_rect("2.3").center())
        with qtbot.waitSignal(dashboard.functionActivated, timeout=1000) as blocker:
            qtbot.keyClick(dashboard, Qt.Key.Key_Right)
            qtbot.keyClick(dashboard, Qt.Key.Key_Return)
        assert blocker.args == [THREAT_PROTECTION]
    finally:
        engagement.close()


def test_every_function_in_scope_has_its_own_cell(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        dashboard = shown(qtbot, Dashboard(engagement))
        functions = engagement.functions_in_scope()
        assert len(functions) == 40
        rects = {f.id: dashboard.cell_rect(f.id) for f in functions}
        for function_id, rect in rects.items():
            assert rect.isValid(), function_id
            assert dashboard.rect().contains(rect), function_id
            assert dashboard.function_at(rect.center()) == function_id
        ordered = list(rects.values())
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                assert not a.intersects(b)
        assert dashboard.cell_rect("no.such_function").isNull()
        data = dashboard.data()
        assert data is not None
        assert [p.name for p in data.pillars] == [p.name for p in engagement.catalog.pillars]
        assert [len(p.cells) for p in data.pillars] == [7, 7, 7, 8, 8, 3]
    finally:
        engagement.close()


def test_headline_and_pillars_show_the_rollups(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        dashboard = shown(qtbot, Dashboard(engagement))
        pillars, overall = engagement.rollups()
        text = dashboard.headline_text()
        assert text.startswith(f"Overall {overall.score_text}")
        assert f"{overall.assessed} of {overall.functions} functions assessed" in text
        assert f"{overall.below_target} below target" in text
        for stage in Stage:
            assert f"{stage.label} {overall.distribution[stage]}" in text
        rows = dashboard.pillar_texts()
        assert rows[0] == ("Identity", f"{pillars[0].score:.1f}", f"{pillars[0].target_score:.1f}")
        assert rows[-1] == ("Cross-cutting capabilities", "not assessed", "no target")  # nothing rated there
        cell = next(c for p in dashboard.data().pillars for c in p.cells if c.function_id == THREAT_PROTECTION)  # type: ignore[union-attr]
        assert cell.overridden and cell.current is Stage.ADVANCED and cell.derived is Stage.INITIAL
    finally:
        engagement.close()


def test_nothing_assessed_says_so_and_draws_no_bars(qtbot: QtBot, tmp_path: Path) -> None:
    engagement = create_engagement(tmp_path / "empty.ztmm", Properties(client="Empty Co"))
    try:
        dashboard = shown(qtbot, Dashboard(engagement))
        assert dashboard.headline_text().startswith("Overall not assessed · 0 of 40 functions assessed")
        assert all(current == "not assessed" for _, current, _ in dashboard.pillar_texts())
        data = dashboard.data()
        assert data is not None
        assert data.score is None
        assert all(p.score is None for p in data.pillars)
        assert all(c.current is None and not c.assessed for p in data.pillars for c in p.cells)
        assert not dashboard.grab().toImage().isNull()
    finally:
        engagement.close()


def test_image_is_drawn_and_follows_the_engagement(qtbot: QtBot, tmp_path: Path) -> None:
    demo = open_demo()
    empty = create_engagement(tmp_path / "empty.ztmm", Properties(client="Empty Co"))
    try:
        dashboard = shown(qtbot, Dashboard(demo))
        demo_image = dashboard.grab().toImage()
        assert distinct_colours(demo_image) > 8  # not a blank fill
        dashboard.set_engagement(empty)
        empty_image = dashboard.grab().toImage()
        assert empty_image != demo_image

        empty.assess("1.1", ratings={Stage.INITIAL: Rating.MET}, target=Stage.ADVANCED)
        before = dashboard.headline_text()
        assert dashboard.grab().toImage() == empty_image  # cached: nothing changes until refresh()
        dashboard.refresh()
        assert dashboard.headline_text() != before
        assert dashboard.headline_text().startswith("Overall 1.0 (Initial) · 1 of 40 functions assessed")
        assert dashboard.grab().toImage() != empty_image
    finally:
        demo.close()
        empty.close()


def test_paint_does_not_read_the_engagement(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    engagement = open_demo()
    try:
        dashboard = shown(qtbot, Dashboard(engagement))

        def forbidden(*args: object, **kwargs: object) -> None:
            raise AssertionError("the dashboard read the engagement while painting")

        for name in ("results", "rollups", "assessments", "meta", "roadmap", "functions_in_scope"):
            monkeypatch.setattr(engagement, name, forbidden)
        dashboard.resize(1200, 800)
        image = dashboard.grab().toImage()
        assert distinct_colours(image) > 8
        dashboard.cell_rect(THREAT_PROTECTION)
    finally:
        monkeypatch.undo()
        engagement.close()


def test_scales_with_size_and_font(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        dashboard = shown(qtbot, Dashboard(engagement))
        small = dashboard.cell_rect("1.1")
        dashboard.resize(1600, 1000)
        assert dashboard.cell_rect("1.1").width() > small.width()
        minimum = dashboard.minimumSizeHint()
        font = dashboard.font()
        font.setPointSizeF(font.pointSizeF() * 2)  # workshop mode
        dashboard.setFont(font)
        assert dashboard.minimumSizeHint().width() > minimum.width()
        assert dashboard.minimumSizeHint().height() > minimum.height()
        dashboard.resize(dashboard.width(), dashboard.heightForWidth(dashboard.width()))
        for function in engagement.functions_in_scope():
            assert dashboard.rect().contains(dashboard.cell_rect(function.id)), function.id
        dashboard.resize(500, 400)  # narrower than the side-by-side layout: cards stack
        assert dashboard.cell_rect("1.1").isValid()
    finally:
        engagement.close()


def test_no_engagement_shows_a_message(qtbot: QtBot) -> None:
    dashboard = shown(qtbot, Dashboard())
    assert dashboard.headline_text() == "No engagement open"
    assert dashboard.cell_rect("1.1").isNull()
    assert dashboard.function_at(QPoint(100, 100)) is None
    assert not dashboard.grab().toImage().isNull()
