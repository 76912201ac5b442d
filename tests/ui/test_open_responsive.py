"""Opening an engagement never freezes the window: the storage work runs on a worker, and the workbench
is built in short steps through the event loop, which paints and runs its timers between them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QTimer
from pytestqt.qtbot import QtBot

from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.gui

RATINGS = (Rating.MET, Rating.PARTIAL, Rating.NOT_MET)


def realistic(path: Path) -> Path:
    """Every pillar in scope, every function rated with comments, two findings each (as a real engagement)."""
    with create_engagement(path, Properties(client="Northwind Utilities plc")) as made:
        for number, function in enumerate(made.functions_in_scope()):
            made.assess(
                function.id,
                ratings={stage: RATINGS[(number + int(stage)) % 3] for stage in RATED_STAGES},
                comments={
                    stage: f"Seen in the {stage.label.lower()} review of {function.label}." for stage in RATED_STAGES
                },
            )
            for finding in range(2):
                made.add_finding(function.id, f"Gap {finding + 1} in {function.label}", stage=Stage.ADVANCED)
        made.save()
    return path


class Heartbeat(QObject):
    """A timer on the UI thread that ticks at every turn of its event loop, noting at each tick what the
    status bar says is being opened (a turn that never comes, because the UI thread is busy, shows as a
    step the heartbeat never saw)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.seen: list[str] = []
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(lambda: self.seen.append(window.statusBar().currentMessage()))

    def building(self) -> list[str]:
        """The build steps the heartbeat ticked during ("Opening x.ztmm: the tree…"), in order, once each."""
        steps: list[str] = []
        for message in self.seen:
            if message.startswith("Opening ") and ": " in message and (not steps or steps[-1] != message):
                steps.append(message)
        return steps


def test_the_window_keeps_ticking_while_it_opens_a_realistic_engagement(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    path = realistic(tmp_path / "northwind.ztmm")
    heartbeat = Heartbeat(window)
    heartbeat.timer.start()
    assert window.open_path(path)  # as File → Open does once the file is chosen
    heartbeat.timer.stop()

    # The event loop ran between the steps of building the workbench, not only while the worker read the file:
    # the heartbeat ticked while the tree, the function page and the guidance were each being built.
    steps = heartbeat.building()
    assert any(step.endswith(": the tree…") for step in steps), steps
    assert any(step.endswith(": the function page…") for step in steps), steps
    assert any(step.endswith(": the guidance…") for step in steps), steps
    assert len(steps) >= 5, steps

    # Afterwards the workbench shows the engagement, usable at once.
    bench = window.workbench
    assert bench is not None and window.engagement is not None
    assert window.stack.currentWidget() is bench
    assert "northwind.ztmm" in window.windowTitle()
    assert window.statusBar().currentMessage() == ""  # the progress is gone
    first = next(iter(window.engagement.functions_in_scope()))
    assert bench.page.current_function_id == first.id
    assert bench.page.title_label.text() == first.label
    assert bench.page.findings_list.topLevelItemCount() == 2
    assert bench.page.scroll_area.isVisible()
    assert all(box.isVisible() for box in bench.page.stage_boxes.values())
    assert bench.guidance.function_id() == first.id
    assert len(bench.model.function_ids()) == len(window.engagement.functions_in_scope())
    assert bench.tree.currentIndex().isValid()
    assert "assessed" in window.summary.text()
