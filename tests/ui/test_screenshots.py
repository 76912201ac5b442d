"""The start page, a function page and the dashboard render offscreen, and are not blank; so do the
function page at a projector's 1024×768 and in workshop mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from ztmm_desktop.ui.shell.screenshots import NAMES, SIZES, render

pytestmark = pytest.mark.gui


def distinct_colours(image: QImage) -> int:
    colours = set()
    for y in range(0, image.height(), 7):
        for x in range(0, image.width(), 7):
            colours.add(image.pixel(x, y))
    return len(colours)


def test_screenshots_render_and_show_content(qtbot: QtBot, tmp_path: Path) -> None:
    paths = render(tmp_path)
    assert [p.name for p in paths] == list(NAMES)
    images = [QImage(str(p)) for p in paths]
    for image, size in zip(images, SIZES, strict=True):
        assert (image.width(), image.height()) == (size.width(), size.height())
    start, function_page, dashboard, progress, small, workshop = images
    assert distinct_colours(start) > 5
    assert distinct_colours(function_page) > 40  # text, badges, rating buttons, tree colours
    assert distinct_colours(dashboard) > 40  # bars and the heat map
    assert function_page != dashboard
    assert distinct_colours(progress) > 10 and progress != dashboard  # the demo's baseline against today
    assert distinct_colours(small) > 40
    black = sum(1 for y in range(0, workshop.height(), 9) if workshop.pixelColor(workshop.width() // 2, y).value() < 30)
    assert black > workshop.height() // 9 // 3  # workshop mode's black background
