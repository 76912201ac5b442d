"""The PDF report of the large engagement, against reportlab building the same rows as one plain table.

Value: ``export_report`` of the large engagement with its 5,000 evidence files
(snapshot, every section, the evidence index of 5,000 rows with SHA-256), in a
process of its own. Floor, in the same run: reportlab's own ``SimpleDocTemplate``
building the same rows and columns as the report's evidence index (number,
title, file, size, full SHA-256, linked to; the very strings the report shows,
from ``Report.index_strings``) as one plain ``Table`` of string cells with a
repeated header, on the same landscape page, with the same column widths, fonts
(the DejaVu TrueType files, registered inside the timed part as the report
registers its own) and table style, in a process of its own. Runs alternate;
medians are compared. Peak RSS of each process is reported beside it.

Growth with the findings: the PDF and the Word report of the large engagement
without evidence (400 findings) and of a copy grown to 4,000 findings
(``make_large.grow_findings``), each in a child process; the 4,000-finding
report against the 400-finding one scaled by the pages it prints (target ≤ 2×).

Word report: ``export_report`` of the same engagement to ``.docx`` (every
section on the default template, the 5,000-row evidence index as a real table,
the charts drawn with Pillow), in a process of its own, alternating with the
PDF runs; its floor is the PDF report of the same run (target ≤ 2×).

    .venv/bin/python benchmarks/bench_report.py --pictures docs/

renders the demo report's cover, overview, findings and chart pages as the README's pictures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

if __name__ == "__main__":  # run as a script (--pictures): make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Result, large_engagement, median
from benchmarks.make_large import grow_findings

#: ``run.py`` builds the large engagement with its evidence for this module.
LARGE_EVIDENCE = True

RUNS = 2
MANY_FINDINGS = 4_000  # against the large engagement's 400
CHILD_TIMEOUT = 300
ROOT = Path(__file__).resolve().parent.parent

REPORT_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from benchmarks.common import peak_rss_mib
    from ztmm_desktop.services.engagement import open_engagement
    from ztmm_desktop.services.report import export_report

    document, out = Path(sys.argv[1]), Path(sys.argv[2])
    baseline = peak_rss_mib()
    with open_engagement(document, readonly=True) as engagement:
        start = time.perf_counter()
        export_report(engagement, out)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_rss": peak_rss_mib(), "baseline_rss": baseline}))
    """
)

FLOOR_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from benchmarks.common import peak_rss_mib
    from reportlab.pdfbase import pdfmetrics, ttfonts
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle
    from ztmm_desktop.paths import fonts_dir
    from ztmm_desktop.report import fonts, style
    from ztmm_desktop.report.render import INDEX_WIDTHS, index_commands

    rows, out = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")), Path(sys.argv[2])
    baseline = peak_rss_mib()
    start = time.perf_counter()
    for name in (fonts.SANS, fonts.SANS_BOLD, fonts.MONO):  # what the index uses
        pdfmetrics.registerFont(ttfonts.TTFont(name, str(fonts_dir() / fonts.FILES[name])))
    pad = 6  # SimpleDocTemplate's frame padding: the same room for the table as the report's frame
    document = SimpleDocTemplate(str(out), pagesize=style.INDEX_PAGE, leftMargin=style.MARGIN_X - pad,
                                 rightMargin=style.MARGIN_X - pad, topMargin=style.MARGIN_TOP - pad,
                                 bottomMargin=style.MARGIN_BOTTOM - pad)
    document.build([Table(rows, colWidths=INDEX_WIDTHS, repeatRows=1, style=TableStyle(index_commands()))])
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_rss": peak_rss_mib(), "baseline_rss": baseline}))
    """
)


def _child(script: Path, *args: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=script.parent,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} exited {done.returncode}:\n{done.stderr[-3000:]}")
    report: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _rows(document: Path) -> list[list[str]]:
    """The evidence index as plain strings, the report's own (``Report.index_strings``): what the floor lays out."""
    from ztmm_desktop.report.render import INDEX_HEAD, Report
    from ztmm_desktop.services.deliverables import build_snapshot
    from ztmm_desktop.services.engagement import open_engagement

    with open_engagement(document, readonly=True) as engagement:
        snapshot = build_snapshot(engagement)
    report = Report(snapshot, draft=False, logo=None)
    return [[label.upper() for label in INDEX_HEAD], *(report.index_strings(e) for e in snapshot.evidence)]


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def demo_build(workdir: Path) -> tuple[float, int]:
    from ztmm_desktop.services.demo import open_demo
    from ztmm_desktop.services.report import export_report

    out = workdir / "demo.pdf"
    with open_demo() as engagement:
        export_report(engagement, workdir / "warm-up.pdf")
        start = time.perf_counter()
        export_report(engagement, out)
        seconds = time.perf_counter() - start
    pages = _pages(out)
    for pdf in (out, workdir / "warm-up.pdf"):
        pdf.unlink()
    return seconds, pages


def findings_growth(workdir: Path, report_script: Path) -> list[Result]:
    """The report of the large engagement (400 findings) against the same with 4,000 findings.

    Each child builds the PDF (and the Word report) of one of the two, alternating. The floor of the
    4,000-finding PDF is the 400-finding PDF plus the pages it adds, each at the 400-finding report's own
    cost per page (its time × pages(4,000) / pages(400)): what the report would cost if it grew with what
    it prints and nothing else. The Word report has no pages; its floor is scaled by the PDF's pages too.
    """
    small = large_engagement(workdir)
    big = grow_findings(small, workdir / f"large-{MANY_FINDINGS}-findings.ztmm", MANY_FINDINGS)
    outs = {name: workdir / name for name in ("few.pdf", "many.pdf", "few.docx", "many.docx")}
    times: dict[str, list[float]] = {name: [] for name in outs}
    try:
        for _ in range(RUNS):
            for name, out in outs.items():
                times[name].append(_child(report_script, small if name.startswith("few") else big, out)["seconds"])
        few_pages, many_pages = _pages(outs["few.pdf"]), _pages(outs["many.pdf"])
    finally:
        for path in (*outs.values(), big):
            path.unlink(missing_ok=True)
    few, many = median(times["few.pdf"]), median(times["many.pdf"])
    few_word, many_word = median(times["few.docx"]), median(times["many.docx"])
    scale = many_pages / few_pages
    return [
        Result(
            f"report: {MANY_FINDINGS:,} findings ({many_pages} pages) vs 400 ({few_pages}) scaled by pages, build",
            many,
            few * scale,
            "s",
            "≤ 2×",
        ),
        Result(f"report: {MANY_FINDINGS:,} findings vs 400 findings, build (unscaled)", many, few, "s"),
        Result(
            f"Word report: {MANY_FINDINGS:,} findings vs 400 findings scaled by the PDF's pages, build",
            many_word,
            few_word * scale,
            "s",
            "≤ 2×",
        ),
    ]


def run(workdir: Path) -> list[Result]:
    large = large_engagement(workdir, evidence=True)
    report_script, floor_script = workdir / "child_report.py", workdir / "child_floor.py"
    report_script.write_text(REPORT_CHILD, encoding="utf-8")
    floor_script.write_text(FLOOR_CHILD, encoding="utf-8")
    rows_file = workdir / "rows.json"
    rows = _rows(large)
    if len(rows) - 1 != 5_000:
        raise AssertionError(f"the large engagement has {len(rows) - 1} evidence rows, not 5,000")
    rows_file.write_text(json.dumps(rows), encoding="utf-8")
    reports, floors, words = [], [], []
    out, floor_out, word_out = workdir / "large.pdf", workdir / "floor.pdf", workdir / "large.docx"
    try:
        for _ in range(RUNS):
            reports.append(_child(report_script, large, out))
            floors.append(_child(floor_script, rows_file, floor_out))
            words.append(_child(report_script, large, word_out))
        pages, floor_pages = _pages(out), _pages(floor_out)
        demo_seconds, demo_pages = demo_build(workdir)
    finally:
        for path in (out, floor_out, word_out, rows_file, large):
            path.unlink(missing_ok=True)
    growth = findings_growth(workdir, report_script)
    return [
        *growth,
        Result(
            "report: large engagement (5,000 evidence rows), build, median",
            median([r["seconds"] for r in reports]),
            median([f["seconds"] for f in floors]),
            "s",
            "≤ 2×",
        ),
        Result(
            "report: large engagement, peak RSS of the process",
            max(r["peak_rss"] for r in reports),
            max(f["peak_rss"] for f in floors),
            "MiB",
        ),
        Result(
            "report: large engagement, pages (floor: the index as a plain table alone)", pages, floor_pages, "pages"
        ),
        Result(f"report: demo engagement ({demo_pages} pages), build", demo_seconds, None, "s"),
        Result(
            "Word report: large engagement, build, median (floor: the PDF report)",
            median([w["seconds"] for w in words]),
            median([r["seconds"] for r in reports]),
            "s",
            "≤ 2×",
        ),
        Result(
            "Word report: large engagement, peak RSS (floor: the PDF report's)",
            max(w["peak_rss"] for w in words),
            max(r["peak_rss"] for r in reports),
            "MiB",
        ),
    ]


def pictures(folder: Path) -> None:
    """The README's pictures: the demo report's cover, overview, findings and chart pages (110 dpi PNGs)."""
    import tempfile

    from ztmm_desktop.services.demo import open_demo
    from ztmm_desktop.services.report import export_report

    with tempfile.TemporaryDirectory() as scratch:
        os.environ.setdefault("ZTMM_DATA_DIR", str(Path(scratch) / "data"))
        pdf = Path(scratch) / "demo.pdf"
        with open_demo() as engagement:
            export_report(engagement, pdf)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        pages = text.split("\f")

        def first(*words: str) -> int:
            return next(n for n, page in enumerate(pages, start=1) if all(word in page for word in words))

        chosen = (
            ("report-cover", 1),
            ("report-overview", first("Overview", "Key messages", "Top priorities")),
            ("report-findings", first("Risk heat map", "Findings register")),
            ("report-chart", first("Maturity at a glance", "Each bar runs")),
        )
        for name, page in chosen:
            stem = Path(scratch) / name
            subprocess.run(["pdftoppm", "-r", "110", "-png", "-singlefile", "-f", str(page), "-l", str(page),
                            str(pdf), str(stem)], check=True)  # fmt: skip
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.png").write_bytes(stem.with_suffix(".png").read_bytes())
            print(folder / f"{name}.png")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--pictures":
        pictures(Path(sys.argv[2]))
    else:
        sys.exit("usage: bench_report.py --pictures FOLDER (the benchmark itself runs through benchmarks/run.py)")
