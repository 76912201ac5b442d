"""What a dialog or controller outside the shell may ask of the main window: this and nothing more.

The deliverables (export, print, import, merge) need the open engagement, the
settings, the task runner, the undo stack and the status bar, and they add menu
actions and report changes. They depend on this narrow interface, not on
``shell.main_window.MainWindow``, so the shell can import them without a circle.
The main window is the one implementation; it is also the parent widget of the
dialogs these modules open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtGui import QAction, QKeySequence, QUndoStack
    from PySide6.QtWidgets import QStatusBar

    from ...core.comments import FindingComment
    from ...core.errors import ZtmmError
    from ...services.engagement import Changes, Engagement
    from .settings import Settings
    from .tasks import TaskRunner


class WindowHost(Protocol):
    """The main window as its deliverables see it."""

    engagement: Engagement | None
    settings: Settings
    tasks: TaskRunner
    undo_stack: QUndoStack

    def statusBar(self) -> QStatusBar: ...

    def add_action(self, text: str, slot: Callable[[], object], shortcut: QKeySequence | str | None = None) -> QAction:
        """A window action (its shortcut works while the window has focus) triggering ``slot``."""
        ...

    def show_changes(self, changes: Changes) -> None:
        """Refresh what ``changes`` touched (the page, the tree, the title, the roll-up)."""
        ...

    def review_comments(self) -> Sequence[FindingComment]:
        """The reviewers' comments on the findings of the engagement open from the team server, as last read
        (none for a file): internal notes a deliverable carries only when the consultant says so."""
        ...

    def show_edit_failure(self, err: ZtmmError) -> None:
        """Tell the consultant an edit (or its undo) was refused; nothing changed."""
        ...
