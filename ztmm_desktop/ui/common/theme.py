"""Workshop mode: large type and high contrast, for a projector in a client's meeting room."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

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


def apply_workshop_mode(on: bool) -> None:
    """Switch the whole application between its normal look and workshop mode."""
    global _base
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
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
