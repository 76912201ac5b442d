"""The Word report of an engagement, rendered from a :class:`Snapshot` into the firm's template.

The same sections as the PDF report, in its order: the cover (the template's,
with its placeholders filled), contents (a TOC field Word refreshes on open),
document control, overview, executive summary, scope and approach, progress
since the baseline, workshops, maturity at a glance, one section per pillar,
the findings register with its risk grid, the roadmap (the consultant's actions
by phase, then the vendor suggestions unless the engagement is vendor-neutral),
the evidence index, the method, the sources and, last, the disclaimer. A
section the consultant left empty is left out, heading and all.

Real Word structure, so a consultant edits it as their own document: Heading 1–3
in order (page break before each Heading 1, every heading kept with what
follows), real tables whose first row is a repeating, marked header row, charts
as PNG images with alt text, references as real hyperlinks, the document's
language and paper size set.

User text is only ever a run's text (``_run``): never parsed, never a field,
never markup. Characters XML cannot hold are dropped. The only fields are the
app's own: TOC here, PAGE and NUMPAGES in the template's footer. The only
external relationships are the hyperlinks to the guidance references and the
model's page, which are app data.

Where the PDF renderer (``report/render.py``) builds a sentence itself, the same
words are written here; the figures and the sentences that live in
``core.figures`` and ``core.deliverable`` are used as they are.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from docx.enum.section import WD_ORIENT
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Mm, Pt
from docx.text.paragraph import Paragraph
from PIL import Image

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
from ..core.errors import BadInput
from ..core.progress import CancelToken, Progress, no_progress
from ..core.progress_compare import FunctionProgress
from ..core.register import (
    FINDING_STATUS_LABELS,
    IMPACT_LABELS,
    LIKELIHOOD_LABELS,
    PHASE_LABELS,
    PHASES,
    RISK_BANDS,
    action_numbers,
    blocks,
    top_priorities,
)
from ..core.scoring import Rollup
from ..core.stages import Rating, Stage
from ..core.wording import apply_wording
from ..core.words import assessment_status as _assessment_status
from ..core.words import date_text as _date
from ..core.words import label as _label
from ..core.words import plural as _plural
from ..core.words import short_date as _short_date
from ..core.words import size_text as _size
from ..core.words import stage_text as _stage_text
from . import charts
from .template import Template, fill_placeholders, open_document

TOP_GAPS = 8
TOP_FINDINGS = 5
EVIDENCE_BY_TITLE = 15
TOC_INSTRUCTION = 'TOC \\o "1-3" \\h \\z \\u'
CISA_URL = "https://www.cisa.gov/zero-trust-maturity-model"
LANGUAGE = "en-US"
#: Page sizes (portrait width, height) by ``meta.paper``.
PAPER = {"A4": (Mm(210), Mm(297)), "Letter": (Mm(215.9), Mm(279.4))}
_URL = re.compile(r"^https?://[^\s\"'<>]+$")
#: Characters XML 1.0 cannot hold (and so a .docx cannot): dropped from user text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
HEAD_FILL = "DCE3EC"
PANEL_FILL = "F1F4F8"


def clean(value: str) -> str:
    """Text a .docx can hold: the characters XML 1.0 cannot are dropped; everything else stays as it is."""
    return _NOT_XML.sub("", value)


def placeholder_values(snapshot: Snapshot, draft: bool) -> dict[str, str]:
    """What each template placeholder becomes (plain text)."""
    meta, control = snapshot.meta, snapshot.control
    marking = meta.marking.strip()
    if draft:
        marking = f"DRAFT · {marking}" if marking else "DRAFT"
    values = {
        "client": meta.client,
        "title": meta.title.strip() or "Zero Trust maturity assessment",
        "start_date": _date(meta.start_date),
        "end_date": _date(meta.end_date),
        "marking": marking,
        "consultancy": control.consultancy or meta.prepared_by_organisation,
        "report_version": control.report_version,
        "prepared_by": meta.prepared_by,
        "date": _date(meta.generated_at),
    }
    return {key: clean(value) for key, value in values.items()}


# -- low-level WordprocessingML ---------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A piece of a paragraph: plain text (user text or the app's) with simple formatting."""

    text: str
    bold: bool = False
    italic: bool = False
    size: float | None = None
    colour: str | None = None  # "RRGGBB"
    mono: bool = False


def _run(span: Span) -> Any:
    """A ``w:r`` holding ``span.text`` as text only: line breaks and tabs as Word's own elements."""
    r = OxmlElement("w:r")
    if span.bold or span.italic or span.size or span.colour or span.mono:
        rpr = OxmlElement("w:rPr")
        if span.mono:
            fonts = OxmlElement("w:rFonts")
            for attr in ("w:ascii", "w:hAnsi", "w:cs"):
                fonts.set(qn(attr), "Consolas")
            rpr.append(fonts)
        if span.bold:
            rpr.append(OxmlElement("w:b"))
        if span.italic:
            rpr.append(OxmlElement("w:i"))
        if span.colour:
            colour = OxmlElement("w:color")
            colour.set(qn("w:val"), span.colour)
            rpr.append(colour)
        if span.size:
            size = OxmlElement("w:sz")
            size.set(qn("w:val"), str(int(span.size * 2)))
            rpr.append(size)
        r.append(rpr)
    for index, line in enumerate(clean(span.text).replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if index:
            r.append(OxmlElement("w:br"))
        for part_index, part in enumerate(line.split("\t")):
            if part_index:
                r.append(OxmlElement("w:tab"))
            if part:
                t = OxmlElement("w:t")
                t.set(qn("xml:space"), "preserve")
                t.text = part
                r.append(t)
    return r


def _field_runs(instruction: str, shown: str) -> list[Any]:
    """A complex field of the app's own (``instruction`` is never user text) with ``shown`` as its result."""
    runs = []
    for kind in ("begin", None, "separate", "result", "end"):
        r = OxmlElement("w:r")
        if kind is None:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {instruction} "
            r.append(instr)
        elif kind == "result":
            t = OxmlElement("w:t")
            t.set(qn("xml:space"), "preserve")
            t.text = shown
            r.append(t)
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            if kind == "begin":
                char.set(qn("w:dirty"), "true")
            r.append(char)
        runs.append(r)
    return runs


def _spans(value: object) -> list[Span]:
    """A table cell's content: a string, a Span or a list of Spans."""
    if isinstance(value, Span):
        return [value]
    if isinstance(value, list):
        return [v if isinstance(v, Span) else Span(str(v)) for v in value]
    return [Span(str(value))]


def _on(parent: Any, tag: str, **attrs: str) -> Any:
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)
    parent.append(element)
    return element


#: The order of a ``w:settings`` element's children that may follow ``w:updateFields``.
_AFTER_UPDATE_FIELDS = (
    "w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat", "w:docVars", "w:rsids", "m:mathPr",
    "w:attachedSchema", "w:themeFontLang", "w:clrSchemeMapping", "w:doNotIncludeSubdocsInStats",
    "w:doNotAutoCompressPictures", "w:forceUpgrade", "w:captions", "w:readModeInkLockDown", "w:smartTagType",
    "sl:schemaLibrary", "w:shapeDefaults", "w:doNotEmbedSmartTags", "w:decimalSymbol", "w:listSeparator",
)  # fmt: skip


def set_update_fields(document: Any) -> None:
    """``w:updateFields`` in settings.xml: Word refreshes the contents (and page numbers) when it opens the file."""
    settings = document.settings.element
    for old in settings.findall(qn("w:updateFields")):
        settings.remove(old)
    element = OxmlElement("w:updateFields")
    element.set(qn("w:val"), "true")
    later = {qn(tag) for tag in _AFTER_UPDATE_FIELDS if tag.startswith("w:")}
    for child in settings:
        if child.tag in later or str(child.tag).endswith(("}mathPr", "}schemaLibrary")):
            child.addprevious(element)
            return
    settings.append(element)


def set_language(document: Any) -> None:
    """The document's language in the style defaults (``w:lang``), unless the template already sets one."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    if not lang.get(qn("w:val")):
        lang.set(qn("w:val"), LANGUAGE)


def set_paper(document: Any, paper: str) -> None:
    """Every section on the engagement's paper (A4 or Letter), in its own orientation."""
    width, height = PAPER.get(paper, PAPER["A4"])
    for section in document.sections:
        landscape = section.orientation == WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = (height, width) if landscape else (width, height)


# -- the report ----------------------------------------------------------------------------------------


class WordReport:
    """Appends the report's content to the end of ``document``'s body; ``render`` moves it into place."""

    def __init__(self, snapshot: Snapshot, document: Any, fonts_dir: Path, *, draft: bool) -> None:
        self.s = snapshot
        self.doc = document
        self.fonts_dir = fonts_dir
        self.draft = draft
        self.styles = {style.name for style in document.styles}
        self.finding_numbers = snapshot.finding_numbers()
        self.evidence_numbers = snapshot.evidence_numbers()
        self.action_numbers = action_numbers(snapshot.actions)
        self.link_refs = self._link_refs()
        #: The body's own section properties, its last child: everything the report adds goes before it.
        self._end = document.element.body.find(qn("w:sectPr"))
        section = document.sections[-1]
        self.width = Emu((section.page_width or Mm(210)) - (section.left_margin or 0) - (section.right_margin or 0))
        self.height = Emu((section.page_height or Mm(297)) - (section.top_margin or 0) - (section.bottom_margin or 0))

    @property
    def wording(self) -> str:
        return self.s.meta.wording

    @property
    def vendor_neutral(self) -> bool:
        return self.s.meta.vendor_neutral

    # -- building blocks --------------------------------------------------------------------------

    def _append(self, element: Any) -> None:
        """``element`` at the end of the body, before its section properties.

        ``document.add_paragraph`` looks for those among all the body's children at every call, which
        made a report of 4,000 findings spend most of its time searching (quadratic in its length).
        """
        if self._end is not None:
            self._end.addprevious(element)
        else:
            self.doc.element.body.append(element)

    def _paragraph(self, style: str | None) -> Any:
        """A new paragraph at the end of the body, as ``document.add_paragraph(style=style)`` makes it."""
        p = OxmlElement("w:p")
        self._append(p)
        paragraph = Paragraph(p, self.doc._body)
        if style is not None:
            paragraph.style = style
        return paragraph

    def heading(self, text: str, level: int) -> Any:
        paragraph = self._paragraph(f"Heading {level}")
        paragraph._p.append(_run(Span(text)))
        paragraph.paragraph_format.keep_with_next = True
        if level == 1:
            paragraph.paragraph_format.page_break_before = True
        return paragraph

    def para(self, *spans: Span | str, style: str | None = None, keep: bool = False) -> Any:
        paragraph = self._paragraph(style if style in self.styles else None)
        for span in spans:
            paragraph._p.append(_run(Span(span) if isinstance(span, str) else span))
        if keep:
            paragraph.paragraph_format.keep_with_next = True
        return paragraph

    def note(self, text: str, keep: bool = False) -> Any:
        return self.para(Span(text, italic=True, colour="5B6573", size=9), keep=keep)

    def label(self, text: str) -> Any:
        """A small label over what follows (kept with it)."""
        return self.para(Span(text.upper(), bold=True, colour="5B6573", size=8), keep=True)

    def bullet(self, *spans: Span | str) -> Any:
        if "List Bullet" in self.styles:
            return self.para(*spans, style="List Bullet")
        return self.para("• ", *spans)

    def user_blocks(self, text: str) -> None:
        """The consultant's text: paragraphs and bulleted lists (``core.register.blocks``), as text only."""
        for kind, items in blocks(text):
            if kind == "ul":
                for item in items:
                    self.bullet(item)
            else:
                self.para(items[0])

    def table(
        self,
        header: Sequence[str],
        rows: Iterable[Sequence[object]],
        widths: Sequence[float],
        *,
        size: float = 8.5,
        first_bold: bool = False,
        keep: bool = False,
    ) -> Any:
        """A real table: its first row a marked, repeating header row; ``widths`` in shares of the text width."""
        total = sum(widths)
        twips = [int(self.width.twips * w / total) for w in widths]
        tbl = OxmlElement("w:tbl")
        tpr = _on(tbl, "w:tblPr")
        if "Table Grid" in self.styles:
            _on(tpr, "w:tblStyle", val=self.doc.styles["Table Grid"].style_id)
        _on(tpr, "w:tblW", w=str(sum(twips)), type="dxa")
        _on(tpr, "w:tblLayout", type="fixed")
        _on(tpr, "w:tblLook", val="04A0", firstRow="1", lastRow="0", firstColumn="0", lastColumn="0",
            noHBand="0", noVBand="1")  # fmt: skip
        grid = _on(tbl, "w:tblGrid")
        for width in twips:
            _on(grid, "w:gridCol", w=str(width))
        self._row(tbl, [Span(h, bold=True) for h in header], twips, size, header=True)
        for values in rows:
            cells = [_spans(v) for v in values]
            if first_bold and cells and cells[0]:
                cells[0] = [Span(s.text, True, s.italic, s.size, s.colour, s.mono) for s in cells[0]]
            self._row(tbl, cells, twips, size, header=False, keep=keep)
        self._append(tbl)
        spacer = self.para(keep=keep)  # Word needs a paragraph between two tables
        spacer.paragraph_format.space_after = Pt(2)
        return tbl

    @staticmethod
    def _row(
        tbl: Any, cells: Sequence[Span | list[Span]], twips: list[int], size: float, *, header: bool, keep: bool = False
    ) -> None:
        tr = _on(tbl, "w:tr")
        trpr = _on(tr, "w:trPr")
        if header:
            _on(trpr, "w:tblHeader", val="true")
        for width, content in zip(twips, cells, strict=True):
            tc = _on(tr, "w:tc")
            tcpr = _on(tc, "w:tcPr")
            _on(tcpr, "w:tcW", w=str(width), type="dxa")
            if header:
                _on(tcpr, "w:shd", val="clear", color="auto", fill=HEAD_FILL)
            p = _on(tc, "w:p")
            ppr = _on(p, "w:pPr")
            spacing = _on(ppr, "w:spacing", before="0", after="0")
            del spacing
            if header or keep:
                _on(ppr, "w:keepNext")  # a header row (and a short table kept whole) stays with what follows
            spans = [content] if isinstance(content, Span) else content
            for span in spans:
                span = Span(span.text, span.bold or header, span.italic, span.size or size, span.colour, span.mono)
                p.append(_run(span))

    def picture(self, png: bytes, alt: str, width_share: float = 1.0) -> None:
        """A chart as a picture with alt text, never taller than about two thirds of the page's text."""
        with Image.open(io.BytesIO(png)) as image:
            ratio = image.height / image.width
        width = int(self.width * width_share)
        width = min(width, int(self.height * 0.68 / ratio))
        shape = self.doc.add_picture(io.BytesIO(png), width=width)
        doc_pr = shape._inline.docPr
        doc_pr.set("descr", alt)
        doc_pr.set("title", alt.split(":")[0])

    def hyperlink(self, paragraph: Any, url: str, text: str) -> None:
        """A real hyperlink to ``url`` (app data: the guidance references and the model's page)."""
        if not _URL.match(url):
            paragraph._p.append(_run(Span(text)))
            return
        r_id = self.doc.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
        link = OxmlElement("w:hyperlink")
        link.set(qn("r:id"), r_id)
        run = _run(Span(text, colour=None if "Hyperlink" in self.styles else "0563C1"))
        rpr = run.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            run.insert(0, rpr)
        if "Hyperlink" in self.styles:
            style = OxmlElement("w:rStyle")
            style.set(qn("w:val"), self.doc.styles["Hyperlink"].style_id)
            rpr.insert(0, style)
        else:
            _on(rpr, "w:u", val="single")
        link.append(run)
        paragraph._p.append(link)

    def facts(self, facts: list[tuple[str, str]]) -> None:
        """A row of labelled figures: labels over values (the PDF's fact rows)."""
        self.table([label for label, _ in facts], [[value for _, value in facts]], [1] * len(facts), size=9, keep=True)

    # -- contents -------------------------------------------------------------------------------

    def contents(self) -> None:
        style = "TOC Heading" if "TOC Heading" in self.styles else None
        title = self.para(Span("Contents", bold=style is None, size=None if style else 16), style=style)
        title.paragraph_format.page_break_before = True
        title.paragraph_format.keep_with_next = True
        toc = self.para()
        for r in _field_runs(
            TOC_INSTRUCTION,
            "The contents are filled in when Word opens this document (answer Yes when it asks to update "
            "fields); in LibreOffice Writer choose Tools → Update → Update All.",
        ):
            toc._p.append(r)

    # -- document control -----------------------------------------------------------------------

    def document_control(self) -> None:
        c = self.s.control
        if c.empty:
            return
        self.heading("Document control", 1)
        facts = []
        if c.consultancy:
            facts.append(("Consultancy", c.consultancy))
        if c.report_version:
            facts.append(("Report version", c.report_version))
        facts.append(("Client", self.s.meta.client))
        if self.s.meta.marking.strip():
            facts.append(("Marking", self.s.meta.marking))
        self.table(["Item", "Value"], [[k, v] for k, v in facts], [1, 3], first_bold=True)
        if c.history:
            self.heading("Version history", 2)
            self.table(
                ["Version", "Date", "Author", "Change"],
                [[v.version, _date(v.date), v.author, v.change] for v in c.history],
                [1, 1.4, 1.6, 4],
            )
        if c.distribution:
            self.heading("Distribution", 2)
            self.table(
                ["Name", "Organisation", "Role"],
                [[r.name, r.organisation or "—", r.role or "—"] for r in c.distribution],
                [1, 1, 1],
            )
        if c.reviewer or c.approver:
            self.heading("Review and sign-off", 2)
            rows = []
            if c.reviewer:
                rows.append(["Reviewed by", c.reviewer, _date(c.reviewed_on) or "—", ""])
            if c.approver:
                rows.append(["Approved by", c.approver, _date(c.approved_on) or "—", ""])
            self.table(["Role", "Name", "Date", "Signature"], rows, [1.2, 2, 1.4, 2], first_bold=True)

    # -- overview and executive summary -----------------------------------------------------------

    def overview(self) -> None:
        self.heading("Overview", 1)
        messages = self.s.sections.key_messages
        if messages.strip():
            self.heading("Key messages", 2)
            self.user_blocks(messages)
        if self.s.assessed:
            self.heading("Headline figures", 2)
            self.headline_tiles()
        if self.s.actions:
            self.heading("Top priorities", 2)
            shown = top_priorities(self.s.actions)
            self.table(
                ["No.", "Action", "Function", "Phase"],
                [
                    [self.action_numbers[a.id], a.text, f"{a.function_code} {a.function_name}", a.phase_label]
                    for a in shown
                ],
                [0.8, 4, 2.4, 1.6],
            )
            if len(self.s.actions) > len(shown):
                self.note(f"{_plural(len(self.s.actions) - len(shown), 'more action')} in the roadmap.")

    def headline_tiles(self) -> None:
        overall = figures.rollup_figures(self.s.overall)
        findings = self.s.findings
        counts = figures.findings_by_severity(f.severity for f in findings)
        finding_words = " · ".join(f"{n} {sev}" for sev, n in counts.items() if n) or "none recorded"
        tiles = [
            ("OVERALL MATURITY", overall.score_text(), f"{_stage_text(overall.level)} · mean stage, 0–3"),
            ("MEAN TARGET", overall.target_text(), "of the assessed functions with a target"),
            ("BELOW TARGET", f"{overall.below_target}", f"of {_plural(overall.scored, 'scored function')}"),
            ("ASSESSED", f"{overall.assessed}", f"of {_plural(overall.functions, 'function')} in scope"),
            ("FINDINGS", f"{len(findings)}", finding_words),
        ]
        self.table(
            [label for label, _, _ in tiles],
            [
                [Span(value, bold=True, size=16, colour="1F3864") for _, value, _ in tiles],
                [Span(note, size=7.5, colour="5B6573") for _, _, note in tiles],
            ],
            [1.35, 1, 1.1, 1, 1.1],
            size=7.5,
        )

    def executive_summary(self) -> None:
        s, overall = self.s, self.s.overall
        self.heading("Executive summary", 1)
        if s.sections.executive_summary.strip():
            self.user_blocks(s.sections.executive_summary)
        period = " to ".join(_date(d) for d in (s.meta.start_date, s.meta.end_date) if d)
        self.para(
            "This report gives the Zero Trust maturity of ",
            Span(s.meta.client, bold=True),
            f" as assessed against the {s.catalog.title} v{s.catalog.version}"
            + (f", from {period}" if period else "")
            + f". The scope covers {_plural(len(s.pillars), 'pillar')} and {_plural(overall.functions, 'function')}.",
        )
        if not s.assessed:
            self.para(
                Span("Nothing has been assessed yet. ", bold=True),
                f"None of the {_plural(overall.functions, 'function')} in scope has a rating or an override, so this "
                "report shows no maturity figures, charts or gaps. The stage texts of every function follow, ready "
                "for the assessment.",
            )
            return
        self.para(*self.summary_sentence())
        self.heading("Maturity per pillar", 2)
        self.picture(charts.pillar_chart(s, self.fonts_dir), charts.alt_pillar_chart(s), 0.9)
        self.pillar_table()
        self.largest_gaps()
        self.most_severe_findings()

    def summary_sentence(self) -> list[Span | str]:
        said = words.summary(self.s.overall, [(p.pillar, p.rollup) for p in self.s.pillars])
        parts: list[Span | str] = [said.before, Span(said.stage, bold=True), said.after]
        parts += [" " + sentence for sentence in (said.pillars, said.unassessed) if sentence]
        return parts

    def pillar_table(self) -> None:
        lines: list[tuple[str, Rollup]] = [
            (f"{p.pillar.code}  {charts.short_pillar(p)}", p.rollup) for p in self.s.pillars
        ]
        lines.append(("Overall", self.s.overall))
        rows = []
        for name, roll in lines:
            r = figures.rollup_figures(roll)
            rows.append(
                [
                    Span(name, bold=name == "Overall"),
                    f"{r.assessed} of {r.functions}",
                    "not assessed" if r.score is None else f"{r.score_text()} {_stage_text(r.level)}",
                    r.target_text(),
                    _stage_text(r.lowest),
                    f"{r.below_target} of {r.scored}",
                ]
            )
        self.table(
            ["Pillar", "Assessed", "Current", "Target", "Lowest", "Below target"], rows, [3, 1.2, 1.8, 1, 1.4, 1.6]
        )

    def largest_gaps(self) -> None:
        gaps = self.s.largest_gaps()
        self.heading("The largest gaps", 2)
        if not gaps:
            self.para("No assessed function is below its target.")
            return
        shown = gaps[:TOP_GAPS]
        rows = []
        for f in shown:
            r = f.result
            rows.append(
                [
                    f.function.label,
                    r.current.label + (" (override)" if r.overridden else ""),
                    _stage_text(r.target),
                    Span(str(r.gap), bold=True),
                    _label(f.assessment.priority),
                    f.assessment.owner or "—",
                ]
            )
        self.table(["Function", "Current", "Target", "Gap", "Priority", "Owner"], rows, [3.4, 1.6, 1.2, 0.7, 1, 2.1])
        if len(gaps) > len(shown):
            self.note(f"{_plural(len(gaps) - len(shown), 'more function')} below target: see the roadmap.")

    def most_severe_findings(self) -> None:
        self.heading("The most severe findings", 2)
        if not self.s.findings:
            self.para("No findings were recorded.")
            return
        rows = []
        for f in self.s.findings[:TOP_FINDINGS]:
            rows.append(
                [
                    self.finding_numbers[f.id],
                    f.severity.upper(),
                    Span(f.title, bold=True),
                    f"{f.function_code} {f.function_name}" + (f" · {f.stage.label}" if f.stage else ""),
                ]
            )
        self.table(["No.", "Severity", "Finding", "Function"], rows, [0.7, 1.3, 5, 3])

    # -- scope and approach ---------------------------------------------------------------------

    def scope_and_approach(self) -> None:
        filled = [(key, title, text) for key, title, text in self.s.sections.filled()
                  if key in ("scope", "approach", "limitations")]  # fmt: skip
        if not filled:
            return
        self.heading("Scope and approach", 1)
        for _, title, text in filled:
            self.heading(title, 2)
            self.user_blocks(text)

    # -- progress since the baseline ---------------------------------------------------------------

    def progress_since_baseline(self) -> None:
        comparison, baseline = self.s.progress, self.s.baseline
        if comparison is None or baseline is None:
            return
        day = _date(baseline.created_at)
        self.heading(f"Progress since {baseline.name} ({day})", 1)
        self.para(
            "This section compares the assessment now with the baseline ",
            Span(baseline.name, bold=True),
            f", frozen on {day} by ",
            baseline.created_by,
            ". A function improved or regressed when its current stage is higher or lower now; it changed when its "
            "stage, override, target, a rating or a comment differs, and is unchanged when nothing does.",
        )
        overall = figures.rollup_change(comparison.overall)
        counts = figures.movement_counts(comparison)
        tiles = [
            ("OVERALL THEN", overall.then.score_text(), _stage_text(overall.then.level) + " · mean stage, 0–3"),
            ("OVERALL NOW", overall.now.score_text(), _stage_text(overall.now.level) + " · mean stage, 0–3"),
            ("IMPROVED", str(counts.improved), "current stage higher"),
            ("REGRESSED", str(counts.regressed), "current stage lower"),
            ("UNCHANGED", str(counts.unchanged), f"of {_plural(counts.functions, 'function')} in scope"),
        ]
        self.table(
            [label for label, _, _ in tiles],
            [
                [Span(value, bold=True, size=16, colour="1F3864") for _, value, _ in tiles],
                [Span(note, size=7.5, colour="5B6573") for _, _, note in tiles],
            ],
            [1.35, 1, 1.1, 1, 1.1],
            size=7.5,
        )
        self.para(
            f"{_plural(counts.changed, 'function')} changed: ",
            Span(f"{counts.improved} improved", bold=True),
            ", ",
            Span(f"{counts.regressed} regressed", bold=True),
            (f", {counts.same_stage} at the same stage" if counts.same_stage else "")
            + (f", {counts.not_comparable} not comparable" if counts.not_comparable else "")
            + f"; {counts.unchanged} unchanged."
            + f" Overall mean stage {overall.then.score_level_text} → ",
            Span(overall.now.score_level_text, bold=True),
            ".",
        )
        self.heading("Maturity per pillar, then and now", 2)
        codes = {p.pillar.id: p for p in self.s.pillars}
        rows = []
        for p in [*comparison.pillars, comparison.overall]:
            bold = p is comparison.overall
            name = (
                "Overall"
                if bold
                else (f"{codes[p.key].pillar.code}  {charts.short_pillar(codes[p.key])}" if p.key in codes else p.name)
            )
            r = figures.rollup_change(p)
            assessed = (
                f"{r.now.assessed} of {r.now.functions}"
                if r.then.assessed == r.now.assessed
                else f"{r.then.assessed} → {r.now.assessed} of {r.now.functions}"
            )
            rows.append(
                [Span(name, bold=bold), r.then.score_level_text, Span(r.now.score_level_text, bold=True),
                 Span(r.delta_text, bold=True), assessed]
            )  # fmt: skip
        self.table(["Pillar", "Then", "Now", "Change", "Assessed"], rows, [3.2, 2, 2, 1, 1.8])
        self.heading("Functions that changed", 2)
        if comparison.changed:
            self.table(
                ["Code", "Function", "Then → now", "Target", "What changed"],
                [self._changed_row(f) for f in comparison.changed],
                [0.8, 3, 2.5, 1.6, 2.2],
            )
        else:
            self.para("No function has changed since the baseline.")
        if counts.unchanged:
            self.note(
                f"{_plural(counts.unchanged, 'other function')} in scope did not change and "
                f"{'is' if counts.unchanged == 1 else 'are'} not listed."
            )

    @staticmethod
    def _changed_row(f: FunctionProgress) -> list[str | Span | list[Span]]:
        then_target = f.then.target if f.then is not None else None
        now_target = f.now.target
        target = (
            f"{_stage_text(then_target)} → {_stage_text(now_target)}"
            if then_target != now_target
            else _stage_text(now_target)
        )
        if f.movement.value == "improved":
            mark = f"▲ {f.steps}"
        elif f.movement.value == "regressed":
            mark = f"▼ {-(f.steps or 0)}"
        else:
            mark = figures.movement_word(f).lower()
        return [
            f.function.code,
            f.function.name,
            [Span(f"{state_text(f.then)} → "), Span(state_text(f.now), bold=True), Span(f"\n{mark}", size=7.5)],
            target,
            change_text(f.changes),
        ]

    # -- workshops ------------------------------------------------------------------------------

    def workshops(self) -> None:
        lines = self.s.workshops
        if not lines:
            return
        self.heading("Workshops", 1)
        held = sum(1 for w in lines if w.held)
        counts = [f"{held} held"] if held else []
        for status in ("running", "planned"):
            count = sum(1 for w in lines if w.status == status)
            if count:
                counts.append(f"{count} {status}")
        self.note(f"{_plural(len(lines), 'workshop')}, oldest first: {', '.join(counts)}.")
        for line in lines:
            self._workshop(line)

    def _workshop(self, w: WorkshopLine) -> None:
        head = f"{_date(w.date)} · {w.title}" + ("" if w.held else f" ({w.status_text})")
        self.heading(head, 2)
        if w.pillars:
            self.para(Span("Pillars ", bold=True), ", ".join(w.pillars))
        if w.functions:
            self.para(Span("Functions ", bold=True), "; ".join(w.functions))
        if not w.pillars and not w.functions:
            self.note("No pillar or function recorded.")
        if w.attendees:
            self.label(f"Attendees ({len(w.attendees)})")
            self.table(
                ["Name", "Role", "Organisation"],
                [[name, role or "—", organisation or "—"] for name, role, organisation in w.attendees],
                [1, 1, 1],
                first_bold=True,
            )
        else:
            self.para("No attendees recorded.")
        if w.notes.strip():
            self.label("Notes")
            self.user_blocks(w.notes)

    # -- maturity at a glance -----------------------------------------------------------------

    def glance(self) -> None:
        if not self.s.assessed:
            return
        self.heading("Maturity at a glance", 1)
        self.note(
            "Each bar runs up to the function's current stage; the red tick marks its target. "
            "An orange bar marks a current stage the assessor set by override."
        )
        self.picture(charts.function_chart(self.s, self.fonts_dir), charts.alt_function_chart(self.s))
        self.heading("Current against target per function", 2)
        rows = []
        for fs in self.s.functions():
            r = fs.result
            current = (
                "not assessed"
                if not r.assessed
                else (
                    "not applicable" if not r.applicable else r.current.label + (" (override)" if r.overridden else "")
                )
            )
            rows.append([fs.function.code, fs.function.name, current, _stage_text(r.target), self._gap(fs)])
        self.table(["Code", "Function", "Current", "Target", "Gap"], rows, [0.8, 4.2, 2, 1.3, 1.3])
        self.heading("Functions per stage", 2)
        lines: list[tuple[str, Rollup]] = [
            (f"{p.pillar.code}  {charts.short_pillar(p)}", p.rollup) for p in self.s.pillars
        ]
        lines.append(("Overall", self.s.overall))
        self.table(
            ["Pillar", *(s.label for s in Stage), "N/A", "Not assessed"],
            [
                [Span(name, bold=name == "Overall"), *(str(r.distribution.get(s, 0)) for s in Stage),
                 str(r.not_applicable), str(r.functions - r.assessed)]
                for name, r in lines
            ],
            [2.6, 1.3, 1, 1.2, 1.1, 0.7, 1.2],
        )  # fmt: skip

    @staticmethod
    def _gap(fs: FunctionSheet) -> str:
        gap = fs.result.gap
        return "–" if gap is None else (str(gap) if gap else "0 (at target)")

    # -- pillars and functions ------------------------------------------------------------------

    def pillar_sections(self, progress: Progress, cancel: CancelToken | None) -> None:
        total = len(self.s.pillars)
        for index, sheet in enumerate(self.s.pillars):
            if cancel is not None:
                cancel.check()
            progress(index, total, f"Writing {sheet.pillar.name}")
            self._pillar(sheet)

    def _pillar(self, sheet: PillarSheet) -> None:
        self.heading(f"{sheet.pillar.code}  {sheet.pillar.name}", 1)
        r = figures.rollup_figures(sheet.rollup)
        self.facts(
            [
                ("CURRENT", "not assessed" if r.score is None else f"{r.score_text()} · {_stage_text(r.level)}"),
                ("TARGET", r.target_text()),
                ("ASSESSED", f"{r.assessed} of {r.functions}"),
                ("BELOW TARGET", str(r.below_target)),
                ("LOWEST", _stage_text(r.lowest)),
            ]
        )
        if sheet.pillar.description.strip():
            self.note(apply_wording(sheet.pillar.description, self.wording))
        untouched = []
        for fs in sheet.functions:
            if fs.result.assessed or fs.assessment.notes.strip() or fs.findings or fs.evidence or fs.answers:
                self._function(fs)
            else:
                untouched.append(fs)
        if untouched:
            self.heading("Functions not assessed yet", 2)
            self.para(
                f"{_plural(len(untouched), 'function')} of this pillar {'has' if len(untouched) == 1 else 'have'} "
                "no rating, override, notes, findings or evidence yet: "
                + "; ".join(fs.function.label for fs in untouched)
                + "."
            )

    def _function(self, fs: FunctionSheet) -> None:
        f, a, r = fs.function, fs.assessment, fs.result
        self.heading(f.label, 2)
        if not r.assessed:
            current = "not assessed"
        elif not r.applicable:
            current = "not applicable"
        else:
            current = r.current.label + (" (override)" if r.overridden else "")
        self.facts(
            [
                ("CURRENT", current),
                ("TARGET", _stage_text(r.target)),
                ("GAP", self._gap(fs)),
                ("CONFIDENCE", _label(a.confidence)),
                ("PRIORITY", _label(a.priority)),
                ("STATUS", _assessment_status(a)),
            ]
        )
        if a.owner.strip():
            self.para(Span("Owner ", bold=True), a.owner)
        against = override_contradictions(a)  # an override above a stage rated Not met is marked, as in the window
        if r.overridden:
            self.para(
                Span("Override. ", bold=True),
                f"The assessor set the current stage to {r.current.label}; the ratings alone give {r.derived.label}. ",
                Span("Reason: ", bold=True),
                r.override_reason,
                *((" ", Span("Note: ", bold=True), rated_not_met(against)) if against else ()),
            )
        self._stage_table(fs)
        if a.notes.strip():
            self.heading("Notes", 3)
            self.user_blocks(a.notes)
        if fs.findings:
            self.heading("Findings", 3)
            for finding in fs.findings:
                self._finding(finding)
        if fs.evidence:
            self.heading("Evidence", 3)
            self._evidence_refs(fs.evidence)

    def _stage_table(self, fs: FunctionSheet) -> None:
        r = fs.result
        answers: dict[Stage, list[Any]] = {}
        for answer in fs.answers:
            answers.setdefault(answer.stage, []).append(answer)
        header = ["Stage", "Stage description (CISA)", "Rating", "Assessor's comment"]
        widths = [1.6, 3.8, 1.3, 3.5]
        if answers:
            header.append("Client's answers")
            widths = [1.6, 3.0, 1.3, 2.4, 2.3]
        rows = []
        for line in fs.stages:
            marks = []
            if r.assessed and r.applicable and line.stage is r.current:
                marks.append("CURRENT")
            if r.overridden and line.stage is r.derived and r.derived is not r.current:
                marks.append("DERIVED")
            if r.target is line.stage:
                marks.append("TARGET")
            stage: list[Span] = [Span(line.stage.label, bold=True)]
            if marks:
                stage.append(Span("\n" + " · ".join(marks), bold=True, size=6.5, colour="2E75B6"))
            rating = (
                Span("floor, not rated", italic=True, colour="8A94A3")
                if line.stage is Stage.TRADITIONAL
                else Span(line.rating.label, bold=True)
            )
            row: list[str | Span | list[Span]] = [
                stage,
                Span(line.text, size=7.5),
                rating,
                line.comment if line.comment.strip() else "—",
            ]
            if answers:
                cell: list[Span] = []
                for answer in answers.get(line.stage, []):
                    if cell:
                        cell.append(Span("\n"))
                    if answer.agrees is False:
                        cell.append(Span("≠ Differs: ", bold=True, colour="C00000"))
                    who = answer.respondent + (f" ({answer.role})" if answer.role else "")
                    cell.append(Span(f"{answer.answer}", bold=True))
                    cell.append(Span(f" — {who}" + (f": {answer.comment}" if answer.comment.strip() else "")))
                row.append(cell or "—")
            rows.append(row)
        self.table(header, rows, widths)

    def _finding(self, finding: FindingLine) -> None:
        number = self.finding_numbers.get(finding.id, "")
        self.para(
            Span(f"{number} · {finding.severity.upper()} · ", bold=True),
            Span(finding.title, bold=True),
            Span(f" ({finding.stage.label})" if finding.stage is not None else "", colour="5B6573"),
            keep=True,
        )
        for label, value in (
            ("Observation", finding.observation),
            ("Risk", finding.risk),
            ("Recommendation", finding.recommendation),
        ):
            if value.strip():
                self.para(Span(f"{label}. ", bold=True), value)
        details = self._register_details(finding)
        if details:
            self.para(Span(" · ".join(details), size=8, colour="5B6573"))
        comments = self.s.review_comments.get(finding.id, ())
        if comments:  # internal review notes, only when the report was asked to print them
            self.para(Span("Review comments", bold=True))
            for comment in comments:
                self.para(Span(f"{comment.by} · {comment.date} UTC: ", size=8, colour="5B6573"), comment.text)

    @staticmethod
    def _register_details(finding: FindingLine) -> list[str]:
        details = [f"Status {FINDING_STATUS_LABELS.get(finding.status, _label(finding.status))}"]
        if finding.owner:
            details.append(f"owner {finding.owner}")
        if finding.due_date:
            details.append(f"due {_date(finding.due_date)}")
        if finding.risk_rating:
            details.append(f"risk {finding.risk_rating} ({finding.risk_score})")
        return details

    def _evidence_refs(self, items: tuple[EvidenceLine, ...]) -> None:
        if len(items) <= EVIDENCE_BY_TITLE:
            spans: list[Span | str] = []
            for e in items:
                if spans:
                    spans.append("; ")
                spans += [Span(self.evidence_numbers.get(e.id, ""), bold=True), " ", e.title]
            self.para(*spans)
            return
        numbers = ", ".join(self.evidence_numbers.get(e.id, "") for e in items)
        self.para(f"{_plural(len(items), 'file')}, listed in the evidence index: {numbers}.")

    # -- findings register ------------------------------------------------------------------------

    def findings_register(self) -> None:
        self.heading("Findings", 1)
        if not self.s.findings:
            self.para("No findings were recorded for the functions in scope.")
            return
        self.note(
            f"{_plural(len(self.s.findings), 'finding')}, most severe first. Each is described in full under its "
            "function."
        )
        rows = []
        for f in self.s.findings:
            risk = f"{f.risk_rating} {f.risk_score}\n({f.likelihood} × {f.impact})" if f.risk_rating else "—"
            rows.append(
                [
                    self.finding_numbers[f.id],
                    _label(f.severity),
                    Span(f.title, bold=True),
                    f"{f.function_code} {f.function_name}" + (f" · {f.stage.label}" if f.stage else ""),
                    f.owner or "—",
                    _short_date(f.due_date) or "—",
                    FINDING_STATUS_LABELS.get(f.status, _label(f.status)),
                    risk,
                ]
            )
        self.table(
            ["No.", "Severity", "Finding", "Function", "Owner", "Due", "Status", "Risk (L × I)"],
            rows,
            [0.8, 1.3, 3.1, 2.3, 1.5, 1.3, 1.5, 1.5],
            size=7.5,
        )
        self.heading("Risk grid", 2)
        self.note(
            "Likelihood (rows) against impact (columns); each cell lists the findings rated there. "
            "Risk score = likelihood × impact: Low 1–4, Medium 5–9, High 10–16, Critical 17–25."
        )
        grid: dict[tuple[int, int], list[str]] = {}
        unrated = []
        for f in self.s.findings:
            if f.likelihood is None or f.impact is None:
                unrated.append(self.finding_numbers[f.id])
            else:
                grid.setdefault((f.likelihood, f.impact), []).append(self.finding_numbers[f.id])
        rows_grid: list[list[str | Span | list[Span]]] = []
        for likelihood in range(5, 0, -1):
            row: list[str | Span | list[Span]] = [Span(f"{likelihood} {LIKELIHOOD_LABELS[likelihood]}", bold=True)]
            for impact in range(1, 6):
                score = likelihood * impact
                band = next(name for lowest, name in RISK_BANDS if score >= lowest)
                found = grid.get((likelihood, impact), [])
                row.append([Span(f"{band} {score}", size=6.5, colour="5B6573")]
                           + ([Span("\n" + ", ".join(found), bold=True)] if found else []))  # fmt: skip
            rows_grid.append(row)
        self.table(
            ["Likelihood \\ impact", *(f"{i} {IMPACT_LABELS[i]}" for i in range(1, 6))], rows_grid, [1.6, 1, 1, 1, 1, 1]
        )
        if unrated:
            self.note(f"Not rated for likelihood and impact: {', '.join(unrated)}.")

    # -- roadmap ------------------------------------------------------------------------------------

    def roadmap(self) -> None:
        self.heading("Roadmap", 1)
        actions = self.s.actions
        if actions:
            self.note(
                f"{_plural(len(actions), 'action')} by phase, then the function's priority and the larger gap first; "
                "numbered A-01… as in the workbook."
            )
            for phase in PHASES:
                in_phase = [a for a in actions if a.phase == phase]
                if not in_phase:
                    continue
                self.heading(PHASE_LABELS[phase], 2)
                self.table(
                    ["No.", "Action", "Function", "Effort", "Cost", "Owner", "After"],
                    [
                        [
                            self.action_numbers[a.id],
                            a.text,
                            f"{a.function_code} {a.function_name}" + (f" · {a.stage.label}" if a.stage else ""),
                            a.effort_label,
                            a.cost or "—",
                            a.owner or "—",
                            self.action_numbers.get(a.after or "", "—"),
                        ]
                        for a in in_phase
                    ],
                    [0.8, 3.6, 2.2, 0.9, 1, 1.3, 0.8],
                )
        elif self.vendor_neutral or not self.s.roadmap:
            self.para("No actions were recorded for the roadmap.")
        if not self.vendor_neutral:
            self.vendor_suggestions()

    def vendor_suggestions(self) -> None:
        self.heading("Vendor suggestions", 2)
        if not self.s.roadmap:
            self.para("No function in scope is below its target, so there is nothing on the roadmap.")
            return
        results = {f.function.id: f for f in self.s.functions()}
        self.note(
            f"{_plural(len(self.s.roadmap), 'function')} below target. For each, the stages to climb "
            "in CISA's words, and the guidance recommendations for each stage with their references.",
            keep=True,
        )
        current_pillar = ""
        for item in self.s.roadmap:
            fs = results.get(item.function.id)
            if item.function.pillar_id != current_pillar:
                current_pillar = item.function.pillar_id
                pillar = next((p.pillar for p in self.s.pillars if p.pillar.id == current_pillar), None)
                if pillar is not None:
                    self.heading(f"{pillar.code}  {pillar.name}", 3)
            state = f"{item.current.label} → {item.target.label} · gap {len(item.steps)}"
            if fs is not None and not fs.result.assessed:
                state = f"not assessed → {item.target.label}"
            self.para(Span(item.function.label, bold=True), Span(f"  {state}", colour="5B6573"), keep=True)
            extra: list[Span | str] = []
            if fs is not None and fs.assessment.priority:
                extra.append(f"priority {fs.assessment.priority}")
            if fs is not None and fs.assessment.owner.strip():
                extra += [" · " if extra else "", "owner ", fs.assessment.owner]
            if extra:
                self.para(*extra)
            for step in item.steps:
                stage_text = apply_wording(item.function.stages.get(step.stage, ""), self.wording)
                self.para(Span(f"To reach {step.stage.label}", bold=True), keep=True)
                self.para(Span(f"“{stage_text}”", italic=True), style="Quote")
                if not step.recommendations:
                    self.note("The guidance packs have no recommendation for this stage.")
                for rec in step.recommendations:
                    self.bullet(Span(rec.product, bold=True), f" — {rec.action}")
                    for ref in rec.references:
                        paragraph = self.para()
                        paragraph.paragraph_format.left_indent = Cm(1)
                        self.hyperlink(paragraph, ref.url, ref.title)

    # -- evidence index ---------------------------------------------------------------------------

    def evidence_index(self, cancel: CancelToken | None) -> None:
        self.heading("Evidence index", 1)
        if not self.s.evidence:
            self.para("No evidence is attached to this engagement.")
            return
        total = sum(e.size for e in self.s.evidence)
        self.note(
            f"{_plural(len(self.s.evidence), 'file')} ({_size(total)}) kept inside the engagement file, one a row, "
            "numbered as they are referred to under each function. The SHA-256 of each identifies its exact bytes: "
            "recompute it (for example with sha256sum) to show a copy is the one assessed. Linked to: a function "
            "and stage (2.4 Advanced), a function (1.3) or a finding by its number in the findings register (F-07)."
        )
        rows = []
        for index, e in enumerate(self.s.evidence):
            if cancel is not None and index % 500 == 0:
                cancel.check()
            number, title, name, size, sha256, links = self.index_strings(e)
            rows.append([number, title, name, size, Span(sha256, size=6, mono=True), links])
        self.table(["No.", "Title", "File", "Size", "SHA-256", "Linked to"], rows, [0.8, 2.2, 1.8, 0.9, 3.6, 1.6],
                   size=7)  # fmt: skip

    def _link_refs(self) -> dict[str, str]:
        """The evidence index's short reference for each readable link (as the PDF writes them)."""
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
            if len(numbers) == 1:
                refs[f"Finding: {title}"] = numbers[0]
        return refs

    def index_strings(self, e: EvidenceLine) -> list[str]:
        links = "; ".join(self.link_refs.get(link, link) for link in e.links)
        return [self.evidence_numbers[e.id], e.title, e.original_name, _size(e.size), e.sha256, links or "—"]

    # -- appendices -------------------------------------------------------------------------------

    def method(self) -> None:
        self.heading("Appendix A — Method", 1)
        self.para(
            f"Each function of the {self.s.catalog.title} v{self.s.catalog.version} is described at four stages: "
            "Traditional, Initial, Advanced and Optimal. The assessor rates the three stages above Traditional "
            "against CISA's description, with a comment for each."
        )
        self.heading("Ratings", 2)
        meanings = {
            Rating.MET: "The client meets the stage's description.",
            Rating.PARTIAL: "The client meets part of it; the stage is not reached.",
            Rating.NOT_MET: "The client does not meet it.",
            Rating.NOT_APPLICABLE: "The stage does not apply to the client; it neither blocks nor counts.",
            Rating.NOT_ASSESSED: "Not rated yet.",
        }
        self.table(["Rating", "Meaning"], [[r.label, m] for r, m in meanings.items()], [1, 4], first_bold=True)
        for title, body in METHOD_RULES:
            self.heading(title, 2)
            self.para(body)

    def sources(self) -> None:
        c = self.s.catalog
        self.heading("Appendix B — Sources and attribution", 1)
        self.heading(f"{c.title} v{c.version}", 2)
        paragraph = self.para(f"{c.publisher}, {c.title}, Version {c.version} ({c.published}), ")
        self.hyperlink(paragraph, CISA_URL, CISA_URL)
        paragraph._p.append(
            _run(
                Span(
                    ". The pillars, functions and stage texts quoted in this report are CISA's; the model is a work "
                    "of the United States Government and is in the public domain in the United States."
                )
            )
        )
        if self.wording != "cisa":
            self.para(
                "This engagement uses the Enterprise wording: in CISA's texts, “Agency” and “agencies” read "
                "“Enterprise” and “enterprises”. Nothing else is changed."
            )
        if not self.vendor_neutral:
            for pack in self.s.packs:
                self.heading(f"{pack.title} ({pack.publisher}, {pack.version})", 2)
                licence = (
                    "Creative Commons Attribution 4.0 International (CC BY 4.0)"
                    if pack.licence == "CC-BY-4.0"
                    else pack.licence
                )
                self.para(f"Licence: {licence}.")
                for block in pack.attribution.split("\n\n"):
                    lines = [ln.strip() for ln in block.strip().splitlines() if ln.strip()]
                    if not lines or lines[0].startswith("#"):
                        continue
                    if all(ln.startswith("- ") for ln in lines):
                        for ln in lines:
                            url = ln[2:].strip()
                            self.hyperlink(self.para(), url, url)
                    else:
                        self.para(Span(" ".join(lines), size=9))
        meta = self.s.meta
        self.heading("About this report", 2)
        self.para(
            Span(
                f"Generated {_date(meta.generated_at)} ({meta.generated_at}) by {meta.generated_with} from engagement "
                f"{meta.engagement_id}, assessed against catalog {c.id} {c.version}."
                + (" This is a draft." if self.draft else ""),
                size=9,
            )
        )

    def disclaimer(self) -> None:
        text = self.s.sections.disclaimer
        if not text.strip():
            return
        self.heading("Disclaimer", 1)
        self.user_blocks(text)

    # -- the whole ------------------------------------------------------------------------------

    def build(self, progress: Progress, cancel: CancelToken | None) -> None:
        self.contents()
        self.document_control()
        self.overview()
        self.executive_summary()
        self.scope_and_approach()
        self.progress_since_baseline()
        self.workshops()
        self.glance()
        self.pillar_sections(progress, cancel)
        if cancel is not None:
            cancel.check()
        self.findings_register()
        self.roadmap()
        self.evidence_index(cancel)
        self.method()
        self.sources()
        self.disclaimer()


#: The method appendix's rules (the PDF's words; the rules live in core/scoring.py, figures.py, register.py).
METHOD_RULES: tuple[tuple[str, str], ...] = (
    (
        "Current stage",
        "Walk Initial → Advanced → Optimal. A stage rated met is reached; a stage rated not applicable is skipped; "
        "the walk stops at the first stage partially met, not met or not assessed. The current stage is the last "
        "stage reached, or Traditional when none was. A function whose three rated stages are all not applicable is "
        "itself not applicable and is left out of the roll-ups.",
    ),
    (
        "Override",
        "The assessor may set the current stage by judgement, always with a reason. The report then shows the "
        "override as such, with the stage the ratings alone give and the reason.",
    ),
    (
        "Target and gap",
        "Each function may have a target stage. The gap is the number of stages to climb: the stages above the "
        "current stage up to and including the target, leaving out every stage rated not applicable; no target, no "
        "gap, and a function not assessed yet has none either. A function is below target when it is assessed, "
        "applicable and its gap is above zero; the roll-ups count exactly these functions and the roadmap lists "
        "exactly these, one step per stage to climb.",
    ),
    (
        "Roll-ups",
        "Pillar and overall figures are computed, never stored. Each assessed, applicable function weighs the same. "
        "The figure is the mean of the functions' current stages on a 0–3 scale (Traditional 0, Initial 1, Advanced "
        "2, Optimal 3), shown with one decimal rounded half up (1.25 shows as 1.3, 1.15 as 1.2; the workbook stores "
        "the rounded figure), with the stage it reaches (the shown mean rounded down), the lowest stage among them, "
        "and the number of functions at each stage. A function counts as assessed once any stage is rated or it is "
        "overridden; functions not yet assessed are counted but not scored. A change since a baseline is the "
        "difference of the two shown figures.",
    ),
    (
        "Findings",
        "Findings record an observation, its risk and a recommendation, with a severity of low, medium, high or "
        "critical; they are listed most severe first and numbered F-01… in that order, the same in every "
        "deliverable. A finding's likelihood and impact are each 1 (rare / minimal) to 5 (almost certain / severe); "
        "its risk score is likelihood × impact (1–25), and its rating is Low for 1–4, Medium for 5–9, High for "
        "10–16 and Critical for 17–25. A finding without both has no risk rating.",
    ),
    (
        "Roadmap",
        "The consultant's actions are ordered by phase (now, next, later), then by the function's priority, then "
        "the larger gap first, and numbered A-01… in that order.",
    ),
    (
        "Evidence",
        "Evidence files are stored inside the engagement file with the SHA-256 of their bytes, computed when "
        "attached; the index lists every file with the functions, stages and findings it supports.",
    ),
)


def _core_properties(document: Any, snapshot: Snapshot, draft: bool) -> None:
    meta = snapshot.meta
    props = document.core_properties
    props.title = clean(meta.title.strip() or "Zero Trust maturity assessment")
    props.subject = clean(meta.client)
    props.author = clean(meta.prepared_by)
    props.last_modified_by = clean(meta.prepared_by)
    props.keywords = "Zero Trust, CISA ZTMM, maturity assessment"
    props.category = f"{snapshot.catalog.title} v{snapshot.catalog.version} assessment"
    props.comments = f"Generated by {meta.generated_with}"
    props.content_status = "Draft" if draft else "Final"
    props.revision = 1
    try:
        when = dt.datetime.fromisoformat(meta.generated_at.replace("Z", "+00:00"))
        when = when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when
        props.created = when
        props.modified = when
    except ValueError:
        pass


def _marking_places(document: Any) -> set[str]:
    """Where the template itself puts ``{{marking}}``: ``header``, ``footer`` (read before it is filled in)."""
    from .template import paragraph_text, text_paragraphs

    return {where for where, p in text_paragraphs(document) if where != "body" and re.search(
        r"\{\{\s*marking\s*\}\}", paragraph_text(p))}  # fmt: skip


def _ensure_marking(document: Any, marking: str, have: set[str]) -> None:
    """The marking in the header and the footer where the template does not place ``{{marking}}`` itself."""
    if not marking:
        return
    section = document.sections[0]
    if "header" not in have:
        section.header.is_linked_to_previous = False
        section.header.add_paragraph()._p.append(_run(Span(marking, bold=True, colour="C00000", size=8)))
    if "footer" not in have:
        section.footer.is_linked_to_previous = False
        section.footer.add_paragraph()._p.append(_run(Span(marking, bold=True, colour="C00000", size=8)))


def render_word(
    snapshot: Snapshot,
    target: Path | IO[bytes],
    template: Template,
    *,
    fonts_dir: Path,
    draft: bool = False,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> None:
    """Write the Word report of ``snapshot`` to ``target``, on ``template`` (checked by ``load_template``)."""
    progress(0, 1, "Preparing the Word report")
    document = open_document(template.data, template.name)
    values = placeholder_values(snapshot, draft)
    marked = _marking_places(document)
    anchor = fill_placeholders(document, values)  # before any user text is in the document
    _ensure_marking(document, values["marking"], marked)
    if anchor is None:
        raise BadInput(f"{template.name} has no {{{{report_body}}}} paragraph (where the report goes)")
    body = document.element.body
    before = set(body)
    report = WordReport(snapshot, document, fonts_dir, draft=draft)
    report.build(progress, cancel)
    for element in [e for e in body if e not in before]:
        anchor._p.addprevious(element)
    anchor._p.getparent().remove(anchor._p)
    set_update_fields(document)
    set_language(document)
    set_paper(document, snapshot.meta.paper)
    _core_properties(document, snapshot, draft)
    if cancel is not None:
        cancel.check()
    progress(1, 1, "Saving the Word report")
    document.save(str(target) if isinstance(target, Path) else target)
