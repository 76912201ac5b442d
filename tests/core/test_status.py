"""The one assessment status rule: recorded wins, else derived from the ratings and the override."""

from __future__ import annotations

import pytest

from ztmm_desktop.core.scoring import FunctionAssessment, StageRating
from ztmm_desktop.core.stages import Rating, Stage
from ztmm_desktop.core.status import assessment_status
from ztmm_desktop.core.words import assessment_status as status_words

INI, ADV, OPT = Stage.INITIAL, Stage.ADVANCED, Stage.OPTIMAL
MET, NA, NO, UN = Rating.MET, Rating.NOT_APPLICABLE, Rating.NOT_MET, Rating.NOT_ASSESSED


@pytest.mark.parametrize(
    ("ratings", "override", "recorded", "key", "is_recorded"),
    [
        ({}, None, "", "not-started", False),
        ({INI: MET}, None, "", "in-progress", False),
        ({INI: MET, ADV: NO, OPT: NO}, None, "", "done", False),
        ({INI: NA, ADV: NA, OPT: NA}, None, "", "not-applicable", False),
        ({INI: NA, ADV: UN}, None, "", "in-progress", False),
        ({}, ADV, "", "done", False),
        ({INI: MET, ADV: MET, OPT: MET}, None, "in-progress", "in-progress", True),
        ({}, None, "bogus", "not-started", False),  # an unknown stored value is not a status
    ],
)
def test_status(
    ratings: dict[Stage, Rating], override: Stage | None, recorded: str, key: str, is_recorded: bool
) -> None:
    a = FunctionAssessment(
        "identity.authentication",
        ratings={s: StageRating(r) for s, r in ratings.items()},
        override_stage=override,
        override_reason="seen" if override else "",
        status=recorded,
    )
    assert assessment_status(a).key == key
    assert assessment_status(a).recorded is is_recorded
    assert status_words(a) == f"Assessment: {key.replace('-', ' ')}"
