"""The client's answers to one stage, shown beside the consultant's rating on the function page."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core.responses import Agreement, StageAgreement
from ...core.stages import Stage

AGREEMENT_TEXT = {
    Agreement.AGREE: ("✓ Respondents agree with your rating", "agree"),
    Agreement.UNRATED: ("Respondents agree; you have not rated this stage", "unrated"),
    Agreement.DISAGREE_WITH_RATING: ("≠ Respondents differ from your rating", "differs"),
    Agreement.RESPONDENTS_DISAGREE: ("≠ Respondents disagree with each other", "split"),
}


class StageResponses(QFrame):
    """Every respondent's answer to one stage, the agreement, and an Adopt button per answer."""

    adoptRequested = Signal(str)  # respondent

    def __init__(self, stage: Stage) -> None:
        super().__init__()
        self.stage = stage
        self.setObjectName("stageResponses")
        self.setStyleSheet(STYLE)
        self.setAccessibleName(f"{stage.label}: client responses")
        self.state_label = QLabel()
        self.state_label.setObjectName("agreement")
        self.state_label.setWordWrap(True)
        # One row widget per respondent in a box layout: box layouts pass the wrapped
        # answer's height for its width up to the page (a grid did not, and clipped it).
        self.rows = QVBoxLayout()
        self.rows.setSpacing(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(4)
        layout.addWidget(self.state_label)
        layout.addLayout(self.rows)
        self.adopt_buttons: dict[str, QPushButton] = {}
        self.answer_labels: dict[str, QLabel] = {}
        self._name_labels: list[QLabel] = []
        self._shown: tuple[StageAgreement, bool] | None = None
        self.hide()

    def _name_width(self) -> int:
        """The respondents' column: 230 px, narrower on a narrow page so the answers keep room."""
        return max(90, min(NAME_WIDTH, self.width() // 3))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        width = self._name_width()
        for name in self._name_labels:
            if name.width() != width:
                name.setFixedWidth(width)

    def show_agreement(self, agreement: StageAgreement, *, read_only: bool) -> None:
        shown = (agreement, read_only)
        if shown == self._shown:  # a refresh with nothing new keeps the widgets (and the page's scroll)
            return
        self._shown = shown
        while self.rows.count():
            item = self.rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # gone now, not at the next turn of the event loop
                widget.setParent(None)
                widget.deleteLater()
        self.adopt_buttons.clear()
        self.answer_labels.clear()
        self._name_labels.clear()
        if not agreement.responses:
            self.hide()
            return
        text, kind = AGREEMENT_TEXT.get(agreement.state, ("Only “Don't know” or comments so far", "none"))
        self.state_label.setText(text)
        self.state_label.setProperty("kind", kind)
        self.state_label.style().unpolish(self.state_label)
        self.state_label.style().polish(self.state_label)
        differs = set(agreement.disagree_with_rating)
        for response in agreement.responses:
            who = response.respondent + (f" ({response.role})" if response.role else "")
            answer = response.answer.label if response.answer is not None else "(no answer)"
            mark = " (≠ your rating)" if response.respondent in differs else ""
            said = QLabel(answer + mark + (f" — “{response.comment}”" if response.comment else ""))
            said.setTextFormat(Qt.TextFormat.PlainText)
            said.setWordWrap(True)
            said.setToolTip(f"From {response.source_name}, imported {response.imported_at[:16].replace('T', ' ')}")
            self.answer_labels[response.respondent] = said
            name = QLabel(who)
            name.setTextFormat(Qt.TextFormat.PlainText)
            name.setWordWrap(True)
            name.setFixedWidth(self._name_width())
            self._name_labels.append(name)
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            line.setSpacing(10)
            line.addWidget(name, 0, Qt.AlignmentFlag.AlignTop)
            line.addWidget(said, 1)
            adoptable = response.answer is not None and response.answer.rating is not None
            if adoptable and response.answer is not None and response.answer.rating is not agreement.rating:
                button = QPushButton("Adopt")
                button.setToolTip(f"Make {response.respondent}'s answer your rating of {self.stage.label}")
                button.setAccessibleName(f"Adopt {response.respondent}'s answer")
                button.setEnabled(not read_only)
                button.clicked.connect(lambda _=False, r=response.respondent: self.adoptRequested.emit(r))
                self.adopt_buttons[response.respondent] = button
                line.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
            self.rows.addWidget(row)
            row.show()  # now: a layout shows new children only at the next turn of the event loop
        self.show()


#: The widest the respondents' names column gets.
NAME_WIDTH = 230

STYLE = """
QFrame#stageResponses {
    border: 1px solid rgba(127, 127, 127, 0.35);
    border-radius: 6px;
    background: rgba(45, 125, 210, 0.06);
}
QLabel#agreement { font-weight: 600; }
QLabel#agreement[kind="agree"] { color: #3c9a5f; }
QLabel#agreement[kind="differs"], QLabel#agreement[kind="split"] { color: #b06f00; }
"""
