"""The report of a snapshot with every consultant's field filled: sections, document control, registers, paper."""

from __future__ import annotations

import ast
import io
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from PIL import Image

from tests.support.full_snapshot import CONSULTANCY, CONTROL, PREPARED_BY, demo_snapshot, full_snapshot
from tests.test_report import flat, images, pages_text, pdf_info, pdftotext, uris
from ztmm_desktop.core.deliverable import Snapshot
from ztmm_desktop.core.register import FINDING_STATUS_LABELS, PHASE_LABELS, DocumentControl, Sections, action_numbers
from ztmm_desktop.paths import fonts_dir
from ztmm_desktop.report import render
from ztmm_desktop.report.render import Logo, render_report

REPORT_SOURCES = Path(render.__file__).parent


def _logo(colour: str, size: tuple[int, int]) -> Logo:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return Logo(buffer.getvalue(), *size)


@dataclass
class Built:
    pdf: Path
    snapshot: Snapshot

    @property
    def pages(self) -> list[str]:
        return pages_text(self.pdf)

    @property
    def text(self) -> str:
        return flat(pdftotext(self.pdf))


def build(snapshot: Snapshot, out: Path, *, logos: bool = True) -> Built:
    client = _logo("#c8463d", (200, 200)) if logos else None
    consultancy = _logo("#1d4a80", (300, 100)) if logos else None
    render_report(snapshot, out, fonts_dir=fonts_dir(), logo=client, consultancy_logo=consultancy)
    return Built(out, snapshot)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return demo_snapshot(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def full(base: Snapshot, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    yield build(full_snapshot(base), tmp_path_factory.mktemp("full") / "full.pdf")


def outline(pdf: Path) -> list[str]:
    import json

    done = subprocess.run(
        ["qpdf", "--json", "--json-key=outlines", str(pdf)], capture_output=True, text=True, check=True
    )
    return [o["title"] for o in json.loads(done.stdout)["outlines"]]


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True, check=True)
    found = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info.stdout, re.M)
    return [(float(w), float(h)) for w, h in found]


def test_the_report_runs_in_consulting_order(full: Built) -> None:
    titles = outline(full.pdf)
    assert titles[:5] == ["Contents", "Document control", "Overview", "Executive summary",
                          "Scope, approach and limitations"]  # fmt: skip
    order = ["Findings", "Roadmap", "Evidence index", "Appendix A — Method", "Appendix B — Sources and attribution"]
    assert [t for t in titles if t in order] == order
    assert titles[-1] == "Disclaimer"
    contents = flat(full.pages[1] + full.pages[2])
    for heading in ("Scope and exclusions", "Approach", "Limitations", "Now (0–3 months)"):
        assert heading in contents


def test_the_consultants_words_come_back_as_paragraphs_and_lists(full: Built) -> None:
    text = full.text
    sections = full.snapshot.sections
    assert flat("The organization has made real progress on identity") in text
    assert "• Device inventory is incomplete" in text
    assert "• Data classification exists on paper only; labels are not applied or enforced." in text  # continued
    assert "• Operational technology at the distribution centers" in text
    assert flat(sections.limitations) in text and flat(sections.disclaimer) in text
    assert "- Identity" not in text  # list marks are bullets, not hyphens


def test_an_empty_section_is_left_out_with_its_heading(base: Snapshot, tmp_path: Path) -> None:
    snapshot = replace(full_snapshot(base), sections=Sections(scope="Only the corporate estate."))
    built = build(snapshot, tmp_path / "one.pdf")
    titles = outline(built.pdf)
    assert "Scope and exclusions" in titles and not [t for t in titles if t.startswith("Scope,")]
    for gone in ("Approach", "Limitations", "Disclaimer", "Key messages"):
        assert gone not in titles
        assert gone not in built.text
    two = build(replace(base, sections=Sections(approach="Workshops.", limitations="No testing.")), tmp_path / "2.pdf")
    assert "Approach and limitations" in outline(two.pdf) and "Scope" not in outline(two.pdf)
    bare = build(replace(base, sections=Sections(), control=DocumentControl()), tmp_path / "bare.pdf", logos=False)
    assert "Key messages" not in bare.text and "Disclaimer" not in bare.text and "Document control" not in bare.text
    assert "Headline figures" in bare.text  # the overview still gives the figures


def test_overview_has_key_messages_figures_and_top_priorities(full: Built) -> None:
    snapshot = full.snapshot
    page = flat(next(p for p in full.pages if "Top priorities" in p and "Key messages" in p))
    assert "Identity is the strongest pillar" in page and "OVERALL MATURITY" in page
    first = snapshot.actions[0]
    assert f"A-01 {flat(first.text)}" in page
    for action in snapshot.actions:  # every critical-priority function reaches the overview
        if action.priority == "critical":
            assert action.function_code in page


def test_top_priorities_without_actions_are_the_largest_gaps_by_priority(base: Snapshot, tmp_path: Path) -> None:
    built = build(replace(full_snapshot(base), actions=()), tmp_path / "gaps.pdf", logos=False)
    page = flat(next(p for p in built.pages if "Top priorities" in p))
    gaps = [f for f in base.functions() if f.result.assessed and (f.result.gap or 0) > 0]
    critical = [f for f in gaps if f.assessment.priority == "critical"]
    for f in critical[:6]:
        assert flat(f.function.label) in page


def test_document_control_page(full: Built) -> None:
    page = flat(next(p for p in full.pages if "Version history" in p))
    assert CONSULTANCY in page and "REPORT VERSION" in page
    for line in CONTROL.history:
        assert line.version in page and flat(line.change) in page
    for person in CONTROL.distribution:
        assert f"{person.name} {person.organisation} {person.role}" in page
    assert "Reviewed by Quality reviewer 27 November 2026" in page
    assert "Approved by Engagement partner 30 November 2026" in page
    assert page.count("SIGNATURE") == 2 and f"For {CONSULTANCY}" in page and "For Northwind Logistics" in page


def test_cover_names_the_consultancy_and_both_logos_not_the_tool(full: Built) -> None:
    cover = flat(full.pages[0])
    assert f"PREPARED BY {PREPARED_BY}, {CONSULTANCY}" in cover
    assert CONSULTANCY in cover and "ZTMM Workbench" not in cover and "VERSION 1.0" in cover
    listing = subprocess.run(["pdfimages", "-f", "1", "-l", "1", "-list", str(full.pdf)], capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
    assert sum(1 for row in listing.splitlines()[2:] if row.split()[2] == "image") == 2
    assert images(full.pdf) == 2
    assert pdf_info(full.pdf)["Author"] == PREPARED_BY
    # The tool's name is small print in the method appendix only.
    for number, page in enumerate(full.pages, start=1):
        if "ZTMM Workbench" in page:
            assert "Appendix A — Method" in page or "The client's view" in page, number


def test_findings_register_and_heat_map(full: Built) -> None:
    register = flat("".join(p for p in full.pages if "Findings register" in p))
    numbers = full.snapshot.finding_numbers()
    for f in full.snapshot.findings:
        assert f"{numbers[f.id]} {flat(f.title)}" in register
        assert FINDING_STATUS_LABELS[f.status] in register
        if f.owner:
            assert flat(f.owner) in register
        if f.risk_rating:
            assert f"{f.risk_rating} {f.risk_score}" in register
    heat = flat(next(p for p in full.pages if "Risk heat map" in p))
    assert "5 Almost certain" in heat and "1 Rare" in heat and "IMPACT" in heat
    unrated = sum(1 for f in full.snapshot.findings if not f.risk_rating)
    if unrated:
        assert f"{unrated} finding" in heat
    method = flat(next(p for p in full.pages if "Appendix A — Method" in p or "Risk rating Each finding" in flat(p)))
    assert "Risk rating" in full.text
    assert "Low for 1–4, Medium for 5–9, High for 10–16 and Critical for 17–25" in full.text, method[:100]


def test_roadmap_lists_the_consultants_actions_by_phase(full: Built) -> None:
    actions = full.snapshot.actions
    start = next(n for n, p in enumerate(full.pages) if flat(p).startswith("CONFIDENTIAL – Client use only Roadmap"))
    text = flat("".join(full.pages[start : start + 4]))
    positions = []
    for number, action in enumerate(actions, start=1):
        line = f"A-{number:02d} {action.function_code}"
        assert line in text, line
        positions.append(text.index(line))
    assert positions == sorted(positions)  # roadmap order, never function code
    for phase in {a.phase for a in actions}:
        assert PHASE_LABELS[phase] in text
    after = next(a for a in actions if a.after)
    assert f"{flat(after.text)} " in text
    assert "Suggested products and capabilities" in full.text
    assert "The guidance packs have no recommendation" not in full.text


def test_vendor_neutral_leaves_out_all_vendor_guidance(base: Snapshot, tmp_path: Path) -> None:
    built = build(full_snapshot(base, vendor_neutral=True), tmp_path / "neutral.pdf", logos=False)
    text = built.text
    assert "Suggested products and capabilities" not in text and "Stages to climb" in text
    products = {rec.product for pack in base.packs for rec in pack.recommendations}
    assert products and not [p for p in products if f"{p} —" in text]
    for pack in base.packs:
        assert pack.title not in text
    assert [u for u in uris(built.pdf) if "cisa.gov" not in u] == []
    assert "public domain" in text  # the model's attribution stays


def test_the_clients_answers_beside_the_assessors_rating(full: Built) -> None:
    text = full.text
    sheets = [f for f in full.snapshot.functions() if f.answers]
    assert sheets
    disagreements = sum(1 for f in sheets for a in f.answers if a.agrees is False)
    assert text.count("DIFFERS") == disagreements > 0
    assert text.count("THE CLIENT'S VIEW (QUESTIONNAIRE)") == len(sheets)
    numbers = action_numbers(full.snapshot.actions)
    for action in full.snapshot.actions:  # each function names its actions by their roadmap number
        assert f"{numbers[action.id]} {flat(action.text)} ({action.phase_label})" in text
    assert "Infrastructure lead Infrastructure Partially met DIFFERS Met Only head office is covered." in text


def test_assessment_status_and_functions_never_assessed(full: Built, base: Snapshot, tmp_path: Path) -> None:
    text = full.text
    assert "Assessment: done" in text and "STATUS Done" not in text
    waiting = [f for f in full.snapshot.functions() if render._untouched(f)]
    assert waiting
    for f in waiting:
        assert f"{f.function.code} {f.function.name} CURRENT" not in text
        assert flat(f.function.label) in text
    demo = build(base, tmp_path / "demo.pdf", logos=False)
    # The demo was 42 pages, 13 of them empty stage tables; it now also carries document control, the overview and
    # the consultant's sections, and still fits in 40.
    assert len(demo.pages) <= 40
    shown = [f for f in base.functions() if not render._untouched(f)]
    assert len(shown) < len(base.functions())
    assert len(shown) <= demo.text.count("STAGE DESCRIPTION (CISA)") <= len(shown) + 6  # a head repeats on a split
    assert "not assessed TARGET" not in demo.text  # no function's facts without an assessment


@pytest.mark.parametrize(("paper", "size"), [("A4", (595.28, 841.89)), ("Letter", (612.0, 792.0))])
def test_every_page_is_the_chosen_paper(base: Snapshot, tmp_path: Path, paper: str, size: tuple[float, float]) -> None:
    from ztmm_desktop.core.deliverable import EvidenceLine

    items = tuple(
        EvidenceLine(f"e{n}", f"Export {n}", "", f"export-{n}.csv", "text/csv", 1000 + n, f"{n:064x}", "export",
                     "2026-11-01T00:00:00+00:00", "Lead assessor", ("1.1 Authentication",))
        for n in range(60)
    )  # fmt: skip
    snapshot = replace(full_snapshot(base, paper=paper), evidence=items)
    built = build(snapshot, tmp_path / f"{paper}.pdf")
    sizes = page_sizes(built.pdf)
    assert len(sizes) == len(built.pages)
    portrait, landscape = size, (size[1], size[0])
    index = [n for n, p in enumerate(built.pages) if "LINKED TO" in p]
    assert index
    for number, (w, h) in enumerate(sizes):
        expected = landscape if number in index else portrait
        assert abs(w - expected[0]) < 1 and abs(h - expected[1]) < 1, (paper, number + 1, w, h)
    assert "E-01, “Export 0”" in built.text  # the index's example is this engagement's own
    assert "a function (1.1)" in built.text


def test_the_foot_holds_the_client_and_title_on_every_page(full: Built) -> None:
    meta = full.snapshot.meta
    foot = f"{meta.client} — {meta.title}"
    for number, page in enumerate(full.pages[1:], start=2):
        assert foot in flat(page), number


def test_no_heading_ends_a_page(full: Built) -> None:
    headings = {"Key messages", "Headline figures", "Top priorities", "Version history", "Distribution",
                "Review and approval", "Sign-off", "Risk heat map", "Findings register", "Not assessed yet",
                "Suggested products and capabilities", *PHASE_LABELS.values()}  # fmt: skip
    for number, page in enumerate(full.pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        body = [line for line in lines if not line.startswith(("CONFIDENTIAL", "Page ", "Northwind Logistics"))]
        assert body and body[-1] not in headings, (number, body[-3:])


def test_no_client_jargon_and_us_spelling_in_the_reports_own_words(full: Built) -> None:
    text = full.text
    assert not re.search(r"(?<![-\w])ztmm ", text)  # no command line (the catalog's id "cisa-ztmm" is fine)
    own = flat("".join(p for p in full.pages if "Appendix B — Sources" not in p))  # attribution is quoted as given
    for jargon in ("guidance pack", "Prepared with", "engagement file", "workbook"):
        assert jargon not in own, jargon
    british = re.compile(r"organis|colour|licence|catalogue|centre|behaviour|favour|honour", re.I)
    for source in REPORT_SOURCES.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if node.value.isidentifier():  # a name in code (``organisation``), not words a reader sees
                    continue
                assert not british.findall(node.value), (source.name, node.value[:80])
