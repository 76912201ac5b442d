"""The report's fonts: DejaVu Sans for Latin, Greek and Cyrillic, a CJK font for CJK runs.

reportlab's built-in fonts are not embedded and draw boxes for anything beyond
Latin-1 (SECURITY.md item 13), so the report registers the TrueType files
shipped in ``resources/fonts`` and uses nothing else: every font in the PDF is
embedded (as a subset). ``SANS``, ``SANS_BOLD``, ``SANS_ITALIC`` and ``MONO``
are the names the styles use; ``CJK`` is the fallback a run of characters
DejaVu lacks is set in (``text.markup`` wraps such runs). A character no font
here has is drawn as an empty box but kept as text (:func:`admit_missing`).
The CJK font (4 MB) is read the first time a character DejaVu lacks asks for
it (:func:`cjk_has_glyph`), so a report in Latin script does not pay for it.

reportlab writes the ToUnicode map of a subset with four hex digits per code
point, which is wrong for characters beyond U+FFFF (emoji come back from text
extraction as another character); :func:`_to_unicode_cmap` writes them as
UTF-16 pairs, as the PDF specification asks.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics, ttfonts

SANS = "ZTMM-Sans"
SANS_BOLD = "ZTMM-Sans-Bold"
SANS_ITALIC = "ZTMM-Sans-Oblique"
MONO = "ZTMM-Mono"
CJK = "ZTMM-CJK"

FILES = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    SANS_ITALIC: "DejaVuSans-Oblique.ttf",
    MONO: "DejaVuSansMono.ttf",
    CJK: "DroidSansFallbackFull.ttf",
}

_lock = threading.Lock()
_registered: Path | None = None
_sans_chars: frozenset[int] = frozenset()
_cjk_chars: frozenset[int] | None = None  # None until the CJK font is first needed


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with code points beyond the BMP written as UTF-16 pairs."""

    def utf16(value: int) -> str:
        return chr(value).encode("utf-16-be", "surrogatepass").hex().upper() if value > 0xFFFF else f"{value:04X}"

    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        f"<< /Registry ({fontname})",
        f"/Ordering ({fontname})",
        "/Supplement 0",
        ">> def",
        f"/CMapName /{fontname} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange",
        f"{len(subset)} beginbfchar",
        *(f"<{code:02X}> <{utf16(value)}>" for code, value in enumerate(subset)),
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(lines)


def register(folder: Path) -> None:
    """Register the report's fonts from ``folder`` (once per process; later calls are free)."""
    global _registered, _sans_chars, _cjk_chars
    with _lock:
        if _registered is not None:
            return
        missing = [name for name in FILES.values() if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"the report's fonts are missing from {folder}: {', '.join(missing)}")
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap
        fonts = {name: ttfonts.TTFont(name, str(folder / file)) for name, file in FILES.items() if name != CJK}
        for font in fonts.values():
            pdfmetrics.registerFont(font)
        # <b> and <i> inside a paragraph switch within the family; the mono font
        # has one face, used for every variant (the CJK font too, once loaded).
        for family, normal, bold, italic in (
            (SANS, SANS, SANS_BOLD, SANS_ITALIC),
            (SANS_BOLD, SANS, SANS_BOLD, SANS_ITALIC),
            (SANS_ITALIC, SANS, SANS_BOLD, SANS_ITALIC),
            (MONO, MONO, MONO, MONO),
        ):
            _map(family, normal, bold, italic)
        _sans_chars = frozenset(fonts[SANS].face.charToGlyph)
        _registered = folder


def _map(family: str, normal: str, bold: str, italic: str) -> None:
    addMapping(family, 0, 0, normal)
    addMapping(family, 1, 0, bold)
    addMapping(family, 0, 1, italic)
    addMapping(family, 1, 1, bold)


def _cjk() -> frozenset[int]:
    """The CJK font's characters, registering the font the first time (after :func:`register`)."""
    global _cjk_chars
    with _lock:
        if _cjk_chars is None:
            if _registered is None:
                raise RuntimeError("fonts.register() first")
            font = ttfonts.TTFont(CJK, str(_registered / FILES[CJK]))
            pdfmetrics.registerFont(font)
            _map(CJK, CJK, CJK, CJK)
            _cjk_chars = frozenset(font.face.charToGlyph)
        return _cjk_chars


def admit_missing(code: int) -> None:
    """Let the Sans faces draw ``code``, which no font here has, as their empty-box glyph.

    reportlab sets such a character as the font's .notdef with no Unicode
    mapping, so it vanishes from copied or extracted text; mapped to glyph 0
    under its own code it still shows as a box, and it comes back as itself.
    """
    with _lock:
        for name in (SANS, SANS_BOLD, SANS_ITALIC):
            face = pdfmetrics.getFont(name).face  # type: ignore[attr-defined]  # a TTFont's
            face.charToGlyph.setdefault(code, 0)


def has_glyph(code: int) -> bool:
    """Whether DejaVu Sans draws ``code`` (else the CJK font may)."""
    return code in _sans_chars


def cjk_has_glyph(code: int) -> bool:
    chars = _cjk_chars
    return code in (chars if chars is not None else _cjk())
