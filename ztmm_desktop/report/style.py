"""The report's look: page geometry, palette and paragraph styles.

One restrained palette: a navy ink for headings, a blue accent, grey for
secondary text, and the same stage and rating colours the app's window uses
(stages on one blue scale from faint Traditional to strong Optimal, so they
read without colour vision; ratings green, amber, red and grey).
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm

from ..core.stages import Rating, Stage
from . import fonts

#: Every page of a report is one paper size (``DeliverableMeta.paper``): A4 or US Letter.
PAPERS = {"A4": A4, "Letter": LETTER}
PAGE = A4
WIDTH, HEIGHT = PAGE
MARGIN_X = 20 * mm
MARGIN_TOP = 24 * mm
MARGIN_BOTTOM = 20 * mm
#: One text width for both papers: A4 is the narrower, so its margins set it; on Letter the frame
#: is centered (wider side margins). Heights come from the paper (Letter is the shorter).
FRAME_WIDTH = WIDTH - 2 * MARGIN_X
#: The evidence index: landscape pages; Letter landscape is the narrower, so it sets the width
#: (14 mm side margins on Letter, 23 mm on A4).
INDEX_PAGE = landscape(A4)
INDEX_WIDTH = landscape(LETTER)[0] - 28 * mm


def paper_size(paper: str) -> tuple[float, float]:
    """Portrait size (points) of ``paper`` (``A4``, ``Letter``); A4 for anything else."""
    width, height = PAPERS.get(paper, A4)
    return float(width), float(height)


def frame_left(page_width: float) -> float:
    """Left edge of the text on a page ``page_width`` wide: portrait, or landscape (the index)."""
    frame = INDEX_WIDTH if page_width > 700 else FRAME_WIDTH
    return (page_width - frame) / 2


INK = HexColor("#0f1e33")  # headings, body text
NAVY = HexColor("#1d4a80")
ACCENT = HexColor("#2563a8")
GREY = HexColor("#5b6573")  # secondary text
LIGHT_GREY = HexColor("#8a94a3")
RULE = HexColor("#d5dbe3")
PANEL = HexColor("#f3f6fa")  # light panels, table heads
ZEBRA = HexColor("#f6f8fb")  # every other row of the evidence index
MARKING = HexColor("#9b1c1c")
OVERRIDE = HexColor("#d98e04")
WHITE = colors.white

#: Current stage fill, as the dashboard draws it.
STAGE_COLOURS: dict[Stage, Color] = {
    Stage.TRADITIONAL: HexColor("#e3ebf4"),
    Stage.INITIAL: HexColor("#a7c4e2"),
    Stage.ADVANCED: HexColor("#4f86c0"),
    Stage.OPTIMAL: HexColor("#1d4a80"),
}
STAGE_TEXT: dict[Stage, Color] = {
    Stage.TRADITIONAL: INK,
    Stage.INITIAL: INK,
    Stage.ADVANCED: WHITE,
    Stage.OPTIMAL: WHITE,
}
TARGET_COLOUR = HexColor("#c8463d")
#: Progress since a baseline: a stage gained, a stage lost.
GAIN = HexColor("#2f7d4b")
LOSS = HexColor("#b83a32")
NOT_ASSESSED_FILL = HexColor("#f4f5f7")

#: Rating chips, as the function page's rating buttons.
RATING_COLOURS: dict[Rating, tuple[Color, Color]] = {  # fill, text
    Rating.MET: (HexColor("#3c9a5f"), WHITE),
    Rating.PARTIAL: (HexColor("#e0a526"), INK),
    Rating.NOT_MET: (HexColor("#c8463d"), WHITE),
    Rating.NOT_APPLICABLE: (HexColor("#8a8f98"), WHITE),
    Rating.NOT_ASSESSED: (HexColor("#e6e8ec"), GREY),
}
SEVERITY_COLOURS: dict[str, tuple[Color, Color]] = {
    "critical": (HexColor("#8e1f1f"), WHITE),
    "high": (HexColor("#c8463d"), WHITE),
    "medium": (HexColor("#e0a526"), INK),
    "low": (HexColor("#8a94a3"), WHITE),
}


def _style(name: str, **values: object) -> ParagraphStyle:
    base: dict[str, object] = {
        "fontName": fonts.SANS,
        "fontSize": 9,
        "leading": 12.6,
        "textColor": INK,
        "bulletFontName": fonts.SANS,
        "splitLongWords": 1,
        "allowWidows": 0,
        "allowOrphans": 0,
    }
    base.update(values)
    return ParagraphStyle(name, **base)  # type: ignore[arg-type]


BODY = _style("body", spaceAfter=5)
NOTES = _style("notes", fontSize=8.4, leading=11.8, spaceAfter=4)
BODY_SMALL = _style("body-small", fontSize=8, leading=10.8, spaceAfter=3)
CELL = _style("cell", fontSize=7.8, leading=10.2)
CELL_BOLD = _style("cell-bold", parent=CELL, fontName=fonts.SANS_BOLD)
CELL_SMALL = _style("cell-small", fontSize=7, leading=9, textColor=GREY)
CELL_RIGHT = _style("cell-right", parent=CELL, alignment=TA_RIGHT)
CELL_CENTER = _style("cell-center", parent=CELL, alignment=TA_CENTER)
CELL_HEAD = _style("cell-head", fontName=fonts.SANS_BOLD, fontSize=7, leading=9, textColor=GREY)
CELL_MONO = _style("cell-mono", fontName=fonts.MONO, fontSize=6.6, leading=8.6)
#: The evidence index: small type, one line a file where the text fits.
INDEX_SIZE = 6.8
INDEX_LEADING = 8.4
INDEX_MONO_SIZE = 5.5
INDEX_CELL = _style("index-cell", fontSize=INDEX_SIZE, leading=INDEX_LEADING)
LABEL = _style("label", fontName=fonts.SANS_BOLD, fontSize=6.8, leading=9, textColor=LIGHT_GREY)
H1 = _style("h1", fontName=fonts.SANS_BOLD, fontSize=20, leading=25, textColor=NAVY, spaceAfter=10, keepWithNext=1)
H2 = _style(
    "h2", fontName=fonts.SANS_BOLD, fontSize=13, leading=17, textColor=INK, spaceBefore=10, spaceAfter=6, keepWithNext=1
)
H3 = _style(
    "h3", fontName=fonts.SANS_BOLD, fontSize=10, leading=13, textColor=NAVY, spaceBefore=8, spaceAfter=4, keepWithNext=1
)
KICKER = _style("kicker", fontName=fonts.SANS_BOLD, fontSize=7.5, leading=10, textColor=ACCENT, keepWithNext=1)
QUOTE = _style("quote", fontSize=8, leading=11, textColor=GREY, leftIndent=8, spaceAfter=4)
BULLET = _style("bullet", fontSize=8.4, leading=11.4, leftIndent=12, bulletIndent=2, spaceAfter=2)
REFERENCE = _style("reference", fontSize=7.4, leading=9.8, leftIndent=12, textColor=GREY, spaceAfter=1)
NOTE = _style("note", fontSize=8.4, leading=11.6, textColor=GREY, alignment=TA_LEFT)
TOC_0 = _style("toc-0", fontName=fonts.SANS_BOLD, fontSize=9, leading=12.4)
TOC_1 = _style("toc-1", fontSize=8, leading=10.2, textColor=GREY)

# The cover.
COVER_KICKER = _style("cover-kicker", fontName=fonts.SANS_BOLD, fontSize=9, leading=12, textColor=ACCENT)
COVER_TITLE = _style("cover-title", fontName=fonts.SANS_BOLD, fontSize=28, leading=34, textColor=NAVY)
COVER_CLIENT = _style("cover-client", fontSize=16, leading=21, textColor=INK)
COVER_VALUE = _style("cover-value", fontSize=9.5, leading=13, textColor=INK)
COVER_LABEL = _style("cover-label", fontName=fonts.SANS_BOLD, fontSize=7, leading=13, textColor=LIGHT_GREY)
COVER_MARKING = _style(
    "cover-marking", fontName=fonts.SANS_BOLD, fontSize=9, leading=12, textColor=MARKING, alignment=TA_CENTER
)
