"""References from one function of the model to another, as guidance text writes them.

A guidance pack points to other sections of its source ("section 2.1", "5.1 Function: Data inventory
management") and its actions name other functions by code ("Reuse the Data inventory management (5.1)
deployment"). Read here, such a reference names a function of the catalog, so the window can show that
function instead of a web page. Only a code the catalog knows is a reference; any other number is text.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

#: A reference's whole title: "section 2.1", "Section 2.1", "5.1 Function: Data inventory management", "2.1".
_TITLE = re.compile(r"^\s*(?:section\s+)?(\d+\.\d+)(?:\s+(?:function|capability)\b.*|\s*)$", re.IGNORECASE | re.DOTALL)
#: A reference inside running text: "section 2.1", "function 2.1", "(5.1)".
_INLINE = re.compile(r"\b(?:section|function|capability)\s+(\d+\.\d+)\b|\((\d+\.\d+)\)", re.IGNORECASE)


def title_reference(title: str, codes: Collection[str]) -> str | None:
    """The function code a reference's title names (``section 2.1`` → ``2.1``), if the catalog has it."""
    match = _TITLE.match(title)
    return match.group(1) if match is not None and match.group(1) in codes else None


@dataclass(frozen=True)
class Piece:
    """Part of a text: plain, or a reference to the function ``code``."""

    text: str
    code: str | None = None


def text_references(text: str, codes: Collection[str]) -> list[Piece]:
    """``text`` cut into plain pieces and references to functions the catalog has (in order, nothing lost)."""
    pieces: list[Piece] = []
    at = 0
    for match in _INLINE.finditer(text):
        if match.group(1):  # "section 2.1": the words and the code are the reference
            code, start, end = match.group(1), match.start(), match.end()
        else:  # "(5.1)": the code is, the brackets stay text
            code, start, end = match.group(2), match.start(2), match.end(2)
        if code not in codes:
            continue
        if start > at:
            pieces.append(Piece(text[at:start]))
        pieces.append(Piece(text[start:end], code))
        at = end
    if at < len(text):
        pieces.append(Piece(text[at:]))
    return pieces
