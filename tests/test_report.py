"""The PDF report as a reader and the PDF tools see it: text, fonts, pages, bookmarks, bad input."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import run_cli
from tests.test_cli import assert_refused, drop_root_file_powers
from ztmm_desktop.core import figures
from ztmm_desktop.core.deliverable import Snapshot
from ztmm_desktop.core.errors import BadInput, Cancelled
from ztmm_desktop.core.progress import CancelToken
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.report.render import _untouched
from ztmm_desktop.services import evidence
from ztmm_desktop.services.deliverables import build_snapshot
from ztmm_desktop.services.demo import open_demo
from ztmm_desktop.services.engagement import Properties, create_engagement
from ztmm_desktop.services.report import export_report

SHOTS = Path(__file__).resolve().parent.parent / "docs"


def pdftotext(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


BIDI_MARKS = dict.fromkeys([0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def flat(value: str) -> str:
    """Text with every run of whitespace one space (line breaks fall where the layout put them).

    pdftotext wraps right-to-left runs in embedding marks; they are not text.
    """
    return " ".join(unicodedata.normalize("NFKC", value).translate(BIDI_MARKS).split())


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def pdf_info(pdf: Path) -> dict[str, str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in info.splitlines())}


def pages_text(pdf: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    return pdftotext(pdf).split("\f")[:-1]


def uris(pdf: Path) -> list[str]:
    data = pdf.read_bytes()
    return [m.decode("latin-1") for m in re.findall(rb"/URI \(((?:[^()\\]|\\.)*)\)", data)]


def images(pdf: Path) -> int:
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    return sum(1 for row in listing.splitlines()[2:] if row.split()[2] == "image")  # not its alpha mask


def ink_per_page(pdf: Path, folder: Path) -> list[int]:
    """How many pixels of each page, rendered small in grey, are not white."""
    folder.mkdir()
    subprocess.run(["pdftoppm", "-r", "20", "-gray", "-png", str(pdf), str(folder / "p")], check=True)
    counts = []
    for png in sorted(folder.glob("p-*.png")):
        with Image.open(png) as page:
            counts.append(sum(count for value, count in enumerate(page.histogram()) if value < 250))
    return counts


@dataclass
class Built:
    pdf: Path
    snapshot: Snapshot
    seconds_hint: str = ""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The demo engagement with some evidence (a picture, a text file, one on a finding), as a report."""
    folder = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZTMM_DATA_DIR", str(folder / "data"))
        picture = folder / "ca-policies.png"
        Image.new("RGB", (40, 20), "#2563a8").save(picture)
        notes = folder / "workshop <notes> & R&D.txt"
        notes.write_text("MFA roll-out notes\n", encoding="utf-8")
        with open_demo() as engagement:
            finding = engagement.findings()[0]
            evidence.attach(engagement, picture, [evidence.parse_link(engagement, "1.1/advanced")], kind="screenshot")
            evidence.attach(engagement, notes, [evidence.parse_link(engagement, "2.4")], title="Notes <b>bold")
            evidence.attach(engagement, notes, [evidence.EvidenceLink(finding_id=finding.id)], title="Finding proof")
            engagement.assess("1.3", comments={Stage.OPTIMAL: "Rollout in 東京 and 大阪 offices; שלום עולם"})
            snapshot = build_snapshot(engagement)
            pdf = export_report(engagement, folder / "demo.pdf")
    yield Built(pdf, snapshot)


def test_every_function_rating_comment_and_finding_is_in_the_text(demo: Built) -> None:
    text = flat(pdftotext(demo.pdf))
    sections = {}
    every = demo.snapshot.functions()
    functions = [f for f in every if not _untouched(f)]  # the others are listed once, compactly
    for sheet in every:
        if _untouched(sheet):
            assert f"{sheet.function.code} {sheet.function.name} CURRENT TARGET GAP" not in text
            assert flat(sheet.function.label) in text
    starts = []
    for sheet in functions:
        heading = f"{sheet.function.code} {sheet.function.name} CURRENT TARGET GAP"
        assert heading in text, heading
        starts.append(text.index(heading))
    for index, sheet in enumerate(functions):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        sections[sheet.function.id] = text[starts[index] : end]
    for sheet in functions:
        section = sections[sheet.function.id]
        for line in sheet.stages:
            assert flat(line.text) in section, (sheet.function.code, line.stage)
            if line.stage is not Stage.TRADITIONAL:
                assert f"{line.stage.label} " in section
                assert line.rating.label in section, (sheet.function.code, line.stage, line.rating)
            if line.comment:
                assert flat(line.comment) in section, (sheet.function.code, line.stage)
        if sheet.result.assessed and sheet.result.applicable:
            assert sheet.result.current.label in section
        for finding in sheet.findings:
            assert flat(finding.title) in section
            assert flat(finding.observation) in section
    assert demo.snapshot.findings
    for finding in demo.snapshot.findings:
        assert text.count(flat(finding.title)) >= 2  # its function, the register (and the summary)
    counts = {r: sum(1 for f in functions for s in f.stages[1:] if s.rating is r) for r in Rating}
    assert counts[Rating.MET] and counts[Rating.PARTIAL] and counts[Rating.NOT_MET]


def test_cover_contents_summary_and_appendices(demo: Built) -> None:
    pages = pages_text(demo.pdf)
    cover = flat(pages[0])
    meta = demo.snapshot.meta
    for value in (meta.client, meta.title, *meta.assessors, meta.marking, "5 October 2026", "20 November 2026"):
        assert value in cover
    text = flat("".join(pages))
    for words in ("Contents", "Executive summary", "The largest gaps", "The most severe findings", "Roadmap",
                  "Evidence index", "Appendix A — Method", "Appendix B — Sources and attribution",
                  "public domain", "CC BY 4.0", "Heat map of pillars and functions"):  # fmt: skip
        assert words in text, words
    overview = next(flat(page) for page in pages if flat(page).startswith(f"{meta.marking} Overview"))
    assert figures.mean_text(demo.snapshot.overall.score) in overview


def test_contents_page_numbers_and_page_x_of_y(demo: Built) -> None:
    pages = pages_text(demo.pdf)
    total = page_count(demo.pdf)
    assert len(pages) == total
    for number, page in enumerate(pages[1:], start=2):
        assert f"Page {number} of {total}" in page
        assert demo.snapshot.meta.marking in page
    contents = flat(pdftotext(demo.pdf, "-layout", "-f", "2", "-l", "3"))
    for title in ("Executive summary", "Findings", "Roadmap", "Evidence index", "1.1 Authentication"):
        number = int(re.search(re.escape(title) + r" (\d+)", contents).group(1))  # type: ignore[union-attr]
        assert flat(pages[number - 1]).split(" Page ")[0].count(title) >= 1, (title, number)
        if title != "1.1 Authentication":
            assert flat(pages[number - 1]).startswith(f"{demo.snapshot.meta.marking} {title}"), (title, number)


def test_bookmarks_metadata_fonts_and_structure(demo: Built) -> None:
    check = subprocess.run(["qpdf", "--check", str(demo.pdf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    outline = json.loads(subprocess.run(["qpdf", "--json", "--json-key=outlines", str(demo.pdf)],
                                        capture_output=True, text=True, check=True).stdout)["outlines"]  # fmt: skip
    titles = [o["title"] for o in outline]
    # Document control, the overview, the summary, then the consultant's scope, approach and limitations.
    assert titles[:5] == [
        "Contents",
        "Document control",
        "Overview",
        "Executive summary",
        "Scope, approach and limitations",
    ]
    assert titles[5].startswith("Progress since Initial assessment 2026-10 (")  # the demo has a baseline
    assert titles[6:8] == ["Workshops", "Maturity at a glance"]  # the demo held two workshops
    identity = next(o for o in outline if o["title"].startswith("1  Identity"))
    assert [k["title"] for k in identity["kids"]][:2] == ["1.1 Authentication", "1.2 Identity Stores"]
    assert all(o["destpageposfrom1"] >= 2 for o in outline)
    fonts = subprocess.run(["pdffonts", str(demo.pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows), fonts  # the "emb" column
    names = " ".join(row.split()[0] for row in rows)
    assert "DejaVuSans" in names and "DroidSansFallback" in names  # the CJK comment is in the CJK font
    info = pdf_info(demo.pdf)
    assert info["Title"] == "Zero Trust maturity baseline — Northwind Logistics (fictional)"
    assert info["Author"] == "Lead assessor, Identity assessor"
    assert info["Subject"] == "CISA Zero Trust Maturity Model v2.0 assessment"
    assert info["Creator"].startswith("ZTMM Workbench ")


def test_evidence_index_lists_every_file_with_its_hash(demo: Built) -> None:
    pages = pages_text(demo.pdf)
    index = flat("".join(page for page in pages if "LINKED TO" in page))
    register = flat("".join(page for page in pages if "Findings register" in page))
    evidence, findings = demo.snapshot.evidence, demo.snapshot.findings
    assert len(evidence) == 3
    for number, item in enumerate(evidence, start=1):
        assert f"E-{number:02d}" in index
        assert item.sha256 in index  # all 64 hex digits, on one line
        assert flat(item.title) in index and flat(item.original_name) in index
    assert "Notes <b>bold" in index
    assert "workshop <notes> & R&D.txt" in index
    # Links in short: function and stage, function, and a finding by its number in the register.
    assert "1.1 Advanced" in index and " 2.4 " in index
    linked = [link.removeprefix("Finding: ") for e in evidence for link in e.links if link.startswith("Finding: ")]
    assert len(linked) == 1
    number = next(n for n, f in enumerate(findings, start=1) if f.title == linked[0])
    assert f"F-{number:02d}" in index
    assert f"F-{number:02d} {flat(linked[0])}" in register
    # Each function lists its evidence by the index's number.
    text = flat(pdftotext(demo.pdf))
    assert "E-01 ca-policies.png" in text and "E-02 Notes <b>bold" in text


def test_user_text_comes_back_and_only_the_apps_links(demo: Built) -> None:
    text = flat(pdftotext(demo.pdf))
    assert "Rollout in 東京 and 大阪 offices; שלום עולם" in text  # CJK in its font, Hebrew in reading order
    links = uris(demo.pdf)
    known = {ref.url for pack in demo.snapshot.packs for rec in pack.recommendations for ref in rec.references}
    assert links and all(link.startswith("https://") for link in links)
    attribution = {"https://learn.microsoft.com", "https://creativecommons.org"}
    assert {link for link in links if link not in known and not link.startswith(tuple(attribution))} == set()
    data = demo.pdf.read_bytes()
    for action in (b"/Launch", b"/JavaScript", b"/EmbeddedFile", b"/SubmitForm"):
        assert action not in data
    assert images(demo.pdf) == 0


def test_pages_are_not_blank_and_the_readme_pictures(demo: Built, tmp_path: Path) -> None:
    ink = ink_per_page(demo.pdf, tmp_path / "pages")
    assert len(ink) == page_count(demo.pdf)
    blank = [number for number, count in enumerate(ink, start=1) if count < 400]
    assert blank == [], f"pages {blank} look blank"
    for name in ("report-cover.png", "report-chart.png"):
        picture = SHOTS / name
        assert picture.is_file(), f"docs/{name} is missing (benchmarks/bench_report.py --pictures makes it)"


def test_draft_watermark_logo_and_nothing_assessed(tmp_path: Path) -> None:
    document = tmp_path / "empty.ztmm"
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (300, 120), (37, 99, 168, 255)).save(logo)
    create_engagement(document, Properties(client="Fabrikam", title="Baseline", scope=("identity", "data"))).close()
    out = tmp_path / "draft.pdf"
    result = run_cli("report", document, out, "--draft", "--logo", logo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    pages = pages_text(out)
    text = flat("".join(pages))
    assert "Nothing has been assessed yet." in text
    assert "Maturity at a glance" not in text and "Heat map" not in text
    assert "Identity Stores" in text and "Data Inventory Management" in text and "Network Segmentation" not in text
    assert images(out) == 1
    plain = tmp_path / "final.pdf"
    assert run_cli("report", document, plain).returncode == 0
    assert images(plain) == 0
    assert "ZERO TRUST MATURITY ASSESSMENT · DRAFT" in flat(pages[0])
    assert "DRAFT" not in pdftotext(plain)
    # The watermark is drawn across every page of the draft, and on none of the final.
    draft_ink, final_ink = ink_per_page(out, tmp_path / "d"), ink_per_page(plain, tmp_path / "f")
    assert len(draft_ink) == len(final_ink) == len(pages)
    assert all(d > f + 200 for d, f in zip(draft_ink, final_ink, strict=True)), (draft_ink, final_ink)
    for folder in ("d", "f"):
        for png in (tmp_path / folder).iterdir():
            png.unlink()
        (tmp_path / folder).rmdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.pdf", "empty.ztmm", "final.pdf", "logo.png"]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    document = tmp_path / "client.ztmm"
    create_engagement(document, Properties(client="Contoso", scope=("identity",))).close()
    return document


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("not an image"), "logo logo.png is not a PNG or JPEG image"),
        (lambda p: Image.new("RGB", (5000, 8)).save(p, "PNG"), "is 5,000 × 8 pixels; the limit is 4,096 × 4,096"),
        (lambda p: Image.new("RGB", (20, 20)).save(p, "GIF"), "logo logo.png is a GIF image; use a PNG or JPEG"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(6 * 1024 * 1024)), "the limit is 5 MB"),
        (lambda p: p.write_bytes(_truncated_png()), "logo logo.png is a damaged image"),
    ],
    ids=["text", "huge", "gif", "large-file", "truncated"],
)
def test_a_bad_logo_is_refused_and_nothing_written(small: Path, tmp_path: Path, make: object, message: str) -> None:
    logo = tmp_path / "logo.png"
    make(logo)  # type: ignore[operator]
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_refused(run_cli("report", small, tmp_path / "out.pdf", "--logo", logo), message)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def _truncated_png() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.effect_noise((200, 200), 60).save(buffer, "PNG")
    return buffer.getvalue()[:-400]


def test_a_missing_folder_or_the_engagement_itself_is_refused(small: Path, tmp_path: Path) -> None:
    assert_refused(run_cli("report", small, tmp_path / "nowhere" / "out.pdf"), "no such folder")
    assert not (tmp_path / "nowhere").exists()
    before = small.read_bytes()
    assert_refused(run_cli("report", small, small), "is the engagement file itself")
    assert small.read_bytes() == before


def test_a_read_only_folder_is_refused_and_left_empty(small: Path, tmp_path: Path) -> None:
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    kwargs: dict[str, object] = {"preexec_fn": drop_root_file_powers} if os.geteuid() == 0 else {}
    try:
        result = run_cli("report", small, folder / "out.pdf", **kwargs)  # type: ignore[arg-type]
        assert_refused(result, "cannot write")
        assert "Permission denied" in result.stderr
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(stat.S_IRWXU)


def test_progress_and_cancel_leave_no_file(small: Path, tmp_path: Path) -> None:
    from ztmm_desktop.services.engagement import open_engagement

    seen: list[tuple[int, int, str]] = []
    with open_engagement(small, readonly=True) as engagement:
        out = export_report(engagement, tmp_path / "ok.pdf", progress=lambda d, t, m: seen.append((d, t, m)))
        assert out.is_file()
        assert seen[-1][2].startswith("Report written (") and any("Laying out page" in m for _, _, m in seen)
        token = CancelToken()

        def cancel_midway(done: int, total: int, message: str) -> None:
            if message.startswith("Laying out page 3"):
                token.cancel()

        with pytest.raises(Cancelled):
            export_report(engagement, tmp_path / "cancelled.pdf", progress=cancel_midway, cancel=token)
        with pytest.raises(BadInput, match="no such file"):
            export_report(engagement, tmp_path / "x.pdf", logo=tmp_path / "missing.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client.ztmm", "ok.pdf"]
