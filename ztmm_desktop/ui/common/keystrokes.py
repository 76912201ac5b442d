"""Text being typed is kept: committed after a short pause, one undo step per burst of typing.

A text box on the function page commits its text to the working copy when the
consultant pauses typing for ``PAUSE_MS`` (and at once when focus leaves the
box), so a crash loses at most the last second of typing. Every commit of one
burst (while the cursor stays in the box) carries the same burst number, and
the undo stack merges those commits into one step (``edits.EditCommand``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

#: How long the consultant pauses typing before the text is committed.
PAUSE_MS = 1000

_bursts = itertools.count(1)


def new_burst() -> int:
    """A number no other burst of typing has had in this process (never ``requests.NOT_TYPING``)."""
    return next(_bursts)


class TypingPause(QObject):
    """Calls ``commit`` once typing in a box has paused for ``PAUSE_MS``; numbers the box's bursts."""

    def __init__(self, parent: QObject, commit: Callable[[], None]) -> None:
        super().__init__(parent)
        self.burst = new_burst()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PAUSE_MS)
        self._timer.timeout.connect(commit)

    @property
    def waiting(self) -> bool:
        """True while typed text waits for the pause to be committed."""
        return self._timer.isActive()

    def typed(self) -> None:
        """A keystroke changed the text: commit a pause from now."""
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def end_burst(self) -> None:
        """The edit is finished (focus left, Ctrl+Enter, another text shown): what follows is a new undo step."""
        self._timer.stop()
        self.burst = new_burst()
