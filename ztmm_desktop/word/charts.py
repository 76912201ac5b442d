"""The Word report's charts as PNG images, drawn with Pillow.

reportlab draws the PDF's charts as vectors (``report/charts.py``); turning
those drawings into bitmaps needs reportlab's renderPM backend, which on
reportlab 5 is a Cairo plug-in (rlPyCairo, with the system's Cairo) that this
app does not ship. So the Word report draws its two charts itself: the mean
current stage against the mean target per pillar, and each function's current
stage against its target. Lengths come from the shown figures
(``core.figures``); labels are the catalog's names, never user text. Each
image has alt text that says what it shows, figure by figure (``alt_*``).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..core import figures, words
from ..core.deliverable import FunctionSheet, PillarSheet, Snapshot
from ..core.stages import Stage

#: Pixels per point: the images are drawn at twice their printed size (about 144 dpi).
SCALE = 2
NAVY = (31, 56, 100)
ACCENT = (46, 117, 182)
TARGET = (192, 0, 0)
OVERRIDE = (217, 142, 4)
GRID = (210, 215, 222)
INK = (40, 44, 52)
GREY = (120, 128, 140)
STAGES = list(Stage)


def short_pillar(sheet: PillarSheet) -> str:
    return words.short_pillar(sheet.pillar)


class _Canvas:
    def __init__(self, fonts_dir: Path, width: int, height: int) -> None:
        self.image = Image.new("RGB", (width * SCALE, height * SCALE), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.font = ImageFont.truetype(str(fonts_dir / "DejaVuSans.ttf"), 8 * SCALE)
        self.small = ImageFont.truetype(str(fonts_dir / "DejaVuSans.ttf"), 7 * SCALE)
        self.bold = ImageFont.truetype(str(fonts_dir / "DejaVuSans-Bold.ttf"), 8 * SCALE)

    def text(self, x: float, y: float, value: str, font: ImageFont.FreeTypeFont, fill: tuple[int, int, int] = INK,
             anchor: str = "lm") -> None:  # fmt: skip
        self.draw.text((x * SCALE, y * SCALE), value, font=font, fill=fill, anchor=anchor)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: tuple[int, int, int]) -> None:
        self.draw.rectangle([x0 * SCALE, y0 * SCALE, x1 * SCALE, y1 * SCALE], fill=fill)

    def line(self, x0: float, y0: float, x1: float, y1: float, fill: tuple[int, int, int], width: float = 1) -> None:
        self.draw.line([x0 * SCALE, y0 * SCALE, x1 * SCALE, y1 * SCALE], fill=fill, width=max(1, int(width * SCALE)))

    def fit(self, value: str, font: ImageFont.FreeTypeFont, room: float) -> str:
        if self.draw.textlength(value, font=font) <= room * SCALE:
            return value
        while value and self.draw.textlength(value + "…", font=font) > room * SCALE:
            value = value[:-1]
        return value.rstrip() + "…"

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image.save(out, format="PNG", optimize=True)
        return out.getvalue()


def _scale(canvas: _Canvas, left: float, right: float, top: float, bottom: float) -> None:
    """The stage grid: a line and a name per stage."""
    band = (right - left) / 3
    for stage in STAGES:
        x = left + band * int(stage)
        canvas.line(x, top, x, bottom, GRID)
        canvas.text(x, bottom + 8, stage.label, canvas.small, GREY, "mm")


def _legend(canvas: _Canvas, x: float, y: float, override: bool) -> None:
    canvas.rect(x, y - 3.5, x + 9, y + 3.5, ACCENT)
    canvas.text(x + 13, y, "Current stage", canvas.small, GREY)
    x += 90
    canvas.line(x + 4, y - 5, x + 4, y + 5, TARGET, 1.8)
    canvas.text(x + 12, y, "Target", canvas.small, GREY)
    if override:
        x += 60
        canvas.rect(x, y - 3.5, x + 9, y + 3.5, OVERRIDE)
        canvas.text(x + 13, y, "Set by override", canvas.small, GREY)


def pillar_chart(snapshot: Snapshot, fonts_dir: Path, width: int = 460) -> bytes:
    """Horizontal bars: each pillar's mean current stage, a tick at its mean target."""
    rows = len(snapshot.pillars)
    height = 40 + rows * 26 + 30
    canvas = _Canvas(fonts_dir, width, height)
    left, right, top = 150.0, width - 20.0, 30.0
    _legend(canvas, left, 12, override=False)
    _scale(canvas, left, right, top, top + rows * 26)
    band = (right - left) / 3
    for index, sheet in enumerate(snapshot.pillars):
        y = top + index * 26 + 13
        r = figures.rollup_figures(sheet.rollup)
        canvas.text(left - 8, y, canvas.fit(f"{sheet.pillar.code}  {short_pillar(sheet)}", canvas.font, left - 12),
                    canvas.font, INK, "rm")  # fmt: skip
        if r.score is None:
            canvas.text(left + 6, y, "not assessed", canvas.small, GREY)
            continue
        end = left + band * float(r.score)
        canvas.rect(left, y - 7, max(end, left + 1.5), y + 7, ACCENT)
        canvas.text(end + 5, y, r.score_text(), canvas.bold, NAVY)
        if r.target is not None:
            x = left + band * float(r.target)
            canvas.line(x, y - 10, x, y + 10, TARGET, 2)
    return canvas.png()


def alt_pillar_chart(snapshot: Snapshot) -> str:
    parts = []
    for sheet in snapshot.pillars:
        r = figures.rollup_figures(sheet.rollup)
        target = f", mean target {r.target_text()}" if r.target is not None else ""
        parts.append(f"{short_pillar(sheet)} {r.score_level_text}{target}")
    return (
        "Bar chart of the mean current stage per pillar on the 0–3 scale, against the mean target: "
        + "; ".join(parts)
        + "."
    )


def _function_rows(snapshot: Snapshot) -> list[FunctionSheet | PillarSheet]:
    rows: list[FunctionSheet | PillarSheet] = []
    for sheet in snapshot.pillars:
        rows.append(sheet)
        rows.extend(sheet.functions)
    return rows


def function_chart(snapshot: Snapshot, fonts_dir: Path, width: int = 460) -> bytes:
    """One bar per function up to its current stage (orange when overridden), a tick at its target."""
    rows = _function_rows(snapshot)
    step = 15
    height = 40 + len(rows) * step + 30
    canvas = _Canvas(fonts_dir, width, height)
    left, right, top = 190.0, width - 16.0, 30.0
    _legend(canvas, left, 12, override=True)
    _scale(canvas, left, right, top, top + len(rows) * step)
    band = (right - left) / 3
    for index, row in enumerate(rows):
        y = top + index * step + step / 2
        if isinstance(row, PillarSheet):
            canvas.text(4, y, canvas.fit(f"{row.pillar.code}  {short_pillar(row)}", canvas.bold, left - 8),
                        canvas.bold, NAVY)  # fmt: skip
            continue
        f, r = row.function, row.result
        canvas.text(12, y, canvas.fit(f"{f.code} {f.name}", canvas.small, left - 18), canvas.small, INK)
        if not r.assessed:
            canvas.text(left + 6, y, "not assessed", canvas.small, GREY)
            continue
        if not r.applicable:
            canvas.text(left + 6, y, "not applicable", canvas.small, GREY)
            continue
        end = left + band * int(r.current)
        canvas.rect(left, y - 4.5, max(end, left + 1.5), y + 4.5, OVERRIDE if r.overridden else ACCENT)
        if r.target is not None:
            x = left + band * int(r.target)
            canvas.line(x, y - 6.5, x, y + 6.5, TARGET, 1.8)
    return canvas.png()


def alt_function_chart(snapshot: Snapshot) -> str:
    parts = []
    for fs in snapshot.functions():
        r = fs.result
        if not r.assessed:
            state = "not assessed"
        elif not r.applicable:
            state = "not applicable"
        else:
            state = r.current.label + (" (override)" if r.overridden else "")
        target = f", target {r.target.label}" if r.target is not None else ""
        parts.append(f"{fs.function.code} {state}{target}")
    return "Bar chart of each function's current stage against its target: " + "; ".join(parts) + "."
