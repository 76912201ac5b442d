"""The engagement dashboard: headline figures, current against target per pillar, and a heat map.

``Dashboard`` draws an open engagement with QPainter: a headline band (overall
roll-up, functions assessed, functions below target, functions per stage), a
grouped bar chart of current against target per pillar on the 0–3 stage scale,
and a heat map of pillars × functions coloured by current stage. Clicking a
heat-map cell (or pressing Enter on the focused cell) emits
``functionActivated`` with the function id.

Everything shown is read once by ``refresh()`` into plain values (``DashboardData``);
``paintEvent`` and the hit-testing only use those values and never touch the
engagement file. Sizes derive from the widget's font and colours from its
palette, so the dashboard follows the workshop font size and light, dark and
high-contrast themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ...core import figures
from ...core.stages import Stage
from ...core.words import plural
from ...services.engagement import Engagement

#: The top of the maturity scale (Optimal).
SCALE_MAX = float(int(Stage.OPTIMAL))

#: Heat-map fill per current stage: one blue hue, from faint (Traditional) to strong
#: (Optimal), so it reads without colour vision. On a dark palette the scale runs
#: from dim to bright instead, so more maturity always stands out more.
STAGE_COLOURS: dict[Stage, str] = {
    Stage.TRADITIONAL: "#e3ebf4",
    Stage.INITIAL: "#a7c4e2",
    Stage.ADVANCED: "#4f86c0",
    Stage.OPTIMAL: "#1d4a80",
}
STAGE_COLOURS_DARK: dict[Stage, str] = {
    Stage.TRADITIONAL: "#2e4560",
    Stage.INITIAL: "#3f6b9c",
    Stage.ADVANCED: "#6a9fd6",
    Stage.OPTIMAL: "#b9d8f7",
}
#: The marker of an overridden current stage (corner triangle).
OVERRIDE_COLOUR = "#d98e04"
NOT_ASSESSED = "not assessed"
NOT_APPLICABLE = "not applicable"


# -- the values shown -------------------------------------------------------------


@dataclass(frozen=True)
class CellData:
    """One function of the heat map."""

    function_id: str
    code: str
    name: str
    assessed: bool
    applicable: bool
    current: Stage | None  # None when not assessed or not applicable
    derived: Stage
    target: Stage | None
    overridden: bool
    override_reason: str
    gap: int | None = None  # ``FunctionResult.gap``: applicable stages to climb

    @property
    def current_text(self) -> str:
        if not self.assessed:
            return NOT_ASSESSED
        if not self.applicable or self.current is None:
            return NOT_APPLICABLE
        return self.current.label + (" (override)" if self.overridden else "")

    @property
    def state_text(self) -> str:
        """Current → target in words, e.g. ``Advanced (override) → Optimal``."""
        target = self.target.label if self.target is not None else "no target"
        return f"{self.current_text} → {target}"

    @property
    def below_target(self) -> bool:
        return self.current is not None and bool(self.gap)  # the rule of ``core.figures``


@dataclass(frozen=True)
class PillarData:
    """One pillar in scope: its roll-up and its functions."""

    id: str
    code: str
    name: str
    functions: int
    assessed: int
    score: float | None  # shown mean current stage 0–3 (``core.figures``, rounded); None when nothing is assessed
    level: Stage | None
    target_score: float | None  # shown mean target, rounded
    below_target: int
    score_text: str  # ``Rollup.score_text``: "1.6 (Initial)" or "not assessed"
    cells: tuple[CellData, ...]

    @property
    def current_text(self) -> str:
        return figures.mean_text(self.score, none=NOT_ASSESSED)

    @property
    def target_text(self) -> str:
        return figures.mean_text(self.target_score, none="no target")

    @property
    def coverage_text(self) -> str:
        text = f"{self.assessed} of {self.functions} assessed"
        if self.below_target:
            text += f" · {self.below_target} below target"
        return text


@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboard shows, read from the engagement by ``refresh()``."""

    client: str
    title: str
    score: float | None
    level: Stage | None
    score_text: str
    target_score: float | None
    functions: int
    assessed: int
    not_applicable: int
    below_target: int
    distribution: tuple[tuple[Stage, int], ...]
    pillars: tuple[PillarData, ...]

    @property
    def not_assessed(self) -> int:
        return self.functions - self.assessed

    @property
    def distribution_text(self) -> str:
        parts = [f"{stage.label} {count}" for stage, count in self.distribution]
        parts.append(f"not assessed {self.not_assessed}")
        if self.not_applicable:
            parts.append(f"not applicable {self.not_applicable}")
        return ", ".join(parts)

    @property
    def headline_text(self) -> str:
        return (
            f"Overall {self.score_text} · {self.assessed:,} of {plural(self.functions, 'function')} assessed · "
            f"{self.below_target} below target · {self.distribution_text}"
        )


def read_dashboard(engagement: Engagement) -> DashboardData:
    """Read the values the dashboard shows (one pass over the engagement)."""
    meta = engagement.meta()
    pillar_rollups, overall = engagement.rollups()
    results = engagement.results()
    by_key = {r.key: r for r in pillar_rollups}
    pillars = []
    for pillar in engagement.catalog.pillars:
        roll = by_key.get(pillar.id)
        if roll is None:
            continue
        cells = []
        for function in pillar.functions:
            result = results[function.id]
            cells.append(
                CellData(
                    function_id=function.id,
                    code=function.code,
                    name=function.name,
                    assessed=result.assessed,
                    applicable=result.applicable,
                    current=result.current if result.assessed and result.applicable else None,
                    derived=result.derived,
                    target=result.target,
                    overridden=result.overridden,
                    override_reason=result.override_reason,
                    gap=result.gap,
                )
            )
        pillars.append(
            PillarData(
                id=pillar.id,
                code=pillar.code,
                name=pillar.name,
                functions=roll.functions,
                assessed=roll.assessed,
                score=figures.mean_number(roll.score),
                level=roll.level,
                target_score=figures.mean_number(roll.target_score),
                below_target=roll.below_target,
                score_text=roll.score_text,
                cells=tuple(cells),
            )
        )
    return DashboardData(
        client=meta.client,
        title=meta.title,
        score=figures.mean_number(overall.score),
        level=overall.level,
        score_text=overall.score_text,
        target_score=figures.mean_number(overall.target_score),
        functions=overall.functions,
        assessed=overall.assessed,
        not_applicable=overall.not_applicable,
        below_target=overall.below_target,
        distribution=tuple((stage, overall.distribution.get(stage, 0)) for stage in Stage),
        pillars=tuple(pillars),
    )


# -- drawing helpers ----------------------------------------------------------------


def _scaled(font: QFont, factor: float, weight: QFont.Weight | None = None) -> QFont:
    """``font`` ``factor`` times as large (works for point- and pixel-sized fonts)."""
    out = QFont(font)
    if font.pointSizeF() > 0:
        out.setPointSizeF(font.pointSizeF() * factor)
    else:
        out.setPixelSize(max(1, round(font.pixelSize() * factor)))
    if weight is not None:
        out.setWeight(weight)
    return out


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` of the way towards ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        1.0,
    )


def _luminance(colour: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def _ink_on(fill: QColor) -> QColor:
    """Black-ish or white text, whichever reads better on ``fill``."""
    return QColor("#0f1e33") if _luminance(fill) > 0.22 else QColor("#ffffff")


@dataclass(frozen=True)
class _Colours:
    window: QColor
    card: QColor
    card_border: QColor
    text: QColor
    muted: QColor
    grid: QColor
    accent: QColor
    target_fill: QColor
    focus: QColor
    empty_cell: QColor
    empty_border: QColor
    dark: bool
    stages: dict[Stage, QColor]


def _colours(palette: QPalette) -> _Colours:
    window = palette.color(QPalette.ColorRole.Window)
    card = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    dark = card.lightnessF() < 0.5
    high_contrast = abs(_luminance(text) - _luminance(card)) > 0.97
    accent = QColor("#6ea6dc") if dark else QColor("#2563a8")
    target_fill = QColor(accent)
    target_fill.setAlphaF(0.16)
    return _Colours(
        window=window,
        card=card,
        card_border=_mix(card, text, 0.55 if high_contrast else 0.14),
        text=text,
        muted=_mix(text, card, 0.2 if high_contrast else 0.42),
        grid=_mix(card, text, 0.5 if high_contrast else 0.1),
        accent=accent,
        target_fill=target_fill,
        focus=palette.color(QPalette.ColorRole.Highlight),
        empty_cell=_mix(card, text, 0.04),
        empty_border=_mix(card, text, 0.6 if high_contrast else 0.32),
        dark=dark,
        stages={stage: QColor(code) for stage, code in (STAGE_COLOURS_DARK if dark else STAGE_COLOURS).items()},
    )


@dataclass(frozen=True)
class _Legend:
    """Legend entries laid out left to right, wrapping: (kind, label, swatch rect, text rect)."""

    items: tuple[tuple[str, str, QRect, QRect], ...]
    height: int


@dataclass(frozen=True)
class _Geometry:
    size: QSize
    side_by_side: bool
    headline: QRect
    headline_blocks: tuple[QRect, QRect, QRect, QRect]  # overall, assessed, below target, distribution
    distribution_bar: QRect
    distribution_legend: _Legend
    bars_card: QRect
    bars_axis: QRect  # where the 0–3 scale runs (x) and the stage labels sit (y)
    bar_rows: tuple[tuple[QRect, QRect], ...]  # per pillar: name area, bar area
    bar_labels_left: bool  # names in a column left of the bars (else on a line above them)
    heat_card: QRect
    heat_labels: tuple[QRect, ...]
    cells: dict[str, QRect]
    heat_legend: _Legend


class Dashboard(QWidget):
    """Headline, current against target per pillar, and the pillars × functions heat map."""

    functionActivated = Signal(str)

    def __init__(self, engagement: Engagement | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self.setAccessibleName("Dashboard")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._engagement: Engagement | None = None
        self._data: DashboardData | None = None
        self._cells: dict[str, CellData] = {}
        self._grid: list[list[str]] = []  # function ids per heat-map row, for the keyboard
        self._geometry_cache: _Geometry | None = None
        self._picture: QPixmap | None = None  # everything but hover and focus, drawn once
        self._font_cache: dict[str, QFont] | None = None
        self._metrics_cache: dict[str, QFontMetrics] | None = None
        self._hover: str | None = None
        self._pressed: str | None = None
        self._focus_cell: str | None = None
        self.set_engagement(engagement)

    # -- public API ---------------------------------------------------------------

    def engagement(self) -> Engagement | None:
        return self._engagement

    def set_engagement(self, engagement: Engagement | None) -> None:
        """Show ``engagement`` (``None``: nothing open) and read its values."""
        self._engagement = engagement
        self._focus_cell = None
        self.refresh()

    def refresh(self) -> None:
        """Re-read the engagement (call after edits); painting uses only what this reads."""
        self._data = read_dashboard(self._engagement) if self._engagement is not None else None
        pillars = self._data.pillars if self._data is not None else ()
        self._cells = {c.function_id: c for p in pillars for c in p.cells}
        self._grid = [[c.function_id for c in p.cells] for p in pillars]
        if self._focus_cell not in self._cells:
            self._focus_cell = None
        if self._hover not in self._cells:
            self._hover = None
        self.setAccessibleDescription(self.headline_text())
        self._invalidate()

    def data(self) -> DashboardData | None:
        """The values shown, as read by the last ``refresh()``."""
        return self._data

    def headline_text(self) -> str:
        """The headline in words, e.g. ``Overall 1.2 (Initial) · 19 of 40 functions assessed · …``."""
        if self._data is None:
            return "No engagement open"
        return self._data.headline_text

    def pillar_texts(self) -> list[tuple[str, str, str]]:
        """Per pillar in scope: (name, current, target) as shown beside the bars."""
        pillars = self._data.pillars if self._data is not None else ()
        return [(p.name, p.current_text, p.target_text) for p in pillars]

    def cell_rect(self, function_id: str) -> QRect:
        """Where the heat-map cell of ``function_id`` (id or code) is drawn; a null QRect if none."""
        key = self._key(function_id)
        if key is None:
            return QRect()
        return QRect(self._geometry().cells[key])

    def function_at(self, pos: QPoint) -> str | None:
        """The function id of the heat-map cell under ``pos``, if any."""
        for function_id, rect in self._geometry().cells.items():
            if rect.contains(pos):
                return function_id
        return None

    def tooltip_text(self, function_id: str) -> str:
        """The (escaped, rich-text) tooltip of a heat-map cell."""
        key = self._key(function_id)
        if key is None:
            return ""
        cell = self._cells[key]
        lines = [f"<b>{escape(cell.code)} {escape(cell.name)}</b>", escape(cell.state_text)]
        if cell.overridden:
            lines.append(f"Override of derived {escape(cell.derived.label)}: {escape(cell.override_reason)}")
        return "<br>".join(lines)

    # -- Qt sizing --------------------------------------------------------------------

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._layout(QSize(width, 0)).size.height()

    def minimumSizeHint(self) -> QSize:
        width = self._stacked_min_width()
        side = self._side_min_width()
        return QSize(width, self._layout(QSize(side, 0)).size.height())

    def sizeHint(self) -> QSize:
        width = round(self._side_min_width() * 1.2)
        return QSize(width, round(self._layout(QSize(width, 0)).size.height() * 1.1))

    # -- events -------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._invalidate()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._geometry_cache = None
        self._picture = None
        super().resizeEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text, rect = self._tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self, rect)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hover = self.function_at(event.position().toPoint())
        if hover != self._hover:
            self._hover = hover
            self.setCursor(Qt.CursorShape.PointingHandCursor if hover else Qt.CursorShape.ArrowCursor)
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._hover is not None:
            self._hover = None
            self.unsetCursor()
            self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pressed = None
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed = self.function_at(event.position().toPoint())
            if self._pressed is not None:
                self._focus_cell = self._pressed
                self.update()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            released = self.function_at(event.position().toPoint())
            pressed, self._pressed = self._pressed, None
            if released is not None and released == pressed:
                self.functionActivated.emit(released)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._grid:
            super().keyPressEvent(event)
            return
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and self._focus_cell:
            self.functionActivated.emit(self._focus_cell)
            return
        moves = {
            Qt.Key.Key_Left: (0, -1),
            Qt.Key.Key_Right: (0, 1),
            Qt.Key.Key_Up: (-1, 0),
            Qt.Key.Key_Down: (1, 0),
        }
        if key in moves:
            self._move_focus(*moves[key])
            return
        if key in (Qt.Key.Key_Home, Qt.Key.Key_End):
            row = self._grid[0] if key == Qt.Key.Key_Home else self._grid[-1]
            self._focus_cell = row[0] if key == Qt.Key.Key_Home else row[-1]
            self.update()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        if self._focus_cell is None and self._grid:
            self._focus_cell = self._grid[0][0]
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()
        super().focusOutEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        # The chart is drawn once into a pixmap (again only after refresh, resize, font or
        # palette changes); hover and focus are drawn over it, so moving the mouse is cheap.
        ratio = self.devicePixelRatioF()
        if self._picture is None or self._picture.size() != self.size() * ratio:
            self._picture = self._render(ratio)
        painter = QPainter(self)
        try:
            painter.drawPixmap(0, 0, self._picture)
            focus = self._focus_cell if self.hasFocus() else None
            for function_id in dict.fromkeys(c for c in (self._hover, focus) if c is not None):
                rect = self._geometry().cells.get(function_id)
                if rect is not None:
                    self._paint_cell_outline(painter, rect, _colours(self.palette()), function_id == focus)
        finally:
            painter.end()

    def _render(self, ratio: float) -> QPixmap:
        picture = QPixmap(self.size() * ratio)
        picture.setDevicePixelRatio(ratio)
        colours = _colours(self.palette())
        picture.fill(colours.window)
        painter = QPainter(picture)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            if self._data is None:
                painter.setPen(colours.muted)
                painter.setFont(self._fonts()["empty"])
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No engagement open")
            else:
                geo = self._geometry()
                self._paint_headline(painter, geo, colours, self._data)
                self._paint_bars(painter, geo, colours, self._data)
                self._paint_heat_map(painter, geo, colours, self._data)
        finally:
            painter.end()
        return picture

    # -- internals --------------------------------------------------------------------

    def _key(self, function_id: str) -> str | None:
        if function_id in self._cells:
            return function_id
        return next((c.function_id for c in self._cells.values() if c.code == function_id), None)

    def _invalidate(self) -> None:
        self._geometry_cache = None
        self._picture = None
        self._font_cache = None
        self._metrics_cache = None
        self.updateGeometry()
        self.update()

    def _move_focus(self, d_row: int, d_col: int) -> None:
        row, col = 0, 0
        if self._focus_cell is not None:
            row = next(i for i, ids in enumerate(self._grid) if self._focus_cell in ids)
            col = self._grid[row].index(self._focus_cell)
            row = max(0, min(len(self._grid) - 1, row + d_row))
            col = max(0, min(len(self._grid[row]) - 1, col + d_col))
        self._focus_cell = self._grid[row][col]
        self.update()

    def _tooltip_at(self, pos: QPoint) -> tuple[str, QRect]:
        function_id = self.function_at(pos)
        geo = self._geometry()
        if function_id is not None:
            return self.tooltip_text(function_id), geo.cells[function_id]
        if self._data is None:
            return "", QRect()
        for pillar, (label, bars) in zip(self._data.pillars, geo.bar_rows, strict=True):
            row = label.united(bars)
            if row.contains(pos):
                lines = [
                    f"<b>{escape(pillar.code)} {escape(pillar.name)}</b>",
                    f"Current {escape(pillar.score_text)} · target {escape(pillar.target_text)}",
                    escape(pillar.coverage_text),
                ]
                return "<br>".join(lines), row
        return "", QRect()

    # fonts and measures, all derived from the widget's font

    def _fonts(self) -> dict[str, QFont]:
        """The dashboard's fonts, all derived from the widget's font (made once per font change)."""
        if self._font_cache is None:
            base = self.font()
            caption = _scaled(base, 0.82, QFont.Weight.DemiBold)
            caption.setCapitalization(QFont.Capitalization.AllUppercase)
            caption.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
            self._font_cache = {
                "base": base,
                "name": _scaled(base, 1.0, QFont.Weight.Medium),
                "small": _scaled(base, 0.88),
                "caption": caption,
                "title": _scaled(base, 1.08, QFont.Weight.DemiBold),
                "big": _scaled(base, 2.3, QFont.Weight.DemiBold),
                "stat": _scaled(base, 1.75, QFont.Weight.DemiBold),
                "level": _scaled(base, 1.25, QFont.Weight.Medium),
                "cell": _scaled(base, 0.95, QFont.Weight.DemiBold),
                "value": _scaled(base, 1.0, QFont.Weight.DemiBold),
                "italic": _scaled(base, 0.88),
                "empty": _scaled(base, 1.2),
            }
            self._font_cache["italic"].setItalic(True)
            self._metrics_cache = {name: QFontMetrics(font) for name, font in self._font_cache.items()}
        return self._font_cache

    def _metrics(self) -> dict[str, QFontMetrics]:
        self._fonts()
        assert self._metrics_cache is not None
        return self._metrics_cache

    def _units(self) -> tuple[int, int, int, int]:
        """Line height, outer margin, gap between cards, padding inside cards (pixels)."""
        h = QFontMetrics(self.font()).height()
        return h, round(0.9 * h), round(0.8 * h), round(1.0 * h)

    def _max_columns(self) -> int:
        return max((len(row) for row in self._grid), default=1) or 1

    def _label_width(self, fm: QFontMetrics, limit: int) -> int:
        names = [p.name for p in self._data.pillars] if self._data is not None else []
        natural = max((fm.horizontalAdvance(n) for n in names), default=0)
        return min(natural, limit)

    def _cell_min(self) -> QSize:
        fm = QFontMetrics(self._fonts()["cell"])
        h = fm.height()
        return QSize(fm.horizontalAdvance("8.8") + round(0.9 * h), round(1.8 * h))

    def _bars_min_width(self) -> int:
        h, _, _, pad = self._units()
        fm = QFontMetrics(self.font())
        scale = QFontMetrics(self._fonts()["small"]).horizontalAdvance("Traditional Initial Advanced Optimal")
        return 2 * pad + round(scale * 1.25) + fm.horizontalAdvance(" 0.0 ") + h

    def _heat_min_width(self) -> int:
        h, _, _, pad = self._units()
        fm = QFontMetrics(self.font())
        cell = self._cell_min()
        gap = max(3, round(0.25 * h))
        columns = self._max_columns()
        return 2 * pad + 9 * fm.averageCharWidth() + h + columns * cell.width() + (columns - 1) * gap

    def _headline_min_width(self) -> int:
        h, margin, _, pad = self._units()
        m = self._metrics()
        blocks = self._headline_block_widths(m)
        return 2 * margin + 2 * pad + sum(blocks) + 3 * round(1.6 * h) + 22 * m["base"].averageCharWidth()

    def _headline_block_widths(self, m: dict[str, QFontMetrics]) -> list[int]:
        overall = max(
            m["big"].horizontalAdvance("0.0") + m["level"].horizontalAdvance("  Traditional"),
            m["caption"].horizontalAdvance("Overall maturity"),
            m["level"].horizontalAdvance(NOT_ASSESSED.capitalize()),
            m["small"].horizontalAdvance("out of 3 · target 0.0"),
        )
        functions = self._data.functions if self._data is not None else 40
        assessed = max(
            m["stat"].horizontalAdvance(f"{functions}") + m["base"].horizontalAdvance(f" of {functions}"),
            m["caption"].horizontalAdvance("Assessed"),
            m["small"].horizontalAdvance("100% of functions"),
        )
        below = max(
            m["stat"].horizontalAdvance(f"{functions}"),
            m["caption"].horizontalAdvance("Below target"),
            m["small"].horizontalAdvance(f"of {functions} with a target"),
        )
        slack = m["base"].averageCharWidth()  # rounding of fractional font sizes
        return [overall + slack, assessed + slack, below + slack]

    def _side_min_width(self) -> int:
        _, margin, gap, _ = self._units()
        return max(self._headline_min_width(), 2 * margin + gap + self._bars_min_width() + self._heat_min_width())

    def _stacked_min_width(self) -> int:
        _, margin, _, _ = self._units()
        return max(self._headline_min_width(), 2 * margin + max(self._bars_min_width(), self._heat_min_width()))

    def _legend(self, entries: Sequence[tuple[str, str]], left: int, top: int, width: int, fm: QFontMetrics) -> _Legend:
        h = fm.height()
        swatch = round(0.95 * h)
        spacing, item_gap = round(0.35 * h), round(0.7 * h)
        x, y = left, top
        items = []
        for kind, label in entries:
            if kind == "break":  # the states that are not stages go on a line of their own
                if x > left:
                    x, y = left, y + round(1.45 * h)
                continue
            item_width = swatch + spacing + fm.horizontalAdvance(label)
            if x > left and x + item_width > left + width:
                x, y = left, y + round(1.45 * h)
            items.append(
                (
                    kind,
                    label,
                    QRect(x, y + (h - swatch) // 2, swatch, swatch),
                    QRect(x + swatch + spacing, y, fm.horizontalAdvance(label) + 2, h),
                )
            )
            x += item_width + item_gap
        return _Legend(tuple(items), (y - top) + h if items else 0)

    def _heat_legend_entries(self) -> list[tuple[str, str]]:
        entries = [(f"stage:{s.key}", s.label) for s in Stage]
        entries.append(("break", ""))
        entries.append(("unassessed", "Not assessed"))
        if any(c.assessed and not c.applicable for c in self._cells.values()):
            entries.append(("na", "Not applicable"))
        entries.append(("override", "Overridden"))
        return entries

    def _distribution_entries(self) -> list[tuple[str, str]]:
        if self._data is None:
            return []
        entries = [(f"stage:{s.key}", f"{s.label} {n}") for s, n in self._data.distribution]
        entries.append(("break", ""))
        entries.append(("unassessed", f"Not assessed {self._data.not_assessed - self._data.not_applicable}"))
        if self._data.not_applicable:
            entries.append(("na", f"N/A {self._data.not_applicable}"))
        return entries

    def _geometry(self) -> _Geometry:
        if self._geometry_cache is None or self._geometry_cache.size != self.size():
            self._geometry_cache = self._layout(self.size())
        return self._geometry_cache

    def _layout(self, size: QSize) -> _Geometry:
        """Place everything for ``size``; a height of 0 asks for the least height that fits."""
        h, margin, gap, pad = self._units()
        m = self._metrics()
        width = max(size.width(), self._stacked_min_width())
        inner = width - 2 * margin
        rows = len(self._grid)
        side_by_side = width >= self._side_min_width()

        # headline band
        blocks = self._headline_block_widths(m)
        block_gap = round(1.6 * h)
        head_left = margin + pad
        head_top = margin + pad
        x = head_left
        block_rects = []
        left_height = m["caption"].height() + round(0.3 * h) + m["big"].height() + m["small"].height()
        for block_width in blocks:
            block_rects.append(QRect(x, head_top, block_width, left_height))
            x += block_width + block_gap
        dist_width = margin + inner - pad - x
        dist_top = head_top
        wrapped = dist_width < 30 * m["base"].averageCharWidth()  # too narrow: a row of its own
        if wrapped:
            x, dist_top = head_left, head_top + left_height + round(1.4 * h)
            dist_width = inner - 2 * pad
        bar_top = dist_top + m["caption"].height() + round(0.45 * h)
        dist_bar = QRect(x, bar_top, dist_width, round(1.15 * h))
        dist_legend = self._legend(
            self._distribution_entries(), x, dist_bar.bottom() + 1 + round(0.5 * h), dist_width, m["small"]
        )
        dist_height = dist_bar.bottom() + 1 + round(0.5 * h) + dist_legend.height - dist_top
        block_rects.append(QRect(x, dist_top, dist_width, dist_height))
        if wrapped:
            head_height = 2 * pad + (dist_top - head_top) + dist_height
        else:
            head_height = 2 * pad + max(left_height, dist_height)
            block_rects = [QRect(r.left(), r.top(), r.width(), head_height - 2 * pad) for r in block_rects]
        headline = QRect(margin, margin, inner, head_height)
        body_top = headline.bottom() + 1 + gap

        # minimum heights of the two cards
        title_h = m["title"].height()
        axis_h = m["small"].height()
        bars_h = 2 * round(0.72 * h) + max(2, round(0.15 * h))
        cell_min = self._cell_min()
        cell_gap = max(3, round(0.25 * h))
        cell_max_h = round(3.0 * h)
        if side_by_side:
            bars_width = round((inner - gap) * 0.44)
            heat_width = inner - gap - bars_width
        else:
            bars_width = heat_width = inner

        # A wide bar card puts the pillar names in a column left of the bars; a narrow one
        # puts each name on a line of its own above its bars, so the scale keeps its width.
        fm = m["base"]
        value_w = fm.horizontalAdvance("0.0") + round(0.8 * h)
        scale_min = round(m["small"].horizontalAdvance("Traditional Initial Advanced Optimal") * 1.3)
        names = [p.name for p in self._data.pillars] if self._data is not None else []
        coverage = [p.coverage_text for p in self._data.pillars] if self._data is not None else []
        label_natural = fm.averageCharWidth() + max(
            [m["name"].horizontalAdvance(n) for n in names] + [m["small"].horizontalAdvance(c) for c in coverage] + [0]
        )
        label_left = bars_width - 2 * pad >= label_natural + h + scale_min + value_w
        if label_left:
            two_lines = fm.height() + m["small"].height()
            row_min, row_max = max(two_lines, bars_h) + round(0.8 * h), round(3.4 * h)
        else:
            row_min, row_max = h + round(0.25 * h) + bars_h + round(0.8 * h), round(4.6 * h)
        bars_fixed = 2 * pad + title_h + round(0.7 * h) + axis_h + round(0.4 * h)
        bars_min = bars_fixed + rows * row_min
        heat_content_w = heat_width - 2 * pad
        heat_legend_probe = self._legend(self._heat_legend_entries(), 0, 0, heat_content_w, m["small"])
        heat_fixed = 2 * pad + title_h + round(0.7 * h) + round(0.9 * h) + heat_legend_probe.height
        heat_min = heat_fixed + rows * (cell_min.height() + cell_gap)

        if side_by_side:
            body_min = max(bars_min, heat_min)
            total_min = body_top + body_min + margin
            height = max(size.height(), total_min)
            body_h = height - body_top - margin
            bars_card = QRect(margin, body_top, bars_width, body_h)
            heat_card = QRect(margin + bars_width + gap, body_top, heat_width, body_h)
        else:
            total_min = body_top + bars_min + gap + heat_min + margin
            height = max(size.height(), total_min)
            extra = height - total_min
            bars_card_h = bars_min + extra // 2
            bars_card = QRect(margin, body_top, inner, bars_card_h)
            heat_top = body_top + bars_card_h + gap
            heat_card = QRect(margin, heat_top, inner, height - margin - heat_top)

        # bar chart rows
        content = bars_card.adjusted(pad, pad, -pad, -pad)
        axis_top = content.top() + title_h + round(0.7 * h)
        label_w = min(label_natural, content.width() - h - scale_min - value_w) if label_left else 0
        scale_left = content.left() + (label_w + h if label_left else 1)
        scale_right = content.right() - value_w
        axis = QRect(scale_left, axis_top, max(1, scale_right - scale_left), axis_h)
        rows_top = axis.bottom() + 1 + round(0.4 * h)
        row_h = row_min if rows == 0 else max(row_min, min(row_max, (content.bottom() - rows_top) // rows))
        bar_rows = []
        for i in range(rows):
            top = rows_top + i * row_h
            if label_left:
                label = QRect(content.left(), top, label_w, row_h - round(0.8 * h))
                bars_zone = QRect(scale_left, label.center().y() - bars_h // 2, scale_right - scale_left, bars_h)
                bar_rows.append((label, bars_zone))
            else:
                name_line = QRect(content.left(), top, content.width(), h)
                bars_top = top + h + round(0.25 * h)
                bars_zone = QRect(scale_left, bars_top, scale_right - scale_left, bars_h)
                bar_rows.append((name_line, bars_zone))

        # heat map
        content = heat_card.adjusted(pad, pad, -pad, -pad)
        legend = self._legend(
            self._heat_legend_entries(), content.left(), 0, content.width(), m["small"]
        )  # placed below; the top is fixed up after the grid is sized
        columns = self._max_columns()
        grid_min_w = columns * cell_min.width() + (columns - 1) * cell_gap
        label_room = max(5 * fm.averageCharWidth(), content.width() - h - grid_min_w)
        heat_label_w = self._label_width(fm, min(label_room, round(content.width() * 0.27)))
        grid_left = content.left() + heat_label_w + h
        grid_top = content.top() + title_h + round(0.7 * h)
        room_w = content.right() + 1 - grid_left
        cell_w = max(cell_min.width(), min(round(4.2 * h), (room_w - (columns - 1) * cell_gap) // columns))
        room_h = content.bottom() + 1 - grid_top - round(0.9 * h) - legend.height
        cell_h = cell_min.height()
        if rows:
            cell_h = max(cell_min.height(), min(cell_max_h, round(cell_w * 1.2), room_h // rows - cell_gap))
        labels = []
        cells: dict[str, QRect] = {}
        for i, ids in enumerate(self._grid):
            top = grid_top + i * (cell_h + cell_gap)
            labels.append(QRect(content.left(), top, heat_label_w, cell_h))
            for j, function_id in enumerate(ids):
                cells[function_id] = QRect(grid_left + j * (cell_w + cell_gap), top, cell_w, cell_h)
        legend_top = grid_top + rows * (cell_h + cell_gap) - cell_gap + round(0.9 * h)
        legend = self._legend(self._heat_legend_entries(), content.left(), legend_top, content.width(), m["small"])

        return _Geometry(
            size=QSize(width, height) if size.height() == 0 else QSize(size),
            side_by_side=side_by_side,
            headline=headline,
            headline_blocks=(block_rects[0], block_rects[1], block_rects[2], block_rects[3]),
            distribution_bar=dist_bar,
            distribution_legend=dist_legend,
            bars_card=bars_card,
            bars_axis=axis,
            bar_rows=tuple(bar_rows),
            bar_labels_left=label_left,
            heat_card=heat_card,
            heat_labels=tuple(labels),
            cells=cells,
            heat_legend=legend,
        )

    # painting -------------------------------------------------------------------------

    def _paint_card(self, painter: QPainter, rect: QRect, colours: _Colours) -> None:
        h = QFontMetrics(self.font()).height()
        radius = 0.45 * h
        painter.save()
        painter.setPen(QPen(colours.card_border, 1))
        painter.setBrush(colours.card)
        painter.drawRoundedRect(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
        painter.restore()

    def _text(
        self,
        painter: QPainter,
        rect: QRect,
        text: str,
        font: QFont,
        colour: QColor,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        elide: bool = True,
    ) -> None:
        painter.setFont(font)
        painter.setPen(colour)
        shown = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width()) if elide else text
        painter.drawText(rect, int(align), shown)

    def _swatch(self, painter: QPainter, kind: str, rect: QRect, colours: _Colours) -> None:
        painter.save()
        r = QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = rect.height() * 0.22
        if kind.startswith("stage:"):
            fill = QColor(colours.stages[Stage.parse(kind.removeprefix("stage:"))])
            painter.setPen(QPen(fill.darker(118), 1))
            painter.setBrush(fill)
            painter.drawRoundedRect(r, radius, radius)
        elif kind == "unassessed":
            self._paint_unassessed(painter, r, radius, colours)
        elif kind == "na":
            self._paint_not_applicable(painter, r, radius, colours)
        elif kind == "override":
            painter.setPen(QPen(colours.empty_border, 1))
            painter.setBrush(colours.card)
            painter.drawRoundedRect(r, radius, radius)
            self._paint_override_marker(painter, r, radius)
        elif kind == "current":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colours.accent)
            painter.drawRoundedRect(r, radius, radius)
        elif kind == "target":
            painter.setPen(QPen(colours.accent, 1.4))
            painter.setBrush(colours.target_fill)
            painter.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
        painter.restore()

    def _paint_unassessed(self, painter: QPainter, r: QRectF, radius: float, colours: _Colours) -> None:
        pen = QPen(colours.empty_border, 1.2)
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(colours.empty_cell)
        painter.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)

    def _paint_not_applicable(self, painter: QPainter, r: QRectF, radius: float, colours: _Colours) -> None:
        painter.setPen(QPen(colours.empty_border, 1))
        painter.setBrush(colours.empty_cell)
        painter.drawRoundedRect(r, radius, radius)
        hatch = QBrush(colours.empty_border, Qt.BrushStyle.BDiagPattern)
        painter.setBrush(hatch)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(r, radius, radius)

    def _paint_override_marker(self, painter: QPainter, r: QRectF, radius: float) -> None:
        side = max(5.0, min(r.width(), r.height()) * 0.36)
        path = QPainterPath()
        path.addRoundedRect(r, radius, radius)
        painter.save()
        painter.setClipPath(path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(OVERRIDE_COLOUR))
        painter.drawPolygon(
            QPolygonF(
                [QPointF(r.right() - side, r.top()), QPointF(r.right(), r.top()), QPointF(r.right(), r.top() + side)]
            )
        )
        painter.restore()

    def _paint_legend(self, painter: QPainter, legend: _Legend, colours: _Colours) -> None:
        font = self._fonts()["small"]
        for kind, label, swatch, text_rect in legend.items:
            self._swatch(painter, kind, swatch, colours)
            self._text(painter, text_rect, label, font, colours.muted, elide=False)

    def _paint_headline(self, painter: QPainter, geo: _Geometry, colours: _Colours, data: DashboardData) -> None:
        f = self._fonts()
        m = self._metrics()
        h = m["base"].height()
        self._paint_card(painter, geo.headline, colours)
        overall, assessed, below, dist = geo.headline_blocks
        cap_h = m["caption"].height()
        value_top = overall.top() + cap_h + round(0.3 * h)
        big_h = m["big"].height()

        def caption(rect: QRect, text: str) -> None:
            self._text(painter, QRect(rect.left(), rect.top(), rect.width(), cap_h), text, f["caption"], colours.muted)

        def foot(rect: QRect, text: str) -> None:
            self._text(
                painter,
                QRect(rect.left(), value_top + big_h, rect.width(), m["small"].height()),
                text,
                f["small"],
                colours.muted,
            )

        # overall roll-up
        caption(overall, "Overall maturity")
        if data.score is not None and data.level is not None:
            number = figures.mean_text(data.score)
            number_w = m["big"].horizontalAdvance(number)
            self._text(painter, QRect(overall.left(), value_top, number_w + 2, big_h), number, f["big"], colours.text)
            level_rect = QRect(overall.left() + number_w + round(0.4 * h), value_top, overall.width(), big_h)
            baseline_shift = (m["big"].ascent() - m["level"].ascent()) - (big_h - m["level"].height()) // 2
            level_rect.translate(0, baseline_shift)
            self._text(painter, level_rect, data.level.label, f["level"], colours.text)
            target = (
                f" · target {figures.mean_text(data.target_score)}"
                if data.target_score is not None
                else " · no target set"
            )
            foot(overall, f"out of 3{target}")
        else:
            self._text(
                painter,
                QRect(overall.left(), value_top, overall.width(), big_h),
                "Not assessed",
                f["level"],
                colours.muted,
            )
            foot(overall, "nothing rated yet")

        # functions assessed
        caption(assessed, "Assessed")
        count = str(data.assessed)
        count_w = m["stat"].horizontalAdvance(count)
        stat_rect = QRect(assessed.left(), value_top, count_w + 2, big_h)
        self._text(
            painter,
            stat_rect,
            count,
            f["stat"],
            colours.text,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
        )
        of_rect = QRect(assessed.left() + count_w, value_top, assessed.width() - count_w, big_h)
        of_rect.translate(0, -(m["stat"].descent() - m["base"].descent()))
        self._text(
            painter,
            of_rect,
            f" of {data.functions}",
            f["base"],
            colours.muted,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
        )
        share = figures.percent(data.assessed, data.functions)
        foot(assessed, f"{share}% of functions")

        # below target
        caption(below, "Below target")
        self._text(
            painter,
            QRect(below.left(), value_top, below.width(), big_h),
            str(data.below_target),
            f["stat"],
            colours.text,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
        )
        with_target = sum(1 for c in self._cells.values() if c.target is not None and c.current is not None)
        foot(below, f"of {with_target} with a target")

        # dividers between the blocks
        painter.setPen(QPen(colours.grid, 1))
        wrapped = dist.top() > overall.top()
        for block in (assessed, below) if wrapped else (assessed, below, dist):
            x = block.left() - round(0.8 * h) + 0.5
            painter.drawLine(QPointF(x, block.top() - 0.1 * h), QPointF(x, block.bottom() + 0.1 * h))
        if wrapped:
            y = dist.top() - round(0.7 * h) + 0.5
            painter.drawLine(QPointF(dist.left(), y), QPointF(dist.right(), y))

        # distribution of functions per stage
        caption(dist, "Functions per stage")
        bar = geo.distribution_bar
        total = max(1, data.functions)
        segments: list[tuple[str, int]] = [(f"stage:{s.key}", n) for s, n in data.distribution]
        segments.append(("na", data.not_applicable))
        segments.append(("unassessed", data.not_assessed - data.not_applicable))
        radius = bar.height() * 0.25
        clip = QPainterPath()
        clip.addRoundedRect(QRectF(bar), radius, radius)
        painter.save()
        painter.setClipPath(clip)
        x = float(bar.left())
        cell_font = f["small"]
        for kind, n in segments:
            if n <= 0:
                continue
            w = bar.width() * n / total
            seg = QRectF(x, bar.top(), w, bar.height())
            if kind.startswith("stage:"):
                fill = QColor(colours.stages[Stage.parse(kind.removeprefix("stage:"))])
                painter.fillRect(seg, fill)
                ink = _ink_on(fill)
            else:
                painter.fillRect(seg, colours.empty_cell)
                if kind == "na":
                    painter.fillRect(seg, QBrush(colours.empty_border, Qt.BrushStyle.BDiagPattern))
                ink = colours.muted
            if QFontMetrics(cell_font).horizontalAdvance(str(n)) + 6 < w:
                self._text(painter, seg.toRect(), str(n), cell_font, ink, Qt.AlignmentFlag.AlignCenter, elide=False)
            painter.setPen(QPen(colours.card, 1.5))
            if x > bar.left():
                painter.drawLine(QPointF(x, bar.top()), QPointF(x, bar.bottom() + 1))
            x += w
        painter.restore()
        painter.setPen(QPen(colours.card_border, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(bar).adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
        self._paint_legend(painter, geo.distribution_legend, colours)

    def _paint_card_title(self, painter: QPainter, card: QRect, title: str, colours: _Colours) -> QRect:
        _, _, _, pad = self._units()
        f = self._fonts()
        rect = QRect(card.left() + pad, card.top() + pad, card.width() - 2 * pad, QFontMetrics(f["title"]).height())
        self._text(painter, rect, title, f["title"], colours.text)
        return rect

    def _paint_bars(self, painter: QPainter, geo: _Geometry, colours: _Colours, data: DashboardData) -> None:
        f = self._fonts()
        m = self._metrics()
        h = m["base"].height()
        self._paint_card(painter, geo.bars_card, colours)
        title = self._paint_card_title(painter, geo.bars_card, "Current and target by pillar", colours)

        # mini legend, right-aligned on the title line
        small = m["small"]
        sw = round(0.9 * small.height())
        entries = [("current", "Current"), ("target", "Target")]
        x = title.right()
        for kind, label in reversed(entries):
            text_w = small.horizontalAdvance(label)
            x -= text_w
            self._text(
                painter,
                QRect(x, title.top(), text_w + 2, title.height()),
                label,
                f["small"],
                colours.muted,
                elide=False,
            )
            x -= round(0.35 * h) + sw
            self._swatch(painter, kind, QRect(x, title.center().y() - sw // 2, sw, sw), colours)
            x -= round(1.0 * h)

        # the scale: stage names above, a grid line per stage behind each pillar's bars
        axis = geo.bars_axis
        for stage in Stage:
            gx = round(axis.left() + axis.width() * int(stage) / SCALE_MAX)
            label_w = small.horizontalAdvance(stage.label) + 2
            if stage is Stage.TRADITIONAL:
                rect = QRect(gx, axis.top(), label_w, axis.height())
            elif stage is Stage.OPTIMAL:
                rect = QRect(gx - label_w, axis.top(), label_w, axis.height())
            else:
                rect = QRect(gx - label_w // 2, axis.top(), label_w, axis.height())
            self._text(painter, rect, stage.label, f["small"], colours.muted, elide=False)
        painter.setPen(QPen(colours.grid, 1))
        for pillar, (_, zone) in zip(data.pillars, geo.bar_rows, strict=True):
            if pillar.score is None:
                continue
            for stage in Stage:
                gx = round(axis.left() + axis.width() * int(stage) / SCALE_MAX) + 0.5
                painter.drawLine(QPointF(gx, zone.top()), QPointF(gx, zone.bottom() + 1))

        for pillar, (name_area, zone) in zip(data.pillars, geo.bar_rows, strict=True):
            self._paint_bar_row(painter, pillar, name_area, zone, colours, geo.bar_labels_left)

    def _paint_bar_row(
        self, painter: QPainter, pillar: PillarData, name_line: QRect, zone: QRect, colours: _Colours, left: bool
    ) -> None:
        f = self._fonts()
        m = self._metrics()
        h = m["base"].height()
        name_font = f["name"]
        if left:  # name over its coverage, in a column left of the bars
            top = name_line.center().y() - (h + m["small"].height()) // 2
            self._text(
                painter, QRect(name_line.left(), top, name_line.width(), h), pillar.name, name_font, colours.text
            )
            small_rect = QRect(name_line.left(), top + h, name_line.width(), m["small"].height())
            self._text(painter, small_rect, pillar.coverage_text, f["small"], colours.muted)
        else:  # name and coverage on one line above the bars
            coverage_w = m["small"].horizontalAdvance(pillar.coverage_text) + 2
            name_w = max(0, name_line.width() - coverage_w - h)
            name_rect = QRect(name_line.left(), name_line.top(), name_w, name_line.height())
            self._text(painter, name_rect, pillar.name, name_font, colours.text)
            self._text(
                painter,
                QRect(name_line.right() - coverage_w, name_line.top(), coverage_w, name_line.height()),
                pillar.coverage_text,
                f["small"],
                colours.muted,
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                elide=False,
            )
        gap = max(2, round(0.15 * h))
        bar_h = max(3, (zone.height() - gap) // 2)
        if pillar.score is None:
            pill = QRectF(zone).adjusted(0.5, 0.5, -0.5, -0.5)
            painter.save()
            pen = QPen(colours.empty_border, 1)
            pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(colours.empty_cell)
            painter.drawRoundedRect(pill, bar_h * 0.3, bar_h * 0.3)
            painter.restore()
            italic = f["italic"]
            message = zone.adjusted(round(0.6 * h), 0, 0, 0)
            self._text(painter, message, "Not assessed", italic, colours.muted)
            return
        values = ((pillar.score, "current"), (pillar.target_score, "target"))
        for i, (value, kind) in enumerate(values):
            y = zone.top() + i * (bar_h + gap)
            if value is None:
                self._text(
                    painter,
                    QRect(zone.left() + round(0.3 * h), y, zone.width(), bar_h),
                    "no target",
                    f["small"],
                    colours.muted,
                )
                continue
            w = max(3.0, zone.width() * value / SCALE_MAX)
            rect = QRectF(zone.left(), y, w, bar_h)
            radius = min(bar_h * 0.25, 4.0)
            painter.save()
            if kind == "current":
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(colours.accent)
                painter.drawRoundedRect(rect, radius, radius)
            else:
                painter.setPen(QPen(colours.accent, 1.3))
                painter.setBrush(colours.target_fill)
                painter.drawRoundedRect(rect.adjusted(0.65, 0.65, -0.65, -0.65), radius, radius)
            painter.restore()
            if kind == "current":
                value_font = f["value"]
                value_colour = colours.text
            else:
                value_font, value_colour = f["small"], colours.muted
            text_rect = QRect(round(rect.right()) + round(0.4 * h), y - h, 4 * h, bar_h + 2 * h)
            self._text(painter, text_rect, figures.mean_text(value), value_font, value_colour, elide=False)

    def _paint_heat_map(self, painter: QPainter, geo: _Geometry, colours: _Colours, data: DashboardData) -> None:
        self._paint_card(painter, geo.heat_card, colours)
        self._paint_card_title(painter, geo.heat_card, "Current stage by function", colours)
        for pillar, label in zip(data.pillars, geo.heat_labels, strict=True):
            self._paint_row_label(painter, label, pillar.name, colours)
        for function_id, rect in geo.cells.items():
            self._paint_cell(painter, self._cells[function_id], rect, colours)
        self._paint_legend(painter, geo.heat_legend, colours)

    def _paint_row_label(self, painter: QPainter, rect: QRect, name: str, colours: _Colours) -> None:
        """A pillar name on one line, or on two smaller lines when one is too short."""
        f = self._fonts()
        if QFontMetrics(f["base"]).horizontalAdvance(name) <= rect.width():
            self._text(painter, rect, name, f["base"], colours.text)
            return
        small = QFontMetrics(f["small"])
        words = name.split()
        first, rest = name, ""
        for i in range(len(words), 0, -1):
            candidate = " ".join(words[:i])
            if small.horizontalAdvance(candidate) <= rect.width() or i == 1:
                first, rest = candidate, " ".join(words[i:])
                break
        if not rest or 2 * small.height() > rect.height():
            self._text(painter, rect, name, f["small"], colours.text)
            return
        top = rect.center().y() - small.height()
        self._text(painter, QRect(rect.left(), top, rect.width(), small.height()), first, f["small"], colours.text)
        self._text(
            painter,
            QRect(rect.left(), top + small.height(), rect.width(), small.height()),
            rest,
            f["small"],
            colours.text,
        )

    def _paint_cell(self, painter: QPainter, cell: CellData, rect: QRect, colours: _Colours) -> None:
        f = self._fonts()
        r = QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = min(rect.height(), rect.width()) * 0.14
        painter.save()
        if cell.current is not None:
            fill = QColor(colours.stages[cell.current])
            painter.setPen(QPen(fill.darker(118), 1))
            painter.setBrush(fill)
            painter.drawRoundedRect(r, radius, radius)
            ink = _ink_on(fill)
        elif cell.assessed:
            self._paint_not_applicable(painter, r, radius, colours)
            ink = colours.muted
        else:
            self._paint_unassessed(painter, r, radius, colours)
            ink = colours.muted
        if cell.overridden:
            self._paint_override_marker(painter, r, radius)
        painter.restore()
        self._text(painter, rect, cell.code, f["cell"], ink, Qt.AlignmentFlag.AlignCenter, elide=False)

    def _paint_cell_outline(self, painter: QPainter, rect: QRect, colours: _Colours, focus: bool) -> None:
        """The ring around the hovered cell (text colour) or the focused one (highlight colour)."""
        r = QRectF(rect).adjusted(-1.0, -1.0, 1.0, 1.0)
        radius = min(rect.height(), rect.width()) * 0.14 + 1.0
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colours.focus if focus else colours.text, 2.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(r, radius, radius)
