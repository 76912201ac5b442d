"""Layouts that reflow to the width they get instead of clipping: for a laptop on a projector.

``FlowLayout`` puts its items side by side and wraps them onto further lines when
the width runs out (a row of buttons, a title with its badge). ``FormColumns``
shows label/field pairs in two columns when they fit and in one when they do not.
Both say their height for a width, so a scroll area around them knows how tall
the page has become.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLabel, QLayout, QLayoutItem, QSizePolicy, QSpacerItem, QWidget, QWidgetItem


def _wanted_width(item: QLayoutItem) -> int:
    """The width an item would like: its size hint; a word-wrapped label's text on one line."""
    widget = item.widget()
    if isinstance(widget, QLabel) and widget.wordWrap() and widget.text():
        margins = widget.contentsMargins()
        frame = margins.left() + margins.right() + 2 * widget.margin()
        return widget.fontMetrics().horizontalAdvance(widget.text()) + frame + 2
    return item.sizeHint().width()


def _item_width(item: QLayoutItem, room: int) -> int:
    """The width an item takes on a line with ``room`` left: what it wants, less if it may shrink."""
    least = item.minimumSize().width()
    return max(least, min(_wanted_width(item), room))


def _item_height(item: QLayoutItem, width: int) -> int:
    if item.hasHeightForWidth():
        return max(item.heightForWidth(width), item.minimumSize().height())
    return item.sizeHint().height()


class FlowLayout(QLayout):
    """Items left to right, wrapped onto more lines when they do not fit.

    ``addStretch()`` pushes what follows to the right end of its line when the line
    has room (e.g. a title left and a badge right); when the line wraps, the stretch
    does nothing. An item wider than a whole line gets the line's width (a word-wrapped
    label then takes more lines).
    """

    def __init__(self, parent: QWidget | None = None, *, spacing: int = 8, line_spacing: int | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._align: dict[int, Qt.AlignmentFlag] = {}
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)
        self._line_spacing = spacing if line_spacing is None else line_spacing

    # -- building -----------------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def add(self, widget: QWidget, alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignVCenter) -> None:
        """Add ``widget``; ``alignment`` (top, centre, bottom) places it within its line."""
        self.addWidget(widget)
        self._align[id(self._items[-1])] = alignment

    def addStretch(self) -> None:
        self.addItem(QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum))

    # -- QLayout --------------------------------------------------------------------------

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        if 0 <= index < len(self._items):
            item = self._items.pop(index)
            self._align.pop(id(item), None)
            return item
        return None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        width = height = 0
        shown = self._shown()
        for item in shown:
            width += _wanted_width(item) if item.spacerItem() is None else 0
            height = max(height, item.sizeHint().height())
        width += self.spacing() * max(0, len(shown) - 1)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:
        """As narrow as the widest item that cannot shrink."""
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    # -- placing --------------------------------------------------------------------------

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty() or item.spacerItem() is not None]

    def _lines(self, width: int) -> list[list[tuple[QLayoutItem, int]]]:
        """The items of each line with their widths (stretches with 0)."""
        lines: list[list[tuple[QLayoutItem, int]]] = [[]]
        used = 0
        gap = self.spacing()
        for item in self._shown():
            if item.spacerItem() is not None:
                lines[-1].append((item, 0))
                continue
            placed = [entry for entry in lines[-1] if entry[0].spacerItem() is None]
            room = width - used - (gap if placed else 0)
            if placed and _wanted_width(item) > room:
                lines.append([])
                used = 0
                room = width
            item_width = _item_width(item, room)
            used += item_width + (gap if used else 0)
            lines[-1].append((item, item_width))
        return [line for line in lines if any(entry[0].spacerItem() is None for entry in line)]

    def _place(self, rect: QRect, *, move: bool) -> int:
        margins: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        width = max(1, area.width())
        y = area.y()
        gap = self.spacing()
        lines = self._lines(width)
        for number, line in enumerate(lines):
            widgets = [(item, w) for item, w in line if item.spacerItem() is None]
            heights = [_item_height(item, w) for item, w in widgets]
            line_height = max(heights, default=0)
            if move:
                used = sum(w for _item, w in widgets) + gap * max(0, len(widgets) - 1)
                stretches = sum(1 for item, _w in line if item.spacerItem() is not None)
                spare = max(0, width - used)
                x = area.x()
                seen = 0
                for item, item_width in line:
                    if item.spacerItem() is not None:
                        x += spare // stretches if stretches else 0
                        continue
                    height = heights[seen]
                    align = self._align.get(id(item), Qt.AlignmentFlag.AlignVCenter)
                    top = y
                    if align & Qt.AlignmentFlag.AlignBottom:
                        top = y + line_height - height
                    elif not align & Qt.AlignmentFlag.AlignTop:
                        top = y + (line_height - height) // 2
                    item.setGeometry(QRect(QPoint(x, top), QSize(item_width, height)))
                    x += item_width + gap
                    seen += 1
            y += line_height + (self._line_spacing if number < len(lines) - 1 else 0)
        return y - area.y() + margins.top() + margins.bottom()


class FormColumns(QLayout):
    """Label/field pairs in two columns side by side when they fit, else one column (left pairs first).

    Fields keep their preferred width unless they expand horizontally (a line edit);
    a field too wide for the room gets the room.
    """

    def __init__(
        self,
        left: Sequence[tuple[QWidget, QWidget | QLayout]],
        right: Sequence[tuple[QWidget, QWidget | QLayout]],
        parent: QWidget | None = None,
        *,
        spacing: int = 12,
        row_spacing: int = 8,
        column_gap: int = 24,
    ) -> None:
        super().__init__(parent)
        self.setContentsMargins(0, 0, 0, 0)
        self._h, self._v, self._gap = spacing, row_spacing, column_gap
        self._items: list[QLayoutItem] = []
        self._left = [self._pair(label, field) for label, field in left]
        self._right = [self._pair(label, field) for label, field in right]

    def _pair(self, label: QWidget, field: QWidget | QLayout) -> tuple[QLayoutItem, QLayoutItem]:
        self.addChildWidget(label)
        label_item = QWidgetItem(label)
        if isinstance(field, QLayout):
            self.addChildLayout(field)
            field_item: QLayoutItem = field
        else:
            self.addChildWidget(field)
            field_item = QWidgetItem(field)
        self._items += [label_item, field_item]
        return label_item, field_item

    # -- QLayout --------------------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:  # pairs only, given to the constructor
        raise NotImplementedError("FormColumns takes its pairs in the constructor")

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return None  # the pairs stay for the layout's life

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        width = self._wide_width()
        return QSize(width, self.heightForWidth(width))

    def minimumSize(self) -> QSize:
        pairs = self._left + self._right
        labels = max((label.minimumSize().width() for label, _f in pairs), default=0)
        fields = max((field.minimumSize().width() for _l, field in pairs), default=0)
        width = labels + self._h + fields
        return QSize(width, self.heightForWidth(width))

    # -- placing --------------------------------------------------------------------------

    @staticmethod
    def _label_width(pairs: Sequence[tuple[QLayoutItem, QLayoutItem]]) -> int:
        return max((label.sizeHint().width() for label, _f in pairs), default=0)

    @staticmethod
    def _field_width(pairs: Sequence[tuple[QLayoutItem, QLayoutItem]]) -> int:
        return max((field.sizeHint().width() for _l, field in pairs), default=0)

    def _column_width(self, pairs: Sequence[tuple[QLayoutItem, QLayoutItem]]) -> int:
        return self._label_width(pairs) + self._h + self._field_width(pairs)

    def _wide_width(self) -> int:
        return self._column_width(self._left) + self._gap + self._column_width(self._right)

    def wide(self, width: int) -> bool:
        """Whether ``width`` holds the two columns side by side."""
        return width >= self._wide_width()

    def _place(self, rect: QRect, *, move: bool) -> int:
        area = rect.marginsRemoved(self.contentsMargins())
        width = area.width()
        if self.wide(width):
            right_width = self._column_width(self._right)
            left_width = width - self._gap - right_width
            rows = max(len(self._left), len(self._right))
            columns = [
                (self._left, area.x(), left_width),
                (self._right, area.x() + left_width + self._gap, right_width),
            ]
            y = area.y()
            for row in range(rows):
                cells = [(pairs[row], x, w, self._label_width(pairs)) for pairs, x, w in columns if row < len(pairs)]
                height = max(self._pair_height(pair, w - lw - self._h) for pair, _x, w, lw in cells)
                for pair, x, w, lw in cells:
                    if move:
                        self._put(pair, x, y, w, lw, height)
                y += height + (self._v if row < rows - 1 else 0)
            return y - area.y()
        pairs = self._left + self._right
        label_width = self._label_width(pairs)
        y = area.y()
        for number, pair in enumerate(pairs):
            height = self._pair_height(pair, width - label_width - self._h)
            if move:
                self._put(pair, area.x(), y, width, label_width, height)
            y += height + (self._v if number < len(pairs) - 1 else 0)
        return y - area.y()

    @staticmethod
    def _field_size(field: QLayoutItem, room: int) -> QSize:
        grows = bool(field.expandingDirections() & Qt.Orientation.Horizontal)
        width = max(1, room) if grows else max(1, min(field.sizeHint().width(), room))
        width = max(width, min(field.minimumSize().width(), room) if room > 0 else width)
        height = field.heightForWidth(width) if field.hasHeightForWidth() else field.sizeHint().height()
        return QSize(width, height)

    def _pair_height(self, pair: tuple[QLayoutItem, QLayoutItem], room: int) -> int:
        label, field = pair
        return max(label.sizeHint().height(), self._field_size(field, room).height())

    def _put(
        self, pair: tuple[QLayoutItem, QLayoutItem], x: int, y: int, width: int, label_width: int, height: int
    ) -> None:
        label, field = pair
        label_height = label.sizeHint().height()
        field_size = self._field_size(field, width - label_width - self._h)
        label.setGeometry(QRect(x, y + (height - label_height) // 2, label_width, label_height))
        field.setGeometry(QRect(QPoint(x + label_width + self._h, y + (height - field_size.height()) // 2), field_size))
