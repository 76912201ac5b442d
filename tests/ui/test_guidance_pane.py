"""The guidance pane: recommendations per stage, the next stage, safe links and escaped text."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QTextBrowser
from pytestqt.qtbot import QtBot

from ztmm_desktop.core.catalog import GuidancePack, Recommendation, Reference
from ztmm_desktop.core.stages import Stage
from ztmm_desktop.services.catalogs import Library
from ztmm_desktop.services.demo import open_demo
from ztmm_desktop.services.engagement import Engagement
from ztmm_desktop.ui.function.guidance import GuidanceBrowser, GuidancePane

pytestmark = pytest.mark.gui

APPLICATION_ACCESS = "applications_and_workloads.application_access"  # 4.1


@dataclass(frozen=True)
class Anchor:
    text: str
    href: str
    position: int


def anchors(view: QTextBrowser) -> list[Anchor]:
    """Every link in the view's document, in reading order (fragments of one link merged)."""
    found: list[Anchor] = []
    block = view.document().begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            href = fragment.charFormat().anchorHref() if fragment.charFormat().isAnchor() else ""
            if href:
                last = found[-1] if found else None
                if last and last.href == href and last.position + len(last.text) == fragment.position():
                    found[-1] = Anchor(last.text + fragment.text(), href, last.position)
                else:
                    found.append(Anchor(fragment.text(), href, fragment.position()))
            fragments += 1
        block = block.next()
    return found


def pane_for(qtbot: QtBot, engagement: Engagement, opened: list[QUrl]) -> GuidancePane:
    pane = GuidancePane(engagement, open_url=opened.append)
    qtbot.addWidget(pane)
    pane.resize(900, 600)
    pane.show()
    qtbot.waitExposed(pane)
    return pane


def test_stage_recommendations_with_their_links(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        opened: list[QUrl] = []
        pane = pane_for(qtbot, engagement, opened)
        pane.show_function("4.1", Stage.INITIAL)
        assert pane.function_id() == APPLICATION_ACCESS
        assert pane.stage() is Stage.INITIAL
        assert pane.title_label.text() == "4.1 Application Access"
        text = pane.guidance_view.toPlainText()
        assert "Microsoft Entra ID applications" in text
        assert "Advanced" not in text.split("Microsoft Entra ID applications")[0]  # only the stage asked for
        expected = [
            (ref.title, ref.url)
            for pack in engagement.library.packs
            for rec in pack.for_stage(APPLICATION_ACCESS, Stage.INITIAL)
            for ref in rec.references
        ]
        assert ("Integrate Microsoft Entra ID and apps", expected[0][1]) in expected
        assert [(a.text, a.href) for a in anchors(pane.guidance_view)] == expected
        for pack in engagement.library.packs:
            for rec in pack.for_stage(APPLICATION_ACCESS, Stage.INITIAL):
                assert rec.product in text
                assert rec.action in text
        assert pane.attribution_text() == "Guidance: Microsoft, CC BY 4.0"
        assert opened == []  # showing guidance opens nothing
    finally:
        engagement.close()


def test_clicking_a_link_opens_exactly_that_url(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        opened: list[QUrl] = []
        pane = pane_for(qtbot, engagement, opened)
        pane.show_function("4.1", Stage.INITIAL)
        view = pane.guidance_view
        link = next(a for a in anchors(view) if a.text == "Tokens and claims")
        assert link.href.startswith("https://")
        cursor = QTextCursor(view.document())
        cursor.setPosition(link.position + len(link.text) // 2)
        view.setTextCursor(cursor)
        view.ensureCursorVisible()
        at = view.cursorRect(cursor).center() + QPoint(1, 0)
        with qtbot.waitSignal(pane.linkOpened, timeout=1000):
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
        assert [u.toString() for u in opened] == [link.href]
        assert opened[0] == QUrl(link.href)
    finally:
        engagement.close()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "file:///etc/passwd",
        "file:///C:/Windows/System32/calc.exe",
        "ftp://example.com/file",
        "mailto:someone@example.com",
        "data:text/html,<script>alert(1)</script>",
        "https:",
        "relative/path.html",
    ],
)
def test_only_web_links_are_ever_opened(qtbot: QtBot, url: str) -> None:
    engagement = open_demo()
    try:
        opened: list[QUrl] = []
        pane = pane_for(qtbot, engagement, opened)
        pane.show_function("4.1")
        pane.guidance_view.anchorClicked.emit(QUrl(url))
        pane.next_view.anchorClicked.emit(QUrl(url))
        assert pane.open_link(QUrl(url)) is False
        assert opened == []
        pane.guidance_view.anchorClicked.emit(QUrl("https://learn.microsoft.com/security/zero-trust/"))
        assert [u.toString() for u in opened] == ["https://learn.microsoft.com/security/zero-trust/"]
    finally:
        engagement.close()


def test_every_stage_grouped_and_empty_stages_said_plainly(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        pane = pane_for(qtbot, engagement, [])
        pane.show_function("4.1")
        text = pane.guidance_view.toPlainText()
        positions = [text.index(stage.label) for stage in Stage]
        assert positions == sorted(positions)
        assert "No recommendations for Traditional" in text
        assert "Microsoft Entra ID applications" in text
        pane.show_function("4.3", Stage.ADVANCED)
        text = pane.guidance_view.toPlainText()
        assert "No recommendations for 4.3 at Advanced" in text
        assert anchors(pane.guidance_view) == []
        pane.show_function("4.3", Stage.TRADITIONAL)
        assert "No recommendations for Traditional" in pane.guidance_view.toPlainText()
    finally:
        engagement.close()


def test_next_stage_lists_what_it_takes_to_reach_the_target(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        pane = pane_for(qtbot, engagement, [])
        pane.tabs.setCurrentWidget(pane.next_view)  # the consultant opens the Next stage tab
        pane.show_function("1.1")  # Advanced → Optimal in the demo
        assert pane.subtitle_label.text() == "Identity · Advanced → Optimal"
        text = pane.next_view.toPlainText()
        assert "Advanced → Optimal".upper() in text.upper()
        assert "1 stage to climb" in text
        assert "Assessed: Partially met — Continuous access evaluation enabled for Exchange" in text
        function_id = engagement.catalog.function("1.1").id
        optimal = [r for p in engagement.library.packs for r in p.for_stage(function_id, Stage.OPTIMAL)]
        advanced = [r for p in engagement.library.packs for r in p.for_stage(function_id, Stage.ADVANCED)]
        assert optimal
        for rec in optimal:
            assert rec.action in text
        for rec in advanced:
            assert rec.action not in text  # already reached: not part of the climb
        assert {a.href for a in anchors(pane.next_view)} == {ref.url for r in optimal for ref in r.references}

        pane.show_function("1.2")  # Advanced, target Advanced
        assert "already at its target (Advanced)" in pane.next_view.toPlainText()
        pane.show_function("3.2")  # nothing rated, no target
        assert "No target stage is set for 3.2" in pane.next_view.toPlainText()
    finally:
        engagement.close()


def test_the_next_stage_tab_shows_the_function_shown_last_when_opened(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        pane = pane_for(qtbot, engagement, [])
        pane.show_function("1.1")
        pane.show_function("1.2")  # Advanced, target Advanced
        qtbot.mouseClick(pane.tabs.tabBar(), Qt.MouseButton.LeftButton, pos=pane.tabs.tabBar().tabRect(1).center())
        assert pane.tabs.currentWidget() is pane.next_view
        assert "already at its target (Advanced)" in pane.next_view.toPlainText()
    finally:
        engagement.close()


def test_refresh_follows_edits(qtbot: QtBot) -> None:
    engagement = open_demo()
    try:
        pane = pane_for(qtbot, engagement, [])
        pane.tabs.setCurrentWidget(pane.next_view)
        pane.show_function("3.2")
        engagement.assess("3.2", target=Stage.INITIAL)
        assert "No target stage" in pane.next_view.toPlainText()  # not re-read yet
        pane.refresh()
        text = pane.next_view.toPlainText()
        assert "1 stage to climb" in text
        assert "not assessed yet" in text
    finally:
        engagement.close()


def test_catalog_text_is_shown_literally(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    engagement = open_demo()
    try:
        function_id = engagement.catalog.function("1.1").id
        hostile = GuidancePack(
            id="test-pack",
            version="1",
            title="Test <pack>",
            publisher="R&D <Labs>",
            catalog_id=engagement.catalog.id,
            licence="MIT",
            attribution="<img src='https://tracker.example/pixel.png'> & more",
            recommendations=(
                Recommendation(
                    function_id=function_id,
                    stage=Stage.INITIAL,
                    product="<b>Bold</b> & Sons",
                    action="Use <i>this</i> & <script>alert(1)</script> <img src='https://tracker.example/x.png'>",
                    references=(
                        Reference("Docs <b>&amp;</b> more", "https://example.com/a?x=1&y=<2>"),
                        Reference("Sneaky", "javascript:alert(1)"),
                        Reference("Local file", "file:///etc/passwd"),
                    ),
                ),
            ),
            pillar_references={},
            general_references=(),
        )
        monkeypatch.setattr(engagement, "_library", Library(catalog=engagement.catalog, packs=(hostile,)))
        opened: list[QUrl] = []
        pane = pane_for(qtbot, engagement, opened)
        pane.show_function("1.1", Stage.INITIAL)
        text = pane.guidance_view.toPlainText()
        assert "<b>Bold</b> & Sons" in text
        assert "Use <i>this</i> & <script>alert(1)</script> <img src='https://tracker.example/x.png'>" in text
        assert "Docs <b>&amp;</b> more" in text
        assert "Sneaky" in text and "Local file" in text  # shown as text, not as links
        assert [(a.text, a.href) for a in anchors(pane.guidance_view)] == [
            ("Docs <b>&amp;</b> more", "https://example.com/a?x=1&y=<2>")
        ]
        assert "<img" not in pane.guidance_view.toHtml()
        assert pane.attribution_text() == "Guidance: R&D <Labs>, MIT"
    finally:
        engagement.close()


def test_the_browser_loads_no_resources() -> None:
    browser = GuidanceBrowser()
    try:
        assert browser.openLinks() is False
        assert browser.openExternalLinks() is False
        for url in ("https://tracker.example/pixel.png", "file:///etc/passwd", "qrc:/icon.png"):
            assert browser.loadResource(2, QUrl(url)) is None
    finally:
        browser.deleteLater()


def test_no_engagement_or_function(qtbot: QtBot) -> None:
    pane = GuidancePane(open_url=lambda url: pytest.fail("opened a link"))
    qtbot.addWidget(pane)
    assert "Open an engagement" in pane.guidance_view.toPlainText()
    with pytest.raises(RuntimeError):
        pane.show_function("1.1")
    engagement = open_demo()
    try:
        pane.set_engagement(engagement)
        assert "Select a function" in pane.guidance_view.toPlainText()
        pane.show_function("2.4")
        assert pane.subtitle_label.text() == "Devices · Advanced (override) → Optimal"
        pane.clear()
        assert pane.function_id() is None
    finally:
        engagement.close()
