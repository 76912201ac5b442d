"""Every figure shown in more than one place is the same in each: ``ztmm info --json``, the PDF and the workbook.

Random engagements (ratings with N/A and not assessed, overrides above and below the derived stage,
targets or none, untouched functions, findings, a baseline frozen midway and changes after it, a random
scope) are built through the real services; the CLI is run as a user runs it, the report is read back
with pdftotext and the workbook as LibreOffice displays it. The figures are also checked against the
documented rules, computed here from each function's own data (an oracle independent of core/figures).
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from tests.support.deliverable_text import (
    SEVERITIES,
    CountsShown,
    ProgressShown,
    ReportFigures,
    RollupShown,
    WorkbookFigures,
    info_json,
    libreoffice_sheets,
    pdf_text,
)
from ztmm_desktop.core.stages import RATED_STAGES, Rating, Stage
from ztmm_desktop.services.baselines import freeze_baseline
from ztmm_desktop.services.catalogs import default_library
from ztmm_desktop.services.engagement import Engagement, Properties, create_engagement
from ztmm_desktop.services.report import export_report
from ztmm_desktop.services.workbook import export_workbook

CATALOG = default_library().catalog
PILLARS = tuple(p.id for p in CATALOG.pillars)
CODE_OF = {p.id: p.code for p in CATALOG.pillars}


# -- the engagements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    ratings: tuple[tuple[Stage, Rating], ...]
    target: Stage | None
    override: Stage | None
    comment: bool


@dataclass(frozen=True)
class Plan:
    scope: tuple[str, ...]
    first: tuple[tuple[str, Edit], ...]  # before the baseline
    findings: tuple[tuple[str, str], ...]  # function code, severity
    baseline: bool
    later: tuple[tuple[str, Edit], ...]  # after it


EDITS = st.builds(
    Edit,
    ratings=st.dictionaries(st.sampled_from(RATED_STAGES), st.sampled_from(list(Rating)), max_size=3).map(
        lambda d: tuple(d.items())
    ),
    target=st.one_of(st.none(), st.sampled_from(list(Stage))),
    override=st.one_of(st.none(), st.none(), st.sampled_from(list(Stage))),
    comment=st.booleans(),
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    scope = tuple(draw(st.lists(st.sampled_from(PILLARS), min_size=1, max_size=4, unique=True)))
    codes = [f.code for p in CATALOG.pillars if p.id in scope for f in p.functions]
    first = draw(st.dictionaries(st.sampled_from(codes), EDITS, min_size=1, max_size=min(len(codes), 14)))
    findings = draw(st.lists(st.tuples(st.sampled_from(codes), st.sampled_from(SEVERITIES)), max_size=5))
    baseline = draw(st.booleans())
    later = draw(st.dictionaries(st.sampled_from(codes), EDITS, max_size=6)) if baseline else {}
    return Plan(scope, tuple(first.items()), tuple(findings), baseline, tuple(later.items()))


def _assesses(plan: Plan) -> bool:
    """Something is assessed (else the report rightly shows no maturity figures at all)."""
    return any(e.override is not None or any(r is not Rating.NOT_ASSESSED for _, r in e.ratings) for _, e in plan.first)


def _apply(engagement: Engagement, code: str, edit: Edit) -> None:
    engagement.assess(
        code,
        ratings=dict(edit.ratings),
        comments={Stage.INITIAL: f"seen {len(edit.ratings)}"} if edit.comment else None,
        target=edit.target,
        override=(edit.override, "judgement in the workshop") if edit.override is not None else None,
    )


def build(plan: Plan, folder: Path) -> Path:
    path = folder / "engagement.ztmm"
    engagement = create_engagement(path, Properties(client="Contoso Ltd", title="Figures", scope=plan.scope))
    try:
        for code, edit in plan.first:
            _apply(engagement, code, edit)
        for code, severity in plan.findings:
            engagement.add_finding(code, f"Finding on {code}", severity=severity)
        if plan.baseline:
            freeze_baseline(engagement, "Baseline one")
            for code, edit in plan.later:
                _apply(engagement, code, edit)
        engagement.save()
        export_report(engagement, folder / "report.pdf")
        export_workbook(engagement, folder / "workbook.xlsx")
    finally:
        engagement.close()
    return path


# -- the rules, computed here from each function's own data -----------------------------------------


def shown_mean(values: list[int]) -> str | None:
    """One decimal, half up, from the exact mean."""
    if not values:
        return None
    exact = Fraction(sum(values), len(values))
    return str((Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def oracle_gap(f: dict[str, Any]) -> int | None:
    if f["target"] is None or not f["assessed"] or not f["applicable"]:
        return None
    ratings = {s["stage"]: s["rating"] for s in f["stages"]}
    current, target = Stage.parse(f["current"]), Stage.parse(f["target"])
    return sum(1 for s in Stage if current < s <= target and ratings[s.key] != Rating.NOT_APPLICABLE.value)


def check_rules(info: dict[str, Any]) -> None:
    """The figures ``ztmm info --json`` gives follow the documented rules."""
    functions = info["functions"]
    for f in functions:
        assert f["gap"] == oracle_gap(f), f["code"]
        assert f["below_target"] == bool(f["assessed"] and f["applicable"] and f["gap"]), f["code"]
    groups = {p["id"]: [f for f in functions if f["pillar"] == p["id"]] for p in info["pillars"]}
    groups["overall"] = functions
    for rollup in [*info["pillars"], info["overall"]]:
        members = groups[rollup["id"]]
        scored = [f for f in members if f["assessed"] and f["applicable"]]
        stages = [int(Stage.parse(f["current"])) for f in scored]
        score = shown_mean(stages)
        assert (None if rollup["score"] is None else f"{rollup['score']:.1f}") == score, rollup["id"]
        target = shown_mean([int(Stage.parse(f["target"])) for f in scored if f["target"]])
        assert (None if rollup["target_score"] is None else f"{rollup['target_score']:.1f}") == target
        assert rollup["below_target"] == sum(1 for f in scored if f["below_target"])
        assert rollup["assessed"] == sum(1 for f in members if f["assessed"])
        assert rollup["distribution"] == {s.key: stages.count(int(s)) for s in Stage}
        if score is not None:
            assert rollup["level"] == Stage(int(Decimal(score))).key  # the shown mean rounded down


# -- what each place must show ----------------------------------------------------------------------


def _text(value: float | None) -> str | None:
    return None if value is None else f"{value:.1f}"


def expected(rollup: dict[str, Any]) -> RollupShown:
    scored = rollup["score"] is not None
    return RollupShown(
        score=_text(rollup["score"]),
        level=rollup["level"].capitalize() if scored else None,
        target=_text(rollup["target_score"]),
        assessed=str(rollup["assessed"]),
        functions=str(rollup["functions"]),
        below_target=str(rollup["below_target"]),
        scored=str(rollup["scored"]),
        lowest=rollup["lowest"].capitalize() if rollup["lowest"] else None,
        not_applicable=str(rollup["not_applicable"]),
        distribution=tuple(str(rollup["distribution"][s.key]) for s in Stage),
    )


def same(shown: RollupShown, wanted: RollupShown, where: str, fields: tuple[str, ...]) -> None:
    for name in fields:
        assert getattr(shown, name) == getattr(wanted, name), f"{where}: {name}"


def short_name(pillar: dict[str, Any]) -> str:
    if CATALOG.pillar(pillar["id"]).kind == "cross_cutting":
        return "Cross-cutting"
    return pillar["name"].replace(" pillar", "").replace(" and ", " & ")


def check_agree(info: dict[str, Any], report: ReportFigures, book: WorkbookFigures) -> None:
    rollups = {CODE_OF[p["id"]]: p for p in info["pillars"]}
    rollups["Overall"] = info["overall"]
    names = {CODE_OF[p["id"]]: p["name"] for p in info["pillars"]} | {"Overall": "Overall"}
    everything = ("score", "level", "target", "assessed", "functions", "below_target", "lowest")

    # Per pillar and overall: the executive summary's table, the distribution, each pillar's page, the workbook.
    assert set(report.pillars) == set(rollups), "the report's pillar table"
    assert set(report.distribution) == set(rollups), "the report's functions per stage"
    for key, rollup in rollups.items():
        wanted = expected(rollup)
        same(report.pillars[key], wanted, f"report pillar table {key}", (*everything, "scored"))
        not_assessed = str(rollup["functions"] - rollup["assessed"])
        assert report.distribution[key] == (*wanted.distribution, wanted.not_applicable, not_assessed), key  # type: ignore[misc]
        same(
            book.summary[names[key]], wanted, f"workbook Summary {key}", (*everything, "not_applicable", "distribution")
        )
        if key != "Overall":
            same(report.pillar_pages[key], wanted, f"report pillar page {key}", everything)
            sheet = next(name for name in book.pillar_notes if name.split()[0] == key)
            same(book.pillar_notes[sheet], wanted, f"workbook sheet {sheet}", everything[:-1])
    assert set(report.pillar_pages) == set(rollups) - {"Overall"}
    overall = expected(info["overall"])
    same(report.headline, overall, "report headline", ("score", "level", "target", "below_target", "assessed",
                                                         "functions", "scored"))  # fmt: skip
    if overall.score is not None:
        same(report.sentence, overall, "report summary sentence", ("score", "target"))

    # The most and the least mature pillars, every tied one named.
    scores = {short_name(p): _text(p["score"]) for p in info["pillars"] if p["score"] is not None}
    if len(scores) >= 2:
        top, bottom = max(scores.values(), key=Decimal), min(scores.values(), key=Decimal)  # type: ignore[arg-type]
        best = sorted(n for n, s in scores.items() if s == top)
        worst = sorted(n for n, s in scores.items() if s == bottom)
        assert report.most_least is not None, "the most and least mature sentence"
        most, most_score, least, least_score = report.most_least
        if top == bottom:
            assert (most, most_score, least) == ([str(len(scores))], top, [])
        else:
            assert (sorted(most), most_score, sorted(least), least_score) == (best, top, worst, bottom)
    else:
        assert report.most_least is None

    # Findings per severity.
    assert report.findings_by_severity == book.findings_by_severity == info["findings_by_severity"]
    assert report.findings == book.findings == info["findings"]

    # The gap of every function; below target = the roadmap, in each place.
    gaps = {f["code"]: f["gap"] for f in info["functions"]}
    below = {f["code"]: f["gap"] for f in info["functions"] if f["below_target"]}
    assert report.roadmap == below, "report roadmap"
    assert report.roadmap_count == len(below) == info["overall"]["below_target"]
    assert book.gaps == {code: None if gap is None else str(gap) for code, gap in gaps.items()}, "workbook gaps"
    assert book.roadmap == set(below), "workbook Vendor suggestions"

    # Progress since the baseline: the means then and now, the change of the shown figures, the counts.
    progress = info["progress"]
    if progress is None:
        assert not report.progress and not book.progress
        return
    for change in [*progress["pillars"], progress["overall"]]:
        key = "Overall" if change["id"] == "overall" else CODE_OF[change["id"]]
        then, now = _text(change["then"]), _text(change["now"])
        delta = None if then is None or now is None else Decimal(now) - Decimal(then)
        wanted_change = ProgressShown(then, now, None if delta is None else f"{delta:+.1f}".replace("+0.0", "0.0"))
        assert change["delta_text"].replace("−", "-") == (wanted_change.delta or "–"), key
        assert report.progress[key] == wanted_change, f"report progress {key}"
        assert book.progress[names[key]] == wanted_change, f"workbook progress {key}"
    counts = progress["counts"]
    assert (
        counts["improved"] + counts["regressed"] + counts["same_stage"] + counts["not_comparable"] == counts["changed"]
    )
    assert counts["changed"] + counts["unchanged"] == counts["functions"] == len(info["functions"])
    wanted_counts = CountsShown(
        counts["changed"], counts["improved"], counts["regressed"], counts["same_stage"], counts["not_comparable"],
        counts["unchanged"],
    )  # fmt: skip
    assert report.progress_counts == wanted_counts, "report progress sentence"
    assert book.progress_sentence == wanted_counts, "workbook progress sentence"
    tiles = report.progress_tiles
    assert (tiles["IMPROVED"], tiles["REGRESSED"], tiles["UNCHANGED"]) == tuple(
        str(counts[k]) for k in ("improved", "regressed", "unchanged")
    )
    assert (tiles["OVERALL THEN"], tiles["OVERALL NOW"]) == tuple(
        _text(progress["overall"][k]) or "–" for k in ("then", "now")
    )
    assert report.not_listed == counts["unchanged"], "the functions not listed are the unchanged ones"
    assert book.movements == progress["functions"], "workbook movement per function"
    words = Counter(progress["functions"].values())
    assert (words["Improved"], words["Regressed"], words["Same stage"], words["Not comparable"], words["Unchanged"]) == (
        counts["improved"], counts["regressed"], counts["same_stage"], counts["not_comparable"], counts["unchanged"],
    )  # fmt: skip


def check(plan: Plan, folder: Path, profile: Path) -> None:
    folder.mkdir(parents=True)
    path = build(plan, folder)
    info = info_json(path)
    check_rules(info)
    functions = {f["code"]: f["name"] for f in info["functions"]}
    pillar_names = {CODE_OF[p["id"]]: p["name"] for p in info["pillars"]}
    report = ReportFigures.parse(pdf_text(folder / "report.pdf"), functions, pillar_names)
    book = WorkbookFigures.parse(libreoffice_sheets(folder / "workbook.xlsx", folder / "csv", profile))
    check_agree(info, report, book)
    check_stored_rounded(folder / "workbook.xlsx")


def check_stored_rounded(path: Path) -> None:
    """The workbook stores the shown (rounded) means, not more digits behind a number format."""
    book = load_workbook(path, read_only=True)
    try:
        for name in ("Summary", "Progress"):
            if name not in book.sheetnames:
                continue
            for row in book[name].iter_rows(values_only=True):
                for value in row:
                    if isinstance(value, float):
                        assert Decimal(repr(value)).as_tuple().exponent >= -1, f"{name}: {value!r}"  # type: ignore[operator]
    finally:
        book.close()


# -- the test --------------------------------------------------------------------------------------

M, P, N, NA = Rating.MET, Rating.PARTIAL, Rating.NOT_MET, Rating.NOT_APPLICABLE
INI, ADV, OPT = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL


def _edit(*ratings: Rating, target: Stage | None = None, override: Stage | None = None, comment: bool = False) -> Edit:
    return Edit(tuple(zip(RATED_STAGES, ratings, strict=False)), target, override, comment)


#: The cases of the issue: an N/A stage below the target (1.4), a target and no ratings (1.2), a mean of 1.25
#: (Identity), two pillars tied, a comment-only change and a regression after the baseline.
ISSUE = Plan(
    scope=("identity", "devices", "data"),
    first=(
        ("1.1", _edit(M, M, target=OPT)),
        ("1.2", _edit(target=ADV)),
        ("1.3", _edit(M)),
        ("1.4", _edit(M, NA, P, target=OPT)),
        ("1.5", _edit(M, N)),
        ("2.1", _edit(M, M, target=OPT)),
        ("2.2", _edit(M, override=Stage.TRADITIONAL)),
        ("5.1", _edit(NA, NA, NA, target=OPT)),
    ),
    findings=(("1.1", "high"), ("1.4", "critical"), ("2.1", "high"), ("5.1", "low")),
    baseline=True,
    later=(("1.3", _edit(M, comment=True)), ("2.1", _edit(M, N)), ("5.2", _edit(P, target=INI))),
)


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This worker's own LibreOffice profile (shared by its examples, never by two workers)."""
    return tmp_path_factory.mktemp(f"lo-profile-{os.getpid()}")


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example takes seconds (soffice)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@example(plan=ISSUE)
@given(plan=plans().filter(_assesses))
def test_every_figure_is_the_same_in_the_cli_the_report_and_the_workbook(
    plan: Plan, tmp_path: Path, profile: Path
) -> None:
    check(plan, Path(tempfile.mkdtemp(dir=tmp_path)) / "case", profile)
