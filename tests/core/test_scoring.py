"""Derived current stage, override, gap, roll-ups and roadmap follow the documented rules."""

from __future__ import annotations

import pytest

from ztmm_desktop.core.errors import BadInput
from ztmm_desktop.core.scoring import FunctionAssessment, StageRating, evaluate, roadmap, rollup
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.services.catalogs import default_library

INI, ADV, OPT = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL
MET, PART, NOT, NA, UN = Rating.MET, Rating.PARTIAL, Rating.NOT_MET, Rating.NOT_APPLICABLE, Rating.NOT_ASSESSED


def assessment(i: Rating = UN, a: Rating = UN, o: Rating = UN, **kwargs: object) -> FunctionAssessment:
    ratings = {INI: StageRating(i), ADV: StageRating(a), OPT: StageRating(o)}
    return FunctionAssessment("identity.authentication", ratings=ratings, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ((UN, UN, UN), Stage.TRADITIONAL),
        ((MET, UN, UN), INI),
        ((MET, MET, UN), ADV),
        ((MET, MET, MET), OPT),
        ((PART, MET, MET), Stage.TRADITIONAL),  # a gap low down caps everything above it
        ((MET, NOT, MET), INI),
        ((MET, PART, MET), INI),
        ((MET, NA, MET), OPT),  # not applicable is skipped, neither blocking nor counting
        ((NA, MET, UN), ADV),
        ((MET, MET, NA), ADV),
        ((NA, NA, NA), Stage.TRADITIONAL),
    ],
)
def test_derived_current_stage(ratings: tuple[Rating, Rating, Rating], expected: Stage) -> None:
    assert evaluate(assessment(*ratings)).current is expected


def test_all_not_applicable_is_left_out_of_rollups() -> None:
    result = evaluate(assessment(NA, NA, NA))
    assert result.assessed and not result.applicable
    up = rollup("p", "P", [result, evaluate(assessment(MET, MET))])
    assert up.not_applicable == 1 and up.score == 2.0


def test_override_wins_and_keeps_reason_and_derived_value() -> None:
    result = evaluate(assessment(MET, override_stage=OPT, override_reason="compensating controls", target=OPT))
    assert result.current is OPT and result.derived is INI
    assert result.overridden and result.override_reason == "compensating controls"
    assert result.gap == 0


def test_gap_is_target_minus_current_never_negative() -> None:
    assert evaluate(assessment(MET, target=OPT)).gap == 2
    assert evaluate(assessment(MET, MET, MET, target=INI)).gap == 0
    assert evaluate(assessment(MET)).gap is None


def test_rollup_mean_level_lowest_distribution_and_unassessed_not_scored() -> None:
    results = [
        evaluate(assessment(MET, target=ADV)),  # Initial, below target
        evaluate(assessment(MET, MET, target=ADV)),  # Advanced
        evaluate(assessment(MET, MET, MET)),  # Optimal
        evaluate(assessment(NOT)),  # Traditional, assessed
        evaluate(assessment()),  # not assessed: counted, not scored
    ]
    up = rollup("identity", "Identity", results)
    assert up.functions == 5 and up.assessed == 4
    assert up.score == pytest.approx(1.5)
    assert up.level is INI and up.lowest is Stage.TRADITIONAL
    assert dict(up.distribution) == {Stage.TRADITIONAL: 1, INI: 1, ADV: 1, OPT: 1}
    assert up.below_target == 1
    assert up.score_text == "1.5 (Initial)"
    assert rollup("x", "X", [evaluate(assessment())]).score_text == "not assessed"


def test_roadmap_lists_stages_to_climb_with_guidance() -> None:
    library = default_library()
    function = library.catalog.function("4.1")
    a = FunctionAssessment(function.id, ratings={INI: StageRating(MET)}, target=OPT)
    b = FunctionAssessment("identity.authentication", ratings={INI: StageRating(MET)}, target=INI)
    results = {function.id: evaluate(a), b.function_id: evaluate(b)}
    items = roadmap([function, library.catalog.function("1.1")], results, library.packs)
    assert len(items) == 1
    (item,) = items
    assert (item.current, item.target) == (INI, OPT)
    assert [s.stage for s in item.steps] == [ADV, OPT]
    assert all(s.recommendations for s in item.steps)
    assert {r.stage for s in item.steps for r in s.recommendations} == {ADV, OPT}


def test_rating_and_stage_words_are_forgiving_but_strict() -> None:
    assert Rating.parse(" Not Met ") is NOT and Rating.parse("N/A") is NA and Rating.parse("PARTIAL") is PART
    assert Stage.parse("Optimal") is OPT
    with pytest.raises(BadInput, match=r"unknown rating .great."):
        Rating.parse("great")


def test_traditional_is_a_stage_not_a_missing_value() -> None:
    assert bool(Stage.TRADITIONAL)
    up = rollup("p", "P", [evaluate(assessment(NOT, target=Stage.TRADITIONAL))])
    assert up.level is Stage.TRADITIONAL and up.lowest is Stage.TRADITIONAL
    assert up.score_text == "0.0 (Traditional)"
