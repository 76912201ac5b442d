"""Contradictions the workbench warns about but never refuses: an override above a stage rated Not met.

An override to a stage says the client stands there, which the model reads as every applicable stage up to
it met. A stage at or below the override rated *not met* says the opposite. The assessor may still mean it
(the rating may be stale, the override the newer judgement), so the window asks before it applies such an
override, and the function is marked wherever its override is shown until the two agree again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .stages import RATED_STAGES, Rating, Stage

if TYPE_CHECKING:  # a type only: the window's tree loads these rules before the scoring
    from .scoring import FunctionAssessment


def override_contradictions(assessment: FunctionAssessment, override: Stage | None = None) -> tuple[Stage, ...]:
    """The rated stages at or below the override (``override``, else the recorded one) rated Not met, lowest first."""
    stage = override if override is not None else assessment.override_stage
    if stage is None:
        return ()
    return tuple(s for s in RATED_STAGES if s <= stage and assessment.rating(s).rating is Rating.NOT_MET)


def _stages_text(stages: tuple[Stage, ...]) -> str:
    labels = [s.label for s in stages]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def rated_not_met(stages: tuple[Stage, ...]) -> str:
    """``Advanced is rated Not met.``, ``Initial and Advanced are rated Not met.``; empty for no stage."""
    if not stages:
        return ""
    verb = "is" if len(stages) == 1 else "are"
    return f"{_stages_text(stages)} {verb} rated {Rating.NOT_MET.label}."


def override_warning(assessment: FunctionAssessment) -> str:
    """The mark of a contradictory override, in words (empty when there is none):
    ``Overridden to Advanced although Advanced is rated Not met.``"""
    stages = override_contradictions(assessment)
    if not stages or assessment.override_stage is None:
        return ""
    return f"Overridden to {assessment.override_stage.label} although {rated_not_met(stages)}"
