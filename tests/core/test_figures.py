"""The rules of the shown figures: N/A stages and the gap, below target, rounding, ties, deltas."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from ztmm_desktop.core import figures
from ztmm_desktop.core.catalog import Pillar
from ztmm_desktop.core.progress_compare import FunctionState, compare
from ztmm_desktop.core.scoring import FunctionAssessment, StageRating, evaluate, roadmap, rollup
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.catalogs import default_library

INI, ADV, OPT = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL
MET, PART, NOT, NA, UN = Rating.MET, Rating.PARTIAL, Rating.NOT_MET, Rating.NOT_APPLICABLE, Rating.NOT_ASSESSED


def assessment(
    i: Rating = UN, a: Rating = UN, o: Rating = UN, function_id: str = "identity.authentication", **kwargs: object
) -> FunctionAssessment:
    ratings = {INI: StageRating(i), ADV: StageRating(a), OPT: StageRating(o)}
    return FunctionAssessment(function_id, ratings=ratings, **kwargs)  # type: ignore[arg-type]


def test_a_stage_rated_not_applicable_is_not_counted_in_the_gap() -> None:
    # Initial met, Advanced N/A, Optimal partially met, target Optimal: one stage to climb (Optimal), not two.
    result = evaluate(assessment(MET, NA, PART, target=OPT))
    assert result.current is INI
    assert result.gap == 1
    assert result.climb == (OPT,)
    assert result.below_target
    # Target Advanced, which does not apply: nothing to climb.
    reached = evaluate(assessment(MET, NA, PART, target=ADV))
    assert reached.gap == 0 and not reached.below_target


def test_no_roadmap_step_is_built_for_a_stage_rated_not_applicable() -> None:
    library = default_library()
    function = library.catalog.function("1.4")
    result = evaluate(assessment(MET, NA, PART, function_id=function.id, target=OPT))
    (item,) = roadmap([function], {function.id: result}, library.packs)
    assert [step.stage for step in item.steps] == [OPT]


def test_a_function_not_assessed_has_no_gap_and_is_not_below_target_anywhere() -> None:
    library = default_library()
    function = library.catalog.function("1.1")
    result = evaluate(assessment(function_id=function.id, target=OPT))
    assert not result.assessed and result.gap is None and not result.below_target
    assert roadmap([function], {function.id: result}, library.packs) == []
    assert rollup("x", "X", [result]).below_target == 0


def test_below_target_count_matches_the_roadmap() -> None:
    library = default_library()
    functions = list(library.catalog.pillar("identity").functions)[:4]
    recorded = [
        assessment(MET, function_id=functions[0].id, target=OPT),  # below
        assessment(function_id=functions[1].id, target=OPT),  # not assessed: not below
        assessment(MET, NA, NA, function_id=functions[2].id, target=OPT),  # nothing applicable to climb
        assessment(NA, NA, NA, function_id=functions[3].id, target=OPT),  # not applicable
    ]
    results = {a.function_id: evaluate(a) for a in recorded}
    items = roadmap(functions, results, library.packs)
    assert rollup("identity", "Identity", results.values()).below_target == len(items) == 1


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1.25, "1.3"),
        (1.15, "1.2"),
        (23 / 20, "1.2"),
        (0.05, "0.1"),
        (1.24, "1.2"),
        (2.35, "2.4"),
        (2.45, "2.5"),
        (5 / 3, "1.7"),
        (0.0, "0.0"),
        (3.0, "3.0"),
        (None, "–"),
    ],
)
def test_means_are_rounded_half_up_to_one_decimal(value: float | None, shown: str) -> None:
    assert figures.mean_text(value) == shown
    assert figures.mean_number(value) == (None if value is None else float(shown))


def test_percentages_round_half_up() -> None:
    assert (figures.percent(1, 8), figures.percent(5, 8), figures.percent(0, 0)) == (13, 63, 0)


def test_the_level_is_the_shown_mean_rounded_down() -> None:
    assert figures.level_of(1.96) is ADV  # shown 2.0: Advanced, never "2.0 (Initial)"
    assert figures.level_of(1.94) is INI
    assert figures.score_text(1.25, figures.level_of(1.25)) == "1.3 (Initial)"


def test_rollup_score_text_uses_the_rounding_rule() -> None:
    results = [
        evaluate(assessment(MET)),
        evaluate(assessment(MET)),
        evaluate(assessment(MET)),
        evaluate(assessment(MET, MET)),
    ]
    up = rollup("x", "X", results)
    assert up.score == pytest.approx(1.25)
    assert up.score_text == "1.3 (Initial)"
    assert figures.rollup_figures(up).score == Decimal("1.3")


def test_the_delta_is_the_difference_of_the_shown_figures() -> None:
    # 1.14 → 1.25 shows as 1.1 → 1.3: the change shown is +0.2, not +0.1.
    change = figures.delta(1.14, 1.25)
    assert change == Decimal("0.2")
    assert figures.delta_text(change) == "+0.2"
    assert figures.delta_text(figures.delta(1.25, 1.16)) == "−0.1"
    assert figures.delta_text(figures.delta(1.04, 0.96)) == "0.0"
    assert figures.delta_text(figures.delta(None, 1.0)) == "–"


def test_ties_name_every_tied_pillar() -> None:
    one = Decimal("1.5")
    assert figures.maturity_sentence({"Identity": one, "Devices": one, "Data": Decimal("0.5")}) == (
        "Identity and Devices are the most mature pillars (1.5); Data the least (0.5)."
    )
    assert figures.maturity_sentence({"Identity": one, "Devices": one}) == "All 2 assessed pillars are level (1.5)."
    assert figures.maturity_sentence(
        {"Identity": Decimal("2.0"), "Networks": one, "Devices": Decimal("0.5"), "Data": Decimal("0.5")}
    ) == ("Identity is the most mature pillar (2.0); Devices and Data the least mature (0.5).")
    assert figures.maturity_sentence({"Identity": one}) == ""


def test_findings_per_severity_lists_every_severity_most_severe_first() -> None:
    counts = figures.findings_by_severity(["low", "high", "low"])
    assert list(counts) == ["critical", "high", "medium", "low"]
    assert counts == {"critical": 0, "high": 1, "medium": 0, "low": 2}


def _pillar(count: int) -> Pillar:
    library = default_library()
    pillar = library.catalog.pillar("identity")
    return dataclasses.replace(pillar, functions=tuple(pillar.functions)[:count])


def test_movement_counts_partition_the_functions_in_scope() -> None:
    pillar = _pillar(5)
    ids = [f.id for f in pillar.functions]

    def states(*recorded: FunctionAssessment) -> dict[str, FunctionState]:
        by_id = {a.function_id: a for a in recorded}
        return {i: FunctionState.of(by_id.get(i, FunctionAssessment(i))) for i in ids}

    then = states(
        assessment(MET, function_id=ids[0]),
        assessment(MET, MET, function_id=ids[1]),
        assessment(NA, NA, NA, function_id=ids[2]),
        assessment(MET, function_id=ids[3]),
    )
    comment = FunctionAssessment(ids[3], ratings={INI: StageRating(MET, "seen")})
    now = states(
        assessment(MET, MET, function_id=ids[0]),  # improved
        assessment(MET, function_id=ids[1]),  # regressed
        assessment(NA, NA, NA, function_id=ids[2]),  # not applicable, nothing changed: unchanged
        comment,  # same stage, a comment changed
    )
    comparison = compare([pillar], then, now, then_label="then", now_label="now")
    counts = figures.movement_counts(comparison)
    assert counts == figures.MovementCounts(
        functions=5, changed=3, improved=1, regressed=1, same_stage=1, not_comparable=0, unchanged=2
    )
    assert counts.changed == len(comparison.changed)
    assert counts.unchanged == len(comparison.functions) - len(comparison.changed)
    assert comparison.summary().startswith(
        "3 functions changed: 1 improved, 1 regressed, 1 at the same stage; 2 unchanged"
    )
