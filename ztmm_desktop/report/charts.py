"""The report's charts, drawn with ``reportlab.graphics`` (vector, no images).

Each chart is a function of the snapshot returning a ``Drawing`` that goes
straight into the story: current against target per pillar (a radar, or bars
when fewer than three pillars are in scope), current against target per
function, and a heat map of pillars × functions coloured by current stage.
Names come from the catalog; no user text is drawn here.
"""

from __future__ import annotations

import math
from typing import Literal

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, Rect, String
from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth

from ..core import figures, words
from ..core.deliverable import FunctionSheet, PillarSheet, Snapshot
from ..core.stages import Stage
from . import fonts, style

SCALE = float(int(Stage.OPTIMAL))
CURRENT_COLOUR = style.ACCENT
TARGET_COLOUR = style.TARGET_COLOUR


def _rect(x: float, y: float, w: float, h: float, fill: Color, stroke: Color | None = None, width: float = 0.5) -> Rect:
    rect = Rect(x, y, w, h)
    rect.fillColor = fill
    rect.strokeColor = stroke
    rect.strokeWidth = width
    return rect


def _drawing(width: float, height: float) -> Drawing:
    """A drawing whose initial font is the report's (so no unembedded standard font appears)."""
    drawing = Drawing(width, height)
    drawing.initialFontName = fonts.SANS  # type: ignore[attr-defined]  # a Drawing attribute the stubs omit
    return drawing


def short_pillar(sheet: PillarSheet) -> str:
    return words.short_pillar(sheet.pillar)


def _fit(value: str, font: str, size: float, room: float) -> str:
    if stringWidth(value, font, size) <= room:
        return value
    while value and stringWidth(value + "…", font, size) > room:
        value = value[:-1]
    return value.rstrip() + "…"


def _legend(group: Group, x: float, y: float, items: list[tuple[str, Color, str]]) -> None:
    """``(label, colour, kind)`` entries in a row; kind is ``box``, ``line`` or ``tick``."""
    for label, colour, kind in items:
        if kind == "box":
            group.add(_rect(x, y - 1, 9, 7, colour))
        elif kind == "line":
            group.add(Line(x, y + 2.5, x + 10, y + 2.5, strokeColor=colour, strokeWidth=1.6))
        else:
            group.add(Line(x + 4.5, y - 2, x + 4.5, y + 7, strokeColor=colour, strokeWidth=1.8))
        group.add(String(x + 13, y, label, fontName=fonts.SANS, fontSize=7, fillColor=style.GREY))
        x += 13 + stringWidth(label, fonts.SANS, 7) + 14


# -- current against target per pillar ---------------------------------------------------


def pillar_chart(snapshot: Snapshot, width: float, height: float) -> Drawing:
    pillars = list(snapshot.pillars)
    if len(pillars) >= 3:
        return _radar(pillars, width, height)
    return _pillar_bars(pillars, width, height)


def _radar(pillars: list[PillarSheet], width: float, height: float) -> Drawing:
    drawing = _drawing(width, height)
    cx, cy = width / 2, height / 2 + 6
    radius = min(width / 2 - 70, height / 2 - 34)
    count = len(pillars)

    def point(index: int, value: float) -> tuple[float, float]:
        angle = math.pi / 2 - 2 * math.pi * index / count
        r = radius * value / SCALE
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    for level in range(1, int(SCALE) + 1):
        ring = [c for i in range(count) for c in point(i, level)]
        drawing.add(Polygon(ring, fillColor=None, strokeColor=style.RULE, strokeWidth=0.7))
        x, y = point(0, level)
        drawing.add(
            String(x + 3, y - 8, Stage(level).label, fontName=fonts.SANS, fontSize=6, fillColor=style.LIGHT_GREY)
        )
    for index, sheet in enumerate(pillars):
        x, y = point(index, SCALE)
        drawing.add(Line(cx, cy, x, y, strokeColor=style.RULE, strokeWidth=0.7))
        lx, ly = point(index, SCALE * 1.13)
        anchor: Literal["start", "middle", "end"] = "middle" if abs(lx - cx) < 8 else ("start" if lx > cx else "end")
        drawing.add(
            String(
                lx,
                ly - 3,
                short_pillar(sheet),
                fontName=fonts.SANS_BOLD,
                fontSize=7.2,
                fillColor=style.INK,
                textAnchor=anchor,
            )
        )
        score = figures.mean_text(sheet.rollup.score, none="not assessed")
        drawing.add(
            String(lx, ly - 12, score, fontName=fonts.SANS, fontSize=6.5, fillColor=style.GREY, textAnchor=anchor)
        )
    # A pillar without a figure is left out of the shape (its axis says "not assessed"), never drawn at 0.
    targets = [(i, t) for i, s in enumerate(pillars) if (t := figures.mean_number(s.rollup.target_score)) is not None]
    if len(targets) >= 2:
        shape = [c for i, t in targets for c in point(i, t)]
        drawing.add(Polygon(shape, fillColor=None, strokeColor=TARGET_COLOUR, strokeWidth=1.4, strokeDashArray=[3, 2]))
    scores = [(i, v) for i, s in enumerate(pillars) if (v := figures.mean_number(s.rollup.score)) is not None]
    if len(scores) >= 2:
        current = [c for i, v in scores for c in point(i, v)]
        fill = Color(CURRENT_COLOUR.red, CURRENT_COLOUR.green, CURRENT_COLOUR.blue, alpha=0.22)
        drawing.add(Polygon(current, fillColor=fill, strokeColor=CURRENT_COLOUR, strokeWidth=1.6))
    for i, v in scores:
        x, y = point(i, v)
        drawing.add(Circle(x, y, 2.2, fillColor=CURRENT_COLOUR, strokeColor=None))
    legend = Group()
    _legend(legend, 0, 0, [("Current (mean stage)", CURRENT_COLOUR, "box"), ("Target", TARGET_COLOUR, "line")])
    legend.translate(cx - 80, 2)
    drawing.add(legend)
    return drawing


def _pillar_bars(pillars: list[PillarSheet], width: float, height: float) -> Drawing:
    drawing = _drawing(width, height)
    left, right, top, bottom = 110.0, 20.0, 10.0, 34.0
    track = width - left - right
    row = min(36.0, (height - top - bottom) / max(1, len(pillars)))
    for level in range(int(SCALE) + 1):
        x = left + track * level / SCALE
        drawing.add(Line(x, bottom - 4, x, height - top, strokeColor=style.RULE, strokeWidth=0.6))
        drawing.add(
            String(
                x,
                bottom - 14,
                Stage(level).label,
                fontName=fonts.SANS,
                fontSize=6.5,
                fillColor=style.GREY,
                textAnchor="middle",
            )
        )
    for index, sheet in enumerate(pillars):
        y = height - top - (index + 1) * row + row * 0.25
        drawing.add(
            String(0, y + row * 0.2, short_pillar(sheet), fontName=fonts.SANS_BOLD, fontSize=7.5, fillColor=style.INK)
        )
        score, target = figures.mean_number(sheet.rollup.score), figures.mean_number(sheet.rollup.target_score)
        if score is not None:
            drawing.add(_rect(left, y, track * score / SCALE, row * 0.45, CURRENT_COLOUR))
        if target is not None:
            x = left + track * target / SCALE
            drawing.add(Line(x, y - 3, x, y + row * 0.45 + 3, strokeColor=TARGET_COLOUR, strokeWidth=2))
    legend = Group()
    _legend(legend, 0, 0, [("Current (mean stage)", CURRENT_COLOUR, "box"), ("Target", TARGET_COLOUR, "tick")])
    legend.translate(left, 0)
    drawing.add(legend)
    return drawing


# -- current against target per function ---------------------------------------------------

ROW = 11.6
PILLAR_ROW = 17.0


def function_chart_height(snapshot: Snapshot) -> float:
    return 40 + len(snapshot.pillars) * PILLAR_ROW + len(snapshot.functions()) * ROW


def function_chart(snapshot: Snapshot, width: float) -> Drawing:
    """A bar per function up to its current stage, a tick at its target; overrides marked."""
    height = function_chart_height(snapshot)
    drawing = _drawing(width, height)
    label_room = 168.0
    left = label_room + 8
    track = width - left - 54
    band = track / 4
    top = height - 26
    for stage in Stage:
        x = left + band * int(stage)
        drawing.add(
            String(
                x + band / 2,
                top + 8,
                stage.label,
                fontName=fonts.SANS_BOLD,
                fontSize=6.8,
                fillColor=style.GREY,
                textAnchor="middle",
            )
        )
        drawing.add(Line(x, 12, x, top + 4, strokeColor=style.RULE, strokeWidth=0.5))
    drawing.add(Line(left + track, 12, left + track, top + 4, strokeColor=style.RULE, strokeWidth=0.5))
    y = top
    for sheet in snapshot.pillars:
        y -= PILLAR_ROW
        drawing.add(
            String(
                0,
                y + 4,
                f"{sheet.pillar.code}  {short_pillar(sheet)}",
                fontName=fonts.SANS_BOLD,
                fontSize=7.6,
                fillColor=style.NAVY,
            )
        )
        for fs in sheet.functions:
            y -= ROW
            _function_row(drawing, fs, y, label_room, left, band)
    legend = Group()
    _legend(
        legend,
        0,
        0,
        [
            ("Current stage", style.STAGE_COLOURS[Stage.ADVANCED], "box"),
            ("Target", TARGET_COLOUR, "tick"),
            ("Override (assessor's judgement)", style.OVERRIDE, "box"),
        ],
    )
    legend.translate(left, 0)
    drawing.add(legend)
    return drawing


def _function_row(drawing: Drawing, fs: FunctionSheet, y: float, label_room: float, left: float, band: float) -> None:
    label = _fit(f"{fs.function.code}  {fs.function.name}", fonts.SANS, 7, label_room - 8)
    drawing.add(String(8, y + 2.2, label, fontName=fonts.SANS, fontSize=7, fillColor=style.INK))
    result = fs.result
    bar_h = ROW - 4.5
    if not result.assessed or not result.applicable:
        words = "not assessed" if not result.assessed else "not applicable"
        drawing.add(
            String(left + 4, y + 2.2, words, fontName=fonts.SANS_ITALIC, fontSize=6.6, fillColor=style.LIGHT_GREY)
        )
    else:
        end = left + band * (int(result.current) + 1)
        drawing.add(_rect(left, y, end - left, bar_h, style.STAGE_COLOURS[result.current]))
        if result.overridden:
            drawing.add(_rect(end - 3, y, 3, bar_h, style.OVERRIDE))
    if result.target is not None:
        x = left + band * (int(result.target) + 1)
        drawing.add(Line(x, y - 1.5, x, y + bar_h + 1.5, strokeColor=TARGET_COLOUR, strokeWidth=1.8))
        if result.gap:
            drawing.add(
                String(
                    left + band * 4 + 6,
                    y + 2.2,
                    f"gap {result.gap}",
                    fontName=fonts.SANS,
                    fontSize=6.4,
                    fillColor=TARGET_COLOUR,
                )
            )


# -- heat map ---------------------------------------------------------------------------------


def heat_map_height(snapshot: Snapshot) -> float:
    return len(snapshot.pillars) * 46.0 + 34


def heat_map(snapshot: Snapshot, width: float) -> Drawing:
    """Pillars as rows, their functions as cells coloured by current stage."""
    height = heat_map_height(snapshot)
    drawing = _drawing(width, height)
    label_room = 76.0
    columns = max((len(p.functions) for p in snapshot.pillars), default=1)
    cell_w = (width - label_room) / columns
    cell_h = 42.0
    y = height
    for sheet in snapshot.pillars:
        y -= cell_h + 4
        name = short_pillar(sheet)
        first, _, second = name.partition(" & ")
        label_lines = [first + " &", second] if second else [name]
        for number, line in enumerate(label_lines):
            drawing.add(
                String(
                    0,
                    y + cell_h / 2 + 1 + 8.6 * (len(label_lines) - 1 - number),
                    _fit(line, fonts.SANS_BOLD, 7.2, label_room - 6),
                    fontName=fonts.SANS_BOLD,
                    fontSize=7.2,
                    fillColor=style.INK,
                )
            )
        drawing.add(
            String(
                0, y + cell_h / 2 - 9, sheet.rollup.score_text, fontName=fonts.SANS, fontSize=6.2, fillColor=style.GREY
            )
        )
        for index, fs in enumerate(sheet.functions):
            _heat_cell(drawing, fs, label_room + index * cell_w, y, cell_w - 3, cell_h)
    legend = Group()
    _legend(
        legend,
        0,
        0,
        [
            *((stage.label, style.STAGE_COLOURS[stage], "box") for stage in Stage),
            ("Not assessed", style.NOT_ASSESSED_FILL, "box"),
            ("Override", style.OVERRIDE, "box"),
        ],
    )
    legend.translate(label_room, 4)
    drawing.add(legend)
    return drawing


def _heat_cell(drawing: Drawing, fs: FunctionSheet, x: float, y: float, w: float, h: float) -> None:
    result = fs.result
    scored = result.assessed and result.applicable
    fill = style.STAGE_COLOURS[result.current] if scored else style.NOT_ASSESSED_FILL
    ink = style.STAGE_TEXT[result.current] if scored else style.GREY
    drawing.add(_rect(x, y, w, h, fill, style.RULE if not scored else None))
    if result.overridden:
        drawing.add(
            Polygon([x + w - 9, y + h, x + w, y + h, x + w, y + h - 9], fillColor=style.OVERRIDE, strokeColor=None)
        )
    drawing.add(String(x + 4, y + h - 10, fs.function.code, fontName=fonts.SANS_BOLD, fontSize=7, fillColor=ink))
    words = fs.function.name.split()
    lines: list[str] = []
    for word in words:
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and stringWidth(trial, fonts.SANS, 5.4) <= w - 7:
            lines[-1] = trial
        elif len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = _fit(lines[-1] + " " + word, fonts.SANS, 5.4, w - 7)
            break
    for number, line in enumerate(lines[:2]):
        drawing.add(
            String(
                x + 4,
                y + h - 19 - number * 6.6,
                _fit(line, fonts.SANS, 5.4, w - 7),
                fontName=fonts.SANS,
                fontSize=5.4,
                fillColor=ink,
            )
        )
    state = result.current.label if scored else ("not assessed" if not result.assessed else "n/a")
    drawing.add(
        String(
            x + 4,
            y + 3.5,
            _fit(state, fonts.SANS_BOLD, 5.4, w - 7),
            fontName=fonts.SANS_BOLD,
            fontSize=5.4,
            fillColor=ink,
        )
    )
