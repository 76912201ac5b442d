"""Make the default Word template, resources/word/report-template.docx, from python-docx's own default.

    .venv/bin/python tools/make_word_template.py [OUT.docx]

A consultancy copies the result and makes it its own in Word or LibreOffice Writer
(styles, logo, cover, boilerplate); docs/word-template.md lists the placeholders.
What this script sets: the heading styles (Heading 1–3, navy, with space above and
kept with the next paragraph), a Title and a Hyperlink style, the document's
language (en-US), a cover block of placeholders, the ``{{report_body}}`` paragraph,
and a header and footer with the marking, the client and "Page X of Y" (PAGE and
NUMPAGES fields).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "word" / "report-template.docx"
NAVY = RGBColor(0x1F, 0x38, 0x64)
ACCENT = RGBColor(0x2E, 0x75, 0xB6)
GREY = RGBColor(0x5B, 0x65, 0x73)
MARKING = RGBColor(0xC0, 0x00, 0x00)
FONT = "Calibri"


def field(paragraph: object, instruction: str, shown: str) -> None:
    p = paragraph._p  # type: ignore[attr-defined]
    for kind in ("begin", "instr", "separate", "result", "end"):
        r = OxmlElement("w:r")
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {instruction} "
        elif kind == "result":
            element = OxmlElement("w:t")
            element.text = shown
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        r.append(element)
        p.append(r)


def styles(document: docx.document.Document) -> None:
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    for level, size in ((1, 20), (2, 14), (3, 11.5)):
        style = document.styles[f"Heading {level}"]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = NAVY if level < 3 else ACCENT
        style.paragraph_format.space_before = Pt(18 if level == 1 else 12)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
        rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)
    title = document.styles["Title"]
    title.font.name = FONT
    title.font.size = Pt(30)
    title.font.color.rgb = NAVY
    if "Hyperlink" not in {s.name for s in document.styles}:
        link = document.styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
        link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)
        link.font.underline = True
    for name in ("TOC Heading",):
        document.styles[name].font.color.rgb = NAVY
    rpr = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "en-US")
    lang.set(qn("w:bidi"), "ar-SA")


def logo() -> bytes:
    """A stand-in logo the firm replaces with its own (a grey box that says so)."""
    image = Image.new("RGB", (600, 200), (236, 240, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle([2, 2, 597, 197], outline=(150, 160, 175), width=4)
    font = ImageFont.truetype(str(ROOT / "resources" / "fonts" / "DejaVuSans-Bold.ttf"), 44)
    draw.text((300, 100), "YOUR LOGO", font=font, fill=(120, 130, 145), anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def cover(document: docx.document.Document) -> None:
    shape = document.add_picture(io.BytesIO(logo()), width=Mm(45))
    shape._inline.docPr.set("descr", "The consultancy's logo")
    kicker = document.add_paragraph()
    run = kicker.add_run("{{consultancy}}")
    run.bold, run.font.color.rgb, run.font.size = True, GREY, Pt(11)
    document.add_paragraph()
    label = document.add_paragraph()
    run = label.add_run("ZERO TRUST MATURITY ASSESSMENT")
    run.bold, run.font.color.rgb, run.font.size = True, ACCENT, Pt(10)
    document.add_paragraph("{{title}}", style="Title")
    client = document.add_paragraph()
    run = client.add_run("{{client}}")
    run.font.size, run.font.color.rgb = Pt(18), NAVY
    document.add_paragraph()
    for name, value in (
        ("Prepared by", "{{prepared_by}}"),
        ("Assessment", "{{start_date}} – {{end_date}}"),
        ("Report date", "{{date}}"),
        ("Version", "{{report_version}}"),
    ):
        line = document.add_paragraph()
        run = line.add_run(f"{name}: ")
        run.bold, run.font.color.rgb = True, GREY
        line.add_run(value)
    marking = document.add_paragraph()
    run = marking.add_run("{{marking}}")
    run.bold, run.font.color.rgb = True, MARKING
    document.add_paragraph()
    note = document.add_paragraph()
    run = note.add_run(
        "This template is yours to change: styles, logo, this cover and any boilerplate. The report is put where "
        "the line below stands. The placeholders are listed in docs/word-template.md."
    )
    run.italic, run.font.size, run.font.color.rgb = True, Pt(8), GREY
    note.runs[0].add_break(WD_BREAK.PAGE)
    document.add_paragraph("{{report_body}}")


def header_footer(document: docx.document.Document) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Mm(22))
    section.top_margin, section.bottom_margin = Mm(22), Mm(20)
    head = section.header.paragraphs[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    head.paragraph_format.tab_stops.add_tab_stop(Mm(82.55), WD_TAB_ALIGNMENT.CLEAR)  # the Header style's centre stop
    head.paragraph_format.tab_stops.add_tab_stop(Mm(165.1), WD_TAB_ALIGNMENT.CLEAR)  # and its right one (Letter)
    head.paragraph_format.tab_stops.add_tab_stop(text_width, WD_TAB_ALIGNMENT.RIGHT)
    run = head.add_run("{{marking}}")
    run.bold, run.font.color.rgb, run.font.size = True, MARKING, Pt(8)
    head.add_run("\t")
    run = head.add_run("{{client}} — {{title}}")
    run.font.color.rgb, run.font.size = GREY, Pt(8)
    foot = section.footer.paragraphs[0]
    run = foot.add_run("{{marking}}")
    run.bold, run.font.color.rgb, run.font.size = True, MARKING, Pt(8)
    foot.add_run("\t")
    page = section.footer.add_paragraph()
    page.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    page.add_run("Page ")
    field(page, "PAGE", "1")
    page.add_run(" of ")
    field(page, "NUMPAGES", "1")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else OUT
    document = docx.Document()
    styles(document)
    header_footer(document)
    cover(document)
    props = document.core_properties
    props.author = props.last_modified_by = ""
    props.title = "Zero Trust maturity assessment"
    props.comments = props.keywords = props.subject = ""
    props.revision = 1
    package = document.part.package
    for key, rel in list(package.rels.items()):  # python-docx's own page picture would be every report's preview
        if rel.reltype.endswith("/thumbnail"):
            del package.rels[key]
    out.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(out))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
