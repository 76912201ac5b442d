"""The Word report as Word, python-docx and LibreOffice see it: content, structure, template, hostile input."""

from __future__ import annotations

import dataclasses
import itertools
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from lxml import etree
from PIL import Image

from tests.conftest import run_cli
from tests.support import hostile_templates as bad
from tests.support.deliverable_text import ReportFigures, info_json, pdf_text
from tests.support.full_workbook_snapshot import full_snapshot
from tests.test_cli import assert_refused
from ztmm_desktop.core.deliverable import Snapshot
from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.core.register import action_numbers
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.paths import fonts_dir
from ztmm_desktop.services import evidence
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.demo import open_demo
from ztmm_desktop.services.engagement import Properties, create_engagement, open_engagement
from ztmm_desktop.services.report import default_template, export_report
from ztmm_desktop.word.render import TOC_INSTRUCTION, render_word
from ztmm_desktop.word.template import check_template, load_template

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {
    "w": W,
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"


@dataclass
class Built:
    docx: Path
    snapshot: Snapshot
    engagement: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The demo engagement, with evidence on a function and a finding, as a Word report."""
    folder = tmp_path_factory.mktemp("word")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTMM_DATA_DIR", str(folder / "data"))
        patch.setenv("ZTMM_ASSESSOR", "Lead assessor")  # who prepares the report, never the login name
        picture = folder / "ca-policies.png"
        Image.new("RGB", (40, 20), "#2563a8").save(picture)
        with open_demo() as engagement:
            finding = engagement.findings()[0]
            evidence.attach(engagement, picture, [evidence.parse_link(engagement, "1.1/advanced")], kind="screenshot")
            evidence.attach(engagement, picture, [evidence.EvidenceLink(finding_id=finding.id)], title="Finding proof")
            engagement.save()
            snapshot = build_snapshot(engagement)
            out = export_report(engagement, folder / "demo.docx")
            path = engagement.path
    yield Built(out, snapshot, path)


def blocks(document: Any) -> list[tuple[str, str, Any]]:
    """The body in document order: ``("p", style, paragraph)`` and ``("t", "", table)``."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[tuple[str, str, Any]] = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            paragraph = Paragraph(child, document._body)
            out.append(("p", paragraph.style.name if paragraph.style is not None else "", paragraph))
        elif child.tag == qn("w:tbl"):
            out.append(("t", "", Table(child, document._body)))
    return out


def table_text(table: Any) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def all_text(document: Any) -> str:
    parts = []
    for kind, _, item in blocks(document):
        if kind == "p":
            parts.append(item.text)
        else:
            parts += ["\t".join(row) for row in table_text(item)]
    return "\n".join(parts)


def part_xml(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def part_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


# -- the content ---------------------------------------------------------------------------------------


def test_every_function_rating_comment_finding_and_action_is_there_in_order(demo: Built) -> None:
    document = docx.Document(str(demo.docx))
    body = blocks(document)
    text = all_text(document)
    headings = [(i, item.text) for i, (kind, style, item) in enumerate(body) if style == "Heading 2"]
    position = {title: i for i, title in headings}
    last = -1
    for sheet in demo.snapshot.functions():
        label = sheet.function.label
        assert label in text, label
        if label not in position:  # never assessed: listed once under its pillar
            assert not sheet.result.assessed
            continue
        start = position[label]
        assert start > last, f"{label} out of order"
        last = start
        stage_table = next(item for kind, _, item in body[start:] if kind == "t" and "Stage" in table_text(item)[0])
        rows = table_text(stage_table)
        assert rows[0][:4] == ["Stage", "Stage description (CISA)", "Rating", "Assessor's comment"]
        for line, row in zip(sheet.stages, rows[1:], strict=True):
            assert row[0].startswith(line.stage.label)
            assert row[1] == line.text
            if line.stage is not Stage.TRADITIONAL:
                assert row[2] == line.rating.label, (label, line.stage)
            assert row[3] == (line.comment if line.comment.strip() else "—")
    numbers = demo.snapshot.finding_numbers()
    register = next(item for kind, _, item in body if kind == "t" and table_text(item)[0][:3] == ["No.", "Severity", "Finding"] and len(table_text(item)[0]) == 8)  # fmt: skip
    rows = table_text(register)[1:]
    assert [row[0] for row in rows] == [numbers[f.id] for f in demo.snapshot.findings]
    assert [row[2] for row in rows] == [f.title for f in demo.snapshot.findings]
    for finding in demo.snapshot.findings:
        assert finding.observation in text
    actions = action_numbers(demo.snapshot.actions)
    found = [text.index(f"{actions[a.id]}\t{a.text}") for a in demo.snapshot.actions]
    assert found == sorted(found) and len(found) == len(demo.snapshot.actions)


def test_sections_follow_the_pdf_order_and_empty_ones_are_left_out(demo: Built) -> None:
    document = docx.Document(str(demo.docx))
    top = [item.text for _, style, item in blocks(document) if style == "Heading 1"]
    wanted = ["Document control", "Overview", "Executive summary", "Scope and approach"]
    assert top[:4] == wanted
    assert top.index("Maturity at a glance") < top.index("1  Identity") < top.index("Findings") < top.index("Roadmap")
    assert top[-3:] == ["Appendix A — Method", "Appendix B — Sources and attribution", "Disclaimer"]


def test_an_engagement_with_nothing_written_leaves_the_consultants_sections_out(tmp_path: Path) -> None:
    path = tmp_path / "bare.ztmm"
    with create_engagement(path, Properties(client="Bare Ltd", title="Scoping")) as engagement:
        out = export_report(engagement, tmp_path / "bare.docx")
    document = docx.Document(str(out))
    top = [item.text for _, style, item in blocks(document) if style == "Heading 1"]
    for left_out in ("Document control", "Scope and approach", "Disclaimer", "Maturity at a glance", "Workshops"):
        assert left_out not in top
    assert "Nothing has been assessed yet." in all_text(document)
    assert not any(s.startswith("Heading") and not item.text.strip() for _, s, item in blocks(document))


# -- the structure -------------------------------------------------------------------------------------


def test_real_word_structure(demo: Built) -> None:
    document = docx.Document(str(demo.docx))
    levels = [int(style[-1]) for _, style, _ in blocks(document) if re.fullmatch(r"Heading [1-9]", style)]
    assert levels[0] == 1 and set(levels) == {1, 2, 3}
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, "a heading level is skipped"
    tables = document.element.body.findall(".//w:tbl", NS)
    assert len(tables) > 20
    for tbl in tables:
        first = tbl.find("w:tr", NS)
        assert first.find("w:trPr/w:tblHeader", NS) is not None, "a table without a repeating header row"
    xml = part_xml(demo.docx, "word/document.xml")
    root = etree.fromstring(xml)
    pictures = root.findall(".//wp:docPr", NS)
    assert len(pictures) >= 3  # the template's logo and the two charts
    assert all(p.get("descr", "").strip() for p in pictures), "an image without alt text"
    assert [i.text.strip() for i in root.iter(qn("w:instrText"))] == [TOC_INSTRUCTION]
    assert root.findall(".//w:fldSimple", NS) == []
    settings = etree.fromstring(part_xml(demo.docx, "word/settings.xml"))
    assert settings.find("w:updateFields", NS).get(qn("w:val")) == "true"
    styles = etree.fromstring(part_xml(demo.docx, "word/styles.xml"))
    assert styles.find("w:docDefaults/w:rPrDefault/w:rPr/w:lang", NS).get(qn("w:val")) == "en-US"
    footers = b"".join(part_xml(demo.docx, n) for n in part_names(demo.docx) if re.match(r"word/footer\d*\.xml", n))
    assert b" PAGE " in footers and b" NUMPAGES " in footers
    marking = demo.snapshot.meta.marking
    headers = b"".join(part_xml(demo.docx, n) for n in part_names(demo.docx) if re.match(r"word/header\d*\.xml", n))
    assert marking.encode() in headers and marking.encode() in footers
    props = document.core_properties
    assert props.author == demo.snapshot.meta.prepared_by != ""
    assert props.last_modified_by == demo.snapshot.meta.prepared_by
    assert props.subject == demo.snapshot.meta.client
    assert props.title == demo.snapshot.meta.title
    for section in document.sections:
        assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)


def test_links_are_real_hyperlinks_and_the_only_external_relationships(demo: Built) -> None:
    document = docx.Document(str(demo.docx))
    references = {ref.url for item in demo.snapshot.roadmap for step in item.steps for rec in step.recommendations
                  for ref in rec.references}  # fmt: skip
    external = {rel.target_ref: rel.reltype for rel in document.part.rels.values() if rel.is_external}
    assert external, "no hyperlinks"
    assert set(external.values()) == {HYPERLINK}
    assert all(url.startswith("https://") for url in external)
    assert references <= set(external)
    root = etree.fromstring(part_xml(demo.docx, "word/document.xml"))
    used = {link.get(qn("r:id")) for link in root.iter(qn("w:hyperlink"))}
    assert {document.part.rels[r].target_ref for r in used} == set(external)
    for name in part_names(demo.docx):
        if name.endswith(".rels") and name != "word/_rels/document.xml.rels":
            assert b'TargetMode="External"' not in part_xml(demo.docx, name), name


def test_letter_paper_vendor_neutral_and_document_control(demo: Built, tmp_path: Path) -> None:
    full = full_snapshot(demo.snapshot)
    neutral = dataclasses.replace(full, meta=dataclasses.replace(full.meta, vendor_neutral=True))
    out = tmp_path / "neutral.docx"
    render_word(neutral, out, load_template(default_template()), fonts_dir=fonts_dir())
    document = docx.Document(str(out))
    for section in document.sections:
        assert (round(section.page_width.inches, 2), round(section.page_height.inches, 2)) == (8.5, 11.0)
    headings = [item.text for _, style, item in blocks(document) if style.startswith("Heading")]
    assert "Vendor suggestions" not in headings
    assert not any(pack.title in h for pack in full.packs for h in headings)
    assert "Limitations" not in headings  # left empty in the full snapshot
    for title in ("Version history", "Distribution", "Review and sign-off", "Key messages", "Top priorities"):
        assert title in headings
    text = all_text(document)
    assert "Reviewed by\tQuality reviewer\t12 March 2026" in text
    assert "≠ Differs: " in text  # the client's answer that differs from the rating
    assert [h for h in headings if h == "Disclaimer"] and headings[-1] == "Disclaimer"
    assert document.core_properties.author == "Lead assessor"
    with_vendor = tmp_path / "vendor.docx"
    render_word(full, with_vendor, load_template(default_template()), fonts_dir=fonts_dir())
    assert "Vendor suggestions" in [i.text for _, s, i in blocks(docx.Document(str(with_vendor))) if s == "Heading 2"]


# -- hostile text ---------------------------------------------------------------------------------------

PAYLOAD = (
    '{{client}} {{report_body}} {% if x %}yes{% endif %} DDE "cmd /c calc" { INCLUDETEXT "c:\\\\x" } '
    '{ HYPERLINK "http://203.0.113.9/" } <w:fldSimple w:instr="DDEAUTO x"/> ]]> &amp; R&D \x01\x07\x1b '
    "\u202eevil\u202c \u200f שלום"
)
SHOWN = "".join(ch for ch in PAYLOAD if ch not in "\x01\x07\x1b")


def test_hostile_text_comes_back_literally_and_makes_no_field(demo: Built, tmp_path: Path) -> None:
    snapshot = full_snapshot(demo.snapshot, text=PAYLOAD)
    findings = tuple(
        dataclasses.replace(f, title=PAYLOAD, observation=PAYLOAD, risk=PAYLOAD, recommendation=PAYLOAD, owner=PAYLOAD)
        for f in snapshot.findings
    )
    pillars = []
    for pillar in snapshot.pillars:
        sheets = []
        for sheet in pillar.functions:
            stages = tuple(dataclasses.replace(line, comment=PAYLOAD) for line in sheet.stages)
            assessment = dataclasses.replace(sheet.assessment, notes=PAYLOAD, owner=PAYLOAD)
            mine = tuple(f for f in findings if f.function_id == sheet.function.id)
            sheets.append(dataclasses.replace(sheet, stages=stages, assessment=assessment, findings=mine))
        pillars.append(dataclasses.replace(pillar, functions=tuple(sheets)))
    meta = dataclasses.replace(snapshot.meta, client=PAYLOAD, title=PAYLOAD, marking=PAYLOAD)
    snapshot = dataclasses.replace(snapshot, findings=findings, pillars=tuple(pillars), meta=meta)
    out = tmp_path / "hostile.docx"
    render_word(snapshot, out, load_template(default_template()), fonts_dir=fonts_dir())
    document = docx.Document(str(out))
    text = all_text(document)
    assert text.count(SHOWN) >= 20
    assert "\x01" not in text
    for name in part_names(out):
        if not name.endswith(".xml"):
            continue
        root = etree.fromstring(part_xml(out, name))
        instructions = [i.text.strip() for i in root.iter(qn("w:instrText"))]
        assert root.findall(".//w:fldSimple", NS) == [], name
        allowed = {TOC_INSTRUCTION} if name == "word/document.xml" else {"PAGE", "NUMPAGES"}
        assert set(instructions) <= allowed, (name, instructions)
    headers = [p.text for s in document.sections for p in s.header.paragraphs]
    assert any(SHOWN in h for h in headers)  # the marking, as text
    cover = [item.text for _, _, item in blocks(document)[:12] if hasattr(item, "text")]
    assert SHOWN in cover  # the client's name, not filled in a second time
    rels = document.part.rels.values()
    assert all(not rel.is_external or rel.reltype == HYPERLINK for rel in rels)
    assert not any("203.0.113.9" in rel.target_ref for rel in rels)
    assert document.core_properties.subject == SHOWN


# -- the template -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("small") / "client.ztmm"
    with create_engagement(path, Properties(client="Contoso Ltd", title="Baseline", assessors=("Lead",))) as e:
        e.assess("1.1", ratings={Stage.INITIAL: Rating.MET, Stage.ADVANCED: Rating.PARTIAL}, target=Stage.OPTIMAL)
        e.save()
    return path


@pytest.mark.parametrize("kind", sorted(bad.BAD))
def test_a_bad_template_is_refused_and_nothing_is_written(kind: str, small: Path, tmp_path: Path) -> None:
    build, name, words = bad.BAD[kind]
    template = build(bad.DEFAULT, tmp_path / name)
    out = tmp_path / "report.docx"
    with pytest.raises(BadInput) as caught:
        load_template(template)
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert not out.exists()


@pytest.mark.parametrize("kind", ["docm", "zip-bomb", "entity-bomb", "no-report-body", "external-relationship"])
def test_the_cli_refuses_a_bad_template_in_one_line(kind: str, small: Path, tmp_path: Path) -> None:
    build, name, words = bad.BAD[kind]
    template = build(bad.DEFAULT, tmp_path / name)
    out = tmp_path / "report.docx"
    assert_refused(run_cli("report", small, out, "--template", template), words)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_the_cli_writes_word_by_extension_and_refuses_mixed_options(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.docx"
    done = run_cli("report", small, out, "--draft")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    document = docx.Document(str(out))
    assert "Contoso Ltd" in all_text(document)
    assert document.core_properties.content_status == "Draft"
    assert any(p.text.startswith("DRAFT") for s in document.sections for p in s.header.paragraphs)
    assert_refused(run_cli("report", small, tmp_path / "r.pdf", "--template", bad.DEFAULT), "--template")
    assert_refused(run_cli("report", small, tmp_path / "r2.docx", "--logo", tmp_path / "x.png"), "--logo")
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "r2.docx").exists()


def test_the_default_template_is_acceptable_and_documents_every_placeholder() -> None:
    template = load_template(default_template())
    assert check_template("copy.docx", template.data).data == template.data
    guide = (bad.ROOT / "docs" / "word-template.md").read_text(encoding="utf-8")
    from ztmm_desktop.word.template import PLACEHOLDERS

    for name in (*PLACEHOLDERS, "report_body"):
        assert "{{" + name + "}}" in guide


def test_a_firms_edits_to_the_template_are_kept(small: Path, tmp_path: Path) -> None:
    firm = docx.Document(str(bad.DEFAULT))
    heading = firm.styles["Heading 1"]
    heading.font.name = "Georgia"
    heading.font.color.rgb = docx.shared.RGBColor(0x8B, 0x00, 0x3A)
    body = next(p for p in firm.paragraphs if p.text == "{{report_body}}")
    boilerplate = body.insert_paragraph_before("Our standard terms of engagement apply to this report ({{client}}).")
    del boilerplate
    logo_part = next(rel.target_part for rel in firm.part.rels.values() if "image" in rel.reltype)
    new_logo = bad.png("#8b003a")
    logo_part._blob = new_logo
    template = tmp_path / "firm.docx"
    firm.save(str(template))
    out = tmp_path / "report.docx"
    done = run_cli("report", small, out, "--template", template)
    assert done.returncode == 0, done.stderr
    document = docx.Document(str(out))
    style = document.styles["Heading 1"]
    assert style.font.name == "Georgia" and str(style.font.color.rgb) == "8B003A"
    texts = [p.text for p in document.paragraphs]
    kept = texts.index("Our standard terms of engagement apply to this report (Contoso Ltd).")
    first_heading = next(i for i, p in enumerate(document.paragraphs) if p.style.name == "Heading 1")
    assert kept < first_heading
    images = [rel.target_part.blob for rel in document.part.rels.values() if "image" in rel.reltype]
    assert new_logo in images
    assert not any("{{" in t for t in texts)


def test_a_placeholder_word_split_over_runs_is_filled_with_the_first_runs_formatting(
    small: Path, tmp_path: Path
) -> None:
    template = bad.split_placeholders(bad.DEFAULT, tmp_path / "split.docx")
    out = tmp_path / "report.docx"
    with open_engagement(small, readonly=True) as engagement:
        export_report(engagement, out, template=template)
    paragraph = next(p for p in docx.Document(str(out)).paragraphs if "Contoso Ltd" in p.text)
    assert paragraph.text == "Contoso Ltd"
    assert len(paragraph.runs) == 1 and not paragraph.runs[0].italic


# -- LibreOffice reads the same figures -------------------------------------------------------------------


def test_libreoffice_shows_the_same_figures_as_the_pdf_report(demo: Built, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = tmp_path / "profile"
    done = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(demo.docx)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    pdf = tmp_path / "demo.pdf"
    assert pdf.exists(), done.stdout + done.stderr
    info = info_json(demo.engagement)
    codes = {p.pillar.id: p.pillar.code for p in demo.snapshot.pillars}
    functions = {f["code"]: f["name"] for f in info["functions"]}
    names = {codes[p["id"]]: p["name"] for p in info["pillars"]}
    shown = ReportFigures.parse(pdf_text(pdf), functions, names)

    from tests.test_figures_agree import expected, same

    rollups = {codes[p["id"]]: p for p in info["pillars"]} | {"Overall": info["overall"]}
    everything = ("score", "level", "target", "assessed", "functions", "below_target", "lowest")
    assert set(shown.pillars) == set(rollups)
    for key, rollup in rollups.items():
        wanted = expected(rollup)
        same(shown.pillars[key], wanted, f"pillar table {key}", (*everything, "scored"))
        not_assessed = str(rollup["functions"] - rollup["assessed"])
        assert shown.distribution[key] == (*wanted.distribution, wanted.not_applicable, not_assessed), key  # type: ignore[misc]
        if key != "Overall":
            same(shown.pillar_pages[key], wanted, f"pillar page {key}", everything)
    overall = expected(info["overall"])
    same(shown.headline, overall, "headline", ("score", "level", "target", "below_target", "assessed", "functions"))
    same(shown.sentence, overall, "summary sentence", ("score", "target"))
    assert shown.findings == info["findings"]
    assert shown.findings_by_severity == info["findings_by_severity"]
    below = {f["code"]: f["gap"] for f in info["functions"] if f["below_target"]}
    assert shown.roadmap == below and shown.roadmap_count == len(below)
    if info["progress"] is not None:
        counts = info["progress"]["counts"]
        assert shown.progress_counts is not None
        assert (shown.progress_counts.improved, shown.progress_counts.unchanged) == (
            counts["improved"],
            counts["unchanged"],
        )
        for change in info["progress"]["pillars"]:
            key = codes[change["id"]]
            assert shown.progress[key].now == (None if change["now"] is None else f"{change['now']:.1f}"), key


def test_python_docx_leaves_openpyxl_on_defusedxml() -> None:
    """python-docx brings lxml; openpyxl must still parse workbooks with defusedxml (SECURITY.md item 6)."""
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENPYXL_LXML"}
    done = subprocess.run(
        [sys.executable, "-c", "import ztmm_desktop, openpyxl, openpyxl.xml; print(openpyxl.xml.LXML, openpyxl.DEFUSEDXML)"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.split() == ["False", "True"]
