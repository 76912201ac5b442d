"""Live co-editing in the window: the mirror of a server engagement (``services.live_mirror``) shown.

* The conflict bar on the workbench (above the tree and the page, non-modal): which field of which
  function or finding someone else changed while this window changed it, theirs and mine, who when
  known, with *Keep mine* and *Take theirs*; several conflicts wait their turn ("1 of 3").
* The status bar's permanent indicator while the server cannot be reached: "Offline — N edits kept on
  this computer" (in place of the server's address; its tip, and a message when it goes offline, say
  that they are sent when the server is back); online it is hidden and the title says "live".
* Changes from the server refresh the tree and the page in place (the page's ``refresh`` keeps the
  scroll, the cursor and any text being typed).

The mirror's answers come from its own thread and the session's listener: each is handed to the UI
thread by a queued signal, and nothing here waits for the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QStatusBar, QWidget

from ...core.words import plural
from ...services.live_mirror import Field, LiveMirror, describe, read_local, shown
from ...services.records import Changes

if TYPE_CHECKING:
    from ...server.live import LiveSession
    from ...services.engagement import Engagement


class _Bench(Protocol):
    """What the live link reads of the workbench: the page being typed in, the layout it joins, and refresh."""

    page: Any

    def layout(self) -> Any: ...

    def refresh(self, changes: Changes) -> None: ...


class ConflictBar(QFrame):
    """One conflict at a time: what, theirs and mine, and the two ways out."""

    keepMine = Signal()
    takeTheirs = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictBar")
        self.setStyleSheet(
            "QFrame#conflictBar { background: #fde7e4; border: 1px solid #d9534f; }"
            " QFrame#conflictBar QLabel { color: #4a1410; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text, 1)
        self.count = QLabel()
        layout.addWidget(self.count)
        self.keep_button = QPushButton("Keep mine")
        self.keep_button.setToolTip("Send your value to the server, over theirs")
        self.keep_button.clicked.connect(self.keepMine)
        layout.addWidget(self.keep_button)
        self.take_button = QPushButton("Take theirs")
        self.take_button.setToolTip("Take the server's value here; yours is dropped")
        self.take_button.clicked.connect(self.takeTheirs)
        layout.addWidget(self.take_button)
        self.hide()


class LiveLink(QObject):
    """A live session and its mirror bound to the window (one per server engagement opened live)."""

    posted = Signal(object)  # a callable, run on the UI thread

    def __init__(
        self,
        status: QStatusBar,
        indicator: QLabel,
        session: LiveSession,
        engagement: Engagement,
        *,
        workbench: Callable[[], _Bench | None],
        refreshed: Callable[[], None],
        settled: Callable[[], None] | None = None,
        hidden_offline: QWidget | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.status = status
        self._workbench = workbench
        self._refreshed = refreshed
        self._settled = settled  # the queue was sent: the window may be saved again
        self._was_online = True
        self._hidden_offline = hidden_offline  # the server's address: room for the offline line
        self.posted.connect(self._run, Qt.ConnectionType.QueuedConnection)
        self.indicator = indicator  # the status bar's, made with the window (hidden while online)
        self.bar: ConflictBar | None = None
        self.mirror = LiveMirror(session, engagement, self, post=self.posted.emit, editing=self._editing)
        self.connection_changed()

    @staticmethod
    def _run(fn: object) -> None:
        if callable(fn):
            fn()

    # -- the window's calls ---------------------------------------------------------------

    def attach(self) -> None:
        """Put the conflict bar on the (new) workbench."""
        bench = self._workbench()
        if bench is None:
            return
        bar = ConflictBar()
        bar.keepMine.connect(lambda: self._resolve(keep=True))
        bar.takeTheirs.connect(lambda: self._resolve(keep=False))
        bench.layout().insertWidget(1, bar)
        self.bar = bar
        self.conflicts_changed()

    def close(self) -> None:
        """Stop: what was handed over is sent or kept in the session's queue (on disk), then the session closes."""
        self.mirror.close()
        self.session.close()
        self.indicator.hide()
        if self._hidden_offline is not None:
            self._hidden_offline.show()
        if self.bar is not None:
            self.bar.hide()

    # -- MirrorView ------------------------------------------------------------------------

    def mirrored(self, changes: Changes, author: str) -> None:
        bench = self._workbench()
        if bench is not None:
            bench.refresh(changes)  # the page keeps its scroll, cursor and typing
        self._refreshed()
        who = f" by {author}" if author else ""
        self.status.showMessage(f"Brought in a change made on the server{who}.", 5000)

    def conflicts_changed(self) -> None:
        bar = self.bar
        if bar is None:
            return
        conflicts = list(self.mirror.conflicts.values())
        if not conflicts:
            bar.hide()
            return
        first = conflicts[0]
        values = read_local(self.mirror.engagement)
        who = first.author or "someone else"
        bar.text.setText(
            f"Conflict: {who} changed the {describe(self.mirror.engagement, first.field, values)} while you edited it"
            f" — theirs: {shown(first.theirs)} · yours: {shown(first.mine)}"
        )
        bar.count.setText(f"1 of {len(conflicts)}" if len(conflicts) > 1 else "")
        bar.show()

    def refused(self, text: str) -> None:
        self.status.showMessage(" ".join(text.split()), 10000)

    def connection_changed(self) -> None:
        online, kept = self.mirror.online, self.mirror.kept
        if self._hidden_offline is not None and self._hidden_offline.isHidden() == online:
            self._hidden_offline.setVisible(online)
        if online and not kept:  # the usual state says nothing: the title says "live"
            self.indicator.hide()
            if not self._was_online:
                self.status.showMessage("Back online: the edits kept on this computer were sent.", 8000)
            self._was_online = True
            if self._settled is not None:
                self._settled()
            return
        self.indicator.show()
        edits = plural(kept, "edit")
        if online:
            self.indicator.setText(f"Sending {edits} kept on this computer…")
        else:
            # short enough to sit beside the roll-up on a small screen; the rest is said once, and in the tip
            self.indicator.setText(f"Offline — {edits} kept on this computer")
            if self._was_online:
                self.status.showMessage(
                    "The team server cannot be reached: your edits are kept on this computer and sent when it is back.",
                    10000,
                )
            self._was_online = False
        self.indicator.setStyleSheet("color: #b3261e; font-weight: 600")
        self.indicator.setToolTip(
            "The team server cannot be reached. Go on working: your edits are kept on this computer "
            "(also if you close the window) and sent in order once it is back."
        )

    # -- helpers ---------------------------------------------------------------------------

    def _resolve(self, *, keep: bool) -> None:
        conflicts = list(self.mirror.conflicts)
        if not conflicts:
            return
        field = conflicts[0]
        if keep:
            self.mirror.keep_mine(field)
        else:
            self.mirror.take_theirs(field)

    def _editing(self) -> frozenset[Field]:
        """The live field being typed in now (focus in its box, text not yet kept), if any."""
        bench = self._workbench()
        if bench is None:
            return frozenset()
        page = bench.page
        function_id = page.current_function_id
        focus = QApplication.focusWidget()
        if function_id is None or focus is None:
            return frozenset()
        found: set[Field] = set()
        if focus is page.notes_edit and page.notes_edit.modified():
            found.add(("function_assessment", function_id, "notes"))
        if focus is page.owner_edit and page.owner_edit.isModified():
            found.add(("function_assessment", function_id, "owner"))
        for stage, box in page.stage_boxes.items():
            if box.comment_edit is not None and focus is box.comment_edit and box.comment_edit.modified():
                found.add(("stage_rating", f"{function_id}/{stage.key}", "comment"))
        return frozenset(found)
