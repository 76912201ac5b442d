"""What the consultant feels in the window: start-up, a click in the tree, saving.

Everything runs on Qt's ``offscreen`` platform (``QT_QPA_PLATFORM=offscreen``
in this process and in every process it starts), so a run opens no window and
does not depend on a display.

1. **Start to first paint.** Wall time from ``Popen`` to the child printing a
   marker once the window has painted its first frame, against the same for a
   bare ``QMainWindow`` holding a ``QTreeView`` over a small
   ``QStandardItemModel``. The app is started as ``--demo`` starts it: its first
   frame shows the model's tree from the catalog (the engagement loads after
   it), and the child also marks the first frame of the ``Workbench`` with the
   demo open (informational). Both children mark the first ``QEvent.Paint`` of
   the main window with an event filter, and print from a
   ``QTimer.singleShot(0)`` queued there: Qt paints a whole frame (the widget
   and all its dirty children, then the flush to the backing store) inside one
   ``UpdateRequest``, so the queued call runs when that frame is complete. The
   child also says whether SQLAlchemy was imported by then (it must not be).
   Fresh processes: interpreter start and imports are part of what a user
   waits for.
2. **Tree click to function page shown.** A real ``QTest.mouseClick`` on each
   function row of the tree, until the page shows that function and the frame
   holding it has been painted; against the same clicks on a bare ``QTreeView``
   with the same rows and nothing connected. Once with the demo, once with the
   large engagement (longer comments, ten findings a function).
3. **Longest UI stall while saving the large engagement.** A 5 ms heartbeat
   timer during ``MainWindow.save()`` (which saves on a worker thread); against
   the same heartbeat for the same time with nothing running.
4. **A typing commit on the large engagement.** Real keystrokes in a
   function's Notes and in a stage comment, then the pause that commits them to
   the working copy: the time of the commit handler on the UI thread (request,
   durable write, the views' update), against a single-row ``UPDATE`` +
   ``COMMIT`` with plain ``sqlite3`` (WAL, ``synchronous=FULL``) in the same
   folder, the least any durable keystroke commit can cost; and the longest gap
   of a 5 ms heartbeat around the commit, against the heartbeat's own jitter.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QModelIndex, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTreeView

from benchmarks.bench_edit import _floor_db, _floor_edit
from benchmarks.common import Result, large_engagement, median, ms, percentile
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.store.document import data_dir
from ztmm_desktop.ui.common.keystrokes import PAUSE_MS
from ztmm_desktop.ui.editing.requests import SetRating
from ztmm_desktop.ui.function.page import CommitTextEdit
from ztmm_desktop.ui.shell.main_window import MainWindow

OFFSCREEN = {"QT_QPA_PLATFORM": "offscreen"}
START_RUNS = 5  # per side, after one warm-up each
CLICK_ROUNDS = 5  # timed passes over every function row, per side, after one warm-up pass
SAVE_RUNS = 5
TYPING_RUNS = 8  # commits per text box (Notes, a stage comment), after one warm-up each
HEARTBEAT_MS = 5
LEAD_MS = 150  # heartbeat before the save starts and after it ends
CHILD_TIMEOUT = 60  # seconds
SETTLE_TIMEOUT = 5.0  # seconds an awaited paint or save may take before the benchmark gives up
WINDOW_MARKER = "window"  # the window's first frame, with the model's tree
DEMO_MARKER = "demo"  # the workbench's first frame, with the demo open

# -- 1. start to first paint --------------------------------------------------------

#: The app, as ``python -m ztmm_desktop.ui.app --demo`` builds it (``app.main``), watched twice: the first
#: frame of the window with the model's tree (``OpeningPage``, shown before the engagement loads) and the
#: first frame of the ``Workbench`` with the demo open (which exists only once the demo is open).
APP_CHILD = textwrap.dedent(
    f"""
    import sys

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    from ztmm_desktop import __version__
    from ztmm_desktop.ui.common.appinfo import APP_NAME, ICON_NAME, app_icon

    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(ICON_NAME)
    app.setWindowIcon(app_icon())
    from ztmm_desktop.ui.shell.main_window import start


    class FirstPaint(QObject):
        def __init__(self, marker, then=None):
            super().__init__()
            self.marker, self.then, self.seen = marker, then, False

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                QTimer.singleShot(0, self.done)  # runs when the frame being painted is complete
            return False

        def done(self):
            print(self.marker, "sqlalchemy" in sys.modules, flush=True)
            if self.then is not None:
                self.then()


    def finish():
        window.close()  # closes the demo engagement: no working copy is left
        app.quit()


    def opened():
        if window.workbench is not None:  # the demo is open; the start page never counts
            window.workbench.installEventFilter(demo_watch)


    window_watch = FirstPaint({WINDOW_MARKER!r})
    demo_watch = FirstPaint({DEMO_MARKER!r}, finish)
    window = start([], demo=True)
    if window.opening is None:
        sys.exit("the window shows no opening page while the demo loads")
    # Installed after start()'s own watch, so this filter sees the paint first and its call is queued first.
    window.installEventFilter(window_watch)
    window.engagementChanged.connect(opened)
    code = app.exec()
    if window.engagement is not None:
        window.engagement.close()
        sys.exit("the demo engagement was still open")
    sys.exit(code)
    """
)

#: The floor: a bare main window with a tree over a small model, the same size as the app's window.
FLOOR_CHILD = textwrap.dedent(
    f"""
    import sys

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QMainWindow, QTreeView

    app = QApplication([sys.argv[0]])


    class FirstPaint(QObject):
        seen = False

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint and not self.seen:
                self.seen = True
                QTimer.singleShot(0, done)  # runs when the frame being painted is complete
            return False


    def done():
        print({WINDOW_MARKER!r}, False, flush=True)
        app.quit()


    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(["Model", "Current → target", "Status"])
    for p in range(5):
        pillar = QStandardItem(f"Pillar {{p + 1}}")
        for f in range(8):
            pillar.appendRow([QStandardItem(f"Function {{p + 1}}.{{f + 1}}"), QStandardItem("Initial"), QStandardItem("done")])
        model.appendRow(pillar)
    window = QMainWindow()
    tree = QTreeView()
    tree.setModel(model)
    tree.expandToDepth(0)
    window.setCentralWidget(tree)
    window.resize(1440, 900)
    watch = FirstPaint()
    window.installEventFilter(watch)
    window.show()
    sys.exit(app.exec())
    """
)


def _child_env() -> dict[str, str]:
    """This environment on the offscreen platform, with bytecode caches on (an installed app runs from them;
    the warm-up run writes them): the children time the app's start, not compiling its sources."""
    env = dict(os.environ, **OFFSCREEN)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # A fresh data folder is a first start, which asks the assessor's name in a modal dialog that nobody
    # answers here; a name in the environment skips the question, as for a consultant who gave it before.
    env["ZTMM_ASSESSOR"] = os.environ.get("ZTMM_ASSESSOR") or "Benchmark"
    return env


def _time_to_markers(script: Path, workdir: Path, markers: tuple[str, ...]) -> list[float]:
    """Seconds from ``Popen`` until the child prints each marker, in order; the child must then exit cleanly.

    A marker line is ``MARKER SQL`` where SQL says whether SQLAlchemy was imported when the frame was
    complete; the window's first frame must come before it.
    """
    errors = workdir / f"{script.stem}.stderr"
    times: list[float] = []
    lines: list[str] = []
    with errors.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=err, cwd=workdir, env=_child_env()
        )
        watchdog = threading.Timer(CHILD_TIMEOUT, proc.kill)
        watchdog.start()
        try:
            assert proc.stdout is not None
            for _ in markers:
                lines.append(proc.stdout.readline().decode().strip())
                times.append(time.perf_counter() - start)
            proc.stdout.read()
            code = proc.wait()
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    seen = tuple(line.partition(" ")[0] for line in lines)
    if seen != markers or code != 0:
        raise RuntimeError(
            f"{script.name} exited {code} after printing {lines!r}:\n{errors.read_text(errors='replace')[-2000:]}"
        )
    if lines[0].endswith("True"):
        raise RuntimeError(f"{script.name}: SQLAlchemy was imported before the window's first frame")
    return times


def start_to_first_paint(workdir: Path) -> list[Result]:
    app_script, floor_script = workdir / "child_app_demo.py", workdir / "child_bare_window.py"
    app_script.write_text(APP_CHILD, encoding="utf-8")
    floor_script.write_text(FLOOR_CHILD, encoding="utf-8")
    both = (WINDOW_MARKER, DEMO_MARKER)
    _time_to_markers(app_script, workdir, both)  # warm-up: bytecode caches, page cache, the settings file
    _time_to_markers(floor_script, workdir, (WINDOW_MARKER,))
    windows: list[float] = []
    demos: list[float] = []
    floors: list[float] = []
    for _ in range(START_RUNS):
        window, demo = _time_to_markers(app_script, workdir, both)
        windows.append(window)
        demos.append(demo)
        floors.extend(_time_to_markers(floor_script, workdir, (WINDOW_MARKER,)))
    return [
        Result(
            "ui: start to first paint (window and model tree), median",
            ms(median(windows)),
            ms(median(floors)),
            "ms",
            "≤ 2×",
        ),
        Result("ui: start to the demo's workbench painted, median", ms(median(demos)), ms(median(floors)), "ms"),
    ]


# -- in-process helpers ---------------------------------------------------------------


def _application() -> QApplication:
    """This process's ``QApplication``, on the offscreen platform (read when it is constructed)."""
    os.environ.update(OFFSCREEN)
    existing = QApplication.instance()
    return existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])


def _spin_until(condition: Callable[[], bool], what: str) -> None:
    """Process events until ``condition()`` holds (checked after each batch of events)."""
    deadline = time.perf_counter() + SETTLE_TIMEOUT
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        QApplication.processEvents()


class PaintWatch(QObject):
    """Which of the watched widgets have received a paint event since ``reset()``."""

    def __init__(self, *widgets: QObject) -> None:
        super().__init__()
        self.painted: set[int] = set()
        for widget in widgets:
            widget.installEventFilter(self)

    def reset(self) -> None:
        self.painted.clear()

    def saw(self, *widgets: QObject) -> bool:
        return all(id(w) in self.painted for w in widgets)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.painted.add(id(watched))
        return False


def _large(workdir: Path) -> Path:
    """The large engagement in ``workdir``, linked or built the first time (several parts open it)."""
    document = workdir / "large.ztmm"
    return document if document.is_file() else large_engagement(workdir)


def _dispose(window: MainWindow) -> None:
    """Close the window and its engagement without any question (no working copy is left)."""
    window.tasks.wait()
    window.undo_stack.setClean()
    window.recovered = False
    window.close()  # closeEvent closes the engagement
    if window.engagement is not None:
        window.engagement.close()
        window.engagement = None
    window.deleteLater()
    QApplication.processEvents()


# -- 2. tree click to function page shown -------------------------------------------


def _bare_tree_like(source: QTreeView) -> tuple[QTreeView, QStandardItemModel]:
    """A plain ``QTreeView`` with the rows, texts, size and column widths of ``source``; nothing connected."""
    model_in = source.model()

    def copy(parent_index: QModelIndex, parent_item: QStandardItem) -> None:
        for row in range(model_in.rowCount(parent_index)):
            items = [
                QStandardItem(str(model_in.index(row, column, parent_index).data(Qt.ItemDataRole.DisplayRole) or ""))
                for column in range(model_in.columnCount(parent_index))
            ]
            parent_item.appendRow(items)
            copy(model_in.index(row, 0, parent_index), items[0])

    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(
        [str(model_in.headerData(c, Qt.Orientation.Horizontal)) for c in range(model_in.columnCount())]
    )
    copy(QModelIndex(), model.invisibleRootItem())
    tree = QTreeView()
    tree.setUniformRowHeights(True)  # as the app's tree
    tree.setModel(model)
    tree.expandToDepth(0)  # as the workbench: pillars open, functions closed
    for column in range(source.header().count()):
        tree.header().resizeSection(column, source.header().sectionSize(column))
    tree.resize(QSize(source.size()))
    return tree, model


def _click_row(tree: QTreeView, index: QModelIndex, watch: PaintWatch, done: Callable[[], bool]) -> float:
    """Scroll ``index`` into view (untimed), then time a real click on it until ``done()``.

    ``watch`` is reset just before the click, so only paints caused by the click count.
    """
    tree.scrollTo(index)
    QApplication.processEvents()  # the scroll, and any repaint it needs
    rect = tree.visualRect(index)  # column 0 without the branch indicator: a click selects, never expands
    if not tree.viewport().rect().contains(rect.center()):
        raise RuntimeError(f"row {index.data()!r} is not in view after scrollTo")
    watch.reset()
    start = time.perf_counter()
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    _spin_until(done, f"the click on {index.data()!r} to show")
    seconds = time.perf_counter() - start
    if tree.isExpanded(index):  # taken for a double click
        raise RuntimeError(f"clicking {index.data()!r} expanded it")
    return seconds


def tree_click_to_page(workdir: Path, *, large: bool = False) -> list[Result]:
    """Clicks in the demo's tree, or with ``large`` in the large engagement's."""
    _application()
    window = MainWindow()
    floor_tree: QTreeView | None = None
    what = "large" if large else "demo"
    try:
        window.show()
        QTest.qWaitForWindowExposed(window)
        if large:
            document = _large(workdir)
            if not window.open_path(document):
                raise RuntimeError(f"could not open {document}")
        else:
            window.open_demo()
        bench, engagement = window.workbench, window.engagement
        assert bench is not None and engagement is not None
        functions = [f.id for f in engagement.functions_in_scope()]
        if len(functions) != 40:
            raise AssertionError(f"the {what} engagement has {len(functions)} functions in scope, expected 40")
        # The first function is shown when the demo opens: click it last, so that every click changes the page.
        functions = functions[1:] + functions[:1]
        tree, page = bench.panel.tree, bench.page
        rows = [bench.proxy.mapFromSource(bench.model.index_for_function(f)) for f in functions]
        floor_tree, floor_model = _bare_tree_like(tree)
        floor_tree.show()
        QTest.qWaitForWindowExposed(floor_tree)
        floor_rows = [floor_model.index(r.row(), 0, floor_model.index(r.parent().row(), 0)) for r in rows]
        if [r.data() for r in floor_rows] != [r.data() for r in rows]:
            raise AssertionError("the bare tree's rows differ from the app's")
        watch = PaintWatch(page.title_label, tree.viewport(), floor_tree.viewport())

        def shown(function_id: str) -> Callable[[], bool]:
            return lambda: page.current_function_id == function_id and watch.saw(page.title_label, tree.viewport())

        def current(view: QTreeView, index: QModelIndex) -> Callable[[], bool]:
            return lambda: view.currentIndex() == index and watch.saw(view.viewport())

        def app_round() -> list[float]:
            times = []
            for function_id, index in zip(functions, rows, strict=True):
                times.append(_click_row(tree, index, watch, shown(function_id)))
            return times

        def floor_round(view: QTreeView) -> list[float]:
            times = []
            for index in floor_rows:
                times.append(_click_row(view, index, watch, current(view, index)))
            return times

        app_round()  # warm-up: the first showing of each function, fonts, style sheets
        floor_round(floor_tree)
        clicks: list[float] = []
        floors: list[float] = []
        for _ in range(CLICK_ROUNDS):
            clicks.extend(app_round())
            floors.extend(floor_round(floor_tree))
    finally:
        if floor_tree is not None:
            floor_tree.close()
            floor_tree.deleteLater()
        _dispose(window)
    suffix = " (large)" if large else ""
    return [
        Result(
            f"ui: tree click to function page{suffix}, p50",
            ms(percentile(clicks, 50)),
            ms(percentile(floors, 50)),
            "ms",
        ),
        Result(
            f"ui: tree click to function page{suffix}, p95",
            ms(percentile(clicks, 95)),
            ms(percentile(floors, 95)),
            "ms",
            "≤ 50 ms",
        ),
    ]


# -- 3. longest UI stall while saving ----------------------------------------------


def _heartbeat(stop: Callable[[float], bool], action: Callable[[], None] | None = None) -> list[float]:
    """Run the event loop with a 5 ms timer until ``stop(now)`` at a tick; the times of the ticks.

    ``action`` (if any) is called from the loop ``LEAD_MS`` after the start.
    """
    loop = QEventLoop()
    ticks: list[float] = []

    def tick() -> None:
        now = time.perf_counter()
        ticks.append(now)
        if stop(now):
            loop.quit()

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(HEARTBEAT_MS)
    timer.timeout.connect(tick)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    if action is not None:
        QTimer.singleShot(LEAD_MS, action)
    timer.start()
    guard.start(round(SETTLE_TIMEOUT * 1000))
    loop.exec()
    timer.stop()
    if not guard.isActive():
        raise TimeoutError("the heartbeat loop was ended by its guard, not by its stop condition")
    guard.stop()
    return ticks


def _for(duration_ms: float) -> Callable[[float], bool]:
    """A stop condition for ``_heartbeat``: ``duration_ms`` from now."""
    end = time.perf_counter() + duration_ms / 1000
    return lambda now: now >= end


def _longest_gap(ticks: list[float]) -> float:
    return max(b - a for a, b in itertools.pairwise(ticks))


def _heartbeat_through_save(window: MainWindow) -> tuple[list[float], float]:
    """Heartbeat ticks from ``LEAD_MS`` before File → Save until ``LEAD_MS`` after the title is clean; save time."""
    timing: dict[str, float] = {}

    def save() -> None:
        timing["start"] = time.perf_counter()
        window.save()  # the task runner saves on a worker thread

    def cleaned(clean: bool) -> None:  # MainWindow._saved marks the undo stack clean on the UI thread
        if clean and "start" in timing and "end" not in timing:
            timing["end"] = time.perf_counter()

    def stop(now: float) -> bool:
        return "end" in timing and now - timing["end"] >= LEAD_MS / 1000

    window.undo_stack.cleanChanged.connect(cleaned)
    try:
        ticks = _heartbeat(stop, save)
    finally:
        window.undo_stack.cleanChanged.disconnect(cleaned)
    if window.tasks.busy or window.isWindowModified():
        raise RuntimeError("the save did not finish")
    return ticks, timing["end"] - timing["start"]


def save_stall(workdir: Path) -> list[Result]:
    _application()
    document = _large(workdir)
    window = MainWindow()
    stalls: list[float] = []
    floors: list[float] = []
    saves: list[float] = []
    try:
        window.show()
        QTest.qWaitForWindowExposed(window)
        if not window.open_path(document):
            raise RuntimeError(f"could not open {document}")
        assert window.engagement is not None
        function_id = window.engagement.functions_in_scope()[0].id
        for run in range(SAVE_RUNS + 1):  # the first is a warm-up
            # An edit, so there is something to save; it and the views' refresh are not timed.
            window.request(SetRating(function_id, Stage.ADVANCED, Rating.MET if run % 2 else Rating.PARTIAL))
            _spin_until(window.isWindowModified, "the edit")
            _heartbeat(_for(LEAD_MS))  # the refresh's repaints and deferred work
            ticks, seconds = _heartbeat_through_save(window)
            floor_ticks = _heartbeat(_for(ms(ticks[-1] - ticks[0])))  # as long, with nothing running
            if run:
                stalls.append(_longest_gap(ticks))
                floors.append(_longest_gap(floor_ticks))
                saves.append(seconds)
    finally:
        _dispose(window)
    return [
        Result("ui: longest UI stall while saving large, worst run", ms(max(stalls)), ms(max(floors)), "ms", "≤ 50 ms"),
        Result("ui: save large from the window (to saved), median", ms(median(saves)), None, "ms"),
    ]


# -- 4. a typing commit --------------------------------------------------------------


class _CommitTimes:
    """Wraps ``CommitTextEdit.commit`` (before the window is built, so the boxes' pause timers call the
    wrapper): when and for how long each commit that emitted text ran on the UI thread."""

    def __init__(self) -> None:
        self.commits: list[tuple[float, float]] = []  # (start, seconds)
        self._original = CommitTextEdit.commit
        times = self

        def timed(editor: CommitTextEdit) -> None:
            emits = editor.modified() and not editor.isReadOnly()
            start = time.perf_counter()
            times._original(editor)
            if emits:
                times.commits.append((start, time.perf_counter() - start))

        CommitTextEdit.commit = timed  # type: ignore[method-assign]

    def restore(self) -> None:
        CommitTextEdit.commit = self._original  # type: ignore[method-assign]


def _gap_around(ticks: list[float], moment: float) -> float:
    """The heartbeat gap that holds ``moment`` (the UI thread was busy from before it until the next tick)."""
    return max((b - a for a, b in itertools.pairwise(ticks) if a <= moment <= b), default=0.0)


def typing_commit(workdir: Path) -> list[Result]:
    _application()
    document = _large(workdir)
    folder = data_dir() / "working"
    folder.mkdir(parents=True, exist_ok=True)
    floor_conn = _floor_db(folder)
    times = _CommitTimes()
    window = MainWindow()
    handlers: dict[str, list[float]] = {"notes": [], "comment": []}
    stalls: list[float] = []
    floors: list[float] = []
    jitters: list[float] = []
    floor_number = 0
    try:
        window.show()
        QTest.qWaitForWindowExposed(window)
        window.activateWindow()
        _spin_until(window.isActiveWindow, "the window to be active")
        if not window.open_path(document):
            raise RuntimeError(f"could not open {document}")
        bench, engagement = window.workbench, window.engagement
        assert bench is not None and engagement is not None
        function_id = engagement.functions_in_scope()[3].id
        bench.select_function(function_id)
        page = bench.page
        comment = page.stage_boxes[Stage.ADVANCED].comment_edit
        assert comment is not None
        for kind, box in (("notes", page.notes_edit), ("comment", comment)):
            box.setFocus(Qt.FocusReason.MouseFocusReason)
            _spin_until(box.hasFocus, f"the focus in the {kind}")
            box.moveCursor(box.textCursor().MoveOperation.End)
            for run in range(TYPING_RUNS + 1):  # the first is a warm-up
                # Real keystrokes, then the pause; the heartbeat runs until LEAD_MS after the commit.
                QTest.keyClicks(box, f" point {run}")
                times.commits.clear()
                ticks = _heartbeat(lambda now: bool(times.commits) and now - sum(times.commits[0]) >= LEAD_MS / 1000)
                start, seconds = times.commits[0]
                jitter = _heartbeat(_for(ms(ticks[-1] - ticks[0])))  # as long, with nothing running
                floor = _floor_edit(floor_conn, floor_number)
                floor_number += 1
                if run:
                    handlers[kind].append(seconds)
                    stalls.append(_gap_around(ticks, start))
                    floors.append(floor)
                    jitters.append(_longest_gap(jitter))
            box.clearFocus()  # ends the burst: what it typed is one undo step
        if engagement.assessment(function_id).notes.count(" point ") != TYPING_RUNS + 1:
            raise AssertionError("the notes typed were not all kept")
        if window.undo_stack.count() != 2:
            raise AssertionError(f"two bursts of typing made {window.undo_stack.count()} undo steps, not 2")
    finally:
        times.restore()
        floor_conn.close()
        for suffix in ("", "-wal", "-shm"):
            (folder / f"floor-edit.sqlite{suffix}").unlink(missing_ok=True)
        _dispose(window)
    every = handlers["notes"] + handlers["comment"]
    return [
        Result(
            "ui: typing commit (large), longest handler on the UI thread",
            ms(max(every)),
            ms(max(floors)),
            "ms",
            "≤ 16 ms",
            note=f"{len(every)} commits after a {PAUSE_MS} ms pause; floor: durable 1-row UPDATE, worst",
        ),
        Result("ui: typing commit of Notes (large), median", ms(median(handlers["notes"])), ms(median(floors)), "ms"),
        Result(
            "ui: typing commit of a comment (large), median",
            ms(median(handlers["comment"])),
            ms(median(floors)),
            "ms",
        ),
        Result("ui: longest UI stall around a typing commit (large)", ms(max(stalls)), ms(max(jitters)), "ms"),
    ]


def run(workdir: Path) -> list[Result]:
    results = start_to_first_paint(workdir)
    results.extend(tree_click_to_page(workdir))
    results.extend(tree_click_to_page(workdir, large=True))
    results.extend(save_stall(workdir))
    results.extend(typing_commit(workdir))
    return results
