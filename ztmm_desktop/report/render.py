"""The PDF report of an engagement, rendered from a :class:`Snapshot`.

Sections, in order, as a consulting report runs:

- the cover: the consultancy's logo (or name) beside the client's, the title,
  the client, who prepared it, the dates, version and marking (the tool is
  named only in small print in the method appendix);
- the contents;
- document control, when the consultant filled any of it: consultancy, report
  version, version history, distribution list, reviewer and approver with their
  dates, and a sign-off block for the approver and the client;
- the overview (one page): the consultant's key messages, the headline
  figures, and the top priorities (the first roadmap actions, and the first
  action of every critical-priority function; without actions, the functions
  below target by priority, then gap);
- the executive summary: the consultant's own summary first, then the
  figures (overall and per-pillar maturity, the largest gaps, the most severe
  findings);
- scope and exclusions, approach and limitations (one page; a single filled
  section is the page's heading), before any finding: the reader learns what
  was and was not looked at, and how, before reading what was found;
- progress since the latest baseline, when there is one (the counts, each
  pillar's mean then and now, every function that changed);
- the workshops, when there are any (each with its date, status when not
  held, the pillars and functions it covered, its attendees and notes);
- maturity at a glance (current against target per function, heat map);
- one section per pillar with every assessed function's stage texts,
  ratings, comments, current and target stage, assessment status, notes,
  findings, evidence and the client's questionnaire answers beside the
  assessor's rating (differences marked); the functions nobody assessed or
  wrote anything for are listed once, in one table at the pillar's end;
- the findings: a likelihood × impact heat map, then the register (number,
  title, function, severity, owner, due date, status, likelihood, impact,
  risk rating);
- the roadmap: the consultant's actions by phase (Now, Next, Later) in
  ``Snapshot.actions`` order, then for each function below target the stages
  to climb and the suggested products and capabilities (left out, with the
  guidance's attribution, when ``meta.vendor_neutral``);
- the evidence index with SHA-256 (landscape pages, one row a file);
- the method (with the risk rule) and the sources with their attribution;
- the disclaimer, last, as the closing words of the report.

A section the consultant left empty is left out, heading and all.

Every page is the snapshot's paper (``meta.paper``: A4 or US Letter),
portrait and the landscape evidence index alike (``layout.ReportDocument``).

User text only ever reaches a Paragraph through ``_user`` (``text.markup``);
every other string in markup here is the app's own. A table cell holds user
text as a plain string (drawn literally by reportlab, never parsed) only when
``text.plain`` allows it and it fits its column on one line (``layout.fits``).

Findings are numbered F-01… in the order of the findings register, evidence
E-01… in the order of the evidence index; the same numbers are used everywhere.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    Spacer,
    Table,
    TableStyle,
)

from ..core import figures, words
from ..core.contradictions import override_contradictions, rated_not_met
from ..core.deliverable import (
    EvidenceLine,
    FindingLine,
    FunctionSheet,
    PillarSheet,
    Snapshot,
    WorkshopLine,
    change_text,
    state_text,
)
from ..core.progress import CancelToken, Progress, no_progress
from ..core.progress_compare import FunctionProgress, Movement, RollupProgress
from ..core.register import (
    FINDING_STATUS_LABELS,
    IMPACT_LABELS,
    LIKELIHOOD_LABELS,
    PHASE_LABELS,
    PHASES,
    RISK_BANDS,
    ActionLine,
    action_numbers,
    blocks,
    risk_rating,
    top_priorities,
)
from ..core.scoring import Rollup
from ..core.stages import Rating, Stage
from ..core.wording import apply_wording
from ..core.words import date_text as _date
from ..core.words import label as _label
from ..core.words import plural as _plural
from ..core.words import short_date as _short_date
from ..core.words import size_text as _size
from ..core.words import stage_text as _stage_text
from . import charts, fonts, layout, style, text

#: Functions listed under "the largest gaps" and findings under "the most severe findings".
TOP_GAPS = 8
TOP_FINDINGS = 5
#: Functions below target on the overview page when there are no roadmap actions.
TOP_GAPS_WITHOUT_ACTIONS = 6
#: Up to this many evidence items are listed by title under a function; more by number.
EVIDENCE_BY_TITLE = 15
#: Widths (points) of the places long user text goes, to cut words too long for a line (``text.markup``).
NOTES_ROOM = style.FRAME_WIDTH - 2
COMMENT_ROOM = style.FRAME_WIDTH * 0.36 - 12
CARD_ROOM = style.FRAME_WIDTH - 20
BULLET_ROOM = style.FRAME_WIDTH - 14
REASON_ROOM = style.FRAME_WIDTH - 22
#: A workshop's heading (its title is user text) and its attendee table's columns (points).
WORKSHOP_ROOM = style.FRAME_WIDTH - 2
ATTENDEE_WIDTHS = [style.FRAME_WIDTH * 0.34, style.FRAME_WIDTH * 0.33, style.FRAME_WIDTH * 0.33]
#: A section's name in a heading that names several ("Scope, approach and limitations").
SHORT_SECTION_NAMES = {"scope": "Scope", "approach": "Approach", "limitations": "Limitations"}
#: Risk bands (``core.register.RISK_BANDS``): fill, ink.
RISK_COLOURS: dict[str, tuple[Color, Color]] = {
    "Low": (HexColor("#d9eee0"), style.INK),
    "Medium": (HexColor("#f6e2a6"), style.INK),
    "High": (HexColor("#eea58f"), style.INK),
    "Critical": (HexColor("#b83a32"), style.WHITE),
    "": (style.PANEL, style.GREY),
}
#: Behind a client's answer that differs from the assessor's rating.
DIFFERS_FILL = HexColor("#fbefd5")
IMPACT_HEAD = style.CELL_SMALL.clone("impact-head", alignment=1, textColor=style.INK)
#: The chip that marks a workshop not yet held: fill, ink.
WORKSHOP_STATUS_COLOURS = {
    "planned": (style.PANEL, style.ACCENT),
    "running": (style.OVERRIDE, style.WHITE),
}
#: The evidence index: column widths (points) on a landscape page, the cell padding left and right.
INDEX_PAD = 3.0
_MONO_WIDTH = 64 * 0.602 * style.INDEX_MONO_SIZE + 2 * INDEX_PAD + 1  # 64 hex digits of DejaVu Sans Mono
INDEX_WIDTHS = [30.0, 0.0, 116.0, 38.0, _MONO_WIDTH, 121.0]
INDEX_WIDTHS[1] = style.INDEX_WIDTH - sum(INDEX_WIDTHS)
INDEX_HEAD = ("No.", "Title", "File", "Size", "SHA-256", "Linked to")
#: The risk rule, as ``core.register`` computes it (likelihood × impact, four bands).
RISK_RULE = (
    "Each finding's likelihood and impact are rated from 1 to 5 (likelihood: rare, unlikely, possible, likely, "
    "almost certain; impact: minimal, minor, moderate, major, severe). Its risk score is likelihood × impact "
    "(1–25), and its risk rating is Low for 1–4, Medium for 5–9, High for 10–16 and Critical for 17–25. A "
    "finding without both has no risk rating."
)
_URL = re.compile(r"^https?://[^\s\"'<>]+$")


@dataclass(frozen=True)
class Logo:
    """A validated PNG or JPEG (``services/report.py`` checks type, size and dimensions)."""

    data: bytes
    width: int
    height: int


def _tiles(tiles: list[tuple[str, str, str]]) -> Table:
    """A row of figure tiles: a label, a big value and a note each (the summary's and the progress section's)."""
    width = style.FRAME_WIDTH / len(tiles)
    big = style.H1.clone("tile", fontSize=19, leading=22, spaceAfter=0, textColor=style.NAVY)
    cells = [
        [_p(escape(label), style.LABEL), _p(escape(value), big), _p(escape(note), style.CELL_SMALL)]
        for label, value, note in tiles
    ]
    return _table(
        [cells],
        [width] * len(tiles),
        [
            ("BACKGROUND", (0, 0), (-1, -1), style.PANEL),
            ("LINEBEFORE", (1, 0), (-1, -1), 2, style.WHITE),
            ("LINEABOVE", (0, 0), (-1, 0), 1.6, style.NAVY),
            ("TOPPADDING", (0, 0), (-1, -1), 7),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ("LEFTPADDING", (0, 0), (-1, -1), 7),
        ],
    )


def _user(value: str, *, line_breaks: bool = True, room: float | None = None, size: float = 9.0) -> str:
    """User text as markup (the one escape path); ``room`` (points) for text that may hold very long words."""
    return text.markup(value, line_breaks=line_breaks, room=room, size=size)


def _p(markup: str, paragraph_style: Any = style.BODY) -> layout.Para:
    return layout.Para(markup, paragraph_style)


def _cell(value: str, font: str, size: float, room: float, paragraph_style: Any) -> Any:
    """A table cell of user text: a plain string when it fits on one line, else a Paragraph through ``_user``."""
    if layout.fits(value, font, size, room):
        return value
    return _p(_user(value, room=room, size=size), paragraph_style)


def _colour(value: Color) -> str:
    """``#rrggbb`` of a colour, for markup."""
    return "#" + str(value.hexval())[2:]


def _table(
    data: list[list[Any]], widths: list[float], commands: Iterable[tuple[Any, ...]] = (), keep: bool = False, **kw: Any
) -> Table:
    base: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), fonts.SANS, 7.8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ("TOPPADDING", (0, 0), (-1, -1), 3.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    kind = layout.KeepTable if keep else Table
    return kind(data, colWidths=widths, style=TableStyle([*base, *commands]), **kw)


def _grid(header: bool = True) -> list[tuple[Any, ...]]:
    """Light rules under every row, a panel behind the head row."""
    commands: list[tuple[Any, ...]] = [("LINEBELOW", (0, 0), (-1, -1), 0.5, style.RULE)]
    if header:
        commands += [
            ("BACKGROUND", (0, 0), (-1, 0), style.PANEL),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, style.NAVY),
            *_head_style(),
        ]
    return commands


def _head(*labels: str) -> list[str]:
    """A head row: the app's labels as plain string cells (set by ``_head_style``)."""
    return [label.upper() for label in labels]


def _head_style() -> list[tuple[Any, ...]]:
    head = style.CELL_HEAD
    return [
        ("FONT", (0, 0), (-1, 0), head.fontName, head.fontSize, head.leading),
        ("TEXTCOLOR", (0, 0), (-1, 0), head.textColor),
    ]


def _chip(words: str, fill: Any, ink: Any) -> str:
    """App markup: a label on a coloured background."""
    return f'<font color="{_colour(ink)}" backColor="{_colour(fill)}">&nbsp;{escape(words)}&nbsp;</font>'


def _severity_chip(severity: str) -> str:
    fill, ink = style.SEVERITY_COLOURS.get(severity, style.SEVERITY_COLOURS["low"])
    return _chip(severity.upper() if severity in style.SEVERITY_COLOURS else _label(severity), fill, ink)


#: A label over what follows it (notes, findings, evidence), kept on its page.
LABEL_NEXT = style.LABEL.clone("label-next", keepWithNext=1)
#: "To reach Advanced" in the roadmap, kept with the stage text under it.
LABEL_STEP = style.BODY_SMALL.clone("label-step", keepWithNext=1)
#: A pillar's name over its functions in the roadmap's guidance.
PILLAR_KICKER = style.KICKER.clone("pillar-kicker", spaceBefore=8, spaceAfter=2)
_CARD_STYLES: dict[str, Any] = {}


def _card_style(label: str) -> Any:
    """A finding card's paragraph: ``label`` in bold as its bullet, the first line starting after it."""
    made = _CARD_STYLES.get(label)
    if made is None:
        size = style.CELL.fontSize  # reportlab leaves 0.6 em after a bullet
        indent = text.width(f"{label}.", fonts.SANS_BOLD, size) + 0.6 * size
        made = style.CELL.clone(
            f"card-{label}", bulletFontName=fonts.SANS_BOLD, bulletFontSize=style.CELL.fontSize, firstLineIndent=indent
        )
        _CARD_STYLES[label] = made
    return made


def _bullets(items: list[str], room: float) -> list[Flowable]:
    """A bulleted list of user text that never leaves its last item alone on a page."""
    made: list[Flowable] = [
        layout.Para(_user(item, room=room, size=8.4), style.BULLET, bulletText="•") for item in items
    ]
    return _no_lone_item(made)


def _no_lone_item(items: list[Flowable], whole: int = 4) -> list[Flowable]:
    """List items grouped so that a page break never leaves the last one alone at the top of a page.

    The last two items are kept together; a list of up to ``whole`` items stays whole.
    """
    if len(items) <= 1:
        return items
    if len(items) <= whole:
        return [KeepTogether(items)]
    return [*items[:-2], KeepTogether(items[-2:])]


def _blocks(value: str) -> list[Flowable]:
    """The consultant's text (``core.register.blocks``): paragraphs and bullet lists; nothing when empty."""
    story: list[Flowable] = []
    for kind, parts in blocks(text.clean(value)):
        if kind == "ul":
            story += [*_bullets(parts, BULLET_ROOM), Spacer(1, 4)]
        else:
            story.append(_p(_user(parts[0], room=NOTES_ROOM), style.BODY))
    return story


def _untouched(fs: FunctionSheet) -> bool:
    """A function in scope nobody has assessed or written anything for: listed compactly, not in full."""
    a = fs.assessment
    return not (
        fs.result.assessed
        or fs.findings
        or fs.evidence
        or fs.answers
        or fs.actions
        or a.notes.strip()
        or any(line.comment.strip() for line in fs.stages)
    )


def _score(r: Rollup) -> str:
    return figures.rollup_figures(r).score_text()


class Report:
    """Builds the story of one report; ``render`` lays it out into a file."""

    def __init__(
        self, snapshot: Snapshot, *, draft: bool, logo: Logo | None, consultancy_logo: Logo | None = None
    ) -> None:
        self.s = snapshot
        self.draft = draft
        self.logo = logo
        self.consultancy_logo = consultancy_logo
        self.action_numbers = action_numbers(snapshot.actions)
        self.book = layout.Book()
        self.finding_numbers = snapshot.finding_numbers()
        self.evidence_numbers = snapshot.evidence_numbers()
        self.link_refs = self._link_refs()
        self.contents: list[Flowable] = []
        self._keys = 0

    # -- helpers -------------------------------------------------------------------------

    def _key(self) -> str:
        self._keys += 1
        return f"s{self._keys}"

    def section(
        self, title: str, *, toc: bool = True, level: int = 0, key: str | None = None, markup: str | None = None
    ) -> list[Flowable]:
        """A heading that starts a new page, with its bookmark and contents line.

        ``markup``: the heading as markup, when ``title`` holds user text (made with ``_user``).
        """
        key = key or self._key()
        if toc:
            self.contents.append(layout.ContentsLine(title, key, level, self.book))
        heading = escape(title) if markup is None else markup
        return [PageBreak(), layout.heading(heading, style.H1, self.book, key, text.clean(title), level)]

    def subheading(
        self, markup: str, title: str, *, level: int, toc: bool, paragraph_style: Any = style.H2
    ) -> list[Flowable]:
        key = self._key()
        if toc:
            self.contents.append(layout.ContentsLine(title, key, level, self.book))
        return [CondPageBreak(90), layout.heading(markup, paragraph_style, self.book, key, title, level)]

    @property
    def wording(self) -> str:
        return self.s.meta.wording

    # -- cover --------------------------------------------------------------------------

    def cover_story(self) -> list[Flowable]:
        meta = self.s.meta
        title = meta.title.strip() or "Zero Trust maturity assessment"
        rows: list[tuple[str, str]] = [("CLIENT", _user(meta.client))]
        prepared = self._prepared_by()
        if prepared:
            rows.append(("PREPARED BY", prepared))
        if meta.assessors:
            rows.append(("ASSESSORS", "<br/>".join(_user(a, line_breaks=False) for a in meta.assessors)))
        period = " – ".join(_date(d) for d in (meta.start_date, meta.end_date) if d)
        if period:
            rows.append(("ASSESSMENT", escape(period)))
        rows.append(("REPORT DATE", escape(_date(meta.generated_at))))
        if self.s.control.report_version.strip():
            rows.append(("VERSION", _user(self.s.control.report_version, line_breaks=False)))
        rows.append(("MODEL", escape(f"{self.s.catalog.title} v{self.s.catalog.version} ({self.s.catalog.published})")))
        if meta.marking.strip():
            rows.append(("MARKING", f'<font color="{_colour(style.MARKING)}"><b>{_user(meta.marking)}</b></font>'))
        table = _table(
            [[_p(label, style.COVER_LABEL), _p(value, style.COVER_VALUE)] for label, value in rows],
            [34 * mm, style.FRAME_WIDTH - 14 * mm - 34 * mm],
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("LINEABOVE", (0, 0), (-1, 0), 0.8, style.NAVY),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, style.RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ],
        )
        story: list[Flowable] = [
            _p("ZERO TRUST MATURITY ASSESSMENT" + (" · DRAFT" if self.draft else ""), style.COVER_KICKER),
            Spacer(1, 5 * mm),
            _p(_user(title), style.COVER_TITLE),
            Spacer(1, 4 * mm),
            _p(_user(meta.client), style.COVER_CLIENT),
            Spacer(1, 16 * mm),
            table,
            NextPageTemplate("body"),
        ]
        return story

    @property
    def consultancy(self) -> str:
        """Who issues the report: document control's consultancy, else the preparer's organization."""
        return (self.s.control.consultancy or self.s.meta.prepared_by_organisation).strip()

    def _prepared_by(self) -> str:
        """``Name, Consultancy`` as markup; ``""`` when neither is known."""
        meta = self.s.meta
        parts = [p.strip() for p in (meta.prepared_by, meta.prepared_by_organisation or self.consultancy) if p.strip()]
        return ", ".join(_user(p, line_breaks=False) for p in dict.fromkeys(parts))

    def draw_cover(self, canv: Canvas) -> None:
        """The cover's furniture: a band, the accent rule, the consultancy's logo (or name) and the client's, the imprint."""
        width, height = layout.page_size(canv)
        left = style.frame_left(width)
        canv.setFillColor(style.NAVY)
        canv.rect(0, height - 6 * mm, width, 6 * mm, stroke=0, fill=1)
        canv.setFillColor(style.ACCENT)
        canv.rect(left, style.MARGIN_BOTTOM + 30 * mm, 2.2, height - style.MARGIN_BOTTOM - 92 * mm, stroke=0, fill=1)
        box_w, box_h = 60 * mm, 24 * mm
        top = height - 22 * mm
        if self.consultancy_logo is not None:
            self._draw_logo(canv, self.consultancy_logo, left, top, box_w, box_h, align="left")
        elif self.consultancy:
            canv.setFillColor(style.NAVY)
            # The name may take the width the client's logo leaves: all of it but a gap when there is none.
            room = style.FRAME_WIDTH - (box_w + 8 * mm if self.logo is not None else 0)
            name = text.fit(self.consultancy, fonts.SANS_BOLD, 13, room)
            layout.draw_text(canv, left, top - 13, name, fonts.SANS_BOLD, 13)
        if self.logo is not None:  # the client's
            self._draw_logo(canv, self.logo, width - left, top, box_w, box_h, align="right")
        canv.setFillColor(style.GREY)
        imprint = f"{self.s.catalog.title} v{self.s.catalog.version}"
        if self.consultancy:
            imprint = f"{self.consultancy} · {imprint}"
        imprint = text.fit(imprint, fonts.SANS, 7, style.FRAME_WIDTH - 14 * mm)
        layout.draw_text(canv, left + 14 * mm, style.MARGIN_BOTTOM + 8 * mm, imprint, fonts.SANS, 7)

    @staticmethod
    def _draw_logo(canv: Canvas, logo: Logo, x: float, top: float, box_w: float, box_h: float, align: str) -> None:
        scale = min(box_w / logo.width, box_h / logo.height)
        w, h = logo.width * scale, logo.height * scale
        left = x - w if align == "right" else x
        canv.drawImage(ImageReader(io.BytesIO(logo.data)), left, top - h, width=w, height=h, mask="auto")

    # -- the consultant's own words ------------------------------------------------------

    def words(self, key: str) -> list[Flowable]:
        """A section the consultant wrote, as paragraphs and bullet lists; nothing when it is empty."""
        return _blocks(self.s.sections.get(key))

    def consultant_sections(self, keys: tuple[str, ...]) -> list[Flowable]:
        """One page of the consultant's sections ``keys``, each under its heading; nothing when all are empty.

        One filled section is the page's own heading; more are subheadings under a heading naming them
        ("Scope, approach and limitations").
        """
        filled = [(key, heading) for key, heading, _ in self.s.sections.filled() if key in keys]
        if not filled:
            return []
        if len(filled) == 1:
            key, heading = filled[0]
            return [*self.section(heading), *self.words(key)]
        names = [SHORT_SECTION_NAMES.get(key, heading).lower() for key, heading in filled]
        title = ", ".join(names[:-1]) + " and " + names[-1]
        story = self.section(title[:1].upper() + title[1:])
        for key, heading in filled:
            story += [*self.subheading(escape(heading), heading, level=1, toc=True), *self.words(key)]
        return story

    # -- overview ---------------------------------------------------------------------------

    def overview(self) -> list[Flowable]:
        """One page: the key messages, the headline figures, the top priorities."""
        messages = self.words("key_messages")
        figures = [self._headline_tiles()] if self.s.assessed else []
        priorities = self._top_priorities()
        if not (messages or figures or priorities):
            return []
        story = self.section("Overview")
        if messages:
            story += [_p("Key messages", style.H2), *messages]
        if figures:
            story += [_p("Headline figures", style.H2), *figures]
        if priorities:
            story += [_p("Top priorities", style.H2), *priorities]
        return story

    def _top_priorities(self) -> list[Flowable]:
        """The first roadmap actions (and the first of every critical-priority function); else the largest gaps."""
        actions = list(self.s.actions)
        w = style.FRAME_WIDTH
        if actions:
            rows: list[list[Any]] = [_head("No.", "Action", "Function", "When", "Owner")]
            for a in top_priorities(actions):
                rows.append(
                    [
                        self.action_numbers[a.id],
                        _p(_user(a.text, room=w * 0.42 - 10, size=7.8), style.CELL),
                        _p(escape(f"{a.function_code} {a.function_name}"), style.CELL_SMALL),
                        _p(escape(a.phase_label), style.CELL_SMALL),
                        _p(_user(a.owner) if a.owner.strip() else "—", style.CELL_SMALL),
                    ]
                )
            note = f"{_plural(len(actions), 'action')} in all: see the roadmap."
            table = _table(rows, [w * 0.08, w * 0.42, w * 0.22, w * 0.13, w * 0.15], _grid(), splitInRow=1)
            return [table, Spacer(1, 3), _p(escape(note), style.NOTE)]
        gaps = self.s.gaps_by_priority()
        if not gaps:
            return []
        rows = [_head("Function", "Current → target", "Gap", "Priority")]
        for f in gaps[:TOP_GAPS_WITHOUT_ACTIONS]:
            r = f.result
            rows.append(
                [
                    _p(escape(f.function.label), style.CELL),
                    _p(escape(f"{r.current.label} → {_stage_text(r.target)}"), style.CELL),
                    _p(f"<b>{r.gap}</b>", style.CELL),
                    _p(escape(_label(f.assessment.priority)), style.CELL),
                ]
            )
        return [_table(rows, [w * 0.44, w * 0.3, w * 0.1, w * 0.16], _grid(), splitInRow=1)]

    # -- document control ----------------------------------------------------------------------

    def document_control(self) -> list[Flowable]:
        """Consultancy, version, history, distribution, review and approval, and the sign-off block."""
        c = self.s.control
        if c.empty:
            return []
        story = self.section("Document control")
        w = style.FRAME_WIDTH
        facts: list[tuple[str, str]] = []
        if self.consultancy:
            facts.append(("CONSULTANCY", _user(self.consultancy, line_breaks=False)))
        if c.report_version.strip():
            facts.append(("REPORT VERSION", _user(c.report_version, line_breaks=False)))
        prepared = self._prepared_by()
        if prepared:
            facts.append(("PREPARED BY", prepared))
        facts.append(("REPORT DATE", escape(_date(self.s.meta.generated_at))))
        story.append(self._facts(facts, markup=True))
        if c.history:
            rows: list[list[Any]] = [_head("Version", "Date", "Author", "Change")]
            for v in c.history:
                rows.append(
                    [
                        _p(_user(v.version, line_breaks=False), style.CELL),
                        _p(escape(_short_date(v.date)), style.CELL),
                        _p(_user(v.author, line_breaks=False), style.CELL),
                        _p(_user(v.change, room=w * 0.5 - 10, size=7.8), style.CELL),
                    ]
                )
            widths = [w * 0.12, w * 0.16, w * 0.22, w * 0.5]
            story += [_p("Version history", style.H2), _table(rows, widths, _grid(), repeatRows=1, splitInRow=1)]
        if c.distribution:
            rows = [_head("Name", "Organization", "Role")]
            for r in c.distribution:
                rows.append(
                    [
                        _p(_user(r.name, line_breaks=False), style.CELL_BOLD),
                        _p(_user(r.organisation) if r.organisation.strip() else "—", style.CELL),
                        _p(_user(r.role) if r.role.strip() else "—", style.CELL),
                    ]
                )
            widths = [w * 0.3, w * 0.35, w * 0.35]
            story += [_p("Distribution", style.H2), _table(rows, widths, _grid(), repeatRows=1, splitInRow=1)]
        if c.reviewer.strip() or c.approver.strip():
            rows = [_head("", "Name", "Date")]
            for label, name, day in (
                ("Reviewed by", c.reviewer, c.reviewed_on),
                ("Approved by", c.approver, c.approved_on),
            ):
                if name.strip():
                    rows.append(
                        [
                            _p(escape(label), style.CELL_BOLD),
                            _p(_user(name), style.CELL),
                            _p(escape(_date(day) or "—"), style.CELL),
                        ]
                    )
            widths = [w * 0.22, w * 0.48, w * 0.3]
            story += [_p("Review and approval", style.H2), _table(rows, widths, _grid(), keep=True)]
        story += [CondPageBreak(120), _p("Sign-off", style.H2), self._sign_off()]
        return story

    def _sign_off(self) -> Table:
        """Two blocks with lines to sign: the approver for the consultancy, and the client."""
        c, w = self.s.control, style.FRAME_WIDTH
        issuer = f"For {_user(self.consultancy, line_breaks=False)}" if self.consultancy else "Approved by"
        client = f"For {_user(self.s.meta.client, line_breaks=False)}"
        approver = _user(c.approver, line_breaks=False) if c.approver.strip() else ""
        rows: list[list[Any]] = [
            [_p(f"<b>{issuer}</b>", style.CELL), "", _p(f"<b>{client}</b>", style.CELL)],
            ["", "", ""],
            [_p("SIGNATURE", style.LABEL), "", _p("SIGNATURE", style.LABEL)],
            [_p(approver, style.CELL) if approver else "", "", ""],
            [_p("NAME", style.LABEL), "", _p("NAME", style.LABEL)],
            ["", "", ""],
            [_p("DATE", style.LABEL), "", _p("DATE", style.LABEL)],
        ]
        half = w / 2 - 10
        commands: list[tuple[Any, ...]] = [
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("LINEABOVE", (0, 0), (0, 0), 0.8, style.NAVY),
            ("LINEABOVE", (2, 0), (2, 0), 0.8, style.NAVY),
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
        for row in (1, 3, 5):
            commands += [
                ("LINEBELOW", (0, row), (0, row), 0.6, style.INK),
                ("LINEBELOW", (2, row), (2, row), 0.6, style.INK),
            ]
        heights = [22, 34, 12, 26, 12, 26, 12]
        return _table(rows, [half, 20, half], commands, keep=True, rowHeights=heights)

    # -- executive summary ----------------------------------------------------------------

    def executive_summary(self) -> list[Flowable]:
        s, overall = self.s, self.s.overall
        story = self.section("Executive summary")
        story += self.words("executive_summary")
        period = " to ".join(_date(d) for d in (s.meta.start_date, s.meta.end_date) if d)
        lead = (
            f"This report gives the Zero Trust maturity of <b>{_user(s.meta.client, line_breaks=False)}</b> as assessed "
            f"against the {escape(s.catalog.title)} v{escape(s.catalog.version)}"
            + (f", from {escape(period)}" if period else "")
            + f". The scope covers {_plural(len(s.pillars), 'pillar')} and {_plural(overall.functions, 'function')}."
        )
        story.append(_p(lead))
        if not s.assessed:
            story += [
                Spacer(1, 4),
                self._callout(
                    "<b>Nothing has been assessed yet.</b> None of the "
                    f"{_plural(overall.functions, 'function')} in scope has a rating or an override, so this report "
                    "shows no maturity figures, charts or gaps. The functions in scope are listed under each pillar.",
                    style.ACCENT,
                ),
            ]
            return story
        story.append(_p(self._summary_sentence()))  # the headline figures are on the overview
        story += [
            _p("Maturity per pillar", style.H2),
            charts.pillar_chart(self.s, style.FRAME_WIDTH, 230),
            Spacer(1, 6),
            self._pillar_table(),
        ]
        story += self._largest_gaps()
        story += self._most_severe_findings()
        return story

    def _headline_tiles(self) -> Table:
        overall = figures.rollup_figures(self.s.overall)
        findings = self.s.findings
        counts = figures.findings_by_severity(f.severity for f in findings)
        finding_words = " · ".join(f"{n} {sev}" for sev, n in counts.items() if n) or "none recorded"
        scored = overall.scored
        tiles = [
            (
                "OVERALL MATURITY",
                overall.score_text(),
                f"{_stage_text(overall.level)} · mean stage, 0–3",
            ),
            (
                "MEAN TARGET",
                overall.target_text(),
                "of the assessed functions with a target",
            ),
            ("BELOW TARGET", f"{overall.below_target}", f"of {_plural(scored, 'scored function')}"),
            ("ASSESSED", f"{overall.assessed}", f"of {_plural(overall.functions, 'function')} in scope"),
            ("FINDINGS", f"{len(findings)}", finding_words),
        ]
        return _tiles(tiles)

    def _summary_sentence(self) -> str:
        said = words.summary(self.s.overall, [(p.pillar, p.rollup) for p in self.s.pillars])
        parts = [f"{escape(said.before)}<b>{escape(said.stage)}</b>{escape(said.after)}"]
        parts += [escape(sentence) for sentence in (said.pillars, said.unassessed) if sentence]
        return " ".join(parts)

    def _pillar_table(self) -> Table:
        rows: list[list[Any]] = [_head("Pillar", "Assessed", "Current", "Target", "Lowest", "Below target")]
        lines: list[tuple[str, Rollup]] = [
            (f"{p.pillar.code}  {charts.short_pillar(p)}", p.rollup) for p in self.s.pillars
        ]
        lines.append(("Overall", self.s.overall))
        for name, roll in lines:
            bold = name == "Overall"
            r = figures.rollup_figures(roll)
            current = "not assessed" if r.score is None else f"<b>{r.score_text()}</b> {_stage_text(r.level)}"
            rows.append(
                [
                    _p(f"<b>{escape(name)}</b>" if bold else escape(name), style.CELL),
                    _p(f"{r.assessed} of {r.functions}", style.CELL),
                    _p(current, style.CELL),
                    _p(r.target_text(), style.CELL),
                    _p(escape(_stage_text(r.lowest)), style.CELL),
                    _p(f"{r.below_target} of {r.scored}", style.CELL),
                ]
            )
        w = style.FRAME_WIDTH
        return _table(
            rows,
            [w * 0.3, w * 0.12, w * 0.18, w * 0.1, w * 0.14, w * 0.16],
            [*_grid(), ("LINEABOVE", (0, -1), (-1, -1), 0.8, style.NAVY)],
        )

    def _largest_gaps(self) -> list[Flowable]:
        gaps = self.s.largest_gaps()
        story: list[Flowable] = [_p("The largest gaps", style.H2)]
        if not gaps:
            return [*story, _p("No assessed function is below its target.")]
        shown = gaps[:TOP_GAPS]
        rows: list[list[Any]] = [_head("Function", "Current", "Target", "Gap", "Priority", "Owner")]
        for f in shown:
            r = f.result
            rows.append(
                [
                    _p(escape(f.function.label), style.CELL),
                    _p(
                        escape(r.current.label) + (" <font color='#d98e04'>(override)</font>" if r.overridden else ""),
                        style.CELL,
                    ),
                    _p(escape(_stage_text(r.target)), style.CELL),
                    _p(f"<b>{r.gap}</b>", style.CELL),
                    _p(escape(_label(f.assessment.priority)), style.CELL),
                    _p(_user(f.assessment.owner) if f.assessment.owner else "—", style.CELL),
                ]
            )
        w = style.FRAME_WIDTH
        story.append(
            _table(
                rows, [w * 0.34, w * 0.16, w * 0.12, w * 0.07, w * 0.1, w * 0.21], _grid(), repeatRows=1, splitInRow=1
            )
        )
        if len(gaps) > len(shown):
            story.append(
                _p(f"{_plural(len(gaps) - len(shown), 'more function')} below target: see the roadmap.", style.NOTE)
            )
        return story

    def _most_severe_findings(self) -> list[Flowable]:
        story: list[Flowable] = [_p("The most severe findings", style.H2)]
        if not self.s.findings:
            return [*story, _p("No findings were recorded.")]
        rows: list[list[Any]] = [_head("No.", "Severity", "Finding", "Function")]
        for f in self.s.findings[:TOP_FINDINGS]:
            rows.append(
                [
                    self.finding_numbers[f.id],
                    _p(_severity_chip(f.severity), style.CELL),
                    _p(f"<b>{_user(f.title)}</b>", style.CELL),
                    _p(
                        escape(f"{f.function_code} {f.function_name}") + (f" · {f.stage.label}" if f.stage else ""),
                        style.CELL_SMALL,
                    ),
                ]
            )
        w = style.FRAME_WIDTH
        story.append(_table(rows, [w * 0.07, w * 0.13, w * 0.5, w * 0.3], _grid(), repeatRows=1, splitInRow=1))
        return story

    def _callout(self, markup: str, colour: Any, fill: Any = style.PANEL) -> Table:
        return _table(
            [[_p(markup, style.BODY)]],
            [style.FRAME_WIDTH],
            [
                ("BACKGROUND", (0, 0), (-1, -1), fill),
                ("LINEBEFORE", (0, 0), (0, -1), 3, colour),
                ("LEFTPADDING", (0, 0), (-1, -1), 9),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ],
            splitInRow=1,
        )

    # -- progress since the baseline ----------------------------------------------------------

    def progress_since_baseline(self) -> list[Flowable]:
        """Progress since the snapshot's baseline: counts, pillars then and now, every function that changed."""
        comparison, baseline = self.s.progress, self.s.baseline
        if comparison is None or baseline is None:
            return []
        day = _date(baseline.created_at)
        story = self.section(
            f"Progress since {baseline.name} ({day})",
            markup=f"Progress since {_user(baseline.name, room=style.FRAME_WIDTH, size=20)} ({escape(day)})",
        )
        story.append(
            _p(
                f"This section compares the assessment now with the baseline "
                f"<b>{_user(baseline.name, line_breaks=False)}</b>, frozen on {escape(day)} by "
                f"{_user(baseline.created_by, line_breaks=False)}. A function improved or regressed when its "
                "current stage is higher or lower now; it changed when its stage, override, target, a rating or "
                "a comment differs, and is unchanged when nothing does.",
            )
        )
        story += [Spacer(1, 4), self._progress_tiles(), Spacer(1, 8)]
        overall = figures.rollup_change(comparison.overall)
        counts = figures.movement_counts(comparison)
        story.append(
            _p(
                f"{_plural(counts.changed, 'function')} changed: "
                f"<b>{counts.improved} improved</b>, "
                f"<b>{counts.regressed} regressed</b>"
                + (f", {counts.same_stage} at the same stage" if counts.same_stage else "")
                + (f", {counts.not_comparable} not comparable" if counts.not_comparable else "")
                + f"; {counts.unchanged} unchanged."
                + f" Overall mean stage {escape(overall.then.score_level_text)} → "
                f"<b>{escape(overall.now.score_level_text)}</b>."
            )
        )
        story += [_p("Maturity per pillar, then and now", style.H2), self._progress_pillars()]
        story.append(_p("Functions that changed", style.H2))
        changed = comparison.changed
        if changed:
            story.append(self._progress_functions(changed))
        else:
            story.append(_p("No function has changed since the baseline."))
        rest = counts.unchanged
        if rest:
            story.append(Spacer(1, 3))
            story.append(
                _p(
                    f"{_plural(rest, 'other function')} in scope did not change and "
                    f"{'is' if rest == 1 else 'are'} not listed.",
                    style.NOTE,
                )
            )
        return story

    def _progress_tiles(self) -> Table:
        c = self.s.progress
        assert c is not None
        overall = figures.rollup_change(c.overall)
        counts = figures.movement_counts(c)
        tiles = [
            ("OVERALL THEN", overall.then.score_text(), _stage_text(overall.then.level) + " · mean stage, 0–3"),
            ("OVERALL NOW", overall.now.score_text(), _stage_text(overall.now.level) + " · mean stage, 0–3"),
            ("IMPROVED", str(counts.improved), "current stage higher"),
            ("REGRESSED", str(counts.regressed), "current stage lower"),
            ("UNCHANGED", str(counts.unchanged), f"of {_plural(counts.functions, 'function')} in scope"),
        ]
        return _tiles(tiles)

    def _progress_pillars(self) -> Table:
        c = self.s.progress
        assert c is not None
        codes = {p.pillar.id: p for p in self.s.pillars}
        rows: list[list[Any]] = [_head("Pillar", "Then", "Now", "Change", "Assessed")]
        lines: list[tuple[str, RollupProgress]] = [
            (f"{codes[p.key].pillar.code}  {charts.short_pillar(codes[p.key])}" if p.key in codes else p.name, p)
            for p in c.pillars
        ]
        lines.append(("Overall", c.overall))
        for name, progress in lines:
            bold = progress is c.overall
            r = figures.rollup_change(progress)
            delta = r.delta
            colour = style.GREY if delta is None or delta == 0 else (style.GAIN if delta > 0 else style.LOSS)
            assessed = (
                f"{r.now.assessed} of {r.now.functions}"
                if r.then.assessed == r.now.assessed
                else f"{r.then.assessed} → {r.now.assessed} of {r.now.functions}"
            )
            rows.append(
                [
                    _p(f"<b>{escape(name)}</b>" if bold else escape(name), style.CELL),
                    _p(escape(r.then.score_level_text), style.CELL),
                    _p(f"<b>{escape(r.now.score_level_text)}</b>", style.CELL),
                    _p(f'<font color="{_colour(colour)}"><b>{escape(r.delta_text)}</b></font>', style.CELL),
                    _p(escape(assessed), style.CELL),
                ]
            )
        w = style.FRAME_WIDTH
        return _table(
            rows,
            [w * 0.32, w * 0.2, w * 0.2, w * 0.1, w * 0.18],
            [*_grid(), ("LINEABOVE", (0, -1), (-1, -1), 0.8, style.NAVY)],
            keep=True,
        )

    def _progress_functions(self, changed: tuple[FunctionProgress, ...]) -> Table:
        rows: list[list[Any]] = [_head("Code", "Function", "Then → now", "Target", "What changed")]
        for f in changed:
            then_target = f.then.target if f.then is not None else None
            now_target = f.now.target
            target = (
                f"{_stage_text(then_target)} → {_stage_text(now_target)}"
                if then_target != now_target
                else _stage_text(now_target)
            )
            if f.movement is Movement.IMPROVED:
                mark = f'<font color="{_colour(style.GAIN)}"><b>▲ {f.steps}</b></font>'
            elif f.movement is Movement.REGRESSED:
                mark = f'<font color="{_colour(style.LOSS)}"><b>▼ {-(f.steps or 0)}</b></font>'
            else:
                mark = f'<font color="{_colour(style.GREY)}">{escape(figures.movement_word(f).lower())}</font>'
            rows.append(
                [
                    f.function.code,
                    _p(escape(f.function.name), style.CELL),
                    _p(
                        f"{escape(state_text(f.then))} → <b>{escape(state_text(f.now))}</b><br/>"
                        f'<font size="6.6">{mark}</font>',
                        style.CELL,
                    ),
                    _p(escape(target), style.CELL),
                    _p(escape(change_text(f.changes)), style.CELL),
                ]
            )
        w = style.FRAME_WIDTH
        return _table(rows, [w * 0.07, w * 0.3, w * 0.25, w * 0.16, w * 0.22], _grid(), repeatRows=1, splitInRow=1)

    # -- workshops ----------------------------------------------------------------------------

    def workshops(self) -> list[Flowable]:
        """Every workshop, oldest first: date, title, status, what it covered, who attended, notes."""
        lines = self.s.workshops
        if not lines:
            return []
        story = self.section("Workshops")
        held = sum(1 for w in lines if w.held)
        counts = [f"{held} held"] if held else []
        for status, word in (("running", "running"), ("planned", "planned")):
            count = sum(1 for w in lines if w.status == status)
            if count:
                counts.append(f"{count} {word}")
        story.append(_p(f"{_plural(len(lines), 'workshop')}, oldest first: {escape(', '.join(counts))}.", style.NOTE))
        story.append(Spacer(1, 4))
        for line in lines:
            story += self._workshop(line)
        return story

    def _workshop(self, w: WorkshopLine) -> list[Flowable]:
        day = _date(w.date)
        head = f"{escape(day)} &nbsp;·&nbsp; {_user(w.title, room=WORKSHOP_ROOM, size=10)}"
        if not w.held:
            fill, ink = WORKSHOP_STATUS_COLOURS.get(w.status, (style.PANEL, style.GREY))
            head += f"&nbsp; {_chip(w.status_text.upper(), fill, ink)}"
        block: list[Flowable] = [_p(head, style.H3)]
        covered = []
        if w.pillars:
            covered.append(f"<b>Pillars</b> {escape(', '.join(w.pillars))}")
        if w.functions:
            covered.append(f"<b>Functions</b> {escape('; '.join(w.functions))}")
        if not covered:
            covered.append('<font color="#8a94a3">No pillar or function recorded.</font>')
        block += [_p(part, style.BODY_SMALL) for part in covered]
        story: list[Flowable] = [CondPageBreak(90), KeepTogether(block)]
        if w.attendees:
            # Not LABEL_NEXT: reportlab moves a label kept with a table taller than the room left to the next page.
            label = _p(f"ATTENDEES ({len(w.attendees)})", style.LABEL)
            story += [Spacer(1, 3), CondPageBreak(60), label, self._attendees(w)]
        else:
            story.append(_p("No attendees recorded.", style.BODY_SMALL))
        if w.notes.strip():
            story += [Spacer(1, 5), CondPageBreak(50), _p("NOTES", style.LABEL)]
            story += [
                _p(_user(part, room=NOTES_ROOM, size=8.4), style.NOTES)
                for part in re.split(r"\n\s*\n", text.clean(w.notes))
                if part.strip()
            ]
        story.append(Spacer(1, 10))
        return story

    def _attendees(self, w: WorkshopLine) -> Table:
        widths = ATTENDEE_WIDTHS
        rooms = [x - 10 for x in widths]
        rows: list[list[Any]] = [_head("Name", "Role", "Organization")]
        for name, role, organisation in w.attendees:
            rows.append(
                [
                    _cell(name, fonts.SANS_BOLD, 7.8, rooms[0], style.CELL_BOLD),
                    _cell(role or "—", fonts.SANS, 7.8, rooms[1], style.CELL),
                    _cell(organisation or "—", fonts.SANS, 7.8, rooms[2], style.CELL),
                ]
            )
        commands = [*_grid(), ("FONT", (0, 1), (0, -1), fonts.SANS_BOLD, 7.8, 10.2)]
        return _table(rows, widths, commands, repeatRows=1, splitInRow=1)

    # -- charts -------------------------------------------------------------------------------

    def glance(self) -> list[Flowable]:
        if not self.s.assessed:
            return []
        story = self.section("Maturity at a glance")
        story.append(
            _p(
                "Each bar runs up to the function's current stage; the red tick marks its target. "
                "An orange end marks a current stage the assessor set by override.",
                style.NOTE,
            )
        )
        chart = charts.function_chart(self.s, style.FRAME_WIDTH)
        room = style.paper_size(self.s.meta.paper)[1] - style.MARGIN_TOP - style.MARGIN_BOTTOM - 80
        if chart.height > room:  # the shorter paper (Letter): the chart shrinks to stay on its page
            factor = room / chart.height
            chart.scale(factor, factor)
            chart.width, chart.height = chart.width * factor, chart.height * factor
        story += [Spacer(1, 6), chart]
        story += [PageBreak(), _p("Heat map of pillars and functions", style.H2)]
        story.append(
            _p(
                "Each cell is a function, colored by its current stage, which is named at its foot; "
                "an orange corner marks an override.",
                style.NOTE,
            )
        )
        story += [Spacer(1, 6), charts.heat_map(self.s, style.FRAME_WIDTH), Spacer(1, 10)]
        story += [_p("Functions per stage", style.H2), self._distribution()]
        return story

    def _distribution(self) -> Table:
        rows: list[list[Any]] = [_head("Pillar", *(s.label for s in Stage), "N/A", "Not assessed")]
        lines: list[tuple[str, Rollup]] = [
            (f"{p.pillar.code}  {charts.short_pillar(p)}", p.rollup) for p in self.s.pillars
        ]
        lines.append(("Overall", self.s.overall))
        for name, r in lines:
            rows.append(
                [
                    _p(escape(name), style.CELL_BOLD if name == "Overall" else style.CELL),
                    *(_p(str(r.distribution.get(s, 0)), style.CELL_CENTER) for s in Stage),
                    _p(str(r.not_applicable), style.CELL_CENTER),
                    _p(str(r.functions - r.assessed), style.CELL_CENTER),
                ]
            )
        w = style.FRAME_WIDTH
        first = w * 0.16
        commands = [*_grid(), ("LINEABOVE", (0, -1), (-1, -1), 0.8, style.NAVY)]
        for i, stage in enumerate(Stage, start=1):
            commands.append(("LINEBELOW", (i, 0), (i, 0), 2.4, style.STAGE_COLOURS[stage]))
        return _table(rows, [first] + [(w - first) / 6] * 6, commands)

    # -- pillars and functions ------------------------------------------------------------------

    def pillar_sections(self, progress: Progress, cancel: CancelToken | None) -> list[Flowable]:
        story: list[Flowable] = []
        total = len(self.s.pillars)
        for index, sheet in enumerate(self.s.pillars):
            if cancel is not None:
                cancel.check()
            progress(index, total, f"Writing {sheet.pillar.name}")
            story += self._pillar(sheet)
        return story

    def _pillar(self, sheet: PillarSheet) -> list[Flowable]:
        title = f"{sheet.pillar.code}  {sheet.pillar.name}"
        story = self.section(title)
        r = figures.rollup_figures(sheet.rollup)
        facts = [
            ("CURRENT", "not assessed" if r.score is None else f"{r.score_text()} · {_stage_text(r.level)}"),
            ("TARGET", r.target_text()),
            ("ASSESSED", f"{r.assessed} of {r.functions}"),
            ("BELOW TARGET", str(r.below_target)),
            ("LOWEST", _stage_text(r.lowest)),
        ]
        story.append(self._facts(facts))
        if sheet.pillar.description.strip():
            story += [Spacer(1, 6), _p(_user(apply_wording(sheet.pillar.description, self.wording)), style.NOTE)]
        waiting = [fs for fs in sheet.functions if _untouched(fs)]
        for fs in sheet.functions:
            if fs not in waiting:
                story += self._function(fs)
        if waiting:
            story += self._not_assessed(waiting, every=len(waiting) == len(sheet.functions))
        return story

    def _not_assessed(self, functions: list[FunctionSheet], *, every: bool) -> list[Flowable]:
        """Functions in scope never assessed (nothing rated, written or linked): one compact table."""
        title = "Not assessed yet"
        story = self.subheading(escape(title), title, level=1, toc=False, paragraph_style=style.H3)
        what = (
            "None of this pillar's functions has"
            if every
            else ("These functions have" if len(functions) > 1 else "This function has")
        )
        note = _p(
            f"{what} no rating, override, notes, findings or evidence yet. Their stage descriptions are in "
            "CISA's model.",
            style.NOTE,
        )
        rows: list[list[Any]] = [_head("Function", "Target", "Priority", "Owner")]
        for fs in functions:
            a = fs.assessment
            rows.append(
                [
                    _p(escape(fs.function.label), style.CELL),
                    _p(escape(_stage_text(fs.result.target)), style.CELL),
                    _p(escape(_label(a.priority)), style.CELL),
                    _p(_user(a.owner) if a.owner.strip() else "—", style.CELL),
                ]
            )
        w = style.FRAME_WIDTH
        table = _table(rows, [w * 0.46, w * 0.16, w * 0.14, w * 0.24], _grid(), repeatRows=1, splitInRow=1)
        if len(functions) <= 12:  # a short list moves to the next page whole, with its heading
            return [*story[:-1], KeepTogether([story[-1], note, table])]
        return [*story, note, table]

    def _facts(self, facts: list[tuple[str, str]], markup: bool = False) -> Table:
        w = style.FRAME_WIDTH / len(facts)
        cells = [
            [_p(escape(label), style.LABEL) for label, _ in facts],
            [_p(value if markup else escape(value), style.CELL) for _, value in facts],
        ]
        return _table(
            cells,
            [w] * len(facts),
            [
                ("LINEABOVE", (0, 0), (-1, 0), 0.6, style.RULE),
                ("LINEBELOW", (0, -1), (-1, -1), 0.6, style.RULE),
                ("TOPPADDING", (0, 0), (-1, 0), 4),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 0),
                ("TOPPADDING", (0, 1), (-1, 1), 1),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 5),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ],
        )

    def _function(self, fs: FunctionSheet) -> list[Flowable]:
        f, a, r = fs.function, fs.assessment, fs.result
        head = self.subheading(escape(f.label), f.label, level=1, toc=True)
        story: list[Flowable] = []
        if not r.assessed:
            current = '<font color="#8a94a3">not assessed</font>'
        elif not r.applicable:
            current = "not applicable"
        else:
            current = f"<b>{escape(r.current.label)}</b>"
            if r.overridden:
                current += f' <font color="{_colour(style.OVERRIDE)}">(override)</font>'
        gap = "–" if r.gap is None else (f"<b>{r.gap}</b>" if r.gap else "0 (at target)")
        facts = [
            ("CURRENT", current),
            ("TARGET", escape(_stage_text(r.target))),
            ("GAP", gap),
            ("CONFIDENCE", escape(_label(a.confidence))),
            ("PRIORITY", escape(_label(a.priority))),
            ("STATUS", escape(words.assessment_status(a))),
        ]
        story.append(self._facts(facts, markup=True))
        if a.owner.strip():
            story.append(_p(f"<b>Owner</b> {_user(a.owner)}", style.BODY_SMALL))
        story.append(Spacer(1, 5))
        if r.overridden:
            against = override_contradictions(a)  # an override above a stage rated Not met is marked, as in the window
            note = f" <b>Note:</b> {escape(rated_not_met(against))}" if against else ""
            story.append(
                self._callout(
                    f"<b>Override.</b> The assessor set the current stage to <b>{escape(r.current.label)}</b>; "
                    f"the ratings alone give {escape(r.derived.label)}. <b>Reason:</b> {_user(r.override_reason, room=REASON_ROOM)}"
                    f"{note}",
                    style.OVERRIDE,
                    style.PANEL,
                )
            )
            story.append(Spacer(1, 5))
        story.append(self._stage_table(fs))
        story = [*head[:-1], KeepTogether([head[-1], *story])]
        if fs.answers:
            story += [Spacer(1, 5), _p("THE CLIENT'S VIEW (QUESTIONNAIRE)", LABEL_NEXT), self._answers(fs)]
        if a.notes.strip():
            story += [Spacer(1, 5), _p("NOTES", LABEL_NEXT)]
            story += [
                _p(_user(part, room=NOTES_ROOM, size=8.4), style.NOTES)
                for part in re.split(r"\n\s*\n", text.clean(a.notes))
                if part.strip()
            ]
        if fs.findings:
            story += [Spacer(1, 5), _p("FINDINGS", LABEL_NEXT)]
            story += [self._finding_card(finding) for finding in fs.findings]
        if fs.evidence:
            story += [Spacer(1, 5), _p("EVIDENCE", LABEL_NEXT), self._evidence_refs(fs.evidence)]
        if fs.actions:
            parts = [
                f"<b>{escape(self.action_numbers.get(a.id, ''))}</b> {_user(a.text, line_breaks=False)} "
                f'<font color="{_colour(style.GREY)}">({escape(a.phase_label)})</font>'
                for a in fs.actions
            ]
            story += [Spacer(1, 5), _p("ROADMAP ACTIONS", LABEL_NEXT), _p("<br/>".join(parts), style.BODY_SMALL)]
        story.append(Spacer(1, 10))
        return story

    def _answers(self, fs: FunctionSheet) -> Table:
        """Who answered what for each stage, beside the assessor's rating; a differing answer is marked."""
        ratings = {line.stage: line.rating for line in fs.stages}
        w = style.FRAME_WIDTH
        widths = [w * 0.14, w * 0.26, w * 0.15, w * 0.13, w * 0.32]
        rows: list[list[Any]] = [_head("Stage", "Respondent", "Answer", "Assessor", "Comment")]
        commands: list[tuple[Any, ...]] = _grid()
        previous: Stage | None = None
        for index, answer in enumerate(fs.answers, start=1):
            who = f"<b>{_user(answer.respondent, line_breaks=False)}</b>"
            if answer.role.strip():
                who += f' <font color="{_colour(style.GREY)}">{_user(answer.role, line_breaks=False)}</font>'
            said = _user(answer.answer, line_breaks=False)
            if answer.agrees is False:
                said = f"<b>{said}</b><br/>{_chip('DIFFERS', style.OVERRIDE, style.WHITE)}"
                commands.append(("BACKGROUND", (2, index), (2, index), DIFFERS_FILL))
            rating = ratings.get(answer.stage)
            rows.append(
                [
                    _p(escape(answer.stage.label) if answer.stage is not previous else "", style.CELL_BOLD),
                    _p(who, style.CELL),
                    _p(said, style.CELL),
                    _p(escape(rating.label) if rating is not None else "—", style.CELL),
                    _p(_user(answer.comment, room=widths[4] - 10, size=7.8), style.CELL)
                    if answer.comment.strip()
                    else _p("—", style.CELL_SMALL),
                ]
            )
            previous = answer.stage
        return _table(rows, widths, commands, repeatRows=1, splitInRow=1)

    def _stage_table(self, fs: FunctionSheet) -> Table:
        r = fs.result
        rows: list[list[Any]] = [_head("Stage", "Stage description (CISA)", "Rating", "Assessor's comment")]
        commands: list[tuple[Any, ...]] = _grid()
        for index, line in enumerate(fs.stages, start=1):
            marks = []
            if r.assessed and r.applicable and line.stage is r.current:
                marks.append("CURRENT")
            if r.overridden and line.stage is r.derived and r.derived is not r.current:
                marks.append("DERIVED")
            if r.target is line.stage:
                marks.append("TARGET")
            stage_cell = f"<b>{escape(line.stage.label)}</b>"
            if marks:
                stage_cell += f'<br/><font size="6" color="{_colour(style.ACCENT)}"><b>{" · ".join(marks)}</b></font>'
            if line.stage is Stage.TRADITIONAL:
                rating = _p('<font color="#8a94a3">floor, not rated</font>', style.CELL_SMALL)
            else:
                fill, ink = style.RATING_COLOURS[line.rating]
                rating = _p(f'<font color="{_colour(ink)}"><b>{escape(line.rating.label)}</b></font>', style.CELL)
                commands.append(("BACKGROUND", (2, index), (2, index), fill))
            commands.append(("LINEBEFORE", (0, index), (0, index), 3, style.STAGE_COLOURS[line.stage]))
            comment = (
                _p(_user(line.comment, room=COMMENT_ROOM, size=7.8), style.CELL)
                if line.comment.strip()
                else _p("—", style.CELL_SMALL)
            )
            rows.append([_p(stage_cell, style.CELL), _p(escape(line.text), style.CELL_SMALL), rating, comment])
        w = style.FRAME_WIDTH
        return _table(rows, [w * 0.13, w * 0.39, w * 0.12, w * 0.36], commands, repeatRows=1, splitInRow=1)

    def _finding_card(self, finding: FindingLine) -> Table:
        number = self.finding_numbers.get(finding.id, "")
        head = f"{_severity_chip(finding.severity)}&nbsp; <b>{escape(number)} · {_user(finding.title)}</b>"
        if finding.stage is not None:
            head += f' <font color="#5b6573" size="7">({escape(finding.stage.label)})</font>'
        rows: list[list[Any]] = [[_p(head, style.CELL)]]
        for label, value in (
            ("Observation", finding.observation),
            ("Risk", finding.risk),
            ("Recommendation", finding.recommendation),
        ):
            if value.strip():
                # The label is the paragraph's bullet, so the text is one run a Paragraph lays out fast.
                text_style = _card_style(label)
                markup = _user(value, room=CARD_ROOM, size=7.8)
                rows.append([layout.Para(markup, text_style, bulletText=f"{label}.")])
        comments = self.s.review_comments.get(finding.id, ())
        if comments:  # internal review notes, only when the report was asked to print them
            rows.append([_p("<b>Review comments</b>", style.CELL)])
            for comment in comments:
                who = f'<font color="{_colour(style.GREY)}">{_user(comment.by, line_breaks=False)} · {escape(comment.date)} UTC</font>'
                rows.append([_p(f"{who}<br/>{_user(comment.text, room=CARD_ROOM, size=7.8)}", style.CELL)])
        colour = style.SEVERITY_COLOURS.get(finding.severity, style.SEVERITY_COLOURS["low"])[0]
        return _table(
            rows,
            [style.FRAME_WIDTH],
            [
                ("BACKGROUND", (0, 0), (-1, -1), style.PANEL),
                ("LINEBEFORE", (0, 0), (0, -1), 3, colour),
                ("LINEBELOW", (0, -1), (-1, -1), 4, style.WHITE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 1), (-1, -1), 1),
            ],
            splitInRow=1,
            keep=True,
        )

    def _evidence_refs(self, items: tuple[EvidenceLine, ...]) -> Flowable:
        """One paragraph: each item's number (as in the evidence index) and, for a few, its title."""
        if len(items) <= EVIDENCE_BY_TITLE:
            parts = [f"<b>{self.evidence_numbers.get(e.id, '')}</b> {_user(e.title, line_breaks=False)}" for e in items]
            return _p("; ".join(parts), style.BODY_SMALL)
        numbers = ", ".join(self.evidence_numbers.get(e.id, "") for e in items)
        return _p(f"{_plural(len(items), 'file')}, listed in the evidence index: {numbers}.", style.BODY_SMALL)

    # -- findings register ----------------------------------------------------------------------

    def findings_register(self) -> list[Flowable]:
        story = self.section("Findings")
        if not self.s.findings:
            return [*story, _p("No findings were recorded for the functions in scope.")]
        story.append(
            _p(
                f"{_plural(len(self.s.findings), 'finding')}, most severe first. Each is described in full "
                "under its function. Likelihood and impact are rated 1 to 5; the risk rating follows from "
                "their product (see the method appendix).",
                style.NOTE,
            )
        )
        story += [*self.subheading("Risk heat map", "Risk heat map", level=1, toc=False), self._risk_map()]
        story += self.subheading("Findings register", "Findings register", level=1, toc=False)
        header = _head("No.", "Finding", "Severity", "Owner", "Due", "Status", "L", "I", "Risk")
        w = style.FRAME_WIDTH
        widths = [w * 0.065, w * 0.285, w * 0.1, w * 0.14, w * 0.1, w * 0.12, w * 0.035, w * 0.035, w * 0.12]
        rooms = [x - 8 for x in widths]
        rows = []
        for f in self.s.findings:
            fill, ink = style.SEVERITY_COLOURS.get(f.severity, style.SEVERITY_COLOURS["low"])
            label = f.severity.upper() if f.severity in style.SEVERITY_COLOURS else _label(f.severity)
            where = f"{f.function_code} {f.function_name}" + (f" · {f.stage.label}" if f.stage else "")
            finding = _p(
                f"<b>{_user(f.title, room=rooms[1], size=7.8)}</b><br/>"
                f'<font size="6.6" color="{_colour(style.GREY)}">{escape(where)}</font>',
                style.CELL,
            )
            rating = f.risk_rating
            risk: Any = "—"
            if rating:
                band_fill, band_ink = RISK_COLOURS[rating]
                risk = _p(
                    f'<font color="{_colour(band_ink)}" backColor="{_colour(band_fill)}">&nbsp;{escape(rating)}'
                    f"&nbsp;</font> {f.risk_score}",
                    style.CELL_SMALL,
                )
            rows.append(
                [
                    self.finding_numbers[f.id],
                    finding,
                    layout.Chip(label, fill, ink),
                    _cell(f.owner, fonts.SANS, 7, rooms[3], style.CELL_SMALL) if f.owner.strip() else "—",
                    _short_date(f.due_date) or "—",
                    _p(escape(FINDING_STATUS_LABELS.get(f.status, _label(f.status))), style.CELL_SMALL),
                    str(f.likelihood) if f.likelihood is not None else "—",
                    str(f.impact) if f.impact is not None else "—",
                    risk,
                ]
            )
        commands = [
            *_paddings(),
            *_grid(),
            ("FONT", (3, 1), (-1, -1), fonts.SANS, 7, 9),
            ("ALIGN", (6, 0), (7, -1), "CENTER"),
        ]
        story.append(layout.LongRows(header, rows, widths, commands, 20))
        story.append(Spacer(1, 3))
        story.append(
            _p(
                "L: likelihood, I: impact, each 1 to 5. Risk: the rating and its score (likelihood × impact).",
                style.NOTE,
            )
        )
        return story

    def _risk_map(self) -> Flowable:
        """Likelihood × impact, 5 × 5: how many findings sit in each cell, each cell in its risk band's color."""
        counts: dict[tuple[int, int], int] = {}
        for f in self.s.findings:
            if f.likelihood is not None and f.impact is not None:
                counts[(f.likelihood, f.impact)] = counts.get((f.likelihood, f.impact), 0) + 1
        rows: list[list[Any]] = []
        commands: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), fonts.SANS, 7),
            ("ALIGN", (1, 0), (-1, -1), "CENTER"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        for row, likelihood in enumerate(range(5, 0, -1)):
            cells: list[Any] = [_p(f"{likelihood} {escape(LIKELIHOOD_LABELS[likelihood])}", style.CELL_RIGHT)]
            for column, impact in enumerate(range(1, 6), start=1):
                fill, ink = RISK_COLOURS[risk_rating(likelihood, impact)]
                count = counts.get((likelihood, impact), 0)
                cells.append(str(count) if count else "")
                commands += [
                    ("BACKGROUND", (column, row), (column, row), fill),
                    ("TEXTCOLOR", (column, row), (column, row), ink),
                    ("FONT", (column, row), (column, row), fonts.SANS_BOLD, 10),
                    ("BOX", (column, row), (column, row), 1.5, style.WHITE),
                ]
            rows.append(cells)
        rows.append(["", *(_p(f"<b>{i}</b><br/>{escape(IMPACT_LABELS[i])}", IMPACT_HEAD) for i in range(1, 6))])
        rows.append(["", _p("<b>IMPACT →</b>", style.CELL_SMALL), "", "", "", ""])
        commands.append(("SPAN", (1, 6), (-1, 6)))
        w = style.FRAME_WIDTH
        first, cell = w * 0.2, w * 0.1
        grid = _table(rows, [first] + [cell] * 5, commands, rowHeights=[26] * 5 + [None, None])
        unrated = sum(1 for f in self.s.findings if f.risk_rating == "")
        key = []
        for _, band in reversed(RISK_BANDS):
            fill, ink = RISK_COLOURS[band]
            key.append(f'<font color="{_colour(ink)}" backColor="{_colour(fill)}">&nbsp;{escape(band)}&nbsp;</font>')
        side = [
            _p(
                "<b>LIKELIHOOD</b> rows, most likely at the top; <b>IMPACT</b> columns. Each cell counts the "
                "findings rated there.",
                style.CELL_SMALL,
            ),
            Spacer(1, 4),
            _p(" ".join(key), style.CELL),
        ]
        if unrated:
            side += [
                Spacer(1, 4),
                _p(
                    f"{_plural(unrated, 'finding')} without a likelihood and impact "
                    f"{'is' if unrated == 1 else 'are'} not counted.",
                    style.CELL_SMALL,
                ),
            ]
        return _table(
            [[grid, side]],
            [first + 5 * cell + 6, w - first - 5 * cell - 6],
            [("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")],
            keep=True,
        )

    # -- roadmap ------------------------------------------------------------------------------

    def roadmap(self) -> list[Flowable]:
        """The consultant's actions by phase, then what the model asks to climb (with product suggestions)."""
        story = self.section("Roadmap")
        actions = self.s.actions
        if not actions and not self.s.roadmap:
            return [*story, _p("No function in scope is below its target, and no action is planned.")]
        if actions:
            story.append(
                _p(
                    f"{_plural(len(actions), 'action')} in the order to take them: by phase, then by the priority "
                    "of the function, the largest gap first. <i>After</i> names the action that must come first.",
                    style.NOTE,
                )
            )
            phases = [*PHASES, *dict.fromkeys(a.phase for a in actions if a.phase not in PHASES)]
            for phase in phases:
                lines = [a for a in actions if a.phase == phase]
                if lines:
                    title = PHASE_LABELS.get(phase, phase)
                    story += self.subheading(escape(title), title, level=1, toc=True)
                    story.append(self._actions_table(lines))
        story += self._guidance(bool(actions))
        return story

    def _actions_table(self, actions: list[ActionLine]) -> Flowable:
        w = style.FRAME_WIDTH
        widths = [w * 0.065, w * 0.16, w * 0.09, w * 0.3, w * 0.075, w * 0.1, w * 0.15, w * 0.06]
        rooms = [x - 8 for x in widths]
        rows: list[list[Any]] = []
        for a in actions:
            rows.append(
                [
                    self.action_numbers[a.id],
                    _p(escape(f"{a.function_code} {a.function_name}"), style.CELL_SMALL),
                    _p(escape(_stage_text(a.stage)), style.CELL_SMALL),
                    _p(_user(a.text, room=rooms[3], size=7.8), style.CELL),
                    _p(escape(a.effort_label), style.CELL_SMALL),
                    _p(_user(a.cost, room=rooms[5], size=7) if a.cost.strip() else "—", style.CELL_SMALL),
                    _p(_user(a.owner, room=rooms[6], size=7) if a.owner.strip() else "—", style.CELL_SMALL),
                    self.action_numbers.get(a.after or "", "—") if a.after else "—",
                ]
            )
        header = _head("No.", "Function", "Stage", "Action", "Effort", "Cost", "Owner", "After")
        commands = [*_paddings(), *_grid(), ("FONT", (7, 1), (7, -1), fonts.SANS, 7, 9)]
        return layout.LongRows(header, rows, widths, commands, 20)

    def _guidance(self, after_actions: bool) -> list[Flowable]:
        """Each function below target: the stages to climb in CISA's words and, unless the report is
        vendor-neutral, the guidance's suggested products and capabilities for each."""
        if not self.s.roadmap:
            return [_p("No function in scope is below its target.", style.NOTE)]
        neutral = self.s.meta.vendor_neutral
        results = {f.function.id: f for f in self.s.functions()}
        title = "Stages to climb" if neutral else "Suggested products and capabilities"
        story: list[Flowable] = []
        if after_actions:
            story += [CondPageBreak(200), *self.subheading(escape(title), title, level=1, toc=True)]
        what = (
            "the stages to climb in CISA's words"
            if neutral
            else "the stages to climb in CISA's words, and for each the products and capabilities that can help, "
            "with their references"
        )
        story.append(_p(f"{_plural(len(self.s.roadmap), 'function')} below target. For each, {what}.", style.NOTE))
        current_pillar = ""
        for item in self.s.roadmap:
            fs = results.get(item.function.id)
            if item.function.pillar_id != current_pillar:
                current_pillar = item.function.pillar_id
                pillar = next((p.pillar for p in self.s.pillars if p.pillar.id == current_pillar), None)
                if pillar is not None:
                    story += [CondPageBreak(90), _p(escape(f"{pillar.code}  {pillar.name}".upper()), PILLAR_KICKER)]
            state = f"{item.current.label} → {item.target.label} · gap {len(item.steps)}"
            if fs is not None and not fs.result.assessed:
                state = f"not assessed → {item.target.label}"
            extra = []
            if fs is not None and fs.assessment.priority:
                extra.append(f"priority {escape(fs.assessment.priority)}")
            if fs is not None and fs.assessment.owner.strip():
                extra.append(f"owner {_user(fs.assessment.owner, line_breaks=False)}")
            block: list[Flowable] = [
                _p(
                    f"{escape(item.function.label)} <font color='#5b6573' size='8'>&nbsp; {escape(state)}</font>",
                    style.H3,
                ),
            ]
            if extra:
                block.append(_p(" · ".join(extra), style.BODY_SMALL))
            story.append(CondPageBreak(70))
            story += block
            for step in item.steps:
                stage_text = apply_wording(item.function.stages.get(step.stage, ""), self.wording)
                story.append(_p(f"<b>To reach {escape(step.stage.label)}</b>", LABEL_STEP))
                story.append(_p(f"“{escape(stage_text)}”", style.QUOTE))
                if neutral:
                    continue
                if not step.recommendations:
                    story.append(_p("No product or capability is suggested for this stage.", style.REFERENCE))
                suggestions: list[Flowable] = []
                for rec in step.recommendations:
                    markup = f"<b>{escape(rec.product)}</b> — {escape(rec.action)}"
                    item_story: list[Flowable] = [layout.Para(markup, style.BULLET, bulletText="•")]
                    for ref in rec.references:
                        item_story.append(_p(self._reference(ref.title, ref.url), style.REFERENCE))
                    suggestions.append(KeepTogether(item_story))
                story += suggestions
        if len(story) >= 2 and all(isinstance(f, KeepTogether) for f in story[-2:]):
            story[-2:] = [KeepTogether(story[-2:])]  # the last page of the roadmap never holds one suggestion alone
        return story

    @staticmethod
    def _reference(title: str, url: str) -> str:
        shown = escape(url) if url != title else ""
        if _URL.match(url):
            href = escape(url, {'"': "&quot;"})
            return (
                f'<a href="{href}" color="{_colour(style.ACCENT)}">{escape(title)}</a> '
                f'<font size="6.4" color="#8a94a3">{shown}</font>'
            )
        return f'{escape(title)} <font size="6.4" color="#8a94a3">{shown}</font>'

    # -- evidence index ------------------------------------------------------------------------

    def evidence_index(self, cancel: CancelToken | None) -> list[Flowable]:
        if not self.s.evidence:
            return [*self.section("Evidence index"), _p("No evidence is attached to this engagement.")]
        story: list[Flowable] = [NextPageTemplate("index"), *self.section("Evidence index")]
        total = sum(e.size for e in self.s.evidence)
        first = self.s.evidence[0]
        example = f"{self.evidence_numbers[first.id]}, “{_user(first.title, line_breaks=False)}”"
        story.append(
            _p(
                f"{_plural(len(self.s.evidence), 'file')} ({escape(_size(total))}) gathered during the assessment, "
                f"one a row, numbered as they are referred to under each function (for example {example}). The "
                "SHA-256 of each identifies its exact bytes: recompute it (for example with "
                "<font name='ZTMM-Mono'>sha256sum</font>) to show a copy is the one assessed. " + self._link_kinds(),
                style.NOTE,
            )
        )
        story.append(Spacer(1, 4))
        rows: list[list[Any]] = []
        for index, e in enumerate(self.s.evidence):
            if cancel is not None and index % 500 == 0:
                cancel.check()
            rows.append(self._evidence_row(e))
        story.append(layout.LongRows(_head(*INDEX_HEAD), rows, INDEX_WIDTHS, index_commands(), 12.9))
        return story

    def _link_kinds(self) -> str:
        """What the *Linked to* column holds, with an example of each kind taken from this engagement (markup)."""
        examples: dict[str, str] = {}
        findings = set(self.finding_numbers.values())
        for e in self.s.evidence:
            for link in e.links:
                ref = self.link_refs.get(link)
                if ref is None:
                    continue
                kind = "finding" if ref in findings else ("stage" if " " in ref else "function")
                examples.setdefault(kind, ref)
            if len(examples) == 3:
                break
        words = {
            "stage": "a function and stage ({})",
            "function": "a function ({})",
            "finding": "a finding by its number in the findings register ({})",
        }
        kinds = [words[k].format(escape(examples[k])) for k in ("stage", "function", "finding") if k in examples]
        if not kinds:
            return ""
        listed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
        return f"<i>Linked to</i>: {listed}."

    def _link_refs(self) -> dict[str, str]:
        """The evidence index's short reference for each readable link of the snapshot (``EvidenceLine.links``)."""
        refs: dict[str, str] = {}
        for pillar in self.s.catalog.pillars:
            for function in pillar.functions:
                where = f"{function.code} {function.name}"
                refs[where] = function.code
                for stage in Stage:
                    refs[f"{where} – {stage.label}"] = f"{function.code} {stage.label}"
        titles: dict[str, list[str]] = {}
        for finding in self.s.findings:
            titles.setdefault(finding.title, []).append(self.finding_numbers[finding.id])
        for title, numbers in titles.items():
            if len(numbers) == 1:  # two findings of one title: the link stays as it is, in words
                refs[f"Finding: {title}"] = numbers[0]
        return refs

    def index_strings(self, e: EvidenceLine) -> list[str]:
        """One row of the evidence index as text: number, title, file, size, SHA-256, links."""
        links = "; ".join(self.link_refs.get(link, link) for link in e.links)
        return [self.evidence_numbers[e.id], e.title, e.original_name, _size(e.size), e.sha256, links or "—"]

    def _evidence_row(self, e: EvidenceLine) -> list[Any]:
        number, title, name, size, sha256, links = self.index_strings(e)
        rooms = [w - 2 * INDEX_PAD for w in INDEX_WIDTHS]
        font, small, cell = fonts.SANS, style.INDEX_SIZE, style.INDEX_CELL
        return [
            number,
            _cell(title, font, small, rooms[1], cell),
            _cell(name, font, small, rooms[2], cell),
            size,
            sha256,  # 64 hex digits, drawn as they are
            _cell(links, font, small, rooms[5], cell),
        ]

    # -- appendices ---------------------------------------------------------------------------

    def method(self) -> list[Flowable]:
        story = [NextPageTemplate("body"), *self.section("Appendix A — Method")]
        story.append(
            _p(
                f"Each function of the {escape(self.s.catalog.title)} v{escape(self.s.catalog.version)} is described "
                "at four stages: Traditional, Initial, Advanced and Optimal. The assessor rates the three stages above "
                "Traditional against CISA's description, with a comment for each.",
                style.BODY,
            )
        )
        story.append(_p("Ratings", style.H3))
        rows: list[list[Any]] = [_head("Rating", "Meaning")]
        meanings = {
            Rating.MET: "The client meets the stage's description.",
            Rating.PARTIAL: "The client meets part of it; the stage is not reached.",
            Rating.NOT_MET: "The client does not meet it.",
            Rating.NOT_APPLICABLE: "The stage does not apply to the client; it neither blocks nor counts.",
            Rating.NOT_ASSESSED: "Not rated yet.",
        }
        commands = _grid()
        for index, (rating, meaning) in enumerate(meanings.items(), start=1):
            fill, ink = style.RATING_COLOURS[rating]
            rows.append(
                [
                    _p(f'<font color="{_colour(ink)}"><b>{escape(rating.label)}</b></font>', style.CELL),
                    _p(escape(meaning), style.CELL),
                ]
            )
            commands.append(("BACKGROUND", (0, index), (0, index), fill))
        story.append(_table(rows, [style.FRAME_WIDTH * 0.2, style.FRAME_WIDTH * 0.8], commands))
        rules = [
            (
                "Current stage",
                "Walk Initial → Advanced → Optimal. A stage rated met is reached; a stage rated not applicable is "
                "skipped; the walk stops at the first stage partially met, not met or not assessed. The current stage "
                "is the last stage reached, or Traditional when none was. A function whose three rated stages are all "
                "not applicable is itself not applicable and is left out of the roll-ups.",
            ),
            (
                "Override",
                "The assessor may set the current stage by judgement, always with a reason. The report then shows the "
                "override as such, with the stage the ratings alone give and the reason.",
            ),
            (
                "Target and gap",
                "Each function may have a target stage. The gap is the number of stages to climb: the stages above the "
                "current stage up to and including the target, leaving out every stage rated not applicable; no target, "
                "no gap, and a function not assessed yet has none either. A function is below target when it is "
                "assessed, applicable and its gap is above zero; the roll-ups count exactly these functions and the "
                "roadmap lists exactly these, one step per stage to climb.",
            ),
            (
                "Roll-ups",
                "Pillar and overall figures are computed, never stored. Each assessed, applicable function weighs the "
                "same. The figure is the mean of the functions' current stages on a 0–3 scale (Traditional 0, Initial 1, "
                "Advanced 2, Optimal 3), shown with one decimal rounded half up (1.25 shows as 1.3, 1.15 as 1.2; the "
                "spreadsheet that comes with this report holds the same figures), with the stage it reaches (the shown mean rounded down), the "
                "lowest stage among them, and the number of functions at each stage. A function counts as assessed once "
                "any stage is rated or it is overridden; functions not yet assessed are counted but not scored. A change "
                "since a baseline is the difference of the two shown figures.",
            ),
            (
                "Findings",
                "Findings record an observation, its risk and a recommendation, with a severity of low, medium, high or "
                "critical; they are listed most severe first. Each may have an owner, a due date and a status (open, "
                "in progress, resolved or risk accepted).",
            ),
            ("Risk rating", RISK_RULE),
            (
                "Roadmap",
                "The consultant's actions are grouped by phase: Now (0–3 months), Next (3–12 months) and Later (12–24 "
                "months). Within a phase they are ordered by the priority of their function, then by its gap, the "
                "largest first. Each has an effort (small, medium or large) and, where estimated, an indicative cost.",
            ),
            (
                "The client's view",
                "Where the client answered the assessment questionnaire, each answer is shown beside the assessor's "
                "rating of the same stage, and answers that differ from it are marked. The assessor's rating is the "
                "one that counts.",
            ),
            (
                "Evidence",
                "Evidence files are kept with the assessment records, with the SHA-256 of their bytes, computed when "
                "attached; the index lists every file with the functions, stages and findings it supports.",
            ),
        ]
        for title, body in rules:
            story += [_p(escape(title), style.H3), _p(escape(body), style.BODY)]
        meta, c = self.s.meta, self.s.catalog
        story += [
            Spacer(1, 8),
            _p(
                escape(
                    f"Produced with {meta.generated_with} on {_date(meta.generated_at)} ({meta.generated_at}) "
                    f"from engagement {meta.engagement_id}, against catalog {c.id} {c.version}."
                )
                + (" This is a <b>draft</b>." if self.draft else ""),
                style.CELL_SMALL,
            ),
        ]
        return story

    def sources(self) -> list[Flowable]:
        c = self.s.catalog
        story = self.section("Appendix B — Sources and attribution")
        story += [
            _p(escape(f"{c.title} v{c.version}"), style.H3),
            _p(
                escape(
                    f"{c.publisher}, {c.title}, Version {c.version} ({c.published}), "
                    "https://www.cisa.gov/zero-trust-maturity-model. The pillars, functions and stage texts quoted in "
                    "this report are CISA's; the model is a work of the United States Government and is in the public "
                    "domain in the United States."
                ),
                style.BODY,
            ),
        ]
        if self.wording != "cisa":
            story.append(
                _p(
                    "This engagement uses the Enterprise wording: in CISA's texts, “Agency” and “agencies” read "
                    "“Enterprise” and “enterprises”. Nothing else is changed.",
                    style.BODY,
                )
            )
        for pack in () if self.s.meta.vendor_neutral else self.s.packs:  # a vendor-neutral report cites no guidance
            story.append(_p(escape(f"{pack.title} ({pack.publisher}, {pack.version})"), style.H3))
            licence = (
                "Creative Commons Attribution 4.0 International (CC BY 4.0)"
                if pack.licence == "CC-BY-4.0"
                else pack.licence
            )
            story.append(_p(f"License: {escape(licence)}.", style.BODY))
            for block in pack.attribution.split("\n\n"):
                lines = [ln.strip() for ln in block.strip().splitlines() if ln.strip()]
                if not lines or lines[0].startswith("#"):
                    continue
                if all(ln.startswith("- ") for ln in lines):
                    for ln in lines:
                        url = ln[2:].strip()
                        story.append(_p(self._reference(url, url), style.REFERENCE))
                else:
                    story.append(_p(_user(" ".join(lines)), style.BODY_SMALL))
        story += [
            _p("Typefaces", style.H3),
            _p(
                "Set in DejaVu Sans (Bitstream Vera license) and, for CJK text, Droid Sans Fallback "
                "(Apache License 2.0).",
                style.BODY_SMALL,
            ),
        ]
        return story

    # -- the whole --------------------------------------------------------------------------

    def story(self, progress: Progress, cancel: CancelToken | None) -> list[Flowable]:
        body: list[Flowable] = []
        body += self.document_control()
        body += self.overview()
        body += self.executive_summary()
        body += self.consultant_sections(("scope", "approach", "limitations"))
        body += self.progress_since_baseline()
        body += self.workshops()
        body += self.glance()
        body += self.pillar_sections(progress, cancel)
        body += self.findings_register()
        body += self.roadmap()
        body += self.evidence_index(cancel)
        body += self.method()
        body += self.sources()
        body += self.consultant_sections(("disclaimer",))
        contents_key = self._key()
        self.book.pages[contents_key] = 2
        front = [
            *self.cover_story(),
            PageBreak(),
            layout.heading("Contents", style.H1, self.book, contents_key, "Contents", 0),
            Spacer(1, 4),
            *self.contents,
        ]
        return front + body

    def metadata(self) -> dict[str, str]:
        meta = self.s.meta
        title = meta.title.strip() or "Zero Trust maturity assessment"
        return {
            "title": text.clean(f"{title} — {meta.client}"),
            "author": text.clean(meta.prepared_by.strip() or ", ".join(meta.assessors)),
            "subject": f"{self.s.catalog.title} v{self.s.catalog.version} assessment",
            "creator": meta.generated_with,
            "keywords": "Zero Trust, CISA ZTMM, maturity assessment",
        }


def index_commands() -> list[tuple[Any, ...]]:
    """The evidence index's table style: one command a column range, none a row."""
    return [
        ("FONT", (0, 0), (-1, -1), fonts.SANS, style.INDEX_SIZE, style.INDEX_LEADING),
        ("FONT", (4, 1), (4, -1), fonts.MONO, style.INDEX_MONO_SIZE, style.INDEX_LEADING),
        ("TEXTCOLOR", (0, 0), (-1, -1), style.INK),
        ("TEXTCOLOR", (2, 1), (4, -1), style.GREY),
        ("ALIGN", (3, 0), (3, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), INDEX_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), INDEX_PAD),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (4, 1), (4, -1), 2 + style.INDEX_SIZE - style.INDEX_MONO_SIZE),  # one baseline with the rest
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [style.WHITE, style.ZEBRA]),
        ("BACKGROUND", (0, 0), (-1, 0), style.PANEL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, style.NAVY),
        ("LINEBELOW", (0, -1), (-1, -1), 0.5, style.RULE),
        *_head_style(),
    ]


def _paddings() -> list[tuple[Any, ...]]:
    return [
        ("FONT", (0, 0), (-1, -1), fonts.SANS, 7.8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
    ]


def render_report(
    snapshot: Snapshot,
    target: Path | IO[bytes],
    *,
    fonts_dir: Path,
    draft: bool = False,
    logo: Logo | None = None,
    consultancy_logo: Logo | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> int:
    """Write the report of ``snapshot`` to ``target``; the number of pages.

    ``logo`` is the client's (the cover's right), ``consultancy_logo`` the consultancy's (its left).
    """
    fonts.register(fonts_dir)
    report = Report(snapshot, draft=draft, logo=logo, consultancy_logo=consultancy_logo)
    progress(0, 1, "Preparing the report")
    story = report.story(progress, cancel)
    meta = snapshot.meta
    running = layout.Running(
        marking=meta.marking,
        client_title=meta.client + (f" — {meta.title}" if meta.title.strip() else ""),
        draft=draft,
    )
    document = layout.ReportDocument(
        target, running, report.book, report.metadata(), progress, cancel, report.draw_cover, paper=meta.paper
    )
    document.build(story)
    document.finish()
    return report.book.page_count
