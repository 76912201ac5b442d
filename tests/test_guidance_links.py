"""The Microsoft guidance pack carries exactly the links of Microsoft's CISA ZTMM pages.

Each page of the series (Microsoft Learn, CC BY 4.0) is parsed with ``tests/support/ms_pages.py``
and compared with ``catalog/guidance/microsoft-cisa-ztmm/<pillar>.yaml``: every link of every
function table cell must be in the pack under the same function id and stage, grouped under the
product heading it follows, and the pack must hold no link the page does not have. Prose links
(outside the function tables) go to ``pillar_references``, or ``references`` for the intro page.
Function ids come from the ``microsoft_guidance`` mapping of the reference ZTMM model.
The pages are the unchanged copies in tests/fixtures/reference/.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REFERENCE
from tests.support.ms_pages import (
    STAGES,
    Link,
    ParsedPage,
    cell_lines,
    clean_title,
    find_links,
    heading_of,
    page_url,
    parse_cell,
    parse_markdown,
    parse_page,
    resolve_url,
    stage_of,
)

REFERENCE_DIR = REFERENCE
PAGES_DIR = REFERENCE_DIR / "microsoft-cisa-ztmm"
MODEL_JSON = REFERENCE_DIR / "cisa-ztmm-v2" / "ztmm-v2.json"
PACK_DIR = Path(__file__).resolve().parents[1] / "catalog" / "guidance" / "microsoft-cisa-ztmm"

PAGE_PREFIX = "cisa-zero-trust-maturity-model-"
# Short page names of the five pillar pages; each one's pack file is <short>.yaml.
PILLAR_PAGES = ("identity", "devices", "networks", "apps", "data")
INTRO_PAGE = f"{PAGE_PREFIX}intro.md"
RECOMMENDATION_KEYS = {"function", "stage", "product", "action", "references"}

CellKey = tuple[str, str]  # (function id, stage)


def page_file(short: str) -> str:
    return f"{PAGE_PREFIX}{short}.md"


@cache
def model() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MODEL_JSON.read_text(encoding="utf-8"))
    return data


@cache
def parsed(filename: str) -> ParsedPage:
    return parse_page(PAGES_DIR / filename)


@cache
def pack(filename: str) -> dict[str, Any]:
    path = PACK_DIR / filename
    assert path.is_file(), f"guidance pack file {path} is missing"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: top level must be a mapping"
    return data


def pillar_of(filename: str) -> str:
    return next(str(p["id"]) for p in model()["pillars"] if p["microsoft_page"] == filename)


def section_functions(filename: str) -> dict[str, str]:
    """Section heading -> function id, from the model's ``microsoft_guidance`` mapping."""
    return {
        f["microsoft_guidance"]["section"]: f["id"]
        for p in model()["pillars"]
        for f in p["functions"]
        if f["microsoft_guidance"]["file"] == filename
    }


def as_link(entry: Any, where: str) -> Link:
    assert isinstance(entry, dict) and set(entry) == {"title", "url"}, (
        f"{where}: expected {{title, url}}, got {entry!r}"
    )
    title, url = entry["title"], entry["url"]
    assert isinstance(title, str) and title and title == title.strip(), f"{where}: bad title {title!r}"
    assert isinstance(url, str) and url.startswith(("https://", "http://")), f"{where}: bad url {url!r}"
    return Link(title, url)


def page_cells(short: str) -> dict[CellKey, list[tuple[str | None, tuple[Link, ...]]]]:
    """(function id, stage) -> the cell's (product heading, links) groups, in page order."""
    filename = page_file(short)
    functions = section_functions(filename)
    return {
        (functions[heading], stage): [(rec.product, rec.links) for rec in recs]
        for heading, section in parsed(filename).sections.items()
        for stage, recs in section.stages.items()
    }


def pack_cells(short: str) -> dict[CellKey, list[tuple[str, tuple[Link, ...]]]]:
    """(function id, stage) -> the pack's (product, references) entries, in file order."""
    cells: dict[CellKey, list[tuple[str, tuple[Link, ...]]]] = {}
    for index, rec in enumerate(pack(f"{short}.yaml").get("recommendations") or []):
        where = f"{short}.yaml recommendations[{index}]"
        assert isinstance(rec, dict), f"{where}: not a mapping"
        refs = rec.get("references")
        assert isinstance(refs, list), f"{where}: references must be a list"
        links = tuple(as_link(ref, f"{where}.references") for ref in refs)
        key = (str(rec.get("function")), str(rec.get("stage")))
        cells.setdefault(key, []).append((str(rec.get("product")), links))
    return cells


def merge_by_product(
    groups: list[tuple[Any, tuple[Link, ...]]],
) -> list[tuple[Any, list[Link]]]:
    """Join groups with the same product (first occurrence keeps its place), links in order."""
    merged: dict[Any, list[Link]] = {}
    for product, links in groups:
        merged.setdefault(product, []).extend(links)
    return list(merged.items())


def describe(links: Counter[Link]) -> str:
    return "\n".join(f"    {link.title!r} -> {link.url}" + (f" (x{n})" if n > 1 else "") for link, n in links.items())


# ---------------------------------------------------------------------------------------------
# Pillar pages against the pack


@pytest.mark.parametrize("short", PILLAR_PAGES)
def test_page_sections_are_the_model_functions(short: str) -> None:
    filename = page_file(short)
    page = parsed(filename)
    assert set(page.sections) == set(section_functions(filename)), "page tables and model mapping disagree"
    for heading, section in page.sections.items():
        assert tuple(section.stages) == STAGES, f"{heading}: stage rows {tuple(section.stages)}"


@pytest.mark.parametrize("short", PILLAR_PAGES)
def test_pack_header(short: str) -> None:
    filename = page_file(short)
    data = pack(f"{short}.yaml")
    assert data.get("source") == filename
    assert data.get("source_url") == page_url(filename)
    assert data.get("pillar") == pillar_of(filename)
    known = set(section_functions(filename).values())
    for index, rec in enumerate(data.get("recommendations") or []):
        where = f"{short}.yaml recommendations[{index}]"
        assert isinstance(rec, dict) and set(rec) == RECOMMENDATION_KEYS, f"{where}: keys {sorted(rec)}"
        assert rec["function"] in known, f"{where}: function {rec['function']!r} is not on this page"
        assert rec["stage"] in STAGES, f"{where}: stage {rec['stage']!r}"
        for key in ("product", "action"):
            value = rec[key]
            assert isinstance(value, str) and value.strip() == value and value, f"{where}: bad {key} {value!r}"


@pytest.mark.parametrize("short", PILLAR_PAGES)
def test_every_table_link_is_in_the_pack(short: str) -> None:
    """Each link of a cell is in the pack under the same function and stage, as often as on the page."""
    published, packed = page_cells(short), pack_cells(short)
    problems = []
    for key, groups in published.items():
        missing = Counter(link for _, links in groups for link in links)
        missing.subtract(link for _, links in packed.get(key, []) for link in links)
        missing = +missing
        if missing:
            problems.append(f"  {key[0]} / {key[1]}: not in the pack\n{describe(missing)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("short", PILLAR_PAGES)
def test_every_pack_link_is_on_the_page(short: str) -> None:
    """Converse: the pack invents no link and files none under a function or stage where the page lacks it."""
    published, packed = page_cells(short), pack_cells(short)
    problems = []
    for key, entries in packed.items():
        extra = Counter(link for _, links in entries for link in links)
        extra.subtract(link for _, links in published.get(key, []) for link in links)
        extra = +extra
        if extra:
            problems.append(f"  {key[0]} / {key[1]}: not on the page there\n{describe(extra)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("short", PILLAR_PAGES)
def test_links_sit_under_their_product_heading(short: str) -> None:
    """Per cell, the pack has one entry per product heading, in page order, each with that heading's links.

    A heading repeated in one cell may be one entry or several; linked text before the first heading
    of a cell may carry any product name that is not one of that cell's headings.
    """
    published, packed = page_cells(short), pack_cells(short)
    problems = []
    for key in sorted(set(published) | set(packed)):
        expected = merge_by_product(list(published.get(key, [])))
        actual = merge_by_product(list(packed.get(key, [])))
        headings = {product for product, _ in expected}
        if expected and expected[0][0] is None and actual and actual[0][0] not in headings:
            actual[0] = (None, actual[0][1])
        if expected != actual:
            problems.append(
                f"  {key[0]} / {key[1]}:\n    page: {[(p, len(links)) for p, links in expected]}\n"
                f"    pack: {[(p, len(links)) for p, links in actual]}"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("short", PILLAR_PAGES)
def test_prose_links_are_pillar_references(short: str) -> None:
    filename = page_file(short)
    data = pack(f"{short}.yaml")
    refs = data.get("pillar_references")
    assert isinstance(refs, list), "pillar_references must be a list"
    packed = {as_link(ref, f"{short}.yaml pillar_references") for ref in refs}
    published = set(parsed(filename).prose_links)
    assert not published - packed, (
        f"prose links missing from pillar_references:\n{describe(Counter(published - packed))}"
    )
    assert not packed - published, f"pillar_references not in the page prose:\n{describe(Counter(packed - published))}"


def test_intro_links_are_intro_references() -> None:
    page = parsed(INTRO_PAGE)
    assert not page.sections, "the intro page has no function tables"
    data = pack("intro.yaml")
    assert set(data) == {"source", "source_url", "references"}
    assert data["source"] == INTRO_PAGE
    assert data["source_url"] == page_url(INTRO_PAGE)
    packed = {as_link(ref, "intro.yaml references") for ref in data["references"]}
    published = set(page.prose_links)
    assert not published - packed, f"intro links missing from intro.yaml:\n{describe(Counter(published - packed))}"
    assert not packed - published, f"intro.yaml links not on the page:\n{describe(Counter(packed - published))}"


# ---------------------------------------------------------------------------------------------
# Parser unit tests

BASE = "https://learn.microsoft.com/security/zero-trust/cisa-zero-trust-maturity-model-devices"


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/entra/identity/x", "https://learn.microsoft.com/entra/identity/x"),
        (
            "/en-us/azure/firewall-manager/overview",
            "https://learn.microsoft.com/en-us/azure/firewall-manager/overview",
        ),
        (
            "/graph/api/resources/x?view=graph-rest-1.0&preserve-view=true",
            "https://learn.microsoft.com/graph/api/resources/x?view=graph-rest-1.0&preserve-view=true",
        ),
        (
            "/entra/x/howto#stream-logs",
            "https://learn.microsoft.com/entra/x/howto#stream-logs",
        ),
        (
            "https://www.cisa.gov/sites/default/files/2023-12/Azure%20Active%20Directory%20SCB_12.20.2023.pdf",
            "https://www.cisa.gov/sites/default/files/2023-12/Azure%20Active%20Directory%20SCB_12.20.2023.pdf",
        ),
        ("http://example.com/A?b=1#C", "http://example.com/A?b=1#C"),
        (
            "cisa-zero-trust-maturity-model-data.md",
            "https://learn.microsoft.com/security/zero-trust/cisa-zero-trust-maturity-model-data",
        ),
        (
            "cisa-zero-trust-maturity-model-data.md#51-function-data-inventory-management",
            "https://learn.microsoft.com/security/zero-trust/cisa-zero-trust-maturity-model-data#51-function-data-inventory-management",
        ),
        ("#21-function-policy", f"{BASE}#21-function-policy"),
        ("", BASE),
        (
            "./media/x/diagram.png",
            "https://learn.microsoft.com/security/zero-trust/media/x/diagram.png",
        ),
        (
            "media/x/big.png#lightbox",
            "https://learn.microsoft.com/security/zero-trust/media/x/big.png#lightbox",
        ),
        (
            "deploy/identity.md",
            "https://learn.microsoft.com/security/zero-trust/deploy/identity",
        ),
        ("../operations/x.md", "https://learn.microsoft.com/security/operations/x"),
    ],
)
def test_resolve_url(href: str, expected: str) -> None:
    assert resolve_url(href, BASE) == expected


def test_page_url() -> None:
    assert page_url("cisa-zero-trust-maturity-model-identity.md") == (
        "https://learn.microsoft.com/security/zero-trust/cisa-zero-trust-maturity-model-identity"
    )


def test_find_links_titles_and_images() -> None:
    text = (
        "See [ **Bold** title ](/a) and [*italic*](/b), an image ![not a link](media/x.png), "
        "[ ![Table of stages.](media/s.png)](media/s-big.png#lightbox) and [x (y)](/c_(d))."
    )
    assert find_links(text, BASE) == [
        Link("Bold title", "https://learn.microsoft.com/a"),
        Link("italic", "https://learn.microsoft.com/b"),
        Link(
            "Table of stages.",
            "https://learn.microsoft.com/security/zero-trust/media/s-big.png#lightbox",
        ),
        Link("x (y)", "https://learn.microsoft.com/c_(d)"),
    ]
    assert find_links("> [!NOTE] no link [here] (/x)", BASE) == []
    assert clean_title("  snake_case_name ") == "snake_case_name"


@pytest.mark.parametrize("br", ["</br>", "<br>", "<br/>", "<br />", "<BR>", "< br / >"])
def test_cell_lines_split_on_every_br_variant(br: str) -> None:
    cell = f"**Intune**{br} Do this.{br}{br} - [Doc](/d) {br}**Sentinel**{br}[S](/s)"
    assert cell_lines(cell) == [
        "**Intune**",
        "Do this.",
        "- [Doc](/d)",
        "**Sentinel**",
        "[S](/s)",
    ]
    assert [rec.product for rec in parse_cell(cell, BASE)] == ["Intune", "Sentinel"]


def test_heading_detection() -> None:
    assert heading_of("**Microsoft Entra ID**") == "Microsoft Entra ID"
    assert heading_of("**Microsoft Entra ID**, **Azure Monitor**") == "Microsoft Entra ID, Azure Monitor"
    assert heading_of("**Microsoft Intune, Microsoft Configuration Manager**") == (
        "Microsoft Intune, Microsoft Configuration Manager"
    )
    assert heading_of("At this stage it is complete. *See* **Advanced** status.") is None
    assert heading_of("**Note** text after the bold") is None


def test_paragraph_without_heading_belongs_to_previous_heading() -> None:
    cell = (
        "**Microsoft Entra ID**</br>Consolidate.</br> - [A](/a)</br></br>"
        "Inventory apps, no new heading.</br> - [B](/b)</br></br>"
        "**Microsoft Intune**</br>Manage.</br> [C](/c)</br></br>"
    )
    recs = parse_cell(cell, BASE)
    assert [(r.product, [link.title for link in r.links]) for r in recs] == [
        ("Microsoft Entra ID", ["A", "B"]),
        ("Microsoft Intune", ["C"]),
    ]


def test_text_before_the_first_heading() -> None:
    unlinked = parse_cell(
        "Enterprises can review events.</br></br>**Microsoft Entra ID**</br>[A](/a)",
        BASE,
    )
    assert [(r.product, len(r.links)) for r in unlinked] == [("Microsoft Entra ID", 1)]
    linked = parse_cell("For more, see [5.1](#51-x).</br></br>**Data Catalog**</br>[D](/d)", BASE)
    assert [(r.product, [link.url for link in r.links]) for r in linked] == [
        (None, [f"{BASE}#51-x"]),
        ("Data Catalog", ["https://learn.microsoft.com/d"]),
    ]
    heading_without_links = parse_cell("**Microsoft Entra ID**</br>Done.</br></br>**X**</br>[X](/x)", BASE)
    assert [(r.product, len(r.links)) for r in heading_without_links] == [
        ("Microsoft Entra ID", 0),
        ("X", 1),
    ]


@pytest.mark.parametrize(
    ("cell", "stage"),
    [
        ("**Initial Maturity Status**</br></br>Enterprise ...", "initial"),
        ("**Advanced Maturity Status** </br> Enterprise performs ...", "advanced"),
        (
            "**Optimal Maturity Model** </br></br> Enterprise continuously ...",
            "optimal",
        ),
        ("**Traditional**</br>Manual.", None),
    ],
)
def test_stage_of(cell: str, stage: str | None) -> None:
    assert stage_of(cell) == stage


SMALL_PAGE = """---
title: Example
ms.date: 12/16/2024
---

# Example pillar

Intro with [Zero Trust](/security/zero-trust/deploy/identity) and ![diagram](./media/d.png).

## 9.1 Function: Example

|**CISA ZTMM Stage Description**|**Microsoft guidance and recommendations**|
|---|--|
|**Initial Maturity Status**</br></br>Text. |**Product A**</br> Do. </br> - [A1](/a1) </br></br>More.<br/>[A2](https://example.com/a2?x=1)|
|**Optimal Maturity Model** <br /> Text.|**Product B**, **Product C**<br>[BC](cisa-zero-trust-maturity-model-data.md#x)|

## Next steps

* [Data](cisa-zero-trust-maturity-model-data.md)
"""


def test_parse_markdown_separates_tables_from_prose() -> None:
    page = parse_markdown(SMALL_PAGE, "cisa-zero-trust-maturity-model-example.md")
    assert page.title == "Example pillar"
    assert page.url == "https://learn.microsoft.com/security/zero-trust/cisa-zero-trust-maturity-model-example"
    assert page.prose_links == (
        Link(
            "Zero Trust",
            "https://learn.microsoft.com/security/zero-trust/deploy/identity",
        ),
        Link(
            "Data",
            "https://learn.microsoft.com/security/zero-trust/cisa-zero-trust-maturity-model-data",
        ),
    )
    section = page.sections["9.1 Function: Example"]
    assert list(section.stages) == ["initial", "optimal"]
    assert section.links("initial") == (
        Link("A1", "https://learn.microsoft.com/a1"),
        Link("A2", "https://example.com/a2?x=1"),
    )
    assert [rec.product for rec in section.stages["optimal"]] == ["Product B, Product C"]
    assert section.links("optimal") == (
        Link(
            "BC",
            "https://learn.microsoft.com/security/zero-trust/cisa-zero-trust-maturity-model-data#x",
        ),
    )
    assert section.links("advanced") == ()


def test_parse_markdown_rejects_a_row_without_stage() -> None:
    text = "## 9.2 Function: Broken\n\n|**Stage**|**Guidance**|\n|---|---|\n|**Someday**|**P**</br>[x](/x)|\n"
    with pytest.raises(ValueError, match="no stage"):
        parse_markdown(text, "broken.md")
