"""The one way user text goes into a workbook cell (SECURITY.md item 10).

openpyxl writes any string that starts with ``=`` as a live formula, and a
spreadsheet program treats ``+``, ``-``, ``@`` (and, after import, tab, CR, LF)
the same way. Every string the app did not write itself passes through
:func:`set_text`: characters XML cannot hold are removed, the text is kept
within Excel's 32,767-character cell limit (saying so when cut), the cell is
forced to the string type, and ``quotePrefix`` is set when the text starts with
a trigger so Excel and LibreOffice show it as text even after editing.
"""

from __future__ import annotations

import re
from typing import Any

#: Excel's limit on the characters one cell holds.
CELL_LIMIT = 32_767
#: Leading characters a spreadsheet reads as the start of a formula (OWASP CSV injection).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")
CUT_NOTE = " … [cut at {limit:,} characters, the most a cell holds; the assessor has the full text]"

# Control characters XML 1.0 cannot carry (tab, LF, CR are allowed), lone
# surrogates, and the two non-characters U+FFFE/U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value: str) -> tuple[str, bool]:
    """``value`` as a cell can hold it, and whether it had to be cut."""
    text = _ILLEGAL.sub("", value)
    if len(text) <= CELL_LIMIT:
        return text, False
    note = CUT_NOTE.format(limit=CELL_LIMIT)
    return text[: CELL_LIMIT - len(note)] + note, True


def is_trigger(value: str) -> bool:
    return value.startswith(TRIGGERS)


def set_text(cell: Any, value: str | None) -> bool:
    """Put user text into ``cell`` (a Cell or a WriteOnlyCell) as text; True when it was cut."""
    text, cut = clean(value or "")
    cell.value = text
    cell.data_type = "s"  # never "f", whatever the text starts with
    if is_trigger(value or ""):
        cell.quotePrefix = True
    return cut
