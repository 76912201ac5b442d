"""A coloured frame laid over a control for a moment: where an undo or redo landed.

The frame is a sibling drawn above the control (so the control's own style,
which workshop mode changes, is left alone), follows it when the page reflows,
and lets every click through.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

#: How long the frame stays.
FLASH_MS = 1500
COLOUR = QColor("#2d7dd2")
MARGIN = 4  # pixels around the control


class Flash(QWidget):
    """The frame; ``show_on(control)`` moves it to a control and shows it for ``FLASH_MS``."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("undoFlash")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.target: QWidget | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._done)
        self.hide()

    def show_on(self, target: QWidget, ms: int = FLASH_MS) -> None:
        self._release()
        parent = target.parentWidget()
        if parent is None:
            return
        self.target = target
        self.setParent(parent)
        target.installEventFilter(self)
        self._place()
        self.raise_()
        self.show()
        self._timer.start(ms)

    def _place(self) -> None:
        if self.target is not None:
            self.setGeometry(self.target.geometry().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))

    def _release(self) -> None:
        if self.target is not None:
            self.target.removeEventFilter(self)
            self.target = None

    def _done(self) -> None:
        self._release()
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.target:
            if event.type() in (QEvent.Type.Move, QEvent.Type.Resize):
                self._place()
            elif event.type() == QEvent.Type.Hide:
                self._done()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(COLOUR)
        fill.setAlphaF(0.14)
        painter.setBrush(fill)
        painter.setPen(QPen(COLOUR, 3))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5), 6, 6)
        painter.end()
