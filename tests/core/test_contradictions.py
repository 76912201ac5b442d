"""An override above a stage rated Not met is a contradiction to warn about; nothing else is."""

from __future__ import annotations

from ztmm_desktop.core.contradictions import override_contradictions, override_warning, rated_not_met
from ztmm_desktop.core.scoring import FunctionAssessment, StageRating
from ztmm_desktop.core.stages import Rating, Stage

INI, ADV, OPT = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL


def assessment(ratings: dict[Stage, Rating], override: Stage | None = None) -> FunctionAssessment:
    return FunctionAssessment(
        "identity.authentication",
        ratings={stage: StageRating(rating) for stage, rating in ratings.items()},
        override_stage=override,
        override_reason="seen" if override is not None else "",
    )


def test_an_override_at_or_above_a_stage_rated_not_met_contradicts_it() -> None:
    a = assessment({INI: Rating.MET, ADV: Rating.NOT_MET, OPT: Rating.NOT_MET})
    assert override_contradictions(a, ADV) == (ADV,)
    assert override_contradictions(a, OPT) == (ADV, OPT)
    assert override_contradictions(a, INI) == ()
    assert override_contradictions(a, Stage.TRADITIONAL) == ()
    below = assessment({INI: Rating.NOT_MET, ADV: Rating.MET})
    assert override_contradictions(below, ADV) == (INI,)  # Advanced reached means Initial met too


def test_other_ratings_and_no_override_are_no_contradiction() -> None:
    others = assessment({INI: Rating.PARTIAL, ADV: Rating.NOT_APPLICABLE, OPT: Rating.NOT_ASSESSED})
    assert override_contradictions(others, OPT) == ()
    assert override_contradictions(assessment({ADV: Rating.NOT_MET})) == ()  # no override recorded
    assert override_warning(assessment({ADV: Rating.NOT_MET})) == ""


def test_the_recorded_override_is_checked_and_said_in_words() -> None:
    a = assessment({INI: Rating.NOT_MET, ADV: Rating.NOT_MET}, override=ADV)
    assert override_contradictions(a) == (INI, ADV)
    assert override_warning(a) == "Overridden to Advanced although Initial and Advanced are rated Not met."
    assert rated_not_met((ADV,)) == "Advanced is rated Not met."
    assert rated_not_met((INI, ADV, OPT)) == "Initial, Advanced and Optimal are rated Not met."
    assert rated_not_met(()) == ""
