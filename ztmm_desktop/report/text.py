"""The one way user text goes into the report (SECURITY.md items 11–13).

reportlab's Paragraph parses its text as markup: ``x<y`` loses text, ``R&D``
comes out wrong, an unclosed ``<b>`` raises, ``<img src=…>`` embeds a local
file and ``<a href=…>`` makes a link. Every string the app did not write
passes through :func:`markup` before it goes into a Paragraph: characters a
PDF cannot hold are removed, the text is escaped, runs of characters DejaVu
Sans lacks (CJK) are set in the CJK font, short right-to-left runs are put in
visual order, and line breaks are kept. The only markup in a paragraph is the
markup the app writes around the result. Text drawn straight on the canvas
(running heads) goes through :func:`runs` instead, which never parses markup;
a table cell may hold user text as a plain string (drawn literally, never
parsed) only when :func:`plain` says DejaVu Sans draws all of it.

Right-to-left text: reportlab has no bidirectional layout without a package
our registries do not carry, so each run of right-to-left letters (with the
spaces and punctuation between them) is reversed into visual order, digits
kept left to right. That is right for names and phrases within a line; a long
right-to-left paragraph still wraps from the left, and Arabic is not shaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfmetrics import stringWidth

from . import fonts

# Control characters (tab, LF and CR are kept), lone surrogates, U+FFFE/U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_RTL_LETTERS = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc"
_RTL_RUN = re.compile(f"[{_RTL_LETTERS}]+(?:[^{_RTL_LETTERS}A-Za-z\n]*?[{_RTL_LETTERS}]+)*")
_DIGITS = re.compile(r"[0-9]+(?:[.,:][0-9]+)*")
_MIRROR = str.maketrans("()[]{}<>«»", ")(][}{><»«")
#: Below this code point every character is in DejaVu Sans and none is right-to-left.
_SIMPLE_BELOW = "\u0370"


def clean(text: str) -> str:
    """``text`` without characters a PDF cannot carry; CR LF and CR become LF, tabs spaces."""
    text = _ILLEGAL.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")


def _visual(match: re.Match[str]) -> str:
    run = match.group(0)[::-1].translate(_MIRROR)
    return _DIGITS.sub(lambda m: m.group(0)[::-1], run)


def visual_order(text: str) -> str:
    """``text`` with each right-to-left run reversed into the order it is drawn in."""
    return _RTL_RUN.sub(_visual, text)


def runs(text: str) -> Iterator[tuple[str, str]]:
    """``(font name, piece)`` pairs covering ``clean(text)`` in visual order: DejaVu, or CJK where DejaVu lacks a glyph."""
    text = clean(text)
    if not text or max(text) < _SIMPLE_BELOW:
        if text:
            yield fonts.SANS, text
        return
    text = visual_order(text)
    current = fonts.SANS
    start = 0
    for index, char in enumerate(text):
        code = ord(char)
        if char.isspace() or fonts.has_glyph(code):
            font = fonts.SANS if current == fonts.SANS or not char.isspace() else current
        elif fonts.cjk_has_glyph(code):
            font = fonts.CJK
        else:
            fonts.admit_missing(code)  # drawn as a box, but the text is still in the PDF
            font = fonts.SANS
        if font != current:
            if index > start:
                yield current, text[start:index]
            current, start = font, index
    if start < len(text):
        yield current, text[start:]


#: Words at least this long are broken into lines here (see :func:`break_long_words`).
LONG_WORD = 40
_LONG = re.compile(rf"\S{{{LONG_WORD},}}")


def break_long_words(text: str, room: float, size: float) -> str:
    """``text`` with each word too wide for ``room`` points cut into lines that fit.

    reportlab splits a word wider than its line itself, but measures the whole
    rest of the word again for every line and every page: a 50,000-character
    word took seconds. Cutting it here, once, gives the same lines at once.
    """

    def cut(match: re.Match[str]) -> str:
        word = match.group(0)
        widths = {c: width(c, fonts.SANS_BOLD, size) for c in set(word)}
        if sum(widths[c] for c in word) <= room:
            return word
        lines: list[str] = []
        line: list[str] = []
        used = 0.0
        for char in word:
            if line and used + widths[char] > room:
                lines.append("".join(line))
                line, used = [], 0.0
            line.append(char)
            used += widths[char]
        lines.append("".join(line))
        return "\n".join(lines)

    return _LONG.sub(cut, clean(text))


def markup(text: str, *, line_breaks: bool = True, room: float | None = None, size: float = 9.0) -> str:
    """User text as Paragraph markup: escaped, CJK runs in the CJK font, line breaks kept.

    ``room``: the width of the line in points (and ``size`` the font size); words
    wider than that are cut into lines (needs ``line_breaks``).
    """
    if room is not None and line_breaks:
        text = break_long_words(text, room, size)
    parts = []
    for font, piece in runs(text):
        escaped = escape(piece)
        parts.append(escaped if font == fonts.SANS else f'<font name="{font}">{escaped}</font>')
    result = "".join(parts)
    return result.replace("\n", "<br/>") if line_breaks else result.replace("\n", " ")


def plain(text: str) -> bool:
    """Whether ``text`` may go into a table as a plain string cell, drawn as it is.

    reportlab draws a Table's string cells literally (no markup is parsed), in
    the cell's font: safe for any text DejaVu Sans draws on its own, so for
    printable characters below U+0370 (no control characters, no line breaks,
    nothing right-to-left or CJK). Anything else goes through :func:`markup`.
    """
    return text.isprintable() and (not text or max(text) < _SIMPLE_BELOW)


def width(text: str, font: str, size: float) -> float:
    """Drawn width of ``text`` when set with :func:`runs` in ``font`` (or CJK) at ``size``."""
    return sum(stringWidth(piece, font if f == fonts.SANS else f, size) for f, piece in runs(text))


def fit(text: str, font: str, size: float, room: float) -> str:
    """``text`` on one line, cut with an ellipsis to fit ``room`` points."""
    one_line = " ".join(clean(text).split())
    if width(one_line, font, size) <= room:
        return one_line
    low, high = 0, len(one_line)
    while low < high:  # the longest prefix that fits with the ellipsis
        middle = (low + high + 1) // 2
        if width(one_line[:middle] + "…", font, size) <= room:
            low = middle
        else:
            high = middle - 1
    return one_line[:low].rstrip() + "…"
