"""No silent failures: a file or a link that nothing on the laptop opens says so and offers the way round;
a reference to another function in the guidance shows that function, never a web page."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QTextCursor
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.conftest import DialogAnswerer, no_file_dialog
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.function.guidance import function_of_url
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

RESOURCE_ACCESS = "devices.resource_access"  # 2.3: its Advanced guidance refers to "section 2.1" and "section 1.1"
POLICY = "devices.policy_enforcement_and_compliance_monitoring"  # 2.1


@pytest.fixture
def nothing_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A locked-down laptop: no viewer, no browser, no file manager. Returns what was asked to be opened."""
    asked: list[str] = []

    def open_url(url: QUrl) -> bool:
        asked.append(url.toString())
        return False

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(open_url))
    return asked


def open_small(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "small.ztmm"
    with create_engagement(path, Properties(client="Small Ltd", scope=("identity",))) as made:
        made.assess("1.1", ratings={Stage.INITIAL: Rating.MET})
        made.save()
    assert window.open_path(path)


def export_workbook(window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer) -> None:
    window.deliverables.workbook_action.trigger()
    qtbot.waitUntil(lambda: dialogs.done, timeout=30000)


def test_an_export_nothing_opens_offers_to_copy_its_path(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    nothing_opens: list[str],
) -> None:  # fmt: skip
    open_small(window, tmp_path)
    out = tmp_path / "out" / "small.xlsx"
    out.parent.mkdir()
    no_file_dialog(monkeypatch, out)
    QApplication.clipboard().setText("something else")
    dialogs.click("Open").click("Copy path")
    export_workbook(window, qtbot, dialogs)
    assert dialogs.seen == ["Wrote small.xlsx. Open it now?", "No application on this computer opened small.xlsx."]
    assert nothing_opens == [QUrl.fromLocalFile(str(out)).toString()]
    assert QApplication.clipboard().text() == str(out)


def test_show_in_folder_opens_the_folder_or_says_it_could_not(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    nothing_opens: list[str],
) -> None:  # fmt: skip
    open_small(window, tmp_path)
    out = tmp_path / "out" / "small.xlsx"
    out.parent.mkdir()
    no_file_dialog(monkeypatch, out)
    dialogs.click("Open").click("Show in folder").click("Copy path")
    export_workbook(window, qtbot, dialogs)
    assert dialogs.seen[1:] == [
        "No application on this computer opened small.xlsx.",
        "The folder could not be opened either.",
    ]
    assert nothing_opens == [QUrl.fromLocalFile(str(p)).toString() for p in (out, out.parent)]
    assert QApplication.clipboard().text() == str(out)

    # With a file manager, Show in folder opens the folder and asks nothing more.
    folders: list[str] = []
    monkeypatch.setattr(
        QDesktopServices,
        "openUrl",
        staticmethod(lambda url: url.toLocalFile() == str(out.parent) and not folders.append(url.toLocalFile())),
    )
    dialogs.click("Open").click("Show in folder")
    export_workbook(window, qtbot, dialogs)
    assert folders == [str(out.parent)]


def click_anchor(qtbot: QtBot, view: object, text: str) -> str:
    """Click the middle of the link whose text is ``text`` in a QTextBrowser, as a person would; its href."""
    document = view.document()  # type: ignore[attr-defined]
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            form = fragment.charFormat()
            if form.isAnchor() and fragment.text() == text:
                cursor = QTextCursor(document)
                cursor.setPosition(fragment.position() + len(text) // 2)
                view.setTextCursor(cursor)  # type: ignore[attr-defined]
                view.ensureCursorVisible()  # type: ignore[attr-defined]
                at = view.cursorRect(cursor).center() + QPoint(1, 0)  # type: ignore[attr-defined]
                qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)  # type: ignore[attr-defined]
                return str(form.anchorHref())
            it += 1
        block = block.next()
    raise AssertionError(f"no link {text!r}")


def test_a_guidance_link_no_browser_opens_offers_to_copy_it(
    window: MainWindow, qtbot: QtBot, dialogs: DialogAnswerer, nothing_opens: list[str]
) -> None:
    window.open_demo()
    bench = window.workbench
    assert bench is not None
    bench.select_function("4.1", Stage.INITIAL)
    dialogs.click("Copy link")
    href = click_anchor(qtbot, bench.guidance.guidance_view, "Tokens and claims")
    qtbot.waitUntil(lambda: dialogs.done)
    assert dialogs.seen == ["No web browser on this computer opened the link."]
    assert nothing_opens == [href]
    assert QApplication.clipboard().text() == href


def test_a_reference_to_another_function_shows_it_in_the_workbench(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: pytest.fail(f"opened {url.toString()}")))
    window.open_demo()
    bench = window.workbench
    assert bench is not None
    bench.select_function(RESOURCE_ACCESS, Stage.ADVANCED)
    view = bench.guidance.guidance_view
    assert "section 2.1" in view.toPlainText()
    href = click_anchor(qtbot, view, "section 2.1")
    assert function_of_url(QUrl(href)) == "2.1"
    assert bench.page.current_function_id == POLICY
    assert bench.panel.tree.currentIndex().data() == "2.1 Policy Enforcement & Compliance Monitoring"
    assert bench.guidance.function_id() == POLICY
    assert bench.tabs.currentWidget() is bench.page
