"""References between functions in guidance text: only codes the catalog has, nothing of the text lost."""

from __future__ import annotations

from ztmm_desktop.core.references import Piece, text_references, title_reference

CODES = {"1.1", "2.1", "5.1", "6.3"}


def test_a_reference_title_names_a_function() -> None:
    assert title_reference("section 2.1", CODES) == "2.1"
    assert title_reference("Section 1.1", CODES) == "1.1"
    assert title_reference("5.1 Function: Data inventory management", CODES) == "5.1"
    assert title_reference("6.3", CODES) == "6.3"


def test_other_titles_and_unknown_codes_are_no_reference() -> None:
    for title in (
        "section 9.9",
        "Monitor Zero Trust (TIC 3.0) security architectures",
        "Microsoft Entra ID",
        "Zero Trust Maturity Model Version 2.0",
        "2.1.4 Something",
        "section 2.1 of the memo and 3.0",
    ):
        assert title_reference(title, CODES) is None, title


def test_references_in_running_text() -> None:
    text = "Reuse the Data inventory management (5.1) deployment, as in section 2.1; TIC 3.0 and (9.9) stay text."
    pieces = text_references(text, CODES)
    assert "".join(p.text for p in pieces) == text
    assert [(p.text, p.code) for p in pieces if p.code] == [("5.1", "5.1"), ("section 2.1", "2.1")]
    assert text_references("No reference here.", CODES) == [Piece("No reference here.")]
    assert text_references("", CODES) == []
