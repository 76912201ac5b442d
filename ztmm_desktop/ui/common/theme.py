"""Workshop mode: large type and high contrast, for a projector in a client's meeting room.

In both modes check boxes and text fields are drawn so that they show on a projector:
the platform style draws their edges a shade darker than the window, which vanishes
on workshop mode's black and is faint on a washed-out projector in any mode.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QPlainTextEdit,
    QProxyStyle,
    QStyle,
    QStyleOption,
    QTextEdit,
    QWidget,
)

#: How much larger workshop mode makes the application font.
WORKSHOP_SCALE = 1.45

_base: tuple[QFont, QPalette] | None = None


def workshop_palette() -> QPalette:
    palette = QPalette()
    black, white, yellow = QColor("#000000"), QColor("#ffffff"), QColor("#ffd200")
    for role, colour in (
        (QPalette.ColorRole.Window, black),
        (QPalette.ColorRole.WindowText, white),
        (QPalette.ColorRole.Base, QColor("#0a0a0a")),
        (QPalette.ColorRole.AlternateBase, QColor("#1c1c1c")),
        (QPalette.ColorRole.Text, white),
        (QPalette.ColorRole.Button, QColor("#1c1c1c")),
        (QPalette.ColorRole.ButtonText, white),
        (QPalette.ColorRole.Highlight, yellow),
        (QPalette.ColorRole.HighlightedText, black),
        (QPalette.ColorRole.ToolTipBase, black),
        (QPalette.ColorRole.ToolTipText, white),
        (QPalette.ColorRole.PlaceholderText, QColor("#bdbdbd")),
        (QPalette.ColorRole.Link, QColor("#8ab4ff")),
        (QPalette.ColorRole.Mid, QColor("#bdbdbd")),
    ):
        palette.setColor(role, colour)
    return palette


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


def edge_colour(palette: QPalette, strength: float = 0.55) -> QColor:
    """An edge that shows on the field's own colour: the text colour, part way to the field's."""
    text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
    return _mix(base, text, strength)


class ControlsStyle(QProxyStyle):
    """The platform's style, with check boxes and text fields whose edges show (see the module's doc)."""

    CHECKS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck)

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element in self.CHECKS:
            self._check_box(option, painter)
            return
        framed_text = element == QStyle.PrimitiveElement.PE_Frame and isinstance(
            widget, (QPlainTextEdit, QTextEdit, QAbstractSpinBox)
        )
        if element == QStyle.PrimitiveElement.PE_FrameLineEdit or framed_text:
            self._field_edge(option, painter)
            return
        super().drawPrimitive(element, option, painter, widget)

    @staticmethod
    def _check_box(option: QStyleOption, painter: QPainter) -> None:
        palette, state = option.palette, option.state
        enabled = bool(state & QStyle.StateFlag.State_Enabled)
        side = min(option.rect.width(), option.rect.height()) - 2
        box = QRectF(0, 0, side, side)
        box.moveCenter(QRectF(option.rect).center())
        line = max(1.5, side / 9)
        box.adjust(line / 2, line / 2, -line / 2, -line / 2)
        checked = bool(state & QStyle.StateFlag.State_On)
        partly = bool(state & QStyle.StateFlag.State_NoChange)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        edge = edge_colour(palette, 0.8) if enabled else edge_colour(palette, 0.4)
        if state & QStyle.StateFlag.State_HasFocus or (checked and enabled):
            edge = highlight
        fill = palette.color(QPalette.ColorRole.Base) if enabled else palette.color(QPalette.ColorRole.Window)
        if checked:
            fill = highlight if enabled else edge_colour(palette, 0.4)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(edge, line))
        painter.setBrush(fill)
        painter.drawRoundedRect(box, side * 0.18, side * 0.18)
        mark = QPen(
            palette.color(QPalette.ColorRole.HighlightedText) if checked else palette.color(QPalette.ColorRole.Text),
            max(1.6, side / 7),
            Qt.PenStyle.SolidLine,
            Qt.PenCapStyle.RoundCap,
            Qt.PenJoinStyle.RoundJoin,
        )
        painter.setPen(mark)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        x, y, w = box.left(), box.top(), box.width()
        if checked:
            tick = QPainterPath(QPointF(x + 0.22 * w, y + 0.52 * w))
            tick.lineTo(QPointF(x + 0.42 * w, y + 0.72 * w))
            tick.lineTo(QPointF(x + 0.78 * w, y + 0.3 * w))
            painter.drawPath(tick)
        elif partly:
            painter.drawLine(QPointF(x + 0.25 * w, y + 0.5 * w), QPointF(x + 0.75 * w, y + 0.5 * w))
        painter.restore()

    @staticmethod
    def _field_edge(option: QStyleOption, painter: QPainter) -> None:
        palette = option.palette
        focus = bool(option.state & QStyle.StateFlag.State_HasFocus)
        width = 2.0 if focus else 1.0
        colour = palette.color(QPalette.ColorRole.Highlight) if focus else edge_colour(palette)
        rect = QRectF(option.rect).adjusted(width / 2, width / 2, -width / 2, -width / 2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, 2.5, 2.5)
        painter.restore()


def install_controls_style(app: QApplication) -> None:
    """Draw the application with ``ControlsStyle`` over the platform's style (once)."""
    if not isinstance(app.style(), ControlsStyle):
        app.setStyle(ControlsStyle(app.style().name()))


def apply_workshop_mode(on: bool) -> None:
    """Switch the whole application between its normal look and workshop mode."""
    global _base
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    install_controls_style(app)
    if _base is None:
        _base = (QFont(app.font()), QPalette(app.palette()))
    font, palette = QFont(_base[0]), QPalette(_base[1])
    if on:
        size = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        font.setPointSizeF(size * WORKSHOP_SCALE)
        palette = workshop_palette()
    app.setFont(font)
    app.setPalette(palette)
    # A widget with a style sheet keeps the font and palette it was polished with;
    # setting its sheet again makes it (and its children) take the new ones.
    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if sheet:
            widget.setStyleSheet("")
            widget.setStyleSheet(sheet)


def workshop_mode_on() -> bool:
    app = QApplication.instance()
    return _base is not None and isinstance(app, QApplication) and app.font().pointSizeF() > _base[0].pointSizeF()
