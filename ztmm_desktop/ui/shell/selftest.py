"""``ztmm-desktop --self-test``: start the real window on the demo, export the deliverables, check them, exit.

It answers "does this installation work?" for a source checkout, an installed
wheel and the PyInstaller bundle alike, on a machine with or without a display:

* Qt's ``offscreen`` platform unless ``QT_QPA_PLATFORM`` is set, and a fresh
  temporary data folder (``ZTMM_DATA_DIR``), so the user's settings, recent
  files and working copies are never touched (:func:`prepare`, called before
  the ``QApplication`` exists);
* the real :class:`MainWindow`, opened as ``ztmm-desktop --demo`` opens it
  (``start([], demo=True)``), until the demo's workbench is on screen; the tree
  must show every pillar and function in the demo's scope;
* the workbook and the report exported through the services File → Export
  uses, into a temp folder (or ``--self-test-output DIR``), then read back: the
  workbook with openpyxl (Summary sheet, the client's name), the PDF with
  QtPdf (``%PDF``, more than one page, the client's name in its text);
* the About dialog built (version, catalog, guidance attribution).

One line per check (``ok  …``) on stdout, then ``self-test passed …``; exit
code 0. The first failed check ends the run with exit code 1 and one line on
stderr (``self-test FAILED: <check>: <reason>``). A watchdog thread ends the
process with exit code 1 when the whole run takes more than
:data:`TIMEOUT_SECONDS`, even if the UI thread is stuck.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QEventLoop, QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from ...core.words import plural

TIMEOUT_SECONDS = 120.0
WINDOW_TIMEOUT_SECONDS = 60.0
WORKBOOK_NAME = "ZTMM self-test workbook.xlsx"
REPORT_NAME = "ZTMM self-test report.pdf"
PASSED, FAILED = 0, 1
#: What Qt's offscreen platform says on every top-level window it shows: not a finding, kept off stderr.
OFFSCREEN_NOISE = frozenset({"This plugin does not support propagateSizeHints()"})

T = TypeVar("T")


class CheckFailed(Exception):
    """A check found the application not working; the message is the one-line reason."""


def prepare() -> Path:
    """Before the ``QApplication`` is made: offscreen Qt unless chosen, a private data folder. The scratch folder."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if os.environ["QT_QPA_PLATFORM"] == "offscreen":
        qInstallMessageHandler(_without_offscreen_noise)
    scratch = Path(tempfile.mkdtemp(prefix="ztmm-self-test-"))
    (scratch / "data").mkdir()
    os.environ["ZTMM_DATA_DIR"] = str(scratch / "data")
    return scratch


def _without_offscreen_noise(_kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    if message not in OFFSCREEN_NOISE:
        _complain(message)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text or type(err).__name__


def _say(line: str) -> None:
    if sys.stdout is not None:  # a windowed executable on Windows has no stdout
        print(line, flush=True)


def _complain(line: str) -> None:
    stream = sys.stderr if sys.stderr is not None else sys.stdout
    if stream is not None:
        print(line, file=stream, flush=True)


def _start_watchdog(seconds: float, scratch: Path) -> threading.Timer:
    def expire() -> None:
        _complain(f"self-test FAILED: no result after {seconds:g} s")
        shutil.rmtree(scratch, ignore_errors=True)
        os._exit(FAILED)  # the UI thread may be stuck: nothing else would end the process

    watchdog = threading.Timer(seconds, expire)
    watchdog.daemon = True
    watchdog.start()
    return watchdog


def _wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    app = QApplication.instance()
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what} did not happen within {seconds:.0f} s")
        assert app is not None
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


class SelfTest:
    """The checks, in order; each returns the text of its ``ok`` line or raises."""

    def __init__(self, scratch: Path, output: Path | None) -> None:
        from ...services.demo import demo_description

        self.scratch = scratch
        self.output = output if output is not None else scratch / "out"
        self.client = str(demo_description()["engagement"]["client"])
        self.window: object = None

    # -- the checks ----------------------------------------------------------------------

    def window_opened(self) -> str:
        from ..tree.model import FUNCTION, NODE_KIND_ROLE, PILLAR
        from .main_window import MainWindow, start

        window = start([], demo=True, ask_assessor=False)
        self.window = window

        def loaded() -> bool:
            handle = window.windowHandle()
            return window.workbench is not None and handle is not None and handle.isExposed()

        _wait_until(loaded, WINDOW_TIMEOUT_SECONDS, "the demo engagement opening in the window")
        assert isinstance(window, MainWindow) and window.workbench is not None and window.engagement is not None
        engagement = window.engagement
        if engagement.meta().client != self.client:
            raise CheckFailed(f"the window shows {engagement.meta().client!r}, not the demo {self.client!r}")
        model = window.workbench.model
        pillars = [model.index(row, 0) for row in range(model.rowCount())]
        functions = [model.index(row, 0, p) for p in pillars for row in range(model.rowCount(p))]
        if any(p.data(NODE_KIND_ROLE) != PILLAR for p in pillars) or any(
            f.data(NODE_KIND_ROLE) != FUNCTION for f in functions
        ):
            raise CheckFailed("the tree's rows are not pillars over functions")
        scope = set(engagement.meta().scope)
        want_pillars = [p for p in engagement.catalog.pillars if p.id in scope]
        want_functions = sum(len(p.functions) for p in want_pillars)
        if not pillars or len(pillars) != len(want_pillars) or len(functions) != want_functions:
            raise CheckFailed(
                f"the tree shows {len(pillars)} pillars and {len(functions)} functions,"
                f" the demo has {len(want_pillars)} and {want_functions}"
            )
        if self.client not in window.windowTitle():
            raise CheckFailed(f"the window title {window.windowTitle()!r} does not name the client")
        return f"window opened: {len(pillars)} pillars, {len(functions)} functions, {self.client}"

    def workbook_exported(self) -> str:
        import openpyxl

        from ...services.workbook import export_workbook

        target = self._export(WORKBOOK_NAME, export_workbook)
        book = openpyxl.load_workbook(target, read_only=True)
        try:
            if "Summary" not in book.sheetnames:
                raise CheckFailed(f"{target.name} has no Summary sheet (sheets: {', '.join(book.sheetnames)})")
            values = [str(v) for row in book["Summary"].iter_rows(values_only=True) for v in row if v is not None]
            sheets = len(book.sheetnames)
        finally:
            book.close()
        if not any(self.client in value for value in values):
            raise CheckFailed(f"the Summary sheet of {target.name} does not name {self.client!r}")
        return f"workbook exported: {target.name}, {sheets} sheets, {target.stat().st_size / 1024:.0f} KiB"

    def report_exported(self) -> str:
        from PySide6.QtPdf import QPdfDocument

        from ...services.report import export_report

        target = self._export(REPORT_NAME, export_report)
        with target.open("rb") as handle:
            if handle.read(5) != b"%PDF-":
                raise CheckFailed(f"{target.name} does not start with %PDF-")
        document = QPdfDocument(None)
        try:
            status = document.load(str(target))
            if status != QPdfDocument.Error.None_:
                raise CheckFailed(f"QtPdf cannot read {target.name}: {status.name}")
            pages = document.pageCount()
            if pages <= 1:
                raise CheckFailed(f"{target.name} has {plural(pages, 'page')}")
            text = " ".join(" ".join(document.getAllText(page).text().split()) for page in range(min(pages, 3)))
        finally:
            document.close()
        if self.client not in text:
            raise CheckFailed(f"the first pages of {target.name} do not name {self.client!r}")
        return f"report exported: {target.name}, {pages} pages, {target.stat().st_size / 1024:.0f} KiB"

    def about_shown(self) -> str:
        from ... import __version__
        from .about import AboutDialog

        dialog = AboutDialog(None)
        try:
            text = dialog.plain_text()
        finally:
            dialog.deleteLater()
        for wanted in (__version__, "CC BY 4.0"):
            if wanted not in text:
                raise CheckFailed(f"the About dialog does not show {wanted!r}")
        return f"about: ZTMM Workbench {__version__}, {dialog.summary()}"

    # -- helpers -------------------------------------------------------------------------

    def _export(self, name: str, export: Callable[..., object]) -> Path:
        from .main_window import MainWindow

        window = self.window
        assert isinstance(window, MainWindow) and window.engagement is not None
        self.output.mkdir(parents=True, exist_ok=True)
        target = self.output / name
        export(window.engagement, target)
        if not target.is_file():
            raise CheckFailed(f"the export did not write {target}")
        return target

    def close(self) -> None:
        from .main_window import MainWindow

        window = self.window
        if isinstance(window, MainWindow):
            window.tasks.wait()
            if window.engagement is not None:  # nothing was changed: close without asking
                window.engagement.close()
                window.engagement = None
            window.close()
            window.deleteLater()
            self.window = None
            app = QApplication.instance()
            if app is not None:
                app.processEvents()


CHECKS: tuple[tuple[str, Callable[[SelfTest], str]], ...] = (
    ("window", SelfTest.window_opened),
    ("workbook", SelfTest.workbook_exported),
    ("report", SelfTest.report_exported),
    ("about", SelfTest.about_shown),
)


def run_self_test(scratch: Path, *, output: Path | None = None, timeout: float = TIMEOUT_SECONDS) -> int:
    """Run every check in the running ``QApplication``; 0 when all passed, 1 at the first failure."""
    started = time.perf_counter()
    watchdog = _start_watchdog(timeout, scratch)
    test: SelfTest | None = None
    try:
        test = SelfTest(scratch, output)
        for name, check in CHECKS:
            try:
                line = check(test)
            except Exception as err:  # any failure is a finding of the self-test, reported in one line
                _complain(f"self-test FAILED: {name}: {_one_line(err)}")
                return FAILED
            _say(f"ok  {line}")
        from ... import __version__

        _say(
            f"self-test passed: ZTMM Workbench {__version__}, {len(CHECKS)} checks in {time.perf_counter() - started:.1f} s"
        )
        return PASSED
    except Exception as err:  # the self-test itself could not start (e.g. the demo description is missing)
        _complain(f"self-test FAILED: {_one_line(err)}")
        return FAILED
    finally:
        if test is not None:
            test.close()
        watchdog.cancel()
        shutil.rmtree(scratch, ignore_errors=True)
