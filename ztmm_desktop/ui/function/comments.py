"""Reviewers' comments under the function page's findings (an engagement on the team server only).

The page shows, for the finding selected in its list, the comments on it (author, date, text; oldest
first) and a *Comment…* button that asks for the text (``CommentDialog``). It never talks to the server:
the window's team code reads the comments and sends a new one (``ui/team/comments.py``). Comments are
not edits of the engagement: a reviewer, whose window is otherwise read-only, may comment too.

All text is shown as plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.comments import MAX_COMMENT, FindingComment
from ...core.words import plural

#: Comments listed under a finding before the rest are summed up in one line (the CLI lists them all).
SHOWN = 20


def _label(text: str, *, selectable: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class CommentDialog(QDialog):
    """Asks for a comment's text."""

    def __init__(self, finding_title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("commentDialog")
        self.setWindowTitle("Comment on finding")
        intro = _label(
            f"Your comment on “{finding_title}”. Everyone on the engagement reads it, under your login; "
            "it cannot be changed or removed afterwards. It stays on the team server and is not in the "
            "client's deliverables unless they are exported with review comments."
        )
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("commentText")
        self.text_edit.setAccessibleName("Comment")
        self.text_edit.setTabChangesFocus(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Comment")
        self.ok_button.setEnabled(False)
        self.text_edit.textChanged.connect(
            lambda: self.ok_button.setEnabled(0 < len(self.text_edit.toPlainText().strip()) <= MAX_COMMENT)
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text_edit)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    @staticmethod
    def get_text(parent: QWidget | None, finding_title: str) -> str | None:
        dialog = CommentDialog(finding_title, parent)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.text_edit.toPlainText().strip() or None
        finally:
            dialog.deleteLater()


class FindingComments(QFrame):
    """The comments on the selected finding and the *Comment…* button (shown for a server engagement only)."""

    commentClicked = Signal()

    def __init__(self, style: Callable[[QWidget], None]) -> None:
        super().__init__()
        self.setObjectName("findingComments")
        self._style = style
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(6)
        heading = QHBoxLayout()
        self.heading = _label("")
        self.heading.setObjectName("commentsHeading")
        self.comment_button = QPushButton("Comment…")
        self.comment_button.setObjectName("commentFinding")
        self.comment_button.setToolTip("Comment on the selected finding (on the team server, under your login)")
        self.comment_button.clicked.connect(self.commentClicked)
        heading.addWidget(self.heading, 1)
        heading.addWidget(self.comment_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(heading)
        self.body = QVBoxLayout()
        self.body.setSpacing(6)
        layout.addLayout(self.body)
        self.entries: list[QWidget] = []

    def show_for(self, title: str | None, comments: Sequence[FindingComment], *, note: str = "") -> None:
        """The comments on the finding ``title`` (None: no finding selected); ``note``: why they may be stale."""
        for widget in self.entries:
            self.body.removeWidget(widget)
            widget.deleteLater()
        self.entries = []
        self.comment_button.setEnabled(title is not None)
        if title is None:
            self.heading.setText("Review comments: select a finding to read or add them." + note)
            return
        count = plural(len(comments), "review comment") if comments else "No review comments"
        self.heading.setText(f"{count} on “{title}”.{note}")
        for comment in comments[-SHOWN:]:
            entry = QFrame()
            entry.setObjectName("reviewComment")
            column = QVBoxLayout(entry)
            column.setContentsMargins(10, 2, 0, 2)
            column.setSpacing(1)
            who = _label(f"{comment.by} · {comment.date} UTC")
            who.setObjectName("commentAuthor")
            who.setProperty("typeScale", 0.9)
            who.setProperty("typeDim", True)
            self._style(who)
            text = _label(comment.text, selectable=True)
            text.setObjectName("commentText")
            column.addWidget(who)
            column.addWidget(text)
            self.body.addWidget(entry)
            self.entries.append(entry)
        if len(comments) > SHOWN:
            more = _label(f"{plural(len(comments) - SHOWN, 'earlier comment')} not shown (ztmm comments lists all).")
            self.body.insertWidget(0, more)
            self.entries.insert(0, more)
