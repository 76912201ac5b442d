"""Counts read as a person writes them: "1 finding", "3 findings", never "1 findings" or "file(s)"."""

from __future__ import annotations

import re
from pathlib import Path

from ztmm_desktop.core.words import plural

UI = Path(__file__).resolve().parents[2] / "ztmm_desktop" / "ui"
#: A count put into a text followed by a word with "(s)": ``f"{n} file(s)"``.
HEDGED = re.compile(r"\{[^{}]+\}[^\"'{}\n]*?\b\w+\(s\)")


def test_no_window_text_hedges_a_plural() -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(UI.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if HEDGED.search(line)
    ]
    assert found == []


def test_plural_reads_as_written() -> None:
    assert plural(1, "finding") == "1 finding"
    assert plural(0, "finding") == "0 findings"
    assert plural(1204, "evidence file") == "1,204 evidence files"
