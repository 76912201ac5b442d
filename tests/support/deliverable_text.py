"""The figures a deliverable shows, read back as a reader sees them.

* ``ztmm info --json`` through the real command (``info_json``).
* The PDF report through ``pdftotext -layout`` (``pdf_text``, then ``ReportFigures.parse``).
* The workbook as LibreOffice displays it: ``soffice --convert-to csv`` with the cell contents saved as
  shown, one CSV per sheet (``libreoffice_sheets``, then ``WorkbookFigures.parse``).

Each parser returns plain text figures ("1.3", "+0.2", "Initial") keyed by the pillar code ("1"…"6",
or "Overall") or the function code ("1.4"), so a test compares them as strings. Parsers are strict: a
row that is expected but missing or found twice raises ``ParseError`` with the text around it, so a
figure that moved or changed its shape fails a test instead of being skipped.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("Traditional", "Initial", "Advanced", "Optimal")
SEVERITIES = ("critical", "high", "medium", "low")
STAGE = "|".join(STAGES)
#: What every deliverable writes for "no figure".
DASHES = ("–", "—", "-")
#: The CSV filter: comma, double quote, UTF-8, from line 1, standard cell format, quoted fields as
#: text off, special numbers on, **cell contents as shown** on, formulas off, spaces kept, every sheet.
CSV_FILTER = "Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
BIDI_MARKS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


class ParseError(AssertionError):
    """A figure the parser looked for is not in the text (or is there more than once)."""


def normal(value: str) -> str:
    """NFKC, no bidi marks, a plain minus: figures compare the same whichever way they were drawn."""
    return unicodedata.normalize("NFKC", value).translate(BIDI_MARKS).replace("−", "-").strip()


def flat(value: str) -> str:
    """Every run of whitespace one space."""
    return " ".join(normal(value).split())


# -- running the tools ------------------------------------------------------------------------------


def info_json(path: Path) -> dict[str, Any]:
    """``ztmm info --json FILE`` run as the user runs it (a separate process)."""
    done = subprocess.run(
        [sys.executable, "-m", "ztmm_desktop.cli", "info", "--json", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def pdf_text(pdf: Path) -> str:
    """The report's text as ``pdftotext -layout`` gives it (columns kept on one line)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler (pdftotext) is not installed")
    done = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


def libreoffice_sheets(workbook: Path, folder: Path, profile: Path) -> dict[str, list[list[str]]]:
    """Every sheet of ``workbook`` as LibreOffice displays it, by sheet name.

    ``profile`` is a private LibreOffice user profile (one per test worker: two soffice processes
    sharing a profile clash).
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", f"csv:{CSV_FILTER}",
         "--outdir", str(folder), str(workbook)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sheets = {}
    for path in folder.glob(f"{workbook.stem}-*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            sheets[path.stem.removeprefix(f"{workbook.stem}-")] = [
                [normal(c) for c in row] for row in csv.reader(handle)
            ]
    assert sheets, done.stdout + done.stderr
    return sheets


# -- what a figure looks like ------------------------------------------------------------------------


def _none(value: str | None) -> str | None:
    """``None`` for an empty cell, a dash or "not assessed"; the text otherwise."""
    if value is None:
        return None
    value = value.strip()
    return None if value in ("", *DASHES, "not assessed") else value


def _one(found: list[Any], what: str, text: str) -> Any:
    if len(found) != 1:
        raise ParseError(f"{what}: expected once, found {len(found)} times in:\n{text[:3000]}")
    return found[0]


@dataclass
class RollupShown:
    """One roll-up's figures as a deliverable shows them (text; None where it shows none)."""

    score: str | None = None
    level: str | None = None
    target: str | None = None
    assessed: str | None = None
    functions: str | None = None
    below_target: str | None = None
    scored: str | None = None
    lowest: str | None = None
    not_applicable: str | None = None
    distribution: tuple[str, ...] | None = None  # Traditional, Initial, Advanced, Optimal


@dataclass
class ProgressShown:
    then: str | None  # "1.0" or None
    now: str | None
    delta: str | None  # "+0.2", "-0.1", "0.0" or None


@dataclass
class CountsShown:
    changed: int
    improved: int
    regressed: int
    same_stage: int
    not_comparable: int
    unchanged: int


# -- the report ----------------------------------------------------------------------------------------

_KEY = r"(?P<key>[1-6]|Overall)(?:\s+\S.*?)??"
_PILLAR_ROW = re.compile(
    rf"^\s*{_KEY}\s{{2,}}(?P<assessed>\d+) of (?P<functions>\d+)\s{{2,}}"
    rf"(?:(?P<score>\d\.\d) (?P<level>{STAGE})|not assessed)\s{{2,}}(?P<target>\d\.\d|[–—-])\s{{2,}}"
    rf"(?P<lowest>{STAGE}|[–—-])\s{{2,}}(?P<below>\d+) of (?P<scored>\d+)\s*$"
)
_DISTRIBUTION_ROW = re.compile(rf"^\s*{_KEY}\s{{2,}}" + r"\s+".join([r"(\d+)"] * 6) + r"\s*$")
_SIDE = rf"not assessed|\d\.\d \((?:{STAGE})\)"
_PROGRESS_ROW = re.compile(
    rf"^\s*{_KEY}\s{{2,}}(?P<then>{_SIDE})\s{{2,}}(?P<now>{_SIDE})\s{{2,}}(?P<delta>[–—]|[+-]?\d\.\d)\s{{2,}}"
    r"(?P<assessed>\d+(?: → \d+)? of \d+)\s*$"
)


def _score(side: str) -> str | None:
    return None if side == "not assessed" else side.split()[0]


def tiles(lines: list[str], labels: tuple[str, ...], start: int = 0) -> tuple[int, list[str], list[str]]:
    """The first row of tiles at or after line ``start`` headed ``labels``: its line, values and notes.

    A tile row is a line of labels, then (after blank lines) the values in the same columns, then a
    note under each, which may wrap over a few lines: the notes are cut at the labels' columns.
    """
    for index in range(start, len(lines)):
        line = lines[index]
        columns = [line.find(label) for label in labels]
        if -1 in columns or columns != sorted(columns):
            continue
        rest = [i for i in range(index + 1, len(lines)) if lines[i].strip()]
        values = re.split(r"\s{2,}", lines[rest[0]].strip())
        if len(values) != len(labels):
            raise ParseError(f"tiles {labels}: values {values!r}")
        notes = [""] * len(labels)
        for j in range(rest[0] + 1, len(lines)):
            if not lines[j].strip():
                break
            for k, col in enumerate(columns):
                end = columns[k + 1] if k + 1 < len(columns) else None
                notes[k] += " " + lines[j][max(0, col - 2) : None if end is None else end - 2]
        return index, values, [flat(n) for n in notes]
    raise ParseError(f"no tiles headed {labels}")


@dataclass
class ReportFigures:
    """Every figure the report shows more than once, read from its ``pdftotext -layout`` text."""

    text: str
    pillars: dict[str, RollupShown] = field(default_factory=dict)  # executive summary table
    distribution: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "Functions per stage"
    pillar_pages: dict[str, RollupShown] = field(default_factory=dict)  # each pillar's own page
    headline: RollupShown = field(default_factory=RollupShown)  # the executive summary's tiles
    sentence: RollupShown = field(default_factory=RollupShown)  # "mean stage 1.3 …, mean target of 2.0"
    most_least: tuple[list[str], str, list[str], str] | None = None  # names and figures; level: ([…], x, [], x)
    findings: int | None = None
    findings_by_severity: dict[str, int] = field(default_factory=dict)
    roadmap_count: int = 0
    roadmap: dict[str, int] = field(default_factory=dict)  # function code → gap
    progress: dict[str, ProgressShown] = field(default_factory=dict)
    progress_tiles: dict[str, str] = field(default_factory=dict)
    progress_counts: CountsShown | None = None
    not_listed: int = 0  # "N other functions in scope did not change"

    @classmethod
    def parse(cls, raw: str, functions: dict[str, str], pillar_names: dict[str, str]) -> ReportFigures:
        """``functions``: code → name of every function in scope; ``pillar_names``: code → full name."""
        text = normal(raw)
        lines = text.splitlines()
        figures = cls(text=text)
        figures._pillar_table(lines)
        figures._pillar_pages(lines, pillar_names)
        figures._headline(lines)
        figures._sentences(text)
        figures._roadmap(text, functions)
        if "Progress since" in text and "OVERALL THEN" in text:
            figures._progress(lines, text)
        return figures

    def _pillar_table(self, lines: list[str]) -> None:
        for line in lines:
            if m := _PILLAR_ROW.match(line):
                if m["key"] in self.pillars:
                    raise ParseError(f"pillar table: {m['key']} twice")
                self.pillars[m["key"]] = RollupShown(
                    score=m["score"],
                    level=m["level"],
                    target=_none(m["target"]),
                    assessed=m["assessed"],
                    functions=m["functions"],
                    below_target=m["below"],
                    scored=m["scored"],
                    lowest=_none(m["lowest"]),
                )
            elif m := _DISTRIBUTION_ROW.match(line):
                if m["key"] in self.distribution:
                    raise ParseError(f"distribution: {m['key']} twice")
                self.distribution[m["key"]] = tuple(m.groups()[1:])

    def _pillar_pages(self, lines: list[str], pillar_names: dict[str, str]) -> None:
        labels = ("CURRENT", "TARGET", "ASSESSED", "BELOW TARGET", "LOWEST")
        start = 0
        while True:
            try:
                index, values, _ = tiles(lines, labels, start)
            except ParseError as error:
                if "no tiles" in str(error):
                    return
                raise
            title = next(line.strip() for line in reversed(lines[:index]) if line.strip())
            code = title.split()[0]
            if pillar_names.get(code) != title[len(code) :].strip():
                raise ParseError(f"a pillar page headed {title!r}")
            current, target, assessed, below, lowest = values
            score, level = (None, None) if current == "not assessed" else current.split(" · ")
            shown_assessed, functions = assessed.split(" of ")
            self.pillar_pages[code] = RollupShown(
                score=score,
                level=level,
                target=_none(target),
                assessed=shown_assessed,
                functions=functions,
                below_target=below,
                lowest=_none(lowest),
            )
            start = index + 1

    def _headline(self, lines: list[str]) -> None:
        labels = ("OVERALL MATURITY", "MEAN TARGET", "BELOW TARGET", "ASSESSED", "FINDINGS")
        _, values, notes = tiles(lines, labels)
        score, target, below, assessed, findings = values
        level = notes[0].split(" · ")[0]
        self.headline = RollupShown(
            score=_none(score),
            level=None if level in DASHES else level,
            target=_none(target),
            below_target=below,
            assessed=assessed,
        )
        self.headline.scored = _one(re.findall(r"of (\d+) scored functions?", notes[2]), "scored", notes[2])
        self.headline.functions = _one(re.findall(r"of (\d+) functions? in scope", notes[3]), "in scope", notes[3])
        self.findings = int(findings)
        words = dict((sev, int(n)) for n, sev in re.findall(r"(\d+) (critical|high|medium|low)", notes[4]))
        self.findings_by_severity = {sev: words.get(sev, 0) for sev in SEVERITIES}

    def _sentences(self, text: str) -> None:
        body = flat(text)
        m = re.search(r"mean stage (\d\.\d) on the 0–3 scale(?:, against a mean target of (\d\.\d))?\)", body)
        if m:
            self.sentence = RollupShown(score=m[1], target=m[2])
        names = r"([A-Z][A-Za-z&\- ]*?(?:, [A-Z][A-Za-z&\- ]*?)*(?: and [A-Z][A-Za-z&\- ]*?)?)"
        level = re.search(r"All (\d+) assessed pillars are level \((\d\.\d)\)\.", body)
        most = re.search(
            rf"{names} (?:is the most mature pillar|are the most mature pillars) \((\d\.\d)\); "
            rf"{names} the least(?: mature)? \((\d\.\d)\)\.",
            body,
        )
        if level and most:
            raise ParseError("both a level and a most/least sentence")
        if most:
            self.most_least = (_names(most[1]), most[2], _names(most[3]), most[4])
        elif level:
            self.most_least = ([level[1]], level[2], [], level[2])

    def _roadmap(self, text: str, functions: dict[str, str]) -> None:
        body = flat(text)
        heads = list(re.finditer(r"(\d+) functions? below target\. For each, the stages to climb", body))
        if not heads:
            if "No function in scope is below its target" not in body:
                raise ParseError("the roadmap says neither how many functions are below target nor none")
            return
        head = _one(heads, "roadmap heading", body)
        self.roadmap_count = int(head[1])
        section = body[head.end() :]
        for code, name in functions.items():
            found = re.findall(re.escape(f"{code} {flat(name)}") + rf" (?:{STAGE}) → (?:{STAGE}) · gap (\d+)", section)
            if found:
                self.roadmap[code] = int(_one(found, f"roadmap item {code}", section))

    def _progress(self, lines: list[str], text: str) -> None:
        labels = ("OVERALL THEN", "OVERALL NOW", "IMPROVED", "REGRESSED", "UNCHANGED")
        _, values, _ = tiles(lines, labels)
        self.progress_tiles = dict(zip(labels, values, strict=True))
        for line in lines:
            if m := _PROGRESS_ROW.match(line):
                if m["key"] in self.progress:
                    raise ParseError(f"progress table: {m['key']} twice")
                self.progress[m["key"]] = ProgressShown(_score(m["then"]), _score(m["now"]), _none(m["delta"]))
        body = flat(text)
        m = re.search(
            r"(\d+) functions? changed: (\d+) improved, (\d+) regressed(?:, (\d+) at the same stage)?"
            r"(?:, (\d+) not comparable)?; (\d+) unchanged\. Overall mean stage",
            body,
        )
        if m is None:
            raise ParseError("no progress sentence")
        changed, improved, regressed, same, na, unchanged = (int(g or 0) for g in m.groups())
        self.progress_counts = CountsShown(changed, improved, regressed, same, na, unchanged)
        rest = re.findall(r"(\d+) other functions? in scope did not change", body)
        self.not_listed = int(_one(rest, "did not change", body)) if rest else 0


def _names(value: str) -> list[str]:
    head, _, last = value.rpartition(" and ")
    return [*head.split(", "), last] if head else [last]


# -- the workbook -----------------------------------------------------------------------------------


@dataclass
class WorkbookFigures:
    """Every figure the workbook shows more than once, as LibreOffice displays its cells."""

    summary: dict[str, RollupShown] = field(default_factory=dict)  # by pillar name, and "Overall"
    findings_by_severity: dict[str, int] = field(default_factory=dict)
    findings: int | None = None
    pillar_notes: dict[str, RollupShown] = field(default_factory=dict)  # by sheet "1 Identity"
    gaps: dict[str, str | None] = field(default_factory=dict)  # function code → gap shown
    roadmap: set[str] = field(default_factory=set)  # function codes on the Vendor suggestions sheet (below target)
    progress: dict[str, ProgressShown] = field(default_factory=dict)  # by pillar name, and "Overall"
    progress_sentence: CountsShown | None = None
    movements: dict[str, str] = field(default_factory=dict)  # function code → movement word

    @classmethod
    def parse(cls, sheets: dict[str, list[list[str]]]) -> WorkbookFigures:
        figures = cls()
        figures._summary(sheets["Summary"])
        for name, rows in sheets.items():
            if re.match(r"[1-6] ", name):
                figures._pillar(name, rows)
        figures._roadmap(sheets["Vendor suggestions"])  # the climb of every function below its target
        if "Progress" in sheets:
            figures._progress(sheets["Progress"])
        return figures

    def _summary(self, rows: list[list[str]]) -> None:
        header = _one([i for i, r in enumerate(rows) if r[:2] == ["Pillar", "Functions"]], "Summary header", "")
        for row in rows[header + 1 :]:
            if not row or not row[0] or len(row) < 13 or not row[1].isdigit():
                break
            self.summary[row[0]] = RollupShown(
                functions=row[1],
                assessed=row[2],
                not_applicable=row[3],
                score=_none(row[4]),
                level=_none(row[5]),
                lowest=_none(row[6]),
                target=_none(row[7]),
                below_target=row[8],
                distribution=tuple(row[9:13]),
            )
        start = _one([i for i, r in enumerate(rows) if r[:2] == ["Severity", "Findings"]], "Severity header", "")
        for row in rows[start + 1 : start + 5]:
            self.findings_by_severity[row[0].lower()] = int(row[1])
        total = [r for r in rows if r[:1] == ["All findings"]]
        self.findings = int(_one(total, "All findings", "")[1])

    def _pillar(self, name: str, rows: list[list[str]]) -> None:
        note = next(c for row in rows[:3] for c in row if c.startswith("Current "))
        m = re.fullmatch(
            rf"Current (?:(\d\.\d) \(({STAGE})\)|not assessed)(?:; target (\d\.\d))?; (\d+) of (\d+) functions "
            r"assessed, (\d+) below target",
            note,
        )
        if m is None:
            raise ParseError(f"{name}: note {note!r}")
        self.pillar_notes[name] = RollupShown(
            score=m[1], level=m[2], target=m[3], assessed=m[4], functions=m[5], below_target=m[6]
        )
        header = _one([i for i, r in enumerate(rows) if r and r[0] == "ztmm:function"], f"{name} header", "")
        columns = rows[header]
        code, gap = columns.index("Code"), columns.index("Gap")
        for row in rows[header + 1 :]:
            if row and row[0]:
                self.gaps[row[code]] = _none(row[gap])

    def _roadmap(self, rows: list[list[str]]) -> None:
        header = _one([i for i, r in enumerate(rows) if r[:2] == ["Code", "Function"]], "Roadmap header", "")
        for row in rows[header + 1 :]:
            if row and re.fullmatch(r"\d\.\d+", row[0]):
                self.roadmap.add(row[0])

    def _progress(self, rows: list[list[str]]) -> None:
        m = re.match(
            r"(\d+) functions? changed: (\d+) improved, (\d+) regressed(?:, (\d+) at the same stage)?"
            r"(?:, (\d+) not comparable)?; (\d+) unchanged; overall ",
            rows[1][0],
        )
        if m is None:
            raise ParseError(f"Progress summary {rows[1][0]!r}")
        self.progress_sentence = CountsShown(*(int(g or 0) for g in m.groups()))
        header = _one([i for i, r in enumerate(rows) if r[:3] == ["Code", "Pillar", "Functions"]], "pillars", "")
        for row in rows[header + 1 :]:
            if len(row) < 6 or not row[2].isdigit():
                break
            self.progress[row[1]] = ProgressShown(_none(row[3]), _none(row[4]), _none(row[5]))
        header = _one([i for i, r in enumerate(rows) if r[:3] == ["Code", "Function", "Pillar"]], "functions", "")
        movement = rows[header].index("Movement")
        for row in rows[header + 1 :]:
            if not row or not row[0]:
                break  # the function table ends; the pillars and the baseline's details follow
            self.movements[row[0]] = row[movement]
