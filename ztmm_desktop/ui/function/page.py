"""The function page: one function of an engagement, assessed in place.

The centre pane of the workbench. It shows a function's current stage (derived
from the ratings, or overridden with a reason), its target, gap and planning
fields, its four stage texts with a rating and a comment for each rated stage,
its findings and its roadmap actions.

The page never changes the engagement. Every change the consultant makes is
emitted as an edit request (``ui/requests.py``) through ``editRequested``; the
main window applies it as an undoable command and calls ``refresh()``. The
widgets are built once and refilled from the engagement's state by
``show_function`` and ``refresh``, with signals blocked, so filling never emits
a request. Text edits (comments, notes, owner) are emitted when the consultant
pauses typing for about a second (``keystrokes.PAUSE_MS``) and when they finish
editing (focus leaves the box, or Ctrl+Enter), and only when the text changed;
the requests of one burst of typing carry its number and make one undo step.

User and catalog text is only ever shown as plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFocusEvent, QFont, QKeyEvent, QPalette, QTextCursor, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.catalog import Function
from ...core.comments import CommentsByFinding
from ...core.contradictions import override_contradictions, override_warning, rated_not_met
from ...core.errors import BadInput
from ...core.register import EFFORT_LABELS, PHASE_LABELS, action_numbers, risk_rating
from ...core.scoring import FunctionAssessment, FunctionResult, evaluate
from ...core.stages import RATED_STAGES, Rating, Stage
from ...core.status import derived_status
from ...core.words import plural
from ...services.actions import Action, ActionDraft, action_lines, list_actions
from ...services.engagement import CONFIDENCE, MAX_NAME, PRIORITY, STATUS, Engagement, Finding, FindingDraft
from ...services.evidence import linked_to_function
from ...services.questionnaire import agreements
from ...services.workshops import WorkshopTag, tags
from ..common.dialogs import confirm_remove
from ..common.flash import Flash
from ..common.keystrokes import TypingPause
from ..common.reflow import FlowLayout, FormColumns
from ..editing.requests import (
    NOT_TYPING,
    AddAction,
    AddFinding,
    AdoptResponse,
    EditAction,
    EditFinding,
    EditRequest,
    RemoveAction,
    RemoveFinding,
    SetComment,
    SetField,
    SetOverride,
    SetRating,
    SetTarget,
)
from .action_dialog import ActionDialog, Dependency, dependency_label, next_stage
from .comments import CommentDialog, FindingComments
from .evidence import FunctionEvidence
from .finding_dialog import FindingDialog, risk_text, severity_label, status_label
from .responses import StageResponses

if TYPE_CHECKING:
    from ...core.responses import StageAgreement
    from ...services.evidence import Evidence

#: The rating buttons, in the order of the keys that set them (1 … 5).
RATING_ORDER: tuple[Rating, ...] = (
    Rating.MET,
    Rating.PARTIAL,
    Rating.NOT_MET,
    Rating.NOT_APPLICABLE,
    Rating.NOT_ASSESSED,
)
RATING_KEYS: dict[Qt.Key, Rating] = {
    Qt.Key.Key_1: Rating.MET,
    Qt.Key.Key_2: Rating.PARTIAL,
    Qt.Key.Key_3: Rating.NOT_MET,
    Qt.Key.Key_4: Rating.NOT_APPLICABLE,
    Qt.Key.Key_5: Rating.NOT_ASSESSED,
}
KEY_HINT = "keys 1–5"
NOT_SET = "—"
OVERRIDE_NEEDS_REASON = "An override needs a reason: say why the derived stage does not reflect the client's position."

GREEN = "#3c9a5f"
AMBER = "#d08b00"
RED = "#c8463d"
BLUE = "#2d7dd2"

STYLE = f"""
QFrame#stageBox {{
    border: 1px solid rgba(127, 127, 127, 0.45);
    border-radius: 8px;
    background: palette(base);
}}
QFrame#stageBox[current="true"] {{ border-left: 5px solid {GREEN}; }}
QFrame#stageBox[highlighted="true"] {{ border: 2px solid {BLUE}; }}
QFrame#stageBox[highlighted="true"][current="true"] {{ border-left: 5px solid {GREEN}; }}
QFrame#overrideBanner {{
    border: 1px solid {AMBER};
    border-left: 5px solid {AMBER};
    border-radius: 6px;
    background: rgba(245, 176, 0, 0.16);
}}
QFrame#overrideEditor {{
    border: 1px dashed {AMBER};
    border-radius: 6px;
}}
QFrame#readOnlyBanner {{
    border: 1px solid rgba(127, 127, 127, 0.5);
    border-radius: 6px;
    background: rgba(127, 127, 127, 0.12);
}}
QCheckBox::indicator {{ width: 0.85em; height: 0.85em; }}
QLabel#stageBadge {{ border-radius: 9px; padding: 2px 10px; }}
QTreeWidget#findingsList::item, QTreeWidget#actionsList::item {{ padding: 4px 2px; }}
QLabel#stageBadge[kind="derived"] {{ background: rgba(60, 154, 95, 0.20); }}
QLabel#stageBadge[kind="override"] {{ background: rgba(245, 176, 0, 0.28); }}
QLabel#stageBadge[kind="both"] {{ background: rgba(245, 176, 0, 0.28); }}
QLabel#overrideMessage {{ color: {RED}; }}
QLabel#overrideWarning {{ color: {RED}; font-weight: 600; }}
QToolButton#ratingButton {{
    padding: 4px 11px;
    border: 1px solid rgba(127, 127, 127, 0.55);
    border-radius: 5px;
    background: palette(button);
}}
QToolButton#ratingButton:hover {{ border-color: {BLUE}; }}
QToolButton#ratingButton:focus {{ border: 2px solid {BLUE}; padding: 3px 10px; }}
QToolButton#ratingButton:checked {{ font-weight: 600; }}
QToolButton#ratingButton:checked[rating="met"] {{ background: {GREEN}; color: white; border-color: {GREEN}; }}
QToolButton#ratingButton:checked[rating="partial"] {{ background: #e0a526; color: black; border-color: #b8841a; }}
QToolButton#ratingButton:checked[rating="not-met"] {{ background: {RED}; color: white; border-color: {RED}; }}
QToolButton#ratingButton:checked[rating="na"] {{ background: #8a8f98; color: white; border-color: #8a8f98; }}
QToolButton#ratingButton:checked[rating="unassessed"] {{ background: rgba(127, 127, 127, 0.28); }}
QToolButton#ratingButton:disabled {{ color: palette(mid); }}
"""


def _choice_label(value: str) -> str:
    return value.replace("-", " ").capitalize() if value else NOT_SET


def _plain_label(text: str = "", *, wrap: bool = True, selectable: bool = False) -> QLabel:
    """A label that shows its text literally, never as rich text."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setCursor(Qt.CursorShape.IBeamCursor)
    return label


def _type(widget: QWidget, scale: float = 1.0, weight: QFont.Weight | None = None, *, dim: bool = False) -> None:
    """Give a widget a size and weight relative to the page's font, and optionally quieter colour.

    Only marked here; ``FunctionPage._restyle`` applies it, again whenever the
    application's font or palette changes (workshop mode), so text never keeps a
    stale size or a colour meant for another background.
    """
    widget.setProperty("typeScale", scale)
    widget.setProperty("typeWeight", weight.value if weight is not None else 0)
    widget.setProperty("typeDim", dim)


def _apply_type(widget: QWidget, font: QFont, palette: QPalette) -> None:
    scaled = QFont(font)
    scale = float(widget.property("typeScale"))
    if font.pointSizeF() > 0:
        scaled.setPointSizeF(font.pointSizeF() * scale)
    elif font.pixelSize() > 0:
        scaled.setPixelSize(round(font.pixelSize() * scale))
    weight = int(widget.property("typeWeight") or 0)
    if weight:
        scaled.setWeight(QFont.Weight(weight))
    widget.setFont(scaled)
    if widget.property("typeDim"):
        quiet = QPalette(palette)
        colour = QColor(palette.color(QPalette.ColorRole.WindowText))
        colour.setAlphaF(0.62)
        quiet.setColor(QPalette.ColorRole.WindowText, colour)
        widget.setPalette(quiet)


def _repolish(widget: QWidget, name: str, value: object) -> None:
    """Set a dynamic property the style sheet selects on, and restyle when it changed."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


@contextmanager
def _signals_blocked(widgets: Sequence[QObject]) -> Iterator[None]:
    previous = [w.blockSignals(True) for w in widgets]
    try:
        yield
    finally:
        for widget, was in zip(widgets, previous, strict=True):
            widget.blockSignals(was)


FINDING_COLUMNS = ("Finding", "Severity", "Stage", "Status", "Risk", "Workshop")
#: The findings list's last column, shown for an engagement on the team server: its reviewers' comments.
COMMENTS_COLUMN = len(FINDING_COLUMNS)
ACTION_COLUMNS = ("Action", "Phase", "Effort", "Owner")
#: Rows a register list shows before it scrolls.
REGISTER_ROWS = 8


def _register_heading(column: QVBoxLayout, title_text: str, thing: str) -> tuple[QPushButton, QPushButton, QPushButton]:
    """A register's title with its Add…, Edit… and Remove buttons (object names ``add<Thing>`` …)."""
    heading = FlowLayout()
    title = _plain_label(title_text, wrap=False)
    _type(title, 1.2, QFont.Weight.DemiBold)
    heading.add(title)
    add, edit, remove = QPushButton("Add…"), QPushButton("Edit…"), QPushButton("Remove")
    for button, verb in ((add, "add"), (edit, "edit"), (remove, "remove")):
        button.setObjectName(f"{verb}{thing}")
        heading.add(button)
    # Beside the title, not at the far edge, where the eye finds them; on a narrow page they wrap below it.
    column.addSpacing(8)
    column.addLayout(heading)
    return add, edit, remove


def _register_list(name: str, headers: Sequence[str]) -> QTreeWidget:
    """A compact list of a register: the first column takes the width, the others fit their contents."""
    listing = QTreeWidget()
    listing.setObjectName(name)
    listing.setColumnCount(len(headers))
    listing.setHeaderLabels(list(headers))
    listing.setRootIsDecorated(False)
    listing.setUniformRowHeights(True)
    listing.setAlternatingRowColors(True)
    listing.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    listing.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    listing.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    header = listing.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, header.ResizeMode.Stretch)
    for index in range(1, len(headers)):
        header.setSectionResizeMode(index, header.ResizeMode.ResizeToContents)
    return listing


def _fit_list(listing: QTreeWidget, count: int) -> None:
    """Show the list only when it has rows, as tall as up to ``REGISTER_ROWS`` of them."""
    listing.setVisible(count > 0)
    if count:
        rows = min(count, REGISTER_ROWS)
        row_height = listing.sizeHintForRow(0)
        frame = listing.frameWidth() * 2
        # columns wider than the list scroll sideways: the scroll bar must not cover the last row
        wide = listing.header().length() > listing.viewport().width()
        bar = listing.horizontalScrollBar().sizeHint().height() if wide else 0
        listing.setFixedHeight(listing.header().sizeHint().height() + rows * row_height + frame + 2 + bar)


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0].strip() if stripped else ""


class ChoiceCombo(QComboBox):
    """A combo over fixed values; ignores the wheel unless focused (so scrolling the page never edits)."""

    def __init__(self, values: Sequence[object], label: Callable[[object], str]) -> None:
        super().__init__()
        self.values: tuple[object, ...] = tuple(values)
        for value in self.values:
            self.addItem(label(value))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

    def value(self) -> object:
        return self.values[self.currentIndex()]

    def set_value(self, value: object) -> None:
        self.setCurrentIndex(self.values.index(value) if value in self.values else 0)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()


class CommitTextEdit(QPlainTextEdit):
    """A multi-line text box that says when its text should be kept: a pause in typing, focus out or Ctrl+Enter.

    ``saved`` is the text as stored; ``committed`` is emitted with the text when
    typing pauses or an edit finishes, and only when it differs from ``saved``.
    ``burst`` numbers the burst of typing the text belongs to. A box with
    ``commit_on_focus_out=False`` (a form with its own Apply) only emits on Ctrl+Enter.
    """

    committed = Signal(str)

    def __init__(self, placeholder: str = "", *, lines: int = 3, commit_on_focus_out: bool = True) -> None:
        super().__init__()
        self.saved = ""
        self.commit_on_focus_out = commit_on_focus_out
        self.pause = TypingPause(self, self.commit)
        if commit_on_focus_out:
            self.textChanged.connect(self._text_changed)
        self.setPlaceholderText(placeholder)
        self.setTabChangesFocus(True)
        self.lines = lines
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._fit_height()

    def _fit_height(self) -> None:
        margins = self.contentsMargins()
        document_margin = int(self.document().documentMargin() * 2)
        height = self.fontMetrics().lineSpacing() * self.lines + document_margin + margins.top() + margins.bottom() + 4
        self.setFixedHeight(height)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_height()

    def modified(self) -> bool:
        return self.toPlainText() != self.saved

    @property
    def burst(self) -> int:
        return self.pause.burst

    def _text_changed(self) -> None:
        if self.modified() and not self.isReadOnly():
            self.pause.typed()
        else:
            self.pause.stop()

    def load(self, text: str, *, keep_typing: bool) -> None:
        """Show the stored ``text``; with ``keep_typing``, leave the text of an edit in progress alone."""
        if keep_typing and self.hasFocus() and self.modified():
            self.saved = text  # the consultant's text wins; it is emitted at the next pause or when they finish
            if self.commit_on_focus_out and not self.pause.waiting:
                self.pause.typed()  # e.g. a commit refused while a save ran: try again after a pause
            return
        if self.toPlainText() != text or self.saved != text:
            self.pause.end_burst()
        self.saved = text
        if self.toPlainText() == text:
            return
        position = self.textCursor().position() if self.hasFocus() else 0
        self.setPlainText(text)
        if position:
            cursor = self.textCursor()
            cursor.setPosition(min(position, len(text)))
            self.setTextCursor(cursor)

    def commit(self) -> None:
        """Emit the text if it changed (the burst goes on: the cursor may still be here)."""
        self.pause.stop()
        if self.modified() and not self.isReadOnly():
            self.committed.emit(self.toPlainText())

    def finish(self) -> None:
        """Emit the text if it changed; what is typed next is a new undo step."""
        self.commit()
        self.pause.end_burst()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            event.accept()
            if self.commit_on_focus_out:
                self.finish()
            else:
                self.committed.emit(self.toPlainText())
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        # A context menu takes focus for a moment; the edit is not finished then.
        if self.commit_on_focus_out and event.reason() != Qt.FocusReason.PopupFocusReason:
            self.finish()


class StageBox(QFrame):
    """One stage of the function: its text and, above Traditional, a rating and a comment."""

    ratingKeyPressed = Signal(object)  # Rating

    def __init__(self, stage: Stage) -> None:
        super().__init__()
        self.stage = stage
        self.rated = stage in RATED_STAGES
        self.setObjectName("stageBox")
        self.setProperty("stage", stage.key)
        self.setProperty("current", False)
        self.setProperty("highlighted", False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"{stage.label} stage")

        self.title_label = _plain_label(stage.label, wrap=False)
        _type(self.title_label, 1.12, QFont.Weight.DemiBold)
        self.caption_label = _plain_label("" if self.rated else "The floor of the model — not rated", wrap=False)
        _type(self.caption_label, 0.92, dim=True)
        self.badge_label = _plain_label(wrap=False)
        self.badge_label.setObjectName("stageBadge")
        badge_policy = self.badge_label.sizePolicy()
        badge_policy.setRetainSizeWhenHidden(True)  # boxes keep their height when the mark moves
        self.badge_label.setSizePolicy(badge_policy)
        self.badge_label.hide()

        head = FlowLayout(spacing=10, line_spacing=4)
        head.add(self.title_label, Qt.AlignmentFlag.AlignBottom)
        head.add(self.caption_label, Qt.AlignmentFlag.AlignBottom)
        head.addStretch()
        head.add(self.badge_label)

        self.text_label = _plain_label(selectable=True)
        self.text_label.setObjectName("stageText")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.text_label)

        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.rating_buttons: dict[Rating, QToolButton] = {}
        self.comment_edit: CommitTextEdit | None = None
        self.hint_label = _plain_label(KEY_HINT, wrap=False)
        _type(self.hint_label, 0.85, dim=True)
        policy = self.hint_label.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.hint_label.setSizePolicy(policy)
        self.hint_label.hide()
        if self.rated:
            row = FlowLayout(spacing=6)
            for number, rating in enumerate(RATING_ORDER, start=1):
                button = QToolButton()
                button.setObjectName("ratingButton")
                button.setProperty("rating", rating.value)
                button.setText(rating.label)
                button.setCheckable(True)
                button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
                button.setToolTip(f"{rating.label} (key {number})")
                button.setAccessibleName(f"{stage.label}: {rating.label}")
                self.group.addButton(button, RATING_ORDER.index(rating))
                self.rating_buttons[rating] = button
                row.add(button)
            row.addStretch()
            row.add(self.hint_label)
            layout.addLayout(row)
            self.comment_edit = CommitTextEdit(f"Comment on {stage.label}: what was seen or said. Kept as you type.")
            self.comment_edit.setObjectName("stageComment")
            self.comment_edit.setAccessibleName(f"{stage.label} comment")
            layout.addWidget(self.comment_edit)
            self.workshop_label = _plain_label()  # in which workshop the rating/comment was made
            self.workshop_label.setObjectName("workshopTag")
            _type(self.workshop_label, 0.85, dim=True)
            self.workshop_label.hide()
            layout.addWidget(self.workshop_label)
            self.responses = StageResponses(stage)
            layout.addWidget(self.responses)

    def checked_rating(self) -> Rating | None:
        index = self.group.checkedId()
        return RATING_ORDER[index] if index >= 0 else None

    def show_rating(self, rating: Rating) -> None:
        button = self.rating_buttons.get(rating)
        if button is not None:
            with _signals_blocked([self.group, button]):
                button.setChecked(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        rating = RATING_KEYS.get(Qt.Key(event.key()))
        modifiers = event.modifiers()
        plain = modifiers in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        if rating is not None and plain and self.rated:
            event.accept()
            self.ratingKeyPressed.emit(rating)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and plain and self.comment_edit is not None:
            # Rate with 1–5, then Enter to write why: the comment is one key away, not eight Tabs.
            event.accept()
            self.comment_edit.setFocus(Qt.FocusReason.TabFocusReason)
            self.comment_edit.moveCursor(QTextCursor.MoveOperation.End)
            return
        super().keyPressEvent(event)


@dataclass(frozen=True)
class PageData:
    """What the page shows of one function, read from the engagement (no widgets: it may be read off the
    UI thread, as the window does for the function shown first while it opens an engagement)."""

    function: Function
    assessment: FunctionAssessment
    result: FunctionResult
    findings: list[Finding]
    actions: list[Action]  # in roadmap order
    action_numbers: dict[str, str]
    tags: dict[tuple[str, str], WorkshopTag]
    agreements: dict[Stage, StageAgreement]
    evidence: list[Evidence]

    @classmethod
    def read(cls, engagement: Engagement, function: Function) -> PageData:
        assessment = engagement.assessments()[function.id]
        findings = engagement.findings(function.id)
        actions = list_actions(engagement, function.id)
        # Numbered and listed as the deliverables print them (roadmap order); read only when there are actions.
        lines = action_lines(engagement) if actions else []
        place = {line.id: index for index, line in enumerate(lines)}
        actions.sort(key=lambda a: place.get(a.id, len(place)))
        return cls(
            function=function,
            # The same rule as engagement.results(), without reading the database twice.
            assessment=assessment,
            result=evaluate(assessment),
            findings=findings,
            actions=actions,
            action_numbers=action_numbers(lines),
            tags=tags(engagement, function.id),
            agreements={a.stage: a for a in agreements(engagement, function.id)},
            evidence=linked_to_function(engagement, function.id),
        )


class FunctionPage(QWidget):
    """Shows one function of an engagement and emits an edit request for each change."""

    editRequested = Signal(object)  # one of ui.requests.EditRequest
    #: a comment on a finding (finding id, text): not an edit; the team code sends it to the server
    commentRequested = Signal(str, str)

    def __init__(self, engagement: Engagement, parent: QWidget | None = None, *, stepwise: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("functionPage")
        self.setStyleSheet(STYLE)
        self.engagement = engagement
        self._function: Function | None = None
        self._assessment: FunctionAssessment | None = None
        self._result: FunctionResult | None = None
        self._findings: list[Finding] = []
        self._actions: list[Action] = []
        self._action_numbers: dict[str, str] = {}
        self._tags: dict[tuple[str, str], WorkshopTag] = {}
        #: reviewers' comments per finding (an engagement on the team server); None: the engagement has none
        self._comments: CommentsByFinding | None = None
        self._comments_note = ""
        self._read_only = False
        self._highlighted: Stage | None = None
        self._override_editing = False
        self._restyling = False
        # What the controls show as stored, so that only real changes are emitted.
        self._shown_ratings: dict[Stage, Rating] = {}
        self._shown_fields: dict[str, str] = {}
        self._shown_target: Stage | None = None
        self._flash: Flash | None = None  # the mark an undo or redo leaves on what it changed
        self._preread: PageData | None = None
        self._answers: dict[Stage, StageAgreement] = {}  # read off the UI thread for the function shown first

        #: What is left of building the page: ``stepwise`` leaves it to the caller, one short step per
        #: ``next()`` (``tasks.in_steps``); the page is not used until it is exhausted.
        self.build_steps: Iterator[None] = self._build_steps()
        if not stepwise:
            for _ in self.build_steps:
                pass

    # -- building (once) --------------------------------------------------------

    def _build_steps(self) -> Iterator[None]:
        yield from self._build()
        self._restyle()
        yield
        self.set_read_only(self.engagement.readonly)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)

    def _build(self) -> Iterator[None]:
        """The frame first, then each section into it: a section is built where it stays (no reparenting,
        which restyles every widget moved), one short step each."""
        self.placeholder = _plain_label("Select a function in the tree to assess it.", wrap=True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        _type(self.placeholder, 1.1, dim=True)

        self.content = QWidget()
        self.content.setObjectName("functionContent")
        self.content.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.content.setMaximumWidth(1040)
        column = QVBoxLayout(self.content)
        column.setContentsMargins(24, 20, 24, 28)
        column.setSpacing(14)

        holder = QWidget()
        centred = QHBoxLayout(holder)
        centred.setContentsMargins(0, 0, 0, 0)
        # Centred, and no wider than reads well; no alignment flag, so word-wrapped labels get their height.
        centred.addStretch(1)
        centred.addWidget(self.content, 1000)
        centred.addStretch(1)

        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("functionScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        # The page reflows to its width (rows wrap, columns stack, texts wrap); only narrower than its
        # least width, the last resort, does it scroll sideways rather than cut off its right edge.
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll_area.setWidget(holder)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.scroll_area)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        yield

        self._build_header(column)
        yield
        self._build_plan(column)
        yield
        yield from self._build_stages(column)
        self.evidence_section = FunctionEvidence(lambda: self._highlighted)  # attaches to the stage in view
        column.addWidget(self.evidence_section)
        yield
        self._build_findings(column)
        yield
        self._build_actions(column)
        column.addStretch(1)
        yield

    def _build_header(self, column: QVBoxLayout) -> None:
        self.read_only_banner = QFrame()
        self.read_only_banner.setObjectName("readOnlyBanner")
        banner_layout = QHBoxLayout(self.read_only_banner)
        banner_layout.setContentsMargins(12, 6, 12, 6)
        banner_layout.addWidget(_plain_label("Read-only: this engagement can be read but not changed."))
        self.read_only_banner.hide()
        column.addWidget(self.read_only_banner)

        self.title_label = _plain_label(selectable=True)
        self.title_label.setObjectName("functionTitle")
        _type(self.title_label, 1.55, QFont.Weight.DemiBold)
        self.subtitle_label = _plain_label()
        self.subtitle_label.setObjectName("functionSubtitle")
        _type(self.subtitle_label, 1.0, dim=True)
        heading = QVBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(self.title_label)
        heading.addWidget(self.subtitle_label)
        column.addLayout(heading)

        # Current stage, with the override control beside it.
        caption = _plain_label("Current stage", wrap=False)
        _type(caption, 0.92, dim=True)
        self.current_label = _plain_label(wrap=False)
        self.current_label.setObjectName("currentStage")
        _type(self.current_label, 1.35, QFont.Weight.DemiBold)
        self.current_note = _plain_label(wrap=False)
        self.current_note.setObjectName("currentNote")
        _type(self.current_note, 0.92, dim=True)
        self.override_check = QCheckBox("Override…")
        self.override_check.setObjectName("overrideCheck")
        self.override_check.setToolTip("Set the current stage by hand, with a reason, instead of deriving it")
        self.override_check.clicked.connect(self._override_check_clicked)
        current_row = FlowLayout(spacing=10, line_spacing=6)
        current_row.add(caption, Qt.AlignmentFlag.AlignBottom)
        current_row.add(self.current_label, Qt.AlignmentFlag.AlignBottom)
        current_row.add(self.current_note, Qt.AlignmentFlag.AlignBottom)
        current_row.addStretch()
        current_row.add(self.override_check)
        column.addLayout(current_row)

        # The override, shown as such.
        self.override_banner = QFrame()
        self.override_banner.setObjectName("overrideBanner")
        self.override_label = _plain_label(selectable=True)
        self.override_label.setObjectName("overrideLabel")
        _type(self.override_label, 1.0, QFont.Weight.Medium)
        self.override_change_button = QPushButton("Change…")
        self.override_change_button.setObjectName("overrideChange")
        self.override_change_button.clicked.connect(self._open_override_editor)
        # An override above a stage rated Not met: allowed after a question, and marked for as long as it stands.
        self.override_warning = _plain_label()
        self.override_warning.setObjectName("overrideWarning")
        self.override_warning.hide()
        override_text = QVBoxLayout()
        override_text.setSpacing(4)
        override_text.addWidget(self.override_label)
        override_text.addWidget(self.override_warning)
        banner = QHBoxLayout(self.override_banner)
        banner.setContentsMargins(14, 10, 10, 10)
        banner.setSpacing(12)
        banner.addLayout(override_text, 1)
        banner.addWidget(self.override_change_button, 0, Qt.AlignmentFlag.AlignTop)
        self.override_banner.hide()
        column.addWidget(self.override_banner)

        # The override editor: a stage and a mandatory reason.
        self.override_editor = QFrame()
        self.override_editor.setObjectName("overrideEditor")
        self.override_stage_combo = ChoiceCombo(tuple(Stage), lambda s: s.label)
        self.override_stage_combo.setObjectName("overrideStage")
        self.override_reason_edit = CommitTextEdit(
            "Why the derived stage does not reflect the client's position (required)",
            lines=2,
            commit_on_focus_out=False,
        )
        self.override_reason_edit.setObjectName("overrideReason")
        self.override_reason_edit.committed.connect(lambda _text: self._apply_override())
        self.override_message = _plain_label()
        self.override_message.setObjectName("overrideMessage")
        self.override_message.hide()
        self.override_apply_button = QPushButton("Apply override")
        self.override_apply_button.setObjectName("overrideApply")
        self.override_apply_button.clicked.connect(self._apply_override)
        self.override_cancel_button = QPushButton("Cancel")
        self.override_cancel_button.setObjectName("overrideCancel")
        self.override_cancel_button.clicked.connect(self._cancel_override)
        editor = QGridLayout(self.override_editor)
        editor.setContentsMargins(14, 10, 14, 10)
        editor.setHorizontalSpacing(10)
        editor.setVerticalSpacing(8)
        editor.addWidget(_plain_label("Override to", wrap=False), 0, 0)
        stage_row = QHBoxLayout()
        stage_row.addWidget(self.override_stage_combo)
        stage_row.addStretch(1)
        editor.addLayout(stage_row, 0, 1)
        editor.addWidget(_plain_label("Reason", wrap=False), 1, 0, Qt.AlignmentFlag.AlignTop)
        editor.addWidget(self.override_reason_edit, 1, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.override_message, 1)
        buttons.addWidget(self.override_cancel_button)
        buttons.addWidget(self.override_apply_button)
        editor.addLayout(buttons, 2, 0, 1, 2)
        editor.setColumnStretch(1, 1)
        self.override_editor.hide()
        column.addWidget(self.override_editor)

    def _build_plan(self, column: QVBoxLayout) -> None:
        self.target_combo = ChoiceCombo((None, *Stage), lambda s: "No target" if s is None else s.label)
        self.target_combo.setObjectName("targetCombo")
        self.target_combo.activated.connect(self._target_chosen)
        self.gap_label = _plain_label(wrap=False)
        self.gap_label.setObjectName("gapLabel")
        _type(self.gap_label, 1.0, dim=True)
        self.confidence_combo = ChoiceCombo(CONFIDENCE, _choice_label)
        self.confidence_combo.setObjectName("confidenceCombo")
        self.priority_combo = ChoiceCombo(PRIORITY, _choice_label)
        self.priority_combo.setObjectName("priorityCombo")
        self.status_combo = ChoiceCombo(STATUS, _choice_label)
        self.status_combo.setObjectName("statusCombo")
        self.field_combos: dict[str, ChoiceCombo] = {
            "confidence": self.confidence_combo,
            "priority": self.priority_combo,
            "status": self.status_combo,
        }
        for name, combo in self.field_combos.items():
            combo.activated.connect(lambda _index, name=name: self._field_chosen(name))
        self.owner_edit = QLineEdit()
        self.owner_edit.setObjectName("ownerEdit")
        self.owner_edit.setMaxLength(MAX_NAME)
        self.owner_edit.setPlaceholderText("Who on the client side owns this")
        self.owner_edit.editingFinished.connect(self._owner_finished)
        self.owner_pause = TypingPause(self.owner_edit, self._owner_paused)
        self.owner_edit.textEdited.connect(lambda _text: self.owner_pause.typed())
        self.notes_edit = CommitTextEdit("Notes on this function from the workshop. Kept as you type.")
        self.notes_edit.setObjectName("notesEdit")
        self.notes_edit.committed.connect(lambda text: self._emit_field("notes", text, typing=self.notes_edit.burst))

        target_cell = FlowLayout(spacing=12, line_spacing=4)
        target_cell.add(self.target_combo)
        target_cell.add(self.gap_label)

        # Target and owner left, the three choices right; one column under each other when the page is narrow.
        self.plan_form = FormColumns(
            [(_plain_label("Target", wrap=False), target_cell), (_plain_label("Owner", wrap=False), self.owner_edit)],
            [
                (_plain_label("Confidence", wrap=False), self.confidence_combo),
                (_plain_label("Priority", wrap=False), self.priority_combo),
                (_plain_label("Assessment", wrap=False), self.status_combo),
            ],
        )
        column.addSpacing(2)
        column.addLayout(self.plan_form)
        notes = QVBoxLayout()
        notes.setSpacing(4)
        notes.addWidget(_plain_label("Notes", wrap=False))
        notes.addWidget(self.notes_edit)
        column.addLayout(notes)

    def _build_stages(self, column: QVBoxLayout) -> Iterator[None]:
        heading = FlowLayout(spacing=12, line_spacing=2)
        title = _plain_label("Stages", wrap=False)
        _type(title, 1.2, QFont.Weight.DemiBold)
        hint = _plain_label("Rate each stage: 1 Met · 2 Partially met · 3 Not met · 4 Not applicable · 5 Not assessed")
        hint.setObjectName("ratingHint")
        _type(hint, 0.88, dim=True)
        heading.add(title, Qt.AlignmentFlag.AlignBottom)
        heading.addStretch()
        heading.add(hint, Qt.AlignmentFlag.AlignBottom)
        column.addSpacing(8)
        column.addLayout(heading)
        self.stage_boxes: dict[Stage, StageBox] = {}
        for stage in Stage:
            box = StageBox(stage)
            box.ratingKeyPressed.connect(lambda rating, stage=stage: self._rating_chosen(stage, rating, by_key=True))
            box.group.idClicked.connect(
                lambda index, stage=stage: self._rating_chosen(stage, RATING_ORDER[index], by_key=False)
            )
            if box.comment_edit is not None:
                box.comment_edit.committed.connect(lambda text, stage=stage: self._comment_finished(stage, text))
                box.responses.adoptRequested.connect(lambda who, stage=stage: self._adopt(stage, who))
            self.stage_boxes[stage] = box
            column.addWidget(box)
            yield

    def _build_findings(self, column: QVBoxLayout) -> None:
        buttons = _register_heading(column, "Findings", "Finding")
        self.add_finding_button, self.edit_finding_button, self.remove_finding_button = buttons
        self.add_finding_button.clicked.connect(self._add_finding)
        self.edit_finding_button.clicked.connect(self._edit_finding)
        self.remove_finding_button.clicked.connect(self._remove_finding)

        self.findings_list = _register_list("findingsList", (*FINDING_COLUMNS, "Comments"))
        self.findings_list.setColumnHidden(COMMENTS_COLUMN, True)
        self.findings_list.header().moveSection(COMMENTS_COLUMN, 1)  # beside the title: seen on a narrow page
        self.findings_list.itemSelectionChanged.connect(self._update_finding_buttons)
        self.findings_list.itemDoubleClicked.connect(lambda _item, _column: self._edit_finding())
        self.no_findings_label = _plain_label("No findings for this function yet.")
        self.no_findings_label.setObjectName("noFindings")
        _type(self.no_findings_label, 1.0, dim=True)
        column.addWidget(self.findings_list)
        column.addWidget(self.no_findings_label)
        self.comments_section = FindingComments(lambda w: _apply_type(w, self.font(), self.palette()))
        self.comments_section.commentClicked.connect(self._comment_on_finding)
        self.comments_section.hide()
        column.addWidget(self.comments_section)

    def _build_actions(self, column: QVBoxLayout) -> None:
        buttons = _register_heading(column, "Actions", "Action")
        self.add_action_button, self.edit_action_button, self.remove_action_button = buttons
        self.add_action_button.setToolTip("Add a roadmap action for this function")
        self.add_action_button.clicked.connect(self._add_action)
        self.edit_action_button.clicked.connect(self._edit_action)
        self.remove_action_button.clicked.connect(self._remove_action)

        self.actions_list = _register_list("actionsList", ACTION_COLUMNS)
        self.actions_list.itemSelectionChanged.connect(self._update_action_buttons)
        self.actions_list.itemDoubleClicked.connect(lambda _item, _column: self._edit_action())
        self.no_actions_label = _plain_label("No actions for this function yet.")
        self.no_actions_label.setObjectName("noActions")
        _type(self.no_actions_label, 1.0, dim=True)
        column.addWidget(self.actions_list)
        column.addWidget(self.no_actions_label)

    # -- public API -------------------------------------------------------------

    @property
    def current_function_id(self) -> str | None:
        return self._function.id if self._function is not None else None

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def stage_in_view(self) -> Stage | None:
        """The stage the consultant is working on (selected in the tree, or focus in its box), if any."""
        return self._highlighted

    def show_function(self, function_id: str, stage: Stage | None = None, *, take_focus: bool = True) -> None:
        """Show a function (slug id or code), and scroll to and highlight one of its stages when given."""
        function = self.engagement.catalog.function(function_id)
        if self._function is not None and function.id != self._function.id:
            self._commit_pending()
        same = self._function is not None and function.id == self._function.id
        self._function = function
        if not same:
            self._close_override_editor()
        self.stack.setCurrentWidget(self.scroll_area)
        self._fill(keep_typing=same)
        if stage is not None:
            self.focus_stage(stage, take_focus=take_focus)
        elif not same:
            self._set_highlight(None)
            self.scroll_area.verticalScrollBar().setValue(0)

    def refresh(self) -> None:
        """Re-read the shown function; keeps the scroll position and any edit in progress."""
        if self._function is None:
            return
        # Keep what the consultant looks at in place: the focused widget if any, else the top of the view.
        bar = self.scroll_area.verticalScrollBar()
        anchor = QApplication.focusWidget()
        if anchor is None or not self.content.isAncestorOf(anchor):
            anchor = None
        before = anchor.mapTo(self.content, QPoint(0, 0)).y() if anchor is not None else 0
        value = bar.value()
        self._fill(keep_typing=True)
        after = anchor.mapTo(self.content, QPoint(0, 0)).y() if anchor is not None else 0
        bar.setValue(value + after - before)

    def refresh_typed(self) -> None:
        """After text typed here was kept: bring what the page knows up to date, refill nothing.

        The boxes already show the text; only the workshop marks under the
        comments can change. Cheap, so a pause in typing never stalls the window.
        """
        if self._function is None:
            return
        self._assessment = self.engagement.assessments()[self._function.id]
        self._tags = tags(self.engagement, self._function.id)
        for box in self.stage_boxes.values():
            if box.rated:
                self._fill_workshop_tag(box)

    def reveal(self, field: str | None, stage: Stage | None = None) -> QWidget:
        """Scroll to the control that shows ``field`` (of ``stage``) and mark it for a moment; the control."""
        widget = self._control_for(field, stage)
        if stage is not None:
            self._set_highlight(stage)
        self._scroll_to(widget)
        QTimer.singleShot(0, self, lambda: self._scroll_to(widget))  # once pending layout requests have run
        if self._flash is None:
            self._flash = Flash()
        self._flash.show_on(widget)
        return widget

    def _control_for(self, field: str | None, stage: Stage | None) -> QWidget:
        if stage is not None:
            box = self.stage_boxes[stage]
            if field == "comment" and box.comment_edit is not None:
                return box.comment_edit
            return box
        lists = {
            "findings": (self.findings_list, self.no_findings_label),
            "actions": (self.actions_list, self.no_actions_label),
        }
        if field in lists:
            listing, empty = lists[field]
            return listing if listing.isVisibleTo(self) else empty
        if field == "override":
            return self.override_banner if self.override_banner.isVisibleTo(self) else self.current_label
        controls: dict[str, QWidget] = {
            "target": self.target_combo,
            "owner": self.owner_edit,
            "notes": self.notes_edit,
            **self.field_combos,
        }
        return controls.get(field or "", self.title_label)

    def focus_stage(self, stage: Stage, *, take_focus: bool = True) -> None:
        """Scroll to a stage box and highlight it; with ``take_focus`` also give it the keyboard focus.

        The tree passes ``take_focus=False`` so that arrowing through stages keeps the focus in the tree.
        """
        box = self.stage_boxes[stage]
        self._set_highlight(stage)
        if take_focus:
            box.setFocus(Qt.FocusReason.OtherFocusReason)
        self._scroll_to(box)
        # The layout may still change size once pending layout requests run; scroll again then.
        QTimer.singleShot(0, self, lambda: self._scroll_to(box))

    def set_read_only(self, read_only: bool) -> None:
        """Disable every control that edits (text stays readable and selectable)."""
        self._read_only = read_only
        editable = not read_only
        self.read_only_banner.setVisible(read_only)
        for combo in (self.target_combo, *self.field_combos.values()):
            combo.setEnabled(editable)
        self.owner_edit.setReadOnly(read_only)
        self.notes_edit.setReadOnly(read_only)
        self.override_check.setEnabled(editable)
        self.override_change_button.setVisible(editable)
        if read_only:
            self._close_override_editor()
        for box in self.stage_boxes.values():
            for button in box.rating_buttons.values():
                button.setEnabled(editable)
            if box.comment_edit is not None:
                box.comment_edit.setReadOnly(read_only)
                for button in box.responses.adopt_buttons.values():
                    button.setEnabled(editable)
        self.add_finding_button.setEnabled(editable)
        self.edit_finding_button.setText("View…" if read_only else "Edit…")
        self._update_finding_buttons()
        self.add_action_button.setEnabled(editable)
        self.edit_action_button.setText("View…" if read_only else "Edit…")
        self._update_action_buttons()
        self.evidence_section.set_read_only(read_only)
        self._update_hints()

    def set_engagement(self, engagement: Engagement) -> None:
        """Show another engagement (a document was opened); keeps the shown function if there is one."""
        self.engagement = engagement
        self._close_override_editor()
        for editor in self._text_editors():
            editor.saved = editor.toPlainText()  # edits in progress belong to the old document
        self.owner_edit.setModified(False)
        self.set_read_only(engagement.readonly)
        if self._function is None:
            return
        try:
            self._function = engagement.catalog.function(self._function.id)
        except BadInput:  # assessed against another catalog: nothing to show until a function is chosen
            self._function = None
            self.stack.setCurrentWidget(self.placeholder)
            return
        self._fill(keep_typing=False)

    # -- filling from the engagement --------------------------------------------

    def _text_editors(self) -> list[CommitTextEdit]:
        editors = [self.notes_edit]
        editors.extend(box.comment_edit for box in self.stage_boxes.values() if box.comment_edit is not None)
        return editors

    def reveal_steps(self) -> Iterator[None]:
        """Show the function shown on a page not yet on screen a few sections per step (its stage boxes,
        evidence, findings, actions): showing all of it at once lays out and paints it in one piece."""
        if self.stack.currentWidget() is not self.placeholder or self._function is None:
            return
        sections = [
            child
            for child in self.content.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
            if not child.isHidden()
        ]
        later = [child for child in sections if child.sizeHint().height() > 60]  # the big ones, one per step
        for child in later:
            child.hide()
        self.stack.setCurrentWidget(self.scroll_area)
        for child in later:
            yield
            child.show()

    def preread(self, data: PageData) -> None:
        """``data`` (read off the UI thread) is what the next fill of its function shows, instead of reading it."""
        self._preread = data

    def _fill(self, *, keep_typing: bool) -> None:
        function = self._function
        assert function is not None
        data, self._preread = self._preread, None
        if data is None or data.function.id != function.id:
            data = PageData.read(self.engagement, function)
        assessment, result, findings = data.assessment, data.result, data.findings
        self._assessment, self._result, self._findings = assessment, result, findings
        self._actions = list(data.actions)
        self._action_numbers = data.action_numbers
        self._tags = data.tags
        self._answers = data.agreements

        blocked: list[QObject] = [self.target_combo, self.override_stage_combo, self.owner_edit]
        blocked.extend(self.field_combos.values())
        for box in self.stage_boxes.values():
            blocked.append(box.group)
            blocked.extend(box.rating_buttons.values())
        with _signals_blocked(blocked):
            self._fill_header(function, assessment, result)
            self._fill_plan(assessment, result, keep_typing=keep_typing)
            self._fill_stages(function, assessment, result, keep_typing=keep_typing)
        self._fill_findings(findings)
        self._fill_actions(self._actions)
        titles = {f.id: f.title for f in findings}
        self.evidence_section.show_items(function, data.evidence, titles)
        self._settle_layout()

    def _settle_layout(self) -> None:
        """Lay the page out now, so it is never painted with stale heights.

        A new text changes the height of its word-wrapped label, which changes its
        stage box, the page, and the scroll area, one posted layout request per
        level; running them here spares the consultant a frame of clipped text.
        """
        if not self.isVisible():
            return
        for _ in range(5):
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

    def _fill_header(self, function: Function, assessment: FunctionAssessment, result: FunctionResult) -> None:
        pillar = self.engagement.catalog.pillar(function.pillar_id)
        kind = "Capability" if function.kind == "capability" else "Function"
        self.title_label.setText(function.label)
        self.subtitle_label.setText(f"{pillar.code} {pillar.name} · {kind}")
        if not result.applicable:
            current, note = "Not applicable", "every rated stage is not applicable"
        elif not result.assessed:
            current, note = "Not assessed", "rate the stages below"
        elif result.overridden:
            current, note = result.current.label, "overridden"
        else:
            current, note = result.current.label, "derived from the ratings"
        self.current_label.setText(current)
        self.current_note.setText(note)
        if result.overridden:
            self.override_label.setText(
                f"Overridden: {result.current.label} (derived: {result.derived.label}) — {result.override_reason}"
            )
        warning = override_warning(assessment)
        self.override_warning.setText(f"⚠ {warning}" if warning else "")
        self.override_warning.setVisible(bool(warning))
        self.override_banner.setVisible(result.overridden)
        self.override_check.setChecked(result.overridden or self._override_editing)
        if not self._override_editing:
            stage = assessment.override_stage if assessment.override_stage is not None else result.derived
            self.override_stage_combo.set_value(stage)

    def _fill_plan(self, assessment: FunctionAssessment, result: FunctionResult, *, keep_typing: bool) -> None:
        self._shown_target = assessment.target
        self.target_combo.set_value(assessment.target)
        if assessment.target is None:
            gap = "no target set"
        elif not result.assessed:
            gap = "no gap until assessed"
        elif result.gap is None:
            gap = "no gap (not applicable)"
        elif result.gap == 0:
            gap = "target reached"
        else:
            gap = f"gap: {result.gap} stage{'s' if result.gap != 1 else ''}"
        self.gap_label.setText(gap)
        values = {
            "confidence": assessment.confidence,
            "priority": assessment.priority,
            "status": assessment.status,
            "owner": assessment.owner,
            "notes": assessment.notes,
        }
        self._shown_fields = dict(values)
        # Not recorded, the status is the one derived from the ratings, the same everywhere (core.status).
        self.status_combo.setItemText(
            0, f"{derived_status(assessment).replace('-', ' ').capitalize()} (from the ratings)"
        )
        for name, combo in self.field_combos.items():
            combo.set_value(values[name])
        # What is being typed stays, and so does text kept at a pause that differs only by the spaces trimmed.
        owner_text = self.owner_edit.text()
        typing_owner = (
            keep_typing
            and self.owner_edit.hasFocus()
            and (self.owner_edit.isModified() or owner_text.strip() == assessment.owner)
        )
        if not typing_owner and self.owner_edit.text() != assessment.owner:
            self.owner_edit.setText(assessment.owner)
            self.owner_edit.setCursorPosition(0)
        if not typing_owner:
            self.owner_edit.setModified(False)
        self.notes_edit.load(assessment.notes, keep_typing=keep_typing)

    def _fill_stages(
        self, function: Function, assessment: FunctionAssessment, result: FunctionResult, *, keep_typing: bool
    ) -> None:
        marked = result.assessed and result.applicable
        answers = self._answers
        for stage, box in self.stage_boxes.items():
            box.text_label.setText(self.engagement.stage_text(function, stage))
            derived = marked and stage is result.derived
            override = result.overridden and stage is assessment.override_stage
            if derived and override:
                badge, kind = "✓ Reached (derived) · override", "both"
            elif derived:
                badge, kind = ("✓ Reached (derived)" if result.overridden else "✓ Current stage (derived)"), "derived"
            elif override:
                badge, kind = "Override: current stage", "override"
            else:
                badge, kind = "", ""
            box.badge_label.setText(badge)
            box.badge_label.setVisible(bool(badge))
            _repolish(box.badge_label, "kind", kind)
            _repolish(box, "current", derived)
            if box.rated:
                stage_rating = assessment.rating(stage)
                self._shown_ratings[stage] = stage_rating.rating
                box.show_rating(stage_rating.rating)
                assert box.comment_edit is not None
                box.comment_edit.load(stage_rating.comment, keep_typing=keep_typing)
                self._fill_workshop_tag(box)
                box.responses.show_agreement(answers[stage], read_only=self._read_only)

    def _fill_workshop_tag(self, box: StageBox) -> None:
        """'Workshop: <title> (<date>)' under a stage's comment when its rating or comment was made in one."""
        rating = self._tags.get((box.stage.key, "rating"))
        comment = self._tags.get((box.stage.key, "comment"))
        either = rating or comment
        if rating is not None and comment is not None and rating != comment:
            text = f"Rating in workshop: {rating.label} · comment in workshop: {comment.label}"
        else:
            text = f"Workshop: {either.label}" if either is not None else ""
        box.workshop_label.setText(text)
        box.workshop_label.setVisible(bool(text))

    def _fill_findings(self, findings: list[Finding]) -> None:
        selected = self._selected_finding()
        selected_id = selected.id if selected is not None else None
        listing = self.findings_list
        with _signals_blocked([listing]):
            listing.clear()
            for finding in findings:
                stage = finding.stage.label if finding.stage is not None else NOT_SET
                tag = self._tags.get(("finding", finding.id))
                workshop = f"{tag.title} ({tag.date})" if tag is not None else ""
                risk = risk_rating(finding.likelihood, finding.impact) or NOT_SET
                item = QTreeWidgetItem(
                    [
                        finding.title,
                        severity_label(finding.severity),
                        stage,
                        status_label(finding.status),
                        risk,
                        workshop,
                    ]
                )
                item.setData(0, Qt.ItemDataRole.UserRole, finding.id)
                if finding.observation:
                    item.setToolTip(0, f'<p style="white-space: pre-wrap">{escape(finding.observation)}</p>')
                detail = risk_text(finding.likelihood, finding.impact)
                item.setToolTip(
                    4, f"Risk rating: {detail} (likelihood × impact)" if detail else "No likelihood and impact rated"
                )
                due = f"due {finding.due_date}" if finding.due_date else "no due date"
                owner = f"owner: {finding.owner}" if finding.owner else "no owner"
                item.setToolTip(3, f"{status_label(finding.status)} · {owner} · {due}")
                if self._comments is not None:
                    count = len(self._comments.get(finding.id, ()))
                    item.setText(COMMENTS_COLUMN, str(count) if count else "")
                    item.setToolTip(COMMENTS_COLUMN, plural(count, "review comment"))
                listing.addTopLevelItem(item)
                if finding.id == selected_id:
                    item.setSelected(True)
                    listing.setCurrentItem(item)
        has = bool(findings)
        _fit_list(listing, len(findings))
        self.no_findings_label.setVisible(not has)
        self._update_finding_buttons()

    def _fill_actions(self, actions: list[Action]) -> None:
        selected = self._selected_action()
        selected_id = selected.id if selected is not None else None
        listing = self.actions_list
        numbers = self._action_numbers
        with _signals_blocked([listing]):
            listing.clear()
            for action in actions:
                number = numbers.get(action.id, "")
                text = _first_line(action.text)
                phase = action.phase.capitalize()
                effort = EFFORT_LABELS.get(action.effort, action.effort)
                item = QTreeWidgetItem([f"{number}  {text}" if number else text, phase, effort, action.owner])
                item.setData(0, Qt.ItemDataRole.UserRole, action.id)
                item.setToolTip(0, self._action_tooltip(action))
                item.setToolTip(1, PHASE_LABELS.get(action.phase, action.phase))
                listing.addTopLevelItem(item)
                if action.id == selected_id:
                    item.setSelected(True)
                    listing.setCurrentItem(item)
        _fit_list(listing, len(actions))
        self.no_actions_label.setVisible(not actions)
        self._update_action_buttons()

    def _action_tooltip(self, action: Action) -> str:
        lines = [escape(action.text.strip())]
        facts = []
        if action.stage is not None:
            facts.append(f"Helps reach: {action.stage.label}")
        if action.cost:
            facts.append(f"Indicative cost: {escape(action.cost)}")
        if action.after:
            facts.append(f"After: {self._action_numbers.get(action.after, 'another action')}")
        if facts:
            lines.append(" · ".join(facts))
        return '<p style="white-space: pre-wrap">' + "<br>".join(lines) + "</p>"

    # -- reacting to the consultant ----------------------------------------------

    def _emit(self, request: EditRequest) -> None:
        if self._read_only or self._function is None:
            return
        self.editRequested.emit(request)

    def _rating_chosen(self, stage: Stage, rating: Rating, *, by_key: bool) -> None:
        if self._read_only or self._function is None:
            self.stage_boxes[stage].show_rating(self._shown_ratings.get(stage, Rating.NOT_ASSESSED))
            return
        if by_key:
            self.stage_boxes[stage].show_rating(rating)
        if self._shown_ratings.get(stage) is rating:
            return
        self._shown_ratings[stage] = rating
        self._emit(SetRating(self._function.id, stage, rating))

    def _adopt(self, stage: Stage, respondent: str) -> None:
        if self._function is not None:
            self._emit(AdoptResponse(self._function.id, stage, respondent))

    def _comment_finished(self, stage: Stage, text: str) -> None:
        editor = self.stage_boxes[stage].comment_edit
        if self._function is None or editor is None:
            return
        editor.saved = text
        self._emit(SetComment(self._function.id, stage, text, typing=editor.burst))

    def _target_chosen(self, _index: int) -> None:
        if self._function is None:
            return
        value = self.target_combo.value()
        target = value if isinstance(value, Stage) else None
        if target == self._shown_target:
            return
        self._shown_target = target
        self._emit(SetTarget(self._function.id, target))

    def _field_chosen(self, name: str) -> None:
        value = self.field_combos[name].value()
        self._emit_field(name, str(value))

    def _owner_paused(self) -> None:
        if self.owner_edit.isModified() and not self.owner_edit.isReadOnly():
            self._emit_field("owner", self.owner_edit.text().strip(), typing=self.owner_pause.burst)
            self.owner_edit.setModified(False)

    def _owner_finished(self) -> None:
        self._owner_paused()
        self.owner_pause.end_burst()

    def _emit_field(self, name: str, value: str, *, typing: int = NOT_TYPING) -> None:
        if self._function is None or self._shown_fields.get(name) == value:
            return
        self._shown_fields[name] = value
        if name == "notes":
            self.notes_edit.saved = value
        self._emit(SetField(self._function.id, name, value, typing=typing))

    def _commit_pending(self) -> None:
        """Emit text edits not yet finished, before the page shows another function."""
        for editor in self._text_editors():
            editor.finish()
        if self.owner_edit.isModified():
            self._owner_finished()

    def commit_typing(self) -> None:
        """Keep the text being typed now, without waiting for a pause (e.g. before an undo)."""
        for editor in self._text_editors():
            editor.commit()
        self._owner_paused()

    # -- override -----------------------------------------------------------------

    def _override_check_clicked(self, checked: bool) -> None:
        if self._function is None or self._result is None:
            return
        if checked:
            self._open_override_editor()
        elif self._result.overridden:
            self._close_override_editor()
            self._emit(SetOverride(self._function.id, None))
        else:
            self._close_override_editor()

    def _open_override_editor(self) -> None:
        if self._read_only or self._result is None or self._assessment is None:
            return
        assessment, result = self._assessment, self._result
        self._override_editing = True
        stage = assessment.override_stage if assessment.override_stage is not None else result.derived
        with _signals_blocked([self.override_stage_combo]):
            self.override_stage_combo.set_value(stage)
        self.override_reason_edit.setPlainText(assessment.override_reason)
        self.override_message.hide()
        self.override_check.setChecked(True)
        self.override_editor.show()
        self.override_reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _close_override_editor(self) -> None:
        self._override_editing = False
        self.override_editor.hide()
        self.override_message.hide()
        overridden = self._result is not None and self._result.overridden
        self.override_check.setChecked(overridden)

    def _cancel_override(self) -> None:
        self._close_override_editor()

    def _apply_override(self) -> None:
        if self._function is None or self._assessment is None or not self._override_editing:
            return
        reason = self.override_reason_edit.toPlainText().strip()
        if not reason:
            self.override_message.setText(OVERRIDE_NEEDS_REASON)
            self.override_message.show()
            self.override_reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        stage = self.override_stage_combo.value()
        assert isinstance(stage, Stage)
        unchanged = stage is self._assessment.override_stage and reason == self._assessment.override_reason
        contradicted = override_contradictions(self._assessment, stage)
        if contradicted and not unchanged and not self._confirm_contradiction(contradicted):
            self.override_stage_combo.setFocus(Qt.FocusReason.OtherFocusReason)  # the editor stays open
            return
        function_id = self._function.id
        self._close_override_editor()
        if not unchanged:
            self.override_check.setChecked(True)
            self._emit(SetOverride(function_id, stage, reason))

    def _confirm_contradiction(self, stages: tuple[Stage, ...]) -> bool:
        """A warning, not a refusal: "Advanced is rated Not met. Override anyway?" (Cancel is the default)."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Override")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"{rated_not_met(stages)} Override anyway?")
        box.setInformativeText("The function will be marked until the ratings and the override agree.")
        anyway = box.addButton("Override anyway", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        try:
            box.exec()
            return box.clickedButton() is anyway
        finally:
            box.deleteLater()

    # -- findings -----------------------------------------------------------------

    def _selected_finding(self) -> Finding | None:
        items = self.findings_list.selectedItems()
        if not items:
            return None
        finding_id = items[0].data(0, Qt.ItemDataRole.UserRole)
        return next((f for f in self._findings if f.id == finding_id), None)

    def _update_finding_buttons(self) -> None:
        finding = self._selected_finding()
        selected = finding is not None
        self.edit_finding_button.setEnabled(selected)
        self.remove_finding_button.setEnabled(selected and not self._read_only)
        if self._comments is not None:
            comments = self._comments.get(finding.id, ()) if finding is not None else ()
            self.comments_section.show_for(
                finding.title if finding is not None else None, comments, note=self._comments_note
            )

    def set_comments(self, comments: CommentsByFinding | None, *, note: str = "") -> None:
        """Show reviewers' comments on the findings (None: the engagement has none: a file); ``note`` says why
        they may be out of date. Comments are not edits: they stay possible when the page is read-only."""
        self._comments = comments
        self._comments_note = f" {note}" if note else ""
        self.findings_list.setColumnHidden(COMMENTS_COLUMN, comments is None)
        self.comments_section.setVisible(comments is not None)
        if self._function is not None:
            self._fill_findings(self._findings)
        else:
            self._update_finding_buttons()

    @property
    def comments(self) -> CommentsByFinding | None:
        return self._comments

    def _comment_on_finding(self) -> None:
        finding = self._selected_finding()
        if finding is None or self._comments is None:
            return
        text = CommentDialog.get_text(self, finding.title)
        if text:
            self.commentRequested.emit(finding.id, text)

    def _add_finding(self) -> None:
        if self._read_only or self._function is None:
            return
        draft = FindingDialog.get_draft(self, function_label=self._function.label)
        if draft is not None:
            self._emit(AddFinding(self._function.id, draft))

    def _edit_finding(self) -> None:
        finding = self._selected_finding()
        if finding is None or self._function is None:
            return
        draft: FindingDraft | None = FindingDialog.get_draft(
            self, draft=finding.draft(), function_label=self._function.label, read_only=self._read_only
        )
        if draft is not None and draft != finding.draft():
            self._emit(EditFinding(finding.id, draft))

    def _remove_finding(self) -> None:
        finding = self._selected_finding()
        if finding is None or self._read_only:
            return
        if confirm_remove(self, "finding", finding.title):
            self._emit(RemoveFinding(finding.id))

    # -- actions ------------------------------------------------------------------

    def _selected_action(self) -> Action | None:
        items = self.actions_list.selectedItems()
        if not items:
            return None
        action_id = items[0].data(0, Qt.ItemDataRole.UserRole)
        return next((a for a in self._actions if a.id == action_id), None)

    def _update_action_buttons(self) -> None:
        selected = self._selected_action() is not None
        self.edit_action_button.setEnabled(selected)
        self.remove_action_button.setEnabled(selected and not self._read_only)

    def _dependencies(self) -> tuple[list[Dependency], dict[str, str | None]]:
        """Every action of the engagement as the "Depends on" combo lists it (roadmap order), and who comes after whom."""
        every = list_actions(self.engagement)
        chain = {a.id: a.after for a in every}
        numbers = action_numbers(action_lines(self.engagement))
        ordered = action_lines(self.engagement, in_scope_only=False)
        choices = [
            Dependency(line.id, dependency_label(numbers.get(line.id, ""), line.function_code, line.text))
            for line in ordered
        ]
        return choices, chain

    def _run_action_dialog(self, action: Action | None) -> ActionDraft | None:
        assert self._function is not None
        dependencies, chain = self._dependencies()
        default = next_stage(self._result.current) if self._result is not None and self._result.applicable else None
        return ActionDialog.get_draft(
            self,
            draft=action.draft() if action is not None else None,
            action_id=action.id if action is not None else None,
            function_label=self._function.label,
            dependencies=dependencies,
            chain=chain,
            default_stage=default,
            read_only=self._read_only,
        )

    def _add_action(self) -> None:
        if self._read_only or self._function is None:
            return
        draft = self._run_action_dialog(None)
        if draft is not None:
            self._emit(AddAction(self._function.id, draft))

    def _edit_action(self) -> None:
        action = self._selected_action()
        if action is None or self._function is None:
            return
        draft = self._run_action_dialog(action)
        if draft is not None and draft != action.draft():
            self._emit(EditAction(action.id, draft))

    def _remove_action(self) -> None:
        action = self._selected_action()
        if action is None or self._read_only:
            return
        if confirm_remove(self, "action", _first_line(action.text)):
            self._emit(RemoveAction(action.id))

    # -- type and colour ----------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange) and not self._restyling:
            self._restyling = True
            try:
                # Under a style sheet the children do not pick up a new application
                # font by themselves; setting the sheet again resolves it for each.
                self.setStyleSheet("")
                self.setStyleSheet(STYLE)
                self._restyle()
            finally:
                self._restyling = False

    def _restyle(self) -> None:
        """Size and colour the marked text from the page's current font and palette."""
        font, palette = self.font(), self.palette()
        for widget in self.findChildren(QWidget):
            if widget.property("typeScale") is not None:
                _apply_type(widget, font, palette)
        if self._function is not None:
            self._fill_findings(self._findings)  # row heights follow the font
            self._fill_actions(self._actions)
            self._settle_layout()

    # -- focus and highlight ------------------------------------------------------------

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is None or not self.content.isAncestorOf(new):
            return
        for stage, box in self.stage_boxes.items():
            if box is new or box.isAncestorOf(new):
                self._set_highlight(stage)
                return

    def _set_highlight(self, stage: Stage | None) -> None:
        self._highlighted = stage
        for box_stage, box in self.stage_boxes.items():
            _repolish(box, "highlighted", box_stage is stage)
        self._update_hints()

    def _update_hints(self) -> None:
        for stage, box in self.stage_boxes.items():
            box.hint_label.setVisible(box.rated and stage is self._highlighted and not self._read_only)

    def _scroll_to(self, box: QWidget) -> None:
        layout = self.content.layout()
        if layout is not None:
            layout.activate()
        top = box.mapTo(self.scroll_area.widget(), QPoint(0, 0)).y()
        bar = self.scroll_area.verticalScrollBar()
        viewport = self.scroll_area.viewport().height()
        # The whole box when it fits, else its top, with a little room above.
        if top < bar.value() or top + box.height() > bar.value() + viewport:
            bar.setValue(max(0, top - 12))
