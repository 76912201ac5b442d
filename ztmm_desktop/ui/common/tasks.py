"""Long operations off the UI thread: one mechanism, with a progress dialog and Cancel.

A task is a service call ``fn(progress, cancel)`` (``core.progress``). The
runner executes one task at a time on a worker thread (one writer at a time,
as Anki's task manager does), shows a progress dialog only when the work takes
long enough to notice, sets the cancel token when the user presses Cancel, and
hands the result or the error back on the UI thread. Workers never touch
widgets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, QObject, QThread, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox, QProgressDialog, QWidget

from ...core.errors import Cancelled, ZtmmError
from ...core.progress import CancelToken

#: How long a task runs before its progress dialog appears (ms).
SHOW_PROGRESS_AFTER_MS = 400

TaskFn = Callable[[Callable[[int, int, str], None], CancelToken], Any]
_T = TypeVar("_T")
#: How often the UI thread looks whether ``off_ui_thread``'s work has ended (ms).
POLL_MS = 5


class _Worker(QThread):
    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, fn: TaskFn, token: CancelToken) -> None:
        super().__init__()
        self.fn = fn
        self.token = token

    def run(self) -> None:
        try:
            result = self.fn(self._progress, self.token)
        except BaseException as err:  # handed to the UI thread, which decides what to show
            self.failed.emit(err)
        else:
            self.succeeded.emit(result)

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progressed.emit(done, total, message)


class Call(QThread):
    """One call off the UI thread whose end is reported by ``finishedWith(result, error)`` (queued to
    the thread that made it): for a read the window does not wait for (the server's list, comments)."""

    finishedWith = Signal(object, object)  # result, error

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as err:  # handed to the UI thread
            self.finishedWith.emit(None, err)
        else:
            self.finishedWith.emit(result, None)


class TaskRunner(QObject):
    """Runs service calls one at a time off the UI thread."""

    busyChanged = Signal(bool)

    def __init__(self, parent_widget: QWidget | None = None) -> None:
        super().__init__(parent_widget)
        self.parent_widget = parent_widget
        self._worker: _Worker | None = None
        self._dialog: QProgressDialog | None = None

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def run(
        self,
        title: str,
        fn: TaskFn,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        *,
        cancellable: bool = True,
    ) -> bool:
        """Start ``fn``; returns False (and starts nothing) while another task runs."""
        if self._worker is not None:
            return False
        token = CancelToken()
        dialog = QProgressDialog(title, "Cancel" if cancellable else "", 0, 0, self.parent_widget)
        dialog.setWindowTitle("ZTMM Workbench")
        dialog.setMinimumDuration(2**30)  # shown by our own timer below, busy or not
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        if not cancellable:
            dialog.setCancelButton(None)
        dialog.canceled.connect(token.cancel)
        worker = _Worker(fn, token)
        worker.progressed.connect(lambda done, total, message: self._progress(dialog, done, total, message))
        worker.succeeded.connect(lambda result: self._finish(on_done, result))
        worker.failed.connect(lambda err: self._finish(on_error, err))
        self._worker, self._dialog = worker, dialog
        self.busyChanged.emit(True)
        worker.start()
        QTimer.singleShot(SHOW_PROGRESS_AFTER_MS, lambda: self._show_if_running(dialog))
        return True

    def _show_if_running(self, dialog: QProgressDialog) -> None:
        if self._dialog is dialog:
            dialog.show()

    @staticmethod
    def _progress(dialog: QProgressDialog, done: int, total: int, message: str) -> None:
        dialog.setMaximum(max(total, 0))
        dialog.setValue(min(done, total) if total > 0 else 0)
        if message:
            dialog.setLabelText(message)

    def _finish(self, callback: Callable[[Any], None], value: Any) -> None:
        worker, dialog = self._worker, self._dialog
        self._worker, self._dialog = None, None
        if worker is not None:
            worker.wait()
            worker.deleteLater()
        if dialog is not None:
            dialog.canceled.disconnect()
            dialog.close()
            dialog.deleteLater()
        self.busyChanged.emit(False)
        callback(value)

    def wait(self, timeout_ms: int = 30_000) -> None:
        """Block until the running task ends (closing the window, tests)."""
        if self._worker is not None:
            self._worker.wait(timeout_ms)


def off_ui_thread(fn: Callable[[], _T]) -> _T:
    """``fn()`` on a worker thread, returned (or raised) here once it ends, while this thread goes on
    painting: the window stays drawn and its timers run, but no click or key reaches it meanwhile
    (they wait until this returns), so nothing can change what ``fn`` works on. For work the caller
    needs before it can go on (opening an engagement: the key derivation, the file gate, the records
    copy), where ``TaskRunner.run``'s callbacks would not do."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as err:  # handed back to the UI thread
            outcome["error"] = err

    worker = threading.Thread(target=work, name="ztmm-open", daemon=True)
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(POLL_MS)
    poll.timeout.connect(lambda: None if worker.is_alive() else loop.quit())
    worker.start()
    poll.start()
    try:
        if worker.is_alive():
            loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    finally:
        poll.stop()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def in_steps(steps: Iterator[object]) -> None:
    """Run the generator ``steps`` to its end, one step (up to its next ``yield``) per turn of the event loop.

    Between two steps this thread paints, runs its timers and hands out what workers posted, as in
    ``off_ui_thread``; clicks and keys wait until the last step is done (nothing can act on what the
    steps are still building). For UI work that cannot leave the UI thread (building the workbench's
    widgets) and would stall it if done in one piece: each step should be short (a few tens of ms).
    An error in a step ends the run and is raised here.
    """
    outcome: dict[str, BaseException] = {}
    loop = QEventLoop()

    def step() -> None:
        turn.stop()  # a step that runs an event loop of its own (a dialog) is not entered again meanwhile
        try:
            next(steps)
        except StopIteration:
            loop.quit()
        except BaseException as err:  # raised again below, on this thread's own stack
            outcome["error"] = err
            loop.quit()
        else:
            turn.start()

    # A zero timer fires once per turn of the loop, after the events already waiting (paints, timers).
    turn = QTimer()
    turn.setInterval(0)
    turn.timeout.connect(step)
    turn.start()
    try:
        loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    finally:
        turn.stop()
    if "error" in outcome:
        raise outcome["error"]


def show_failure(window: QMainWindow, err: BaseException, title: str, cancelled: str) -> None:
    """How a task's failure reaches the user: a cancel in the status bar, a refusal in a warning.

    Anything else is a bug and is raised again.
    """
    if isinstance(err, Cancelled):
        window.statusBar().showMessage(cancelled, 6000)
    elif isinstance(err, ZtmmError):
        QMessageBox.warning(window, title, str(err))
    else:
        raise err
