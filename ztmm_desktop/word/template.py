"""The firm's Word template: read without trusting it, checked, then filled in.

A consultancy copies ``resources/word/report-template.docx``, changes its styles,
logo, cover and boilerplate in Word or LibreOffice Writer, and gives it to
``ztmm report FILE OUT.docx --template FIRM.docx``. Everything in it is kept as
the firm wrote it; the app only

* replaces the placeholders (``PLACEHOLDERS``) in the body, headers and footers
  with plain text, even where Word split one over several runs (the runs of
  that paragraph are joined into the first, keeping its formatting), and
* puts the generated report where the paragraph ``{{report_body}}`` stands.

Before python-docx sees a byte, the file goes through the same bounded reader
as a workbook from outside (``excel/reader.py``: size, zip directory limits,
every member decompressed once as a bounded stream, no XML document type
declaration anywhere, so no entity bomb). Then it is refused, with one line
naming what, when it

* carries macros (``.docm``/``.dotm``, a ``vbaProject`` part, a content type
  that is ``macroEnabled``) or embedded objects (OLE, ActiveX, packages,
  alternative-format chunks);
* is not a Word document (a renamed workbook, a template ``.dotx`` content type,
  a main part with an altered content type);
* has any external relationship (an attached template, a linked image, an OLE
  link, a hyperlink: the report's only links are the ones the app adds);
* has a field that fetches or runs something (``DDE``, ``INCLUDETEXT``,
  ``INCLUDEPICTURE``, ``LINK``, ``HYPERLINK``…);
* lacks ``{{report_body}}``, has it more than once or not alone in a body
  paragraph, or has an unknown or broken placeholder (``{{clinet}}``, ``{{ client``);
* lacks a Heading 1, 2 or 3 style (the report's headings use them).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree  # type: ignore[import-untyped]

from ..core.errors import BadInput
from ..excel import reader

#: The placeholders a template may hold in its text, and what each becomes.
PLACEHOLDERS: tuple[str, ...] = (
    "client",
    "title",
    "start_date",
    "end_date",
    "marking",
    "consultancy",
    "report_version",
    "prepared_by",
    "date",
)
#: The paragraph the generated report replaces (required, once, alone in its paragraph, in the body).
BODY = "report_body"
BODY_MARK = "{{" + BODY + "}}"
#: Styles the generated report uses and a template must keep.
REQUIRED_STYLES: tuple[str, ...] = ("Heading 1", "Heading 2", "Heading 3")

MAIN_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_CONTENT_TYPES = "[Content_Types].xml"
#: Content types and relationship types that carry code, embedded objects or other documents.
_REFUSED_TYPES = re.compile(
    r"macroEnabled|vbaProject|vbaData|activeX|oleObject|/package$|\.package$|aFChunk|attachedTemplate|subDocument"
    r"|frame$|keyMapCustomizations|wordVbaData",
    re.IGNORECASE,
)
#: Field instructions that reach outside the document or run something; refused anywhere in a template.
_REFUSED_FIELDS = re.compile(
    r"\b(DDE|DDEAUTO|INCLUDETEXT|INCLUDEPICTURE|INCLUDE|LINK|IMPORT|EMBED|HYPERLINK|MACROBUTTON|GOTOBUTTON"
    r"|AUTOTEXT|AUTOTEXTLIST|QUOTE|DATABASE|MERGEFIELD|PRINT)\b",
    re.IGNORECASE,
)
_INSTR = re.compile(rb"<w:instrText\b[^>]*>([^<]*)</w:instrText>|\bw:instr\s*=\s*\"([^\"]*)\"")
#: A placeholder as written: ``{{client}}`` (spaces inside the braces allowed).
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PARTS_WITH_TEXT = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")
#: The largest template read at all (a firm's template with a logo is a few hundred KB).
SMALLER = "a Word template is far smaller"


@dataclass(frozen=True)
class Template:
    """A checked template: its bytes (python-docx opens them per report) and its name for messages."""

    name: str
    data: bytes


def load_template(path: Path) -> Template:
    """Read and check the template at ``path``; a ``BadInput`` naming the problem otherwise."""
    name = path.name
    if path.suffix.lower() in (".docm", ".dotm"):
        raise BadInput(f"{name} is a macro-enabled Word file; save the template as a plain .docx (no macros)")
    data = reader.read_bytes(path, SMALLER)
    return check_template(name, data)


def check_template(name: str, data: bytes) -> Template:
    """Check the bytes of a template (see the module's docstring); the template when it is acceptable."""
    _sniff(name, data)
    archive = reader.open_zip(name, data)
    with archive:
        members = {m.filename for m in archive.infolist()}
        if "word/document.xml" not in members:
            if "xl/workbook.xml" in members:
                raise BadInput(f"{name} is an Excel workbook, not a Word template")
            if "ppt/presentation.xml" in members:
                raise BadInput(f"{name} is a PowerPoint presentation, not a Word template")
            if "mimetype" in members:
                raise BadInput(f"{name} is an OpenDocument file; save it from Writer as Word (.docx)")
            raise BadInput(f"{name} is a zip archive but not a Word document")
        reader.check_limits(name, archive, "a Word template has a few dozen")
        reader.scan_members(name, archive, None, "a Word document")
        for member in sorted(members):
            if "vbaproject" in member.lower() or (member.lower().endswith(".bin") and "vba" in member.lower()):
                raise BadInput(f"{name} carries macros ({member}); save the template as a plain .docx (no macros)")
        _check_content_types(name, _read(name, archive, _CONTENT_TYPES))
        for member in sorted(members):
            if member.endswith(".rels"):
                _check_relationships(name, member, _read(name, archive, member))
        for member in sorted(members):
            if _PARTS_WITH_TEXT.match(member):
                _check_fields(name, member, _read(name, archive, member))
    document = open_document(data, name)
    _check_styles(name, document)
    _check_placeholders(name, document)
    return Template(name, data)


def _sniff(name: str, data: bytes) -> None:
    if not data:
        raise BadInput(f"{name} is empty (0 bytes), not a Word template")
    if data.startswith(reader.OLE2_MAGIC):
        raise BadInput(f"{name} is an old-style Word .doc file or password protected; save it as .docx")
    if data.startswith(b"%PDF"):
        raise BadInput(f"{name} is a PDF document, not a Word template")
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise BadInput(f"{name} is not a Word template (.docx)")


def _read(name: str, archive: Any, member: str) -> bytes:
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise BadInput(f"{name} has no {member}; it is not a complete Word document") from None
    return reader._read_bounded(name, archive, info, reader.MAX_MEMBER_BYTES)


def _xml(name: str, member: str, data: bytes) -> Any:
    try:
        return ElementTree.fromstring(data, forbid_dtd=True)
    except Exception:  # defusedxml's refusals and plain XML syntax errors alike
        raise BadInput(f"{name}: part {member} is not well-formed XML; the file is damaged") from None


def _check_content_types(name: str, data: bytes) -> None:
    root = _xml(name, _CONTENT_TYPES, data)
    main = None
    for element in root:
        content_type = element.get("ContentType", "")
        if _REFUSED_TYPES.search(content_type):
            raise BadInput(
                f"{name} declares content that can carry code or embedded objects ({content_type}); "
                "save the template as a plain .docx"
            )
        if element.get("PartName") == "/word/document.xml":
            main = content_type
    if main != MAIN_CONTENT_TYPE:
        raise BadInput(
            f"{name}: its main part has the content type {main or 'none'}, not a Word document's; "
            "save it as a Word document (.docx)"
        )


def _check_relationships(name: str, member: str, data: bytes) -> None:
    root = _xml(name, member, data)
    for rel in root:
        kind = rel.get("Type", "").rsplit("/", 1)[-1]
        if rel.get("TargetMode", "").lower() == "external":
            raise BadInput(
                f"{name} links to something outside it ({kind} → {rel.get('Target', '')[:80]}); "
                "a template may hold no external links"
            )
        if _REFUSED_TYPES.search(rel.get("Type", "")):
            raise BadInput(f"{name} holds an embedded object or macro part ({kind}); save the template without it")


def _check_fields(name: str, member: str, data: bytes) -> None:
    instructions = " ".join((m.group(1) or m.group(2) or b"").decode("utf-8", "replace") for m in _INSTR.finditer(data))
    found = _REFUSED_FIELDS.search(instructions)
    if found:
        raise BadInput(
            f"{name}: a field in {member} uses {found.group(1).upper()}, which reaches outside the document; "
            "remove the field from the template"
        )


def open_document(data: bytes, name: str = "the template") -> Any:
    """python-docx's document of checked bytes."""
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises ValueError, KeyError, lxml errors on a broken package
        raise BadInput(f"{name} cannot be read as a Word document ({type(err).__name__})") from None


def _check_styles(name: str, document: Any) -> None:
    have = {style.name for style in document.styles}
    for wanted in REQUIRED_STYLES:
        if wanted not in have:
            raise BadInput(f"{name} has no “{wanted}” style; the report's headings need Heading 1 to 3")


# -- the placeholders ---------------------------------------------------------------------------------


def text_paragraphs(document: Any) -> Iterator[tuple[str, Any]]:
    """Every paragraph of the body (tables and text boxes too), then of every header and footer:
    ``(where, paragraph)`` with where ``body`` or ``header``/``footer``."""
    from docx.text.paragraph import Paragraph

    yield from (("body", Paragraph(p, document._body)) for p in document.element.body.iter(_W_P))
    seen: set[int] = set()
    for section in document.sections:
        for where, part in (
            ("header", section.header),
            ("header", section.first_page_header),
            ("header", section.even_page_header),
            ("footer", section.footer),
            ("footer", section.first_page_footer),
            ("footer", section.even_page_footer),
        ):
            if part.is_linked_to_previous:
                continue
            element = part._element
            if id(element) in seen:
                continue
            seen.add(id(element))
            yield from ((where, Paragraph(p, part)) for p in element.iter(_W_P))


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W_P = f"{{{_W}}}p"
_W_R = f"{{{_W}}}r"


def paragraph_text(paragraph: Any) -> str:
    """The text of a paragraph's own runs (not of fields' results inside hyperlinks)."""
    return "".join(run_text(r) for r in paragraph._p.iterchildren(_W_R))


def run_text(r: Any) -> str:
    from docx.text.run import Run

    return str(Run(r, None).text)  # type: ignore[arg-type]


def _problems(text: str) -> Iterator[str]:
    """The unknown and broken placeholders in ``text``."""
    for m in _PLACEHOLDER.finditer(text):
        if m.group(1) not in (*PLACEHOLDERS, BODY):
            yield m.group(0)
    rest = _PLACEHOLDER.sub("", text)
    for m in re.finditer(r"\{\{[^}]{0,30}|[^{]{0,30}\}\}", rest):
        yield m.group(0).strip()


def _check_placeholders(name: str, document: Any) -> None:
    bodies = 0
    for where, paragraph in text_paragraphs(document):
        text = paragraph_text(paragraph)
        if "{" not in text and "}" not in text:
            continue
        for problem in _problems(text):
            raise BadInput(
                f"{name}: unknown or broken placeholder “{problem}” in the {where}; "
                "see docs/word-template.md for the placeholders"
            )
        found = [m for m in _PLACEHOLDER.finditer(text) if m.group(1) == BODY]
        if found:
            top_level = paragraph._p.getparent() is document.element.body  # not in a table or a text box
            if where != "body" or not top_level or text.strip() != found[0].group(0) or len(found) > 1:
                raise BadInput(f"{name}: {BODY_MARK} must stand alone in a paragraph of the document body")
            bodies += len(found)
    if bodies == 0:
        raise BadInput(f"{name} has no {BODY_MARK} paragraph (where the report goes); add it on a line of its own")
    if bodies > 1:
        raise BadInput(f"{name} has {BODY_MARK} {bodies} times; keep one")


def fill_placeholders(document: Any, values: Mapping[str, str]) -> Any:
    """Replace every placeholder but the body's with plain text; the ``{{report_body}}`` paragraph."""
    body = None
    for _, paragraph in list(text_paragraphs(document)):
        runs = list(paragraph._p.iterchildren(_W_R))
        if not runs:
            continue
        texts = [run_text(r) for r in runs]
        joined = "".join(texts)
        if "{{" not in joined:
            continue
        whole = _PLACEHOLDER.fullmatch(joined.strip())
        if whole is not None and whole.group(1) == BODY:
            body = paragraph
            continue

        def value(m: re.Match[str]) -> str:
            return values.get(m.group(1), m.group(0))

        if sum(len(_PLACEHOLDER.findall(t)) for t in texts) == len(_PLACEHOLDER.findall(joined)):
            for r, t in zip(runs, texts, strict=True):  # each placeholder within one run: each run keeps its own
                if "{{" in t:
                    _set_run_text(r, _PLACEHOLDER.sub(value, t))
            continue
        _set_run_text(runs[0], _PLACEHOLDER.sub(value, joined))  # split by Word: joined into the first run
        for r in runs[1:]:
            r.getparent().remove(r)
    return body


def _set_run_text(r: Any, text: str) -> None:
    from docx.text.run import Run

    Run(r, None).text = text  # type: ignore[arg-type]
