"""Long operations run off the UI thread, report progress, cancel, and hand results back."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from ztmm_desktop.core.errors import Cancelled
from ztmm_desktop.core.progress import CancelToken
from ztmm_desktop.ui.common.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_result_comes_back_on_the_ui_thread_while_the_ui_stays_free(qtbot: QtBot) -> None:
    runner = TaskRunner()
    ui_thread = threading.get_ident()
    seen: dict[str, object] = {}
    release = threading.Event()

    def work(progress, cancel: CancelToken) -> int:  # type: ignore[no-untyped-def]
        seen["worker"] = threading.get_ident()
        for step in range(3):
            progress(step + 1, 3, f"step {step + 1}")
        release.wait(5)
        return 42

    def done(result: object) -> None:
        seen["result"], seen["done_thread"] = result, threading.get_ident()

    assert runner.run("Working…", work, done, pytest.fail)
    assert runner.busy
    assert not runner.run("Second", work, done, pytest.fail)  # one task at a time
    qtbot.wait(20)  # the UI thread runs events while the worker waits
    release.set()
    qtbot.waitUntil(lambda: "result" in seen, timeout=5000)
    assert seen["result"] == 42
    assert seen["worker"] != ui_thread and seen["done_thread"] == ui_thread
    assert not runner.busy


def test_cancel_reaches_the_service_and_reports_cancelled(qtbot: QtBot) -> None:
    runner = TaskRunner()
    errors: list[BaseException] = []

    def work(progress, cancel: CancelToken) -> None:  # type: ignore[no-untyped-def]
        for _ in range(500):
            cancel.check()
            time.sleep(0.01)

    runner.run("Long work", work, pytest.fail, errors.append)
    dialog = runner._dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=3000)  # shown once the work takes long enough to notice
    (cancel,) = [b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel"]
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], Cancelled)
    assert not runner.busy


def test_errors_are_handed_back_not_lost(qtbot: QtBot) -> None:
    runner = TaskRunner()
    errors: list[BaseException] = []

    def work(progress, cancel: CancelToken) -> None:  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    runner.run("Failing", work, pytest.fail, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert str(errors[0]) == "disk full"


def test_work_the_ui_waits_for_runs_off_its_thread_while_its_timers_run_and_errors_come_back(qtbot: QtBot) -> None:
    from PySide6.QtCore import QTimer

    from ztmm_desktop.core.errors import EngagementFileError
    from ztmm_desktop.ui.common.tasks import off_ui_thread

    ticked = threading.Event()
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(ticked.set)
    timer.start()

    def work() -> int:
        ticked.clear()
        assert ticked.wait(10), "the UI thread's event loop did not run while the work ran"
        return threading.get_ident()

    try:
        assert off_ui_thread(work) != threading.get_ident()

        def refused() -> None:
            raise EngagementFileError("client.ztmm: refused")

        with pytest.raises(EngagementFileError, match=r"client\.ztmm: refused"):
            off_ui_thread(refused)
    finally:
        timer.stop()


def test_in_steps_lets_the_event_loop_run_between_steps_and_hands_back_an_error(qtbot: QtBot) -> None:
    """Work that must stay on the UI thread, in steps: the window's timers run between any two of them."""
    from collections.abc import Iterator

    from PySide6.QtCore import QTimer

    from ztmm_desktop.core.errors import EngagementFileError
    from ztmm_desktop.ui.common.tasks import in_steps

    ticks: list[int] = []
    done: list[int] = []
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: ticks.append(len(done)))
    timer.start()

    def steps() -> Iterator[None]:
        for number in range(5):
            done.append(number)
            yield

    try:
        in_steps(steps())
        assert done == [0, 1, 2, 3, 4]  # every step ran, in order, before in_steps returned
        assert {1, 2, 3, 4} <= set(ticks)  # the timer ticked after each step but the last, before the next

        def failing() -> Iterator[None]:
            yield
            raise EngagementFileError("client.ztmm: refused")

        with pytest.raises(EngagementFileError, match=r"client\.ztmm: refused"):
            in_steps(failing())
    finally:
        timer.stop()
