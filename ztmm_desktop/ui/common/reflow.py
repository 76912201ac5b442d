"""Layouts that reflow to the width they get instead of clipping: for a laptop on a projector.

``FlowLayout`` puts its items side by side and wraps them onto further lines when
the width runs out (a row of buttons, a title with its badge). ``FormColumns``
shows label/field pairs in two columns when they fit and in one when they do not.
Both say their height for a width, so a scroll area around them knows how tall
the page has become.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Measure:
    """What placing needs of one item, read once until the layout is invalidated."""

    item: QLayoutItem
    stretch: bool
    wanted: int
    least: int
    height: int  # the height when the item does not depend on its width
    height_for_width: bool
    align: Qt.AlignmentFlag

    def width(self, room: int) -> int:
        return max(self.least, min(self.wanted, room))

    def height_at(self, width: int) -> int:
        if self.height_for_width:
            return max(self.item.heightForWidth(width), self.item.minimumSize().height())
        return self.height


class _ReflowLayout(QLayout):
    """What both layouts share: a height for each width, remembered until the layout is invalidated,
    and placing the items (``_place``, which with ``move`` False only measures the height)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heights: dict[int, int] = {}  # height for width, until the layout is invalidated
        self._measures: object | None = None  # the subclass's measurements of its items

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = self._place(QRect(0, 0, width, 0), move=False)
        return height

    def invalidate(self) -> None:
        self._heights.clear()
        self._measures = None
        super().invalidate()

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def _place(self, rect: QRect, *, move: bool) -> int:
        raise NotImplementedError


class FlowLayout(_ReflowLayout):
    """Items left to right, wrapped onto more lines when they do not fit.

    ``addStretch()`` pushes what follows to the right end of its line when the line
    has room (e.g. a title left and a badge right); when the line wraps, the stretch
    does nothing. An item wider than a whole line gets the line's width (a word-wrapped
    label then takes more lines).
    """

    def __init__(self, parent: QWidget | None = None, *, spacing: int = 8, line_spacing: int | None = None) -> None:
        super().__init__(parent)
        self._measures: list[_Measure] | None = None
        self._items: list[QLayoutItem] = []
        self._align: dict[int, Qt.AlignmentFlag] = {}
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)
        self._line_spacing = spacing if line_spacing is None else line_spacing

    # -- building -----------------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self.invalidate()

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
            self.invalidate()
            return item
        return None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        shown = self._measured()
        widgets = [m for m in shown if not m.stretch]
        width = sum(m.wanted for m in widgets) + self.spacing() * max(0, len(shown) - 1)
        height = max((m.height for m in widgets), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(), height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:
        """As narrow as the widest item that cannot shrink."""
        size = QSize()
        for measure in self._measured():
            size = size.expandedTo(QSize(measure.least, measure.height))
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    # -- placing --------------------------------------------------------------------------

    def _measured(self) -> list[_Measure]:
        if self._measures is None:
            self._measures = [
                _Measure(
                    item,
                    item.spacerItem() is not None,
                    _wanted_width(item),
                    item.minimumSize().width(),
                    item.sizeHint().height(),
                    item.hasHeightForWidth(),
                    self._align.get(id(item), Qt.AlignmentFlag.AlignVCenter),
                )
                for item in self._items
                if not item.isEmpty() or item.spacerItem() is not None
            ]
        return self._measures

    def _lines(self, width: int) -> list[list[tuple[_Measure, int]]]:
        """The items of each line with their widths (stretches with 0)."""
        lines: list[list[tuple[_Measure, int]]] = [[]]
        used = 0
        gap = self.spacing()
        for measure in self._measured():
            if measure.stretch:
                lines[-1].append((measure, 0))
                continue
            room = width - used - (gap if used else 0)
            if used and measure.wanted > room:
                lines.append([])
                used, room = 0, width
            item_width = measure.width(room)
            used += item_width + (gap if used else 0)
            lines[-1].append((measure, item_width))
        return [line for line in lines if any(not m.stretch for m, _w in line)]

    def _place(self, rect: QRect, *, move: bool) -> int:
        margins: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        width = max(1, area.width())
        y = area.y()
        gap = self.spacing()
        lines = self._lines(width)
        for number, line in enumerate(lines):
            widgets = [(m, w) for m, w in line if not m.stretch]
            heights = [m.height_at(w) for m, w in widgets]
            line_height = max(heights, default=0)
            if move:
                used = sum(w for _m, w in widgets) + gap * max(0, len(widgets) - 1)
                stretches = sum(1 for m, _w in line if m.stretch)
                spare = max(0, width - used)
                x = area.x()
                seen = 0
                for measure, item_width in line:
                    if measure.stretch:
                        x += spare // stretches
                        continue
                    height = heights[seen]
                    top = y
                    if measure.align & Qt.AlignmentFlag.AlignBottom:
                        top = y + line_height - height
                    elif not measure.align & Qt.AlignmentFlag.AlignTop:
                        top = y + (line_height - height) // 2
                    measure.item.setGeometry(QRect(QPoint(x, top), QSize(item_width, height)))
                    x += item_width + gap
                    seen += 1
            y += line_height + (self._line_spacing if number < len(lines) - 1 else 0)
        return y - area.y() + margins.top() + margins.bottom()


@dataclass(frozen=True)
class _Pair:
    """A label and its field, measured once until the layout is invalidated."""

    label: QLayoutItem
    field: QLayoutItem
    label_width: int
    label_height: int
    field_width: int
    field_least: int
    field_height: int
    grows: bool  # the field takes all the room it gets (a line edit)
    height_for_width: bool

    @classmethod
    def of(cls, label: QLayoutItem, field: QLayoutItem) -> _Pair:
        hint = label.sizeHint()
        return cls(
            label,
            field,
            hint.width(),
            hint.height(),
            field.sizeHint().width(),
            field.minimumSize().width(),
            field.sizeHint().height(),
            bool(field.expandingDirections() & Qt.Orientation.Horizontal),
            field.hasHeightForWidth(),
        )

    def field_size(self, room: int) -> QSize:
        width = room if self.grows else min(self.field_width, room)
        width = max(1, width, min(self.field_least, room))
        height = self.field.heightForWidth(width) if self.height_for_width else self.field_height
        return QSize(width, height)

    def height(self, room: int) -> int:
        return max(self.label_height, self.field_size(room).height())

    def put(self, x: int, y: int, width: int, label_width: int, height: int, spacing: int) -> None:
        field = self.field_size(width - label_width - spacing)
        self.label.setGeometry(QRect(x, y + (height - self.label_height) // 2, label_width, self.label_height))
        self.field.setGeometry(QRect(QPoint(x + label_width + spacing, y + (height - field.height()) // 2), field))


class FormColumns(_ReflowLayout):
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
        self._measures: tuple[list[_Pair], list[_Pair]] | None = None
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

    def sizeHint(self) -> QSize:
        width = self._wide_width()
        return QSize(width, self.heightForWidth(width))

    def minimumSize(self) -> QSize:
        pairs = [*self._measured()[0], *self._measured()[1]]
        labels = max((pair.label.minimumSize().width() for pair in pairs), default=0)
        fields = max((pair.field_least for pair in pairs), default=0)
        width = labels + self._h + fields
        return QSize(width, self.heightForWidth(width))

    # -- placing --------------------------------------------------------------------------

    def _measured(self) -> tuple[list[_Pair], list[_Pair]]:
        if self._measures is None:
            self._measures = (
                [_Pair.of(label, field) for label, field in self._left],
                [_Pair.of(label, field) for label, field in self._right],
            )
        return self._measures

    @staticmethod
    def _label_width(pairs: Sequence[_Pair]) -> int:
        return max((pair.label_width for pair in pairs), default=0)

    def _column_width(self, pairs: Sequence[_Pair]) -> int:
        return self._label_width(pairs) + self._h + max((pair.field_width for pair in pairs), default=0)

    def _wide_width(self) -> int:
        left, right = self._measured()
        return self._column_width(left) + self._gap + self._column_width(right)

    def wide(self, width: int) -> bool:
        """Whether ``width`` holds the two columns side by side."""
        return width >= self._wide_width()

    def _place(self, rect: QRect, *, move: bool) -> int:
        area = rect.marginsRemoved(self.contentsMargins())
        width = area.width()
        left, right = self._measured()
        y = area.y()
        if self.wide(width):
            right_width = self._column_width(right)
            left_width = width - self._gap - right_width
            columns = [
                (left, area.x(), left_width, self._label_width(left)),
                (right, area.x() + left_width + self._gap, right_width, self._label_width(right)),
            ]
            rows = max(len(left), len(right))
            for row in range(rows):
                cells = [(pairs[row], x, w, lw) for pairs, x, w, lw in columns if row < len(pairs)]
                height = max(pair.height(w - lw - self._h) for pair, _x, w, lw in cells)
                if move:
                    for pair, x, w, lw in cells:
                        pair.put(x, y, w, lw, height, self._h)
                y += height + (self._v if row < rows - 1 else 0)
            return y - area.y()
        pairs = [*left, *right]
        label_width = self._label_width(pairs)
        for number, pair in enumerate(pairs):
            height = pair.height(width - label_width - self._h)
            if move:
                pair.put(area.x(), y, width, label_width, height, self._h)
            y += height + (self._v if number < len(pairs) - 1 else 0)
        return y - area.y()
