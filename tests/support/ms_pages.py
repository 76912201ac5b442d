"""Parser for the Markdown source of Microsoft's "CISA Zero Trust Maturity Model" Learn pages.

The six pages (``cisa-zero-trust-maturity-model-{intro,identity,devices,networks,apps,data}.md``)
map Microsoft products to the stages of each CISA ZTMM function. Every function section
(``## 1.1 Function: Authentication``) holds a two-column table: the left cell names the stage
(``**Initial Maturity Status**``, sometimes ``**Optimal Maturity Model**``) and quotes CISA's text;
the right cell holds one or more recommendations, each opened by a line that is only a bold product
heading (``**Microsoft Entra ID**`` or ``**Intune**, **Microsoft Defender for Endpoint**``), followed
by prose and links. Lines inside a cell are separated by ``</br>`` (or ``<br>``, ``<br/>``...).

``parse_page`` returns, per function section and stage, the recommendations of that cell with
their links, plus the links of the page prose outside the function tables. Links resolve the way
Microsoft Learn publishes them (see ``resolve_url``). Pure standard library.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LEARN_ORIGIN = "https://learn.microsoft.com"
PAGES_DIR_PATH = "/security/zero-trust/"
STAGES: tuple[str, ...] = ("initial", "advanced", "optimal")

_BR_RE = re.compile(r"<\s*/?\s*br\s*/?\s*>", re.IGNORECASE)
_HEADING_LINE_RE = re.compile(r"\*\*[^*]+\*\*(?:\s*,\s*\*\*[^*]+\*\*)*")
_FIRST_BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
_STAGE_RE = re.compile(r"\b(initial|advanced|optimal)\b", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DELIMITER_ROW_RE = re.compile(r"^\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?$")
_IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_EMPHASIS_RE = re.compile(r"(?<![\w*])(\*{1,2}|_{1,2})(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_HREF_RE = re.compile(r"^<?([^\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?$")


@dataclass(frozen=True)
class Link:
    """One Markdown link: its text (markup stripped, trimmed) and its absolute URL."""

    title: str
    url: str


@dataclass(frozen=True)
class Recommendation:
    """One bold product heading of a table cell and the links that follow it.

    ``product`` is ``None`` for linked text that comes before the first heading of a cell.
    A heading repeated later in the same cell yields a second ``Recommendation``.
    """

    product: str | None
    links: tuple[Link, ...]


@dataclass(frozen=True)
class FunctionSection:
    """A ``##`` section holding a stage table; ``stages`` maps stage -> recommendations, in page order."""

    heading: str
    stages: Mapping[str, tuple[Recommendation, ...]]

    def links(self, stage: str) -> tuple[Link, ...]:
        """Every link in the cell of ``stage``, in page order."""
        return tuple(link for rec in self.stages.get(stage, ()) for link in rec.links)


@dataclass(frozen=True)
class ParsedPage:
    """One page: ``sections`` is keyed by heading text (``"1.1 Function: Authentication"``);
    ``prose_links`` are the links outside the function tables, in page order, repeats kept."""

    source: str  # file name, e.g. "cisa-zero-trust-maturity-model-identity.md"
    url: str  # published URL of the page
    title: str  # the page's "# " heading
    sections: Mapping[str, FunctionSection]
    prose_links: tuple[Link, ...]


def page_url(filename: str) -> str:
    """Published URL of a page of the series: ``https://learn.microsoft.com/security/zero-trust/<stem>``."""
    stem = filename.removesuffix(".md")
    return f"{LEARN_ORIGIN}{PAGES_DIR_PATH}{stem}"


def resolve_url(href: str, base_url: str) -> str:
    """Resolve a link target as published on Microsoft Learn.

    Absolute URLs (any scheme) are returned unchanged; ``/path`` is taken on learn.microsoft.com;
    other relative paths resolve against the directory of ``base_url`` with a trailing ``.md``
    dropped (Learn serves ``x.md`` as ``x``). An empty path (``""``, ``"#anchor"``) is the page
    itself (RFC 3986 section 5.2.2). Query strings and fragments are kept verbatim.
    """
    href = href.strip()
    if _SCHEME_RE.match(href):
        return href
    if href.startswith("//"):
        return "https:" + href
    if href.startswith("/"):
        return LEARN_ORIGIN + href
    cut = min((i for i in (href.find("?"), href.find("#")) if i >= 0), default=len(href))
    path, suffix = href[:cut], href[cut:]
    base = urlsplit(base_url)
    if not path:
        return f"{base.scheme}://{base.netloc}{base.path}" + (suffix or (f"?{base.query}" if base.query else ""))
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(base.path), path))
    if path.endswith("/"):
        resolved += "/"
    resolved = resolved.removesuffix(".md")
    return f"{base.scheme}://{base.netloc}{resolved}{suffix}"


def clean_title(raw: str) -> str:
    """Link text as displayed: images become their alt text, bold/italic markers go, ends are trimmed."""
    text = _IMAGE_RE.sub(lambda m: m.group(1), raw)
    previous = None
    while previous != text:  # nested emphasis (***x***) needs more than one pass
        previous, text = text, _EMPHASIS_RE.sub(lambda m: m.group(2), text)
    return text.strip()


def _closing(text: str, start: int, open_char: str, close_char: str) -> int | None:
    """Index of the bracket closing the one at ``start`` (nesting and backslash escapes honoured)."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == open_char:
            depth += 1
        elif char == close_char:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def iter_raw_links(text: str) -> Iterator[tuple[str, str]]:
    """Yield ``(text, target)`` of each inline link ``[text](target)``; images ``![..](..)`` are skipped.

    A link whose text is an image (``[![alt](img.png)](big.png)``) is one link.
    """
    i = 0
    while (start := text.find("[", i)) >= 0:
        i = start + 1
        if start > 0 and text[start - 1] == "\\":
            continue
        close = _closing(text, start, "[", "]")
        if close is None or not text.startswith("(", close + 1):
            continue
        end = _closing(text, close + 1, "(", ")")
        if end is None:
            continue
        i = end + 1
        if start > 0 and text[start - 1] == "!":
            continue
        target = text[close + 2 : end].strip()
        match = _HREF_RE.match(target)
        yield text[start + 1 : close], (match.group(1) if match else target)


def find_links(text: str, base_url: str) -> list[Link]:
    """All inline links of a Markdown fragment, resolved against ``base_url``."""
    return [Link(clean_title(title), resolve_url(href, base_url)) for title, href in iter_raw_links(text)]


def split_row(line: str) -> list[str]:
    """Cells of a Markdown table row (outer pipes optional, ``\\|`` is a literal pipe)."""
    body = line.strip()
    body = body.removeprefix("|")
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [cell.replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", body)]


def cell_lines(cell: str) -> list[str]:
    """The lines of a table cell: split on any ``<br>`` variant, trimmed, blank lines dropped."""
    return [line.strip() for line in _BR_RE.split(cell) if line.strip()]


def heading_of(line: str) -> str | None:
    """Product name if the line is only a bold heading (``**A**`` or ``**A**, **B**``), else ``None``."""
    if not _HEADING_LINE_RE.fullmatch(line):
        return None
    return " ".join(line.replace("**", "").split())


def stage_of(cell: str) -> str | None:
    """Stage named by a left-hand cell (``**Initial Maturity Status**`` -> ``initial``)."""
    lines = cell_lines(cell)
    if not lines:
        return None
    bold = _FIRST_BOLD_RE.search(lines[0])
    match = _STAGE_RE.search(bold.group(1) if bold else lines[0])
    return match.group(1).lower() if match else None


def parse_cell(cell: str, base_url: str) -> tuple[Recommendation, ...]:
    """Group the links of a guidance cell under the bold heading that precedes them.

    Text without a heading belongs to the last heading above it; linked text before the first
    heading forms a recommendation with ``product=None``; unlinked text before it is ignored.
    """
    groups: list[tuple[str | None, list[Link]]] = []
    for line in cell_lines(cell):
        product = heading_of(line)
        if product is not None:
            groups.append((product, []))
            continue
        links = find_links(line, base_url)
        if not groups:
            if not links:
                continue
            groups.append((None, []))
        groups[-1][1].extend(links)
    return tuple(Recommendation(product, tuple(links)) for product, links in groups)


def _is_function_table(header: list[str]) -> bool:
    return bool(header) and "stage" in header[0].lower()


def parse_markdown(text: str, source: str, url: str | None = None) -> ParsedPage:
    """Parse the Markdown of one page; ``source`` is its file name, ``url`` defaults to ``page_url(source)``."""
    base_url = url or page_url(source)
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":  # YAML front matter
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise ValueError(f"{source}: unterminated front matter")
        lines = lines[end + 1 :]

    title = ""
    heading: str | None = None
    sections: dict[str, FunctionSection] = {}
    prose: list[Link] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            i += 1
            continue
        if in_fence:
            i += 1
            continue
        if stripped.startswith("|") and i + 1 < len(lines) and _DELIMITER_ROW_RE.match(lines[i + 1].strip()):
            header = split_row(stripped)
            j = i + 2
            rows: list[str] = []
            while j < len(lines) and lines[j].strip().startswith("|"):
                rows.append(lines[j].strip())
                j += 1
            if _is_function_table(header):
                if heading is None:
                    raise ValueError(f"{source}:{i + 1}: stage table before any '##' heading")
                if heading in sections:
                    raise ValueError(f"{source}:{i + 1}: second stage table under {heading!r}")
                sections[heading] = FunctionSection(heading, _parse_stage_rows(rows, source, base_url, i + 3))
            else:  # any other table is ordinary prose
                for row in [stripped, *rows]:
                    prose.extend(find_links(row, base_url))
            i = j
            continue
        if stripped.startswith("# ") and not title:
            title = stripped[2:].strip()
        elif stripped.startswith("## "):
            heading = stripped[3:].strip()
        prose.extend(find_links(line, base_url))
        i += 1
    if in_fence:
        raise ValueError(f"{source}: unterminated code fence")
    return ParsedPage(source, base_url, title, sections, tuple(prose))


def _parse_stage_rows(
    rows: list[str], source: str, base_url: str, first_line: int
) -> dict[str, tuple[Recommendation, ...]]:
    stages: dict[str, tuple[Recommendation, ...]] = {}
    for offset, row in enumerate(rows):
        where = f"{source}:{first_line + offset}"
        cells = split_row(row)
        if len(cells) != 2:
            raise ValueError(f"{where}: expected 2 cells in a stage row, found {len(cells)}")
        description, guidance = cells
        stage = stage_of(description)
        if stage is None:
            raise ValueError(f"{where}: no stage named in {description[:60]!r}")
        if stage in stages:
            raise ValueError(f"{where}: stage {stage!r} appears twice in one table")
        if find_links(description, base_url):
            raise ValueError(f"{where}: unexpected link in the stage description cell")
        stages[stage] = parse_cell(guidance, base_url)
    return stages


def parse_page(path: str | Path) -> ParsedPage:
    """Parse one page file of the series (UTF-8 Markdown)."""
    file = Path(path)
    return parse_markdown(file.read_text(encoding="utf-8"), file.name)


def unique_links(links: tuple[Link, ...] | list[Link]) -> list[Link]:
    """``links`` without repeats (first occurrence kept), in order."""
    seen: set[Link] = set()
    out: list[Link] = []
    for link in links:
        if link not in seen:
            seen.add(link)
            out.append(link)
    return out
