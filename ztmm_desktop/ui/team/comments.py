"""Reviewers' comments on findings in the window, for an engagement open from the team server.

``ReviewComments`` follows the engagement the team controller has open (``follow``, called whenever the
window updates its actions): for a server engagement it reads the comments off the UI thread and hands
them to the function page, which shows them under its findings; for a file it tells the page there are
none. A comment the consultant writes on the page (any member, a reviewer too: the window is read-only
for everything else) is sent off the UI thread (``services.comments``), then the comments are read
again. A comment someone else adds notifies the engagement's channel: the team controller's watch hands
it to ``reload``, so every window on the engagement shows it within moments.

Nothing here is an edit of the engagement: no undo step, no unsaved change, nothing in the copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from ...core.comments import FindingComment, by_finding
from ...core.errors import ZtmmError
from ...server.url import ServerUrl
from ..common.tasks import Call
from .connecting import AskCancelled, Passwords, need_password, with_password

if TYPE_CHECKING:
    from ...services.server_copy import ServerCopy


class _CommentsPage(Protocol):
    """What is asked of the function page (``ui/function/page.py``)."""

    commentRequested: Any

    def set_comments(self, comments: Any, *, note: str = "") -> None: ...


class ReviewComments(QObject):
    """The comments on the open server engagement's findings, on the function page."""

    #: the comments were read and shown (tests wait for it)
    shown = Signal()

    def __init__(self, window: QWidget, passwords: Passwords) -> None:
        super().__init__(window)
        self.window = window
        self.passwords = passwords
        self.url: ServerUrl | None = None
        self._page: _CommentsPage | None = None
        self._reading: Call | None = None
        self._again = False  # asked to read again while a read ran
        #: the comments as last read (None: not a server engagement, or not read yet)
        self.latest: list[FindingComment] | None = None

    def follow(self, copy: ServerCopy | None) -> None:
        """Show the comments of ``copy``'s engagement on the current page (None: a file, or nothing open)."""
        bench = getattr(self.window, "workbench", None)
        page: _CommentsPage | None = bench.page if bench is not None else None
        url = copy.url if copy is not None else None
        if page is self._page and url == self.url:
            return
        # (an old page goes with its workbench, and its connection with it)
        self._page, self.url = page, url
        self.latest = None
        if page is None:
            return
        if url is None:
            page.set_comments(None)
            return
        page.commentRequested.connect(self._comment, Qt.ConnectionType.UniqueConnection)
        page.set_comments({}, note="(reading…)")
        self.reload()

    def reload(self) -> None:
        """Read the comments again, off the UI thread, and show them (someone commented)."""
        from ...services.comments import read_comments

        url = self.url
        if url is None:
            return
        if self._reading is not None:
            self._again = True
            return
        url = self.passwords.with_known(url)
        call = Call(lambda: read_comments(url, prompt=None))
        self._reading = call

        def finished(result: object, err: object) -> None:
            call.wait()
            call.deleteLater()
            self._reading = None
            page = self._page
            if self.url is None or page is None or self.url.engagement != url.engagement:
                return  # closed meanwhile
            if err is not None:
                reason = str(err) if isinstance(err, ZtmmError) else "the server could not be read"
                page.set_comments({}, note=f"(not read: {reason})")
            else:
                self.latest = list(result)  # type: ignore[call-overload]
                page.set_comments(by_finding(self.latest))
            if self._again:
                self._again = False
                self.reload()
                return
            self.shown.emit()

        call.finishedWith.connect(finished)
        call.start()

    def wait(self) -> None:
        """Block until a running read ends (closing the window, tests)."""
        if self._reading is not None:
            self._reading.wait(15_000)

    def _comment(self, finding_id: str, text: str) -> None:
        """Send the consultant's comment off the UI thread; then read the comments again."""
        from ...services.comments import add_comment

        url = self.url
        if url is None:
            return
        bar = self.window.statusBar()  # type: ignore[attr-defined]
        bar.showMessage("Sending your comment to the team server…")
        try:
            done, _url = with_password(
                self.window, self.passwords, url, lambda u: add_comment(u, finding_id, text, prompt=need_password)
            )
        except AskCancelled:
            bar.clearMessage()
            return
        except ZtmmError as err:
            bar.clearMessage()
            QMessageBox.warning(self.window, "Comment not sent", str(err))
            return
        bar.showMessage(f"Your comment on “{done.finding_title}” is on the team server.", 6000)
        self.reload()
